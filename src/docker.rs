//! The Docker host: the `docker` command on this computer, or on the profile's SSH server through
//! the tunnel's session. Only a fixed set of subcommands runs ([`Sub`]); every argument is quoted by
//! [`shell_word`] (one word, whatever it holds); every command is logged before it runs and kept in a
//! journal the caller writes to the audit log.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dawarich_doctor_model::{shell_word, ErrorKind, ErrorReport};
use thiserror::Error;
use tokio::io::AsyncReadExt;

use crate::connect::Db;
use crate::tunnel::{Remote, TunnelError};

/// The docker subcommands Dawarich Doctor runs, and no others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sub {
    Ps,
    Inspect,
    Exec,
    Stop,
    Start,
    Logs,
    Cp,
}

impl Sub {
    pub fn as_str(self) -> &'static str {
        match self {
            Sub::Ps => "ps",
            Sub::Inspect => "inspect",
            Sub::Exec => "exec",
            Sub::Stop => "stop",
            Sub::Start => "start",
            Sub::Logs => "logs",
            Sub::Cp => "cp",
        }
    }
}

/// Why docker could not be used; each names its fix.
#[derive(Debug, Error)]
pub enum DockerError {
    #[error("docker is not installed on {host} (or not on the PATH of {user})")]
    NotInstalled { host: String, user: String },
    #[error("{user} may not use docker on {host}: {detail}")]
    Denied { host: String, user: String, detail: String },
    #[error("the Docker daemon on {host} is not running: {detail}")]
    DaemonDown { host: String, detail: String },
    #[error("no Dawarich app container on {host}{found}")]
    NotFound { host: String, found: String },
    #[error("the Dawarich on {host} ({app}) uses database {theirs:?}, not {ours:?}")]
    OtherDatabase {
        host: String,
        app: String,
        theirs: String,
        ours: String,
    },
    #[error("`{command}` failed on {host} (exit status {status}): {detail}")]
    Failed {
        host: String,
        command: String,
        status: String,
        detail: String,
    },
    #[error("docker on {host} answered something unexpected to `{command}`: {detail}")]
    Unexpected {
        host: String,
        command: String,
        detail: String,
    },
    #[error(transparent)]
    Ssh(#[from] TunnelError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl DockerError {
    pub fn report(&self) -> ErrorReport {
        let (kind, fix) = match self {
            DockerError::NotInstalled { .. } => (ErrorKind::Docker, "Run Dawarich Doctor where Dawarich's containers run (or connect through SSH to that machine); until then, make the backup and stop/start the containers by hand as shown.".to_string()),
            DockerError::Denied { user, .. } => (ErrorKind::PermissionDenied, format!("Add {user} to the `docker` group on the Docker host (`sudo usermod -aG docker {user}`), then log in again; or make the backup and stop/start the containers by hand as shown.")),
            DockerError::DaemonDown { .. } => (ErrorKind::Docker, "Start Docker on that machine (`sudo systemctl start docker`).".into()),
            DockerError::OtherDatabase { theirs, .. } => (ErrorKind::Docker, format!("Connect to database {theirs:?} if that is the one to upgrade; Dawarich Doctor leaves the containers of another database alone (stop and start them by hand if they belong to this one).")),
            DockerError::NotFound { .. } => (ErrorKind::Docker, "Check that this is the machine Dawarich runs on (image freikin/dawarich); until then, stop/start the containers by hand.".into()),
            DockerError::Failed { .. } | DockerError::Unexpected { .. } => (ErrorKind::Docker, "See docker's message; the command is in the log and the audit log.".into()),
            DockerError::Ssh(t) => return t.report(),
            DockerError::Io(_) => (ErrorKind::Io, "Check the path, free space and permissions.".into()),
        };
        ErrorReport {
            kind,
            message: self.to_string(),
            fix,
        }
    }
}

/// A command that ran: what, how long, how it ended (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub command: String,
    pub took: Duration,
    pub outcome: String,
}

/// What a command printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: String,
}

#[derive(Clone)]
enum Transport {
    Local { program: PathBuf },
    Ssh(Remote),
}

/// Where `docker` runs.
#[derive(Clone)]
pub struct DockerHost {
    transport: Transport,
    journal: Arc<Mutex<Vec<Ran>>>,
}

impl std::fmt::Debug for DockerHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl DockerHost {
    /// `docker` on this computer (from PATH).
    pub fn local() -> DockerHost {
        DockerHost {
            transport: Transport::Local {
                program: PathBuf::from("docker"),
            },
            journal: Arc::default(),
        }
    }

    /// `docker` on the SSH server.
    pub fn ssh(remote: Remote) -> DockerHost {
        DockerHost {
            transport: Transport::Ssh(remote),
            journal: Arc::default(),
        }
    }

    /// The Docker host of a session: its SSH server when it came through one, else this computer.
    pub fn of(db: &Db) -> DockerHost {
        db.tunnel()
            .map_or_else(DockerHost::local, |t| DockerHost::ssh(t.remote()))
    }

    /// "this computer" or `user@host:port`.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Local { .. } => "this computer".into(),
            Transport::Ssh(r) => r.addr().to_string(),
        }
    }

    fn user(&self) -> String {
        match &self.transport {
            Transport::Local { .. } => std::env::var("USER").unwrap_or_else(|_| "this user".into()),
            Transport::Ssh(r) => r.addr().split('@').next().unwrap_or("the SSH user").to_string(),
        }
    }

    /// The command line as shown and as sent to a shell: `docker stop dawarich_app`.
    pub fn command_line(sub: Sub, args: &[&str]) -> String {
        std::iter::once("docker")
            .chain(std::iter::once(sub.as_str()))
            .map(str::to_string)
            .chain(args.iter().map(|a| shell_word(a)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The commands run so far (and forgets them).
    pub fn take_journal(&self) -> Vec<Ran> {
        self.journal
            .lock()
            .map(|mut j| std::mem::take(&mut *j))
            .unwrap_or_default()
    }

    /// Writes the commands run so far to the audit log (in the database and the audit `file`) and
    /// forgets them; best effort: a failure is logged, the operation's outcome stands.
    pub async fn write_journal(&self, conn: &crate::connect::ConnectOptions, file: Option<std::path::PathBuf>) {
        let ran = self.take_journal();
        if ran.is_empty() {
            return;
        }
        let write = async {
            let db = crate::connect::connect(conn).await?;
            crate::audit::install_support(&db).await?;
            let audit = crate::audit::Audit::new(crate::audit::new_run_id(), file);
            for r in &ran {
                audit
                    .record(&db, "docker", &r.command, None, r.took, &r.outcome)
                    .await?;
            }
            Ok::<_, crate::Error>(())
        };
        if let Err(e) = write.await {
            log::warn!("the docker commands could not be written to the audit log: {e}");
        }
    }

    /// Runs a command and requires exit status 0; returns what it printed.
    pub async fn run(&self, sub: Sub, args: &[&str]) -> Result<Output, DockerError> {
        let mut stdout = Vec::new();
        let (status, stderr) = self
            .stream(sub, args, &mut |d: &[u8]| {
                stdout.extend_from_slice(d);
                Ok(())
            })
            .await?;
        self.expect_success(sub, args, status, &stderr)?;
        Ok(Output { stdout, stderr })
    }

    /// Runs a command, handing its standard output to `sink` piece by piece. Returns the exit status
    /// (`None`: it ended without one: killed, or the SSH link dropped) and the standard error.
    /// Fails when docker itself cannot be used (not installed, not allowed, daemon down).
    pub async fn stream(
        &self,
        sub: Sub,
        args: &[&str],
        sink: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<(Option<i32>, String), DockerError> {
        let command = Self::command_line(sub, args);
        log::info!("docker on {}: {command}", self.describe());
        let started = Instant::now();
        let result = match &self.transport {
            Transport::Local { program } => self.local_run(program, sub, args, sink).await,
            Transport::Ssh(remote) => match remote.exec(&command, b"", sink).await? {
                Ok((status, err)) => Ok((status.map(|s| s as i32), String::from_utf8_lossy(&err).into_owned())),
                Err(e) => Err(DockerError::Io(e)),
            },
        };
        let outcome = match &result {
            Ok((Some(0), _)) => "ok".to_string(),
            Ok((Some(s), err)) => format!("exit status {s}: {}", first_line(err)),
            Ok((None, _)) => "ended without an exit status".into(),
            Err(e) => format!("failed: {e}"),
        };
        if let Ok(mut j) = self.journal.lock() {
            j.push(Ran {
                command,
                took: started.elapsed(),
                outcome,
            });
        }
        let (status, stderr) = result?;
        if let Some(e) = self.unusable(status, &stderr) {
            return Err(e);
        }
        Ok((status, stderr))
    }

    async fn local_run(
        &self,
        program: &PathBuf,
        sub: Sub,
        args: &[&str],
        sink: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<(Option<i32>, String), DockerError> {
        let mut child = match tokio::process::Command::new(program)
            .arg(sub.as_str())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DockerError::NotInstalled {
                    host: self.describe(),
                    user: self.user(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let err_task = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf).await;
            buf
        });
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = stdout.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if let Err(e) = sink(&buf[..n]) {
                let _ = child.kill().await;
                return Err(e.into());
            }
        }
        let status = child.wait().await?;
        let err = err_task.await.unwrap_or_default();
        Ok((status.code(), String::from_utf8_lossy(&err).into_owned()))
    }

    /// docker's own failures, which no command can get past.
    fn unusable(&self, status: Option<i32>, stderr: &str) -> Option<DockerError> {
        let (host, user) = (self.describe(), self.user());
        let detail = first_line(stderr).to_string();
        if status == Some(127)
            || (status != Some(0) && stderr.contains("docker: not found"))
            || stderr.contains("docker: command not found")
        {
            return Some(DockerError::NotInstalled { host, user });
        }
        if stderr.contains("permission denied while trying to connect to the Docker daemon") {
            return Some(DockerError::Denied { host, user, detail });
        }
        if stderr.contains("Cannot connect to the Docker daemon") {
            return Some(DockerError::DaemonDown { host, detail });
        }
        None
    }

    /// An error for a command that did not end with status 0.
    pub fn expect_success(
        &self,
        sub: Sub,
        args: &[&str],
        status: Option<i32>,
        stderr: &str,
    ) -> Result<(), DockerError> {
        if status == Some(0) {
            return Ok(());
        }
        Err(DockerError::Failed {
            host: self.describe(),
            command: Self::command_line(sub, args),
            status: status.map_or_else(|| "none: the command was cut off".into(), |s| s.to_string()),
            detail: first_line(stderr).to_string(),
        })
    }
}

fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_is_one_shell_word() {
        assert_eq!(
            DockerHost::command_line(Sub::Stop, &["dawarich_app", "my app", "it's", "$(rm -rf ~)", ""]),
            r#"docker stop dawarich_app 'my app' 'it'\''s' '$(rm -rf ~)' ''"#
        );
    }

    #[test]
    fn docker_failures_are_named() {
        let h = DockerHost::local();
        let denied = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json\": dial unix /var/run/docker.sock: connect: permission denied";
        assert!(matches!(h.unusable(Some(1), denied), Some(DockerError::Denied { .. })));
        assert!(matches!(
            h.unusable(Some(127), "sh: 1: docker: not found"),
            Some(DockerError::NotInstalled { .. })
        ));
        assert!(matches!(
            h.unusable(
                Some(1),
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
            ),
            Some(DockerError::DaemonDown { .. })
        ));
        assert!(h.unusable(Some(1), "Error: No such container: x").is_none());
        let e = h.unusable(Some(1), denied).unwrap().report();
        assert!(e.fix.contains("usermod -aG docker"), "{}", e.fix);
    }
}
