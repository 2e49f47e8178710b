//! The audit log: every statement that changes anything (locks, repairs, migrations) with time,
//! duration, rows affected and the run id — in `dawarich_doctor.audit_log` inside the database (so it
//! survives with the data) and as JSON lines in a local file. Secrets never reach it: only SQL we
//! generate and counts are recorded.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use dawarich_doctor_model::AuditEntry;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::Result;

/// The SQL that creates our schema: audit log, quarantine function, backfill checkpoints.
pub const SUPPORT_SQL: &str = include_str!("sql/support.sql");

/// Creates (idempotently) the `dawarich_doctor` schema and its objects.
pub async fn install_support(client: &Client) -> Result<()> {
    client.batch_execute(SUPPORT_SQL).await?;
    Ok(())
}

/// A new run id: UTC time plus a random suffix, sortable and readable.
pub fn new_run_id() -> String {
    let now = chrono::Utc::now();
    let salt: u32 = std::process::id() ^ now.timestamp_subsec_nanos();
    format!("{}-{:04x}", now.format("%Y%m%dT%H%M%SZ"), salt & 0xffff)
}

/// The default local audit file: `$DAWARICH_DOCTOR_AUDIT_FILE`, else
/// `$XDG_STATE_HOME/dawarich-doctor/audit.log` (`~/.local/state/…`).
pub fn default_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DAWARICH_DOCTOR_AUDIT_FILE") {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_STATE_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("dawarich-doctor").join("audit.log"))
}

/// One audited action.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    pub run_id: &'a str,
    pub at: String,
    pub action: &'a str,
    pub statement: &'a str,
    pub rows_affected: Option<u64>,
    pub duration_ms: f64,
    pub outcome: &'a str,
}

/// Records entries for one run.
pub struct Audit {
    pub run_id: String,
    file: Option<Mutex<std::fs::File>>,
}

impl Audit {
    /// An audit for `run_id` appending to `file` (created with its folder when missing).
    pub fn new(run_id: String, file: Option<PathBuf>) -> Audit {
        let file = file.and_then(|p| {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match std::fs::OpenOptions::new().create(true).append(true).open(&p) {
                Ok(f) => Some(Mutex::new(f)),
                Err(e) => {
                    log::warn!("cannot open the audit file {}: {e}", p.display());
                    None
                }
            }
        });
        Audit { run_id, file }
    }

    /// Records one statement, in the database (outside any transaction of the caller) and the file.
    pub async fn record(&self, client: &Client, action: &str, statement: &str, rows: Option<u64>, took: Duration, outcome: &str) -> Result<()> {
        let entry = Entry {
            run_id: &self.run_id,
            at: chrono::Utc::now().to_rfc3339(),
            action,
            statement,
            rows_affected: rows,
            duration_ms: took.as_secs_f64() * 1000.0,
            outcome,
        };
        log::info!("audit {action} ({outcome}, {:.0} ms, rows {:?}): {}", entry.duration_ms, rows, first_line(statement));
        if let Some(f) = &self.file {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{}", serde_json::to_string(&entry).unwrap_or_default());
            }
        }
        client
            .execute(
                "INSERT INTO dawarich_doctor.audit_log (run_id, action, statement, rows_affected, duration_ms, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&self.run_id, &action, &statement, &rows.map(|r| r as i64), &entry.duration_ms, &outcome],
            )
            .await?;
        Ok(())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Reads the audit log (one run, or all), oldest first.
pub async fn read(client: &Client, run_id: Option<&str>) -> Result<Vec<AuditEntry>> {
    if client.query_one("SELECT to_regclass('dawarich_doctor.audit_log') IS NULL", &[]).await?.get::<_, bool>(0) {
        return Ok(vec![]);
    }
    let rows = client
        .query(
            "SELECT run_id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), action, statement, rows_affected, duration_ms, outcome
             FROM dawarich_doctor.audit_log WHERE $1::text IS NULL OR run_id = $1 ORDER BY id",
            &[&run_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry { run_id: r.get(0), at: r.get(1), action: r.get(2), statement: r.get(3), rows_affected: r.get(4), duration_ms: r.get(5), outcome: r.get(6) })
        .collect())
}
