//! Duplicates under a unique index of any release: the index as the database has it, how many rows
//! a build of it fails on, and moving them into quarantine (undoable) keeping one row per group.

use std::time::Instant;

use crate::audit::Audit;
use crate::connect::Db;
use crate::error::Result;
use crate::schema::quote_ident;

/// Which row of a duplicated group stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The newest (highest id): what Dawarich's own dedupe migrations keep.
    Highest,
    Lowest,
}

/// An index of the current schema.
#[derive(Debug, Clone)]
pub struct Index {
    pub name: String,
    pub table: String,
    /// Its columns in order; empty when it has an expression (then its key is not a column list).
    pub columns: Vec<String>,
    pub unique: bool,
    pub valid: bool,
    /// `pg_get_indexdef`, to build it again.
    pub definition: String,
    /// The WHERE of a partial index.
    pub predicate: Option<String>,
}

const INDEXES: &str =
    "SELECT c.relname::text, t.relname::text, i.indisunique, i.indisvalid, pg_get_indexdef(i.indexrelid),
            pg_get_expr(i.indpred, i.indrelid),
            CASE WHEN i.indexprs IS NULL THEN ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) ELSE '{}' END
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
     WHERE c.relnamespace = current_schema()::regnamespace";

fn index(r: &tokio_postgres::Row) -> Index {
    Index {
        name: r.get(0),
        table: r.get(1),
        unique: r.get(2),
        valid: r.get(3),
        definition: r.get(4),
        predicate: r.get(5),
        columns: r.get(6),
    }
}

/// An index by name.
pub async fn index_of(db: &Db, name: &str) -> Result<Option<Index>> {
    let row = db.query_opt(&format!("{INDEXES} AND c.relname = $1"), &[&name]).await?;
    Ok(row.as_ref().map(index))
}

/// Every INVALID index (left by a failed or interrupted `CREATE INDEX CONCURRENTLY`), by name.
pub async fn invalid(db: &Db) -> Result<Vec<Index>> {
    let rows = db
        .query(&format!("{INDEXES} AND NOT i.indisvalid ORDER BY 1"), &[])
        .await?;
    Ok(rows.iter().map(index).collect())
}

/// The rows of `table` that share `columns` (none NULL: NULLs never collide under a unique index)
/// with a row that stays, within `predicate` for a partial index.
pub struct Duplicates<'a> {
    pub table: &'a str,
    pub columns: &'a [String],
    pub predicate: Option<&'a str>,
}

impl<'a> Duplicates<'a> {
    /// The duplicates of `index`; `None` for an expression index (its key is no column list).
    pub fn of(index: &'a Index) -> Option<Duplicates<'a>> {
        (!index.columns.is_empty()).then_some(Duplicates {
            table: &index.table,
            columns: &index.columns,
            predicate: index.predicate.as_deref(),
        })
    }

    /// `id IN (…)`: every row but the kept one of each group.
    fn condition(&self, keep: Keep) -> String {
        let cols: Vec<String> = self.columns.iter().map(|c| quote_ident(c)).collect();
        let order = match keep {
            Keep::Highest => "id DESC",
            Keep::Lowest => "id",
        };
        let mut filter: Vec<String> = cols.iter().map(|c| format!("{c} IS NOT NULL")).collect();
        filter.extend(self.predicate.map(|p| format!("({p})")));
        format!(
            "id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY {} ORDER BY {order}) AS n FROM {} WHERE {}) d WHERE n > 1)",
            cols.join(", "),
            quote_ident(self.table),
            filter.join(" AND ")
        )
    }

    /// How many rows a build of the unique index fails on (all but one per group). Read-only.
    pub async fn count(&self, db: &Db) -> Result<i64> {
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {}",
            quote_ident(self.table),
            self.condition(Keep::Highest)
        );
        Ok(db.query_one(&sql, &[]).await?.get(0))
    }

    /// Moves every row but the kept one of each group into `dawarich_doctor.quarantine_<table>`
    /// (undoable with the audit run); returns how many.
    pub async fn quarantine(&self, db: &Db, audit: &Audit, keep: Keep, index: Option<&str>) -> Result<u64> {
        let condition = self.condition(keep);
        let reason = format!(
            "duplicate on ({}) under unique index {}",
            self.columns.join(", "),
            index.unwrap_or("being built")
        );
        let sql = format!(
            "SELECT dawarich_doctor.quarantine_delete('{}'::regclass, $1, $2)",
            quote_ident(self.table).replace('\'', "''")
        );
        let t = Instant::now();
        let n: i64 = db.query_one(&sql, &[&condition, &reason]).await?.get(0);
        audit
            .record(
                db,
                "repair",
                &format!("quarantine_delete({}, {condition}, {reason})", self.table),
                Some(n as u64),
                t.elapsed(),
                "ok",
            )
            .await?;
        Ok(n as u64)
    }
}

/// Drops an index; its definition goes to the audit log with it (to build it again by hand).
pub async fn drop_index(db: &Db, audit: &Audit, index: &Index) -> Result<()> {
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
