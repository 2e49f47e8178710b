use std::process::ExitCode;

use dawarich_doctor::backup::run;
use dawarich_doctor::Result;

use crate::args::ConnArgs;
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// The backup file (default: ~/Documents/Dawarich Doctor backups/<database>-<release>-<time>.dump).
    #[arg(long, value_name = "FILE")]
    out: Option<std::path::PathBuf>,
}

/// `pg_dump -Fc` in the database container (else a local pg_dump), verified; prints the restore command.
pub async fn exec(Args { conn, out }: Args, p: &Painter) -> Result<ExitCode> {
    let b = run(&conn.options()?, out, &render::step_printer(p)).await?;
    out!("{}", render::backup(&b, p))?;
    Ok(ExitCode::SUCCESS)
}
