//! The live schema compared with a release's expected schema (its schema.rb, as SQL in `schemas/`).
//! The expected side is built by loading that SQL into a scratch schema inside a transaction that is
//! always rolled back, then read with the same catalog queries as the live side — so both sides are
//! formatted by the same server and compare exactly. Nothing persists.

use std::collections::{BTreeMap, BTreeSet};

use dawarich_doctor_model::{Change, ObjectKind, SchemaDifference};
use tokio_postgres::Client;

use crate::catalog::{schema_sql, split_statements};
use crate::error::Result;

const SCRATCH: &str = "dawarich_doctor_expected";

/// Tables Rails keeps for itself; compared like the others.
/// Objects that belong to extensions (PostGIS's `spatial_ref_sys`) are never compared.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub tables: BTreeSet<String>,
    /// (table, column) → "type NOT NULL DEFAULT expr"
    pub columns: BTreeMap<(String, String), String>,
    /// index name → (table, definition)
    pub indexes: BTreeMap<String, (String, String)>,
    /// (table, constraint name) → definition
    pub constraints: BTreeMap<(String, String), String>,
    pub extensions: BTreeSet<String>,
}

/// Reads the objects of schema `ns` (with `search_path` set to `path`, so names print the same way).
async fn read(client: &Client, ns: &str) -> Result<Snapshot> {
    let mut s = Snapshot::default();
    let own = "c.relnamespace = $1::text::regnamespace AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')";
    for r in client
        .query(
            &format!("SELECT c.relname::text FROM pg_class c WHERE c.relkind IN ('r', 'p') AND {own}"),
            &[&ns],
        )
        .await?
    {
        s.tables.insert(r.get(0));
    }
    let cols = format!(
        "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '')
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {own}"
    );
    for r in client.query(&cols, &[&ns]).await? {
        s.columns.insert((r.get(0), r.get(1)), r.get(2));
    }
    let idx = format!(
        "SELECT ic.relname::text, c.relname::text, pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' END
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
         WHERE {own} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))"
    );
    let qualified = format!("ON {}.", quote_ident(ns));
    for r in client.query(&idx, &[&ns]).await? {
        let def: String = r.get(2);
        s.indexes.insert(
            r.get(0),
            (
                r.get(1),
                def.replace(&qualified, "ON ").replace(&format!("ON {ns}."), "ON "),
            ),
        );
    }
    let cons = format!(
        "SELECT c.relname::text, k.conname::text, pg_get_constraintdef(k.oid)
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE {own}"
    );
    for r in client.query(&cons, &[&ns]).await? {
        s.constraints.insert((r.get(0), r.get(1)), r.get(2));
    }
    for r in client.query("SELECT extname::text FROM pg_extension", &[]).await? {
        s.extensions.insert(r.get(0));
    }
    Ok(s)
}

/// An SQL identifier, quoted when it needs it.
pub(crate) fn quote_ident(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// The live schema (`public`, or the session's current schema).
pub async fn live(client: &Client) -> Result<Snapshot> {
    let ns: String = client.query_one("SELECT current_schema()::text", &[]).await?.get(0);
    client.batch_execute("BEGIN READ ONLY").await?;
    let r = read(client, &ns).await;
    client.batch_execute("ROLLBACK").await?;
    r
}

/// The schema release `tag` expects, built in a scratch schema and rolled back.
pub async fn expected(client: &Client, tag: &str) -> Result<Snapshot> {
    let sql = schema_sql(tag)?;
    let ns: String = client.query_one("SELECT current_schema()::text", &[]).await?.get(0);
    client
        .batch_execute(&format!(
            "BEGIN; CREATE SCHEMA {SCRATCH}; SET LOCAL search_path TO {SCRATCH}, {}",
            quote_ident(&ns)
        ))
        .await?;
    let result = async {
        client.batch_execute(sql).await?;
        let mut s = read(client, SCRATCH).await?;
        s.extensions = expected_extensions(sql);
        Ok(s)
    }
    .await;
    client.batch_execute("ROLLBACK").await?;
    result
}

fn expected_extensions(sql: &str) -> BTreeSet<String> {
    split_statements(sql)
        .into_iter()
        .filter_map(|(_, s)| {
            let name = s
                .strip_prefix("CREATE EXTENSION IF NOT EXISTS ")?
                .split_whitespace()
                .next()?;
            Some(name.trim_matches('"').to_string())
        })
        .collect()
}

/// Differences between what `expected` has and what `actual` has.
pub fn diff(expected: &Snapshot, actual: &Snapshot) -> Vec<SchemaDifference> {
    let mut out = Vec::new();
    let d =
        |change: Change, object: ObjectKind, name: String, e: Option<&String>, a: Option<&String>| SchemaDifference {
            change,
            object,
            name,
            expected: e.cloned(),
            actual: a.cloned(),
            note: None,
        };
    for e in expected.extensions.difference(&actual.extensions) {
        if e != "plpgsql" {
            out.push(d(Change::Missing, ObjectKind::Extension, e.clone(), None, None));
        }
    }
    for t in expected.tables.difference(&actual.tables) {
        out.push(d(Change::Missing, ObjectKind::Table, t.clone(), None, None));
    }
    for t in actual.tables.difference(&expected.tables) {
        out.push(d(Change::Extra, ObjectKind::Table, t.clone(), None, None));
    }
    let both = |t: &String| expected.tables.contains(t) && actual.tables.contains(t);
    for ((t, c), e) in &expected.columns {
        match actual.columns.get(&(t.clone(), c.clone())) {
            None if both(t) => out.push(d(
                Change::Missing,
                ObjectKind::Column,
                format!("{t}.{c}"),
                Some(e),
                None,
            )),
            Some(a) if a != e => out.push(d(
                Change::Different,
                ObjectKind::Column,
                format!("{t}.{c}"),
                Some(e),
                Some(a),
            )),
            _ => {}
        }
    }
    for ((t, c), a) in &actual.columns {
        if both(t) && !expected.columns.contains_key(&(t.clone(), c.clone())) {
            out.push(d(Change::Extra, ObjectKind::Column, format!("{t}.{c}"), None, Some(a)));
        }
    }
    for (name, (t, e)) in &expected.indexes {
        match actual.indexes.get(name) {
            None if actual.tables.contains(t) => {
                out.push(d(Change::Missing, ObjectKind::Index, name.clone(), Some(e), None))
            }
            Some((_, a)) if a != e => out.push(d(Change::Different, ObjectKind::Index, name.clone(), Some(e), Some(a))),
            _ => {}
        }
    }
    for (name, (t, a)) in &actual.indexes {
        if expected.tables.contains(t) && !expected.indexes.contains_key(name) {
            out.push(d(Change::Extra, ObjectKind::Index, name.clone(), None, Some(a)));
        }
    }
    for ((t, n), e) in &expected.constraints {
        match actual.constraints.get(&(t.clone(), n.clone())) {
            None if actual.tables.contains(t) => out.push(d(
                Change::Missing,
                ObjectKind::Constraint,
                format!("{t}.{n}"),
                Some(e),
                None,
            )),
            Some(a) if a != e => out.push(d(
                Change::Different,
                ObjectKind::Constraint,
                format!("{t}.{n}"),
                Some(e),
                Some(a),
            )),
            _ => {}
        }
    }
    for ((t, n), a) in &actual.constraints {
        if expected.tables.contains(t) && !expected.constraints.contains_key(&(t.clone(), n.clone())) {
            out.push(d(
                Change::Extra,
                ObjectKind::Constraint,
                format!("{t}.{n}"),
                None,
                Some(a),
            ));
        }
    }
    out
}

/// Compares the live schema with release `tag`'s; objects an older release's schema.rb left behind
/// carry their explanation.
pub async fn verify(client: &Client, tag: &str) -> Result<Vec<SchemaDifference>> {
    let e = expected(client, tag).await?;
    let a = live(client).await?;
    let mut diffs = diff(&e, &a);
    explain_leaks(&mut diffs);
    Ok(diffs)
}

/// `schemas/leaks.tsv`: change, object, name, text the found definition contains (or empty), why.
static LEAKS_TSV: &str = include_str!("../schemas/leaks.tsv");

/// Adds the explanation of each known leftover of a release's schema.rb.
pub fn explain_leaks(diffs: &mut [SchemaDifference]) {
    let leaks = LEAKS_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect::<Vec<_>>());
    for leak in leaks {
        let [change, object, name, found, why] = leak[..] else {
            continue;
        };
        for d in diffs
            .iter_mut()
            .filter(|d| d.change.as_str() == change && d.object.as_str() == object && d.name == name)
        {
            if found.is_empty() || d.actual.as_deref().is_some_and(|a| a.contains(found)) {
                d.note = Some(why.to_string());
            }
        }
    }
}

/// The statements of release `tag`'s schema SQL that create what `missing` lists (tables with their
/// indexes and constraints, single columns, indexes, constraints), in a safe order.
pub fn repair_statements(tag: &str, missing: &[SchemaDifference]) -> Result<Vec<String>> {
    let stmts: Vec<String> = split_statements(schema_sql(tag)?).into_iter().map(|(_, s)| s).collect();
    let table_of = |s: &str| -> Option<String> {
        let rest = s
            .strip_prefix("CREATE TABLE ")
            .or_else(|| s.strip_prefix("ALTER TABLE "))?;
        Some(rest.split_whitespace().next()?.trim_matches('"').to_string())
    };
    let index_parts = |s: &str| -> Option<(String, String)> {
        let rest = s
            .strip_prefix("CREATE UNIQUE INDEX ")
            .or_else(|| s.strip_prefix("CREATE INDEX "))?;
        let mut w = rest.split_whitespace();
        let name = w.next()?.trim_matches('"').to_string();
        let _on = w.next()?;
        Some((name, w.next()?.trim_matches('"').to_string()))
    };
    let mut out = Vec::new();
    for m in missing.iter().filter(|m| m.change == Change::Missing) {
        match m.object {
            ObjectKind::Table => {
                out.extend(
                    stmts
                        .iter()
                        .filter(|s| s.starts_with("CREATE TABLE") && table_of(s).as_deref() == Some(&m.name))
                        .cloned(),
                );
                out.extend(
                    stmts
                        .iter()
                        .filter(|s| index_parts(s).is_some_and(|(_, t)| t == m.name))
                        .cloned(),
                );
                out.extend(
                    stmts
                        .iter()
                        .filter(|s| s.starts_with("ALTER TABLE") && table_of(s).as_deref() == Some(&m.name))
                        .cloned(),
                );
            }
            ObjectKind::Column => {
                let (t, c) = m.name.split_once('.').unwrap_or_default();
                let create = stmts
                    .iter()
                    .find(|s| s.starts_with("CREATE TABLE") && table_of(s).as_deref() == Some(t));
                if let Some(line) =
                    create.and_then(|s| s.lines().map(str::trim).find(|l| l.starts_with(&format!("\"{c}\" "))))
                {
                    out.push(format!(
                        "ALTER TABLE \"{t}\" ADD COLUMN IF NOT EXISTS {}",
                        line.trim_end_matches(',')
                    ));
                }
            }
            ObjectKind::Index => out.extend(
                stmts
                    .iter()
                    .filter(|s| index_parts(s).is_some_and(|(n, _)| n == m.name))
                    .cloned(),
            ),
            ObjectKind::Constraint => {
                let (t, n) = m.name.split_once('.').unwrap_or_default();
                out.extend(
                    stmts
                        .iter()
                        .filter(|s| table_of(s).as_deref() == Some(t) && s.contains(&format!("CONSTRAINT \"{n}\"")))
                        .cloned(),
                );
            }
            ObjectKind::Extension => {}
        }
    }
    // tables first, then columns, then indexes and constraints
    out.sort_by_key(|s| {
        if s.starts_with("CREATE TABLE") {
            0
        } else if s.contains("ADD COLUMN") {
            1
        } else if s.starts_with("CREATE") {
            2
        } else {
            3
        }
    });
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(tables: &[&str], columns: &[(&str, &str, &str)], indexes: &[(&str, &str, &str)]) -> Snapshot {
        Snapshot {
            tables: tables.iter().map(|t| t.to_string()).collect(),
            columns: columns
                .iter()
                .map(|(t, c, d)| ((t.to_string(), c.to_string()), d.to_string()))
                .collect(),
            indexes: indexes
                .iter()
                .map(|(n, t, d)| (n.to_string(), (t.to_string(), d.to_string())))
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn diff_names_what_is_missing_extra_and_different() {
        let expected = snapshot(
            &["points", "users"],
            &[
                ("points", "id", "bigint NOT NULL"),
                ("points", "lonlat", "geography"),
                ("users", "settings", "jsonb DEFAULT '{}'"),
            ],
            &[("i_lonlat", "points", "CREATE INDEX i_lonlat ON points (lonlat)")],
        );
        let actual = snapshot(
            &["points", "users", "notes"],
            &[
                ("points", "id", "bigint NOT NULL"),
                ("users", "settings", "jsonb"),
                ("users", "extra", "text"),
                ("notes", "id", "bigint"),
            ],
            &[],
        );
        let got: Vec<(Change, ObjectKind, String)> = diff(&expected, &actual)
            .into_iter()
            .map(|d| (d.change, d.object, d.name))
            .collect();
        assert_eq!(
            got,
            vec![
                (Change::Extra, ObjectKind::Table, "notes".to_string()),
                (Change::Missing, ObjectKind::Column, "points.lonlat".to_string()),
                (Change::Different, ObjectKind::Column, "users.settings".to_string()),
                (Change::Extra, ObjectKind::Column, "users.extra".to_string()),
                (Change::Missing, ObjectKind::Index, "i_lonlat".to_string()),
            ]
        );
        assert!(diff(&expected, &expected).is_empty());
    }

    #[test]
    fn a_known_leftover_is_explained_only_when_its_definition_matches() {
        let d = |actual: &str| SchemaDifference {
            change: Change::Different,
            object: ObjectKind::Column,
            name: "users.settings".into(),
            expected: None,
            actual: Some(actual.into()),
            note: None,
        };
        let mut diffs = vec![
            d(r#"jsonb DEFAULT '{"fog_of_war_meters": "200"}'::jsonb"#),
            d(r#"jsonb DEFAULT '{"fog_of_war_meters": "300"}'::jsonb"#),
        ];
        explain_leaks(&mut diffs);
        assert!(
            diffs[0].note.as_deref().is_some_and(|n| n.contains("0.8.1–0.9.3")),
            "{:?}",
            diffs[0]
        );
        assert_eq!(diffs[1].note, None);
    }

    #[test]
    fn identifiers_are_quoted_when_they_need_it() {
        assert_eq!(quote_ident("index_points_on_user_id"), "index_points_on_user_id");
        assert_eq!(quote_ident("Weird \"name\""), "\"Weird \"\"name\"\"\"");
    }
}
