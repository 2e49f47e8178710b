//! Releasing the Rails migration lock: only its holder, only when safe, only with the privilege.

mod common;

use std::time::Duration;

use common::*;
use dawarich_doctor::locks::{lock_report, migration_lock_key, release, ReleaseOptions};
use dawarich_doctor::Error;

fn opts(pid: i32) -> ReleaseOptions {
    ReleaseOptions {
        pid,
        force_active: false,
        stale_after_secs: 0.0,
        cancel_grace: Duration::from_millis(300),
    }
}

async fn alive(db: &dawarich_doctor::connect::Db, pid: i32) -> bool {
    db.query_one("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", &[&pid])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_stale_holder_is_released_and_audited_and_other_locks_stay() {
    let (name, db) = dawarich_db("0.9.12", 1, 5).await;
    let holder = connect_url(&cluster().url(&name)).await;
    holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let job = connect_url(&cluster().url(&name)).await;
    job.query_one("SELECT pg_try_advisory_lock(99)", &[]).await.unwrap();
    let out = release(&db, &opts(holder.backend_pid), None).await.unwrap();
    assert_eq!(out.actions, vec!["terminate"]);
    assert!(out.lock_free);
    assert!(!alive(&db, holder.backend_pid).await);
    assert!(!lock_report(&db, &name, 0.0).await.unwrap().held);
    // the job's own advisory lock is untouched, and it cannot be released as if it were the migration lock
    assert!(alive(&db, job.backend_pid).await);
    let e = release(&db, &opts(job.backend_pid), None).await.unwrap_err();
    assert!(matches!(e, Error::Refused(_)), "{e}");
    assert!(alive(&db, job.backend_pid).await);
    let logged: i64 = db
        .query_one(
            "SELECT count(*) FROM dawarich_doctor.audit_log WHERE action = 'lock-release' AND statement = $1",
            &[&format!("SELECT pg_terminate_backend({}, 5000)", holder.backend_pid)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(logged, 1);
}

#[tokio::test]
async fn an_active_holder_needs_the_force_flag_then_is_cancelled_and_terminated() {
    let (name, db) = dawarich_db("0.9.12", 1, 5).await;
    let holder = connect_url(&cluster().url(&name)).await;
    let pid = holder.backend_pid;
    holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let running = tokio::spawn(async move {
        let r = holder.batch_execute("SELECT pg_sleep(60)").await;
        (holder, r)
    });
    until("the holder runs its statement", || async {
        lock_report(&db, &name, 0.0).await.unwrap().holders[0].state.as_deref() == Some("active")
    })
    .await;
    let e = release(&db, &opts(pid), None).await.unwrap_err();
    assert!(
        matches!(&e, Error::Refused(m) if m.contains("pg_sleep(60)") && m.contains("--force-active")),
        "{e}"
    );
    assert!(alive(&db, pid).await);
    let out = release(
        &db,
        &ReleaseOptions {
            force_active: true,
            ..opts(pid)
        },
        None,
    )
    .await
    .unwrap();
    // cancelling stops the statement but a session lock outlives it: the session had to be ended
    assert_eq!(out.actions, vec!["cancel", "terminate"]);
    assert!(out.lock_free);
    let (_, r) = running.await.unwrap();
    assert!(r.is_err());
}

#[tokio::test]
async fn a_pid_that_let_go_is_not_touched() {
    let (name, db) = dawarich_db("0.9.12", 1, 5).await;
    let holder = connect_url(&cluster().url(&name)).await;
    let key = migration_lock_key(&name);
    holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap();
    let seen = lock_report(&db, &name, 0.0).await.unwrap();
    assert_eq!(seen.holders[0].pid, holder.backend_pid);
    // between the look and the act the holder releases the lock
    holder
        .query_one("SELECT pg_advisory_unlock($1)", &[&key])
        .await
        .unwrap();
    let e = release(&db, &opts(holder.backend_pid), None).await.unwrap_err();
    assert!(matches!(&e, Error::Refused(m) if m.contains("does not hold")), "{e}");
    assert!(alive(&db, holder.backend_pid).await);
}

#[tokio::test]
async fn our_own_session_is_never_ended() {
    let (name, db) = dawarich_db("0.9.12", 1, 5).await;
    db.query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(&name)])
        .await
        .unwrap();
    let e = release(&db, &opts(db.backend_pid), None).await.unwrap_err();
    assert!(matches!(&e, Error::Refused(m) if m.contains("this session")), "{e}");
}

#[tokio::test]
async fn missing_privileges_are_explained_exactly() {
    let (name, db) = dawarich_db("0.9.12", 1, 5).await;
    let suffix = std::process::id();
    let (weak, other) = (format!("weak_{suffix}"), format!("other_{suffix}"));
    db.batch_execute(&format!(
        "CREATE ROLE {weak} LOGIN PASSWORD 'pw'; CREATE ROLE {other} LOGIN PASSWORD 'pw';
         GRANT ALL ON DATABASE \"{name}\" TO {weak}, {other}; GRANT CREATE ON SCHEMA public TO {weak};"
    ))
    .await
    .unwrap();
    let key = migration_lock_key(&name);
    let weak_db = connect_url(&cluster().url_as(&weak, "pw", &name)).await;
    // a superuser holder: only a superuser may end it
    let su_holder = connect_url(&cluster().url(&name)).await;
    su_holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap();
    let e = release(&weak_db, &opts(su_holder.backend_pid), None).await.unwrap_err();
    assert!(
        matches!(&e, Error::Permission { message, .. } if message.contains("superuser")),
        "{e}"
    );
    assert!(alive(&db, su_holder.backend_pid).await);
    drop(su_holder);
    // another role's holder: needs pg_signal_backend, and the fix says so
    let other_holder = connect_url(&cluster().url_as(&other, "pw", &name)).await;
    until("the other role's session holds the lock", || async {
        other_holder
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await
            .unwrap()
            .get(0)
    })
    .await;
    let e = release(&weak_db, &opts(other_holder.backend_pid), None)
        .await
        .unwrap_err();
    let report = e.report();
    assert!(
        report.fix.contains(&format!("GRANT pg_signal_backend TO {weak}")),
        "{report:?}"
    );
    db.batch_execute(&format!("GRANT pg_signal_backend TO {weak}"))
        .await
        .unwrap();
    let out = release(&weak_db, &opts(other_holder.backend_pid), None).await.unwrap();
    assert!(out.lock_free);
}
