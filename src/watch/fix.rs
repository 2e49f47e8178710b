//! Fixes for what a failed start left that no catalog check knows: duplicates under a unique index a
//! migration of any release builds (the extra rows quarantined, undoable, keeping the highest or the
//! lowest id of each group), and an index a half-applied no-transaction migration left (dropped,
//! its definition kept in the audit log, so the rerun builds it again). A table or column is never
//! dropped.

use dawarich_doctor_model::{ExistingKind, Failure};

use crate::audit::{install_support, new_run_id, Audit};
use crate::connect::{connect, ConnectOptions};
use crate::error::{Error, Result};
use crate::unique::{drop_index, index_of, Duplicates, Keep};

/// What a fix did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixed {
    /// The run to undo the quarantine with.
    pub run_id: String,
    /// Rows moved to `dawarich_doctor.quarantine_<table>`.
    pub quarantined: u64,
    /// The index dropped (its definition is in the audit log).
    pub dropped: Option<String>,
}

/// Fixes `failure` when it is duplicates under a unique index or an index left half-built; anything
/// else is refused with what to do instead (checks with repairs have their own, the lock its release).
pub async fn fix(
    conn: &ConnectOptions,
    failure: &Failure,
    keep: Keep,
    audit_file: Option<std::path::PathBuf>,
) -> Result<Fixed> {
    let db = connect(conn).await?;
    install_support(&db).await?;
    let run_id = new_run_id();
    db.execute("SELECT set_config('dawarich_doctor.run_id', $1, false)", &[&run_id])
        .await?;
    let audit = Audit::new(run_id.clone(), audit_file);
    let mut fixed = Fixed {
        run_id,
        quarantined: 0,
        dropped: None,
    };
    match failure {
        Failure::UniqueViolation {
            index, table, columns, ..
        } => {
            let built = match index {
                Some(i) => index_of(&db, i).await?,
                None => None,
            };
            let dups = match (&built, table) {
                (Some(b), _) => Duplicates::of(b),
                (None, Some(t)) if !columns.is_empty() => Some(Duplicates {
                    table: t,
                    columns,
                    predicate: None,
                }),
                _ => None,
            }
            .ok_or_else(|| {
                Error::Refused(
                    "the failure names neither the index's table nor its columns; repair the duplicates by hand".into(),
                )
            })?;
            fixed.quarantined = dups.quarantine(&db, &audit, keep, index.as_deref()).await?;
            if let Some(b) = built.filter(|b| !b.valid) {
                drop_index(&db, &audit, &b).await?;
                fixed.dropped = Some(b.name);
            }
        }
        Failure::AlreadyExists {
            kind: ExistingKind::Index | ExistingKind::Relation,
            name,
            ..
        } => match index_of(&db, name).await? {
            Some(b) => {
                drop_index(&db, &audit, &b).await?;
                fixed.dropped = Some(b.name);
            }
            None => {
                return Err(Error::Refused(format!(
                    "{name} is not an index: a table is never dropped here; look at it and what the migration creates"
                )))
            }
        },
        Failure::AlreadyExists { kind, name, .. } => {
            return Err(Error::Refused(format!(
                "the {} {name} is never dropped by Dawarich Doctor (it may hold data); look at it and what the migration creates",
                kind.as_str()
            )))
        }
        other => {
            return Err(Error::Refused(format!(
                "no fix of this kind for: {} (a check's repair or the lock release fixes it, if any)",
                other.summary()
            )))
        }
    }
    Ok(fixed)
}
