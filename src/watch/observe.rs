//! Watching Dawarich migrate itself: the session holding Rails' lock (its statement, how long, its
//! wait, who blocks it), index builds, CLUSTER and VACUUM (`pg_stat_progress_*`), rows an UPDATE has
//! committed, versions as they are recorded (named from the container's `db/migrate` and `db/data`),
//! and the container log parsed for Rails' lines, until the app is healthy or its start fails.
//! Everything goes out as the runner's progress events.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use dawarich_doctor_model::{ContainerRole, Failure, LogEvent, ProgressEvent, WatchReport};

use super::log::{clean, parse_line, recognise};
use crate::connect::{connect, ConnectOptions, Db};
use crate::containers::Install;
use crate::docker::Sub;
use crate::error::{Error, Result};
use crate::progress::{Cancel, Progress};

/// How a watch ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    /// The app is healthy: the versions recorded while watching.
    Up { recorded: Vec<String> },
    /// The start failed; why, from the log (verbatim when not recognised).
    Failed { recorded: Vec<String>, failure: Failure },
}

/// Hands the migrations over to Dawarich: starts its app container when `start` (else it is expected
/// to be starting), watches it, and on a failed start says why and what fixes it. Read-only on the
/// database.
pub async fn hand_over(
    conn: &ConnectOptions,
    install: &Install,
    start: bool,
    timeout: Duration,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<WatchReport> {
    let watched = watch(conn, install, start, timeout, progress, cancel).await;
    install.host.write_journal(conn, crate::audit::default_file()).await;
    Ok(match watched? {
        Watched::Up { recorded } => WatchReport {
            recorded,
            failure: None,
            advice: None,
        },
        Watched::Failed { recorded, failure } => {
            let db = connect(conn).await?;
            let advice = super::advice::advise(&db, &failure).await?;
            WatchReport {
                recorded,
                failure: Some(failure),
                advice: Some(advice),
            }
        }
    })
}

/// Watches the app of `install` until it is up or its start fails, or `timeout` passes; starts it
/// first when `start` (else it is starting or restarting by itself).
pub async fn watch(
    conn: &ConnectOptions,
    install: &Install,
    start: bool,
    timeout: Duration,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Watched> {
    let db = connect(conn).await?;
    // `VERSION → Name`, read once the container runs (exec needs it running)
    let mut names = BTreeMap::new();
    // what is there before: versions, the log's end, the restarts so far
    let mut view = DatabaseView::new(&db).await?;
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let mut start_restarts = app_restarts(install).await?;
    if start {
        progress.emit(ProgressEvent::Output {
            step: None,
            line: format!(
                "$ {}",
                crate::docker::DockerHost::command_line(Sub::Start, &[&install.app])
            ),
        });
        install.host.run(Sub::Start, &[&install.app]).await?;
        // `docker start` resets the count
        start_restarts = 0;
    }
    let started = Instant::now();
    let mut newly = Vec::new();
    let mut log_lines: Vec<String> = Vec::new();
    let mut step = 0usize;
    let mut current: Option<usize> = None;
    loop {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled("stopped watching; Dawarich goes on by itself".into()));
        }
        // the container first: what the log and the database show next is at least as new
        let status = install.status().await?;
        let app = status
            .container(ContainerRole::App)
            .cloned()
            .expect("status lists the app first");
        if names.is_empty() && app.state == "running" {
            names = migration_names(install).await;
        }
        // the log: Rails' migration lines become steps
        let lines = log_since(install, &since).await?;
        for line in lines.iter().skip(log_lines.len()) {
            match parse_line(line) {
                Some(LogEvent::Migrating { version, name, .. }) => {
                    if let Some(s) = current.take() {
                        finish(progress, s);
                    }
                    progress.emit(ProgressEvent::StepStarted {
                        step,
                        title: format!("{version} {name}"),
                    });
                    current = Some(step);
                    step += 1;
                }
                Some(LogEvent::Migrated { .. }) => {
                    if let Some(s) = current.take() {
                        finish(progress, s);
                    }
                }
                _ => {}
            }
            progress.emit(ProgressEvent::Output {
                step: current,
                line: line.clone(),
            });
        }
        log_lines = lines;
        // the database: versions recorded, the lock holder, index builds, committed updates
        newly.extend(view.poll(&db, &names, current, progress).await?);
        // then the container's end, if it came
        if app.health.as_deref() == Some("healthy")
            || (app.health.is_none() && log_lines.iter().any(|l| l.contains("Listening on")))
        {
            if let Some(s) = current.take() {
                finish(progress, s);
            }
            return Ok(Watched::Up { recorded: newly });
        }
        if app.restart_count > start_restarts || matches!(app.state.as_str(), "exited" | "dead") {
            let failure = first_failure(&log_lines).unwrap_or_else(|| Failure::Unknown {
                migration: None,
                statement: None,
                error: format!("the app container is {} and its log names no error", app.state),
                excerpt: log_lines.iter().rev().take(20).rev().cloned().collect(),
            });
            return Ok(Watched::Failed {
                recorded: newly,
                failure,
            });
        }
        if started.elapsed() > timeout {
            return Err(Error::Precondition {
                message: format!("Dawarich was neither up nor failed after {} s", timeout.as_secs()),
                fix: format!(
                    "Look at `docker logs {}`; watching again continues where it is.",
                    install.app
                ),
            });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Follows Dawarich migrating from the database alone (no Docker host to start it or read its
/// log): the lock holder, its progress and the versions recorded, as one step, until `cancel` or
/// `timeout`. Whether Dawarich came up is not visible here. Returns the versions recorded.
pub async fn follow(
    conn: &ConnectOptions,
    timeout: Duration,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<String>> {
    let db = connect(conn).await?;
    let mut view = DatabaseView::new(&db).await?;
    progress.emit(ProgressEvent::StepStarted {
        step: 0,
        title: "Dawarich migrating (the database only)".into(),
    });
    let mut newly = Vec::new();
    while !cancel.is_cancelled() && view.started.elapsed() < timeout {
        newly.extend(view.poll(&db, &BTreeMap::new(), Some(0), progress).await?);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    finish(progress, 0);
    Ok(newly)
}

/// What the database shows of a migration under way, polled: versions as they are recorded, the
/// session holding Rails' lock, index builds and table scans, committed updates.
struct DatabaseView {
    seen: BTreeSet<String>,
    updates: TupleCounter,
    started: Instant,
}

impl DatabaseView {
    async fn new(db: &Db) -> Result<DatabaseView> {
        Ok(DatabaseView {
            seen: recorded(db).await?,
            updates: TupleCounter::default(),
            started: Instant::now(),
        })
    }

    /// Emits what changed (as output of `step`, progress only within a step); returns the versions
    /// recorded since the last poll, named from `names` where known.
    async fn poll(
        &mut self,
        db: &Db,
        names: &BTreeMap<String, String>,
        step: Option<usize>,
        progress: &dyn Progress,
    ) -> Result<Vec<String>> {
        let mut newly = Vec::new();
        for v in recorded(db).await? {
            if self.seen.insert(v.clone()) {
                let name = names.get(&v).map(|n| format!(" {n}")).unwrap_or_default();
                progress.emit(ProgressEvent::Output {
                    step,
                    line: format!("recorded {v}{name}"),
                });
                newly.push(v);
            }
        }
        let Some(s) = step else { return Ok(newly) };
        let (holder, maintenance) = activity(db).await?;
        if let Some(h) = holder.as_ref().filter(|h| !h.blocked_by.is_empty()) {
            progress.emit(ProgressEvent::Waiting {
                step: s,
                blocker_pid: h.blocked_by[0],
                blocker_query: h.wait.clone(),
                attempt: 0,
            });
        }
        let holder = holder.map(|h| h.describe());
        if let Some((what, done, total)) = maintenance {
            progress.emit(ProgressEvent::StepProgress {
                step: s,
                done,
                total,
                rows_per_sec: 0.0,
                eta_secs: None,
                statement: Some(match &holder {
                    Some(h) => format!("{what} — {h}"),
                    None => what,
                }),
            });
        } else if let Some(rows) = self.updates.delta(db).await? {
            progress.emit(ProgressEvent::StepProgress {
                step: s,
                done: rows,
                total: None,
                rows_per_sec: rows as f64 / self.started.elapsed().as_secs_f64().max(0.001),
                eta_secs: None,
                statement: holder,
            });
        } else if holder.is_some() {
            progress.emit(ProgressEvent::StepProgress {
                step: s,
                done: 0,
                total: None,
                rows_per_sec: 0.0,
                eta_secs: None,
                statement: holder,
            });
        }
        Ok(newly)
    }
}

/// The failure of the first attempt since the watch began that failed (a crash loop repeats the
/// cause, or shows what its first attempt left behind).
fn first_failure(lines: &[String]) -> Option<Failure> {
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("Starting Rails environment"))
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(lines.len()))
        .collect();
    starts.into_iter().find_map(|end| recognise(&lines[..end]))
}

/// The app's log since `since`, standard output and error merged in time order (`docker logs -t`
/// stamps every line), without the stamps.
async fn log_since(install: &Install, since: &str) -> Result<Vec<String>> {
    let out = install
        .host
        .run(Sub::Logs, &["-t", "--since", since, &install.app])
        .await?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines: Vec<&str> = stdout.lines().chain(out.stderr.lines()).collect();
    // RFC 3339 stamps in UTC sort as text; a stable sort keeps each stream's own order
    lines.sort_by_key(|l| l.split_once(' ').map_or("", |(t, _)| t));
    Ok(lines.into_iter().map(clean).collect())
}

fn finish(progress: &dyn Progress, step: usize) {
    progress.emit(ProgressEvent::StepFinished {
        step,
        elapsed_ms: 0,
        rows: None,
    });
}

/// The app's restart count now.
async fn app_restarts(install: &Install) -> Result<u64> {
    let s = install.status().await?;
    Ok(s.container(ContainerRole::App).map_or(0, |c| c.restart_count))
}

/// `VERSION → Name` from the container's `db/migrate` and `db/data` (`20240815174852_add_x.rb` →
/// `AddX`); empty when the container cannot list them (the version alone is shown then).
async fn migration_names(install: &Install) -> BTreeMap<String, String> {
    let Ok(out) = install
        .host
        .run(Sub::Exec, &[&install.app, "ls", "db/migrate", "db/data"])
        .await
    else {
        return BTreeMap::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|f| f.trim().strip_suffix(".rb"))
        .filter_map(|f| f.split_once('_'))
        .filter(|(v, _)| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .map(|(v, n)| (v.to_string(), camel(n)))
        .collect()
}

/// `add_owntracks_points_data` → `AddOwntracksPointsData`
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Every recorded version, schema and data.
async fn recorded(db: &Db) -> Result<BTreeSet<String>> {
    let a = crate::applied::read_applied(db, &db.database).await?;
    Ok(a.schema.into_iter().chain(a.data).collect())
}

/// The session migrating under Rails' lock, as the watch shows it.
#[derive(Debug, Clone)]
struct Holder {
    pid: i32,
    query: String,
    secs: f64,
    /// `Lock: relation`, when it waits.
    wait: Option<String>,
    blocked_by: Vec<i32>,
}

impl Holder {
    /// `session 4711, 12 s: CREATE UNIQUE INDEX CONCURRENTLY … (waiting: Lock relation)`
    fn describe(&self) -> String {
        let wait = self
            .wait
            .as_ref()
            .map(|w| format!(" (waiting: {w})"))
            .unwrap_or_default();
        format!("session {}, {:.0} s: {}{wait}", self.pid, self.secs, self.query)
    }
}

/// The lock holder and what maintenance runs, as of one moment: read in one transaction, which
/// takes one snapshot of the server's sessions for both.
async fn activity(db: &Db) -> Result<(Option<Holder>, Option<(String, u64, Option<u64>)>)> {
    db.batch_execute("BEGIN READ ONLY").await?;
    let read = async { Ok((holder(db).await?, maintenance(db).await?)) }.await;
    db.batch_execute(if read.is_ok() { "COMMIT" } else { "ROLLBACK" })
        .await?;
    read
}

/// The session holding Rails' lock: its statement, how long it runs, its wait event, who blocks it.
async fn holder(db: &Db) -> Result<Option<Holder>> {
    let (classid, objid) = crate::locks::key_parts(crate::locks::migration_lock_key(&db.database));
    let row = db
        .query_opt(
            "SELECT a.pid, coalesce(a.query, ''), coalesce(extract(epoch FROM clock_timestamp() - a.query_start), 0)::float8,
                    a.wait_event_type || ': ' || a.wait_event, pg_blocking_pids(a.pid)
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1 AND a.pid <> pg_backend_pid()
             LIMIT 1",
            &[&i64::from(classid), &i64::from(objid)],
        )
        .await?;
    Ok(row.map(|r| Holder {
        pid: r.get(0),
        query: r.get::<_, String>(1).split_whitespace().collect::<Vec<_>>().join(" "),
        secs: r.get(2),
        wait: r.get(3),
        blocked_by: r.get(4),
    }))
}

/// A running index build, CLUSTER / VACUUM FULL or VACUUM of a client session: what and its
/// phase, then blocks (or tuples) done and total (none while it waits).
async fn maintenance(db: &Db) -> Result<Option<(String, u64, Option<u64>)>> {
    let row = db
        .query_opt(
            "SELECT p.what, p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total
             FROM (SELECT pid, datname, command || ', ' || phase AS what, blocks_done, blocks_total, tuples_done, tuples_total
                   FROM pg_stat_progress_create_index
                   UNION ALL
                   SELECT pid, datname, command || ', ' || phase, heap_blks_scanned, heap_blks_total, 0, 0
                   FROM pg_stat_progress_cluster
                   UNION ALL
                   SELECT pid, datname, 'VACUUM, ' || phase, heap_blks_scanned, heap_blks_total, 0, 0
                   FROM pg_stat_progress_vacuum) p
             JOIN pg_stat_activity a ON a.pid = p.pid
             WHERE p.datname = current_database() AND a.backend_type = 'client backend' LIMIT 1",
            &[],
        )
        .await?;
    Ok(row.map(|r| {
        let (bd, bt, td, tt): (i64, i64, i64, i64) = (r.get(1), r.get(2), r.get(3), r.get(4));
        let what: String = r.get(0);
        if bt > 0 {
            (what, bd as u64, Some(bt as u64))
        } else if tt > 0 {
            (what, td as u64, Some(tt as u64))
        } else {
            (what, 0, None)
        }
    }))
}

/// Committed updated rows of every table since the watch began (a batched backfill commits its
/// ranges; one long UPDATE shows only when it commits).
#[derive(Default)]
struct TupleCounter {
    base: Option<i64>,
}

impl TupleCounter {
    async fn delta(&mut self, db: &Db) -> Result<Option<u64>> {
        let now: i64 = db
            .query_one(
                "SELECT coalesce(sum(n_tup_upd), 0)::bigint FROM pg_stat_user_tables",
                &[],
            )
            .await?
            .get(0);
        let base = *self.base.get_or_insert(now);
        Ok((now > base).then(|| (now - base) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_rails_class_names() {
        assert_eq!(camel("add_owntracks_points_data"), "AddOwntracksPointsData");
        assert_eq!(camel("x"), "X");
    }
}
