//! From a failed start to what fixes it: each recognised failure is matched with what the database
//! shows now (the lock holder, the rows a check counts, what a half-applied migration left) and the
//! repair that fixes it; anything else is reported verbatim with what to look at, never a guess.

use dawarich_doctor_model::{Advice, CheckId, ExistingKind, Failure};

use crate::connect::Db;
use crate::error::Result;

/// What the database shows about `failure`, and the fix.
pub async fn advise(db: &Db, failure: &Failure) -> Result<Advice> {
    let at = |m: &Option<String>| m.as_ref().map(|m| format!(" in {m}")).unwrap_or_default();
    Ok(match failure {
        Failure::LockHeld => {
            let report = crate::locks::lock_report(db, &db.database, crate::locks::STALE_AFTER_SECS).await?;
            let holders = crate::locks::describe_holders(&report);
            Advice {
                message: if report.holders.iter().any(|h| !h.is_self) {
                    format!("Rails' migration lock is held by {holders}.")
                } else {
                    "Rails' migration lock was held when Dawarich started; it is free now.".into()
                },
                fix: "End a stale holder (`dawarich-doctor locks`, or Release in the app), make sure only one Dawarich app container runs, then restart it.".into(),
                check: None,
            }
        }
        Failure::UserMustExist { migration } => {
            check_advice(db, CheckId::PointsWithoutUser, &format!("Points without a live owner failed a data migration{}.", at(migration))).await?
        }
        Failure::NilSettings { migration } => {
            check_advice(db, CheckId::UsersNullSettings, &format!("A settings migration{} read users whose settings are NULL.", at(migration))).await?
        }
        Failure::UniqueViolation { migration, index, key, .. } => Advice {
            message: format!(
                "Rows violate the unique index {}{} (duplicated key {}).",
                index.as_deref().unwrap_or("being built"),
                at(migration),
                key.as_deref().unwrap_or("not shown")
            ),
            fix: "Keep one row of each duplicated group (Dawarich's own dedupe migrations keep the highest id) after copying the others aside, drop the INVALID index the failed build left, then restart Dawarich.".into(),
            check: Some(CheckId::InvalidIndexes),
        },
        Failure::AlreadyExists { migration, kind, name, .. } => Advice {
            message: format!(
                "The {} {name} already exists: a migration{} that runs without a transaction died half-way and left it.",
                kind.as_str(),
                at(migration)
            ),
            fix: match kind {
                ExistingKind::Index | ExistingKind::Relation => format!("Drop the index {name} (its definition is kept in the audit log) so that the rerun builds it again, then restart Dawarich."),
                _ => format!("Look at the {} {name}: it is never dropped while it holds data; if it is empty and was made by the failed migration, drop it by hand, then restart Dawarich.", kind.as_str()),
            },
            check: None,
        },
        Failure::Unknown { migration, statement, error, .. } => Advice {
            message: format!(
                "Dawarich failed{}{}: {error}",
                at(migration),
                statement.as_ref().map(|s| format!(" at `{s}`")).unwrap_or_default()
            ),
            fix: "Dawarich Doctor does not recognise this error. Look at the migration's file in the app container (db/migrate, db/data) and the rows or objects the error names; the log excerpt is above.".into(),
            check: None,
        },
    })
}

/// A failure that one of our checks counts: its rows now, and its repair.
async fn check_advice(db: &Db, id: CheckId, what: &str) -> Result<Advice> {
    let preview = crate::repair::preview(db, id).await?;
    let rows = preview.count;
    Ok(Advice {
        message: format!("{what} {rows} rows ({}) have that problem now.", preview.title),
        fix: format!(
            "Repair them (`dawarich-doctor repair --check {}`, or Repair in the app: previewed first, undoable), then restart Dawarich.",
            id.as_str()
        ),
        check: Some(id),
    })
}
