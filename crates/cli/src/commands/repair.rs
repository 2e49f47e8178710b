use std::process::ExitCode;

use dawarich_doctor::repair::{preview, repair, RepairOptions};
use dawarich_doctor::{audit, Result};
use dawarich_doctor_model::{CheckId, StrategyId};

use super::cancel_on_ctrl_c;
use crate::args::ConnArgs;
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// The check id (see `diagnose`).
    #[arg(long, value_parser = parse_check)]
    check: CheckId,
    /// The strategy to run (see the preview).
    #[arg(long, value_parser = parse_strategy)]
    strategy: Option<StrategyId>,
    /// The user that gets the rows, for `--strategy assign`.
    #[arg(long)]
    user: Option<i64>,
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    yes: bool,
    /// Rows per range (one short transaction each).
    #[arg(long, default_value_t = 5000)]
    batch_size: i64,
    #[arg(long)]
    json: bool,
}

/// Shows the preview; with a strategy, asks and runs it (exit 1 when declined).
pub async fn exec(
    Args {
        conn,
        check,
        strategy,
        user,
        dry_run,
        yes,
        batch_size,
        json,
    }: Args,
    p: &Painter,
) -> Result<ExitCode> {
    let db = conn.connect().await?;
    let preview = preview(&db, check).await?;
    let Some(strategy) = strategy.filter(|_| !dry_run) else {
        if json {
            outln!("{}", serde_json::to_string_pretty(&preview).expect("serialisable"))?;
        } else {
            out!("{}", render::repair_preview(&preview, p))?;
        }
        return Ok(ExitCode::SUCCESS);
    };
    if !json {
        out!("{}", render::repair_preview(&preview, p))?;
    }
    if !yes && !render::confirm(&format!("Run strategy {strategy} on {check}?"))? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    drop(db);
    let opts = RepairOptions {
        check,
        strategy,
        user,
        batch_size,
        audit_file: audit::default_file(),
    };
    let out = repair(&conn.options()?, &opts, &render::step_printer(p), &cancel_on_ctrl_c()).await?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&out).expect("serialisable"))?;
    } else {
        out!("{}", render::repair_outcome(&out, p))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A repairable check id, refused before connecting otherwise (the message lists the repairable ones).
fn parse_check(s: &str) -> std::result::Result<CheckId, String> {
    let repairable: Vec<CheckId> = dawarich_doctor::problems::repairable().map(|p| p.id).collect();
    if let Some(&id) = repairable.iter().find(|id| id.as_str() == s) {
        return Ok(id);
    }
    let what = match CheckId::parse(s) {
        Some(_) => format!("check {s:?} has no repair"),
        None => format!("unknown check {s:?}"),
    };
    let list = repairable.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(", ");
    Err(format!("{what}; repairable checks: {list}"))
}

/// A strategy id, refused before connecting when unknown.
fn parse_strategy(s: &str) -> std::result::Result<StrategyId, String> {
    StrategyId::parse(s).ok_or_else(|| {
        format!(
            "unknown strategy {s:?} ({})",
            StrategyId::ALL.map(StrategyId::as_str).join(", ")
        )
    })
}
