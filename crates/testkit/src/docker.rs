//! A `docker` command double with real effects, for the Docker-host tests (Docker cannot run here).
//! [`DockerDouble`] makes a state directory and a `bin/` holding a `docker` wrapper around the
//! `docker-double` binary (`src/bin/docker-double.rs`, built with the testkit). `exec` on the
//! database container runs the real `pg_dump`/`pg_restore`/`psql` against the test cluster,
//! `start` spawns a process standing in for the container (the app checks the database like
//! Dawarich's entrypoint and crash-loops on pending migrations; at a future release
//! ([`DockerDouble::set_future_release`], `tests/future`) it migrates the synthetic migrations like
//! Rails, with Rails' log), `stop` kills it. Output follows
//! docker's formats; anything the double does not emulate fails like an unknown flag or command.
//! Every call is recorded (`calls`). The state directory is world-writable, so the SSH tests can run
//! the wrapper as their unprivileged user.

pub mod cli;
pub mod format;
pub mod future;
pub mod main_process;
pub mod pg_errors;
pub mod rails;
pub mod state;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub use state::{Container, Healthcheck, Pg, Role, State};

/// A docker double: its state directory and the `bin/` to put first on PATH.
pub struct DockerDouble {
    root: PathBuf,
    state_dir: PathBuf,
    bin_dir: PathBuf,
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

const SECOND: i64 = 1_000_000_000;

fn healthcheck(test: &[&str], retries: i64) -> Option<Healthcheck> {
    Some(Healthcheck {
        test: test.iter().map(|s| s.to_string()).collect(),
        interval: 10 * SECOND,
        timeout: 10 * SECOND,
        start_period: 30 * SECOND,
        retries,
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl DockerDouble {
    /// The `docker-double` binary next to the running test executable.
    pub fn binary() -> PathBuf {
        let exe = std::env::current_exe().unwrap();
        let deps = exe.parent().unwrap();
        [deps.join("docker-double"), deps.parent().unwrap().join("docker-double")]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!(
                    "no docker-double binary next to {}: run `cargo build -p dawarich-doctor-testkit --bin docker-double`",
                    exe.display()
                )
            })
    }

    /// The stock compose install of Dawarich `release` (facts §5): `dawarich_app` and
    /// `dawarich_sidekiq` exited, `dawarich_db` (the cluster on `cluster_port`, database
    /// `database`) and `dawarich_redis` running, with compose's labels, environment, health checks and
    /// restart policies.
    pub fn stock(cluster_port: u16, database: &str, release: &str) -> DockerDouble {
        DockerDouble::new(Self::stock_state(cluster_port, database, release))
    }

    /// The state [`stock`](Self::stock) starts from, to change before [`new`](Self::new).
    pub fn stock_state(cluster_port: u16, database: &str, release: &str) -> State {
        let now = state::now();
        let t = |ago: i64| state::rfc3339(now - chrono::Duration::seconds(ago));
        let created = |n: i64| format!("2024-05-01T10:00:0{n}.{:09}Z", 123_456_789 * (n + 1) % 1_000_000_000);
        let app_image = state::random_id();
        let app_env = |sidekiq: bool| {
            let mut env: Vec<String> = vec![
                "APPLICATION_HOSTS=localhost,::1,127.0.0.1".into(),
                "APPLICATION_PROTOCOL=http".into(),
            ];
            if sidekiq {
                env.push("BACKGROUND_PROCESSING_CONCURRENCY=5".into());
            }
            env.extend([
                "DATABASE_HOST=dawarich_db".into(),
                format!("DATABASE_NAME={database}"),
                "DATABASE_PASSWORD=password".into(),
                "DATABASE_PORT=5432".into(),
                "DATABASE_USERNAME=postgres".into(),
                "PROMETHEUS_EXPORTER_ENABLED=false".into(),
                format!(
                    "PROMETHEUS_EXPORTER_HOST={}",
                    if sidekiq { "dawarich_app" } else { "0.0.0.0" }
                ),
                "PROMETHEUS_EXPORTER_PORT=9394".into(),
                "RAILS_ENV=development".into(),
                "RAILS_LOG_TO_STDOUT=true".into(),
                "REDIS_URL=redis://dawarich_redis:6379".into(),
                "SECRET_KEY_BASE=CHANGE_ME".into(),
                "SELF_HOSTED=true".into(),
                "STORE_GEODATA=true".into(),
            ]);
            if !sidekiq {
                env.push("TIME_ZONE=Europe/London".into());
            }
            env.extend(strings(&[
                "PATH=/usr/local/bundle/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                "RUBY_VERSION=3.4.6",
                "GEM_HOME=/usr/local/bundle",
                "BUNDLE_SILENCE_ROOT_WARNING=1",
                "BUNDLE_APP_CONFIG=/usr/local/bundle",
                "APP_PATH=/var/app",
                "BUNDLE_VERSION=2.5.21",
                "BUNDLE_PATH=/usr/local/bundle/gems",
                "RAILS_PORT=3000",
                "RUBY_YJIT_ENABLE=1",
            ]));
            env
        };
        let container = |name: &str, role: Role, n: i64, image: &str, image_id: &str| {
            let depends_on = match role {
                Role::App => "dawarich_db:service_healthy:true,dawarich_redis:service_healthy:true",
                Role::Sidekiq => {
                    "dawarich_app:service_healthy:true,dawarich_db:service_healthy:true,dawarich_redis:service_healthy:true"
                }
                Role::Db | Role::Redis => "",
            };
            let labels: BTreeMap<String, String> = [
                ("com.docker.compose.config-hash", state::random_id()),
                ("com.docker.compose.container-number", "1".into()),
                ("com.docker.compose.depends_on", depends_on.into()),
                ("com.docker.compose.image", format!("sha256:{image_id}")),
                ("com.docker.compose.oneoff", "False".into()),
                ("com.docker.compose.project", "dawarich".into()),
                (
                    "com.docker.compose.project.config_files",
                    "/opt/dawarich/docker-compose.yml".into(),
                ),
                ("com.docker.compose.project.working_dir", "/opt/dawarich".into()),
                ("com.docker.compose.service", name.into()),
                ("com.docker.compose.version", "2.29.7".into()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let up = matches!(role, Role::Db | Role::Redis);
            Container {
                id: state::random_id(),
                name: name.into(),
                image: image.into(),
                image_id: format!("sha256:{image_id}"),
                release: release.into(),
                role,
                labels,
                env: vec![],
                cmd: vec![],
                entrypoint: vec![],
                state: if up { "running" } else { "exited" }.into(),
                pid: None,
                health: up.then(|| "healthy".into()),
                healthcheck: None,
                restart_policy: if up { "always" } else { "on-failure" }.into(),
                restart_count: 0,
                exit_code: 0,
                created: created(n),
                started_at: t(if up { 300 } else { 600 }),
                finished_at: if up { state::NEVER.into() } else { t(120) },
                ip: String::new(),
                mounts: vec![],
                ports: vec![],
                future: None,
            }
        };
        let mut redis = container(
            "dawarich_redis",
            Role::Redis,
            0,
            "redis:7.4-alpine",
            &state::random_id(),
        );
        redis.entrypoint = strings(&["docker-entrypoint.sh"]);
        redis.cmd = strings(&[
            "redis-server",
            "--save",
            "900",
            "1",
            "--save",
            "300",
            "10",
            "--appendonly",
            "no",
        ]);
        redis.env = strings(&[
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "REDIS_VERSION=7.4.5",
        ]);
        redis.healthcheck = healthcheck(&["CMD", "redis-cli", "--raw", "incr", "ping"], 5);
        redis.ip = "172.18.0.2".into();
        redis.mounts = strings(&["dawarich_shared"]);
        redis.ports = strings(&["6379/tcp"]);

        let mut db = container(
            "dawarich_db",
            Role::Db,
            1,
            "postgis/postgis:17-3.5-alpine",
            &state::random_id(),
        );
        db.entrypoint = strings(&["docker-entrypoint.sh"]);
        db.cmd = strings(&["postgres"]);
        db.env = vec![
            format!("POSTGRES_DB={database}"),
            "POSTGRES_PASSWORD=password".into(),
            "POSTGRES_USER=postgres".into(),
        ];
        db.env.extend(strings(&[
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=en_US.utf8",
            "PG_MAJOR=17",
            "PG_VERSION=17.5",
            "PGDATA=/var/lib/postgresql/data",
            "POSTGIS_VERSION=3.5.2",
        ]));
        let isready = format!("pg_isready -U postgres -d {database}");
        db.healthcheck = healthcheck(&["CMD-SHELL", &isready], 5);
        db.ip = "127.0.0.1".into();
        db.mounts = strings(&["dawarich_db_data", "dawarich_shared"]);
        db.ports = strings(&["5432/tcp"]);

        let mut app = container("dawarich_app", Role::App, 2, "freikin/dawarich:latest", &app_image);
        app.entrypoint = strings(&["web-entrypoint.sh"]);
        app.cmd = strings(&["bin/rails", "server", "-p", "3000", "-b", "::"]);
        app.env = app_env(false);
        app.healthcheck = healthcheck(
            &[
                "CMD-SHELL",
                r#"wget -qO - http://127.0.0.1:3000/api/v1/health | grep -q '"status"\s*:\s*"ok"'"#,
            ],
            30,
        );
        app.ip = "172.18.0.4".into();
        app.mounts = strings(&[
            "dawarich_public",
            "dawarich_watched",
            "dawarich_storage",
            "dawarich_db_data",
        ]);
        app.ports = strings(&["3000:3000/tcp"]);

        let mut sidekiq = container(
            "dawarich_sidekiq",
            Role::Sidekiq,
            3,
            "freikin/dawarich:latest",
            &app_image,
        );
        sidekiq.entrypoint = strings(&["sidekiq-entrypoint.sh"]);
        sidekiq.cmd = strings(&["sidekiq"]);
        sidekiq.env = app_env(true);
        sidekiq.healthcheck = healthcheck(&["CMD-SHELL", "pgrep -f sidekiq"], 30);
        sidekiq.ip = "172.18.0.5".into();
        sidekiq.mounts = strings(&["dawarich_public", "dawarich_watched", "dawarich_storage"]);
        sidekiq.ports = strings(&["3000/tcp"]);

        State {
            pg: Pg {
                bin: crate::cluster::pg_bin().expect("PostgreSQL binaries (scripts/setup db)"),
                host: "127.0.0.1".into(),
                port: cluster_port,
                user: "postgres".into(),
                password: "postgres".into(),
            },
            denied: false,
            owner: None,
            containers: vec![app, sidekiq, db, redis],
        }
    }

    /// A double with this state (its owner set to the current process).
    pub fn new(mut st: State) -> DockerDouble {
        let exe = Self::binary();
        let root = tempfile::Builder::new()
            .prefix("dawarich-doctor-docker-")
            .tempdir()
            .unwrap()
            .keep();
        set_mode(&root, 0o755);
        let state_dir = root.join("state");
        let bin_dir = root.join("bin");
        std::fs::create_dir(&state_dir).unwrap();
        set_mode(&state_dir, 0o777);
        std::fs::create_dir(state_dir.join(state::LOGS)).unwrap();
        set_mode(&state_dir.join(state::LOGS), 0o777);
        std::fs::create_dir(&bin_dir).unwrap();
        set_mode(&bin_dir, 0o755);
        let me = std::process::id() as i32;
        st.owner = Some(state::Owner {
            pid: me,
            start: state::process_start(me).unwrap(),
        });
        for file in [state::LOCK, state::CALLS] {
            state::create_shared(&state_dir.join(file)).unwrap();
        }
        for c in &st.containers {
            state::create_shared(&state::log_path(&state_dir, &c.name)).unwrap();
        }
        state::write_state(&state_dir, &st).unwrap();
        let wrapper = format!(
            "#!/bin/sh\nexec {} --state {} \"$@\"\n",
            shell_quote(&exe.display().to_string()),
            shell_quote(&state_dir.display().to_string())
        );
        std::fs::write(bin_dir.join("docker"), wrapper).unwrap();
        set_mode(&bin_dir.join("docker"), 0o755);
        DockerDouble {
            root,
            state_dir,
            bin_dir,
        }
    }

    /// The directory holding the `docker` wrapper (put it first on PATH).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The state directory (`state.json`, `calls.jsonl`, `logs/`).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The `docker` wrapper.
    pub fn docker(&self) -> PathBuf {
        self.bin_dir.join("docker")
    }

    /// Runs `docker ARGS` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(self.docker()).args(args).output().unwrap()
    }

    /// The arguments of every `docker` invocation so far, in order.
    pub fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(self.state_dir.join(state::CALLS))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The whole state.
    pub fn state(&self) -> State {
        state::lock(&self.state_dir).unwrap().state
    }

    /// A container's state.
    pub fn get(&self, name: &str) -> Container {
        let st = self.state();
        let i = st.find(name).unwrap_or_else(|| panic!("no container {name}"));
        st.containers[i].clone()
    }

    /// A container's state as JSON.
    pub fn container(&self, name: &str) -> serde_json::Value {
        serde_json::to_value(self.get(name)).unwrap()
    }

    /// Changes the state under the lock.
    pub fn update(&self, f: impl FnOnce(&mut State)) {
        let mut l = state::lock(&self.state_dir).unwrap();
        f(&mut l.state);
        l.save().unwrap();
    }

    /// Changes one container.
    pub fn set(&self, name: &str, f: impl FnOnce(&mut Container)) {
        self.update(|st| {
            let i = st.find(name).unwrap_or_else(|| panic!("no container {name}"));
            f(&mut st.containers[i]);
        });
    }

    /// Renames a container (`docker rename`: its labels and log stay).
    pub fn rename(&self, from: &str, to: &str) {
        self.update(|st| {
            let i = st.find(from).unwrap_or_else(|| panic!("no container {from}"));
            st.containers[i].name = to.into();
            let log = state::log_path(&self.state_dir, from);
            if log.exists() {
                std::fs::rename(log, state::log_path(&self.state_dir, to)).unwrap();
            }
        });
    }

    /// Makes every command fail like a user outside the `docker` group.
    pub fn set_denied(&self, denied: bool) {
        self.update(|st| st.denied = denied);
    }

    /// The Dawarich release in a container's image.
    pub fn set_release(&self, name: &str, release: &str) {
        self.set(name, |c| c.release = release.into());
    }

    /// Makes the app and sidekiq images a release the catalog does not know (`release`, e.g. `9.0.0`),
    /// shipping the catalog's newest release plus the synthetic migrations in `dir` (format in
    /// `tests/future/README.md`; panics when a file does not follow it). The app's entrypoint then
    /// migrates them like Rails and data_migrate instead of failing on them.
    pub fn set_future_release(&self, release: &str, dir: &Path) {
        if let Err(e) = future::load(dir) {
            panic!("synthetic migrations in {}: {e}", dir.display());
        }
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        self.update(|st| {
            for c in st
                .containers
                .iter_mut()
                .filter(|c| matches!(c.role, Role::App | Role::Sidekiq))
            {
                c.release = release.into();
                c.future = Some(dir.clone());
            }
        });
    }

    /// [`set_future_release`](Self::set_future_release), builder style.
    pub fn with_future_release(self, release: &str, dir: &Path) -> DockerDouble {
        self.set_future_release(release, dir);
        self
    }

    /// Sets an environment variable of a container.
    pub fn set_env(&self, name: &str, key: &str, value: &str) {
        self.set(name, |c| c.set_env(key, value));
    }

    /// A container's log as `docker logs NAME 2>&1` shows it.
    pub fn app_log(&self, name: &str) -> String {
        let c = self.get(name);
        main_process::read_log(&state::log_path(&self.state_dir, &c.name))
            .into_iter()
            .map(|l| l.text)
            .collect()
    }

    /// Polls a container's state until `check` holds, panicking with `what` and the log after
    /// `timeout`.
    pub fn wait_until(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        check: impl Fn(&Container) -> bool,
    ) -> Container {
        let deadline = Instant::now() + timeout;
        loop {
            let c = self.get(name);
            if check(&c) {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting until {what}; state: {c:?}\nlog:\n{}",
                self.app_log(name)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for DockerDouble {
    fn drop(&mut self) {
        if let Ok(st) = state::lock(&self.state_dir).map(|l| l.state) {
            for pid in st.containers.iter().filter_map(|c| c.pid) {
                cli::end_process(pid, &self.state_dir, Duration::ZERO);
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
