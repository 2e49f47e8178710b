use std::process::ExitCode;

use dawarich_doctor::{audit, Result};

use crate::args::ConnArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    #[arg(long)]
    run: Option<String>,
    #[arg(long)]
    json: bool,
}

/// One line per audit entry (of one run with `--run`).
pub async fn exec(Args { conn, run, json }: Args) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let rows = audit::read(&db, run.as_deref()).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows).expect("serialisable"))?;
        return Ok(ExitCode::SUCCESS);
    }
    for r in &rows {
        let affected = r.rows_affected.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        outln!(
            "{} {} {:<12} {:<8} rows {:>8} {:>8.1} ms  {}",
            r.at,
            r.run_id,
            r.action,
            r.outcome,
            affected,
            r.duration_ms.unwrap_or(0.0),
            r.statement.lines().next().unwrap_or("")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
