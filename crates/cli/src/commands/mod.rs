//! One file per command: its options (`Args`) and a short `exec` into the core library.

mod audit;
mod backup;
mod containers;
mod diagnose;
mod locks;
mod plan;
mod releases;
mod repair;
mod sandbox;
mod undo;
mod upgrade;
mod verify;
mod watch;

use std::process::ExitCode;

use clap::Subcommand;
use dawarich_doctor::progress::Cancel;
use dawarich_doctor::Result;

use crate::render::Painter;

#[derive(Subcommand)]
pub enum Command {
    /// Read-only report: server, applied migrations, the Rails migration lock, blockers.
    Diagnose(diagnose::Args),
    /// What an upgrade would run, in order, with SQL and row estimates (changes nothing).
    Plan(plan::Args),
    /// Apply the pending schema and data migrations with Rails' bookkeeping.
    Upgrade(upgrade::Args),
    /// Compare the live schema with a release's expected schema; exit 1 when they differ.
    Verify(verify::Args),
    /// Back up the database (pg_dump -Fc in the database container, else a local pg_dump), verified.
    Backup(backup::Args),
    /// Dawarich's containers on the Docker host: status, stop, start.
    Containers(containers::Args),
    /// Watch Dawarich migrate itself (lock holder, index builds, versions, its log); on a failed
    /// start, why and what fixes it.
    Watch(watch::Args),
    /// Show the Rails migration lock's holders; with --release, end a stale holder.
    Locks(locks::Args),
    /// Repair the rows a check finds (preview without --strategy or with --dry-run).
    Repair(repair::Args),
    /// Put back what a repair (or upgrade) run changed: reverted updates, quarantined rows.
    Undo(undo::Args),
    /// Print the audit log (every change Dawarich Doctor made in this database).
    Audit(audit::Args),
    /// Start a throwaway local PostgreSQL with a broken Dawarich database to try everything on.
    Sandbox(sandbox::Args),
    /// List the Dawarich releases the catalog knows.
    Releases,
}

impl Command {
    /// Runs the command; the exit code tells the outcome (0 fine, 1 problems found or declined).
    pub async fn exec(self, p: &Painter) -> Result<ExitCode> {
        match self {
            Command::Diagnose(a) => diagnose::exec(a, p).await,
            Command::Plan(a) => plan::exec(a, p).await,
            Command::Upgrade(a) => upgrade::exec(a, p).await,
            Command::Verify(a) => verify::exec(a, p).await,
            Command::Backup(a) => backup::exec(a, p).await,
            Command::Containers(a) => containers::exec(a, p).await,
            Command::Watch(a) => watch::exec(a, p).await,
            Command::Locks(a) => locks::exec(a, p).await,
            Command::Repair(a) => repair::exec(a, p).await,
            Command::Undo(a) => undo::exec(a).await,
            Command::Audit(a) => audit::exec(a).await,
            Command::Sandbox(a) => sandbox::exec(a).await,
            Command::Releases => releases::exec(),
        }
    }
}

/// A cancel flag that Ctrl-C sets: long operations stop at their next safe point.
fn cancel_on_ctrl_c() -> Cancel {
    let cancel = Cancel::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nCancelling at the next safe point…");
            on_ctrl_c.cancel();
        }
    });
    cancel
}
