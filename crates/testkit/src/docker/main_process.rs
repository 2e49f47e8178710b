//! A container's main process (`docker-double --state DIR __main ID`, spawned by `start`). The app
//! stands in for Dawarich's `web-entrypoint.sh` under compose's `restart: on-failure`: it echoes the
//! script's lines and runs `rails db:migrate` then `rake data:migrate` the way they begin (the
//! bookkeeping tables, Rails' advisory lock on the migrating connection, the recorded versions
//! against the release's). For a release of the catalog it cannot run the (Ruby) migrations, so it
//! fails while anything is pending. For a future release (`Container::future`, the synthetic
//! migrations of `docker::future`) it migrates them like Rails: each announced and timed with Rails'
//! exact lines, recorded in `schema_migrations`/`data_migrations` in its transaction (or after its
//! last statement without one), and a failure printed the way rake prints it (`rails`). A failed or
//! locked attempt exits 1 and is retried after the restart delay; otherwise it reports Puma's start
//! and stays up. Sidekiq, the database and Redis just come up. Output goes to the log in docker's
//! json-file format; the process ends when `stop` kills it, when the state no longer names it, or
//! when the test process that made the state is gone.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dawarich_doctor::applied::{DATA_MIGRATIONS_SQL, RAILS_TABLES_SQL};
use dawarich_doctor::catalog::catalog;
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor_model::MigrationKind;
use serde::{Deserialize, Serialize};
use tokio_postgres::{Client, NoTls};

use super::future;
use super::rails::{self, RubyError};
use super::state::{self, lock, Container, Pg, Role};

/// One line of a container's log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// The text with its newline.
    pub text: String,
}

#[derive(Serialize, Deserialize)]
struct JsonLine {
    log: String,
    stream: String,
    time: String,
}

/// Appends a line to a log file in docker's json-file format.
pub fn log_line(path: &Path, stream: &str, text: &str) {
    let line = JsonLine {
        log: format!("{text}\n"),
        stream: stream.into(),
        time: state::rfc3339(state::now()),
    };
    if let Ok(mut f) = state::append_shared(path) {
        let _ = f.write_all(format!("{}\n", serde_json::to_string(&line).unwrap()).as_bytes());
    }
}

/// Reads a log file; a line that is not json-file (a crash message) is a stdout line without time.
pub fn read_log(path: &Path) -> Vec<LogLine> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| match serde_json::from_str::<JsonLine>(l) {
            Ok(j) => LogLine {
                time: state::parse_time(&j.time),
                stream: j.stream,
                text: j.log,
            },
            Err(_) => LogLine {
                time: None,
                stream: "stdout".into(),
                text: format!("{l}\n"),
            },
        })
        .collect()
}

struct Main {
    dir: PathBuf,
    id: String,
    me: i32,
    rt: tokio::runtime::Runtime,
}

impl Main {
    fn say(&self, text: &str) {
        self.write("stdout", text);
    }

    fn warn(&self, text: &str) {
        self.write("stderr", text);
    }

    fn write(&self, stream: &str, text: &str) {
        let line = JsonLine {
            log: format!("{text}\n"),
            stream: stream.into(),
            time: state::rfc3339(state::now()),
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(format!("{}\n", serde_json::to_string(&line).unwrap()).as_bytes());
        let _ = out.flush();
    }

    /// The container and the database, ending the process when it is no longer the container's
    /// (stopped, restarted by someone else, or the test is gone).
    fn current(&self) -> (Container, Pg) {
        self.update(|_| {})
    }

    /// Changes the container's state under the lock (ending the process like `current`).
    fn update(&self, f: impl FnOnce(&mut Container)) -> (Container, Pg) {
        let (mut l, i) = wanted(&self.dir, &self.id, self.me);
        let before = serde_json::to_string(&l.state.containers[i]).unwrap();
        f(&mut l.state.containers[i]);
        if serde_json::to_string(&l.state.containers[i]).unwrap() != before {
            let _ = l.save();
        }
        (l.state.containers[i].clone(), l.state.pg.clone())
    }

    /// Sleeps, checking every 100 ms that the process is still wanted.
    fn pause(&self, d: Duration) {
        let end = std::time::Instant::now() + d;
        while std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100).min(end - std::time::Instant::now()));
            self.current();
        }
    }

    fn idle(&self) -> ! {
        loop {
            self.pause(Duration::from_millis(250));
        }
    }

    /// Connects to the container's database, retrying like the entrypoints' `psql -c '\q'` loop.
    fn wait_for_database(&self, database: &str, unavailable: &str) -> Client {
        loop {
            let (_, pg) = self.current();
            let mut cfg = tokio_postgres::Config::new();
            cfg.host(&pg.host)
                .port(pg.port)
                .user(&pg.user)
                .password(&pg.password)
                .dbname(database)
                .connect_timeout(Duration::from_secs(5));
            let connected = self.rt.block_on(async {
                let (client, conn) = cfg.connect(NoTls).await?;
                tokio::spawn(conn);
                Ok::<_, tokio_postgres::Error>(client)
            });
            match connected {
                Ok(client) => return client,
                Err(_) => {
                    self.warn(unavailable);
                    self.pause(Duration::from_secs(2));
                }
            }
        }
    }
}

/// The locked state and the container's index while the state still names this process as the
/// container's; otherwise (stopped, restarted by someone else, or the test is gone) ends the process.
fn wanted(dir: &Path, id: &str, me: i32) -> (state::Locked, usize) {
    let Ok(l) = lock(dir) else { std::process::exit(0) };
    let owner_alive = l
        .state
        .owner
        .as_ref()
        .is_none_or(|o| state::process_start(o.pid) == Some(o.start));
    match l.state.find(id) {
        Some(i) if owner_alive && l.state.containers[i].pid == Some(me) => (l, i),
        _ => std::process::exit(0),
    }
}

/// Runs the main process of container `id`; returns only when it has nothing to run.
pub fn run(dir: &Path, id: &str) -> i32 {
    // Like the daemon, `stop` ends the process whoever asks, even a user who may not signal it (the
    // SSH tests' user stopping a container the test started): it takes the process out of the state,
    // and this watcher ends it within 50 ms, in the middle of a query or not.
    let (watched, me) = (dir.to_path_buf(), std::process::id() as i32);
    let watched_id = id.to_string();
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(50));
        drop(wanted(&watched, &watched_id, me));
    });
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return 1;
    };
    let m = Main {
        dir: dir.to_path_buf(),
        id: id.to_string(),
        me: std::process::id() as i32,
        rt,
    };
    let (c, _) = m.current();
    match c.role {
        Role::App => app(&m),
        Role::Sidekiq => sidekiq(&m),
        Role::Db => {
            m.say("LOG:  database system is ready to accept connections");
            m.update(|c| c.health = c.healthcheck.as_ref().map(|_| "healthy".into()));
            m.idle()
        }
        Role::Redis => {
            m.say("* Ready to accept connections tcp");
            m.update(|c| c.health = c.healthcheck.as_ref().map(|_| "healthy".into()));
            m.idle()
        }
    }
}

/// The database the app uses: `DATABASE_URL`'s path if set, else `DATABASE_NAME`.
fn database_of(c: &Container) -> String {
    if let Some(url) = c.env_var("DATABASE_URL").filter(|u| !u.is_empty()) {
        let host_path = url.split_once("://").map_or(url, |(_, r)| r);
        let host_path = host_path.rsplit_once('@').map_or(host_path, |(_, r)| r);
        if let Some((_, name)) = host_path.split_once('/') {
            return name.split('?').next().unwrap_or(name).to_string();
        }
    }
    c.env_var("DATABASE_NAME").unwrap_or("dawarich_development").to_string()
}

fn app(m: &Main) -> i32 {
    let mut first = true;
    loop {
        let (c, _) = if first {
            m.current()
        } else {
            m.update(|c| {
                c.state = "running".into();
                c.started_at = state::rfc3339(state::now());
                c.health = c.healthcheck.as_ref().map(|_| "starting".into());
            })
        };
        first = false;
        if boot(m, &c) {
            m.update(|c| c.health = c.healthcheck.as_ref().map(|_| "healthy".into()));
            m.idle();
        }
        let (c, _) = m.update(|c| {
            c.exit_code = 1;
            c.finished_at = state::rfc3339(state::now());
            if c.restart_policy == "no" {
                c.state = "exited".into();
            } else {
                c.state = "restarting".into();
                c.restart_count += 1;
            }
        });
        if c.state == "exited" {
            m.update(|c| c.pid = None);
            return 1;
        }
        // Stands in for docker's restart delay.
        m.pause(Duration::from_millis(500));
    }
}

/// One task of the web entrypoint that migrates: `bin/rails db:migrate` or `rake data:migrate`.
struct Task {
    tool: &'static str,
    task: &'static str,
    table: &'static str,
    kind: MigrationKind,
    folder: &'static str,
}

const TASKS: [Task; 2] = [
    Task {
        tool: "bin/rails",
        task: "db:migrate",
        table: "schema_migrations",
        kind: MigrationKind::Schema,
        folder: "db/migrate",
    },
    Task {
        tool: "rake",
        task: "data:migrate",
        table: "data_migrations",
        kind: MigrationKind::Data,
        folder: "db/data",
    },
];

/// One run of the web entrypoint; true when the server is up.
fn boot(m: &Main, c: &Container) -> bool {
    let rails_env = c.env_var("RAILS_ENV").unwrap_or("").to_string();
    let db = database_of(c);
    m.say(&format!("⚠️ Starting Rails environment: {rails_env} ⚠️"));
    m.say("Setting up all required databases...");
    m.say(&format!("Attempting to create database {db} if it doesn't exist..."));
    m.say(&format!(
        "Note: Database {db} may already exist or couldn't be created now"
    ));
    m.say(&format!("⏳ Waiting for database {db} to be ready..."));
    let client = m.wait_for_database(&db, &format!("Postgres database {db} is unavailable - retrying..."));
    m.say(&format!("✅ PostgreSQL database {db} is ready!"));
    m.say("Running migrations for all databases...");
    m.say("Running primary database migrations...");
    let synthetic = match future::of(c) {
        Ok(s) => s,
        Err(e) => {
            m.warn(&format!("docker-double: synthetic migrations: {e}"));
            return false;
        }
    };
    let image = Image {
        catalog_release: future::catalog_release(c),
        future: c.future.is_some(),
        synthetic,
        rails_env: if rails_env.is_empty() {
            "development".into()
        } else {
            rails_env.clone()
        },
    };
    let key = migration_lock_key(&db);
    for (n, task) in TASKS.iter().enumerate() {
        if n == 1 {
            m.say("Running DATA migrations...");
        }
        if let Err(failure) = m.rt.block_on(run_task(m, &client, key, task, &image)) {
            report(m, c, task, &rails_env, failure);
            return false;
        }
    }
    m.say("Running seeds...");
    let rails = catalog()
        .release(&image.catalog_release)
        .map_or("8.0.3", |r| r.rails.as_str())
        .to_string();
    for line in [
        "=> Booting Puma".to_string(),
        format!("=> Rails {rails} application starting in {rails_env} "),
        "=> Run `bin/rails server --help` for more startup options".into(),
        "Puma starting in single mode...".into(),
        format!("*  Environment: {rails_env}"),
        format!("*          PID: {}", m.me),
        "* Listening on http://[::]:3000".into(),
        "Use Ctrl-C to stop".into(),
    ] {
        m.say(&line);
    }
    true
}

/// What the app's image ships.
struct Image {
    /// The catalog release whose migrations it has (`/var/app/db/migrate`, `db/data`).
    catalog_release: String,
    /// A release the catalog does not know: its entrypoint migrates `synthetic` like Rails.
    future: bool,
    synthetic: Vec<future::Migration>,
    /// Rails' `env_name` (`development` when RAILS_ENV is empty).
    rails_env: String,
}

/// Why a migrating task aborted.
enum Failure {
    /// Versions the database lacks that the double cannot run (the catalog's, which are Ruby).
    Pending(Vec<String>),
    /// `pg_try_advisory_lock` said no.
    Locked,
    /// A query of the migrator itself failed.
    Query(tokio_postgres::Error),
    /// A statement of a migration (`None`: its bookkeeping) failed.
    Migration {
        migration: future::Migration,
        statement: Option<usize>,
        error: tokio_postgres::Error,
    },
}

/// A task as Rails runs it: the bookkeeping tables created when missing (future releases, as
/// `Migrator.new` and `create_data_schema_table` do), `pg_try_advisory_lock` on the migration key on
/// the migrating connection (failing at once when it is taken), the recorded versions read again,
/// then every pending migration in version order, and the lock released on every path.
async fn run_task(m: &Main, client: &Client, key: i64, task: &Task, image: &Image) -> Result<(), Failure> {
    if image.future {
        client.batch_execute(RAILS_TABLES_SQL).await.map_err(Failure::Query)?;
        if task.kind == MigrationKind::Data {
            client
                .batch_execute(DATA_MIGRATIONS_SQL)
                .await
                .map_err(Failure::Query)?;
        }
    }
    let got: bool = client
        .query_one(&format!("SELECT pg_try_advisory_lock({key})"), &[])
        .await
        .map_err(Failure::Query)?
        .get(0);
    if !got {
        return Err(Failure::Locked);
    }
    let result = migrate_locked(m, client, task, image).await;
    let unlocked = client
        .query_one(&format!("SELECT pg_advisory_unlock({key})"), &[])
        .await;
    result?;
    unlocked.map_err(Failure::Query)?;
    Ok(())
}

async fn migrate_locked(m: &Main, client: &Client, task: &Task, image: &Image) -> Result<(), Failure> {
    let table = task.table;
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .await
        .map_err(Failure::Query)?
        .get(0);
    let applied: BTreeSet<String> = if exists {
        client
            .query(
                &format!("SELECT \"{table}\".\"version\" FROM \"{table}\" ORDER BY \"{table}\".\"version\" ASC"),
                &[],
            )
            .await
            .map_err(Failure::Query)?
            .iter()
            .map(|r| r.get(0))
            .collect()
    } else {
        BTreeSet::new()
    };
    let shipped = catalog().versions(&image.catalog_release, task.kind);
    let runnable: Vec<&future::Migration> = image
        .synthetic
        .iter()
        .filter(|s| s.kind == task.kind && !applied.contains(&s.version))
        .collect();
    let missing: Vec<String> = shipped.difference(&applied).cloned().collect();
    if !missing.is_empty() {
        let mut pending = missing;
        pending.extend(runnable.iter().map(|s| s.version.clone()));
        return Err(Failure::Pending(pending));
    }
    if !image.future {
        return Ok(());
    }
    // Migrator#record_environment, before the migrations and even when none is pending.
    client
        .execute(
            "INSERT INTO ar_internal_metadata (key, value, created_at, updated_at)
             VALUES ('environment', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
             WHERE ar_internal_metadata.value IS DISTINCT FROM EXCLUDED.value",
            &[&image.rails_env],
        )
        .await
        .map_err(Failure::Query)?;
    for s in runnable {
        run_migration(m, client, s, table).await?;
    }
    Ok(())
}

/// One migration as `Migrator#execute_migration_in_transaction` runs it: announced, each statement
/// an `execute` (`say_with_time`), in one transaction with its version unless it disables it (then
/// each statement commits on its own and the version is recorded after the last).
async fn run_migration(m: &Main, client: &Client, s: &future::Migration, table: &str) -> Result<(), Failure> {
    let fail = |statement: Option<usize>| {
        move |error| Failure::Migration {
            migration: s.clone(),
            statement,
            error,
        }
    };
    let name = s.class_name();
    if s.transaction {
        client.batch_execute("BEGIN").await.map_err(fail(None))?;
    }
    m.say(&rails::announce(&s.version, &name, "migrating"));
    let started = Instant::now();
    for (i, sql) in s.statements.iter().enumerate() {
        m.say(&rails::say(&format!("execute({})", rails::inspect(sql)), false));
        let t = Instant::now();
        if let Err(e) = client.batch_execute(sql).await {
            if s.transaction {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            return Err(fail(Some(i))(e));
        }
        m.say(&rails::say(&rails::seconds(t.elapsed()), true));
    }
    let elapsed = rails::seconds(started.elapsed());
    m.say(&rails::announce(&s.version, &name, &format!("migrated ({elapsed})")));
    m.say("");
    // SchemaMigration#create_version (DataSchemaMigration's for data migrations).
    let mut recorded = client
        .batch_execute(&format!(
            "INSERT INTO \"{table}\" (\"version\") VALUES ('{}') RETURNING \"version\"",
            s.version
        ))
        .await;
    if recorded.is_ok() && s.transaction {
        recorded = client.batch_execute("COMMIT").await;
    }
    if let Err(e) = recorded {
        if s.transaction {
            let _ = client.batch_execute("ROLLBACK").await;
        }
        return Err(fail(None)(e));
    }
    Ok(())
}

/// The frame of Dawarich's `bin/rails` (`require 'rails/commands'`, line 6).
const BIN_RAILS: &str = "/var/app/bin/rails:6:in '<main>'";

/// Prints what rake prints when the task raised. Backtraces keep only frames in the app's own files
/// (the migration's line, `bin/rails`), not those of the gems.
fn report(m: &Main, c: &Container, task: &Task, rails_env: &str, failure: Failure) {
    let app: Vec<String> = if task.tool == "bin/rails" {
        vec![BIN_RAILS.into()]
    } else {
        vec![]
    };
    let chain = match failure {
        Failure::Pending(versions) => {
            m.warn(&format!("Migrations are pending: {}", versions.join(" ")));
            vec![RubyError {
                class: "ActiveRecord::PendingMigrationError".into(),
                message: pending_message(rails_env, c, task.kind, task.folder, &versions),
                backtrace: app,
            }]
        }
        Failure::Locked => vec![RubyError {
            class: "ActiveRecord::ConcurrentMigrationError".into(),
            message: rails::CONCURRENT_MIGRATION.into(),
            backtrace: app,
        }],
        Failure::Query(e) => {
            let (class, message, code) = rails::pg_error(&e);
            vec![
                RubyError {
                    class: rails::active_record_class(code.as_deref()).into(),
                    message: format!("{class}: {message}"),
                    backtrace: app.clone(),
                },
                RubyError {
                    class,
                    message,
                    backtrace: app,
                },
            ]
        }
        Failure::Migration {
            migration,
            statement,
            error,
        } => {
            let mut backtrace: Vec<String> = statement
                .map(|i| {
                    format!(
                        "/var/app/{}/{}:{}:in '{}#{}'",
                        migration.folder(),
                        migration.file_name(),
                        migration.line_of(i),
                        migration.class_name(),
                        migration.method()
                    )
                })
                .into_iter()
                .collect();
            backtrace.extend(app);
            rails::migration_failure(&error, migration.transaction, backtrace)
        }
    };
    for line in rails::aborted(task.tool, &chain, task.task).lines() {
        m.warn(line);
    }
}

/// Rails' `PendingMigrationError` message (the command line is named outside development and test).
fn pending_message(rails_env: &str, c: &Container, kind: MigrationKind, folder: &str, versions: &[String]) -> String {
    let mut text = String::from("Migrations are pending. To resolve this issue, run:\n\n        bin/rails db:migrate");
    if rails_env != "development" && rails_env != "test" {
        text.push_str(&format!(" RAILS_ENV={rails_env}"));
    }
    let n = versions.len();
    text.push_str(&format!(
        "\n\nYou have {n} pending {}\n\n",
        if n > 1 { "migrations:" } else { "migration:" }
    ));
    let files = future::files(c, kind).unwrap_or_default();
    for v in versions {
        let file = files
            .iter()
            .find(|(version, _)| version == v)
            .map_or_else(|| format!("{v}_"), |(_, f)| f.clone());
        text.push_str(&format!("/var/app/{folder}/{file}.rb\n"));
    }
    text
}

fn sidekiq(m: &Main) -> i32 {
    let (c, _) = m.current();
    let rails_env = c.env_var("RAILS_ENV").unwrap_or("").to_string();
    m.say(&format!("⚠️ Starting Sidekiq in {rails_env} environment ⚠️"));
    m.say("⏳ Waiting for database to be ready...");
    drop(m.wait_for_database(&database_of(&c), "Postgres is unavailable - retrying..."));
    m.say("✅ PostgreSQL is ready!");
    let redis = c
        .env_var("REDIS_URL")
        .unwrap_or("redis://dawarich_redis:6379")
        .to_string();
    m.say(&format!(
        "pid={} tid=main INFO: Booting Sidekiq 8.0.10 with Sidekiq::RedisClientAdapter options {{url: \"{redis}\"}}",
        m.me
    ));
    m.say(&format!(
        "pid={} tid=main INFO: Starting processing, hit Ctrl-C to stop",
        m.me
    ));
    m.update(|c| c.health = c.healthcheck.as_ref().map(|_| "healthy".into()));
    m.idle()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(release: &str) -> Container {
        serde_json::from_value(serde_json::json!({
            "id": "ab", "name": "x", "image": "i", "image_id": "sha256:00", "release": release, "role": "app",
            "labels": {}, "env": ["DATABASE_NAME=dawarich_production"], "cmd": [], "entrypoint": [],
            "state": "created", "pid": null, "health": null, "healthcheck": null, "restart_policy": "no",
            "restart_count": 0, "exit_code": 0, "created": state::NEVER, "started_at": state::NEVER,
            "finished_at": state::NEVER, "ip": "", "mounts": [], "ports": []
        }))
        .unwrap()
    }

    #[test]
    fn the_database_comes_from_the_url_or_the_name() {
        let mut c = app("1.7.5");
        assert_eq!(database_of(&c), "dawarich_production");
        c.set_env(
            "DATABASE_URL",
            "postgresql://postgres:p@ss@db:5432/dw_x?sslmode=disable",
        );
        assert_eq!(database_of(&c), "dw_x");
    }

    #[test]
    fn the_pending_message_lists_the_files() {
        let text = pending_message(
            "production",
            &app("1.7.5"),
            MigrationKind::Schema,
            "db/migrate",
            &["20220325100310".to_string()],
        );
        assert!(text.starts_with("Migrations are pending. To resolve this issue, run:\n\n        bin/rails db:migrate RAILS_ENV=production\n\nYou have 1 pending migration:\n\n"), "{text}");
        assert!(
            text.ends_with("/var/app/db/migrate/20220325100310_devise_create_users.rb\n"),
            "{text}"
        );
        let mut c = app("9.0.0");
        c.future = Some(future::workspace_dir());
        let text = pending_message(
            "development",
            &c,
            MigrationKind::Data,
            "db/data",
            &["20270101000004".to_string()],
        );
        assert!(
            text.ends_with(
                "\n\nYou have 1 pending migration:\n\n/var/app/db/data/20270101000004_mark_users_doctor_future.rb\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn logs_read_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        log_line(&path, "stderr", "oops");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"thread 'main' panicked\n")
            .unwrap();
        let lines = read_log(&path);
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].stream.as_str(), lines[0].text.as_str()), ("stderr", "oops\n"));
        assert!(lines[0].time.is_some());
        assert_eq!(lines[1].time, None);
    }
}
