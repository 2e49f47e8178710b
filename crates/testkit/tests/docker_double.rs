//! The docker double against the real thing it stands in for: docker's output formats and errors,
//! `exec` running the real PostgreSQL client programs on a throwaway cluster, the app container's
//! crash loop on pending migrations and on a held migration lock, a future release the app migrates
//! like Rails (and crash-loops on when a migration fails), and the unprivileged SSH user.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use dawarich_doctor::catalog::catalog;
use dawarich_doctor::connect::Db;
use dawarich_doctor::locks::{key_parts, migration_lock_key};
use dawarich_doctor_model::MigrationKind;
use dawarich_doctor_testkit::docker::{future, DockerDouble};
use dawarich_doctor_testkit::shared::{cluster, dawarich_db};
use dawarich_doctor_testkit::sshd::USER;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn docker(d: &DockerDouble, args: &[&str]) -> Run {
    let out = d.run(args);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(d: &DockerDouble, args: &[&str]) -> String {
    let r = docker(d, args);
    assert_eq!(r.code, 0, "docker {args:?}: {}", r.stderr);
    r.stdout
}

fn ps_rows(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn row<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["Names"] == name)
        .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
}

/// A double on a fresh database at `tag` (created only when `tag` is given).
async fn double(tag: Option<&str>) -> (DockerDouble, String) {
    let name = match tag {
        Some(tag) => dawarich_db(tag, 0, 0).await.0,
        None => "dawarich_development".to_string(),
    };
    (DockerDouble::stock(cluster().port, &name, tag.unwrap_or("1.7.5")), name)
}

#[tokio::test]
async fn ps_lists_like_docker_and_only_running_ones_without_all() {
    let (d, _) = double(None).await;
    let all = ps_rows(&ok(&d, &["ps", "-a", "--no-trunc", "--format", "{{json .}}"]));
    let keys: BTreeSet<&str> = all[0].as_object().unwrap().keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    ]
    .into();
    assert_eq!(keys, expected);
    assert_eq!(all.len(), 4);
    let app = row(&all, "dawarich_app");
    assert_eq!(app["Command"], "\"web-entrypoint.sh bin/rails server -p 3000 -b ::\"");
    assert_eq!(app["ID"].as_str().unwrap().len(), 64);
    assert_eq!(app["Image"], "freikin/dawarich:latest");
    assert_eq!(app["State"], "exited");
    assert_eq!(app["Status"], "Exited (0) 2 minutes ago");
    assert_eq!(app["CreatedAt"], "2024-05-01 10:00:02 +0000 UTC");
    assert_eq!(app["Networks"], "dawarich");
    let labels = app["Labels"].as_str().unwrap();
    assert!(labels.contains("com.docker.compose.project=dawarich"), "{labels}");
    assert!(labels.contains("com.docker.compose.service=dawarich_app"), "{labels}");
    let db = row(&all, "dawarich_db");
    assert_eq!(db["Status"], "Up 5 minutes (healthy)");
    assert_eq!(db["Image"], "postgis/postgis:17-3.5-alpine");
    assert_eq!(
        row(&all, "dawarich_redis")["Command"],
        "\"docker-entrypoint.sh redis-server --save 900 1 --save 300 10 --appendonly no\""
    );

    let running = ps_rows(&ok(&d, &["ps", "--format", "json"]));
    let names: BTreeSet<&str> = running.iter().map(|r| r["Names"].as_str().unwrap()).collect();
    assert_eq!(names, ["dawarich_db", "dawarich_redis"].into());
    assert_eq!(running[0]["ID"].as_str().unwrap().len(), 12);
    assert_eq!(row(&running, "dawarich_db")["Command"], "\"docker-entrypoint.s…\"");

    let by_label = ps_rows(&ok(
        &d,
        &[
            "ps",
            "-a",
            "--filter",
            "label=com.docker.compose.project=dawarich",
            "--filter",
            "label=com.docker.compose.service=dawarich_sidekiq",
            "--format",
            "{{json .}}",
        ],
    ));
    assert_eq!(by_label.len(), 1);
    assert_eq!(by_label[0]["Names"], "dawarich_sidekiq");
    let by_name = ok(
        &d,
        &[
            "ps",
            "-a",
            "--filter",
            "name=^dawarich_app$",
            "--format",
            "{{.Names}} {{.State}}",
        ],
    );
    assert_eq!(by_name, "dawarich_app exited\n");
    let table = ok(&d, &["ps"]);
    assert!(table.starts_with("CONTAINER ID   IMAGE "), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    let bad = docker(&d, &["ps", "--last", "1"]);
    assert_eq!(
        (bad.code, bad.stderr.as_str()),
        (125, "unknown flag: --last\nSee 'docker ps --help'.\n")
    );
    let bad = docker(&d, &["compose", "ps"]);
    assert_eq!(
        (bad.code, bad.stderr.lines().next()),
        (1, Some("docker: 'compose' is not a docker command."))
    );
}

#[tokio::test]
async fn inspect_prints_docker_objects_and_errors_for_missing_ones() {
    let (d, name) = double(None).await;
    let text = ok(&d, &["inspect", "dawarich_app", "dawarich_db"]);
    assert!(text.starts_with("[\n    {\n        \"Id\": \""), "{text}");
    let objs: Vec<Value> = serde_json::from_str(&text).unwrap();
    let (app, db) = (&objs[0], &objs[1]);
    assert_eq!(app["Name"], "/dawarich_app");
    assert_eq!(app["Path"], "web-entrypoint.sh");
    assert_eq!(
        app["Args"],
        serde_json::json!(["bin/rails", "server", "-p", "3000", "-b", "::"])
    );
    assert!(app["Image"].as_str().unwrap().starts_with("sha256:"));
    let st = &app["State"];
    for key in [
        "Status",
        "Running",
        "Paused",
        "Restarting",
        "OOMKilled",
        "Dead",
        "Pid",
        "ExitCode",
        "Error",
        "StartedAt",
        "FinishedAt",
    ] {
        assert!(st.get(key).is_some(), "State.{key} missing: {st}");
    }
    assert_eq!(
        (st["Status"].as_str(), st["Running"].as_bool()),
        (Some("exited"), Some(false))
    );
    assert_eq!(app["RestartCount"], 0);
    assert_eq!(
        app["HostConfig"]["RestartPolicy"],
        serde_json::json!({"Name": "on-failure", "MaximumRetryCount": 0})
    );
    assert_eq!(db["HostConfig"]["RestartPolicy"]["Name"], "always");
    let env: Vec<&str> = app["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for e in [
        "RAILS_ENV=development",
        "TIME_ZONE=Europe/London",
        "SELF_HOSTED=true",
        "DATABASE_HOST=dawarich_db",
        "DATABASE_PORT=5432",
        "DATABASE_USERNAME=postgres",
        "DATABASE_PASSWORD=password",
    ] {
        assert!(env.contains(&e), "{e} not in {env:?}");
    }
    assert!(env.contains(&format!("DATABASE_NAME={name}").as_str()));
    let hc = &app["Config"]["Healthcheck"];
    assert_eq!(hc["Test"][0], "CMD-SHELL");
    assert!(hc["Test"][1]
        .as_str()
        .unwrap()
        .starts_with("wget -qO - http://127.0.0.1:3000/api/v1/health | grep -q"));
    assert_eq!(
        (
            hc["Interval"].as_i64(),
            hc["Retries"].as_i64(),
            hc["StartPeriod"].as_i64()
        ),
        (Some(10_000_000_000), Some(30), Some(30_000_000_000))
    );
    assert_eq!(app["Config"]["Labels"]["com.docker.compose.service"], "dawarich_app");
    assert_eq!(app["Config"]["Entrypoint"], serde_json::json!(["web-entrypoint.sh"]));
    assert_eq!(db["NetworkSettings"]["Networks"]["dawarich"]["IPAddress"], "127.0.0.1");
    assert_eq!(db["State"]["Health"]["Status"], "healthy");
    assert!(db["Config"]["Env"]
        .as_array()
        .unwrap()
        .contains(&Value::from(format!("POSTGRES_DB={name}"))));

    // What src/tunnel.rs asks for.
    let ip = ok(
        &d,
        &[
            "inspect",
            "--type",
            "container",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
            "dawarich_db",
        ],
    );
    assert_eq!(ip, "127.0.0.1 \n");
    assert_eq!(
        ok(&d, &["inspect", "--format", "{{.State.Status}}", "dawarich_app"]),
        "exited\n"
    );
    let env_json: Vec<String> =
        serde_json::from_str(&ok(&d, &["inspect", "-f", "{{json .Config.Env}}", "dawarich_app"])).unwrap();
    assert!(env_json.contains(&"TIME_ZONE=Europe/London".to_string()));
    assert!(!ok(&d, &["inspect", "-f", "{{json .Config.Env}}", "dawarich_sidekiq"]).contains("TIME_ZONE"));

    let missing = docker(&d, &["inspect", "nope"]);
    assert_eq!(
        (missing.code, missing.stdout.as_str(), missing.stderr.as_str()),
        (1, "[]\n", "Error: No such object: nope\n")
    );
    let missing = docker(&d, &["inspect", "--type", "container", "dawarich_app", "nope"]);
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (1, "Error: No such container: nope\n")
    );
    assert_eq!(serde_json::from_str::<Vec<Value>>(&missing.stdout).unwrap().len(), 1);
    let unsupported = docker(&d, &["inspect", "--format", "{{printf \"%s\" .Name}}", "dawarich_app"]);
    assert_eq!(
        (unsupported.code, unsupported.stderr.as_str()),
        (1, "template: unsupported by the test double\n")
    );
}

#[tokio::test]
async fn denied_docker_fails_every_command_and_calls_are_recorded() {
    let (d, _) = double(None).await;
    d.set_denied(true);
    for args in [
        &["ps"][..],
        &["inspect", "dawarich_db"],
        &["exec", "dawarich_db", "psql"],
    ] {
        let r = docker(&d, args);
        assert_eq!(r.code, 1);
        assert!(
            r.stderr.starts_with(
                "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock"
            ),
            "{}",
            r.stderr
        );
    }
    assert_eq!(
        d.calls(),
        vec![
            vec!["ps"],
            vec!["inspect", "dawarich_db"],
            vec!["exec", "dawarich_db", "psql"]
        ]
    );
}

#[tokio::test]
async fn an_argument_reaches_docker_as_one_word() {
    let (d, _) = double(None).await;
    let marker = std::env::temp_dir().join(format!("docker-double-injected-{}", std::process::id()));
    let arg = format!(
        "it's \"quoted\" $(touch {}) `touch {}` ; rm -rf x",
        marker.display(),
        marker.display()
    );
    let direct = docker(&d, &["inspect", "--format", "{{.Name}}", &arg]);
    assert_eq!(direct.stderr, format!("Error: No such object: {arg}\n"));
    // Through a shell, as an SSH session runs the command line.
    let path = format!("{}:{}", d.bin_dir().display(), std::env::var("PATH").unwrap());
    let out = Command::new("sh")
        .args(["-c", "docker exec dawarich_db psql -c \"$1\"", "sh", &arg])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let calls = d.calls();
    assert_eq!(calls[0], ["inspect", "--format", "{{.Name}}", arg.as_str()]);
    assert_eq!(calls[1], ["exec", "dawarich_db", "psql", "-c", arg.as_str()]);
    assert!(!marker.exists(), "the argument was run by a shell");
}

#[tokio::test]
async fn exec_runs_the_real_postgres_client_programs() {
    let (name2, _db) = dawarich_db("1.7.5", 2, 50).await;
    let d = DockerDouble::stock(cluster().port, &name2, "1.7.5");
    let dump = d.run(&["exec", "dawarich_db", "pg_dump", "-Fc", "-U", "postgres", &name2]);
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    assert!(dump.stdout.starts_with(b"PGDMP"), "not a custom-format archive");
    let file = d.state_dir().join("backup.dump");
    std::fs::write(&file, &dump.stdout).unwrap();
    let list = Command::new(cluster().bin().join("pg_restore"))
        .arg("--list")
        .arg(&file)
        .output()
        .unwrap();
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    assert!(String::from_utf8_lossy(&list.stdout).contains("TABLE DATA public points"));

    // -i passes stdin: restore into a new database and count.
    let target = dawarich_doctor_testkit::shared::new_db("restored", true).await;
    let restore = Command::new(d.docker())
        .args([
            "exec",
            "-i",
            "dawarich_db",
            "pg_restore",
            "-U",
            "postgres",
            "--no-owner",
            "-d",
            &target,
        ])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    let count = ok(
        &d,
        &[
            "exec",
            "dawarich_db",
            "psql",
            "-U",
            "postgres",
            "-d",
            &target,
            "-Atc",
            "SELECT count(*) FROM points",
        ],
    );
    assert_eq!(count, "50\n");
    assert!(ok(&d, &["exec", "dawarich_db", "pg_isready", "-U", "postgres"]).contains("accepting connections"));

    // Without -i the program gets no stdin; without -U the user is the container's root.
    let psql = |flags: &[&str]| {
        let mut child = Command::new(d.docker())
            .arg("exec")
            .args(flags)
            .args(["dawarich_db", "psql", "-U", "postgres", "-d", &target, "-At"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(b"SELECT 40 + 2;\n");
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    assert_eq!(psql(&["-i"]), "42\n");
    assert_eq!(psql(&[]), "");
    let as_root = docker(&d, &["exec", "dawarich_db", "psql", "-d", &target, "-c", "SELECT 1"]);
    assert_eq!(as_root.code, 2);
    // (The container's trust on its socket would say `role "root" does not exist`; the cluster asks for
    // a password first.)
    assert!(as_root.stderr.contains("for user \"root\""), "{}", as_root.stderr);

    let other = docker(&d, &["exec", "dawarich_db", "sh", "-c", "pg_dump"]);
    assert_eq!(other.code, 126);
    assert_eq!(other.stderr, "OCI runtime exec failed: exec failed: unable to start container process: exec: \"sh\": executable file not found in $PATH: unknown\n");
    let stopped = docker(&d, &["exec", "dawarich_app", "bin/rails", "runner", "1"]);
    let app_id = d.get("dawarich_app").id;
    assert_eq!(
        (stopped.code, stopped.stderr),
        (
            1,
            format!("Error response from daemon: container {app_id} is not running\n")
        )
    );
    assert_eq!(ok(&d, &["stop", "dawarich_db"]), "dawarich_db\n");
    let down = docker(&d, &["exec", "dawarich_db", "pg_isready"]);
    assert!(down.stderr.ends_with("is not running\n"), "{}", down.stderr);
    let missing = docker(&d, &["exec", "nope", "ls"]);
    assert_eq!(
        (missing.code, missing.stderr.as_str()),
        (1, "Error response from daemon: No such container: nope\n")
    );
}

#[tokio::test]
async fn cp_reads_the_release_from_a_stopped_app() {
    let (d, _) = double(None).await;
    d.set_release("dawarich_app", "1.6.1");
    let tar = d.run(&["cp", "dawarich_app:/var/app/.app_version", "-"]);
    assert!(tar.status.success());
    let file = d.state_dir().join("v.tar");
    std::fs::write(&file, &tar.stdout).unwrap();
    let out = Command::new("tar").arg("-xOf").arg(&file).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1.6.1\n");
    let listing = Command::new("tar").arg("-tf").arg(&file).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&listing.stdout), ".app_version\n");
    let other = docker(&d, &["cp", "dawarich_app:/etc/passwd", "-"]);
    assert_eq!(
        (other.code, other.stderr.as_str()),
        (
            1,
            "Error response from daemon: Could not find the file /etc/passwd in container dawarich_app\n"
        )
    );
}

/// Polls `check` until it holds, failing after [`WAIT`].
fn poll(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gone(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit_once(')').unwrap().1.trim_start().starts_with(['Z', 'X']))
        .unwrap_or(true)
}

#[tokio::test]
async fn the_app_comes_up_on_an_up_to_date_database_and_stops() {
    let (d, _) = double(Some("1.7.5")).await;
    assert_eq!(
        ok(&d, &["start", "dawarich_app", "dawarich_sidekiq"]),
        "dawarich_app\ndawarich_sidekiq\n"
    );
    let app = d.wait_until("dawarich_app", "the app is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    assert_eq!((app.state.as_str(), app.restart_count), ("running", 0));
    d.wait_until("dawarich_sidekiq", "sidekiq is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    let rows = ps_rows(&ok(&d, &["ps", "--format", "{{json .}}"]));
    assert!(row(&rows, "dawarich_app")["Status"]
        .as_str()
        .unwrap()
        .ends_with("(healthy)"));
    assert_eq!(
        row(&rows, "dawarich_app")["Ports"],
        "0.0.0.0:3000->3000/tcp, [::]:3000->3000/tcp"
    );
    let log = d.app_log("dawarich_app");
    assert!(
        log.contains("Running DATA migrations...\nRunning seeds...\n=> Booting Puma\n"),
        "{log}"
    );
    assert!(
        log.ends_with("* Listening on http://[::]:3000\nUse Ctrl-C to stop\n"),
        "{log}"
    );
    assert_eq!(
        ok(&d, &["logs", "--tail", "2", "dawarich_app"]),
        "* Listening on http://[::]:3000\nUse Ctrl-C to stop\n"
    );
    let stamped = ok(&d, &["logs", "-n", "1", "-t", "dawarich_app"]);
    assert!(
        stamped.len() == "2024-05-01T10:00:00.000000000Z Use Ctrl-C to stop\n".len()
            && stamped.ends_with("Z Use Ctrl-C to stop\n"),
        "{stamped}"
    );
    assert_eq!(ok(&d, &["logs", "--since", "2099-01-01T00:00:00Z", "dawarich_app"]), "");

    assert_eq!(
        ok(
            &d,
            &["exec", "dawarich_app", "bin/rails", "runner", "Rails.cache.clear"]
        ),
        ""
    );
    assert!(d.app_log("dawarich_app").ends_with("runner: Rails.cache.clear\n"));
    assert_eq!(
        ok(&d, &["exec", "dawarich_app", "cat", "/var/app/.app_version"]),
        "1.7.5\n"
    );
    let files = ok(&d, &["exec", "dawarich_app", "ls", "db/migrate"]);
    assert_eq!(
        files.lines().count(),
        catalog().shipped("1.7.5", MigrationKind::Schema).len()
    );
    assert!(
        files.lines().all(|f| f.ends_with(".rb") && f.as_bytes()[14] == b'_'),
        "{files}"
    );

    let pid = app.pid.unwrap();
    assert_eq!(ok(&d, &["stop", "dawarich_app"]), "dawarich_app\n");
    let app = d.get("dawarich_app");
    assert_eq!((app.state.as_str(), app.pid, app.exit_code), ("exited", None, 0));
    assert!(gone(pid), "the app's process {pid} is still there");
    assert!(ok(
        &d,
        &["ps", "-a", "--filter", "name=dawarich_app", "--format", "{{.Status}}"]
    )
    .starts_with("Exited (0) "));
    let sidekiq_pid = d.get("dawarich_sidekiq").pid.unwrap();
    drop(d);
    assert!(
        gone(sidekiq_pid),
        "dropping the double leaves sidekiq's process {sidekiq_pid}"
    );
}

#[tokio::test]
async fn a_pending_migration_makes_the_app_crash_loop_until_stopped() {
    let (d, name) = double(Some("1.7.5")).await;
    let db = dawarich_doctor_testkit::shared::connect_url(&cluster().url(&name)).await;
    let newest = catalog()
        .versions("1.7.5", MigrationKind::Schema)
        .into_iter()
        .next_back()
        .unwrap();
    db.execute("DELETE FROM schema_migrations WHERE version = $1", &[&newest])
        .await
        .unwrap();
    ok(&d, &["start", "dawarich_app"]);
    let app = d.wait_until("dawarich_app", "the app restarted twice", WAIT, |c| {
        c.restart_count >= 2
    });
    assert_eq!(app.exit_code, 1);
    let log = d.app_log("dawarich_app");
    assert!(log.contains(&format!("Migrations are pending: {newest}\nbin/rails aborted!\nActiveRecord::PendingMigrationError: Migrations are pending.")), "{log}");
    assert!(log.contains("Tasks: TOP => db:migrate\n"), "{log}");
    assert!(!log.contains("Puma starting"), "{log}");
    // docker logs keeps the streams apart.
    let streams = docker(&d, &["logs", "dawarich_app"]);
    assert!(streams.stderr.contains("bin/rails aborted!\n"), "{}", streams.stderr);
    assert!(!streams.stdout.contains("aborted") && streams.stdout.contains("Running primary database migrations...\n"));
    let inspect: Vec<Value> = serde_json::from_str(&ok(&d, &["inspect", "dawarich_app"])).unwrap();
    assert!(inspect[0]["RestartCount"].as_u64().unwrap() >= 2);
    // Between attempts docker shows it restarting and refuses exec.
    poll("ps shows the app restarting", || {
        ok(
            &d,
            &["ps", "--filter", "name=^dawarich_app$", "--format", "{{.Status}}"],
        )
        .starts_with("Restarting (1) ")
    });
    poll("exec is refused while restarting", || {
        docker(&d, &["exec", "dawarich_app", "cat", "/var/app/.app_version"])
            .stderr
            .ends_with("is restarting, wait until the container is running\n")
    });
    d.wait_until("dawarich_app", "the app restarted again", WAIT, |c| {
        c.restart_count > app.restart_count
    });

    let pid = d.get("dawarich_app").pid.unwrap();
    ok(&d, &["stop", "dawarich_app"]);
    let stopped = d.get("dawarich_app");
    assert_eq!((stopped.state.as_str(), stopped.pid), ("exited", None));
    assert!(gone(pid));
    assert!(ok(&d, &["ps", "-a", "--format", "{{.Names}} {{.Status}}"]).contains("dawarich_app Exited ("));

    // Once the migration is recorded, a start comes up.
    db.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&newest])
        .await
        .unwrap();
    ok(&d, &["start", "dawarich_app"]);
    let up = d.wait_until("dawarich_app", "the app is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    assert_eq!(up.restart_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_migration_lock_makes_the_app_crash_loop_until_released() {
    let (d, name) = double(Some("1.7.5")).await;
    let holder = dawarich_doctor_testkit::shared::connect_url(&cluster().url(&name)).await;
    let key = migration_lock_key(&name);
    let got: bool = holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap()
        .get(0);
    assert!(got);
    ok(&d, &["start", "dawarich_app"]);
    d.wait_until("dawarich_app", "the app restarted", WAIT, |c| c.restart_count >= 1);
    let log = d.app_log("dawarich_app");
    assert!(
        log.contains("bin/rails aborted!\nActiveRecord::ConcurrentMigrationError: Cannot run migrations because another migration process is currently running. (ActiveRecord::ConcurrentMigrationError)\n/var/app/bin/rails:6:in '<main>'\nTasks: TOP => db:migrate\n"),
        "{log}"
    );
    holder
        .query_one("SELECT pg_advisory_unlock($1)", &[&key])
        .await
        .unwrap();
    d.wait_until("dawarich_app", "the app is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
}

#[tokio::test]
async fn the_unprivileged_ssh_user_can_run_the_double() {
    // SAFETY: geteuid has no preconditions.
    assert!(
        unsafe { libc::geteuid() } == 0,
        "this test runs the double as {USER} and needs root"
    );
    let (d, _) = double(Some("1.7.5")).await;
    let as_user = |args: &[&str]| {
        Command::new("runuser")
            .args(["-u", USER, "--"])
            .arg(d.docker())
            .args(args)
            .output()
            .unwrap()
    };
    let out = as_user(&["ps", "-a", "--format", "{{json .}}"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ps_rows(&String::from_utf8_lossy(&out.stdout)).len(), 4);
    let out = as_user(&["start", "dawarich_sidekiq"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    d.wait_until("dawarich_sidekiq", "sidekiq is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    let db = d.get("dawarich_db");
    let database = db.env_var("POSTGRES_DB").unwrap();
    let dump = as_user(&[
        "exec",
        "dawarich_db",
        "pg_dump",
        "-U",
        "postgres",
        "--schema-only",
        database,
    ]);
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    assert!(String::from_utf8_lossy(&dump.stdout).contains("CREATE TABLE public.points"));
    let out = as_user(&["stop", "dawarich_sidekiq"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(d.get("dawarich_sidekiq").state, "exited");
    // Like the daemon, the double stops a container whoever started it: the user may not signal a
    // process of the test's (root), and it is gone all the same when stop returns.
    ok(&d, &["start", "dawarich_app"]);
    let pid = d.get("dawarich_app").pid.unwrap();
    let out = as_user(&["stop", "dawarich_app"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(gone(pid), "the process of the stopped container still runs");
    assert_eq!(d.calls().len(), 6);
}

#[test]
fn an_ssh_session_finds_the_double_first_on_its_path() {
    let d = DockerDouble::stock(cluster().port, "dawarich_development", "1.7.5");
    let sshd = dawarich_doctor_testkit::sshd::Sshd::start_with_path(d.bin_dir());
    let known = sshd.known_hosts_with(&[format!("[127.0.0.1]:{} {}", sshd.port, sshd.host_key())]);
    let out = Command::new("ssh")
        .args([
            "-p",
            &sshd.port.to_string(),
            "-i",
            &sshd.key("ed25519"),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known.display()))
        .arg(format!("{USER}@127.0.0.1"))
        .arg("docker ps -a --filter 'name=^dawarich_db$' --format '{{.Names}} {{.State}}'")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        sshd.log()
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "dawarich_db running\n");
    assert_eq!(
        d.calls(),
        vec![vec![
            "ps",
            "-a",
            "--filter",
            "name=^dawarich_db$",
            "--format",
            "{{.Names}} {{.State}}"
        ]]
    );
    assert_eq!(sshd.docker_calls(), "", "the sshd's own fake docker was used");
}

#[test]
fn the_double_s_processes_end_with_the_test_process() {
    let d = DockerDouble::stock(cluster().port, "dawarich_development", "1.7.5");
    let mut owner = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = owner.id() as i32;
    d.update(|st| {
        st.owner = Some(dawarich_doctor_testkit::docker::state::Owner {
            pid,
            start: dawarich_doctor_testkit::docker::state::process_start(pid).unwrap(),
        })
    });
    ok(&d, &["stop", "dawarich_redis"]);
    ok(&d, &["start", "dawarich_redis"]);
    let redis = d.wait_until("dawarich_redis", "redis is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    let main = redis.pid.unwrap();
    assert!(!gone(main));
    owner.kill().unwrap();
    owner.wait().unwrap();
    poll("redis's process ends", || gone(main));
}

/// The synthetic release the future-release tests use.
const FUTURE: &str = "9.0.0";

/// A populated 1.7.5 database and a double whose app and sidekiq are the synthetic future release
/// (`tests/future`).
async fn future_double(users: i64, points: i64) -> (DockerDouble, String, Db) {
    let (name, db) = dawarich_db("1.7.5", users, points).await;
    let d = DockerDouble::stock(cluster().port, &name, "1.7.5").with_future_release(FUTURE, &future::workspace_dir());
    (d, name, db)
}

fn is_time(t: &str) -> bool {
    t.strip_suffix('s')
        .and_then(|n| n.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.len() == 4
                && b.bytes().all(|c| c.is_ascii_digit())
        })
}

/// The log with Rails' timings (`0.0123s`) written `N.NNNNs`.
fn mask_times(log: &str) -> String {
    log.lines()
        .map(|l| {
            if l.strip_prefix("   -> ").is_some_and(is_time) {
                return "   -> N.NNNNs".to_string();
            }
            if let Some((head, rest)) = l.split_once(": migrated (") {
                if let Some((t, tail)) = rest.split_once(')') {
                    if is_time(t) {
                        return format!("{head}: migrated (N.NNNNs){tail}");
                    }
                }
            }
            l.to_string()
        })
        .map(|l| l + "\n")
        .collect()
}

async fn versions(db: &Db, table: &str) -> BTreeSet<String> {
    db.query(&format!("SELECT version FROM {table}"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Whether the index exists and is valid (`None`: it does not exist).
async fn index_valid(db: &Db, index: &str) -> Option<bool> {
    db.query_opt(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1",
        &[&index],
    )
    .await
    .unwrap()
    .map(|r| r.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_migrates_a_future_release_like_rails() {
    let (d, name, db) = future_double(2, 3000).await;
    let synthetic = future::load(&future::workspace_dir()).unwrap();
    let newest = catalog().newest().tag.clone();
    ok(&d, &["start", "dawarich_app"]);
    let app = d.wait_until("dawarich_app", "the app is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    assert_eq!((app.state.as_str(), app.restart_count), ("running", 0));
    let raw = d.app_log("dawarich_app");
    let log = mask_times(&raw);
    // Rails' exact lines: announce padded to 79 columns, say_with_time, a blank line after each.
    assert!(
        log.contains(
            "Running primary database migrations...
== 20270101000001 AddDoctorFutureNote: migrating ==============================
-- execute(\"ALTER TABLE points ADD COLUMN doctor_future_note text\")
   -> N.NNNNs
== 20270101000001 AddDoctorFutureNote: migrated (N.NNNNs) =====================

== 20270101000002 BackfillDoctorFutureNote: migrating =========================
-- execute(\"UPDATE points\\n   SET doctor_future_note = ("
        ),
        "{log}"
    );
    assert!(
        log.contains(
            "-- execute(\"SELECT pg_sleep(0.5)\")
   -> N.NNNNs
== 20270101000002 BackfillDoctorFutureNote: migrated (N.NNNNs) ================

== 20270101000003 AddUniqueIndexToPointsUserTimestamp: migrating ==============
-- execute(\"CREATE UNIQUE INDEX CONCURRENTLY index_points_on_user_timestamp_future ON points (user_id, \\\"timestamp\\\")\")
   -> N.NNNNs
-- execute(\"CREATE INDEX CONCURRENTLY index_points_on_doctor_future_note ON points (doctor_future_note)\")
   -> N.NNNNs
== 20270101000003 AddUniqueIndexToPointsUserTimestamp: migrated (N.NNNNs) =====

Running DATA migrations...
== 20270101000004 MarkUsersDoctorFuture: migrating ============================
-- execute(\"UPDATE users SET settings = COALESCE(settings, '{}'::jsonb) || jsonb_build_object('doctor_future', true)\")
   -> N.NNNNs
== 20270101000004 MarkUsersDoctorFuture: migrated (N.NNNNs) ===================

Running seeds...
=> Booting Puma
"
        ),
        "{log}"
    );
    for line in log.lines().filter(|l| l.starts_with("== ")) {
        assert_eq!(line.chars().count(), 79, "{line}");
    }
    assert_eq!(
        log.matches("-- execute(").count(),
        synthetic.iter().map(|m| m.statements.len()).sum::<usize>()
    );
    assert!(!log.contains("aborted!"), "{log}");
    // The backfill is real work, not only its sleep.
    let update = raw
        .lines()
        .skip_while(|l| !l.starts_with("-- execute(\"UPDATE points"))
        .nth(1)
        .and_then(|l| l.strip_prefix("   -> "))
        .and_then(|t| t.trim_end_matches('s').parse::<f64>().ok())
        .unwrap();
    assert!(update >= 0.1, "the backfill took {update}s");

    // Both bookkeeping tables, each with its own kind.
    let schema = versions(&db, "schema_migrations").await;
    let data = versions(&db, "data_migrations").await;
    for m in &synthetic {
        let (mine, other) = match m.kind {
            MigrationKind::Schema => (&schema, &data),
            MigrationKind::Data => (&data, &schema),
        };
        assert!(
            mine.contains(&m.version) && !other.contains(&m.version),
            "{}",
            m.version
        );
    }
    assert!(catalog().versions(&newest, MigrationKind::Schema).is_subset(&schema));
    let row = db
        .query_one(
            "SELECT count(*) FILTER (WHERE doctor_future_note IS NULL), min(length(doctor_future_note)), count(*) FROM points",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, Option<i32>>(1), row.get::<_, i64>(2)),
        (0, Some(32), 3000)
    );
    assert_eq!(
        index_valid(&db, "index_points_on_user_timestamp_future").await,
        Some(true)
    );
    assert_eq!(index_valid(&db, "index_points_on_doctor_future_note").await, Some(true));
    let marked: i64 = db
        .query_one(
            "SELECT count(*) FROM users WHERE settings->>'doctor_future' = 'true'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(marked, 2);
    let env: String = db
        .query_one("SELECT value FROM ar_internal_metadata WHERE key = 'environment'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(env, "development");
    let (classid, objid) = key_parts(migration_lock_key(&name));
    let held: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
            &[&i64::from(classid), &i64::from(objid)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(held, 0, "the migration lock was released");

    // The image: its release, and the synthetic files next to the catalog's.
    assert_eq!(
        ok(&d, &["exec", "dawarich_app", "cat", "/var/app/.app_version"]),
        format!("{FUTURE}\n")
    );
    let listing = ok(&d, &["exec", "dawarich_app", "ls", "db/migrate", "db/data"]);
    let (migrate, data_files) = listing.split_once("\n\ndb/data:\n").unwrap();
    let migrate = migrate.strip_prefix("db/migrate:\n").unwrap();
    assert!(migrate.ends_with(
        "20270101000001_add_doctor_future_note.rb
20270101000002_backfill_doctor_future_note.rb
20270101000003_add_unique_index_to_points_user_timestamp.rb"
    ));
    assert_eq!(
        migrate.lines().count(),
        catalog().shipped(&newest, MigrationKind::Schema).len() + 3
    );
    assert!(
        data_files.ends_with("\n20270101000004_mark_users_doctor_future.rb\n"),
        "{data_files}"
    );
    assert!(!data_files.contains("add_doctor_future_note"));
    assert_eq!(
        ok(&d, &["exec", "dawarich_app", "ls", "db/migrate"]).lines().count(),
        migrate.lines().count()
    );

    // Started again, nothing is pending and nothing runs.
    ok(&d, &["stop", "dawarich_app"]);
    ok(&d, &["start", "dawarich_app"]);
    d.wait_until("dawarich_app", "the app is healthy again", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    let log = d.app_log("dawarich_app");
    assert_eq!(log.matches("AddDoctorFutureNote: migrating").count(), 1, "{log}");
    assert_eq!(log.matches("=> Booting Puma").count(), 2, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_future_migration_crash_loops_until_its_data_is_fixed() {
    let (d, _, db) = future_double(2, 3000).await;
    // A second point of the first point's user at the same time, somewhere else.
    let planted = db
        .query_one(
            "INSERT INTO points (latitude, longitude, \"timestamp\", raw_data, created_at, updated_at, import_id, user_id, lonlat)
             SELECT latitude + 0.001, longitude, \"timestamp\", raw_data, now(), now(), import_id, user_id,
                    ST_SetSRID(ST_MakePoint(longitude::float8, latitude::float8 + 0.001), 4326)::geography
               FROM points ORDER BY id LIMIT 1
             RETURNING id, user_id, \"timestamp\"",
            &[],
        )
        .await
        .unwrap();
    let (dup, user, ts): (i64, i64, i32) = (planted.get(0), planted.get(1), planted.get(2));
    ok(&d, &["start", "dawarich_app"]);
    let app = d.wait_until("dawarich_app", "the app restarted twice", WAIT, |c| {
        c.restart_count >= 2
    });
    assert_eq!(app.exit_code, 1);
    assert_ne!(app.health.as_deref(), Some("healthy"));
    let log = d.app_log("dawarich_app");
    let index = "index_points_on_user_timestamp_future";
    let detail = format!("DETAIL:  Key (user_id, \"timestamp\")=({user}, {ts}) is duplicated.");
    let frames = "/var/app/db/migrate/20270101000003_add_unique_index_to_points_user_timestamp.rb:7:in 'AddUniqueIndexToPointsUserTimestamp#change'
/var/app/bin/rails:6:in '<main>'";
    // Rails' migrator wraps Active Record's exception, which wraps pg's; rake prints all three.
    let first = format!(
        "-- execute(\"CREATE UNIQUE INDEX CONCURRENTLY {index} ON points (user_id, \\\"timestamp\\\")\")
bin/rails aborted!
StandardError: An error has occurred, all later migrations canceled: (StandardError)

PG::UniqueViolation: ERROR:  could not create unique index \"{index}\"
{detail}
{frames}

Caused by:
ActiveRecord::RecordNotUnique: PG::UniqueViolation: ERROR:  could not create unique index \"{index}\" (ActiveRecord::RecordNotUnique)
{detail}
{frames}

Caused by:
PG::UniqueViolation: ERROR:  could not create unique index \"{index}\" (PG::UniqueViolation)
{detail}
{frames}
Tasks: TOP => db:migrate
(See full trace by running task with --trace)
⚠️ Starting Rails environment: development ⚠️
"
    );
    assert!(log.contains(&first), "{log}");
    // The failed concurrent build left its index INVALID, so the next attempts stop on its name.
    let again = format!(
        "bin/rails aborted!
StandardError: An error has occurred, all later migrations canceled: (StandardError)

PG::DuplicateTable: ERROR:  relation \"{index}\" already exists
{frames}

Caused by:
ActiveRecord::StatementInvalid: PG::DuplicateTable: ERROR:  relation \"{index}\" already exists (ActiveRecord::StatementInvalid)
{frames}

Caused by:
PG::DuplicateTable: ERROR:  relation \"{index}\" already exists (PG::DuplicateTable)
{frames}
Tasks: TOP => db:migrate
"
    );
    assert!(log.contains(&again), "{log}");
    assert!(
        log.matches("bin/rails aborted!").count() >= app.restart_count as usize,
        "{log}"
    );
    assert_eq!(log.matches("BackfillDoctorFutureNote: migrated").count(), 1, "{log}");
    assert!(!log.contains("Running DATA migrations..."), "{log}");
    let streams = docker(&d, &["logs", "dawarich_app"]);
    assert!(streams
        .stderr
        .contains(&first[first.find("bin/rails aborted!").unwrap()..first.find("⚠️").unwrap()]));
    assert!(
        !streams.stdout.contains("aborted!")
            && streams
                .stdout
                .contains("AddUniqueIndexToPointsUserTimestamp: migrating")
    );

    let schema = versions(&db, "schema_migrations").await;
    assert!(schema.contains("20270101000001") && schema.contains("20270101000002"));
    assert!(
        !schema.contains("20270101000003"),
        "the failed migration is not recorded"
    );
    assert!(!versions(&db, "data_migrations").await.contains("20270101000004"));
    assert_eq!(index_valid(&db, index).await, Some(false));
    assert_eq!(index_valid(&db, "index_points_on_doctor_future_note").await, None);

    // Fixed by hand while it loops: the next attempt goes through.
    db.execute("DELETE FROM points WHERE id = $1", &[&dup]).await.unwrap();
    db.batch_execute(&format!("DROP INDEX IF EXISTS {index}"))
        .await
        .unwrap();
    let up = d.wait_until("dawarich_app", "the app is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    assert_eq!(up.state, "running");
    assert!(up.restart_count >= app.restart_count);
    assert!(versions(&db, "schema_migrations").await.contains("20270101000003"));
    assert!(versions(&db, "data_migrations").await.contains("20270101000004"));
    assert_eq!(index_valid(&db, index).await, Some(true));
    let log = mask_times(&d.app_log("dawarich_app"));
    assert!(
        log.contains("== 20270101000003 AddUniqueIndexToPointsUserTimestamp: migrated (N.NNNNs) =====\n\nRunning DATA migrations...\n"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_keeps_the_future_release_from_migrating() {
    let (d, name, db) = future_double(1, 100).await;
    let holder = dawarich_doctor_testkit::shared::connect_url(&cluster().url(&name)).await;
    let key = migration_lock_key(&name);
    let got: bool = holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .await
        .unwrap()
        .get(0);
    assert!(got);
    ok(&d, &["start", "dawarich_app"]);
    let app = d.wait_until("dawarich_app", "the app restarted twice", WAIT, |c| {
        c.restart_count >= 2
    });
    let log = d.app_log("dawarich_app");
    assert!(
        log.contains(
            "Running primary database migrations...
bin/rails aborted!
ActiveRecord::ConcurrentMigrationError: Cannot run migrations because another migration process is currently running. (ActiveRecord::ConcurrentMigrationError)
/var/app/bin/rails:6:in '<main>'
Tasks: TOP => db:migrate
(See full trace by running task with --trace)
"
        ),
        "{log}"
    );
    assert!(!log.contains(": migrating"), "{log}");
    assert!(!versions(&db, "schema_migrations").await.contains("20270101000001"));
    d.wait_until("dawarich_app", "the app restarted again", WAIT, |c| {
        c.restart_count > app.restart_count
    });
    holder
        .query_one("SELECT pg_advisory_unlock($1)", &[&key])
        .await
        .unwrap();
    d.wait_until("dawarich_app", "the app is healthy", WAIT, |c| {
        c.health.as_deref() == Some("healthy")
    });
    let schema = versions(&db, "schema_migrations").await;
    assert!(schema.contains("20270101000003"));
}
