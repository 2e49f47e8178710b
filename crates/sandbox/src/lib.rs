//! A throwaway demo: a local cluster holding a broken Dawarich database that reproduces the incident
//! this tool exists for — a 0.9.11 install with pending migrations, ownerless OwnTracks points, and a
//! dead container's session still holding the Rails migration lock. Nothing of the user's is touched.

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

/// Whether the demo can start here: PostgreSQL server binaries are installed.
pub fn available() -> bool {
    pg_bin().is_ok()
}

/// Starts the demo (needs PostgreSQL server binaries with PostGIS installed locally).
pub async fn start(points: i64) -> Result<Sandbox> {
    let cluster = tokio::task::spawn_blocking(|| {
        Cluster::start(&ClusterOptions {
            superuser_password: "password".into(),
            ..Default::default()
        })
    })
    .await?
    .map_err(|e| Error::Precondition {
        message: e.to_string(),
        fix: "Install PostgreSQL and PostGIS (scripts/setup db on Debian).".into(),
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
