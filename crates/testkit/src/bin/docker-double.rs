//! The `docker` command double (see `dawarich_doctor_testkit::docker`): run as
//! `docker-double --state DIR ARGS…` by the wrapper a `DockerDouble` writes.

fn main() {
    std::process::exit(dawarich_doctor_testkit::docker::cli::main());
}
