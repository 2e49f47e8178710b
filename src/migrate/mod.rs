//! Applying Dawarich's pending migrations ourselves, with exactly Rails' bookkeeping: the same advisory
//! lock, `ar_internal_metadata.environment`, one `schema_migrations` / `data_migrations` row per
//! migration, recorded only once its effects are complete. The runner knows nothing about any one
//! migration: everything it needs is in the catalog.

mod aside;
mod exec;
mod host;
mod plan;

use std::time::{Duration, Instant};

use dawarich_doctor_model::{
    backup_command, BlockerId, MigrationKind, ProgressEvent, RunSettings, StepInfo, StepKind, UpgradeOutcome,
    UpgradeProposal,
};

use crate::audit::{install_support, new_run_id, Audit};
use crate::catalog::{catalog, Migration};
use crate::connect::{connect, ConnectOptions, Db};
use crate::error::{Error, Result};
use crate::locks::migration_lock_key;
use crate::progress::{Cancel, Progress};
use crate::schema;
use crate::settings::Environment;

pub use host::{find_host, upgrade_on_host, Found, OnHost};
pub use plan::plan;

/// Sessions a batched backfill uses unless told otherwise.
pub const DEFAULT_WORKERS: u8 = 2;

/// Rows from which a walk sets the indexes aside unless told otherwise. Measured on 2 cores with
/// PostgreSQL's default settings, the fused walk of a 0.11.1 upgrade on two sessions: at 300 k
/// points as fast either way (24.9 s set aside, 25.7 s in place), at 1 M faster set aside (73.9 s
/// against 87.1 s).
pub const ASIDE_FROM_ROWS: u64 = 500_000;

/// How an upgrade runs.
#[derive(Debug, Clone)]
pub struct UpgradeOptions {
    /// Target release (default: the newest in the catalog).
    pub target: Option<String>,
    /// What is known of Dawarich's environment (`TIME_ZONE`, `RAILS_ENV`, `SELF_HOSTED`).
    pub env: Environment,
    /// First `lock_timeout`; doubled on every retry.
    pub lock_timeout_ms: u64,
    /// Attempts with a lock timeout before a last attempt that waits as long as it takes.
    pub lock_retries: u32,
    /// Where the local audit file goes (`None`: no file).
    pub audit_file: Option<std::path::PathBuf>,
    /// Rows per backfill range, overriding the catalog's (benchmarks, tests).
    pub batch_size: Option<i64>,
    /// Sessions a batched backfill runs its ranges on at once (1: only the locking session).
    pub workers: usize,
    /// Dawarich (app and sidekiq) is stopped, so nothing else writes: the catalog's concurrent index
    /// builds run without CONCURRENTLY (one scan instead of two, no wait for other transactions, but
    /// writes to the table wait), with more memory and parallel workers for our session.
    pub dawarich_stopped: bool,
    /// Walk every batched statement even when a `skip-when` condition says no row can change
    /// (comparisons and benchmarks).
    pub walk_always: bool,
    /// How long to wait for Rails' migration lock when another session holds it at the start (a
    /// Dawarich container in the middle of an attempt lets go within seconds).
    pub lock_wait: Duration,
    /// Walk the job work of each migration on its own even where the catalog fuses consecutive
    /// jobs into one walk (`-- fuse:`; comparisons and benchmarks).
    pub walk_separately: bool,
    /// While Dawarich is stopped, a walk that rewrites most rows of a table with at least this many
    /// rows (PostgreSQL's estimate) sets the table's plain indexes aside and builds them again after
    /// it, and a pending migration's plain index build on such a table waits for that (see
    /// `aside.rs`); `u64::MAX` keeps them (comparisons and benchmarks).
    pub aside_from_rows: u64,
}

impl Default for UpgradeOptions {
    fn default() -> Self {
        UpgradeOptions {
            target: None,
            env: Environment::default(),
            lock_timeout_ms: 2000,
            lock_retries: 5,
            audit_file: crate::audit::default_file(),
            batch_size: None,
            workers: DEFAULT_WORKERS.into(),
            dawarich_stopped: false,
            walk_always: false,
            lock_wait: Duration::from_secs(20),
            walk_separately: false,
            aside_from_rows: ASIDE_FROM_ROWS,
        }
    }
}

/// What the desktop app shows before an upgrade changes anything: the plan to the newest release, the
/// lock holders (stale after `stale_after_secs` idle) and a repair preview for each blocker that
/// `repair` fixes, in the plan's order. Read-only.
pub async fn proposal(conn: &ConnectOptions, stale_after_secs: f64) -> Result<UpgradeProposal> {
    let db = connect(conn).await?;
    let (mut env, mut target) = (Environment::of_profile(&conn.profile), None);
    let found = find_host(&db, &mut env, &mut target).await;
    let plan = plan(&db, target.as_deref(), &env).await?;
    let lock = crate::locks::lock_report(&db, &db.database, stale_after_secs).await?;
    let mut repairs = Vec::new();
    // every blocker a repair exists for (the lock and PostGIS are not data to repair)
    for b in &plan.blockers {
        if let BlockerId::Check(id) = b.id {
            if !crate::problems::problem(id).strategies.is_empty() {
                repairs.push(crate::repair::preview(&db, id).await?);
            }
        }
    }
    Ok(UpgradeProposal {
        host: host::proposal(
            &db,
            conn.profile.backup_folder.as_deref().map(std::path::Path::new),
            &found,
            plan.from_release.as_deref(),
        )
        .await,
        plan,
        lock,
        repairs,
        backup_command: backup_command(&conn.profile),
    })
}

/// Runs the upgrade. Refuses before changing anything when the plan has blockers or the Rails lock is
/// held; stops at the next safe point when `cancel` is set. Safe to run again after any interruption.
pub async fn upgrade(
    conn: &ConnectOptions,
    opts: &UpgradeOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<UpgradeOutcome> {
    let started = Instant::now();
    let db = connect(conn).await?;
    let key = migration_lock_key(&db.database);
    take_lock(&db, key, opts.lock_wait, progress).await?;
    let result = locked(&db, conn, opts, progress, cancel, started).await;
    // Released on every path; if our session died, the server released it already.
    if !db.is_closed() {
        let _ = db.query_one("SELECT pg_advisory_unlock($1)", &[&key]).await;
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return Err(e.on_link_of(&db).await),
    };
    progress.emit(ProgressEvent::Done {
        ok: true,
        message: format!("{} migrations applied", outcome.applied.len()),
    });
    Ok(outcome)
}

/// Takes Rails' migration lock on the migrating session, as Rails does (`pg_try_advisory_lock`), so
/// a Dawarich container trying at the same time fails fast; the plan is then made under the lock
/// (Rails re-reads the applied versions after taking it). When another session holds it, waits up to
/// `wait` in the lock's queue: a try by anyone else fails while we wait, and a container in the
/// middle of an attempt lets go within seconds. A holder that stays is named.
async fn take_lock(db: &Db, key: i64, wait: Duration, progress: &dyn Progress) -> Result<()> {
    if db
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await?
        .get::<_, bool>(0)
    {
        return Ok(());
    }
    let holders = || async {
        let report = crate::locks::lock_report(db, &db.database, crate::locks::STALE_AFTER_SECS).await?;
        Ok::<_, Error>(crate::locks::describe_holders(&report))
    };
    progress.emit(ProgressEvent::Output {
        step: None,
        line: format!(
            "Rails' migration lock is held by {}: waiting up to {} s for it",
            holders().await?,
            wait.as_secs()
        ),
    });
    db.batch_execute(&format!("SET lock_timeout = {}", wait.as_millis().max(1)))
        .await?;
    let taken = db.query_one("SELECT pg_advisory_lock($1)", &[&key]).await;
    db.batch_execute("RESET lock_timeout").await?;
    match taken {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => Err(Error::LockHeld {
            holders: format!("{} (still, after waiting {} s)", holders().await?, wait.as_secs()),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The upgrade while holding the Rails lock: refuse on blockers (nothing changed yet), else run.
async fn locked(
    db: &Db,
    conn: &ConnectOptions,
    opts: &UpgradeOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
    started: Instant,
) -> Result<UpgradeOutcome> {
    let plan = plan::plan_fused(db, opts.target.as_deref(), &opts.env, !opts.walk_separately).await?;
    if let Some(b) = plan.blockers.first() {
        let all = plan
            .blockers
            .iter()
            .map(|b| format!("{} ({})", b.message, b.fix))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::Precondition {
            message: all,
            fix: b.fix.clone(),
        });
    }
    progress.emit(ProgressEvent::Plan {
        steps: plan
            .steps
            .iter()
            .map(|s| StepInfo {
                step: s.step,
                title: s.title.clone(),
            })
            .collect(),
    });
    let monitor = connect(conn).await?;
    let run_id = new_run_id();
    let audit = Audit::new(run_id.clone(), opts.audit_file.clone());
    install_support(db).await?;
    let key = migration_lock_key(&db.database);
    audit
        .record(
            db,
            "lock",
            &format!("SELECT pg_try_advisory_lock({key})"),
            None,
            started.elapsed(),
            "ok",
        )
        .await?;
    let mut ex = exec::Executor {
        db,
        monitor: &monitor,
        conn,
        opts,
        settings: &plan.settings,
        audit: &audit,
        progress,
        cancel,
        drops: exec::index_drops(&plan),
    };
    let result = run_steps(&mut ex, &plan).await;
    if !db.is_closed() {
        let _ = audit
            .record(
                db,
                "unlock",
                &format!("SELECT pg_advisory_unlock({key})"),
                None,
                std::time::Duration::ZERO,
                "ok",
            )
            .await;
    }
    Ok(UpgradeOutcome {
        run_id,
        applied: result?,
        follow_ups: plan.follow_ups.clone(),
        elapsed_ms: started.elapsed().as_millis() as u64,
        backup: None,
        dawarich_up: None,
        dawarich_log: vec![],
        follow_ups_run: vec![],
    })
}

/// Runs one step of the plan; a migration it records goes to `applied`.
async fn run_step(
    ex: &mut exec::Executor<'_>,
    plan: &dawarich_doctor_model::Plan,
    step: &dawarich_doctor_model::PlanStep,
    applied: &mut Vec<String>,
) -> Result<u64> {
    Ok(match step.kind {
        StepKind::DriftRepair if step.version.is_some() => {
            ex.run_migration(catalog_migration(step), step.step, false).await?
        }
        StepKind::DriftRepair => ex.repair_drift(&plan.to_release, step.step).await?,
        StepKind::SchemaMigration | StepKind::DataMigration => {
            let m = catalog_migration(step);
            if m.kind == MigrationKind::Data {
                ex.db.batch_execute(crate::applied::DATA_MIGRATIONS_SQL).await?;
            }
            let rows = ex.run_migration(m, step.step, true).await?;
            applied.push(m.version.clone());
            rows
        }
        StepKind::JobWork if step.fused.is_empty() => ex.run_job(catalog_migration(step), step.step).await?,
        StepKind::JobWork => {
            let members: Vec<&Migration> = step
                .fused
                .iter()
                .map(|j| catalog().get(j.migration_kind, &j.version))
                .collect::<Option<_>>()
                .expect("fused jobs are planned from the catalog");
            ex.run_fused_jobs(&members, step.step).await?
        }
    })
}

async fn run_steps(ex: &mut exec::Executor<'_>, plan: &dawarich_doctor_model::Plan) -> Result<Vec<String>> {
    let (db, audit, progress, cancel) = (ex.db, ex.audit, ex.progress, ex.cancel);
    prepare_session(db, &plan.settings, &audit.run_id).await?;
    if ex.opts.dawarich_stopped {
        let line = index_build_settings(db).await?;
        progress.emit(ProgressEvent::Output { step: None, line });
    }
    record_environment(db, audit, &plan.settings.rails_env.value).await?;
    let mut applied = Vec::new();
    for step in &plan.steps {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled(format!(
                "before step {} ({}); {} migrations were applied and recorded, nothing else was started",
                step.step + 1,
                step.title,
                applied.len()
            )));
        }
        progress.emit(ProgressEvent::StepStarted {
            step: step.step,
            title: step.title.clone(),
        });
        let t = Instant::now();
        let rows = match run_step(ex, plan, step, &mut applied).await {
            Ok(rows) => rows,
            Err(e) => return Err(ex.failed(step.step, e).await),
        };
        for w in db.take_warnings() {
            progress.emit(ProgressEvent::Warning {
                step: Some(step.step),
                message: w,
            });
        }
        progress.emit(ProgressEvent::StepFinished {
            step: step.step,
            elapsed_ms: t.elapsed().as_millis() as u64,
            rows: Some(rows),
        });
    }
    let left = schema::verify(db, &plan.to_release).await?;
    for d in left.iter().filter(|d| !d.is_kept()) {
        progress.emit(ProgressEvent::Warning {
            step: None,
            message: format!(
                "{} {} {} remains different from {}",
                d.change, d.object, d.name, plan.to_release
            ),
        });
    }
    Ok(applied)
}

/// The migration a planned step runs (job steps: the migration that enqueued the job).
fn catalog_migration(step: &dawarich_doctor_model::PlanStep) -> &'static Migration {
    step.migration_kind
        .zip(step.version.as_deref())
        .and_then(|(k, v)| catalog().get(k, v))
        .expect("migration steps are planned from the catalog")
}

/// The settings the catalog's SQL reads (see docs/CATALOG.md), no statement timeout (backfills are
/// long) and no JIT compilation: a walk runs its statement once per range, and compiling it each time
/// cost more than it saved (a range of 50,000 points of the fused walk: 5.5 s with JIT, 3.0 s
/// without). Every session that runs migration SQL gets them.
async fn prepare_session(db: &Db, settings: &RunSettings, run_id: &str) -> Result<()> {
    db.execute(
        "SELECT set_config('dawarich_doctor.self_hosted', $1, false), set_config('dawarich_doctor.run_id', $2, false),
                set_config('dawarich_doctor.time_zone', $3, false), set_config('statement_timeout', '0', false),
                set_config('jit', 'off', false)",
        &[&settings.self_hosted.value, &run_id, &settings.time_zone.value],
    )
    .await?;
    Ok(())
}

/// Memory and parallel workers for index builds on the migrating session while Dawarich is stopped:
/// at least 256 MB of `maintenance_work_mem` and up to 4 workers (as many as the server allows), never
/// less than the server's own settings. Returns what the run shows.
async fn index_build_settings(db: &Db) -> Result<String> {
    db.batch_execute(
        "SELECT set_config('maintenance_work_mem', greatest(m.setting::bigint, 262144) || 'kB', false),
                set_config('max_parallel_maintenance_workers',
                           greatest(w.setting::int, least(4, current_setting('max_parallel_workers')::int))::text, false)
         FROM pg_settings AS m, pg_settings AS w
         WHERE m.name = 'maintenance_work_mem' AND w.name = 'max_parallel_maintenance_workers'",
    )
    .await?;
    let row = db
        .query_one(
            "SELECT current_setting('maintenance_work_mem'), current_setting('max_parallel_maintenance_workers')",
            &[],
        )
        .await?;
    let (mem, workers): (String, String) = (row.get(0), row.get(1));
    Ok(format!(
        "Dawarich is stopped: indexes are built without CONCURRENTLY, with maintenance_work_mem {mem} and up to {workers} parallel workers"
    ))
}

/// Rails writes `ar_internal_metadata.environment` before running anything, on every run (an UPDATE
/// when the value differs): the environment of the Dawarich that will run.
async fn record_environment(db: &Db, audit: &Audit, env: &str) -> Result<()> {
    let t = Instant::now();
    db.batch_execute(crate::applied::RAILS_TABLES_SQL).await?;
    let sql = "INSERT INTO ar_internal_metadata (key, value, created_at, updated_at) VALUES ('environment', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at WHERE ar_internal_metadata.value IS DISTINCT FROM excluded.value";
    let n = db.execute(sql, &[&env]).await?;
    if n > 0 {
        audit
            .record(
                db,
                "migrate",
                &sql.replace("$1", &format!("'{}'", env.replace('\'', "''"))),
                Some(n),
                t.elapsed(),
                "ok",
            )
            .await?;
    }
    Ok(())
}
