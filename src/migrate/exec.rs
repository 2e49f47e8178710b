//! Executing one migration: transactional or statement by statement, batched backfills in
//! primary-key ranges with checkpoints, lock_timeout with retries (reporting who blocks us), and the
//! version recorded only at the very end.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dawarich_doctor_model::{Change, MigrationKind, ObjectKind, ProgressEvent, RunSettings};
use tokio_postgres::types::Type;

use super::{aside, UpgradeOptions};
use crate::audit::Audit;
use crate::batch;
use crate::catalog::{Batch, Migration, SkipWhen, Statement};
use crate::connect::{connect, ConnectOptions, Db};
use crate::error::{Error, Result};
use crate::locks::holds_migration_lock;
use crate::progress::{Cancel, Progress};
use crate::schema;

pub(super) struct Executor<'a> {
    pub db: &'a Db,
    pub monitor: &'a Db,
    /// For helper sessions.
    pub conn: &'a ConnectOptions,
    pub opts: &'a UpgradeOptions,
    /// Dawarich's environment, set on every session that runs migration SQL.
    pub settings: &'a RunSettings,
    pub audit: &'a Audit,
    pub progress: &'a dyn Progress,
    pub cancel: &'a Cancel,
    /// The indexes the plan's migrations drop, each with the step that drops it (`index_drops`).
    pub drops: Vec<(usize, String)>,
}

/// The indexes the plan's migrations drop (`DROP INDEX … IF EXISTS`), each with the step that
/// drops it.
pub(super) fn index_drops(plan: &dawarich_doctor_model::Plan) -> Vec<(usize, String)> {
    plan.steps
        .iter()
        .filter(|s| s.version.is_some() && s.kind != dawarich_doctor_model::StepKind::JobWork)
        .flat_map(|s| {
            super::catalog_migration(s)
                .statements
                .iter()
                .filter_map(|st| dropped_index(&st.sql))
                .map(move |name| (s.step, name))
        })
        .collect()
}

fn is_lock_timeout(e: &Error) -> bool {
    matches!(e, Error::Db(d) if d.code().map(|c| c.code()) == Some("55P03"))
}

fn table_name(kind: MigrationKind) -> &'static str {
    match kind {
        MigrationKind::Schema => "schema_migrations",
        MigrationKind::Data => "data_migrations",
    }
}

fn kind_str(kind: MigrationKind) -> &'static str {
    match kind {
        MigrationKind::Schema => "schema",
        MigrationKind::Data => "data",
    }
}

/// The resume point of one batched statement: its row of `dawarich_doctor.backfill_checkpoint`.
struct Checkpoint<'a> {
    kind: &'static str,
    version: &'a str,
    statement: i32,
}

impl Checkpoint<'_> {
    /// What an earlier run finished; the row exists from here on, so ranges only ever update it.
    async fn open(&self, db: &Db) -> Result<batch::Done> {
        db.execute(
            "INSERT INTO dawarich_doctor.backfill_checkpoint (kind, version, statement, next_id, done) VALUES ($1, $2, $3, $4, '{}')
             ON CONFLICT (kind, version, statement) DO NOTHING",
            &[&self.kind, &self.version, &self.statement, &i64::MIN],
        )
        .await?;
        self.read(db, "").await
    }

    async fn read(&self, db: &Db, lock: &str) -> Result<batch::Done> {
        let row = db
            .query_one(
                &format!("SELECT next_id, done FROM dawarich_doctor.backfill_checkpoint WHERE kind = $1 AND version = $2 AND statement = $3 {lock}"),
                &[&self.kind, &self.version, &self.statement],
            )
            .await?;
        Ok(row
            .get::<_, Option<Vec<i64>>>(1)
            .map_or_else(|| batch::Done::below(row.get(0)), |d| batch::Done::from_flat(&d)))
    }

    /// Adds what a range finished to what is recorded, inside the range's transaction. The row is
    /// locked first, so ranges committing at once on several sessions each add theirs: a range
    /// committed is a range recorded.
    async fn add(&self, db: &Db, finished: &batch::Done) -> Result<()> {
        let mut done = self.read(db, "FOR UPDATE").await?;
        done.extend(finished);
        db.execute(
            "UPDATE dawarich_doctor.backfill_checkpoint SET next_id = $4, done = $5, updated_at = now()
             WHERE kind = $1 AND version = $2 AND statement = $3",
            &[
                &self.kind,
                &self.version,
                &self.statement,
                &done.first_gap(),
                &done.to_flat(),
            ],
        )
        .await?;
        Ok(())
    }
}

/// One batched statement of a backfill: its migration, its index in the file, the statement.
struct Member<'a> {
    m: &'a Migration,
    index: usize,
    s: &'a Statement,
    b: &'a Batch,
}

/// What each range of a walk runs: the statement (or the combined statement of the members that
/// walk, with their versions), then each member's checkpoint; the rows each member changed are
/// added up in `rows`.
struct RangeWork<'a> {
    combined: bool,
    versions: &'a [&'a str],
    checkpoints: &'a [Checkpoint<'a>],
    rows: &'a [AtomicU64],
}

impl RangeWork<'_> {
    /// Runs one range on `db`, inside the caller's transaction; returns the rows changed.
    async fn range(&self, db: &Db, stmt: &tokio_postgres::Statement, r: &batch::Range) -> Result<u64> {
        let counts: Vec<u64> = if self.combined {
            let row = db.query_one(stmt, &[&r.lo, &r.hi, &self.versions]).await?;
            self.versions.iter().map(|v| row.get::<_, i64>(*v) as u64).collect()
        } else {
            vec![db.execute(stmt, &[&r.lo, &r.hi]).await?]
        };
        for c in self.checkpoints {
            c.add(db, &r.done_after).await?;
        }
        for (total, n) in self.rows.iter().zip(&counts) {
            total.fetch_add(*n, Ordering::Relaxed);
        }
        Ok(counts.iter().sum())
    }
}

/// Rows per range of a walk with the indexes set aside: each row costs less to write, so a range
/// takes about as long as one with the indexes in place.
fn aside_size(size: i64) -> i64 {
    size.saturating_mul(10)
}

/// A walk that changes at least this share of the rows of its first range sets the indexes aside.
const MOST_ROWS: f64 = 0.5;

/// Takes a migration's job off the queue.
fn dequeue(m: &Migration) -> String {
    format!(
        "DELETE FROM dawarich_doctor.job_queue WHERE kind = '{}' AND version = '{}'",
        kind_str(m.kind),
        m.version
    )
}

/// Runs `body` in a transaction on `db` with `lock_timeout` set: COMMIT when it succeeds, ROLLBACK
/// when it fails (unless the session is gone).
async fn in_transaction<T>(
    db: &Db,
    lock_timeout_ms: u64,
    body: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let result = async {
        db.batch_execute(&format!("BEGIN; SET LOCAL lock_timeout = {lock_timeout_ms}"))
            .await?;
        let value = body.await?;
        db.batch_execute("COMMIT").await?;
        Ok(value)
    }
    .await;
    if result.is_err() && !db.is_closed() {
        let _ = db.batch_execute("ROLLBACK").await;
    }
    result
}

/// A concurrent index build of the catalog, `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS <name> ON <table> …`.
#[derive(Debug, PartialEq, Eq)]
struct ConcurrentBuild {
    /// The index name.
    name: String,
    /// The table it indexes.
    table: String,
    unique: bool,
    /// The same build without CONCURRENTLY (one scan, no wait for other transactions; blocks writes).
    plain: String,
}

fn concurrent_build(sql: &str) -> Option<ConcurrentBuild> {
    const CONCURRENTLY: &str = "CONCURRENTLY ";
    let up = sql.to_ascii_uppercase();
    let head = ["CREATE UNIQUE INDEX ", "CREATE INDEX "]
        .into_iter()
        .find(|h| up.starts_with(&format!("{h}{CONCURRENTLY}IF NOT EXISTS ")))?
        .len();
    let rest = &sql[head + CONCURRENTLY.len() + "IF NOT EXISTS ".len()..];
    let mut words = rest.split_whitespace();
    let name = words.next()?.trim_matches('"').to_string();
    let table = match (words.next(), words.next()) {
        (Some(on), Some(t)) if on.eq_ignore_ascii_case("ON") => t.split('(').next()?.trim_matches('"').to_string(),
        _ => return None,
    };
    Some(ConcurrentBuild {
        name,
        table,
        unique: up.starts_with("CREATE UNIQUE "),
        plain: format!("{}{}", &sql[..head], &sql[head + CONCURRENTLY.len()..]),
    })
}

/// The index a catalog statement `DROP INDEX [CONCURRENTLY] IF EXISTS <name>` drops.
fn dropped_index(sql: &str) -> Option<String> {
    let up = sql.to_ascii_uppercase();
    let head = ["DROP INDEX CONCURRENTLY IF EXISTS ", "DROP INDEX IF EXISTS "]
        .into_iter()
        .find(|h| up.starts_with(h))?;
    let name = sql[head.len()..].split_whitespace().next()?;
    Some(name.trim_end_matches(';').trim_matches('"').to_string())
}

impl Executor<'_> {
    /// Shows the statement that starts now (its rows are counted when it ends).
    fn statement_started(&self, step: usize, sql: &str) {
        self.progress.emit(ProgressEvent::StepProgress {
            step,
            done: 0,
            total: None,
            rows_per_sec: 0.0,
            eta_secs: None,
            statement: Some(sql.to_string()),
        });
    }

    fn lock_timeout(&self, attempt: u32) -> u64 {
        if attempt >= self.opts.lock_retries {
            0
        } else {
            self.opts.lock_timeout_ms.saturating_mul(1 << attempt.min(16))
        }
    }

    /// Runs `fut` on `db` while watching, from the monitor session, who blocks that backend.
    async fn watched<T>(
        &self,
        step: usize,
        db: &Db,
        attempt: u32,
        fut: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::pin!(fut);
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.tick().await;
        loop {
            tokio::select! {
                r = &mut fut => return r,
                _ = tick.tick() => {
                    if let Ok(rows) = self.monitor.query("SELECT pid, left(query, 200) FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids($1))", &[&db.backend_pid]).await {
                        for r in rows {
                            self.progress.emit(ProgressEvent::Waiting { step, blocker_pid: r.get(0), blocker_query: r.get(1), attempt });
                        }
                    }
                }
            }
        }
    }

    /// Retries `attempt_fn` (on `db`) on lock timeouts with a growing `lock_timeout`, the last attempt
    /// unlimited.
    async fn with_lock_retries<T, F, Fut>(&self, step: usize, db: &Db, mut attempt_fn: F) -> Result<T>
    where
        F: FnMut(u64) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut attempt = 0;
        loop {
            let timeout = self.lock_timeout(attempt);
            match self.watched(step, db, attempt, attempt_fn(timeout)).await {
                Err(e) if is_lock_timeout(&e) && attempt < self.opts.lock_retries => {
                    self.progress.emit(ProgressEvent::Warning {
                        step: Some(step),
                        message: format!("lock wait exceeded {timeout} ms; retrying"),
                    });
                    if self.cancel.is_cancelled() {
                        return Err(Error::Cancelled(
                            "while waiting for a lock; nothing of this step was kept".into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(200 * (1 << attempt.min(6)))).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Runs one migration's own statements and (when `record`) inserts its version once everything
    /// is done, in the same transaction as the job it enqueues (its job work runs later, in
    /// [`run_job`](Self::run_job)). Returns the rows affected.
    pub async fn run_migration(&mut self, m: &Migration, step: usize, record: bool) -> Result<u64> {
        let mut finish = format!(
            "INSERT INTO \"{}\" (\"version\") VALUES ('{}')",
            table_name(m.kind),
            m.version
        );
        if m.has_job() {
            finish.push_str(&format!(
                "; INSERT INTO dawarich_doctor.job_queue (kind, version, run_id) VALUES ('{}', '{}', current_setting('dawarich_doctor.run_id')) ON CONFLICT DO NOTHING",
                kind_str(m.kind),
                m.version
            ));
        }
        let stmts: Vec<(usize, &Statement)> = m.own_statements().collect();
        self.run_statements(m, step, &stmts, record.then_some(finish.as_str()))
            .await
    }

    /// Runs the work of the job a migration enqueued, then takes it off the queue (with its
    /// checkpoints) in the transaction of its last statement.
    pub async fn run_job(&mut self, m: &Migration, step: usize) -> Result<u64> {
        let stmts: Vec<(usize, &Statement)> = m.job_statements().collect();
        self.run_statements(m, step, &stmts, Some(&dequeue(m))).await
    }

    /// Runs the job work of several migrations (each one batched statement, `-- fuse:`) as one walk:
    /// each range runs their group's combined statement in one transaction. Then takes each job off
    /// the queue (with its checkpoints), in order, as its own step would after its walk.
    pub async fn run_fused_jobs(&mut self, ms: &[&Migration], step: usize) -> Result<u64> {
        let members: Vec<Member> = ms
            .iter()
            .map(|m| {
                let (index, s, b) = m.fusable_job().expect("fused jobs are fusable");
                Member { m, index, s, b }
            })
            .collect();
        let rows = self.backfill(step, &members).await?;
        for m in ms {
            self.transaction(m, step, &[], Some(&dequeue(m))).await?;
        }
        Ok(rows)
    }

    /// Runs statements of `m` (with their index in the file): in autocommit one by one for a
    /// no-transaction migration, else runs of plain statements in a transaction each, and every
    /// batched statement in ranges; `finish` goes into the last transaction.
    async fn run_statements(
        &mut self,
        m: &Migration,
        step: usize,
        stmts: &[(usize, &Statement)],
        finish: Option<&str>,
    ) -> Result<u64> {
        let mut rows = 0u64;
        if !m.transaction {
            for (i, s) in stmts {
                rows += self.statement_alone(m, step, *i, s).await?;
            }
            if finish.is_some() {
                self.transaction(m, step, &[], finish).await?;
            }
            return Ok(rows);
        }
        // Transactional: runs of plain statements share a transaction; each batch range commits on
        // its own; `finish` goes in with the last run.
        let mut group: Vec<&Statement> = Vec::new();
        for (i, s) in stmts {
            match &s.batch {
                None => group.push(s),
                Some(b) => {
                    rows += self.transaction(m, step, &group, None).await?;
                    group.clear();
                    rows += self.backfill(step, &[Member { m, index: *i, s, b }]).await?;
                }
            }
        }
        rows += self.transaction(m, step, &group, finish).await?;
        Ok(rows)
    }

    /// Deletes the migration's backfill checkpoints (in the transaction that records its version).
    async fn forget_checkpoints(&self, m: &Migration) -> Result<()> {
        self.db
            .execute(
                "DELETE FROM dawarich_doctor.backfill_checkpoint WHERE kind = $1 AND version = $2",
                &[&kind_str(m.kind), &m.version],
            )
            .await?;
        Ok(())
    }

    async fn transaction(&self, m: &Migration, step: usize, stmts: &[&Statement], record: Option<&str>) -> Result<u64> {
        if stmts.is_empty() && record.is_none() {
            return Ok(0);
        }
        let t = Instant::now();
        let counts = self
            .with_lock_retries(step, self.db, |timeout| {
                in_transaction(self.db, timeout, async move {
                    let mut counts = Vec::new();
                    for s in stmts {
                        self.statement_started(step, &s.sql);
                        counts.push(self.db.execute(s.sql.as_str(), &[]).await?);
                        if let Some(name) = dropped_index(&s.sql) {
                            aside::forget(self.db, &name).await?;
                        }
                    }
                    if let Some(r) = record {
                        self.db.batch_execute(r).await?;
                        self.forget_checkpoints(m).await?;
                    }
                    Ok(counts)
                })
            })
            .await;
        let counts = match counts {
            Ok(c) => c,
            Err(e) => {
                let _ = self
                    .audit
                    .record(
                        self.db,
                        "migrate",
                        &format!("-- {} failed and was rolled back: {e}", m.label()),
                        None,
                        t.elapsed(),
                        "failed",
                    )
                    .await;
                return Err(e);
            }
        };
        let took = t.elapsed() / (stmts.len().max(1) as u32);
        for (s, n) in stmts.iter().zip(&counts) {
            self.audit
                .record(self.db, "migrate", &s.sql, Some(*n), took, "ok")
                .await?;
        }
        if let Some(r) = record {
            self.audit
                .record(self.db, "migrate", r, Some(1), Duration::ZERO, "ok")
                .await?;
        }
        Ok(counts.iter().sum())
    }

    /// One statement in autocommit (no-transaction migrations); concurrent index builds first drop an
    /// INVALID leftover of an earlier failed attempt, which `IF NOT EXISTS` would otherwise keep.
    async fn statement_alone(&self, m: &Migration, step: usize, index: usize, s: &Statement) -> Result<u64> {
        if let Some(b) = &s.batch {
            return self.backfill(step, &[Member { m, index, s, b }]).await;
        }
        let build = concurrent_build(&s.sql);
        if let Some(ConcurrentBuild { name, .. }) = &build {
            let invalid: bool = self
                .db
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid)",
                    &[name],
                )
                .await?
                .get(0);
            if invalid {
                let drop = format!("DROP INDEX CONCURRENTLY IF EXISTS {}", schema::quote_ident(name));
                self.progress.emit(ProgressEvent::Warning {
                    step: Some(step),
                    message: format!("rebuilding INVALID index {name} left by an earlier attempt"),
                });
                let t = Instant::now();
                self.with_lock_retries(step, self.db, |timeout| {
                    let drop = drop.clone();
                    async move {
                        self.db.batch_execute(&format!("SET lock_timeout = {timeout}")).await?;
                        Ok(self.db.batch_execute(&drop).await?)
                    }
                })
                .await?;
                self.audit
                    .record(self.db, "migrate", &drop, None, t.elapsed(), "ok")
                    .await?;
            }
        }
        if let Some(b) = &build {
            if self.defers(step, b).await? {
                return self.defer(step, b).await;
            }
        }
        let sql = match &build {
            Some(b) if self.opts.dawarich_stopped => b.plain.as_str(),
            _ => s.sql.as_str(),
        };
        self.statement_started(step, sql);
        let t = Instant::now();
        let n = self
            .with_lock_retries(step, self.db, |timeout| async move {
                self.db.batch_execute(&format!("SET lock_timeout = {timeout}")).await?;
                let r = self.db.execute(sql, &[]).await;
                self.db.batch_execute("SET lock_timeout = 0").await?;
                Ok(r?)
            })
            .await;
        match n {
            Ok(n) => {
                if let Some(name) = dropped_index(sql) {
                    aside::forget(self.db, &name).await?;
                }
                self.audit
                    .record(self.db, "migrate", sql, Some(n), t.elapsed(), "ok")
                    .await?;
                Ok(n)
            }
            Err(e) => {
                let _ = self
                    .audit
                    .record(self.db, "migrate", sql, None, t.elapsed(), "failed")
                    .await;
                Err(e)
            }
        }
    }

    /// Whether an index build of `step` is set aside before it is built: Dawarich stopped and the
    /// table big enough that a walk sets its indexes aside (aside.rs). A unique build only when a
    /// later step drops that index again (it is never built then).
    async fn defers(&self, step: usize, b: &ConcurrentBuild) -> Result<bool> {
        let dropped_later = || self.drops.iter().any(|(s, name)| *s > step && *name == b.name);
        Ok(self.opts.dawarich_stopped
            && (!b.unique || dropped_later())
            && self.estimated_rows(&b.table).await? >= self.opts.aside_from_rows)
    }

    /// Sets the build aside before it is built: its record only (aside.rs).
    async fn defer(&self, step: usize, b: &ConcurrentBuild) -> Result<u64> {
        aside::defer(self.db, &b.table, &b.name, &b.plain).await?;
        let line = format!(
            "index {} of {} set aside before it is built: built after the walk of {}, or by the last step",
            b.name, b.table, b.table
        );
        self.progress.emit(ProgressEvent::Output {
            step: Some(step),
            line: line.clone(),
        });
        self.audit
            .record(
                self.db,
                "migrate",
                &format!("-- {line}\n{}", b.plain),
                None,
                Duration::ZERO,
                "ok",
            )
            .await?;
        Ok(0)
    }

    /// Opens the helper sessions a backfill spreads its ranges over (`workers - 1` besides the locking
    /// session). One that cannot be opened is left out with a warning: the backfill runs on fewer.
    async fn helpers(&self, step: usize) -> Vec<Db> {
        let mut helpers = Vec::new();
        for _ in 1..self.opts.workers.max(1) {
            let opened = async {
                let db = connect(self.conn).await?;
                super::prepare_session(&db, self.settings, &self.audit.run_id).await?;
                Ok::<_, Error>(db)
            };
            match opened.await {
                Ok(db) => helpers.push(db),
                Err(e) => {
                    self.progress.emit(ProgressEvent::Warning {
                        step: Some(step),
                        message: format!(
                            "backfill runs on {} sessions: another could not be opened: {e}",
                            helpers.len() + 1
                        ),
                    });
                    break;
                }
            }
        }
        helpers
    }

    /// A batched backfill of one statement, or of several fused ones (each range runs their group's
    /// combined statement): primary-key ranges, each committed with every statement's checkpoint,
    /// resumable; ranges run on the locking session and its helpers at once. A helper starts a range
    /// only while the locking session still holds Rails' lock. A statement whose `skip-when` holds is
    /// left out.
    async fn backfill(&self, step: usize, members: &[Member<'_>]) -> Result<u64> {
        let fused = members.len() > 1;
        let mut walking = Vec::with_capacity(members.len());
        for w in members {
            let skip = match self.opts.walk_always {
                true => None,
                false => self.cannot_change(w.b).await?,
            };
            let Some(skip) = skip else {
                walking.push(w);
                continue;
            };
            let line = format!("no row can change: {}", skip.reason);
            self.progress.emit(ProgressEvent::Output {
                step: Some(step),
                line: if fused {
                    format!("{}: {line}", w.m.label())
                } else {
                    line.clone()
                },
            });
            let sql = format!("-- not run, {line} ({})\n{}", skip.sql, w.s.sql);
            self.audit
                .record(self.db, "migrate", &sql, Some(0), Duration::ZERO, "ok")
                .await?;
        }
        let Some(first) = walking.first() else {
            return Ok(0);
        };
        // each statement's checkpoint; resumed, the walk starts from what all of them have done
        let checkpoints: Vec<Checkpoint> = walking
            .iter()
            .map(|w| Checkpoint {
                kind: kind_str(w.m.kind),
                version: &w.m.version,
                statement: w.index as i32,
            })
            .collect();
        let mut done = checkpoints[0].open(self.db).await?;
        for c in &checkpoints[1..] {
            done = done.intersect(&c.open(self.db).await?);
        }
        // what each range runs: the statement, or the combined statement of those that walk
        let versions: Vec<&str> = walking.iter().map(|w| w.m.version.as_str()).collect();
        let combined = match walking.len() {
            1 => None,
            _ => {
                let group = first.b.fuse.as_deref().expect("fused statements have a group");
                Some(
                    crate::catalog::catalog()
                        .combined(group)
                        .expect("every group has one (checked when parsed)"),
                )
            }
        };
        let (sql, types): (&str, &[Type]) = match combined {
            Some(f) => (&f.sql, &[Type::INT8, Type::INT8, Type::TEXT_ARRAY]),
            None => (&first.s.sql, &[Type::INT8, Type::INT8]),
        };
        let labels: Vec<String> = walking.iter().map(|w| w.m.label()).collect();
        let label = labels.join(" + ");
        let rows: Vec<AtomicU64> = walking.iter().map(|_| AtomicU64::new(0)).collect();
        let work = RangeWork {
            combined: combined.is_some(),
            versions: &versions,
            checkpoints: &checkpoints,
            rows: &rows,
        };
        let size = self
            .opts
            .batch_size
            .unwrap_or_else(|| walking.iter().map(|w| w.b.size).fold(first.b.size, i64::min));
        let (table, pk) = (first.b.table.as_str(), first.b.pk.as_str());
        let ranges = |done, lanes, size| batch::Ranges {
            table,
            pk,
            size,
            done,
            step,
            label: &label,
            lanes,
        };
        let t0 = Instant::now();
        // while Dawarich is stopped, a walk that rewrites most rows it reads sets the table's plain
        // indexes aside (aside.rs), besides those already aside (builds set aside before they were
        // built, an interrupted run's)
        let mut aside = aside::recorded(self.db, Some(table)).await?;
        if self.opts.dawarich_stopped && self.estimated_rows(table).await? >= self.opts.aside_from_rows {
            let stmt = self.db.prepare_typed(sql, types).await?;
            let set_aside;
            (done, set_aside) = self.first_range(&ranges(done, 1, size), &stmt, &work).await?;
            aside.extend(set_aside);
        }
        let size = if aside.is_empty() { size } else { aside_size(size) };
        let helpers = self.helpers(step).await;
        let lanes: Vec<&Db> = std::iter::once(self.db).chain(&helpers).collect();
        let mut stmts = Vec::with_capacity(lanes.len());
        for db in &lanes {
            stmts.push(db.prepare_typed(sql, types).await?);
        }
        let ranges = ranges(done, lanes.len(), size);
        let walked = batch::walk(self.db, &ranges, self.progress, self.cancel, |r| {
            let (db, stmt) = (lanes[r.lane], &stmts[r.lane]);
            let (label, work) = (&label, &work);
            async move {
                let r = &r;
                self.with_lock_retries(step, db, move |timeout| {
                    in_transaction(db, timeout, async move {
                        if r.lane > 0 && !holds_migration_lock(db, &self.db.database, self.db.backend_pid).await? {
                            return Err(Error::SessionLost(format!("{label} stopped before id {}: the session holding the migration lock was closed or terminated; a new run continues from the last checkpoint", r.lo)));
                        }
                        work.range(db, stmt, r).await
                    })
                })
                .await
            }
        })
        .await;
        if !aside.is_empty() {
            match walked {
                // cancelled or without the migration lock: left aside, a new run finishes the walk
                // and builds them
                Err(e) if matches!(e, Error::Cancelled(_)) || e.session_ended() || self.db.is_closed() => {
                    let note = format!(
                        "{} index(es) of {table} stay set aside (dawarich_doctor.index_aside keeps how to create each); a new run builds them again after the walk",
                        aside.len()
                    );
                    return Err(match e {
                        Error::Cancelled(m) => Error::Cancelled(format!("{m}; {note}")),
                        Error::SessionLost(m) => Error::SessionLost(format!("{m}; {note}")),
                        other => Error::SessionLost(format!("{label}: {other}; {note}")),
                    });
                }
                _ => {}
            }
            // built again after the walk, and after a failed one too (its committed ranges stay)
            let built = self.build_again(step, &helpers, &aside).await;
            walked?;
            built?;
        } else {
            walked?;
        }
        let how = match aside.as_slice() {
            [] => format!("in ranges of {size} on {} sessions", lanes.len()),
            aside => format!(
                "in ranges of {size} on {} sessions, with {} index(es) of {table} set aside and built again after it ({})",
                lanes.len(),
                aside.len(),
                aside.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        for (i, w) in walking.iter().enumerate() {
            let fused_with = match combined {
                Some(f) => {
                    let others: Vec<&str> = labels
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .map(|(_, l)| l.as_str())
                        .collect();
                    format!(
                        ", in one walk with {} (the combined statement of {})",
                        others.join(", "),
                        f.group
                    )
                }
                None => String::new(),
            };
            let sql = format!("-- batched by {table}.{pk} {how}{fused_with}\n{}", w.s.sql);
            self.audit
                .record(
                    self.db,
                    "migrate",
                    &sql,
                    Some(rows[i].load(Ordering::Relaxed)),
                    t0.elapsed(),
                    "ok",
                )
                .await?;
        }
        // every range's rows (a first range committed before the rest was walked as usual included)
        Ok(rows.iter().map(|n| n.load(Ordering::Relaxed)).sum())
    }

    /// PostgreSQL's estimate of the rows of `table` (0 before its first VACUUM or ANALYZE).
    async fn estimated_rows(&self, table: &str) -> Result<u64> {
        let n: f32 = self
            .db
            .query_one(
                "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = $1::text::regclass",
                &[&table],
            )
            .await?
            .get(0);
        Ok(n as u64)
    }

    /// The first range of a walk while Dawarich is stopped, committed with the indexes in place; when
    /// it changed most of the rows it read, the table's plain indexes are set aside (aside.rs) in a
    /// transaction of their own. Returns what is done then and the indexes set aside.
    async fn first_range(
        &self,
        r: &batch::Ranges<'_>,
        stmt: &tokio_postgres::Statement,
        work: &RangeWork<'_>,
    ) -> Result<(batch::Done, Vec<aside::Aside>)> {
        let db = self.db;
        let Some(first) = r.first(db).await? else {
            return Ok((r.done.clone(), Vec::new()));
        };
        let step = r.step;
        let (most, read) = self
            .with_lock_retries(step, db, |timeout| {
                let first = &first;
                in_transaction(db, timeout, async move {
                    // an attempt after a lock timeout counts from zero again
                    work.rows.iter().for_each(|n| n.store(0, Ordering::Relaxed));
                    work.range(db, stmt, first).await?;
                    let read: i64 = db
                        .query_one(
                            &format!(
                                "SELECT count(*) FROM \"{t}\" WHERE \"{pk}\" >= $1 AND \"{pk}\" < $2",
                                pk = r.pk,
                                t = r.table
                            ),
                            &[&first.lo, &first.hi],
                        )
                        .await?
                        .get(0);
                    // fused, each member counts its rows: the most any one changed is the least
                    // number of rows changed
                    Ok((
                        work.rows.iter().map(|n| n.load(Ordering::Relaxed)).max().unwrap_or(0),
                        read,
                    ))
                })
            })
            .await?;
        let done = first.done_after.clone();
        if read == 0 || (most as f64) < MOST_ROWS * read as f64 {
            return Ok((done, Vec::new()));
        }
        let aside = self
            .with_lock_retries(step, db, |timeout| {
                in_transaction(db, timeout, aside::set_aside(db, r.table))
            })
            .await?;
        if aside.is_empty() {
            return Ok((done, aside));
        }
        for a in &aside {
            self.audit
                .record(db, "migrate", &a.drop_statement(), None, Duration::ZERO, "ok")
                .await?;
        }
        self.progress.emit(ProgressEvent::Output {
            step: Some(step),
            line: format!(
                "{most} or more of the {read} rows of the first range changed: {} index(es) of {} set aside for the walk, built again after it",
                aside.len(),
                r.table
            ),
        });
        Ok((done, aside))
    }

    /// Creates the indexes set aside again, spread over this session and `helpers` (given the index
    /// build settings; each index in a transaction that removes its record), then writes each to the
    /// audit log.
    async fn build_again(&self, step: usize, helpers: &[Db], aside: &[aside::Aside]) -> Result<()> {
        for db in helpers {
            super::index_build_settings(db).await?;
        }
        let lanes: Vec<&Db> = std::iter::once(self.db).chain(helpers).collect();
        // the slow kinds first (a GiST build took 20 s where a B-tree one took 1 to 5 s), so that the
        // lanes finish together
        let mut order: Vec<usize> = (0..aside.len()).collect();
        order.sort_by_key(|&i| aside[i].is_btree());
        let next = AtomicUsize::new(0);
        let took = std::sync::Mutex::new(vec![Duration::ZERO; aside.len()]);
        futures_util::future::try_join_all(lanes.iter().map(|&db| {
            let (next, took, order) = (&next, &took, &order);
            async move {
                loop {
                    let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        return Ok::<_, Error>(());
                    };
                    let a = &aside[i];
                    self.statement_started(step, &a.create);
                    let t = Instant::now();
                    self.with_lock_retries(step, db, |timeout| in_transaction(db, timeout, a.build_again(db)))
                        .await?;
                    took.lock().expect("not poisoned")[i] = t.elapsed();
                }
            }
        }))
        .await?;
        for (a, t) in aside.iter().zip(took.into_inner().expect("not poisoned")) {
            self.audit.record(self.db, "migrate", &a.create, None, t, "ok").await?;
        }
        Ok(())
    }

    /// Builds every index still set aside, spread over this session and its helpers.
    async fn build_left_aside(&self, step: usize) -> Result<()> {
        let left = aside::recorded(self.db, None).await?;
        if left.is_empty() {
            return Ok(());
        }
        self.progress.emit(ProgressEvent::Output {
            step: Some(step),
            line: format!(
                "building the {} index(es) still set aside: {}",
                left.len(),
                left.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
        let helpers = self.helpers(step).await;
        self.build_again(step, &helpers, &left).await
    }

    /// The error of a failed step, once the indexes still set aside are built (a cancelled run, or
    /// one that lost its session, leaves them to the next run, as does a build that fails too).
    pub async fn failed(&self, step: usize, e: Error) -> Error {
        if matches!(e, Error::Cancelled(_)) || e.session_ended() || self.db.is_closed() {
            return e;
        }
        if let Err(b) = self.build_left_aside(step).await {
            self.progress.emit(ProgressEvent::Warning {
                step: Some(step),
                message: format!("the indexes still set aside were not built ({b}); a new run builds them"),
            });
        }
        e
    }

    /// The first of the statement's `skip-when` conditions that holds (all evaluated in one query).
    async fn cannot_change<'b>(&self, b: &'b Batch) -> Result<Option<&'b SkipWhen>> {
        if b.skip_when.is_empty() {
            return Ok(None);
        }
        let sql = b
            .skip_when
            .iter()
            .map(|c| format!("({})::bool", c.sql))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self.db.query_one(&format!("SELECT {sql}"), &[]).await?;
        Ok(b.skip_when
            .iter()
            .enumerate()
            .find(|&(i, _)| row.get::<_, Option<bool>>(i) == Some(true))
            .map(|(_, c)| c))
    }

    /// Builds the indexes still set aside (this run's not walked, an earlier run's), then creates
    /// whatever the target release has and the database still lacks (extras are reported).
    pub async fn repair_drift(&self, target: &str, step: usize) -> Result<u64> {
        self.build_left_aside(step).await?;
        let diffs = schema::verify(self.db, target).await?;
        let missing: Vec<_> = diffs
            .into_iter()
            .filter(|d| d.change == Change::Missing && d.object != ObjectKind::Extension)
            .collect();
        let mut n = 0;
        for sql in schema::repair_statements(target, &missing)? {
            self.progress.emit(ProgressEvent::Warning {
                step: Some(step),
                message: format!("schema drift: {sql}"),
            });
            let t = Instant::now();
            self.db.batch_execute(&sql).await?;
            self.audit
                .record(self.db, "drift-repair", &sql, None, t.elapsed(), "ok")
                .await?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_concurrent_index_build_of_the_catalog_has_its_plain_form_and_table() {
        let mut n = 0;
        for m in &crate::catalog::catalog().migrations {
            for s in m.statements.iter().filter(|s| {
                let up = s.sql.to_ascii_uppercase();
                up.starts_with("CREATE") && up.contains("CONCURRENTLY")
            }) {
                let b =
                    concurrent_build(&s.sql).unwrap_or_else(|| panic!("{}: {} is not recognised", m.label(), s.sql));
                assert_eq!(b.plain, s.sql.replacen("CONCURRENTLY ", "", 1), "{}", m.label());
                assert!(
                    s.sql.contains(&format!(" ON {} ", b.table)),
                    "{}: {} on {}",
                    m.label(),
                    s.sql,
                    b.table
                );
                n += 1;
            }
        }
        assert!(n > 40, "only {n} concurrent builds found");
        assert_eq!(
            concurrent_build("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"ab\" ON \"t\"(x)"),
            Some(ConcurrentBuild {
                name: "ab".into(),
                table: "t".into(),
                unique: true,
                plain: "CREATE UNIQUE INDEX IF NOT EXISTS \"ab\" ON \"t\"(x)".into()
            })
        );
        assert_eq!(concurrent_build("CREATE INDEX IF NOT EXISTS a ON t (x)"), None);
        assert_eq!(
            concurrent_build("CREATE INDEX CONCURRENTLY IF NOT EXISTS a USING t (x)"),
            None
        );
    }

    /// A build set aside before it is built is forgotten when a later migration drops the index: every
    /// statement of the catalog that drops an index is recognised, and none drops a column or a table
    /// an index could still be set aside on (its record would outlive what it indexes).
    #[test]
    fn every_index_drop_of_the_catalog_is_recognised() {
        let mut n = 0;
        for m in &crate::catalog::catalog().migrations {
            for s in &m.statements {
                let up = s.sql.to_ascii_uppercase();
                if up.starts_with("DROP INDEX") {
                    let name =
                        dropped_index(&s.sql).unwrap_or_else(|| panic!("{}: {} is not recognised", m.label(), s.sql));
                    assert!(s.sql.contains(&name), "{}: {name}", m.label());
                    n += 1;
                }
                assert!(!up.contains("DROP COLUMN"), "{}: {}", m.label(), s.sql);
            }
        }
        assert!(n > 20, "only {n} index drops found");
        assert_eq!(
            dropped_index("DROP INDEX CONCURRENTLY IF EXISTS \"ab\";"),
            Some("ab".to_string())
        );
        assert_eq!(dropped_index("DROP INDEX a"), None);
    }
}
