//! `dawarich-doctor`: the command-line face of the core library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
