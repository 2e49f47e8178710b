//! Test support: one throwaway PostgreSQL + PostGIS cluster per test binary (stopped when the
//! binary exits, even on a panic or a kill, by the cluster's watchdog), and a fresh database per test.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::sync::OnceLock;

use dawarich_doctor::cluster::{Cluster, ClusterOptions};
use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor::profile::parse_url;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The binary's shared cluster (started on first use).
pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let c = Cluster::start(&ClusterOptions::default()).expect("start a throwaway PostgreSQL cluster (run scripts/setup db)");
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
    connect(&options(url)).await.unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// A new empty database (with PostGIS available, like the stock postgis image) for one test.
pub async fn new_db(prefix: &str, with_postgis: bool) -> String {
    let c = cluster();
    let name = format!("{prefix}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
    let admin = connect_url(&c.url("postgres")).await;
    let template = if with_postgis { "template_postgis" } else { "template0" };
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE {template}")).await.unwrap();
    name
}

/// A fresh install of Dawarich `tag` in a new database, optionally populated.
pub async fn dawarich_db(tag: &str, users: i64, points: i64) -> (String, Db) {
    let name = new_db("dw", true).await;
    let db = connect_url(&cluster().url(&name)).await;
    dawarich_doctor::fixtures::fresh_install(&db, tag, "development").await.unwrap();
    if users > 0 {
        dawarich_doctor::fixtures::populate(&db, &dawarich_doctor::fixtures::Data { users, points }).await.unwrap();
    }
    (name, db)
}
pub mod sshd;

/// Polls `check` until it holds, failing the test after 30 s with `what` (a condition the test waits
/// for, never a sleep).
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out after 30 s waiting until {what}");
        tokio::task::yield_now().await;
    }
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
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
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
