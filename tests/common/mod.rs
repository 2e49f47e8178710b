//! Test support: the shared cluster and fresh databases of `dawarich_doctor_testkit::shared`, and a
//! session that acts on command while a runner is paused (`controller`).
#![allow(dead_code, unused_imports)]

use std::sync::{mpsc, Mutex};

use dawarich_doctor::locks::migration_lock_key;
pub use dawarich_doctor_testkit::compare::*;
pub use dawarich_doctor_testkit::shared::*;

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
