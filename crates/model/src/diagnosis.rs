use serde::{Deserialize, Serialize};

/// The result of one read-only diagnosis pass. Its JSON form is documented in the README and stable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub server: ServerInfo,
    pub dawarich: DawarichState,
    pub lock: LockReport,
    /// Advisory locks that are not the Rails migration lock (never touched by us).
    pub other_advisory_locks: Vec<AdvisoryLock>,
    pub checks: Vec<Check>,
    /// Milliseconds the whole pass took.
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// e.g. `15.18`
    pub version: String,
    pub version_num: i32,
    /// `None` when the extension is not installed in this database.
    pub postgis_version: Option<String>,
    /// Whether the server could install PostGIS (`pg_available_extensions`).
    pub postgis_available: bool,
    pub database: String,
    pub database_size_bytes: i64,
    pub user: String,
    pub privileges: Privileges,
    pub in_recovery: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privileges {
    pub superuser: bool,
    /// Member of `pg_signal_backend` (may end other roles' sessions, except superusers').
    pub signal_backend: bool,
    /// Owns the Dawarich tables (`points`, `users`, …).
    pub owns_tables: bool,
    /// May create extensions (superuser or database owner on PG 13+ for trusted ones).
    pub can_create_extension: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DawarichState {
    /// The newest Dawarich release whose migrations are all applied; `None` when none matches.
    pub release: Option<String>,
    /// Every release with exactly this set of applied versions (first and last).
    pub release_range: Option<(String, String)>,
    pub schema_versions: Vec<String>,
    pub data_versions: Vec<String>,
    /// Applied versions that no Dawarich release (in our catalog) has a file for.
    pub stray_versions: Vec<String>,
    /// Versions newer than the newest the catalog knows: a newer Dawarich ran here.
    pub unknown_newer_versions: Vec<String>,
    /// Catalog versions of the newest release that are not applied yet.
    pub pending_schema: Vec<String>,
    pub pending_data: Vec<String>,
    /// `ar_internal_metadata.environment`
    pub environment: Option<String>,
    pub newest_known_release: String,
}

/// The Rails migration advisory lock of this database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockReport {
    /// `2053462845 × CRC-32(current_database())`
    pub key: i64,
    pub classid: u32,
    pub objid: u32,
    pub held: bool,
    pub holders: Vec<LockHolder>,
}

/// A session holding the migration lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: i32,
    pub state: Option<String>,
    pub client_addr: Option<String>,
    pub application_name: Option<String>,
    pub user: Option<String>,
    pub backend_start: Option<String>,
    /// Seconds since the session's state last changed.
    pub state_age_secs: Option<f64>,
    /// The running or last query, truncated.
    pub query: Option<String>,
    pub verdict: HolderVerdict,
    /// True when the holder is the session running this diagnosis.
    pub is_self: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HolderVerdict {
    /// Running a statement right now: a migration is (or was, for a dead client) in progress.
    ActiveMigration,
    /// Idle or idle in transaction for longer than the threshold: nothing is being done.
    Stale,
    /// Neither (e.g. idle for a short time).
    Unknown,
}

impl HolderVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            HolderVerdict::ActiveMigration => "active-migration",
            HolderVerdict::Stale => "stale",
            HolderVerdict::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryLock {
    pub pid: i32,
    pub classid: u32,
    pub objid: u32,
    pub objsubid: i16,
    pub granted: bool,
    pub application_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Nothing wrong.
    Ok,
    /// Rows or objects that will make a migration fail.
    Problem,
    /// Worth knowing, does not block.
    Warning,
    /// The schema does not have what the check looks at (e.g. no `lonlat` before 0.25).
    NotApplicable,
    /// Not run (e.g. `--quick` skipped a whole-table scan).
    Skipped,
}

/// One blocker check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub id: crate::CheckId,
    pub title: String,
    pub status: CheckStatus,
    /// Rows or objects found; `None` when not applicable or skipped.
    pub count: Option<i64>,
    /// True when `count` is an estimate from catalog statistics.
    pub estimated: bool,
    /// A few examples (ids, names), already rendered.
    pub sample: Vec<String>,
    /// Pending migrations that fail on what was found (none fixes it before them).
    pub blocks: Vec<String>,
    pub detail: String,
    pub elapsed_ms: u64,
    /// True when the check had to scan a whole table.
    pub full_scan: bool,
    /// What Dawarich's migrations do with what this check finds, for this database.
    #[serde(default)]
    pub effects: Vec<MigrationEffect>,
}

/// What one Dawarich migration does with the rows a check finds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationEffect {
    pub version: String,
    pub effect: Effect,
    /// What Dawarich does, in words (for `skips`), or the error it stops with (for `fails`).
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// The migration fails on them: the upgrade stops there.
    Fails,
    /// The migration fixes them (when it runs before one that fails).
    Fixes,
    /// The migration leaves them and goes on.
    Skips,
}

impl Check {
    /// A check that has found nothing (yet).
    pub fn new(id: crate::CheckId, title: impl Into<String>) -> Check {
        Check {
            id,
            title: title.into(),
            status: CheckStatus::Ok,
            count: Some(0),
            estimated: false,
            sample: vec![],
            blocks: vec![],
            detail: String::new(),
            elapsed_ms: 0,
            full_scan: false,
            effects: vec![],
        }
    }

    /// The migrations of `order` (the versions an upgrade runs, in its order) that fail on what this
    /// check found, because no migration that fixes it runs before them.
    pub fn blocking(&self, order: &[String]) -> Vec<String> {
        let at = |v: &str| order.iter().position(|o| o == v);
        let first_fix = self
            .effects
            .iter()
            .filter(|e| e.effect == Effect::Fixes)
            .filter_map(|e| at(&e.version))
            .min();
        let mut fails: Vec<(usize, &String)> = self
            .effects
            .iter()
            .filter(|e| e.effect == Effect::Fails)
            .filter_map(|e| Some((at(&e.version)?, &e.version)))
            .filter(|(i, _)| first_fix.is_none_or(|f| f > *i))
            .collect();
        fails.sort();
        fails.into_iter().map(|(_, v)| v.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(version: &str, effect: Effect) -> MigrationEffect {
        MigrationEffect {
            version: version.into(),
            effect,
            note: String::new(),
        }
    }

    #[test]
    fn a_fix_that_runs_first_unblocks_only_what_runs_after_it() {
        let c = Check {
            status: CheckStatus::Problem,
            count: Some(1),
            effects: vec![
                effect("3", Effect::Fails),
                effect("1", Effect::Fails),
                effect("2", Effect::Fixes),
                effect("9", Effect::Fails),
            ],
            ..Check::new(crate::CheckId::Postgis, "")
        };
        let order = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(c.blocking(&order(&["1", "2", "3"])), vec!["1".to_string()]);
        assert_eq!(c.blocking(&order(&["2", "1", "3"])), Vec::<String>::new());
        assert_eq!(c.blocking(&order(&["3", "1"])), vec!["3".to_string(), "1".to_string()]);
        assert_eq!(c.blocking(&order(&[])), Vec::<String>::new());
    }
}
