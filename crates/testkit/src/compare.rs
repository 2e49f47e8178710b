//! Comparing databases and waiting for conditions in tests: every table's rows as checksums, every
//! column, index and constraint of a schema, and polling until a condition holds.

/// Polls `check` until it holds, failing the test after 2 minutes (a whole upgrade on a loaded
/// machine) with `what`: a condition the test waits for, never a sleep.
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after 2 minutes waiting until {what}"
        );
        tokio::task::yield_now().await;
    }
}

/// The first column of every row `sql` returns.
pub async fn column<T: tokio_postgres::types::FromSqlOwned>(db: &tokio_postgres::Client, sql: &str) -> Vec<T> {
    db.query(sql, &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

/// Row count and an md5 of every row (ordered by primary key) of each table in `schema`. With
/// `since` (the start of a run), timestamps from then on read as "during the run" and run ids are
/// left out, so that two runs at different times compare by what they did.
pub async fn table_checksums(
    db: &tokio_postgres::Client,
    schema: &str,
    since: Option<&str>,
) -> Vec<(String, i64, String)> {
    let tables = db
        .query(
            "SELECT c.oid::regclass::text,
                    coalesce((SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY k.o)
                              FROM pg_index AS i, unnest(i.indkey) WITH ORDINALITY AS k(n, o), pg_attribute AS a
                              WHERE i.indrelid = c.oid AND i.indisprimary AND a.attrelid = c.oid AND a.attnum = k.n), 'NULL'),
                    coalesce((SELECT array_agg(a.attname::text) FROM pg_attribute AS a
                              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                AND $2 AND (a.attname IN ('_run_id', 'run_id') OR a.atttypid IN ('timestamp'::regtype, 'timestamptz'::regtype))), '{}'),
                    coalesce((SELECT string_agg(format('%L, CASE WHEN t.%I >= %L::timestamp THEN %L ELSE t.%I::text END', a.attname, a.attname, $3::text, 'during the run', a.attname), ', ')
                              FROM pg_attribute AS a
                              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                AND $2 AND a.atttypid IN ('timestamp'::regtype, 'timestamptz'::regtype)), '')
             FROM pg_class AS c
             WHERE c.relnamespace = $1::text::regnamespace AND c.relkind IN ('r', 'p')
             ORDER BY 1",
            &[&schema, &since.is_some(), &since.unwrap_or("")],
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let (table, pk, masked, kept): (String, String, Vec<String>, String) = (t.get(0), t.get(1), t.get(2), t.get(3));
        let row = format!("((to_jsonb(t) - $1::text[]) || jsonb_build_object({kept}))::text");
        let r = db
            .query_one(
                &format!(
                    "SELECT count(*), coalesce(md5(string_agg({row}, '|' ORDER BY {pk}, {row})), '') FROM {table} AS t"
                ),
                &[&masked],
            )
            .await
            .unwrap();
        out.push((table, r.get(0), r.get(1)));
    }
    out
}

/// Every column (type, nullability, default), index (its definition and validity) and constraint
/// of the tables of `schema`.
pub async fn schema_of(db: &tokio_postgres::Client, schema: &str) -> Vec<String> {
    db.query(
        "SELECT format('column %s.%I %s %s %s', c.oid::regclass, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
         FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
         WHERE c.relnamespace = $1::text::regnamespace AND c.relkind IN ('r', 'p')
         UNION ALL
         SELECT format('index %s valid %s', pg_get_indexdef(i.indexrelid), i.indisvalid)
         FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid WHERE c.relnamespace = $1::text::regnamespace
         UNION ALL
         SELECT format('constraint %s %I %s', x.conrelid::regclass, x.conname, pg_get_constraintdef(x.oid))
         FROM pg_constraint AS x WHERE x.connamespace = $1::text::regnamespace
         ORDER BY 1",
        &[&schema],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// What an upgrade leaves behind, to compare two runs: every table of Dawarich and of ours (the
/// audit log aside) as checksums, both schemas, and the recorded versions.
#[derive(Debug, PartialEq, Eq)]
pub struct EndState {
    pub tables: Vec<(String, i64, String)>,
    pub ours: Vec<(String, i64, String)>,
    pub schema: Vec<String>,
    pub versions: Vec<String>,
}

/// The database's clock now: pass it to `end_state` as the start of the runs being compared.
pub async fn run_start(db: &tokio_postgres::Client) -> String {
    db.query_one("SELECT least(localtimestamp, now() AT TIME ZONE 'UTC')::text", &[])
        .await
        .unwrap()
        .get(0)
}

/// The end state of the runs that started at `since` (see `table_checksums`).
pub async fn end_state(db: &tokio_postgres::Client, since: &str) -> EndState {
    let mut ours = table_checksums(db, "dawarich_doctor", Some(since)).await;
    ours.retain(|(t, _, _)| t != "dawarich_doctor.audit_log");
    let versions = column(
        db,
        "SELECT 'schema ' || version FROM schema_migrations UNION ALL SELECT 'data ' || version FROM data_migrations ORDER BY 1",
    )
    .await;
    EndState {
        tables: table_checksums(db, "public", Some(since)).await,
        ours,
        schema: [schema_of(db, "public").await, schema_of(db, "dawarich_doctor").await].concat(),
        versions,
    }
}
