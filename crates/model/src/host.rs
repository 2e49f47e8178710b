//! The Docker host of a Dawarich install: its containers as Dawarich Doctor sees them, and backups.

use serde::{Deserialize, Serialize};

/// The stock docker compose's container names (a renamed install is found by its compose labels).
pub const DEFAULT_APP_CONTAINER: &str = "dawarich_app";
pub const DEFAULT_SIDEKIQ_CONTAINER: &str = "dawarich_sidekiq";
pub const DEFAULT_DB_CONTAINER: &str = "dawarich_db";

/// What a container is to Dawarich.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContainerRole {
    /// `rails server`: runs the migrations when it starts.
    App,
    /// Background jobs; writes to the tables an upgrade changes.
    Sidekiq,
    /// The PostGIS server; backups run `pg_dump` inside it.
    Database,
}

impl ContainerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerRole::App => "app",
            ContainerRole::Sidekiq => "sidekiq",
            ContainerRole::Database => "database",
        }
    }
}

/// One container of the install, as `docker inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    pub role: ContainerRole,
    pub name: String,
    pub image: String,
    /// `running`, `restarting`, `exited`, `created`, …
    pub state: String,
    /// `starting`, `healthy`, `unhealthy`; `None` without a health check.
    pub health: Option<String>,
    pub restart_count: u64,
    /// The Dawarich release the image holds (`/var/app/.app_version`); app and sidekiq only.
    pub release: Option<String>,
}

impl ContainerStatus {
    /// Running (or about to run again after a failure).
    pub fn is_up(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting")
    }

    /// Restarting, or restarted since it was started and not healthy: it fails on start (the crash
    /// loop of a failed migration; `docker start` resets the count).
    pub fn crash_looping(&self) -> bool {
        self.state == "restarting" || (self.restart_count >= 1 && self.health.as_deref() != Some("healthy"))
    }
}

/// The install found on the Docker host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallStatus {
    /// Where docker runs: "this computer" or the SSH server.
    pub host: String,
    /// App first, then sidekiq (if any), then the database container (if found).
    pub containers: Vec<ContainerStatus>,
}

impl InstallStatus {
    pub fn container(&self, role: ContainerRole) -> Option<&ContainerStatus> {
        self.containers.iter().find(|c| c.role == role)
    }

    /// The release of the app image: the default upgrade target when the catalog knows it.
    pub fn image_release(&self) -> Option<&str> {
        self.container(ContainerRole::App)?.release.as_deref()
    }
}

/// A finished, verified backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupOutcome {
    /// The archive (`pg_dump -Fc`) on this computer.
    pub path: String,
    pub bytes: u64,
    /// Tables whose data the archive holds (all of the database's).
    pub tables: usize,
    /// The command that restores it, exactly.
    pub restore_command: String,
    pub elapsed_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_loop_is_a_restart_without_health() {
        let c = |state: &str, health: Option<&str>, restart_count| ContainerStatus {
            role: ContainerRole::App,
            name: "dawarich_app".into(),
            image: "freikin/dawarich:1.7.5".into(),
            state: state.into(),
            health: health.map(str::to_string),
            restart_count,
            release: None,
        };
        assert!(c("restarting", None, 0).crash_looping());
        assert!(c("running", Some("starting"), 2).crash_looping());
        assert!(!c("running", Some("healthy"), 2).crash_looping());
        assert!(!c("running", Some("starting"), 0).crash_looping());
        assert!(!c("exited", None, 0).crash_looping());
    }
}
