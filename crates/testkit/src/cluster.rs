//! Throwaway PostgreSQL clusters on a free loopback port: used by the tests, the benchmarks and the
//! `sandbox` demo. A cluster lives in its own temporary directory and is stopped and removed when
//! dropped — and, through a watchdog that waits on a pipe we hold, also when our process dies.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error("PostgreSQL server binaries not found (looked for initdb in {0}); run scripts/setup db")]
    NoBinaries(String),
    #[error("{step} failed: {detail}")]
    Step { step: &'static str, detail: String },
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Password of the `postgres` superuser; TCP logins need it (scram-sha-256).
    pub superuser_password: String,
    /// PEM certificate and key: enables `ssl = on`.
    pub tls: Option<(String, String)>,
    /// Keep PostgreSQL's default durability (fsync, synchronous commit, full-page writes), as a real
    /// server has; otherwise they are off, which makes tests faster. Benchmarks use `true`.
    pub durable: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            superuser_password: "postgres".into(),
            tls: None,
            durable: false,
        }
    }
}

/// A running throwaway cluster.
pub struct Cluster {
    dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    superuser_password: String,
    watchdog: Option<Child>,
}

/// The directory holding `initdb`/`pg_ctl`: `$DAWARICH_DOCTOR_PG_BIN`, else Debian's newest
/// `/usr/lib/postgresql/N/bin` (15 preferred), else whatever `pg_ctl` is on PATH.
pub fn pg_bin() -> Result<PathBuf, ClusterError> {
    if let Ok(p) = std::env::var("DAWARICH_DOCTOR_PG_BIN") {
        return Ok(PathBuf::from(p));
    }
    let preferred = PathBuf::from("/usr/lib/postgresql/15/bin");
    if preferred.join("initdb").exists() {
        return Ok(preferred);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().join("bin"))
                .filter(|b| b.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
        .pop()
        .ok_or_else(|| ClusterError::NoBinaries("/usr/lib/postgresql/*/bin".into()))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// When we are root, PostgreSQL must run as an unprivileged user: Debian's `postgres`.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid and getpwnam have no preconditions; the passwd pointer is read at once.
    unsafe {
        if libc::geteuid() != 0 {
            return None;
        }
        let pw = libc::getpwnam(c"postgres".as_ptr());
        if pw.is_null() {
            return None;
        }
        Some(((*pw).pw_uid, (*pw).pw_gid))
    }
}

fn command(bin: &Path, prog: &str) -> Command {
    let mut c = Command::new(bin.join(prog));
    if let Some((uid, gid)) = run_as() {
        use std::os::unix::process::CommandExt;
        c.uid(uid).gid(gid);
    }
    c.env_remove("PGDATA").env("LC_ALL", "C.UTF-8");
    c
}

fn chown(path: &Path) -> Result<(), ClusterError> {
    if let Some((uid, gid)) = run_as() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    }
    Ok(())
}

fn run(step: &'static str, mut c: Command) -> Result<(), ClusterError> {
    let out = c.stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ClusterError::Step {
            step,
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

impl Cluster {
    /// initdb + start on a free 127.0.0.1 port; returns once the server accepts connections.
    pub fn start(opts: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let bin = pg_bin()?;
        if !bin.join("initdb").exists() {
            return Err(ClusterError::NoBinaries(bin.display().to_string()));
        }
        let dir = tempfile::Builder::new().prefix("dawarich-doctor-pg-").tempdir()?.keep();
        chown(&dir)?;
        let data = dir.join("data");
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, &opts.superuser_password)?;
        chown(&pwfile)?;
        let mut c = command(&bin, "initdb");
        c.arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        run("initdb", c)?;
        let mut conf =
            String::from("listen_addresses = '127.0.0.1'\nmax_connections = 200\nlog_min_messages = warning\n");
        if !opts.durable {
            conf += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
        }
        conf += &format!("unix_socket_directories = '{}'\n", dir.display());
        if let Some((cert, key)) = &opts.tls {
            for (name, body) in [("server.crt", cert), ("server.key", key)] {
                let p = data.join(name);
                std::fs::write(&p, body)?;
                std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
                chown(&p)?;
            }
            conf += "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n";
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?
            .write_all(conf.as_bytes())?;
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            let mut c = command(&bin, "pg_ctl");
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-w", "-t", "60", "-o"])
                .arg(format!("-p {port}"))
                .arg("start");
            match run("pg_ctl start", c) {
                Ok(()) => {
                    let watchdog = spawn_watchdog(&bin, &dir)?;
                    return Ok(Cluster {
                        dir,
                        port,
                        bin,
                        superuser_password: opts.superuser_password.clone(),
                        watchdog: Some(watchdog),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        Err(last
            .map(|e| ClusterError::Step {
                step: "pg_ctl start",
                detail: format!("{e}\n{log}"),
            })
            .unwrap())
    }

    /// Starts a streaming replica of this cluster (read-only, `pg_is_in_recovery()` true).
    pub fn start_standby(&self) -> Result<Cluster, ClusterError> {
        let dir = tempfile::Builder::new()
            .prefix("dawarich-doctor-standby-")
            .tempdir()?
            .keep();
        chown(&dir)?;
        let data = dir.join("data");
        let mut c = command(&self.bin, "pg_basebackup");
        c.arg("-D").arg(&data).args([
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]);
        c.env("PGPASSWORD", &self.superuser_password);
        run("pg_basebackup", c)?;
        let conf = format!("\nunix_socket_directories = '{}'\n", dir.display());
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.auto.conf"))?
            .write_all(conf.as_bytes())?;
        let port = free_port()?;
        let mut c = command(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {port}"))
            .arg("start");
        run("pg_ctl start (standby)", c)?;
        let watchdog = spawn_watchdog(&self.bin, &dir)?;
        Ok(Cluster {
            dir,
            port,
            bin: self.bin.clone(),
            superuser_password: self.superuser_password.clone(),
            watchdog: Some(watchdog),
        })
    }

    /// A cluster for a benchmark: PostgreSQL's default durability, as on a real server (every
    /// commit waits for its WAL flush), with `template_postgis`.
    pub fn for_benchmark() -> Cluster {
        let cluster = Cluster::start(&ClusterOptions {
            durable: true,
            ..Default::default()
        })
        .expect("start a PostgreSQL cluster (scripts/setup db)");
        cluster.create_postgis_template().expect("template_postgis");
        cluster
    }

    /// Creates the database `template_postgis` with PostGIS enabled, so that databases created from
    /// it are ready in milliseconds.
    pub fn create_postgis_template(&self) -> Result<(), ClusterError> {
        let mut c = Command::new(self.bin.join("psql"));
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
        ])
        .args([
            "-c",
            "CREATE DATABASE template_postgis",
            "-c",
            "\\c template_postgis",
            "-c",
            "CREATE EXTENSION postgis",
        ])
        .env("PGPASSWORD", &self.superuser_password);
        run("create template_postgis", c)
    }

    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/DB`
    pub fn url(&self, database: &str) -> String {
        self.url_as("postgres", &self.superuser_password, database)
    }

    /// A URL for another role.
    pub fn url_as(&self, user: &str, password: &str, database: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{database}", self.port)
    }

    /// The directory of the cluster (its `data/`, `server.log` and socket).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server binaries in use.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Stops the server as a crash would (`pg_ctl -m immediate`: every session ends at once, no
    /// checkpoint); `restart` brings it back, recovering from its log.
    pub fn crash(&self) {
        let mut c = command(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        run("pg_ctl stop -m immediate", c).expect("pg_ctl stop -m immediate");
    }

    /// Starts the server again on the same port after `crash`; returns once it accepts connections.
    pub fn restart(&self) {
        let mut c = command(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("start");
        run("pg_ctl start", c).expect("pg_ctl start");
    }

    /// Stops the server at once and removes its directory.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let mut c = command(&self.bin, "pg_ctl");
        c.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"]);
        let _ = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut w) = self.watchdog.take() {
            drop(w.stdin.take());
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            self.shutdown();
        }
    }
}

/// A shell that blocks reading our pipe; when the pipe closes (we exited, even by a crash) it stops
/// the server and removes the directory.
fn spawn_watchdog(bin: &Path, dir: &Path) -> Result<Child, ClusterError> {
    let script = r#"read _ignored; "$1/pg_ctl" -D "$2/data" -m immediate -w stop >/dev/null 2>&1; rm -rf "$2""#;
    let mut c = Command::new("sh");
    // pg_ctl refuses to run as root: the watchdog runs as the server's user, like the server.
    if let Some((uid, gid)) = run_as() {
        use std::os::unix::process::CommandExt;
        c.uid(uid).gid(gid);
    }
    Ok(c.arg("-c")
        .arg(script)
        .arg("watchdog")
        .arg(bin)
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}
