//! What Dawarich has recorded in this database: applied versions, the release they match, strays,
//! pending versions, `ar_internal_metadata.environment`.

use std::collections::BTreeSet;

use dawarich_doctor_model::{DawarichState, MigrationKind};

use crate::catalog::{catalog, Catalog};
use crate::error::{Error, Result};

/// Rails' bookkeeping tables as Rails creates them (`schema_migrations`, `ar_internal_metadata`).
pub const RAILS_TABLES_SQL: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (version character varying NOT NULL PRIMARY KEY);
     CREATE TABLE IF NOT EXISTS ar_internal_metadata (key character varying NOT NULL PRIMARY KEY, value character varying,
       created_at timestamp(6) without time zone NOT NULL, updated_at timestamp(6) without time zone NOT NULL);";

/// data_migrate's table, which `rake data:migrate` creates when missing.
pub const DATA_MIGRATIONS_SQL: &str =
    "CREATE TABLE IF NOT EXISTS data_migrations (version character varying NOT NULL PRIMARY KEY)";

/// Applied versions as read from the bookkeeping tables.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub schema: BTreeSet<String>,
    pub data: BTreeSet<String>,
    pub environment: Option<String>,
}

/// Reads the bookkeeping tables; refuses databases that are not Dawarich's.
pub async fn read_applied(client: &tokio_postgres::Client, database: &str) -> Result<Applied> {
    let row = client
        .query_one(
            "SELECT to_regclass('schema_migrations') IS NOT NULL, to_regclass('data_migrations') IS NOT NULL,
                    to_regclass('ar_internal_metadata') IS NOT NULL, to_regclass('users') IS NOT NULL,
                    to_regclass('points') IS NOT NULL",
            &[],
        )
        .await?;
    let (has_sm, has_dm, has_meta, has_users, has_points): (bool, bool, bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    if !has_sm {
        return Err(Error::NotDawarich {
            database: database.into(),
            detail: "it has no schema_migrations table".into(),
        });
    }
    if !has_users || !has_points {
        return Err(Error::NotDawarich {
            database: database.into(),
            detail: "it has no users/points tables".into(),
        });
    }
    // one statement, one snapshot: a migration running meanwhile is seen whole or not at all
    let sql = if has_dm {
        "SELECT false, version::text FROM schema_migrations UNION ALL SELECT true, version::text FROM data_migrations"
    } else {
        "SELECT false, version::text FROM schema_migrations"
    };
    let (mut schema, mut data) = (BTreeSet::new(), BTreeSet::new());
    for r in client.query(sql, &[]).await? {
        let set = if r.get(0) { &mut data } else { &mut schema };
        set.insert(r.get::<_, String>(1));
    }
    if schema.is_empty() {
        return Err(Error::NotDawarich {
            database: database.into(),
            detail: "schema_migrations is empty".into(),
        });
    }
    let environment = if has_meta {
        client
            .query_opt(
                "SELECT value::text FROM ar_internal_metadata WHERE key = 'environment'",
                &[],
            )
            .await?
            .and_then(|r| r.get(0))
    } else {
        None
    };
    Ok(Applied {
        schema,
        data,
        environment,
    })
}

/// The newest release whose schema and data versions are all applied, and the range of releases
/// that ship exactly the same versions.
pub fn detect_release(c: &Catalog, applied: &Applied) -> Option<(String, (String, String))> {
    let sets: Vec<(BTreeSet<String>, BTreeSet<String>)> = c
        .releases
        .iter()
        .map(|r| {
            (
                c.versions(&r.tag, MigrationKind::Schema),
                c.versions(&r.tag, MigrationKind::Data),
            )
        })
        .collect();
    let newest = (0..c.releases.len())
        .rev()
        .find(|&i| sets[i].0.is_subset(&applied.schema) && sets[i].1.is_subset(&applied.data))?;
    let same = |i: usize| sets[i] == sets[newest];
    let first = (0..=newest).rev().take_while(|&i| same(i)).last().unwrap_or(newest);
    let last = (newest..c.releases.len())
        .take_while(|&i| same(i))
        .last()
        .unwrap_or(newest);
    Some((
        c.releases[newest].tag.clone(),
        (c.releases[first].tag.clone(), c.releases[last].tag.clone()),
    ))
}

/// Builds the user-facing state against a target release (default: the newest in the catalog).
pub fn describe(applied: &Applied, target: Option<&str>) -> Result<DawarichState> {
    let c = catalog();
    let target = match target {
        Some(t) => c.release(t).ok_or_else(|| Error::UnknownRelease(t.into()))?.tag.clone(),
        None => c.newest().tag.clone(),
    };
    let known_schema = c.all_versions(MigrationKind::Schema);
    let known_data = c.all_versions(MigrationKind::Data);
    let newest_known = known_schema
        .iter()
        .chain(known_data.iter())
        .max()
        .cloned()
        .unwrap_or_default();
    let mut stray: Vec<String> = applied
        .schema
        .difference(&known_schema)
        .chain(applied.data.difference(&known_data))
        .cloned()
        .collect();
    stray.sort();
    let unknown_newer: Vec<String> = stray.iter().filter(|v| **v > newest_known).cloned().collect();
    let pending =
        |kind, have: &BTreeSet<String>| c.versions(&target, kind).difference(have).cloned().collect::<Vec<_>>();
    let detected = detect_release(c, applied);
    Ok(DawarichState {
        release: detected.as_ref().map(|d| d.0.clone()),
        release_range: detected.map(|d| d.1),
        schema_versions: applied.schema.iter().cloned().collect(),
        data_versions: applied.data.iter().cloned().collect(),
        stray_versions: stray,
        unknown_newer_versions: unknown_newer,
        pending_schema: pending(MigrationKind::Schema, &applied.schema),
        pending_data: pending(MigrationKind::Data, &applied.data),
        environment: applied.environment.clone(),
        newest_known_release: c.newest().tag.clone(),
    })
}
