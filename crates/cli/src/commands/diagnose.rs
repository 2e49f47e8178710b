use std::process::ExitCode;

use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::Result;
use dawarich_doctor_model::{CheckStatus, HolderVerdict};

use crate::args::ConnArgs;
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// Print JSON (stable; see the README) instead of the summary.
    #[arg(long)]
    json: bool,
    /// Skip checks that must scan a whole table.
    #[arg(long)]
    quick: bool,
    /// Seconds of idleness after which a lock holder counts as stale.
    #[arg(long, default_value_t = 60.0)]
    stale_after: f64,
}

/// Exit 1 when a check finds a problem or another session holds the migration lock.
pub async fn exec(
    Args {
        conn,
        json,
        quick,
        stale_after,
    }: Args,
    p: &Painter,
) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let opts = DiagnoseOptions {
        quick,
        stale_after_secs: stale_after,
        ..Default::default()
    };
    let progress = render::stderr_progress(!json);
    let d = diagnose(&db, &opts, &progress).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&d).expect("serialisable"))?;
    } else {
        out!("{}", render::diagnosis(&d, p))?;
    }
    let problems = d.checks.iter().any(|c| c.status == CheckStatus::Problem)
        || d.lock
            .holders
            .iter()
            .any(|h| h.verdict != HolderVerdict::Unknown && !h.is_self);
    Ok(if problems { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
