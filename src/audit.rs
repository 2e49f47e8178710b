//! The audit log: every statement that changes anything (locks, repairs, migrations) with time,
//! duration, rows affected and the run id — in `dawarich_doctor.audit_log` inside the database (so it
//! survives with the data) and as JSON lines in a local file. Secrets never reach it: only SQL we
//! generate and counts are recorded.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use dawarich_doctor_model::AuditEntry;
use serde::Serialize;
use tokio_postgres::Client;

use crate::error::{Error, Result};

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
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("dawarich-doctor").join("audit.log"))
}

/// One audited action: a line of the local audit file and of an export.
#[derive(Debug, Clone, Serialize)]
pub struct Entry<'a> {
    pub run_id: &'a str,
    pub at: &'a str,
    pub action: &'a str,
    pub statement: &'a str,
    pub rows_affected: Option<i64>,
    pub duration_ms: Option<f64>,
    pub outcome: &'a str,
}

impl<'a> From<&'a AuditEntry> for Entry<'a> {
    fn from(e: &'a AuditEntry) -> Self {
        Entry {
            run_id: &e.run_id,
            at: &e.at,
            action: &e.action,
            statement: &e.statement,
            rows_affected: e.rows_affected,
            duration_ms: e.duration_ms,
            outcome: &e.outcome,
        }
    }
}

/// Records entries for one run.
pub struct Audit {
    pub run_id: String,
    file: Option<File>,
}

/// The local audit file, or why it cannot be opened (said on the first entry).
struct File {
    path: PathBuf,
    opened: std::result::Result<Mutex<std::fs::File>, String>,
}

impl Audit {
    /// An audit for `run_id` appending to `file` (created with its folder when missing).
    pub fn new(run_id: String, file: Option<PathBuf>) -> Audit {
        let file = file.map(|path| {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let opened = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map(Mutex::new)
                .map_err(|e| e.to_string());
            File { path, opened }
        });
        Audit { run_id, file }
    }

    /// Records one statement, in the database (outside any transaction of the caller), then in the
    /// file. A file that cannot be written (a full disk) stops the caller there: what ran before is
    /// recorded in both places, and the database's log has this entry too.
    pub async fn record(
        &self,
        client: &Client,
        action: &str,
        statement: &str,
        rows: Option<u64>,
        took: Duration,
        outcome: &str,
    ) -> Result<()> {
        let at = chrono::Utc::now().to_rfc3339();
        let (rows, duration_ms) = (rows.map(|r| r as i64), took.as_secs_f64() * 1000.0);
        let entry = Entry {
            run_id: &self.run_id,
            at: &at,
            action,
            statement,
            rows_affected: rows,
            duration_ms: Some(duration_ms),
            outcome,
        };
        log::info!(
            "audit {action} ({outcome}, {duration_ms:.0} ms, rows {rows:?}): {}",
            first_line(statement)
        );
        client
            .execute(
                "INSERT INTO dawarich_doctor.audit_log (run_id, action, statement, rows_affected, duration_ms, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&self.run_id, &action, &statement, &rows, &duration_ms, &outcome],
            )
            .await?;
        if let Some(f) = &self.file {
            let line = serde_json::to_string(&entry).unwrap_or_default() + "\n";
            let written = match &f.opened {
                Ok(file) => file
                    .lock()
                    .map_err(|_| "poisoned".to_string())
                    .and_then(|mut file| file.write_all(line.as_bytes()).map_err(|e| e.to_string())),
                Err(e) => Err(e.clone()),
            };
            written.map_err(|detail| Error::AuditFile {
                path: f.path.display().to_string(),
                detail,
            })?;
        }
        Ok(())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Reads the audit log (one run, or all), oldest first.
pub async fn read(client: &Client, run_id: Option<&str>) -> Result<Vec<AuditEntry>> {
    if client
        .query_one("SELECT to_regclass('dawarich_doctor.audit_log') IS NULL", &[])
        .await?
        .get::<_, bool>(0)
    {
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
        .map(|r| AuditEntry {
            run_id: r.get(0),
            at: r.get(1),
            action: r.get(2),
            statement: r.get(3),
            rows_affected: r.get(4),
            duration_ms: r.get(5),
            outcome: r.get(6),
        })
        .collect())
}

/// Writes `entries` as JSON lines, the local audit file's format; returns how many were written.
pub fn write_jsonl(entries: &[AuditEntry], mut out: impl Write) -> std::io::Result<usize> {
    for e in entries {
        serde_json::to_writer(&mut out, &Entry::from(e))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(entries.len())
}

/// Exports `entries` to `path` (replacing it) as JSON lines; returns how many were written.
pub fn export(path: &Path, entries: &[AuditEntry]) -> Result<usize> {
    Ok(write_jsonl(
        entries,
        std::io::BufWriter::new(std::fs::File::create(path)?),
    )?)
}

/// The default name of an export: `dawarich-doctor-audit-<run or all>-<UTC date>.jsonl`.
pub fn export_file_name(run: Option<&str>) -> String {
    file_name_on(run, chrono::Utc::now().date_naive())
}

fn file_name_on(run: Option<&str>, date: chrono::NaiveDate) -> String {
    let run: String = run
        .filter(|r| !r.is_empty())
        .unwrap_or("all")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    format!("dawarich-doctor-audit-{run}-{}.jsonl", date.format("%Y-%m-%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: &str, action: &str, rows: Option<i64>) -> AuditEntry {
        AuditEntry {
            run_id: run.into(),
            at: "2025-03-01T10:00:00.123Z".into(),
            action: action.into(),
            statement: "UPDATE points SET user_id = 1\nWHERE id = 2".into(),
            rows_affected: rows,
            duration_ms: Some(1.5),
            outcome: "ok".into(),
        }
    }

    #[test]
    fn an_export_is_one_json_object_per_entry_with_the_audit_files_keys() {
        let entries = [entry("r1", "repair", Some(4)), entry("r1", "undo", None)];
        let mut out = Vec::new();
        assert_eq!(write_jsonl(&entries, &mut out).unwrap(), 2);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(
            lines.len(),
            2,
            "a statement's newline stays inside its JSON string: {text}"
        );
        assert_eq!(lines[0]["run_id"], "r1");
        assert_eq!(lines[0]["action"], "repair");
        assert_eq!(lines[0]["rows_affected"], 4);
        assert_eq!(lines[0]["duration_ms"], 1.5);
        assert_eq!(lines[0]["statement"], "UPDATE points SET user_id = 1\nWHERE id = 2");
        assert!(lines[1]["rows_affected"].is_null());
        let keys: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7, "{keys:?}");
        assert_eq!(write_jsonl(&[], &mut Vec::new()).unwrap(), 0);
    }

    #[test]
    fn export_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "old\nold\nold\n").unwrap();
        assert_eq!(export(&path, &[entry("r2", "migrate", Some(0))]).unwrap(), 1);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        assert!(export(&dir.path().join("missing/dir/x.jsonl"), &[]).is_err());
    }

    #[test]
    fn the_default_file_name_names_the_run_and_the_date() {
        let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        assert_eq!(
            file_name_on(Some("20250301T100000Z-1a2b"), day),
            "dawarich-doctor-audit-20250301T100000Z-1a2b-2025-03-01.jsonl"
        );
        assert_eq!(file_name_on(None, day), "dawarich-doctor-audit-all-2025-03-01.jsonl");
        assert_eq!(
            file_name_on(Some(""), day),
            "dawarich-doctor-audit-all-2025-03-01.jsonl"
        );
        assert_eq!(
            file_name_on(Some("../x y"), day),
            "dawarich-doctor-audit-___x_y-2025-03-01.jsonl"
        );
        assert!(export_file_name(None).starts_with("dawarich-doctor-audit-all-"));
    }
}
