use std::process::ExitCode;

use dawarich_doctor::migrate::{plan, upgrade, UpgradeOptions, DEFAULT_WORKERS};
use dawarich_doctor::{Error, Result};

use super::cancel_on_ctrl_c;
use crate::args::{ConnArgs, EnvArgs};
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    #[arg(long)]
    to: Option<String>,
    /// Do not ask: the plan is run as shown.
    #[arg(long)]
    yes: bool,
    /// Show the plan and stop (same as `plan`).
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    env: EnvArgs,
    /// Database sessions a batched backfill runs on at once (1: only the one holding the lock).
    #[arg(long, default_value_t = DEFAULT_WORKERS, value_parser = clap::value_parser!(u8).range(1..=16))]
    workers: u8,
}

/// Shows the plan, asks, then runs it; exit 1 when declined.
pub async fn exec(
    Args {
        conn,
        to,
        yes,
        dry_run,
        env,
        workers,
    }: Args,
    p: &Painter,
) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let env = env.environment(&conn)?;
    let plan = plan(&db, to.as_deref(), &env).await?;
    out!("{}", render::plan(&plan, dry_run, p))?;
    if dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    if !plan.blockers.is_empty() {
        return Err(Error::Precondition {
            message: "the plan has blockers (above); nothing was changed".into(),
            fix: plan.blockers[0].fix.clone(),
        });
    }
    if !yes && !render::confirm("Run this upgrade now? Make sure you have a backup (pg_dump).")? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    drop(db);
    let opts = UpgradeOptions {
        target: to,
        env,
        workers: workers.into(),
        ..Default::default()
    };
    let outcome = upgrade(&conn.options()?, &opts, &render::step_printer(p), &cancel_on_ctrl_c()).await?;
    out!("{}", render::outcome(&outcome, p))?;
    Ok(ExitCode::SUCCESS)
}
