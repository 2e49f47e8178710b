use serde::{Deserialize, Serialize};

/// How many rows one rule of a strategy resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    pub description: String,
    pub count: i64,
}

/// One way to repair a check's rows, previewed before anything changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategyPreview {
    pub name: crate::StrategyId,
    pub description: String,
    /// Needs `--user ID` (assign to a chosen user).
    pub needs_user: bool,
    pub rules: Vec<RuleCount>,
    /// The statements it runs (each batched by primary-key ranges).
    pub sql: Vec<String>,
}

/// Everything a repair would do for one check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairPreview {
    pub check: crate::CheckId,
    pub title: String,
    /// Rows (or objects) the check finds now.
    pub count: i64,
    /// A few of them, rendered.
    pub sample: Vec<String>,
    pub strategies: Vec<StrategyPreview>,
}

impl RepairPreview {
    /// Rows strategy `name` resolves (its "unresolved" rule excluded); `None` without that strategy.
    pub fn resolves(&self, name: crate::StrategyId) -> Option<i64> {
        self.strategies
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.rules.iter().filter(|r| r.rule != "unresolved").map(|r| r.count).sum())
    }
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairOutcome {
    pub run_id: String,
    pub check: crate::CheckId,
    pub strategy: crate::StrategyId,
    pub rules: Vec<RuleCount>,
    /// Rows copied into `dawarich_doctor.quarantine_*` (restorable with undo).
    pub quarantined: i64,
    pub longest_transaction_ms: u64,
    pub elapsed_ms: u64,
}

/// What `undo` put back, per table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoRow {
    pub table: String,
    /// Updated rows set back to their old values.
    pub reverted: i64,
    /// Quarantined rows inserted back.
    pub restored: i64,
    /// Quarantined rows whose key is taken meanwhile (left in quarantine).
    pub skipped: i64,
}

/// What releasing the migration lock did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseOutcome {
    pub pid: i32,
    /// `cancel`, `terminate` in the order done.
    pub actions: Vec<String>,
    pub lock_free: bool,
}

/// One entry of the audit log, as stored in `dawarich_doctor.audit_log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub run_id: String,
    /// UTC, RFC 3339.
    pub at: String,
    /// `lock`, `lock-release`, `migrate`, `drift-repair`, `repair`, `undo`, …
    pub action: String,
    pub statement: String,
    pub rows_affected: Option<i64>,
    pub duration_ms: Option<f64>,
    /// `ok`, `failed`, `cancelled`, or why it was skipped.
    pub outcome: String,
}

/// Where an export of the audit log went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditExport {
    pub path: String,
    pub entries: usize,
}
