//! Indexes set aside during a walk while Dawarich is stopped: a walk that rewrites most rows of a
//! table adds an entry to every index of the table for each row it changes, which costs more than
//! building the index again once the rows are written. The table's plain indexes (not its primary
//! key, no unique index, none of a constraint) are dropped in one transaction that records how to
//! create each again in `dawarich_doctor.index_aside`; the walk then commits its ranges as usual,
//! and each index is created again in a transaction that removes its record. An interrupted walk
//! leaves the records: the next run finishes the walk and builds them. Unique indexes stay in place,
//! so a duplicate still fails the row that makes it, never a build after the rows are committed.
//!
//! On such a table a pending migration's plain index build is set aside before it is built: only
//! its record is written, and the walk (or at the latest the run's last step) builds it with the
//! others. One a later migration drops (`DROP INDEX … IF EXISTS`) loses its record and is never
//! built, as it would not be there at the end either; so is a unique build whose index a later
//! step of the run drops (a unique one that stays is built where its migration builds it).

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

/// Records the index `name` of `table` that `create` builds, without building it (an index of that
/// name already recorded keeps its record, as `IF NOT EXISTS` keeps the index).
pub(super) async fn defer(db: &Db, table: &str, name: &str, create: &str) -> Result<()> {
    db.execute(
        "INSERT INTO dawarich_doctor.index_aside (table_name, name, qualified, definition, run_id)
         SELECT $1, $2, format('%I.%I', n.nspname, $2::text), $3, current_setting('dawarich_doctor.run_id')
         FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE c.oid = $1::text::regclass
         ON CONFLICT (qualified) DO NOTHING",
        &[&table, &name, &create],
    )
    .await?;
    Ok(())
}

/// Forgets the index `name` that a migration dropped (by that name, in its table's schema): what is
/// set aside is not built again.
pub(super) async fn forget(db: &Db, name: &str) -> Result<()> {
    db.execute(
        "DELETE FROM dawarich_doctor.index_aside AS a
         USING pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE a.name = $1 AND c.oid = to_regclass(a.table_name) AND a.qualified = format('%I.%I', n.nspname, a.name)",
        &[&name],
    )
    .await?;
    Ok(())
}

/// The indexes of `table` (of every table: `None`) set aside and not built again yet.
pub(super) async fn recorded(db: &Db, table: Option<&str>) -> Result<Vec<Aside>> {
    Ok(db
        .query(
            "SELECT name, qualified, definition FROM dawarich_doctor.index_aside
             WHERE table_name = $1 OR $1 IS NULL ORDER BY table_name, name",
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

    /// Whether it is a B-tree index (no `USING`, or `USING btree`).
    pub fn is_btree(&self) -> bool {
        self.create
            .split_once(" USING ")
            .is_none_or(|(_, method)| method.trim_start().starts_with("btree"))
    }

    pub fn drop_statement(&self) -> String {
        format!("DROP INDEX {}", self.qualified)
    }

    /// Creates the index again (unless one of its name exists by now, e.g. the schema check of a
    /// run in between created it, or its table is gone) and removes its record, inside the caller's
    /// transaction.
    pub async fn build_again(&self, db: &Db) -> Result<()> {
        let build: bool = db
            .query_one(
                "SELECT to_regclass($1) IS NULL AND EXISTS (SELECT 1 FROM dawarich_doctor.index_aside
                     WHERE qualified = $1 AND to_regclass(table_name) IS NOT NULL)",
                &[&self.qualified],
            )
            .await?
            .get(0);
        if build {
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

#[cfg(test)]
mod tests {
    use super::Aside;

    #[test]
    fn the_access_method_is_read_from_the_definition() {
        let aside = |create: &str| Aside {
            name: "i".into(),
            qualified: "public.i".into(),
            create: create.into(),
        };
        assert!(aside("CREATE INDEX IF NOT EXISTS i ON points (track_id)").is_btree());
        assert!(aside("CREATE INDEX i ON public.points USING btree (import_id)").is_btree());
        assert!(!aside("CREATE INDEX IF NOT EXISTS i ON points USING gist (lonlat)").is_btree());
        assert!(!aside("CREATE INDEX i ON public.points USING gin (geodata)").is_btree());
    }
}
