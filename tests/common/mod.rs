//! Test support: the shared cluster and fresh databases of `dawarich_doctor_testkit::shared`, and a
//! session that acts on command while a runner is paused (`controller`).
#![allow(dead_code)]

use std::sync::{mpsc, Mutex};

use dawarich_doctor::locks::migration_lock_key;
pub use dawarich_doctor_testkit::shared::*;

/// Polls `check` until it holds, failing the test after 30 s with `what` (a condition the test waits
/// for, never a sleep).
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after 30 s waiting until {what}"
        );
        tokio::task::yield_now().await;
    }
}

/// The first column of every row `sql` returns.
pub async fn column<T: tokio_postgres::types::FromSqlOwned>(db: &tokio_postgres::Client, sql: &str) -> Vec<T> {
    db.query(sql, &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

/// What a test session does when the runner reaches a condition.
pub enum Cmd {
    /// Terminate the backend that holds the migration lock (the runner's).
    Terminate,
    /// Take a lock on points row `id` in an open transaction (blocks a later batch).
    LockRow(i64),
    /// Terminate every session with this application name.
    TerminateApp(&'static str),
}

/// A session of the test on its own thread and runtime; the progress callback talks to it
/// synchronously, so the runner is paused until the command is done.
pub fn controller(url: String, dbname: String) -> mpsc::Sender<(Cmd, mpsc::Sender<()>)> {
    let (tx, rx) = mpsc::channel::<(Cmd, mpsc::Sender<()>)>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let db = connect_url(&url).await;
            let key = migration_lock_key(&dbname);
            while let Ok((cmd, ack)) = rx.recv() {
                match cmd {
                    Cmd::Terminate => {
                        db.batch_execute(&format!(
                            "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND classid = {} AND objid = {} AND granted",
                            (key as u64 >> 32) as u32,
                            key as u64 as u32
                        ))
                        .await
                        .unwrap();
                        db.batch_execute("ROLLBACK").await.ok();
                    }
                    Cmd::TerminateApp(name) => {
                        db.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1", &[&name]).await.unwrap();
                    }
                    Cmd::LockRow(id) => db.batch_execute(&format!("BEGIN; SELECT 1 FROM points WHERE id = {id} FOR UPDATE")).await.unwrap(),
                }
                let _ = ack.send(());
            }
        });
    });
    tx
}

pub fn send(ctl: &Ctl, cmd: Cmd) {
    let (ack, done) = mpsc::channel();
    ctl.lock().unwrap().send((cmd, ack)).unwrap();
    done.recv().unwrap();
}

/// A controller channel shared with a progress callback.
pub type Ctl = Mutex<mpsc::Sender<(Cmd, mpsc::Sender<()>)>>;

/// Connect options for `database` of the shared cluster as the stock compose's `dawarich_db`, through
/// `sshd` (the name is resolved with docker inspect there).
pub fn via_ssh(sshd: &dawarich_doctor_testkit::sshd::Sshd, database: &str) -> dawarich_doctor::connect::ConnectOptions {
    let mut o = options(&format!(
        "postgres://postgres:postgres@dawarich_db:{}/{database}",
        cluster().port
    ));
    o.profile.ssh = Some(sshd.profile(dawarich_doctor_model::SshAuth::Key {
        path: sshd.key("ed25519"),
    }));
    o.ssh = Some(sshd.options());
    o
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
