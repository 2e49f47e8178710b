//! Dawarich's containers on the Docker host: found by image (`freikin/dawarich`), compose labels or
//! the stock names; their state, health, restarts and the release their image holds; stopped around
//! an upgrade and started after it, with the log lines that show Dawarich up; follow-ups run in the
//! app container.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dawarich_doctor_model::{
    ContainerRole, ContainerStatus, FollowUp, InstallStatus, DEFAULT_APP_CONTAINER, DEFAULT_DB_CONTAINER,
};
use serde_json::Value;

use crate::docker::{DockerError, DockerHost, Sub};

/// Where the image keeps its release.
const VERSION_FILE: &str = "/var/app/.app_version";
const PROJECT_LABEL: &str = "com.docker.compose.project";
const SERVICE_LABEL: &str = "com.docker.compose.service";

/// The install found on a Docker host: container names by role.
#[derive(Debug, Clone)]
pub struct Install {
    pub host: DockerHost,
    pub app: String,
    pub sidekiq: Option<String>,
    pub db: Option<String>,
}

/// One `docker ps --format '{{json .}}'` line.
#[derive(Debug, Clone)]
struct Listed {
    name: String,
    image: String,
    command: String,
    labels: BTreeMap<String, String>,
}

/// Finds the install of the connection's database and stops its sidekiq and app; the docker
/// commands go to the audit log.
pub async fn stop_dawarich(conn: &crate::connect::ConnectOptions) -> crate::Result<Install> {
    let install = find(&crate::connect::connect(conn).await?).await?;
    let stopped = install.stop().await;
    install.host.write_journal(conn, crate::audit::default_file()).await;
    stopped?;
    Ok(install)
}

/// The install of the session's database on its Docker host (the SSH server, else this computer).
pub async fn find(db: &crate::connect::Db) -> Result<Install, DockerError> {
    discover(&DockerHost::of(db), &db.database).await
}

/// Finds the install of `database` (the app whose DATABASE_NAME it is, when several are found).
pub async fn discover(host: &DockerHost, database: &str) -> Result<Install, DockerError> {
    let out = host
        .run(Sub::Ps, &["--all", "--no-trunc", "--format", "{{json .}}"])
        .await?;
    let listed = parse_ps(&String::from_utf8_lossy(&out.stdout)).map_err(|detail| DockerError::Unexpected {
        host: host.describe(),
        command: "docker ps".into(),
        detail,
    })?;
    let dawarich: Vec<&Listed> = listed.iter().filter(|c| is_dawarich_image(&c.image)).collect();
    let apps: Vec<&&Listed> = dawarich.iter().filter(|c| !c.command.contains("sidekiq")).collect();
    let app = match apps.as_slice() {
        [] => {
            let found = if listed.is_empty() {
                ": docker lists no containers there".to_string()
            } else {
                format!(
                    "; found: {}",
                    listed
                        .iter()
                        .map(|c| format!("{} ({})", c.name, c.image))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(DockerError::NotFound {
                host: host.describe(),
                found,
            });
        }
        [one] => (**one).clone(),
        many => {
            // several installs: the one whose DATABASE_NAME is ours, else the stock name
            let names: Vec<&str> = many.iter().map(|c| c.name.as_str()).collect();
            let envs = inspect(host, &names).await?;
            let ours = envs
                .iter()
                .position(|v| database_of(&env_of(v)).as_deref() == Some(database))
                .or_else(|| names.iter().position(|n| *n == DEFAULT_APP_CONTAINER))
                .unwrap_or(0);
            (**many[ours]).clone()
        }
    };
    let same_project = |c: &Listed| c.labels.get(PROJECT_LABEL) == app.labels.get(PROJECT_LABEL);
    let sidekiq = dawarich
        .iter()
        .filter(|c| c.command.contains("sidekiq"))
        .find(|c| same_project(c))
        .map(|c| c.name.clone());
    let app_env = env_of(inspect(host, &[&app.name]).await?.first().unwrap_or(&Value::Null));
    // never someone else's Dawarich: the app must use the database we are connected to
    if let Some(theirs) = database_of(&app_env).filter(|d| d != database) {
        return Err(DockerError::OtherDatabase {
            host: host.describe(),
            app: app.name,
            theirs,
            ours: database.into(),
        });
    }
    let db_host = app_env
        .get("DATABASE_HOST")
        .cloned()
        .unwrap_or_else(|| DEFAULT_DB_CONTAINER.into());
    let db = listed
        .iter()
        .find(|c| c.name == db_host)
        .or_else(|| {
            listed
                .iter()
                .find(|c| same_project(c) && c.labels.get(SERVICE_LABEL) == Some(&db_host))
        })
        .or_else(|| listed.iter().find(|c| c.name == DEFAULT_DB_CONTAINER))
        .map(|c| c.name.clone());
    Ok(Install {
        host: host.clone(),
        app: app.name,
        sidekiq,
        db,
    })
}

impl Install {
    /// App, sidekiq, database: `(role, name)`.
    pub fn members(&self) -> Vec<(ContainerRole, &str)> {
        std::iter::once((ContainerRole::App, self.app.as_str()))
            .chain(self.sidekiq.as_deref().map(|s| (ContainerRole::Sidekiq, s)))
            .chain(self.db.as_deref().map(|d| (ContainerRole::Database, d)))
            .collect()
    }

    /// Each container's state, health, restarts, image and (app, sidekiq) release.
    pub async fn status(&self) -> Result<InstallStatus, DockerError> {
        let members = self.members();
        let names: Vec<&str> = members.iter().map(|(_, n)| *n).collect();
        let inspected = inspect(&self.host, &names).await?;
        let mut containers = Vec::new();
        for ((role, name), v) in members.iter().zip(&inspected) {
            let release = match role {
                ContainerRole::Database => None,
                _ => self.release_of(name).await.ok(),
            };
            containers.push(status_of(*role, name, v, release));
        }
        Ok(InstallStatus {
            host: self.host.describe(),
            containers,
        })
    }

    /// The release the container's image holds, read with `docker cp` (works when it is stopped).
    pub async fn release_of(&self, container: &str) -> Result<String, DockerError> {
        let src = format!("{container}:{VERSION_FILE}");
        let out = self.host.run(Sub::Cp, &[&src, "-"]).await?;
        tar_first_file(&out.stdout)
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| DockerError::Unexpected {
                host: self.host.describe(),
                command: DockerHost::command_line(Sub::Cp, &[&src, "-"]),
                detail: "no file in the tar stream".into(),
            })
    }

    /// The app container's environment (`TIME_ZONE`, `RAILS_ENV`, `DATABASE_*`, …).
    pub async fn app_environment(&self) -> Result<BTreeMap<String, String>, DockerError> {
        let v = inspect(&self.host, &[&self.app]).await?;
        Ok(env_of(v.first().unwrap_or(&Value::Null)))
    }

    /// The containers an upgrade stops (sidekiq first: it writes to the tables being changed).
    pub fn dawarich(&self) -> Vec<&str> {
        self.sidekiq
            .as_deref()
            .into_iter()
            .chain(std::iter::once(self.app.as_str()))
            .collect()
    }

    /// `docker stop` sidekiq and app.
    pub async fn stop(&self) -> Result<(), DockerError> {
        self.host.run(Sub::Stop, &self.dawarich()).await.map(|_| ())
    }

    /// Starts the app, waits until it is healthy (its health check, or Puma's "Listening on" line
    /// without one), then starts sidekiq (compose: sidekiq depends on a healthy app). Returns the
    /// app's log lines of this start that show what its entrypoint did.
    pub async fn start(
        &self,
        timeout: Duration,
        on_line: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Vec<String>, StartError> {
        self.host.run(Sub::Start, &[&self.app]).await?;
        let started = Instant::now();
        let restarts_before = self.app_status().await?.restart_count;
        let mut seen = 0;
        loop {
            let log = self.log_since_start().await?;
            for line in log.iter().skip(seen) {
                on_line(line);
            }
            seen = log.len();
            let s = self.app_status().await?;
            let listening = log.iter().any(|l| l.contains("Listening on"));
            let up = match s.health.as_deref() {
                Some(h) => h == "healthy",
                None => s.state == "running" && listening,
            };
            if up {
                if let Some(sk) = &self.sidekiq {
                    self.host.run(Sub::Start, &[sk]).await?;
                }
                return Ok(log.into_iter().filter(|l| proves_start(l)).collect());
            }
            if s.state == "exited"
                || s.state == "dead"
                || s.restart_count > restarts_before
                || s.health.as_deref() == Some("unhealthy")
            {
                return Err(StartError::Failed {
                    container: self.app.clone(),
                    state: s.state,
                    restarts: s.restart_count,
                    log_tail: log.iter().rev().take(20).rev().cloned().collect(),
                });
            }
            if started.elapsed() > timeout {
                return Err(StartError::Timeout {
                    container: self.app.clone(),
                    secs: timeout.as_secs(),
                    log_tail: log.iter().rev().take(20).rev().cloned().collect(),
                });
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn app_status(&self) -> Result<ContainerStatus, DockerError> {
        let v = inspect(&self.host, &[&self.app]).await?;
        Ok(status_of(
            ContainerRole::App,
            &self.app,
            v.first().unwrap_or(&Value::Null),
            None,
        ))
    }

    /// The app's log since its last start.
    async fn log_since_start(&self) -> Result<Vec<String>, DockerError> {
        let v = inspect(&self.host, &[&self.app]).await?;
        let since = v
            .first()
            .and_then(|v| v.pointer("/State/StartedAt"))
            .and_then(Value::as_str)
            .unwrap_or("0")
            .to_string();
        let out = self.host.run(Sub::Logs, &["--since", &since, &self.app]).await?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &out.stderr;
        Ok(text.lines().map(str::to_string).collect())
    }

    /// Runs a follow-up in the app container; returns what it printed.
    pub async fn run_follow_up(&self, f: &FollowUp) -> Result<String, DockerError> {
        let args: Vec<&str> = std::iter::once(self.app.as_str()).chain(f.argv()).collect();
        let out = self.host.run(Sub::Exec, &args).await?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned() + &out.stderr)
    }
}

/// Why Dawarich did not come up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{container} did not come up: it is {state} after {restarts} restarts")]
    Failed {
        container: String,
        state: String,
        restarts: u64,
        log_tail: Vec<String>,
    },
    #[error("{container} was not healthy within {secs} s")]
    Timeout {
        container: String,
        secs: u64,
        log_tail: Vec<String>,
    },
    #[error(transparent)]
    Docker(#[from] DockerError),
}

impl StartError {
    /// What to do: the database is migrated; the containers stay as they are.
    pub fn fix(&self) -> String {
        match self {
            StartError::Docker(d) => d.report().fix,
            StartError::Failed { container, log_tail, .. } | StartError::Timeout { container, log_tail, .. } => format!(
                "The database upgrade itself is finished. Look at the app's log (`docker logs {container}`; last lines: {}), then start the containers with `docker start {container}` (and sidekiq after it).",
                log_tail.iter().rev().take(3).rev().cloned().collect::<Vec<_>>().join(" | ")
            ),
        }
    }
}

/// A log line that shows what the entrypoint did: its migration steps (Rails prints `== VERSION
/// Name: migrating` for each migration it runs, nothing when none is pending) and Puma listening.
fn proves_start(line: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains("migrat") || l.contains("listening on") || l.contains("seed")
}

/// `docker inspect` of `names`, in their order.
async fn inspect(host: &DockerHost, names: &[&str]) -> Result<Vec<Value>, DockerError> {
    let args: Vec<&str> = ["--type", "container"]
        .into_iter()
        .chain(names.iter().copied())
        .collect();
    let out = host.run(Sub::Inspect, &args).await?;
    let bad = |detail: String| DockerError::Unexpected {
        host: host.describe(),
        command: DockerHost::command_line(Sub::Inspect, &args),
        detail,
    };
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|e| bad(e.to_string()))?;
    names
        .iter()
        .map(|n| {
            all.iter()
                .find(|v| v["Name"].as_str().map(|s| s.trim_start_matches('/')) == Some(n))
                .cloned()
                .ok_or_else(|| bad(format!("no entry for {n}")))
        })
        .collect()
}

fn status_of(role: ContainerRole, name: &str, v: &Value, release: Option<String>) -> ContainerStatus {
    let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    ContainerStatus {
        role,
        name: name.to_string(),
        image: s("/Config/Image").unwrap_or_default(),
        state: s("/State/Status").unwrap_or_else(|| "unknown".into()),
        health: s("/State/Health/Status"),
        restart_count: v["RestartCount"].as_u64().unwrap_or(0),
        release,
    }
}

/// `Config.Env` as a map.
fn env_of(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/Config/Env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The database an app container uses: `DATABASE_NAME`, else the path of `DATABASE_URL`.
fn database_of(env: &BTreeMap<String, String>) -> Option<String> {
    if let Some(n) = env.get("DATABASE_NAME").filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    let url = url::Url::parse(env.get("DATABASE_URL")?).ok()?;
    let name = url.path().trim_start_matches('/');
    (!name.is_empty()).then(|| {
        percent_encoding::percent_decode_str(name)
            .decode_utf8_lossy()
            .into_owned()
    })
}

/// `freikin/dawarich`, `freikin/dawarich:1.7.5`, `docker.io/freikin/dawarich@sha256:…`.
fn is_dawarich_image(image: &str) -> bool {
    let repo = image.split(['@']).next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    repo == "freikin/dawarich" || repo.ends_with("/freikin/dawarich")
}

fn parse_ps(text: &str) -> Result<Vec<Listed>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).map_err(|e| format!("{e} in {l:?}"))?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            Ok(Listed {
                name: s("Names").split(',').next().unwrap_or_default().to_string(),
                image: s("Image"),
                command: s("Command"),
                labels: s("Labels")
                    .split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            })
        })
        .collect()
}

/// The content of the first regular file of a tar stream (`docker cp … -`).
fn tar_first_file(tar: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        if header.iter().all(|b| *b == 0) {
            return None;
        }
        let size_field = std::str::from_utf8(&header[124..136]).ok()?;
        let size = usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok()?;
        let body = at + 512;
        if matches!(header[156], b'0' | 0) {
            return tar.get(body..body.checked_add(size)?);
        }
        at = body + size.div_ceil(512) * 512;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_an_app_from_its_name_or_url() {
        let env = |kv: &[(&str, &str)]| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(
            database_of(&env(&[("DATABASE_NAME", "dawarich_production")])).as_deref(),
            Some("dawarich_production")
        );
        assert_eq!(
            database_of(&env(&[("DATABASE_URL", "postgis://u:p@db:5432/my%20db")])).as_deref(),
            Some("my db")
        );
        assert_eq!(database_of(&env(&[("DATABASE_HOST", "db")])), None);
    }

    #[test]
    fn dawarich_images_by_repository() {
        for yes in [
            "freikin/dawarich",
            "freikin/dawarich:1.7.5",
            "docker.io/freikin/dawarich:latest",
            "freikin/dawarich@sha256:abc",
        ] {
            assert!(is_dawarich_image(yes), "{yes}");
        }
        for no in [
            "postgis/postgis:17-3.5-alpine",
            "freikin/dawarich-backup",
            "redis:7.4-alpine",
        ] {
            assert!(!is_dawarich_image(no), "{no}");
        }
    }

    #[test]
    fn ps_lines_as_docker_documents_them() {
        let line = r#"{"Command":"\"web-entrypoint.sh bin/rails server -p 3000 -b ::\"","CreatedAt":"2024-05-01 10:00:00 +0000 UTC","ID":"0123456789ab","Image":"freikin/dawarich:latest","Labels":"com.docker.compose.project=dawarich,com.docker.compose.service=dawarich_app","LocalVolumes":"0","Mounts":"","Names":"dawarich_app","Networks":"dawarich","Ports":"0.0.0.0:3000->3000/tcp","RunningFor":"2 hours ago","Size":"0B","State":"running","Status":"Up 2 hours (healthy)"}"#;
        let c = &parse_ps(line).unwrap()[0];
        assert_eq!(c.name, "dawarich_app");
        assert_eq!(c.labels[SERVICE_LABEL], "dawarich_app");
        assert!(parse_ps("not json").is_err());
    }

    #[test]
    fn the_first_file_of_a_tar_stream() {
        let mut tar = vec![0u8; 512];
        tar[..12].copy_from_slice(b".app_version");
        tar[124..136].copy_from_slice(b"00000000006\0");
        tar[156] = b'0';
        let mut body = b"1.7.5\n".to_vec();
        body.resize(512, 0);
        tar.extend(body);
        tar.extend([0u8; 1024]);
        assert_eq!(tar_first_file(&tar), Some(&b"1.7.5\n"[..]));
        assert_eq!(tar_first_file(&tar[..515]), None, "cut off inside the file");
        assert_eq!(tar_first_file(b"garbage"), None);
    }
}
