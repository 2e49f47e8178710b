//! Backups before an upgrade: `pg_dump -Fc` inside the database container (the Docker host, over
//! the SSH channel when there is one), else a local `pg_dump` at least as new as the server, streamed
//! into `<name>.part` and renamed only once pg_dump ended with status 0 and the archive's table of
//! contents lists data for every table of the database. A failed or partial backup leaves nothing
//! under the final name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dawarich_doctor_model::{shell_word, BackupOutcome, ErrorKind, ErrorReport, ProgressEvent};
use thiserror::Error;

use crate::archive::{read_toc, ArchiveError};
use crate::connect::{ConnectOptions, Db};
use crate::containers::Install;
use crate::docker::{DockerError, DockerHost, Sub};
use crate::progress::Progress;

/// How often the transfer is reported.
const REPORT_EVERY: Duration = Duration::from_millis(250);

/// Why there is no verified backup; nothing is left under the final name.
#[derive(Debug, Error)]
pub enum BackupError {
    #[error("the connection to {host} dropped during the backup ({bytes} bytes received)")]
    Dropped { host: String, bytes: u64 },
    #[error("pg_dump failed (exit status {status}): {detail}")]
    PgDump { status: i32, detail: String },
    #[error("cannot write the backup to {path}: {detail}")]
    Write { path: String, detail: String },
    #[error("the backup is not usable: {0}")]
    Archive(#[from] ArchiveError),
    #[error("the backup lacks the data of {missing} table(s): {tables}")]
    Incomplete { missing: usize, tables: String },
    #[error("no pg_dump of version {server_major} or newer on this computer{found}")]
    NoPgDump { server_major: u32, found: String },
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error("database error while preparing the backup: {}", crate::error::db_message(.0))]
    Db(#[from] tokio_postgres::Error),
}

impl BackupError {
    pub fn report(&self) -> ErrorReport {
        let fix = match self {
            BackupError::Dropped { .. } => "Nothing was changed. Check the network and run it again; the partial file was removed.",
            BackupError::PgDump { .. } => "Nothing was changed. See pg_dump's message (the database server's log may say more).",
            BackupError::Write { .. } => "Nothing was changed. Free space in the backup folder or choose another one; the partial file was removed.",
            BackupError::Archive(_) | BackupError::Incomplete { .. } => "Nothing was changed. Run the backup again; if it keeps failing, make one by hand with the command shown.",
            BackupError::NoPgDump { .. } => "Install the PostgreSQL client of the server's version (Debian: postgresql-client-N), connect through the Docker host (SSH), or make the backup by hand with the command shown.",
            BackupError::Docker(d) => return d.report(),
            BackupError::Db(_) => "Nothing was changed. See the server's message.",
        };
        ErrorReport {
            kind: ErrorKind::Backup,
            message: self.to_string(),
            fix: fix.into(),
        }
    }
}

/// Where pg_dump runs.
pub enum Source<'a> {
    /// Inside the database container of the install.
    Container(&'a Install, &'a str),
    /// A local `pg_dump` program.
    Local(PathBuf),
}

/// `Dawarich Doctor backups` in the documents folder (`$XDG_DOCUMENTS_DIR`, else `~/Documents`).
pub fn default_folder() -> PathBuf {
    if let Some(docs) = std::env::var_os("XDG_DOCUMENTS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(docs).join("Dawarich Doctor backups");
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join("Documents").join("Dawarich Doctor backups")
}

/// A new file in `folder` (else the default folder), named after the database, its release and now.
pub fn default_path(folder: Option<&Path>, database: &str, release: Option<&str>) -> PathBuf {
    folder
        .map(Path::to_path_buf)
        .unwrap_or_else(default_folder)
        .join(file_name(database, release, chrono::Utc::now()))
}

/// `dawarich_development-1.6.1-20261202-211500.dump`
pub fn file_name(database: &str, release: Option<&str>, at: chrono::DateTime<chrono::Utc>) -> String {
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{safe}-{}-{}.dump",
        release.unwrap_or("unknown-release"),
        at.format("%Y%m%d-%H%M%S")
    )
}

/// Where pg_dump can run for this session: the install's database container when there is one,
/// else a local pg_dump at least as new as the server.
pub async fn source<'a>(db: &Db, install: Option<&'a Install>) -> Result<Source<'a>, BackupError> {
    if let Some(i) = install {
        if let Some(name) = i.db.as_deref() {
            return Ok(Source::Container(i, name));
        }
    }
    let server: i32 = db
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await?
        .get(0);
    local_pg_dump((server / 10000) as u32).map(Source::Local)
}

/// The newest `pg_dump` on PATH or in `/usr/lib/postgresql/*/bin` whose major version is at least
/// the server's.
pub fn local_pg_dump(server_major: u32) -> Result<PathBuf, BackupError> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("pg_dump")).collect())
        .unwrap_or_default();
    if let Ok(dirs) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(dirs.flatten().map(|d| d.path().join("bin").join("pg_dump")));
    }
    let mut found = Vec::new();
    for c in candidates.iter().filter(|c| c.is_file()) {
        if let Some(major) = pg_dump_major(c) {
            found.push((major, c.clone()));
        }
    }
    found.sort();
    match found.iter().rev().find(|(m, _)| *m >= server_major) {
        Some((_, p)) => Ok(p.clone()),
        None => Err(BackupError::NoPgDump {
            server_major,
            found: if found.is_empty() {
                String::new()
            } else {
                format!(
                    " (found {})",
                    found
                        .iter()
                        .map(|(m, p)| format!("{} = {m}", p.display()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        }),
    }
}

/// `pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)` → 15.
fn pg_dump_major(program: &Path) -> Option<u32> {
    let out = std::process::Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().nth(2)?;
    version.split(['.', 'b', 'r']).next()?.parse().ok()
}

/// The backup of a connection, as the CLI's `backup` and the app's backup step make it: pg_dump in
/// the install's database container when its Docker host is reachable, else a local pg_dump; into
/// `path`, or a new file in the default folder named after the database and its release.
pub async fn run(
    conn: &ConnectOptions,
    path: Option<PathBuf>,
    progress: &dyn Progress,
) -> crate::Result<BackupOutcome> {
    let db = crate::connect::connect(conn).await?;
    let install = match crate::containers::find(&db).await {
        Ok(i) => Some(i),
        Err(e) => {
            log::info!("backup without a Docker host: {e}");
            None
        }
    };
    let path = match path {
        Some(p) => p,
        None => {
            let applied = crate::applied::read_applied(&db, &db.database).await?;
            let release = crate::applied::detect_release(crate::catalog::catalog(), &applied).map(|(tag, _)| tag);
            let folder = conn.profile.backup_folder.as_deref().map(Path::new);
            default_path(folder, &db.database, release.as_deref())
        }
    };
    let src = source(&db, install.as_ref()).await?;
    let result = backup(&db, conn, &src, &path, 0, progress).await;
    if let Some(i) = &install {
        i.host.write_journal(conn, crate::audit::default_file()).await;
    }
    Ok(result?)
}

/// Dumps the database into `folder/file`, verifies it and returns where it is and how to restore it.
/// `step` numbers the progress events.
#[allow(clippy::too_many_arguments)]
pub async fn backup(
    db: &Db,
    conn: &ConnectOptions,
    source: &Source<'_>,
    path: &Path,
    step: usize,
    progress: &dyn Progress,
) -> Result<BackupOutcome, BackupError> {
    let started = Instant::now();
    let total: i64 = db
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await?
        .get(0);
    let expected = tables_with_data(db).await?;
    let part = path.with_extension("dump.part");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
    }
    let mut file = std::fs::File::create(&part).map_err(|e| write_error(&part, e))?;
    let user = &conn.profile.user;
    let database = &conn.profile.database;
    let mut written = 0u64;
    let mut last: Option<Instant> = None;
    let mut sink = |d: &[u8]| -> std::io::Result<()> {
        file.write_all(d)?;
        written += d.len() as u64;
        // the first piece at once, then every REPORT_EVERY
        if last.is_none_or(|l| l.elapsed() >= REPORT_EVERY) {
            last = Some(Instant::now());
            progress.emit(ProgressEvent::Transfer {
                step,
                bytes: written,
                total: Some(total.max(0) as u64),
                bytes_per_sec: written as f64 / started.elapsed().as_secs_f64().max(0.001),
            });
        }
        Ok(())
    };
    let result = match source {
        Source::Container(install, container) => {
            let args = ["-i", container, "pg_dump", "-Fc", "-U", user, database];
            progress.emit(ProgressEvent::Output {
                step: Some(step),
                line: format!("$ {}", DockerHost::command_line(Sub::Exec, &args)),
            });
            install
                .host
                .stream(Sub::Exec, &args, &mut sink)
                .await
                .map_err(|e| match e {
                    DockerError::Io(io) => BackupError::Write {
                        path: part.display().to_string(),
                        detail: io.to_string(),
                    },
                    e => e.into(),
                })
                .map(|(status, err)| (status, err, install.host.describe()))
        }
        Source::Local(program) => {
            progress.emit(ProgressEvent::Output {
                step: Some(step),
                line: format!("$ {} -Fc {}", program.display(), shell_word(database)),
            });
            local_dump(program, conn, db.tunnel().map(|t| t.local_addr().port()), &mut sink)
                .await
                .map(|(s, e)| (s, e, "this computer".into()))
        }
    };
    let verified = match result {
        Ok((Some(0), _, _)) => file
            .sync_all()
            .map_err(|e| write_error(&part, e))
            .and_then(|_| verify(&part, &expected)),
        Ok((Some(status), err, _)) => Err(BackupError::PgDump {
            status,
            detail: err.trim().to_string(),
        }),
        Ok((None, _, host)) => Err(BackupError::Dropped { host, bytes: written }),
        Err(e) => Err(e),
    };
    drop(file);
    let tables = match verified {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    std::fs::rename(&part, path).map_err(|e| write_error(path, e))?;
    let restore_command = restore_command(source, user, database, path);
    log::info!("backup {} ({written} bytes, {tables} tables) verified", path.display());
    Ok(BackupOutcome {
        path: path.display().to_string(),
        bytes: written,
        tables,
        restore_command,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// The exact command that puts the backup back (replacing what is in the database).
fn restore_command(source: &Source<'_>, user: &str, database: &str, path: &Path) -> String {
    let file = shell_word(&path.display().to_string());
    match source {
        Source::Container(_, container) => format!(
            "{} < {file}",
            DockerHost::command_line(
                Sub::Exec,
                &[
                    "-i",
                    container,
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "-U",
                    user,
                    "-d",
                    database
                ]
            )
        ),
        Source::Local(program) => {
            let restore = program.with_file_name("pg_restore");
            format!(
                "{} --clean --if-exists -U {} -d {} {file}",
                shell_word(&restore.display().to_string()),
                shell_word(user),
                shell_word(database)
            )
        }
    }
}

/// libpq's `key='value'` connection string for pg_dump: the profile's server, or through the SSH
/// tunnel's local end (`hostaddr`, the host name kept for TLS).
fn conninfo(conn: &ConnectOptions, tunnel_port: Option<u16>) -> String {
    let p = &conn.profile;
    let q = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut parts = vec![
        format!("host={}", q(&p.host)),
        format!("port={}", tunnel_port.unwrap_or(p.port)),
        format!("user={}", q(&p.user)),
        format!("dbname={}", q(&p.database)),
        format!("sslmode={}", p.sslmode.as_str()),
        format!("connect_timeout={}", conn.connect_timeout.as_secs().max(1)),
    ];
    if let Some(ca) = &p.ca_file {
        parts.push(format!("sslrootcert={}", q(ca)));
    }
    if tunnel_port.is_some() {
        parts.push("hostaddr=127.0.0.1".into());
    }
    parts.join(" ")
}

/// Runs a local pg_dump with the session's connection settings (password through the environment).
async fn local_dump(
    program: &Path,
    conn: &ConnectOptions,
    tunnel_port: Option<u16>,
    sink: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
) -> Result<(Option<i32>, String), BackupError> {
    use tokio::io::AsyncReadExt;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(["-Fc", "-d", &conninfo(conn, tunnel_port)])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(pw) = &conn.password {
        cmd.env("PGPASSWORD", pw);
    }
    let io = |e: std::io::Error| BackupError::PgDump {
        status: -1,
        detail: e.to_string(),
    };
    let mut child = cmd.spawn().map_err(io)?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let err_task = tokio::spawn(async move {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b).await;
        b
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = out.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            break;
        }
        if let Err(e) = sink(&buf[..n]) {
            let _ = child.kill().await;
            return Err(BackupError::Write {
                path: "the backup file".into(),
                detail: e.to_string(),
            });
        }
    }
    let status = child.wait().await.map_err(io)?;
    let err = err_task.await.unwrap_or_default();
    Ok((status.code(), String::from_utf8_lossy(&err).into_owned()))
}

/// Every table whose rows pg_dump writes: ordinary and unlogged tables outside the system schemas,
/// except an extension's own tables (their contents come with the extension).
async fn tables_with_data(db: &Db) -> Result<std::collections::BTreeSet<String>, BackupError> {
    let rows = db
        .query(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
}

/// Reads the archive's table of contents; every expected table must have its data in it.
fn verify(path: &Path, expected: &std::collections::BTreeSet<String>) -> Result<usize, BackupError> {
    let f = std::fs::File::open(path).map_err(|e| write_error(path, e))?;
    let toc = read_toc(std::io::BufReader::new(f))?;
    let present = toc.tables_with_data();
    let missing: Vec<&String> = expected.iter().filter(|t| !present.contains(*t)).collect();
    if !missing.is_empty() {
        return Err(BackupError::Incomplete {
            missing: missing.len(),
            tables: missing
                .iter()
                .take(10)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(present.len())
}

fn write_error(path: &Path, e: std::io::Error) -> BackupError {
    BackupError::Write {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_string_quotes_values_and_goes_through_the_tunnel() {
        let mut conn = ConnectOptions::new(dawarich_doctor_model::Profile::default(), None);
        conn.profile.host = "dawarich_db".into();
        conn.profile.database = "it's \\ odd".into();
        let s = conninfo(&conn, Some(40000));
        assert!(s.contains("host='dawarich_db' port=40000"), "{s}");
        assert!(s.contains("dbname='it\\'s \\\\ odd'"), "{s}");
        assert!(s.ends_with("hostaddr=127.0.0.1"), "{s}");
    }

    #[test]
    fn file_names_name_database_release_and_time() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T21:15:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            file_name("dawarich_development", Some("1.6.1"), at),
            "dawarich_development-1.6.1-20261202-211500.dump"
        );
        assert_eq!(
            file_name("my db/../x", None, at),
            "my_db_.._x-unknown-release-20261202-211500.dump"
        );
    }
}
