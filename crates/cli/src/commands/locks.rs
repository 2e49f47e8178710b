use std::process::ExitCode;

use dawarich_doctor::locks::{lock_report, release, ReleaseOptions};
use dawarich_doctor::{audit, Result};

use crate::args::ConnArgs;
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// The pid to end (see the list).
    #[arg(long, value_name = "PID")]
    release: Option<i32>,
    /// Confirm the release.
    #[arg(long)]
    yes: bool,
    /// Also end a holder that is running a statement right now.
    #[arg(long)]
    force_active: bool,
    #[arg(long, default_value_t = 60.0)]
    stale_after: f64,
    #[arg(long)]
    json: bool,
}

/// Lists the holders, or ends one; exit 1 when declined or the lock is still held.
pub async fn exec(
    Args {
        conn,
        release: pid,
        yes,
        force_active,
        stale_after,
        json,
    }: Args,
    p: &Painter,
) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let report = lock_report(&db, &db.database, stale_after).await?;
    let Some(pid) = pid else {
        if json {
            outln!("{}", serde_json::to_string_pretty(&report).expect("serialisable"))?;
        } else {
            out!("{}", render::locks(&report, p))?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    out!("{}", render::locks(&report, p))?;
    if !yes && !render::confirm(&format!("End session {pid}? Its open transaction is rolled back."))? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    let opts = ReleaseOptions {
        pid,
        force_active,
        stale_after_secs: stale_after,
        cancel_grace: std::time::Duration::from_secs(5),
    };
    let out = release(&db, &opts, audit::default_file()).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&out).expect("serialisable"))?;
    } else if out.lock_free {
        outln!(
            "{} ({}): the Rails migration lock is free.",
            p.green("released"),
            out.actions.join(" → ")
        )?;
    } else {
        outln!(
            "{} the lock is still held; run `dawarich-doctor locks` to see by whom.",
            p.red("not released:")
        )?;
    }
    Ok(if out.lock_free {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
