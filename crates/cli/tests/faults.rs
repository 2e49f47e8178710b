//! Faults users meet in the middle of an upgrade, against the CLI binary: the process killed while a
//! backfill runs on two sessions, the SSH link dropped, a full disk under the audit file or a
//! backup (the database server stopped at once is in `server_crash.rs`, which has its cluster to
//! itself). Each fault is placed by a condition the test sees in the database (our session waiting
//! on a lock the test holds), never by timing, and each ends with the same check: the upgrade run
//! again converges to the end state of an uninterrupted run on a copy of the same database.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use dawarich_doctor::connect::Db;
use dawarich_doctor_testkit::compare::{end_state, run_start, until, EndState};
use dawarich_doctor_testkit::shared::{cluster, connect_url, copy_of, dawarich_db};
use dawarich_doctor_testkit::sshd::{Sshd, USER};

/// The release the faulted upgrades start from: every kind of step lies ahead of it.
const FROM: &str = "0.9.5";

/// The application name the CLI's sessions get here (the test's own have the default).
const UNDER_TEST: &str = "doctor-under-test";

/// The URL the CLI is given for `database`.
fn url_of(database: &str) -> String {
    format!("{}?application_name={UNDER_TEST}", cluster().url(database))
}

/// `program` with a home of its own (the CLI's audit file in there), no database URL, no agent.
fn command(program: &str, home: &Path) -> Command {
    let mut c = Command::new(program);
    c.env("HOME", home)
        .env("DAWARICH_DOCTOR_AUDIT_FILE", home.join("audit.log"))
        .env_remove("DAWARICH_DOCTOR_URL")
        .env_remove("XDG_DOCUMENTS_DIR")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

const CLI: &str = env!("CARGO_BIN_EXE_dawarich-doctor");

/// The CLI with `args`.
fn doctor(home: &Path, args: &[String]) -> Command {
    let mut c = command(CLI, home);
    c.args(args);
    c
}

/// `upgrade` of the database at `url` in ranges of 50 on two sessions, no backup, no questions.
fn upgrade_args(url: &str, extra: &[&str]) -> Vec<String> {
    [
        "upgrade",
        "--url",
        url,
        "--yes",
        "--no-backup",
        "--workers",
        "2",
        "--batch-size",
        "50",
    ]
    .iter()
    .chain(extra)
    .map(|a| a.to_string())
    .collect()
}

async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A faulted upgrade's setting: a copy of a populated `FROM` database (`url` is what the CLI is
/// given, `db` the test's session), and where an uninterrupted upgrade of another copy ends.
struct Case {
    home: tempfile::TempDir,
    name: String,
    url: String,
    db: Db,
    since: String,
    want: EndState,
}

impl Case {
    async fn new() -> Case {
        let home = tempfile::tempdir().unwrap();
        let (base, db) = dawarich_db(FROM, 2, 300).await;
        drop(db);
        let reference = copy_of(&base).await;
        let db = connect_url(&cluster().url(&reference)).await;
        let since = run_start(&db).await;
        let out = output(doctor(home.path(), &upgrade_args(&url_of(&reference), &[]))).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let want = end_state(&db, &since).await;
        let name = copy_of(&base).await;
        let db = connect_url(&cluster().url(&name)).await;
        Case {
            url: url_of(&name),
            since: run_start(&db).await,
            home,
            name,
            db,
            want,
        }
    }

    /// The CLI with `args`.
    fn doctor(&self, args: &[String]) -> Command {
        doctor(self.home.path(), args)
    }

    /// Runs the upgrade again (with `extra` arguments) and checks it ends where the reference did.
    async fn converges(&self, extra: &[&str]) {
        let out = output(self.doctor(&upgrade_args(&self.url, extra))).await;
        assert!(out.status.success(), "the rerun: {}", stderr(&out));
        assert_eq!(end_state(&self.db, &self.since).await, self.want);
    }
}

/// A backend of the CLI.
struct Session {
    pid: i32,
    /// The sessions it waits for.
    blocked_by: Vec<i32>,
    /// Waiting for a lock.
    waiting: bool,
    query: String,
}

/// The CLI's backends in `database`.
async fn our_sessions(db: &Db, database: &str) -> Vec<Session> {
    db.query(
        "SELECT pid, pg_blocking_pids(pid), wait_event_type IS NOT DISTINCT FROM 'Lock', query
         FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        &[&database, &UNDER_TEST],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| Session {
        pid: r.get(0),
        blocked_by: r.get(1),
        waiting: r.get(2),
        query: r.get(3),
    })
    .collect()
}

/// The lines of `stream` as they come (read by a thread of their own).
fn lines(stream: impl std::io::Read + Send + 'static) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stream)).map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// A test session that blocks the upgrade's `ALTER TABLE visits` (an early schema migration of
/// `FROM`) until it rolls back.
async fn block_visits(url: &str) -> Db {
    let blocker = connect_url(url).await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE visits IN ACCESS SHARE MODE")
        .await
        .unwrap();
    blocker
}

/// Waits until a session of ours waits for `blocker`.
async fn waits_for(db: &Db, database: &str, blocker: &Db) {
    until("the upgrade waits for the test's lock", || async {
        our_sessions(db, database)
            .await
            .iter()
            .any(|s| s.blocked_by.contains(&blocker.backend_pid))
    })
    .await;
}

/// Waits up to `within` until no backend of ours is left in `database`.
async fn none_of_ours_within(db: &Db, database: &str, within: Duration) {
    let t = Instant::now();
    loop {
        let left = our_sessions(db, database).await;
        if left.is_empty() {
            return;
        }
        let left: Vec<_> = left.iter().map(|s| (s.pid, &s.query)).collect();
        assert!(
            t.elapsed() < within,
            "backends of ours still in the server {within:?} after the client was gone: {left:?}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_a_backfill_runs_on_two_sessions() {
    let c = Case::new().await;
    let (db, name) = (&c.db, &c.name);
    // Every range of the motion-data backfill (job work: every point changes; fused with the other
    // points rewrites, it comes first) ends by updating its checkpoint row in the range's transaction.
    // The test holds that row, so both sessions stop there with their first range written and not
    // committed. The row is made and taken while the upgrade waits to record its first data migration
    // (a lock on data_migrations), when every schema migration, 20260217000001's own step with its
    // checkpoint clean-up included, is done.
    let early = connect_url(&cluster().url(name)).await;
    early
        .batch_execute("BEGIN; LOCK TABLE data_migrations IN SHARE MODE")
        .await
        .unwrap();
    let mut cli = c.doctor(&upgrade_args(&c.url, &[])).spawn().unwrap();
    let progress = lines(cli.stderr.take().unwrap());
    waits_for(db, name, &early).await;
    db.batch_execute(
        "INSERT INTO dawarich_doctor.backfill_checkpoint (kind, version, statement, next_id, done)
         VALUES ('schema', '20260217000001', 0, -9223372036854775808, '{}')",
    )
    .await
    .unwrap();
    let checkpoint = connect_url(&cluster().url(name)).await;
    checkpoint
        .batch_execute(
            "BEGIN; SELECT 1 FROM dawarich_doctor.backfill_checkpoint WHERE version = '20260217000001' FOR UPDATE",
        )
        .await
        .unwrap();
    let before_walk = progress.lock().unwrap().len();
    early.batch_execute("ROLLBACK").await.unwrap();
    // Each waits with its range written (the second may wait behind the first). A lock timeout
    // rolls a range back and runs it again with twice the timeout: once one has given up after
    // 8 s and both wait again, one wait may last 16 s, longer than the server may keep it after we
    // are gone.
    until(
        "both sessions of the backfill wait at their checkpoint, one for up to 16 s",
        || async {
            progress.lock().unwrap()[before_walk..]
                .iter()
                .any(|l| l.contains("lock wait exceeded 8000 ms"))
                && our_sessions(db, name)
                    .await
                    .iter()
                    .filter(|s| s.waiting && s.query.contains("backfill_checkpoint") && s.query.contains("FOR UPDATE"))
                    .count()
                    == 2
        },
    )
    .await;
    let written: i64 = checkpoint
        .query_one("SELECT count(*) FROM points WHERE motion_data <> '{}'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(written, 0, "no range is committed while the test holds the checkpoint");

    cli.kill().unwrap(); // SIGKILL: no chance to clean up
    let killed = tokio::task::spawn_blocking(move || cli.wait().unwrap()).await.unwrap();
    assert_eq!(killed.code(), None, "killed by a signal");
    // The server notices the closed connections while its statements still wait on the test's
    // lock, instead of when their lock timeout ends.
    none_of_ours_within(db, name, Duration::from_secs(8)).await;
    let row = db
        .query_one(
            "SELECT (SELECT count(*) FROM points WHERE motion_data <> '{}'),
                    (SELECT done FROM dawarich_doctor.backfill_checkpoint WHERE version = '20260217000001')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0, "no range of the killed walk is committed");
    assert_eq!(row.get::<_, Vec<i64>>(1), Vec::<i64>::new(), "and none recorded");
    checkpoint.batch_execute("ROLLBACK").await.unwrap();

    c.converges(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssh_link_dropped_mid_upgrade() {
    let c = Case::new().await;
    let (db, name) = (&c.db, &c.name);
    let sshd = tokio::task::spawn_blocking(Sshd::start).await.unwrap();
    let key = sshd.key("ed25519");
    let dest = format!("{USER}@127.0.0.1:{}", sshd.port);
    let via_ssh = ["--ssh", &dest, "--ssh-key", &key, "--ssh-trust-new-host"];

    let blocker = block_visits(&cluster().url(name)).await;
    let cli = c.doctor(&upgrade_args(&c.url, &via_ssh)).spawn().unwrap();
    waits_for(db, name, &blocker).await;
    let listener = sshd.session_pids()[0];
    for pid in sshd.session_pids().into_iter().filter(|&p| p != listener) {
        // The link dies as when the network goes: every SSH session process of ours at once.
        Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
    }
    let out = tokio::task::spawn_blocking(move || cli.wait_with_output().unwrap())
        .await
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the SSH tunnel to") && err.contains("dropped"), "{err}");
    assert!(err.contains("Rerunning is safe"), "{err}");
    none_of_ours_within(db, name, Duration::from_secs(10)).await;
    blocker.batch_execute("ROLLBACK").await.unwrap();

    c.converges(&via_ssh).await;
}

/// `args` run in a mount namespace of their own with `dir` a tmpfs of `kib` KiB: a full disk for
/// that folder only. Standard error ends with the line `left: <what dir holds afterwards>`.
fn on_small_disk(home: &Path, dir: &Path, kib: u32, args: &[String]) -> Command {
    let script = r#"mount -t tmpfs -o size="$1"k tmpfs "$2" || exit 99
dir=$2; shift 2; "$@"; status=$?
echo "left: $(ls -A "$dir")" >&2; exit $status"#;
    let mut c = command("unshare", home);
    c.env("DAWARICH_DOCTOR_AUDIT_FILE", dir.join("audit.log"))
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script, "sh"])
        .arg(kib.to_string())
        .arg(dir)
        .arg(CLI)
        .args(args);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_disk_under_the_audit_file_fills_up() {
    let c = Case::new().await;
    let db = &c.db;
    let applied = || async {
        db.query_one("SELECT count(*) FROM schema_migrations", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let before = applied().await;

    let small = tempfile::tempdir().unwrap();
    let out = output(on_small_disk(
        c.home.path(),
        small.path(),
        12,
        &upgrade_args(&c.url, &[]),
    ))
    .await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write the audit file") && err.contains("No space left on device"),
        "{err}"
    );
    assert!(err.contains("Free space on that disk"), "{err}");
    assert!(
        applied().await > before,
        "the disk filled in the middle of the run: {err}"
    );
    // Every entry is in the database's own audit log, the one the file could not take included.
    let entries: i64 = db
        .query_one("SELECT count(*) FROM dawarich_doctor.audit_log", &[])
        .await
        .unwrap()
        .get(0);
    assert!(entries > 0);

    c.converges(&[]).await;
}

#[tokio::test]
async fn a_backup_on_a_full_disk_leaves_no_file_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let (name, _db) = dawarich_db(FROM, 2, 300).await;
    let url = url_of(&name);
    let small = tempfile::tempdir().unwrap();
    let file = small.path().join("backup.dump");
    let args: Vec<String> = ["backup", "--url", &url, "--out", file.to_str().unwrap()]
        .iter()
        .map(|a| a.to_string())
        .collect();
    let out = output(on_small_disk(home.path(), small.path(), 8, &args)).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write the backup to") && err.contains("No space left on device"),
        "{err}"
    );
    assert!(err.contains("Free space in the backup folder"), "{err}");
    assert!(
        err.trim_end().ends_with("left:"),
        "nothing may be left in the folder: {err}"
    );
}
