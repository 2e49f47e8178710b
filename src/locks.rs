//! The Rails migration advisory lock: its key, who holds it, and (with care) ending a stale holder.

use dawarich_doctor_model::{AdvisoryLock, HolderVerdict, LockHolder, LockReport};

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
       to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
       extract(epoch FROM clock_timestamp() - a.state_change)::float8,
       left(a.query, 500), l.pid = pg_backend_pid()
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1
ORDER BY l.pid";

/// Reads who holds this database's migration lock.
pub async fn lock_report(client: &tokio_postgres::Client, database: &str, stale_after_secs: f64) -> Result<LockReport, tokio_postgres::Error> {
    let key = migration_lock_key(database);
    let (classid, objid) = key_parts(key);
    let rows = client.query(HOLDERS_SQL, &[&i64::from(classid), &i64::from(objid)]).await?;
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
    Ok(LockReport { key, classid, objid, held: !holders.is_empty(), holders })
}

/// Every other advisory lock in this database (Dawarich's jobs take their own): listed, never touched.
pub async fn other_advisory_locks(client: &tokio_postgres::Client, database: &str) -> Result<Vec<AdvisoryLock>, tokio_postgres::Error> {
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
                h.application_name.as_deref().filter(|a| !a.is_empty()).unwrap_or("no application name"),
                h.query.as_deref().unwrap_or("").replace('\n', " ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
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
        assert_eq!(verdict(Some("idle in transaction"), Some(61.0), 60.0), HolderVerdict::Stale);
        assert_eq!(verdict(Some("idle"), Some(5.0), 60.0), HolderVerdict::Unknown);
        assert_eq!(verdict(None, None, 60.0), HolderVerdict::Unknown);
    }
}
