//! The double's state: where the database is and the containers, in `state.json`, read and written
//! under an exclusive `flock` on `state.lock`. Every file is world-writable (the SSH tests run the
//! double as an unprivileged user) and `state.json` is replaced atomically, so a process killed
//! while writing leaves the previous state.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the `db` container's programs connect: the test cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pg {
    pub bin: PathBuf,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

/// What a container's main process stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    App,
    Sidekiq,
    Db,
    Redis,
}

/// A container's health check, as `Config.Healthcheck` (durations in nanoseconds).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Healthcheck {
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub start_period: i64,
    pub retries: i64,
}

/// One container. Times are RFC 3339 (`0001-01-01T00:00:00Z`: never).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    /// The Dawarich release in the image (`/var/app/.app_version`).
    pub release: String,
    pub role: Role,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    /// `running`, `restarting`, `exited` or `created`.
    pub state: String,
    /// The double's process standing in for the container's (`None`: none).
    pub pid: Option<i32>,
    /// `starting`, `healthy`, `unhealthy`; `None` before the first start.
    pub health: Option<String>,
    pub healthcheck: Option<Healthcheck>,
    /// `on-failure`, `always`, `unless-stopped` or `no`.
    pub restart_policy: String,
    pub restart_count: u32,
    pub exit_code: i32,
    pub created: String,
    pub started_at: String,
    pub finished_at: String,
    pub ip: String,
    /// Volume names.
    pub mounts: Vec<String>,
    /// `3000:3000/tcp` (published) or `5432/tcp` (exposed only).
    pub ports: Vec<String>,
    /// For the app and sidekiq of a release the catalog does not know: the folder of its synthetic
    /// migrations (`docker::future`), which the app's entrypoint migrates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub future: Option<PathBuf>,
}

impl Container {
    /// The value of an environment variable.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find_map(|e| e.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
    }

    /// Sets (or adds) an environment variable.
    pub fn set_env(&mut self, key: &str, value: &str) {
        let entry = format!("{key}={value}");
        match self.env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
            Some(e) => *e = entry,
            None => self.env.push(entry),
        }
    }

    /// Whether the container counts as running for docker (restarting ones do).
    pub fn is_up(&self) -> bool {
        self.state == "running" || self.state == "restarting"
    }
}

/// The test process the double's processes belong to: they end when it is gone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owner {
    pub pid: i32,
    /// Its start time (`/proc/PID/stat` field 22), so a reused pid does not count.
    pub start: u64,
}

/// The whole state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub pg: Pg,
    pub denied: bool,
    pub owner: Option<Owner>,
    pub containers: Vec<Container>,
}

impl State {
    /// A container by name (`/name` too), full id or unique id prefix.
    pub fn find(&self, key: &str) -> Option<usize> {
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(i) = self.containers.iter().position(|c| c.name == name || c.id == key) {
            return Some(i);
        }
        let by_prefix: Vec<usize> = (0..self.containers.len())
            .filter(|&i| !key.is_empty() && self.containers[i].id.starts_with(key))
            .collect();
        (by_prefix.len() == 1).then(|| by_prefix[0])
    }
}

pub const STATE: &str = "state.json";
pub const LOCK: &str = "state.lock";
pub const CALLS: &str = "calls.jsonl";
pub const LOGS: &str = "logs";

/// Zero time, as Go prints it.
pub const NEVER: &str = "0001-01-01T00:00:00Z";

/// The state, read under the lock; the lock is held until this is dropped.
pub struct Locked {
    _lock: File,
    dir: PathBuf,
    pub state: State,
}

/// Takes the lock on the state in `dir` and reads it.
pub fn lock(dir: &Path) -> std::io::Result<Locked> {
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .open(dir.join(LOCK))?;
    // SAFETY: flock on a descriptor we own; it is released when the file is closed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let text = std::fs::read_to_string(dir.join(STATE))?;
    let state = serde_json::from_str(&text).map_err(std::io::Error::other)?;
    Ok(Locked {
        _lock: lock,
        dir: dir.to_path_buf(),
        state,
    })
}

impl Locked {
    /// Writes the state back (atomically).
    pub fn save(&self) -> std::io::Result<()> {
        write_state(&self.dir, &self.state)
    }
}

/// Writes `state.json` through a temporary file and a rename (the caller holds the lock, or no
/// process uses the directory yet).
pub fn write_state(dir: &Path, state: &State) -> std::io::Result<()> {
    let tmp = dir.join(format!("{STATE}.{}.tmp", std::process::id()));
    {
        let mut f = create_shared(&tmp)?;
        f.write_all(
            serde_json::to_string_pretty(state)
                .map_err(std::io::Error::other)?
                .as_bytes(),
        )?;
        f.sync_data()?;
    }
    std::fs::rename(&tmp, dir.join(STATE))
}

/// Creates (truncates) a file every user may write.
pub fn create_shared(path: &Path) -> std::io::Result<File> {
    let f = File::create(path)?;
    let _ = f.set_permissions(std::fs::Permissions::from_mode(0o666));
    Ok(f)
}

/// Opens a file for appending, creating it world-writable if missing.
pub fn append_shared(path: &Path) -> std::io::Result<File> {
    let f = OpenOptions::new().append(true).create(true).mode(0o666).open(path)?;
    // Only the owner may chmod; a file someone else created already has the mode.
    let _ = f.set_permissions(std::fs::Permissions::from_mode(0o666));
    Ok(f)
}

/// The log file of a container.
pub fn log_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(LOGS).join(format!("{name}.log"))
}

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Go's `time.RFC3339Nano` (trailing zeros of the fraction dropped), as docker's JSON has it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    let fixed = rfc3339_fixed(t);
    let (head, frac) = fixed.trim_end_matches('Z').split_once('.').unwrap();
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{head}Z")
    } else {
        format!("{head}.{frac}Z")
    }
}

/// RFC 3339 with 9 fraction digits, as `docker logs -t` prints it.
pub fn rfc3339_fixed(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// The start time of a process (`/proc/PID/stat` field 22), `None` when it is gone or a zombie.
pub fn process_start(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") || fields.first() == Some(&"X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether `pid` is a live process of the double's for this state directory (so a reused pid is
/// never signalled).
pub fn is_double_process(pid: i32, dir: &Path) -> bool {
    if process_start(pid).is_none() {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let dir = dir.as_os_str().as_encoded_bytes();
    args.contains(&dir) && args.contains(&&b"__main"[..])
}

/// 64 random hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .expect("/dev/urandom");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_printed_like_go() {
        let t = parse_time("2024-05-01T10:00:00.120000000Z").unwrap();
        assert_eq!(rfc3339(t), "2024-05-01T10:00:00.12Z");
        assert_eq!(rfc3339_fixed(t), "2024-05-01T10:00:00.120000000Z");
        assert_eq!(
            rfc3339(parse_time("2024-05-01T10:00:00Z").unwrap()),
            "2024-05-01T10:00:00Z"
        );
        assert!(parse_time(NEVER).is_some());
    }

    #[test]
    fn environment_variables_are_read_and_replaced() {
        let mut c: Container = serde_json::from_value(serde_json::json!({
            "id": "ab", "name": "x", "image": "i", "image_id": "sha256:00", "release": "1.7.5", "role": "app",
            "labels": {}, "env": ["A=1", "AB=2"], "cmd": [], "entrypoint": [], "state": "created", "pid": null,
            "health": null, "healthcheck": null, "restart_policy": "no", "restart_count": 0, "exit_code": 0,
            "created": NEVER, "started_at": NEVER, "finished_at": NEVER, "ip": "", "mounts": [], "ports": []
        }))
        .unwrap();
        assert_eq!(c.env_var("A"), Some("1"));
        assert_eq!(c.env_var("AB"), Some("2"));
        c.set_env("A", "x=y");
        c.set_env("C", "3");
        assert_eq!(c.env, ["A=x=y", "AB=2", "C=3"]);
    }
}
