//! End-to-end: the built app in its real webview (WebKitGTK, driven by tauri-driver +
//! WebKitWebDriver under Xvfb) against a throwaway PostgreSQL holding a broken Dawarich database:
//! add a connection from a URL, test it (a wrong password first), save, diagnose, see the upgrade
//! plan, duplicate and delete; then again with the system in dark mode, where the password (no
//! keychain here) is asked for. A second connection, to a Dawarich 0.9.11 like the demo sandbox, goes
//! through the upgrade screen: in light, lock release and repairs only, then Undo and the audit log
//! with its export; in dark, the whole one-click upgrade to 1.7.5, verified. Every destructive step
//! is answered in its native GTK dialog with xdotool (Escape: Cancel, which must change nothing;
//! Return: the default button, go ahead), and so is the export's save dialog. Screenshots of every
//! screen go to target/e2e-screenshots/.
//!
//! Run with scripts/test, or: ui/build.sh && DAWARICH_DOCTOR_E2E=1 xvfb-run -a -s "-screen 0 1280x1024x24" \
//!   cargo test -p dawarich-doctor-app --test e2e -- --nocapture

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor::profile::parse_url;
use dawarich_doctor_testkit::cluster::{Cluster, ClusterOptions};
use dawarich_doctor_testkit::fixtures;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(40);

async fn db(url: &str) -> Db {
    let p = parse_url(url).unwrap();
    connect(&ConnectOptions::new(p.profile, p.password))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// tauri-driver, stopped with SIGTERM (SIGKILL would leave WebKitWebDriver running).
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// `docker`: a directory put first on the app's PATH (the docker double).
    fn start(home: &std::path::Path, dark: bool, docker: &std::path::Path) -> Driver {
        let (port, native) = (free_port(), free_port());
        let config = home.join("config");
        std::fs::create_dir_all(config.join("gtk-3.0")).unwrap();
        // The system setting a desktop would have: GTK's dark preference (WebKitGTK maps it to
        // prefers-color-scheme).
        std::fs::write(
            config.join("gtk-3.0/settings.ini"),
            format!("[Settings]\ngtk-application-prefer-dark-theme={}\n", dark as u8),
        )
        .unwrap();
        let bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let child = Command::new(&bin)
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_DOCUMENTS_DIR", home.join("documents"))
            .env(
                "PATH",
                std::env::join_paths(
                    std::iter::once(docker.to_path_buf())
                        .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
                )
                .unwrap(),
            )
            .env_remove("GTK_THEME")
            .env("DAWARICH_DOCTOR_KEYCHAIN", "off")
            .env("DAWARICH_DOCTOR_STALE_AFTER", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin} (cargo install tauri-driver --locked, or scripts/setup e2e): {e}"));
        let d = Driver { child, port };
        for p in [port, native] {
            let t = Instant::now();
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(t.elapsed() < TIMEOUT, "tauri-driver did not listen on {p}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        d
    }

    async fn session(&self) -> Client {
        // DAWARICH_DOCTOR_APP: test another build of the app, e.g. the release binary of the .deb.
        let app =
            std::env::var("DAWARICH_DOCTOR_APP").unwrap_or_else(|_| env!("CARGO_BIN_EXE_dawarich-doctor-app").into());
        let mut caps = serde_json::Map::new();
        caps.insert("tauri:options".into(), json!({ "application": app }));
        caps.insert("browserName".into(), json!("wry"));
        let mut last = None;
        for _ in 0..5 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(c) => return c,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("no WebDriver session: {last:?}");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Polls `done` every 100 ms until it holds; fails with `what` after TIMEOUT.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let t = Instant::now();
    while !done().await {
        assert!(t.elapsed() < TIMEOUT, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The native GTK dialog (a window of its own, outside the webview, so out of WebDriver's reach)
/// whose title starts with `title`: waits until it is shown, focuses it and presses `keys` with
/// xdotool. The message dialog's default button is the one that goes ahead (Return); Escape cancels.
async fn answer_dialog(title: &str, keys: &[&str]) -> String {
    let pattern = format!(
        "^{}",
        title
            .chars()
            .map(|c| if "\\.^$*+?()[]{}|".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            })
            .collect::<String>()
    );
    let xdotool = |args: Vec<String>| async move {
        let out = tokio::process::Command::new("xdotool")
            .args(&args)
            .output()
            .await
            .unwrap_or_else(|e| panic!("xdotool (scripts/setup e2e installs it): {e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    };
    let t = Instant::now();
    let window = loop {
        let (found, ids) = xdotool(vec![
            "search".into(),
            "--onlyvisible".into(),
            "--name".into(),
            pattern.clone(),
        ])
        .await;
        if found && !ids.is_empty() {
            break ids.lines().last().unwrap().to_string();
        }
        assert!(t.elapsed() < TIMEOUT, "no native dialog titled {title:?} appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (_, name) = xdotool(vec!["getwindowname".into(), window.clone()]).await;
    let (focused, _) = xdotool(vec!["windowfocus".into(), "--sync".into(), window.clone()]).await;
    assert!(focused, "could not focus the dialog {name:?}");
    for k in keys {
        let (ok, _) = if let Some(text) = k.strip_prefix("type:") {
            xdotool(vec!["type".into(), "--delay".into(), "20".into(), text.into()]).await
        } else {
            xdotool(vec!["key".into(), "--clearmodifiers".into(), k.to_string()]).await
        };
        assert!(ok, "xdotool {k} in {name:?}");
    }
    // gone once answered
    while xdotool(vec![
        "search".into(),
        "--onlyvisible".into(),
        "--name".into(),
        pattern.clone(),
    ])
    .await
    .1
    .lines()
    .any(|w| w == window)
    {
        assert!(t.elapsed() < TIMEOUT, "the dialog {name:?} stayed open after {keys:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("dialog {name:?}: {keys:?}");
    name
}

/// Rows the audit log holds (0 before Dawarich Doctor changed anything).
async fn audit_rows(db: &Db) -> i64 {
    if db
        .query_one("SELECT to_regclass('dawarich_doctor.audit_log') IS NULL", &[])
        .await
        .unwrap()
        .get(0)
    {
        return 0;
    }
    db.query_one("SELECT count(*) FROM dawarich_doctor.audit_log", &[])
        .await
        .unwrap()
        .get(0)
}

async fn points(db: &Db) -> i64 {
    db.query_one("SELECT count(*) FROM points", &[]).await.unwrap().get(0)
}

/// The page, polled and retried (tauri-driver sometimes drops a request).
struct Page {
    c: Client,
    shots: PathBuf,
    theme: &'static str,
}

impl Page {
    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        let mut last = None;
        for _ in 0..5 {
            match self.c.execute(script, args.clone()).await {
                Ok(v) => return v,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("script failed: {last:?}");
    }

    /// `textContent` of the first match, or None.
    async fn text(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(String::from)
    }

    async fn value(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .map(String::from)
    }

    async fn count(&self, css: &str) -> usize {
        self.js(
            "return document.querySelectorAll(arguments[0]).length;",
            vec![json!(css)],
        )
        .await
        .as_u64()
        .unwrap_or(0) as usize
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let t = Instant::now();
        loop {
            let got = self.text(css).await;
            if let Some(s) = &got {
                if ok(s) {
                    return s.clone();
                }
            }
            if t.elapsed() > TIMEOUT {
                let body = self.text("body").await.unwrap_or_default();
                panic!(
                    "[{}] timed out waiting for {css} to be {what}; it is {got:?}\npage: {body}",
                    self.theme
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_for(&self, css: &str) {
        self.wait_text(css, "present", |_| true).await;
    }

    async fn click(&self, css: &str) {
        self.wait_for(css).await;
        let mut last = None;
        for _ in 0..5 {
            match self.c.find(Locator::Css(css)).await {
                Ok(e) => match e.click().await {
                    Ok(()) => return,
                    Err(err) => last = Some(err),
                },
                Err(err) => last = Some(err),
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        panic!("click {css}: {last:?}");
    }

    /// Replaces the content of an input by typing (real key events, as a user would).
    async fn type_into(&self, css: &str, text: &str) {
        self.wait_for(css).await;
        let e = self.c.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        if self.value(css).await.is_some_and(|v| !v.is_empty()) {
            // clear() does not fire input events on every WebKit: select all and type over it
            e.send_keys("\u{E009}a\u{E009}\u{E003}").await.unwrap();
        }
        e.send_keys(text).await.unwrap();
    }

    /// Saves a screenshot as target/e2e-screenshots/<theme>-<name>.png (after a frame settles).
    async fn shot(&self, name: &str) {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let png = self.c.screenshot().await.unwrap();
        let path = self.shots.join(format!("{}-{name}.png", self.theme));
        std::fs::write(&path, png).unwrap();
        println!("screenshot {}", path.display());
    }
}

// It needs a display and the drivers: scripts/test runs the workspace's tests under xvfb-run with
// DAWARICH_DOCTOR_E2E=1 (one cargo invocation, so the app is not built twice). Without it the test is
// ignored, and cargo lists it as such (build.rs sets the `e2e` cfg from that variable).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(e2e),
    ignore = "SKIPPED: set DAWARICH_DOCTOR_E2E=1 and run under xvfb-run (scripts/test does)"
)]
async fn add_test_save_and_diagnose_a_broken_dawarich_in_light_and_dark() {
    let started = Instant::now();
    // A Dawarich 1.3.1 database with 7 points whose user is gone, and a session holding the Rails
    // migration lock (idle: stale after the 1 s threshold the app is started with).
    let cluster = Cluster::start(&ClusterOptions::default()).expect("throwaway PostgreSQL (scripts/setup db)");
    let name = "dawarich_e2e";
    let admin = db(&cluster.url("postgres")).await;
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let dw = db(&cluster.url(name)).await;
    dw.batch_execute("CREATE EXTENSION postgis").await.unwrap();
    fixtures::fresh_install(&dw, "1.3.1", "production").await.unwrap();
    fixtures::populate(&dw, &fixtures::Data { users: 2, points: 400 })
        .await
        .unwrap();
    fixtures::orphan_points(&dw, 7).await.unwrap();
    let holder = db(&cluster.url(name)).await;
    let got: bool = holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(name)])
        .await
        .unwrap()
        .get(0);
    assert!(got);
    let url = cluster.url(name);
    // Like the demo sandbox: Dawarich 0.9.11 with ownerless points (two users, so no rule names
    // their owner) and a stale lock holder; the one-click upgrade runs on it.
    let old = "dawarich_old";
    admin.batch_execute(&format!("CREATE DATABASE {old}")).await.unwrap();
    let odb = db(&cluster.url(old)).await;
    odb.batch_execute("CREATE EXTENSION postgis").await.unwrap();
    fixtures::fresh_install(&odb, "0.9.11", "development").await.unwrap();
    fixtures::populate(&odb, &fixtures::Data { users: 2, points: 400 })
        .await
        .unwrap();
    let orphans = fixtures::orphan_points(&odb, 7).await.unwrap();
    // 3 of them name no import, topic or tracker: nothing infers their owner
    odb.execute(
        "UPDATE points SET import_id = NULL, topic = NULL, tracker_id = NULL WHERE id = ANY($1)",
        &[&orphans[..3].to_vec()],
    )
    .await
    .unwrap();
    let old_holder = db(&cluster.url(old)).await;
    assert!(old_holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(old)])
        .await
        .unwrap()
        .get::<_, bool>(0));
    let old_url = cluster.url(old);
    // The Docker host (this computer's `docker`, the double): a stock install whose app uses another
    // database until the dark run, where it is the old server's and crash-loops on its migrations.
    let double = dawarich_doctor_testkit::docker::DockerDouble::stock(cluster.port, "dawarich_elsewhere", "1.7.5");
    println!(
        "database ready in {:?}: {}",
        started.elapsed(),
        dawarich_doctor::profile::redact(&url)
    );

    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let home = tempfile_dir();

    // ---- light: the whole flow from an empty app ----
    {
        let driver = Driver::start(&home, false, double.bin_dir());
        let p = Page {
            c: driver.session().await,
            shots: shots.clone(),
            theme: "light",
        };
        p.wait_for("#new-connection").await;
        let bg = p
            .js("return getComputedStyle(document.body).backgroundColor;", vec![])
            .await;
        assert_eq!(bg, json!("rgb(244, 246, 248)"), "light theme");
        p.wait_text("main", "the empty list", |t| t.contains("No saved connection yet"))
            .await;
        p.shot("01-connections-empty").await;

        p.click("#new-connection").await;
        p.type_into("#paste", &url).await;
        p.click("#fill-from-paste").await;
        p.wait_text("#f-host", "present", |_| true).await;
        until("the form was not filled from the URL", async || {
            p.value("#f-port").await.as_deref() == Some(&cluster.port.to_string())
        })
        .await;
        assert_eq!(p.value("#f-host").await.as_deref(), Some("127.0.0.1"));
        assert_eq!(p.value("#f-database").await.as_deref(), Some(name));
        assert_eq!(
            p.value("#f-password").await.as_deref(),
            Some("postgres"),
            "the password from the URL is in the form"
        );
        p.type_into("#f-name", "Home server").await;
        p.shot("02-form-filled-from-url").await;

        // a wrong password: authentication fails with its fix, later steps are skipped
        p.type_into("#f-password", "wrong").await;
        p.click("#test-connection").await;
        let auth = p
            .wait_text("[data-step=authentication]", "failed", |t| t.contains("Failed"))
            .await;
        assert!(
            auth.contains("authentication failed") && auth.contains("Fix:"),
            "{auth}"
        );
        assert!(p.text("[data-step=tcp]").await.unwrap().contains("OK"));
        assert!(p.text("[data-step=dawarich]").await.unwrap().contains("Skipped"));
        p.shot("03-test-wrong-password").await;

        p.type_into("#f-password", "postgres").await;
        p.click("#test-connection").await;
        let dawarich = p
            .wait_text("[data-step=dawarich]", "detected", |t| t.contains("Dawarich 1.3.1"))
            .await;
        assert!(dawarich.contains("pending"), "{dawarich}");
        assert!(p
            .text("[data-step=authentication]")
            .await
            .unwrap()
            .contains("logged in"));
        assert!(
            p.text("[data-step=tls]").await.unwrap().contains("not encrypted"),
            "the throwaway server has no TLS"
        );
        assert!(p.text("[data-step=postgis]").await.unwrap().contains("PostGIS 3"));
        p.shot("04-test-ok").await;

        p.click("#save-profile").await;
        p.wait_text(".profile-card", "saved", |t| t.contains("Home server"))
            .await;
        let notice = p.wait_text("#notice", "the save notice", |t| t.contains("Saved")).await;
        assert!(notice.contains("kept in memory"), "no keychain here: {notice}");
        p.shot("05-connections-saved").await;

        p.click(".profile-card button.diagnose").await;
        let summary = p
            .wait_text("#summary", "the diagnosis", |t| t.contains("will fail"))
            .await;
        assert!(summary.contains("stale"), "{summary}");
        assert_eq!(
            p.text("[data-check=points-without-user] .count").await.as_deref(),
            Some("7")
        );
        assert!(
            p.text("[data-check=points-without-user]")
                .await
                .unwrap()
                .contains("Warning"),
            "nothing pending on 1.3.1 fails on them: a warning"
        );
        assert_eq!(p.text("#release").await.as_deref(), Some("1.3.1"));
        assert!(
            p.text("#pending").await.unwrap().ends_with("data for 1.7.5"),
            "{:?}",
            p.text("#pending").await
        );
        assert_eq!(
            p.js(
                "return document.querySelector('[data-verdict]').dataset.verdict;",
                vec![]
            )
            .await,
            json!("stale")
        );
        p.shot("06-diagnosis").await;

        // duplicate, then delete the copy (two steps: Delete, Really delete)
        p.click("#tab-connections").await;
        p.click(".profile-card button.duplicate").await;
        p.wait_text(".profiles", "two profiles", |t| t.contains("Home server (copy)"))
            .await;
        assert_eq!(p.count(".profile-card").await, 2);
        // delete the copy: Cancel in the native dialog keeps it, Delete removes it
        p.click(".profile-card:nth-child(2) button.delete").await;
        let asking = p
            .wait_text("#asking", "the question in the page", |t| {
                t.contains("Home server (copy)")
            })
            .await;
        assert!(asking.contains("The database itself is not touched"), "{asking}");
        p.shot("06b-delete-confirm").await;
        answer_dialog("Delete \u{201c}Home server (copy)\u{201d}?", &["Escape"]).await;
        until("the question stayed in the page", async || {
            p.count("#asking").await == 0
        })
        .await;
        assert_eq!(p.count(".profile-card").await, 2, "Cancel deleted nothing");
        p.click(".profile-card:nth-child(2) button.delete").await;
        answer_dialog("Delete \u{201c}Home server (copy)\u{201d}?", &["Return"]).await;
        until("the copy was not deleted", async || p.count(".profile-card").await == 1).await;

        // a second connection, to a Dawarich 0.9.11 like the demo: its upgrade plan
        p.click("#new-connection").await;
        p.type_into("#paste", &old_url).await;
        p.click("#fill-from-paste").await;
        p.wait_text("#f-database", "filled", |_| true).await;
        until("the form was not filled from the URL", async || {
            p.value("#f-database").await.as_deref() == Some(old)
        })
        .await;
        p.type_into("#f-name", "Old server").await;
        p.click("#test-connection").await;
        p.wait_text("[data-step=dawarich]", "detected", |t| t.contains("Dawarich 0.9.11"))
            .await;
        p.click("#save-profile").await;
        p.wait_text(".profiles", "saved", |t| t.contains("Old server")).await;
        p.click(".profile-card:nth-child(2) button.diagnose").await;
        let summary = p
            .wait_text("#summary", "the diagnosis", |t| t.contains("will fail"))
            .await;
        assert!(summary.contains("stale"), "{summary}");
        assert_eq!(
            p.text("[data-check=points-without-user] .count").await.as_deref(),
            Some("7")
        );
        p.click("#fix-and-upgrade").await;
        // no Docker host here: the backup is made with this computer's pg_dump, into the documents folder
        let file = p
            .wait_text("#backup-file", "the backup file", |t| t.ends_with(".dump"))
            .await;
        assert!(
            file.contains("Dawarich Doctor backups") && file.contains(&format!("{old}-0.9.11-")),
            "{file}"
        );
        p.wait_for("[data-repair=points-without-user]").await;
        // the plan names the environment it follows and where each value came from; a time zone
        // set here is kept with the connection and the plan is made again with it
        let settings = p
            .wait_text("#plan-settings", "the settings", |t| t.contains("RAILS_ENV"))
            .await;
        assert!(
            settings.contains("RAILS_ENV production (the stock docker-compose default)"),
            "{settings}"
        );
        assert_eq!(p.value("#time-zone").await.as_deref(), Some("Europe/London"));
        p.type_into("#time-zone", "Europe/Berlin").await;
        p.click("#set-time-zone").await;
        p.wait_text("#time-zone-source", "the saved time zone", |t| {
            t.contains("the connection's setting")
        })
        .await;
        assert_eq!(p.value("#time-zone").await.as_deref(), Some("Europe/Berlin"));
        p.wait_for("[data-repair=points-without-user]").await;
        p.shot("07-upgrade-plan").await;
        p.click("#dry-run").await;
        p.wait_text("#dry-run-sql", "the SQL", |t| {
            t.contains("CREATE") || t.contains("ALTER")
        })
        .await;
        p.js("document.querySelector('#dry-run-sql').scrollIntoView();", vec![])
            .await;
        p.shot("08-upgrade-dry-run").await;
        // lock release and repairs only (migrations left to Dawarich), then Undo the quarantine
        // Cancel at the first question (ending the lock holder): nothing at all changes
        let points_before = points(&odb).await;
        p.click("#dry-run").await;
        p.click("#stop-after").await;
        p.click("#start-upgrade").await;
        let asking = p
            .wait_text("#asking", "the question in the page", |t| t.contains("End session"))
            .await;
        assert!(
            asking.contains("holds the Rails migration lock") && asking.contains("rolled back"),
            "{asking}"
        );
        p.shot("09-upgrade-confirm-lock").await;
        answer_dialog("End session ", &["Escape"]).await;
        let result = p.wait_text("#upgrade-result", "stopped", |_| true).await;
        assert!(
            result.contains("Stopped before the end") && result.contains("Cancelled") && result.contains("did not run"),
            "{result}"
        );
        let holder_pid: i32 = old_holder
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .expect("Cancel left the lock holder's session alive")
            .get(0);
        let held: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1 AND granted",
                &[&holder_pid],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(held, 1, "Cancel: the lock is still held");
        assert_eq!(points(&odb).await, points_before, "Cancel: no point moved");
        assert_eq!(audit_rows(&odb).await, 0, "Cancel: nothing ran");
        p.shot("10-upgrade-cancelled").await;
        // again, answering each question with its default button: end the session, infer, quarantine
        p.click("#upgrade-again").await;
        p.click("#stop-after").await;
        p.click("#start-upgrade").await;
        answer_dialog("End session ", &["Return"]).await;
        let asking = p
            .wait_text("#asking", "the repair question", |t| t.contains("with infer"))
            .await;
        assert!(asking.contains("Repair 4 points without a user"), "{asking}");
        answer_dialog("Repair 4 points without a user with infer?", &["Return"]).await;
        let asking = p
            .wait_text("#asking", "the quarantine question", |t| t.contains("Quarantine"))
            .await;
        assert!(
            asking.contains("Quarantine 3 points without a user?")
                && asking.contains("copied to dawarich_doctor.quarantine_* first")
                && asking.contains("Undo"),
            "{asking}"
        );
        p.shot("11-upgrade-confirm-quarantine").await;
        answer_dialog("Quarantine 3 points without a user?", &["Return"]).await;
        let result = p.wait_text("#upgrade-result", "finished", |_| true).await;
        assert!(
            result.contains("Dawarich runs the migrations at its next start"),
            "{result}\n{:?}",
            p.text("#phases").await
        );
        assert!(p.text("[data-phase=lock]").await.unwrap().contains("the lock is free"));
        let q = p.text("#quarantined").await.unwrap_or_default();
        assert!(
            q.contains("infer: 4 rows changed") && q.contains("quarantine: 3 rows moved"),
            "{q}"
        );
        p.shot("12-upgrade-repairs-done").await;
        assert_eq!(points(&odb).await, points_before - 3, "3 points quarantined");
        p.click("#quarantined li.quarantine button.undo").await;
        let asking = p
            .wait_text("#asking", "the undo question", |t| t.contains("Undo repair run"))
            .await;
        assert!(asking.contains("3 quarantined rows go back"), "{asking}");
        answer_dialog("Undo run ", &["Return"]).await;
        let undone = p
            .wait_text("#quarantined .undone", "undone", |t| t.contains("put back"))
            .await;
        assert!(undone.contains("3 rows"), "{undone}");
        p.shot("13-upgrade-undone").await;
        assert_eq!(points(&odb).await, points_before, "Undo put the 3 points back");
        // the audit log: every statement of those runs, filtered by action
        p.click("#tab-log").await;
        p.wait_text("#log-table", "the audit log", |t| {
            t.contains("lock-release") && t.contains("undo")
        })
        .await;
        p.shot("14-log").await;
        p.js("const s = document.querySelector('#log-action'); s.value = 'repair'; s.dispatchEvent(new Event('change'));", vec![]).await;
        until("the action filter did not apply", async || p.js("return [...document.querySelectorAll('#log-table tbody tr')].some(r => r.dataset.action !== 'repair');", vec![]).await == json!(false)).await;
        let shown = p.count("#log-table tbody tr").await;
        assert!(shown >= 2);
        // export what is shown, through the native save dialog (the typed path replaces the name)
        let export = home.join("export/audit-repair.jsonl");
        std::fs::create_dir_all(export.parent().unwrap()).unwrap();
        p.click("#log-export").await;
        answer_dialog(
            "Export the audit log",
            &["ctrl+a", &format!("type:{}", export.display()), "Return"],
        )
        .await;
        let notice = p
            .wait_text("#notice", "the export notice", |t| t.contains("Exported"))
            .await;
        assert!(
            notice.contains(&format!("Exported {shown} entries to {}", export.display())),
            "{notice}"
        );
        let lines: Vec<Value> = std::fs::read_to_string(&export)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), shown, "the file holds exactly the entries shown");
        assert!(
            lines
                .iter()
                .all(|l| l["action"] == "repair" && l["run_id"].is_string() && l["statement"].is_string()),
            "{lines:?}"
        );
        assert!(
            !std::fs::read_to_string(&export).unwrap().contains(":postgres@"),
            "no secret in the export"
        );
        p.shot("15-log-exported").await;
        p.c.clone().close().await.unwrap();
    }

    // ---- dark: a new run of the app (same data folder); the password is asked for ----
    {
        let driver = Driver::start(&home, true, double.bin_dir());
        let p = Page {
            c: driver.session().await,
            shots: shots.clone(),
            theme: "dark",
        };
        p.wait_text(".profile-card", "the saved profile", |t| t.contains("Home server"))
            .await;
        let bg = p
            .js("return getComputedStyle(document.body).backgroundColor;", vec![])
            .await;
        assert_eq!(bg, json!("rgb(17, 22, 28)"), "dark theme follows the system");
        assert!(
            p.text(".profile-card").await.unwrap().contains("password asked"),
            "no keychain: asked each run"
        );
        p.shot("01-connections").await;
        p.click(".profile-card button.edit").await;
        p.click("#test-connection").await;
        p.wait_text("[data-step=authentication]", "failed without a password", |t| {
            t.contains("Failed")
        })
        .await;
        p.type_into("#f-password", "postgres").await;
        p.click("#test-connection").await;
        p.wait_text("[data-step=dawarich]", "detected", |t| t.contains("Dawarich 1.3.1"))
            .await;
        p.shot("02-connection-test").await;
        p.click("#cancel-edit").await;
        p.click(".profile-card button.diagnose").await;
        p.wait_for("#prompt-password").await;
        p.shot("03-password-prompt").await;
        p.type_into("#prompt-password", "postgres").await;
        p.click("#prompt-submit").await;
        p.wait_text("#summary", "the diagnosis", |t| t.contains("will fail"))
            .await;
        p.shot("04-diagnosis").await;

        // one-click upgrade of the old server (its lock was released in the light run, the 3
        // points put back): backup, containers stopped, orphans quarantined, migrations to 1.7.5,
        // Dawarich started again, verified. Its app now uses it and crash-loops on the migrations.
        double.set_env("dawarich_app", "DATABASE_NAME", old);
        double.run(&["start", "dawarich_app"]);
        double.wait_until("dawarich_app", "the app crash-loops", Duration::from_secs(30), |c| {
            c.restart_count >= 1
        });
        p.click("#tab-connections").await;
        p.click(".profile-card:nth-child(2) button.diagnose").await;
        p.type_into("#prompt-password", "postgres").await;
        p.click("#prompt-submit").await;
        p.wait_text("#summary", "the diagnosis", |t| t.contains("will fail"))
            .await;
        assert_eq!(
            p.text("[data-check=points-without-user] .count").await.as_deref(),
            Some("3")
        );
        let card = p
            .wait_text("#card-containers", "the containers", |t| t.contains("crash-looping"))
            .await;
        assert!(
            card.contains("dawarich_app") && card.contains("Dawarich 1.7.5"),
            "{card}"
        );
        p.js("document.querySelector('#card-containers').scrollIntoView();", vec![])
            .await;
        p.shot("04-diagnosis-containers").await;
        p.click("#fix-and-upgrade").await;
        p.wait_for("#backup-file").await;
        let step = p
            .wait_text("#step-containers", "the containers step", |t| {
                t.contains("dawarich_sidekiq")
            })
            .await;
        assert!(step.contains("stopped before the changes, started again"), "{step}");
        assert!(p.text("#step-lock").await.unwrap().contains("Free"));
        assert_eq!(
            p.value("[data-repair=points-without-user] .repair-strategy")
                .await
                .as_deref(),
            Some("infer")
        );
        assert_eq!(
            p.value("[data-repair=points-without-user] .repair-then")
                .await
                .as_deref(),
            Some("quarantine")
        );
        p.shot("05-upgrade-plan").await;
        p.click("#dry-run").await;
        p.wait_for("#dry-run-sql").await;
        p.js("document.querySelector('#dry-run-sql').scrollIntoView();", vec![])
            .await;
        p.shot("06-upgrade-dry-run").await;
        p.click("#dry-run").await;
        p.click("#start-upgrade").await;
        // the backup runs without a question; stopping the containers asks
        let asking = p
            .wait_text("#asking", "the stop question", |t| t.contains("Stop dawarich_sidekiq"))
            .await;
        assert!(asking.contains("crash-looping app keeps retrying"), "{asking}");
        p.shot("07-upgrade-confirm-stop").await;
        answer_dialog("Stop dawarich_sidekiq and dawarich_app?", &["Return"]).await;
        // infer finds no owner for these 3 (nothing to change, no question): quarantine, then migrate
        answer_dialog("Quarantine 3 points without a user?", &["Return"]).await;
        let asking = p
            .wait_text("#asking", "the migrations question", |t| t.contains("migrations"))
            .await;
        assert!(
            asking.contains("from Dawarich 0.9.11 to Dawarich 1.7.5") && asking.contains("backup"),
            "{asking}"
        );
        p.shot("07-upgrade-confirm-migrations").await;
        answer_dialog("Apply ", &["Return"]).await;
        let t = Instant::now();
        let result = loop {
            if let Some(r) = p.text("#upgrade-result").await {
                break r;
            }
            assert!(
                t.elapsed() < Duration::from_secs(180),
                "the upgrade did not finish: {:?}",
                p.text("#phases").await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(
            result.contains("exactly what Dawarich 1.7.5 expects"),
            "{result}\n{:?}",
            p.text("#phases").await
        );
        let q = p.text("#quarantined").await.unwrap_or_default();
        assert!(q.contains("quarantine: 3 rows moved"), "{q}");
        // Dawarich was started again and is healthy; its follow-ups ran in the app container
        let up = p.text("#dawarich-up").await.unwrap_or_default();
        assert!(
            up.contains("Dawarich 1.7.5 is up") && up.contains("Listening on") && up.contains("bin/rails runner"),
            "{up}"
        );
        assert!(
            p.text("#start-containers").await.is_none(),
            "nothing left to start by hand"
        );
        let app = double.get("dawarich_app");
        assert_eq!(
            (app.state.as_str(), app.health.as_deref()),
            ("running", Some("healthy"))
        );
        p.shot("08-upgrade-done").await;
        let made = p.text("#backup-made").await.unwrap();
        assert!(
            made.contains("verified") && made.contains("docker exec -i dawarich_db pg_restore --clean --if-exists"),
            "{made}"
        );
        p.js("document.querySelector('#backup-made').scrollIntoView();", vec![])
            .await;
        p.shot("08-upgrade-done-backup").await;
        p.js("document.querySelector('#dawarich-up').scrollIntoView();", vec![])
            .await;
        p.shot("09-upgrade-done-bottom").await;
        p.click("#tab-log").await;
        p.wait_text("#log-table", "the audit log", |t| t.contains("migrate"))
            .await;
        p.shot("10-log").await;
        // Cancel in the save dialog writes nothing
        p.click("#log-export").await;
        answer_dialog("Export the audit log", &["Escape"]).await;
        p.wait_text("#notice", "the cancel notice", |t| t.contains("Export cancelled"))
            .await;
        // the diagnosis agrees: 1.7.5, no lock
        p.click("#tab-diagnosis").await;
        p.click("#diagnose-again").await;
        p.wait_text("#release", "1.7.5", |t| t == "1.7.5").await;
        assert!(p.text("#card-lock").await.unwrap().contains("Free"));
        // Dawarich 9.0.0, which the catalog does not know: Dawarich migrates itself, watched; a
        // duplicate under its new unique index stops it, the fix and a restart finish it
        double.set_future_release("9.0.0", &dawarich_doctor_testkit::docker::future::workspace_dir());
        odb.batch_execute(
            "WITH u AS (SELECT user_id FROM points WHERE user_id IS NOT NULL GROUP BY user_id HAVING count(*) > 1 ORDER BY user_id LIMIT 1)
             UPDATE points SET \"timestamp\" = (SELECT min(\"timestamp\") FROM points WHERE user_id = (SELECT user_id FROM u))
             WHERE id = (SELECT max(id) FROM points WHERE user_id = (SELECT user_id FROM u))",
        )
        .await
        .unwrap();
        p.click("#fix-and-upgrade").await;
        let note = p
            .wait_text("#containers-note", "the unknown release", |t| t.contains("9.0.0"))
            .await;
        assert!(note.contains("does not know"), "{note}");
        p.js("document.querySelector('#step-containers').scrollIntoView();", vec![])
            .await;
        p.shot("09-via-dawarich-plan").await;
        p.click("#via-dawarich").await;
        answer_dialog("Stop dawarich_sidekiq and dawarich_app?", &["Return"]).await;
        let failed = p
            .wait_text("#upgrade-result", "the failed start", |t| t.contains("start failed"))
            .await;
        assert!(
            failed.contains("PG::UniqueViolation") && failed.contains("index_points_on_user_timestamp_future"),
            "{failed}"
        );
        p.wait_for("#fix-failure").await;
        p.shot("09-via-dawarich-failed").await;
        p.click("#fix-failure").await;
        answer_dialog("Fix and start Dawarich again?", &["Return"]).await;
        let up = p
            .wait_text("#dawarich-up", "Dawarich up", |t| t.contains("Dawarich is up"))
            .await;
        assert!(up.contains("2 versions recorded"), "{up}");
        assert_eq!(double.get("dawarich_app").health.as_deref(), Some("healthy"));
        p.shot("09-via-dawarich-up").await;
        // the demo database: started, saved as a connection, diagnosed; stopped when the app quits
        p.click("#tab-connections").await;
        p.click("#open-demo").await;
        p.wait_text(".profiles", "the demo connection", |t| {
            t.contains("Demo (Dawarich 0.9.11")
        })
        .await;
        p.shot("11-demo-started").await;
        p.click(".profile-card:nth-child(3) button.diagnose").await;
        let summary = p
            .wait_text("#summary", "the demo's diagnosis", |t| t.contains("will fail"))
            .await;
        assert!(
            summary.contains("lock is held") && summary.contains("Points without a user"),
            "{summary}"
        );
        p.shot("12-demo-diagnosis").await;
        p.c.clone().close().await.unwrap();
    }
    // ---- a third run: the demo's connection left by the killed app is gone; an entry of the
    // store damaged by hand is set aside with a notice, and the other connections are kept ----
    {
        let store = std::fs::read_dir(home.join("data"))
            .unwrap()
            .flatten()
            .map(|e| e.path().join("profiles.json"))
            .find(|p| p.exists())
            .expect("the app's profile store");
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&store).unwrap()).unwrap();
        let lists: Vec<&mut Value> = doc
            .as_object_mut()
            .unwrap()
            .values_mut()
            .filter(|v| v.is_array())
            .collect();
        assert_eq!(lists.len(), 1, "one list of profiles in {}", store.display());
        lists
            .into_iter()
            .next()
            .unwrap()
            .as_array_mut()
            .unwrap()
            .push(json!({ "name": 7 }));
        std::fs::write(&store, serde_json::to_vec(&doc).unwrap()).unwrap();

        let driver = Driver::start(&home, false, double.bin_dir());
        let p = Page {
            c: driver.session().await,
            shots: shots.clone(),
            theme: "light",
        };
        let list = p
            .wait_text(".profiles", "the saved profiles", |t| t.contains("Old server"))
            .await;
        assert!(!list.contains("Demo"), "{list}");
        let notice = p
            .wait_text("#profiles-notice", "the notice on the damaged store", |t| {
                t.contains("damaged")
            })
            .await;
        assert!(
            notice.contains("could be read") && notice.contains(".damaged-"),
            "{notice}"
        );
        let kept = std::fs::read_dir(store.parent().unwrap())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("profiles.json.damaged-"))
            .count();
        assert_eq!(kept, 1, "the damaged file is kept beside the store");
        p.shot("13-damaged-store-notice").await;
        p.c.clone().close().await.unwrap();
    }
    let log = std::fs::read_dir(home.join("data"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("logs/dawarich-doctor.log"))
        .find(|p| p.exists())
        .expect("the app's log file");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("diagnosed connection"), "{log}");
    assert!(log.contains("demo database started"), "{log}");
    assert!(
        !log.contains("postgres@") || !log.contains(":postgres@"),
        "no password in the log"
    );
    assert!(!log.contains("wrong"), "no password in the log");
    drop(holder);
    drop(old_holder);
    let _ = std::fs::remove_dir_all(&home);
    println!("e2e passed in {:?}", started.elapsed());
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("dawarich-doctor-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
