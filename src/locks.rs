//! The Rails migration advisory lock: its key, who holds it, and (with care) ending a stale holder.

use std::time::{Duration, Instant};

use dawarich_doctor_model::{AdvisoryLock, HolderVerdict, LockHolder, LockReport, ReleaseOutcome};

use crate::audit::{install_support, Audit};
use crate::connect::Db;
use crate::error::{Error, Result};

/// Rails' `MIGRATOR_SALT`.
pub const MIGRATOR_SALT: i64 = 2053462845;

/// The lock key Rails (and data_migrate) use for a database: `MIGRATOR_SALT × CRC-32(name)`.
pub fn migration_lock_key(database: &str) -> i64 {
    MIGRATOR_SALT * i64::from(crc32fast::hash(database.as_bytes()))
}

/// The key as `pg_locks` shows it: (classid, objid) = (high 32 bits, low 32 bits), objsubid 1.
pub fn key_parts(key: i64) -> (u32, u32) {
    ((key as u64 >> 32) as u32, key as u64 as u32)
}

/// A holder idle (or idle in transaction) for longer than this is `stale`.
pub const STALE_AFTER_SECS: f64 = 60.0;

/// Judges a holder from its `pg_stat_activity` state.
pub fn verdict(state: Option<&str>, state_age_secs: Option<f64>, stale_after_secs: f64) -> HolderVerdict {
    match state {
        Some("active") => HolderVerdict::ActiveMigration,
        Some("idle") | Some("idle in transaction") | Some("idle in transaction (aborted)") => {
            if state_age_secs.is_some_and(|a| a >= stale_after_secs) {
                HolderVerdict::Stale
            } else {
                HolderVerdict::Unknown
            }
        }
        _ => HolderVerdict::Unknown,
    }
}

const HOLDERS_SQL: &str = "
SELECT l.pid, a.state, host(a.client_addr), a.application_name, a.usename::text,
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
       extract(epoch FROM clock_timestamp() - a.state_change)::float8,
       left(a.query, 500), l.pid = pg_backend_pid()
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1
ORDER BY l.pid";

/// Reads who holds this database's migration lock.
pub async fn lock_report(
    client: &tokio_postgres::Client,
    database: &str,
    stale_after_secs: f64,
) -> Result<LockReport, tokio_postgres::Error> {
    let key = migration_lock_key(database);
    let (classid, objid) = key_parts(key);
    let rows = client
        .query(HOLDERS_SQL, &[&i64::from(classid), &i64::from(objid)])
        .await?;
    let holders: Vec<LockHolder> = rows
        .iter()
        .map(|r| {
            let state: Option<String> = r.get(1);
            let age: Option<f64> = r.get(6);
            LockHolder {
                pid: r.get(0),
                verdict: verdict(state.as_deref(), age, stale_after_secs),
                state,
                client_addr: r.get(2),
                application_name: r.get(3),
                user: r.get(4),
                backend_start: r.get(5),
                state_age_secs: age,
                query: r.get(7),
                is_self: r.get(8),
            }
        })
        .collect();
    Ok(LockReport {
        key,
        classid,
        objid,
        held: !holders.is_empty(),
        holders,
    })
}

/// Whether backend `pid` still holds this database's migration lock (asked by helper sessions before
/// each piece of work they do for it).
pub async fn holds_migration_lock(
    client: &tokio_postgres::Client,
    database: &str,
    pid: i32,
) -> Result<bool, tokio_postgres::Error> {
    Ok(lock_report(client, database, STALE_AFTER_SECS)
        .await?
        .holders
        .iter()
        .any(|h| h.pid == pid))
}

/// Every other advisory lock in this database (Dawarich's jobs take their own): listed, never touched.
pub async fn other_advisory_locks(
    client: &tokio_postgres::Client,
    database: &str,
) -> Result<Vec<AdvisoryLock>, tokio_postgres::Error> {
    let (classid, objid) = key_parts(migration_lock_key(database));
    let rows = client
        .query(
            "SELECT l.pid, l.classid::bigint, l.objid::bigint, l.objsubid, l.granted, a.application_name
             FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory'
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND NOT (l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1)
             ORDER BY l.pid, l.classid, l.objid",
            &[&i64::from(classid), &i64::from(objid)],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AdvisoryLock {
            pid: r.get(0),
            classid: r.get::<_, i64>(1) as u32,
            objid: r.get::<_, i64>(2) as u32,
            objsubid: r.get(3),
            granted: r.get(4),
            application_name: r.get(5),
        })
        .collect())
}

/// One line per holder: pid, verdict, state, client, application, query.
pub fn describe_holders(report: &LockReport) -> String {
    report
        .holders
        .iter()
        .filter(|h| !h.is_self)
        .map(|h| {
            format!(
                "pid {} ({}, {} for {:.0} s, from {}, {}): {}",
                h.pid,
                h.verdict.as_str(),
                h.state.as_deref().unwrap_or("?"),
                h.state_age_secs.unwrap_or(0.0),
                h.client_addr.as_deref().unwrap_or("local socket"),
                h.application_name
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .unwrap_or("no application name"),
                h.query.as_deref().unwrap_or("").replace('\n', " ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How a release proceeds.
#[derive(Debug, Clone)]
pub struct ReleaseOptions {
    pub pid: i32,
    /// Also end a holder that is running a statement (an active migration).
    pub force_active: bool,
    pub stale_after_secs: f64,
    /// How long to wait for a cancelled holder to let go before terminating it.
    pub cancel_grace: Duration,
}

/// The one statement that acts: it re-checks, at the moment of acting, that `pid` (started at
/// `backend_start`) still holds this database's migration lock, so a released lock or a reused pid is
/// never signalled.
fn act_sql(func: &str) -> String {
    format!(
        "SELECT {func} FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.pid = $1 AND (CASE WHEN $2::text = '' THEN true ELSE a.backend_start = $2::text::timestamptz END) AND l.locktype = 'advisory' AND l.granted
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = $3::bigint::oid AND l.objid = $4::bigint::oid AND l.objsubid = 1"
    )
}

/// Ends the session holding the Rails migration lock — the only way to free another session's
/// advisory lock. Cancels a running statement first, then terminates; checks privileges first and
/// the lock again right before each signal; verifies the lock is free afterwards.
pub async fn release(db: &Db, opts: &ReleaseOptions, audit_file: Option<std::path::PathBuf>) -> Result<ReleaseOutcome> {
    let report = lock_report(db, &db.database, opts.stale_after_secs).await?;
    let Some(h) = report.holders.iter().find(|h| h.pid == opts.pid) else {
        let holders = if report.held {
            describe_holders(&report)
        } else {
            "nobody: the lock is free".into()
        };
        return Err(Error::Refused(format!(
            "pid {} does not hold the Rails migration lock (held by {holders}); nothing was done",
            opts.pid
        )));
    };
    if h.is_self {
        return Err(Error::Refused("that is this session; it is never ended".into()));
    }
    if h.verdict == HolderVerdict::ActiveMigration && !opts.force_active {
        return Err(Error::Refused(format!(
            "pid {} is running a statement right now (an active migration?): {}. Ending it rolls back its transaction (mid CREATE INDEX CONCURRENTLY it leaves an INVALID index, which the upgrade rebuilds). If its container is gone, pass --force-active.",
            h.pid,
            h.query.as_deref().unwrap_or("?")
        )));
    }
    check_privilege(db, h.pid).await?;
    install_support(db).await?;
    let audit = Audit::new(crate::audit::new_run_id(), audit_file);
    let (classid, objid) = (i64::from(report.classid), i64::from(report.objid));
    let start = h.backend_start.clone().unwrap_or_default();
    let mut actions = Vec::new();
    if h.state.as_deref() == Some("active") {
        let t = Instant::now();
        let sql = act_sql("pg_cancel_backend(l.pid)");
        let done = db.query_opt(&sql, &[&h.pid, &start, &classid, &objid]).await?.is_some();
        audit
            .record(
                db,
                "lock-release",
                &format!("SELECT pg_cancel_backend({})", h.pid),
                None,
                t.elapsed(),
                if done { "ok" } else { "skipped: lock already released" },
            )
            .await?;
        if !done {
            return Ok(ReleaseOutcome {
                pid: h.pid,
                actions,
                lock_free: !lock_report(db, &db.database, opts.stale_after_secs).await?.held,
            });
        }
        actions.push("cancel".to_string());
        // A live client's Rails would now unlock in its ensure block; give it the grace period.
        let deadline = Instant::now() + opts.cancel_grace;
        while Instant::now() < deadline {
            if !still_holds(db, h.pid, &start, classid, objid).await? {
                return Ok(ReleaseOutcome {
                    pid: h.pid,
                    actions,
                    lock_free: true,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let t = Instant::now();
    let sql = act_sql("pg_terminate_backend(l.pid, 5000)");
    let terminated = db
        .query_opt(&sql, &[&h.pid, &start, &classid, &objid])
        .await?
        .map(|r| r.get::<_, bool>(0));
    let outcome = match terminated {
        Some(true) => "ok",
        Some(false) => "timeout: the backend did not exit within 5 s",
        None => "skipped: lock already released",
    };
    audit
        .record(
            db,
            "lock-release",
            &format!("SELECT pg_terminate_backend({}, 5000)", h.pid),
            None,
            t.elapsed(),
            outcome,
        )
        .await?;
    if terminated.is_some() {
        actions.push("terminate".to_string());
    }
    let free = !lock_report(db, &db.database, opts.stale_after_secs).await?.held;
    Ok(ReleaseOutcome {
        pid: h.pid,
        actions,
        lock_free: free,
    })
}

async fn still_holds(db: &Db, pid: i32, start: &str, classid: i64, objid: i64) -> Result<bool> {
    Ok(db
        .query_opt(&act_sql("1"), &[&pid, &start, &classid, &objid])
        .await?
        .is_some())
}

/// PostgreSQL lets a session signal another when it is a superuser, has the same role, or is a member
/// of `pg_signal_backend` (not for superuser backends). Explains exactly what is missing.
async fn check_privilege(db: &Db, pid: i32) -> Result<()> {
    let r = db
        .query_one(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                    pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'),
                    a.usename::text, coalesce((SELECT rolsuper FROM pg_roles WHERE oid = a.usesysid), false),
                    pg_has_role(current_user, a.usesysid, 'MEMBER'), current_user::text
             FROM pg_stat_activity a WHERE a.pid = $1",
            &[&pid],
        )
        .await?;
    let (superuser, signal, holder, holder_super, same, me): (bool, bool, Option<String>, bool, bool, String) =
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
    let holder = holder.unwrap_or_default();
    if superuser || (same && !holder_super) || (signal && !holder_super) {
        return Ok(());
    }
    let (message, fix) = if holder_super {
        (
            format!("the lock holder (pid {pid}) runs as superuser {holder:?}; only a superuser may end it, and {me:?} is not one"),
            "Connect as a superuser (the stock compose's POSTGRES_USER, usually postgres), or stop the container that holds it.".to_string(),
        )
    } else {
        (
            format!("{me:?} may not end pid {pid} of role {holder:?}: that needs the same role, superuser, or membership in pg_signal_backend"),
            format!("As a superuser run: GRANT pg_signal_backend TO {me}; — or connect as {holder:?} or a superuser."),
        )
    };
    Err(Error::Permission { message, fix })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_real_dawarich_logs() {
        // "SELECT pg_try_advisory_lock(1212213197400985920)" in Dawarich issues #192, #828, #2362.
        let k = migration_lock_key("dawarich_development");
        assert_eq!(k, 1212213197400985920);
        assert_eq!(key_parts(k), (282240378, 4280308032));
        let k = migration_lock_key("dawarich_production");
        assert_eq!(k, 2529726080307754440);
        assert_eq!(key_parts(k), (588997751, 2345203144));
        assert_eq!(migration_lock_key("dawarich"), 1300285682869233375);
        assert_eq!(migration_lock_key("dawarich_test"), 5220132320108115585);
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(Some("active"), Some(0.1), 60.0), HolderVerdict::ActiveMigration);
        assert_eq!(verdict(Some("idle"), Some(600.0), 60.0), HolderVerdict::Stale);
        assert_eq!(
            verdict(Some("idle in transaction"), Some(61.0), 60.0),
            HolderVerdict::Stale
        );
        assert_eq!(verdict(Some("idle"), Some(5.0), 60.0), HolderVerdict::Unknown);
        assert_eq!(verdict(None, None, 60.0), HolderVerdict::Unknown);
    }
}
