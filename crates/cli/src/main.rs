//! `dawarich-doctor`: the command-line face of the core library. Each command is a file in
//! `commands/` with a short `exec` into the core; printing lives in `render`.

/// `print!` that returns the write's error instead of panicking: a closed pipe ends the command quietly.
macro_rules! out {
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout(), format_args!($($arg)*))
    };
}

/// `println!` that returns the write's error, as `out!`.
macro_rules! outln {
    ($($arg:tt)*) => {
        out!("{}\n", format_args!($($arg)*))
    };
}

mod args;
mod commands;
mod render;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use dawarich_doctor::Error;

#[derive(Parser)]
#[command(
    name = "dawarich-doctor",
    version,
    about = "Diagnose, repair and upgrade a Dawarich database"
)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Colour in human output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    color: Color,
    #[command(subcommand)]
    command: commands::Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => log::LevelFilter::Warn,
        1 => log::LevelFilter::Info,
        _ => log::LevelFilter::Debug,
    };
    env_logger::Builder::new()
        .filter_level(level)
        .parse_env("DAWARICH_DOCTOR_LOG")
        .format_timestamp_secs()
        .init();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(cli.command.exec(&render::Painter { color })) {
        Ok(code) => code,
        // The reader went away (`dawarich-doctor audit | head`): nothing left to say.
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let r = e.report();
            eprintln!("error: {}\nfix: {}", r.message, r.fix);
            ExitCode::from(2)
        }
    }
}
