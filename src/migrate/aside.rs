//! Indexes set aside during a walk while Dawarich is stopped: a walk that rewrites most rows of a
//! table adds an entry to every index of the table for each row it changes, which costs more than
//! building the index again once the rows are written. The table's plain indexes (not its primary
//! key, no unique index, none of a constraint) are dropped in one transaction that records how to
//! create each again in `dawarich_doctor.index_aside`; the walk then commits its ranges as usual,
//! and each index is created again in a transaction that removes its record. An interrupted walk
//! leaves the records: the next run finishes the walk and builds them. Unique indexes stay in place,
//! so a duplicate still fails the row that makes it, never a build after the rows are committed.

use crate::connect::Db;
use crate::error::Result;

/// An index dropped for the walk: its name, its schema-qualified name, and the statement that
/// creates it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Aside {
    pub name: String,
    pub qualified: String,
    pub create: String,
}

/// The indexes of `table` that are rebuilt exactly from `pg_get_indexdef`: valid, not the primary
/// key, not unique, no constraint's (exclusion, or referenced by a foreign key) and with nothing else
/// attached that the definition leaves out (an object depending on it, a comment, a tablespace, a per-column
/// statistics target, the table's CLUSTER or replica-identity index, an extension's member, a
/// partitioned index or one of its parts), and owned by a role we act as.
const CANDIDATES: &str = "
SELECT ic.relname::text, format('%I.%I', n.nspname, ic.relname), pg_get_indexdef(i.indexrelid)
FROM pg_index AS i
JOIN pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_namespace AS n ON n.oid = ic.relnamespace
WHERE i.indrelid = $1::text::regclass
  AND i.indisvalid AND i.indisready AND i.indislive
  AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = ic.oid)
  AND NOT i.indisclustered AND NOT i.indisreplident
  AND ic.reltablespace = 0
  AND obj_description(ic.oid, 'pg_class') IS NULL
  AND pg_has_role(ic.relowner, 'USAGE')
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = ic.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_depend AS d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = ic.oid AND d.deptype = 'e')
  AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = ic.oid AND a.attstattarget >= 0)
  AND NOT EXISTS (SELECT 1 FROM pg_inherits AS h WHERE ic.oid IN (h.inhrelid, h.inhparent))
ORDER BY ic.relname";

/// Drops the indexes of `table` that can be rebuilt exactly and records how to create them again,
/// inside the caller's transaction; returns them.
pub(super) async fn set_aside(db: &Db, table: &str) -> Result<Vec<Aside>> {
    let aside: Vec<Aside> = db.query(CANDIDATES, &[&table]).await?.iter().map(Aside::of).collect();
    for a in &aside {
        db.batch_execute(&a.drop_statement()).await?;
        db.execute(
            "INSERT INTO dawarich_doctor.index_aside (table_name, name, qualified, definition, run_id)
             VALUES ($1, $2, $3, $4, current_setting('dawarich_doctor.run_id'))",
            &[&table, &a.name, &a.qualified, &a.create],
        )
        .await?;
    }
    Ok(aside)
}

/// The indexes of `table` a walk set aside and that are not built again yet (an interrupted run's).
pub(super) async fn recorded(db: &Db, table: &str) -> Result<Vec<Aside>> {
    Ok(db
        .query(
            "SELECT name, qualified, definition FROM dawarich_doctor.index_aside WHERE table_name = $1 ORDER BY name",
            &[&table],
        )
        .await?
        .iter()
        .map(Aside::of)
        .collect())
}

impl Aside {
    /// From a row of name, qualified name and definition.
    fn of(r: &tokio_postgres::Row) -> Aside {
        Aside {
            name: r.get(0),
            qualified: r.get(1),
            create: r.get(2),
        }
    }

    pub fn drop_statement(&self) -> String {
        format!("DROP INDEX {}", self.qualified)
    }

    /// Creates the index again (unless one of its name exists by now, e.g. the schema check of a
    /// run in between created it) and removes its record, inside the caller's transaction.
    pub async fn build_again(&self, db: &Db) -> Result<()> {
        let exists: bool = db
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&self.qualified])
            .await?
            .get(0);
        if !exists {
            db.batch_execute(&self.create).await?;
        }
        db.execute(
            "DELETE FROM dawarich_doctor.index_aside WHERE qualified = $1",
            &[&self.qualified],
        )
        .await?;
        Ok(())
    }
}
