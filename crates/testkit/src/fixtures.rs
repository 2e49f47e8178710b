//! Dawarich databases as they look at a given release, with realistic data and the real failure
//! modes injected on demand. Used by the tests, the benchmarks and the `sandbox` demo.

use dawarich_doctor_model::MigrationKind;
use tokio_postgres::Client;

use dawarich_doctor::applied::{DATA_MIGRATIONS_SQL, RAILS_TABLES_SQL};
use dawarich_doctor::catalog::{catalog, schema_sql};
use dawarich_doctor::{Error, Result};

/// The versions a fresh install of `tag` records: Rails loads schema.rb and then records its
/// `define(version:)` plus every migration file of the release below it; `data:migrate` then runs
/// (and records) every data migration of the release.
pub fn fresh_install_versions(tag: &str) -> Result<(Vec<String>, Vec<String>)> {
    let c = catalog();
    let r = c.release(tag).ok_or_else(|| Error::UnknownRelease(tag.into()))?;
    let mut schema: Vec<String> = c
        .versions(tag, MigrationKind::Schema)
        .into_iter()
        .filter(|v| *v < r.define_version)
        .collect();
    schema.push(r.define_version.clone());
    schema.sort();
    schema.dedup();
    Ok((schema, c.versions(tag, MigrationKind::Data).into_iter().collect()))
}

/// Makes the empty database behind `client` a fresh Dawarich install of release `tag`.
pub async fn fresh_install(client: &Client, tag: &str, environment: &str) -> Result<()> {
    client.batch_execute(schema_sql(tag)?).await?;
    client.batch_execute(RAILS_TABLES_SQL).await?;
    let (schema, data) = fresh_install_versions(tag)?;
    if !data.is_empty() {
        // data:migrate creates its table on first boot when schema.rb lacks it
        client.batch_execute(DATA_MIGRATIONS_SQL).await?;
    }
    client
        .execute(
            "INSERT INTO schema_migrations (version) SELECT unnest($1::text[])",
            &[&schema],
        )
        .await?;
    if !data.is_empty() {
        client
            .execute(
                "INSERT INTO data_migrations (version) SELECT unnest($1::text[])",
                &[&data],
            )
            .await?;
    }
    client
        .execute(
            "INSERT INTO ar_internal_metadata (key, value, created_at, updated_at) VALUES ('environment', $1, now(), now())",
            &[&environment],
        )
        .await?;
    Ok(())
}

/// Realistic content: users, an OwnTracks import, and points with OwnTracks raw data.
#[derive(Debug, Clone)]
pub struct Data {
    pub users: i64,
    pub points: i64,
}

async fn columns(client: &Client, table: &str) -> Result<Vec<String>> {
    Ok(client
        .query("SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", &[&table])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Inserts `data` using only the columns this release has. Points are spread over the users
/// round-robin and are all distinct (no duplicates unless injected).
pub async fn populate(client: &Client, data: &Data) -> Result<()> {
    let ucols = columns(client, "users").await?;
    let mut cols = vec!["email", "encrypted_password", "created_at", "updated_at"];
    let mut vals = vec!["'user' || g || '@example.com'", "'x'", "now()", "now()"];
    if ucols.iter().any(|c| c == "settings") {
        cols.push("settings");
        vals.push("'{\"meters_between_routes\": 500, \"minutes_between_routes\": 30}'::jsonb");
    }
    client
        .execute(
            &format!(
                "INSERT INTO users ({}) SELECT {} FROM generate_series(1, $1::bigint) g",
                cols.join(", "),
                vals.join(", ")
            ),
            &[&data.users],
        )
        .await?;
    let icols = columns(client, "imports").await?;
    let mut cols = vec!["name", "user_id", "source", "created_at", "updated_at"];
    let mut vals = vec!["'owntracks-' || u.id", "u.id", "1", "now()", "now()"];
    if icols.iter().any(|c| c == "raw_data") {
        cols.push("raw_data");
        vals.push("'{}'::jsonb");
    }
    client
        .execute(
            &format!(
                "INSERT INTO imports ({}) SELECT {} FROM users u ORDER BY u.id",
                cols.join(", "),
                vals.join(", ")
            ),
            &[],
        )
        .await?;
    let pcols = columns(client, "points").await?;
    let has = |c: &str| pcols.iter().any(|x| x == c);
    let mut cols = vec![
        "latitude",
        "longitude",
        "timestamp",
        "raw_data",
        "created_at",
        "updated_at",
        "import_id",
    ];
    let mut vals = vec![
        "52.0 + (g % 100000) * 0.00001",
        "13.0 + (g / 100000) * 0.00001",
        "1700000000 + g",
        "jsonb_build_object('_type', 'location', 'm', 1, 'acc', 5 + g % 20, 'batt', g % 100, 'bs', 1 + g % 3, 't', 'u', 'conn', 'w', 'tid', 'ph', 'topic', 'owntracks/user/phone', 'vel', g % 40, 'alt', 30 + g % 10, 'vac', 3, 'lat', 52.0 + (g % 100000) * 0.00001, 'lon', 13.0 + (g / 100000) * 0.00001, 'tst', 1700000000 + g)",
        "now()",
        "now()",
        "(SELECT min(id) FROM imports) + (g % $2::bigint)",
    ];
    if has("user_id") {
        cols.push("user_id");
        vals.push("(SELECT min(id) FROM users) + (g % $2::bigint)");
    }
    if has("lonlat") {
        cols.push("lonlat");
        vals.push(
            "ST_SetSRID(ST_MakePoint(13.0 + (g / 100000) * 0.00001, 52.0 + (g % 100000) * 0.00001), 4326)::geography",
        );
    }
    client
        .execute(
            &format!(
                "INSERT INTO points ({}) SELECT {} FROM generate_series(1, $1::bigint) g",
                cols.join(", "),
                vals.join(", ")
            ),
            &[&data.points, &data.users.max(1)],
        )
        .await?;
    client.batch_execute("ANALYZE").await?;
    Ok(())
}

/// Detaches `n` points from their user (NULL `user_id`), the "User must exist" failure.
pub async fn orphan_points(client: &Client, n: i64) -> Result<Vec<i64>> {
    Ok(client
        .query("UPDATE points SET user_id = NULL WHERE id IN (SELECT id FROM points WHERE user_id IS NOT NULL ORDER BY id LIMIT $1) RETURNING id", &[&n])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Soft-deletes user `user_id` (needs `users.deleted_at`, 1.3.1+).
pub async fn soft_delete_user(client: &Client, user_id: i64) -> Result<()> {
    client
        .execute("UPDATE users SET deleted_at = now() WHERE id = $1", &[&user_id])
        .await?;
    Ok(())
}

/// Copies `n` points (same user, time and place) to make duplicates; returns the new ids.
pub async fn duplicate_points(client: &Client, n: i64) -> Result<Vec<i64>> {
    let pcols = columns(client, "points").await?;
    let cols: Vec<String> = pcols
        .into_iter()
        .filter(|c| c != "id")
        .map(|c| format!("\"{c}\""))
        .collect();
    let list = cols.join(", ");
    Ok(client
        .query(&format!("INSERT INTO points ({list}) SELECT {list} FROM points WHERE id IN (SELECT id FROM points ORDER BY id LIMIT $1) RETURNING id"), &[&n])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Leaves an INVALID index behind, as an interrupted `CREATE INDEX CONCURRENTLY` does.
pub async fn invalid_index(client: &Client, name: &str, table: &str, columns: &str) -> Result<()> {
    client
        .batch_execute(&format!(
            "CREATE INDEX {name} ON {table} ({columns}); UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{name}'::regclass;"
        ))
        .await?;
    Ok(())
}
