use std::process::ExitCode;

use dawarich_doctor::containers::find;
use dawarich_doctor::unique::Keep;
use dawarich_doctor::watch::fix::fix;
use dawarich_doctor::watch::{follow, hand_over};
use dawarich_doctor::Result;
use dawarich_doctor_model::Failure;

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
    /// When the start fails on duplicates under a unique index or an index a half-applied migration
    /// left: fix it (asks first unless --yes), start Dawarich again and keep watching.
    #[arg(long)]
    fix: bool,
    /// Which row of each duplicated group stays (Dawarich's own dedupe migrations keep the highest id).
    #[arg(long, value_enum, default_value_t = KeepArg::Highest)]
    keep: KeepArg,
    /// Do not ask before a fix.
    #[arg(long)]
    yes: bool,
    /// Seconds to watch each start before giving up (Dawarich goes on by itself).
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
    /// Print JSON at the end.
    #[arg(long)]
    json: bool,
    /// Follow the database only (the lock holder, its progress, the versions recorded) until Ctrl-C
    /// or --timeout: for a Dawarich started by hand, without a Docker host here. Chosen by itself
    /// when docker cannot be reached and neither --start nor --fix is given.
    #[arg(long, conflicts_with_all = ["start", "fix"])]
    database_only: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KeepArg {
    Highest,
    Lowest,
}

/// Starts Dawarich fixes again at most this often.
const ROUNDS: usize = 5;

/// Watches Dawarich migrate itself; exit 1 when its start fails (why and the fix are printed).
pub async fn exec(a: Args, p: &Painter) -> Result<ExitCode> {
    let conn = a.conn.options()?;
    if a.database_only {
        return follow_database(&conn, &a, p).await;
    }
    let install = match find(&a.conn.connect().await?).await {
        Ok(install) => install,
        Err(e) if !(a.start || a.fix) => {
            eprintln!(
                "{} {e}\nWatching the database only; start Dawarich yourself (e.g. `docker compose up -d`). Ctrl-C ends.",
                p.yellow("No Docker host:")
            );
            return follow_database(&conn, &a, p).await;
        }
        Err(e) => return Err(e.into()),
    };
    let keep = match a.keep {
        KeepArg::Highest => Keep::Highest,
        KeepArg::Lowest => Keep::Lowest,
    };
    let cancel = cancel_on_ctrl_c();
    let timeout = std::time::Duration::from_secs(a.timeout);
    let mut start = a.start;
    let mut round = 1;
    loop {
        let report = hand_over(&conn, &install, start, timeout, &render::step_printer(p), &cancel).await?;
        let fixable = report.failure.as_ref().is_some_and(Failure::fixable);
        if !(a.fix && fixable && round < ROUNDS) {
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&report).expect("serialisable"))?;
            } else {
                out!("{}", render::watched(&report, p))?;
            }
            return Ok(if report.failure.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        eprint!("{}", render::watched(&report, p));
        let Some(failure) = report.failure else {
            return Ok(ExitCode::SUCCESS);
        };
        if !a.yes
            && !render::confirm(&format!(
                "Stop {}, fix it (quarantined rows can be undone), start Dawarich again?",
                install.dawarich().join(" and ")
            ))?
        {
            eprintln!("Nothing was changed.");
            return Ok(ExitCode::from(1));
        }
        install.stop().await?;
        let fixed = fix(&conn, &failure, keep, dawarich_doctor::audit::default_file()).await?;
        eprintln!(
            "Fixed (run {}): {} rows quarantined{}.",
            fixed.run_id,
            fixed.quarantined,
            fixed
                .dropped
                .map(|d| format!(", index {d} dropped"))
                .unwrap_or_default()
        );
        start = true;
        round += 1;
    }
}

/// Follows the database until Ctrl-C or the timeout and says what was recorded.
async fn follow_database(conn: &dawarich_doctor::connect::ConnectOptions, a: &Args, p: &Painter) -> Result<ExitCode> {
    let timeout = std::time::Duration::from_secs(a.timeout);
    let recorded = follow(conn, timeout, &render::step_printer(p), &cancel_on_ctrl_c()).await?;
    if a.json {
        outln!("{}", serde_json::json!({ "recorded": recorded }))?;
    } else {
        outln!(
            "{} versions recorded while watching: {}\nWhether Dawarich is up shows in its own log (`docker logs`).",
            recorded.len(),
            recorded.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
