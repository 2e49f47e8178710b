//! Fixes for what a failed start left that no catalog check knows: duplicates under a unique index a
//! migration of any release builds (the extra rows quarantined, undoable, keeping the highest or the
//! lowest id of each group), and an index a half-applied no-transaction migration left (dropped,
//! its definition kept in the audit log, so the rerun builds it again). A table or column is never
//! dropped.

use std::time::Instant;

use dawarich_doctor_model::{ExistingKind, Failure};

use crate::audit::{install_support, new_run_id, Audit};
use crate::connect::{connect, ConnectOptions, Db};
use crate::error::{Error, Result};
use crate::schema::quote_ident;

/// Which row of a duplicated group stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The newest (highest id): what Dawarich's own dedupe migrations keep.
    Highest,
    Lowest,
}

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
            let (table, columns) = match (&built, table) {
                (Some(b), _) => (b.table.clone(), b.columns.clone()),
                (None, Some(t)) if !columns.is_empty() => (t.clone(), columns.clone()),
                _ => {
                    return Err(Error::Refused(
                        "the failure names neither the index's table nor its columns; repair the duplicates by hand".into(),
                    ))
                }
            };
            fixed.quarantined = quarantine_duplicates(&db, &audit, &table, &columns, keep, index.as_deref()).await?;
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

/// An index by name in the current schema: its table, columns, validity and definition.
#[derive(Debug, Clone)]
struct Index {
    name: String,
    table: String,
    columns: Vec<String>,
    valid: bool,
    definition: String,
}

async fn index_of(db: &Db, name: &str) -> Result<Option<Index>> {
    let row = db
        .query_opt(
            "SELECT c.relname::text, t.relname::text, i.indisvalid, pg_get_indexdef(i.indexrelid),
                    ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
             WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace",
            &[&name],
        )
        .await?;
    Ok(row.map(|r| Index {
        name: r.get(0),
        table: r.get(1),
        valid: r.get(2),
        definition: r.get(3),
        columns: r.get(4),
    }))
}

/// Moves every row but the kept one of each group with equal `columns` (NULLs never collide under a
/// unique index) into quarantine.
async fn quarantine_duplicates(
    db: &Db,
    audit: &Audit,
    table: &str,
    columns: &[String],
    keep: Keep,
    index: Option<&str>,
) -> Result<u64> {
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let order = match keep {
        Keep::Highest => "id DESC",
        Keep::Lowest => "id",
    };
    let condition = format!(
        "id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY {} ORDER BY {order}) AS n FROM {} WHERE {}) d WHERE n > 1)",
        cols.join(", "),
        quote_ident(table),
        cols.iter().map(|c| format!("{c} IS NOT NULL")).collect::<Vec<_>>().join(" AND ")
    );
    let reason = format!(
        "duplicate on ({}) under unique index {}",
        columns.join(", "),
        index.unwrap_or("being built")
    );
    let sql = format!(
        "SELECT dawarich_doctor.quarantine_delete('{}'::regclass, $1, $2)",
        quote_ident(table).replace('\'', "''")
    );
    let t = Instant::now();
    let n: i64 = db.query_one(&sql, &[&condition, &reason]).await?.get(0);
    audit
        .record(
            db,
            "repair",
            &format!("quarantine_delete({table}, {condition}, {reason})"),
            Some(n as u64),
            t.elapsed(),
            "ok",
        )
        .await?;
    Ok(n as u64)
}

/// Drops an index; its definition goes to the audit log first (to build it again by hand).
async fn drop_index(db: &Db, audit: &Audit, index: &Index) -> Result<()> {
    let t = Instant::now();
    let sql = format!("DROP INDEX CONCURRENTLY IF EXISTS {}", quote_ident(&index.name));
    db.batch_execute(&sql).await?;
    audit
        .record(
            db,
            "repair",
            &format!("{sql}; -- was: {}", index.definition),
            None,
            t.elapsed(),
            "ok",
        )
        .await
}
