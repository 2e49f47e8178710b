//! A throwaway demo: a local cluster holding a broken Dawarich database that reproduces the incident
//! this tool exists for — a 0.9.11 install with pending migrations, ownerless OwnTracks points, and a
//! dead container's session still holding the Rails migration lock. Nothing of the user's is touched.

use std::fmt;
use std::path::{Path, PathBuf};

use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::locks::migration_lock_key;
use dawarich_doctor::profile::parse_url;
use dawarich_doctor::{Error, Result};
use dawarich_doctor_testkit::cluster::{pg_bin, Cluster, ClusterOptions};
use dawarich_doctor_testkit::fixtures;

/// The release the demo starts from.
pub const DEMO_RELEASE: &str = "0.9.11";
/// The demo database's name (Dawarich's stock default).
pub const DEMO_DATABASE: &str = "dawarich_development";

/// A running demo; dropping it stops the cluster and removes its files.
pub struct Sandbox {
    /// The session that plays the dead container holding the lock (kept open on purpose).
    pub lock_holder: Db,
    /// `postgres://…` of the demo database.
    pub url: String,
    cluster: Cluster,
}

fn options(url: &str) -> Result<ConnectOptions> {
    let p = parse_url(url)?;
    Ok(ConnectOptions::new(p.profile, p.password))
}

/// The PostgreSQL major version whose Debian packages we name when no server is installed (Debian 12's).
const DEFAULT_MAJOR: u32 = 15;

/// What the demo needs that this machine lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No PostgreSQL server binaries (no `initdb`): the server and PostGIS are both needed.
    Server,
    /// The server of this major version is installed, PostGIS for it is not.
    Postgis { major: u32 },
}

impl Missing {
    /// The Debian packages that provide what is missing.
    pub fn packages(&self) -> Vec<String> {
        match self {
            Missing::Server => vec![
                format!("postgresql-{DEFAULT_MAJOR}"),
                format!("postgresql-{DEFAULT_MAJOR}-postgis-3"),
            ],
            Missing::Postgis { major } => vec![format!("postgresql-{major}-postgis-3")],
        }
    }

    /// The command that installs them.
    pub fn install_command(&self) -> String {
        format!("sudo apt install {}", self.packages().join(" "))
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Server => write!(
                f,
                "The demo database needs a local PostgreSQL server with PostGIS, which is not installed"
            ),
            Missing::Postgis { major } => write!(
                f,
                "The demo database needs PostGIS for PostgreSQL {major}, which is not installed"
            ),
        }
    }
}

/// What the demo needs that is not installed here; `None` when it can start.
pub fn missing() -> Option<Missing> {
    missing_for(pg_bin().ok().as_deref())
}

/// Whether the demo can start here: PostgreSQL server binaries and PostGIS are installed.
pub fn available() -> bool {
    missing().is_none()
}

/// What is missing next to the server binaries in `bin` (`None`: none were found). Debian's layout
/// (`<root>/lib/postgresql/N/bin`, PostGIS in `<root>/share/postgresql/N/extension`) names the
/// major version; elsewhere `postgres --version` does, and PostGIS is looked for in `bin/../share`.
fn missing_for(bin: Option<&Path>) -> Option<Missing> {
    let Some(bin) = bin.filter(|b| b.join("initdb").is_file()) else {
        return Some(Missing::Server);
    };
    let debian = debian_major(bin);
    let mut controls: Vec<PathBuf> = ["share/extension", "share/postgresql/extension"]
        .iter()
        .map(|d| bin.join("..").join(d).join("postgis.control"))
        .collect();
    if let Some((root, major)) = &debian {
        controls.push(root.join(format!("share/postgresql/{major}/extension/postgis.control")));
    }
    if controls.iter().any(|c| c.is_file()) {
        return None;
    }
    // Without a major version no package can be named: leave it to the start to fail.
    let major = debian.map(|(_, m)| m).or_else(|| version_major(bin))?;
    Some(Missing::Postgis { major })
}

/// `<root>/lib/postgresql/N/bin` → (`<root>`, N).
fn debian_major(bin: &Path) -> Option<(PathBuf, u32)> {
    let version_dir = bin.parent()?;
    let major = version_dir.file_name()?.to_str()?.parse().ok()?;
    let postgresql = version_dir.parent()?;
    let lib = postgresql.parent()?;
    if postgresql.file_name()? == "postgresql" && lib.file_name()? == "lib" {
        Some((lib.parent()?.to_path_buf(), major))
    } else {
        None
    }
}

/// The major version `bin/postgres --version` prints ("postgres (PostgreSQL) 15.8 …").
fn version_major(bin: &Path) -> Option<u32> {
    let out = std::process::Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split(") ").nth(1)?;
    version.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Starts the demo (needs PostgreSQL server binaries with PostGIS installed locally).
pub async fn start(points: i64) -> Result<Sandbox> {
    if let Some(m) = tokio::task::spawn_blocking(missing).await? {
        return Err(Error::Precondition {
            message: m.to_string(),
            fix: format!("To install: {}", m.install_command()),
        });
    }
    let cluster = tokio::task::spawn_blocking(|| {
        Cluster::start(&ClusterOptions {
            superuser_password: "password".into(),
            ..Default::default()
        })
    })
    .await?
    .map_err(|e| Error::Precondition {
        message: e.to_string(),
        fix: format!(
            "Check the PostgreSQL server installation ({}).",
            Missing::Server.install_command()
        ),
    })?;
    let admin = connect(&options(&cluster.url("postgres"))?).await?;
    admin.batch_execute(&format!("CREATE DATABASE {DEMO_DATABASE}")).await?;
    let url = cluster.url(DEMO_DATABASE);
    let db = connect(&options(&url)?).await?;
    fixtures::fresh_install(&db, DEMO_RELEASE, "development").await?;
    fixtures::populate(&db, &fixtures::Data { users: 1, points }).await?;
    db.batch_execute("UPDATE points SET user_id = NULL WHERE id % 5 = 0; ANALYZE points")
        .await?;
    let mut holder_opts = options(&url)?;
    holder_opts.profile.application_name = String::new();
    let lock_holder = connect(&holder_opts).await?;
    lock_holder
        .query_one("SELECT pg_try_advisory_lock($1)", &[&migration_lock_key(DEMO_DATABASE)])
        .await?;
    Ok(Sandbox {
        lock_holder,
        url,
        cluster,
    })
}

impl Sandbox {
    /// Stops the cluster and removes its files.
    pub fn stop(self) {
        drop(self.lock_holder);
        self.cluster.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Debian-like tree under a temporary root: `lib/postgresql/N/bin/initdb`, and PostGIS's
    /// control file when `postgis`.
    fn tree(major: u32, postgis: bool) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join(format!("lib/postgresql/{major}/bin"));
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("initdb"), "").unwrap();
        if postgis {
            let ext = root.path().join(format!("share/postgresql/{major}/extension"));
            std::fs::create_dir_all(&ext).unwrap();
            std::fs::write(ext.join("postgis.control"), "").unwrap();
        }
        (root, bin)
    }

    #[test]
    fn no_server_names_the_server_and_postgis() {
        let m = missing_for(None).unwrap();
        assert_eq!(m, Missing::Server);
        assert_eq!(
            m.install_command(),
            "sudo apt install postgresql-15 postgresql-15-postgis-3"
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            missing_for(Some(empty.path())),
            Some(Missing::Server),
            "a folder without initdb"
        );
    }

    #[test]
    fn a_server_without_postgis_names_only_postgis_of_its_version() {
        let (_root, bin) = tree(15, false);
        let m = missing_for(Some(&bin)).unwrap();
        assert_eq!(m, Missing::Postgis { major: 15 });
        assert_eq!(m.packages(), ["postgresql-15-postgis-3"]);
        assert_eq!(m.install_command(), "sudo apt install postgresql-15-postgis-3");
        assert_eq!(
            m.to_string(),
            "The demo database needs PostGIS for PostgreSQL 15, which is not installed"
        );
        let (_root, bin) = tree(16, false);
        assert_eq!(missing_for(Some(&bin)).unwrap().packages(), ["postgresql-16-postgis-3"]);
    }

    #[test]
    fn server_and_postgis_miss_nothing() {
        let (_root, bin) = tree(15, true);
        assert_eq!(missing_for(Some(&bin)), None);
    }
}
