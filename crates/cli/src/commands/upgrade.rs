use std::process::ExitCode;

use dawarich_doctor::backup::default_path;
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::locks;
use dawarich_doctor::migrate::{find_host, plan, upgrade_on_host, Found, OnHost, UpgradeOptions, DEFAULT_WORKERS};
use dawarich_doctor::progress::Silent;
use dawarich_doctor::{Error, Result};
use dawarich_doctor_model::{BlockerId, CheckStatus, HolderVerdict};

use super::cancel_on_ctrl_c;
use crate::args::{parse_release, ConnArgs, EnvArgs};
use crate::render::{self, Painter};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    conn: ConnArgs,
    /// Target release (default: the release of the app image on the Docker host when the catalog
    /// knows it, else the newest the catalog knows).
    #[arg(long, value_parser = parse_release)]
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
    /// Rows per range of a batched backfill, each range one transaction (default: the catalog's,
    /// 10000 for most).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: Option<u32>,
    /// Back up first (the default): pg_dump in the database container, else a local pg_dump.
    #[arg(long, overrides_with = "no_backup")]
    backup: bool,
    /// Skip the backup; must be said explicitly.
    #[arg(long, overrides_with = "backup")]
    no_backup: bool,
    /// Where the backup goes (default: ~/Documents/Dawarich Doctor backups/…).
    #[arg(long, value_name = "FILE", conflicts_with = "no_backup")]
    backup_file: Option<std::path::PathBuf>,
    /// Stop Dawarich's containers before and start them after; fails when the Docker host cannot be
    /// used (the default is to do it whenever it can).
    #[arg(long, conflicts_with = "no_manage_containers")]
    manage_containers: bool,
    /// Leave Dawarich's containers alone.
    #[arg(long)]
    no_manage_containers: bool,
    /// Dawarich (app and sidekiq) is stopped and stays stopped until the upgrade ends, so nothing else
    /// writes to the database: indexes are then built without CONCURRENTLY, faster but blocking
    /// writes to their table, and a walk that rewrites most rows of a big table (500 k rows or more)
    /// sets its plain indexes aside (not the primary key or unique ones) and builds them again after;
    /// the pending migrations' builds of such indexes wait for that walk (an index a later migration
    /// drops again is never built). Implied when the upgrade stops the containers itself.
    #[arg(long)]
    dawarich_stopped: bool,
    /// Do not run the follow-ups in the app container (they are printed instead).
    #[arg(long)]
    no_follow_ups: bool,
    /// Let Dawarich migrate itself (any release, also one the catalog does not know): back up, show
    /// what would make its migrations fail, then start it and watch (see `watch`).
    #[arg(long, conflicts_with_all = ["to", "dry_run"])]
    via_dawarich: bool,
}

/// Shows the plan, asks, then runs it with the backup and the containers; exit 1 when declined.
pub async fn exec(a: Args, p: &Painter) -> Result<ExitCode> {
    if a.via_dawarich {
        return via_dawarich(a, p).await;
    }
    let db = a.conn.connect().await?;
    let mut env = a.env.environment(&a.conn)?;
    let mut target = a.to.clone();
    let given = target.clone();
    let Found { install, notes } = find_host(&db, &mut env, &mut target).await;
    if a.manage_containers && install.is_none() {
        return Err(Error::Precondition {
            message: format!("--manage-containers: {}", notes.join(" ")),
            fix:
                "Fix access to the Docker host, or leave out --manage-containers and stop/start the containers by hand."
                    .into(),
        });
    }
    for n in &notes {
        eprintln!("{} {n}", p.yellow("note:"));
    }
    if let (None, Some(t)) = (&given, &target) {
        eprintln!("The app image holds Dawarich {t}: upgrading to it.");
    }
    let plan = plan(&db, target.as_deref(), &env).await?;
    out!("{}", render::plan(&plan, a.dry_run, p))?;
    if a.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    // A lock holder that is at work (a Dawarich container mid-attempt) is waited for by the run.
    let stale_holder = locks::lock_report(&db, &db.database, locks::STALE_AFTER_SECS)
        .await?
        .holders
        .iter()
        .any(|h| !h.is_self && h.verdict == HolderVerdict::Stale);
    if let Some(b) = plan
        .blockers
        .iter()
        .find(|b| b.id != BlockerId::LockHeld || stale_holder)
    {
        return Err(Error::Precondition {
            message: "the plan has blockers (above); nothing was changed".into(),
            fix: b.fix.clone(),
        });
    }
    let backup = (a.backup || !a.no_backup).then(|| {
        a.backup_file.clone().unwrap_or_else(|| {
            let release = plan.from_release.clone();
            default_path(None, &db.database, release.as_deref())
        })
    });
    let manage = install.is_some() && !a.no_manage_containers;
    let mut what = Vec::new();
    if let Some(b) = &backup {
        what.push(format!("back up to {}", b.display()));
    }
    if let Some(i) = install.as_ref().filter(|_| manage) {
        what.push(format!("stop {} on {}", i.dawarich().join(" and "), i.host.describe()));
    }
    what.push(format!("apply {} steps", plan.steps.len()));
    if manage {
        what.push("start Dawarich again".into());
    }
    let question = format!("Run this upgrade now: {}?", what.join(", "));
    let question = if backup.is_none() {
        format!("{question} There is NO backup (--no-backup).")
    } else {
        question
    };
    if !a.yes && !render::confirm(&question)? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    let conn = a.conn.options()?;
    drop(db);
    let opts = UpgradeOptions {
        target,
        env,
        workers: a.workers.into(),
        batch_size: a.batch_size.map(i64::from),
        dawarich_stopped: a.dawarich_stopped,
        ..Default::default()
    };
    let host = OnHost {
        install,
        backup,
        manage_containers: manage,
        follow_ups: manage && !a.no_follow_ups,
        start_timeout: std::time::Duration::from_secs(360),
    };
    let outcome = upgrade_on_host(&conn, &opts, &host, &render::step_printer(p), &cancel_on_ctrl_c()).await?;
    out!("{}", render::outcome(&outcome, p))?;
    Ok(ExitCode::SUCCESS)
}

/// Prepares the database, hands the migrations over to Dawarich's entrypoint and watches it.
async fn via_dawarich(a: Args, p: &Painter) -> Result<ExitCode> {
    let db = a.conn.connect().await?;
    let install = dawarich_doctor::containers::find(&db).await?;
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await?;
    for c in d.checks.iter().filter(|c| c.status == CheckStatus::Problem) {
        eprintln!(
            "{} {} ({} rows): repair first with `dawarich-doctor repair --check {}`",
            p.yellow("found:"),
            c.title,
            c.count.unwrap_or(0),
            c.id.as_str()
        );
    }
    if d.lock.holders.iter().any(|h| !h.is_self) {
        eprintln!(
            "{} Rails' migration lock is held: {}",
            p.yellow("found:"),
            dawarich_doctor::locks::describe_holders(&d.lock)
        );
    }
    let question = format!(
        "{}stop and start {} on {}, and watch Dawarich migrate itself?",
        if a.no_backup {
            "There is NO backup (--no-backup). "
        } else {
            "Back up, "
        },
        install.dawarich().join(" and "),
        install.host.describe()
    );
    if !a.yes && !render::confirm(&question)? {
        eprintln!("Nothing was changed.");
        return Ok(ExitCode::from(1));
    }
    let conn = a.conn.options()?;
    drop(db);
    let progress = render::step_printer(p);
    if !a.no_backup {
        let b = dawarich_doctor::backup::run(&conn, a.backup_file.clone(), &progress).await?;
        out!("{}", render::backup(&b, p))?;
    }
    install.stop().await?;
    let report = dawarich_doctor::watch::hand_over(
        &conn,
        &install,
        true,
        std::time::Duration::from_secs(1800),
        &progress,
        &cancel_on_ctrl_c(),
    )
    .await?;
    out!("{}", render::watched(&report, p))?;
    Ok(if report.failure.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
