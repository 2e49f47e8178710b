//! One throwaway PostgreSQL + PostGIS cluster per test binary (stopped when the binary exits, even on
//! a panic or a kill, by the cluster's watchdog), and a fresh database per test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::profile::parse_url;

use crate::cluster::{Cluster, ClusterOptions};
use crate::fixtures;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The binary's shared cluster (started on first use).
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let c = Cluster::start(&ClusterOptions::default())
            .expect("start a throwaway PostgreSQL cluster (run scripts/setup db)");
        // A template with PostGIS makes every test database ready in milliseconds.
        c.create_postgis_template().expect("template_postgis");
        c
    })
}

pub fn options(url: &str) -> ConnectOptions {
    let p = parse_url(url).unwrap();
    ConnectOptions::new(p.profile, p.password)
}

pub async fn connect_url(url: &str) -> Db {
    connect(&options(url))
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// A new empty database (with PostGIS available, like the stock postgis image) for one test.
pub async fn new_db(prefix: &str, with_postgis: bool) -> String {
    let c = cluster();
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = connect_url(&c.url("postgres")).await;
    let template = if with_postgis { "template_postgis" } else { "template0" };
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE {template}"))
        .await
        .unwrap();
    name
}

/// A new database copied from `template`, so that runs compare on the same rows (sessions still
/// closing on the template are ended first).
pub async fn copy_of(template: &str) -> String {
    let admin = connect_url(&cluster().url("postgres")).await;
    let name = new_db("copy", false).await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1",
            &[&template],
        )
        .await
        .unwrap();
    admin.batch_execute(&format!("DROP DATABASE \"{name}\"")).await.unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
        .await
        .unwrap();
    name
}

/// A fresh install of Dawarich `tag` in a new database, optionally populated.
pub async fn dawarich_db(tag: &str, users: i64, points: i64) -> (String, Db) {
    let name = new_db("dw", true).await;
    let db = connect_url(&cluster().url(&name)).await;
    fixtures::fresh_install(&db, tag, "development").await.unwrap();
    if users > 0 {
        fixtures::populate(&db, &fixtures::Data { users, points })
            .await
            .unwrap();
    }
    (name, db)
}
