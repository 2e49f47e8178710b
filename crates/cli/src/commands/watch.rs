use std::process::ExitCode;

use dawarich_doctor::containers::find;
use dawarich_doctor::watch::hand_over;
use dawarich_doctor::Result;

use super::cancel_on_ctrl_c;
use crate::args::ConnArgs;
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// Start the app container first (else it is watched as it starts or restarts).
    #[arg(long)]
    start: bool,
    /// Seconds to watch before giving up (Dawarich goes on by itself).
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Print JSON at the end.
    #[arg(long)]
    json: bool,
}

/// Watches Dawarich migrate itself; exit 1 when its start fails (why and the fix are printed).
pub async fn exec(a: Args, p: &Painter) -> Result<ExitCode> {
    let conn = a.conn.options()?;
    let install = find(&a.conn.connect().await?).await?;
    let report = hand_over(
        &conn,
        &install,
        a.start,
        std::time::Duration::from_secs(a.timeout),
        &render::step_printer(p),
        &cancel_on_ctrl_c(),
    )
    .await?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report).expect("serialisable"))?;
    } else {
        out!("{}", render::watched(&report, p))?;
    }
    Ok(if report.failure.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
