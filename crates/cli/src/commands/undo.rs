use std::process::ExitCode;

use dawarich_doctor::{audit, repair, Result};

use crate::args::ConnArgs;
use crate::render;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    #[arg(long)]
    run: String,
    #[arg(long)]
    yes: bool,
}

/// Asks, then undoes run `run` (exit 1 when declined).
pub async fn exec(Args { conn, run, yes }: Args) -> Result<ExitCode> {
    if !yes && !render::confirm(&format!("Undo run {run}?"))? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    let rows = repair::undo(&conn.options()?, &run, audit::default_file()).await?;
    for r in &rows {
        outln!(
            "{:<28} reverted {:>8}  restored {:>8}  left in quarantine {:>6}",
            r.table,
            r.reverted,
            r.restored,
            r.skipped
        )?;
    }
    if rows.is_empty() {
        outln!("run {run} changed nothing that can be undone")?;
    }
    Ok(ExitCode::SUCCESS)
}
