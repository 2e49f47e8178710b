//! Indexes set aside during a walk while Dawarich is stopped: a walk that rewrites most rows of a
//! table adds an entry to every index of the table for each row it changes, which costs more than
//! building the index again once the rows are written. Inside the walk's one transaction the
//! table's indexes (but its primary key and those of constraints) are dropped, the rows rewritten,
//! and each index created again from its own definition, so a failure or an interruption at any
//! point leaves every index as it was. A unique index set aside checks the rewritten rows when it
//! is built again: a duplicate fails the build (the same unique violation, naming the index and the
//! key) and the walk rolls back whole, as it would have at the row that made it.

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
/// key, no constraint's (unique, exclusion, or referenced by a foreign key) and with nothing else
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
  AND NOT i.indisprimary AND NOT i.indisexclusion
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

/// Drops the indexes of `table` that can be rebuilt exactly, inside the caller's transaction, and
/// returns how to create them again.
pub(super) async fn set_aside(db: &Db, table: &str) -> Result<Vec<Aside>> {
    let aside: Vec<Aside> = db
        .query(CANDIDATES, &[&table])
        .await?
        .iter()
        .map(|r| Aside {
            name: r.get(0),
            qualified: r.get(1),
            create: r.get(2),
        })
        .collect();
    for a in &aside {
        db.batch_execute(&a.drop_statement()).await?;
    }
    Ok(aside)
}

impl Aside {
    pub fn drop_statement(&self) -> String {
        format!("DROP INDEX {}", self.qualified)
    }
}
