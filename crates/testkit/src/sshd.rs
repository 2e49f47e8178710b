//! A throwaway OpenSSH server for the SSH tests: Debian's sshd on a free 127.0.0.1 port with
//! generated host and user keys, logging in the dedicated user that `scripts/setup ssh` creates.
//! It runs in its own mount namespace whose /etc/hosts knows only `localhost` and `db_on_host` and
//! whose resolver is 127.0.0.1, so any other name fails to resolve without leaving the machine.
//! A fake `docker` on the session's PATH answers `docker inspect` for `dawarich_db` with
//! 127.0.0.1 (the cluster), refuses `locked_db` like a user outside the docker group, and logs calls;
//! `start_with_path` puts another directory (e.g. a `DockerDouble`'s) before it.
//! A watchdog stops sshd and removes its directory when the test binary exits.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dawarich_doctor::tunnel::SshOptions;
use dawarich_doctor_model::{SshAuth, SshProfile};

/// The SSH test user (created by `scripts/setup ssh`).
pub const USER: &str = "dawarich-doctor-ssh";
/// Its password, written by `scripts/setup ssh` (root-only).
const PASSWORD_FILE: &str = "/var/lib/dawarich-doctor/ssh-test-password";
/// The passphrase of the `encrypted` user key.
pub const PASSPHRASE: &str = "correct horse battery";

static FILES: AtomicUsize = AtomicUsize::new(0);

pub struct Sshd {
    pub port: u16,
    dir: PathBuf,
    watchdog: Option<Child>,
}

fn keygen(args: &[&str]) {
    let out = Command::new("ssh-keygen")
        .arg("-q")
        .args(args)
        .output()
        .expect("ssh-keygen (scripts/setup ssh)");
    assert!(
        out.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl Sshd {
    /// Starts a server (needs root and `scripts/setup ssh`).
    pub fn start() -> Sshd {
        Self::start_inner(None)
    }

    /// Starts a server whose sessions find programs in `extra` first (before the fake `docker`);
    /// the test user must be able to read and run them.
    pub fn start_with_path(extra: &Path) -> Sshd {
        Self::start_inner(Some(extra))
    }

    fn start_inner(extra: Option<&Path>) -> Sshd {
        // SAFETY: geteuid has no preconditions.
        assert!(
            unsafe { libc::geteuid() } == 0,
            "the SSH tests start sshd and need root"
        );
        assert!(
            Command::new("id")
                .arg(USER)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false),
            "no user {USER}: run scripts/setup ssh"
        );
        let dir = tempfile::Builder::new()
            .prefix("dawarich-doctor-sshd-")
            .tempdir()
            .unwrap()
            .keep();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let d = |name: &str| dir.join(name).display().to_string();
        keygen(&["-t", "ed25519", "-N", "", "-C", "test host", "-f", &d("host_ed25519")]);
        keygen(&["-t", "ed25519", "-N", "", "-C", "ed25519", "-f", &d("ed25519")]);
        keygen(&["-t", "ecdsa", "-b", "256", "-N", "", "-C", "ecdsa", "-f", &d("ecdsa")]);
        keygen(&["-t", "rsa", "-b", "2048", "-N", "", "-C", "rsa", "-f", &d("rsa")]);
        keygen(&[
            "-t",
            "ed25519",
            "-N",
            PASSPHRASE,
            "-C",
            "encrypted",
            "-f",
            &d("encrypted"),
        ]);
        keygen(&["-t", "ed25519", "-N", "", "-C", "stranger", "-f", &d("stranger")]);
        let authorized: String = ["ed25519", "ecdsa", "rsa", "encrypted"]
            .iter()
            .map(|k| std::fs::read_to_string(dir.join(format!("{k}.pub"))).unwrap())
            .collect();
        write(&dir.join("authorized_keys"), &authorized, 0o644);
        std::fs::create_dir(dir.join("bin")).unwrap();
        let docker = format!(
            r#"#!/bin/sh
echo "$*" >> {log}
[ "$1" = inspect ] || {{ echo "fake docker: only inspect" >&2; exit 1; }}
for name; do :; done
case "$name" in
  dawarich_db) echo "127.0.0.1 " ;;
  locked_db) echo "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock" >&2; exit 1 ;;
  *) echo "Error: No such container: $name" >&2; exit 1 ;;
esac
"#,
            log = d("docker.log")
        );
        write(&dir.join("bin/docker"), &docker, 0o755);
        write(&dir.join("docker.log"), "", 0o666);
        write(&dir.join("hosts"), "127.0.0.1 localhost\n127.0.0.1 db_on_host\n", 0o644);
        write(&dir.join("resolv.conf"), "nameserver 127.0.0.1\n", 0o644);
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {hk}\nPidFile {pid}\nAuthorizedKeysFile {ak}\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nAllowUsers {USER}\n\
             AllowTcpForwarding yes\nSetEnv PATH={bin}:/usr/bin:/bin\nLogLevel VERBOSE\n",
            hk = d("host_ed25519"),
            pid = d("sshd.pid"),
            ak = d("authorized_keys"),
            bin = match extra {
                Some(e) => format!("{}:{}", e.display(), d("bin")),
                None => d("bin"),
            },
        );
        write(&dir.join("sshd_config"), &config, 0o644);
        std::fs::create_dir_all("/run/sshd").unwrap();
        let script = r#"unshare -m sh -c 'mount --bind "$1/resolv.conf" /etc/resolv.conf && mount --bind "$1/hosts" /etc/hosts && exec /usr/sbin/sshd -D -e -f "$1/sshd_config"' sshd "$1" 2>"$1/sshd.log" </dev/null &
pid=$!
read _ignored
kill $pid 2>/dev/null
wait $pid
rm -rf "$1""#;
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("watchdog")
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sshd = Sshd {
            port,
            dir,
            watchdog: Some(watchdog),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && sshd.dir.join("sshd.pid").exists() {
                return sshd;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "sshd did not start: {}",
            std::fs::read_to_string(sshd.dir.join("sshd.log")).unwrap_or_default()
        );
    }

    /// A user key file: `ed25519`, `ecdsa`, `rsa`, `encrypted` (with [`PASSPHRASE`]) or `stranger`
    /// (not authorized).
    pub fn key(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// The test user's password.
    pub fn password() -> String {
        std::fs::read_to_string(PASSWORD_FILE)
            .unwrap_or_else(|e| panic!("{PASSWORD_FILE}: {e} (run scripts/setup ssh)"))
            .trim()
            .to_string()
    }

    /// The server's host key as `algorithm base64`.
    pub fn host_key(&self) -> String {
        let pubkey = std::fs::read_to_string(self.dir.join("host_ed25519.pub")).unwrap();
        pubkey.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
    }

    /// The host key's `SHA256:…` fingerprint, as ssh-keygen prints it.
    pub fn host_fingerprint(&self) -> String {
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.dir.join("host_ed25519.pub"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    }

    pub fn profile(&self, auth: SshAuth) -> SshProfile {
        SshProfile {
            host: "127.0.0.1".into(),
            port: self.port,
            user: USER.into(),
            auth,
        }
    }

    /// A fresh file path in the server's directory.
    pub fn new_file(&self, name: &str) -> PathBuf {
        self.dir
            .join(format!("{name}-{}", FILES.fetch_add(1, Ordering::SeqCst)))
    }

    /// A known_hosts file with these lines.
    pub fn known_hosts_with(&self, lines: &[String]) -> PathBuf {
        let path = self.new_file("known_hosts");
        std::fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        path
    }

    /// Options that know the host key, with an empty trusted-hosts file, no agent and 1 s keepalives.
    pub fn options(&self) -> SshOptions {
        let known = self.known_hosts_with(&[format!("[127.0.0.1]:{} {}", self.port, self.host_key())]);
        SshOptions {
            known_hosts: vec![known],
            trusted_hosts: self.new_file("trusted_hosts"),
            agent_socket: None,
            keepalive: Duration::from_secs(1),
            ..SshOptions::default()
        }
    }

    /// Every command the fake docker was run with, one a line.
    pub fn docker_calls(&self) -> String {
        std::fs::read_to_string(self.dir.join("docker.log")).unwrap()
    }

    /// The processes sshd started for connections (all its descendants).
    pub fn session_pids(&self) -> Vec<i32> {
        let listener: i32 = std::fs::read_to_string(self.dir.join("sshd.pid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let pid: i32 = e.file_name().to_str()?.parse().ok()?;
                let mut stat = String::new();
                std::fs::File::open(e.path().join("stat"))
                    .ok()?
                    .read_to_string(&mut stat)
                    .ok()?;
                let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
                Some((pid, ppid))
            })
            .collect();
        let mut found = vec![listener];
        let mut i = 0;
        while i < found.len() {
            let p = found[i];
            found.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
            i += 1;
        }
        found.remove(0);
        found
    }

    /// The server's log (stderr of sshd).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            drop(w.stdin.take());
            let _ = w.wait();
        }
    }
}

/// An `ssh-agent` for one test, stopped when dropped.
pub struct Agent {
    pub socket: PathBuf,
    child: Child,
}

impl Agent {
    pub fn start(sshd: &Sshd) -> Agent {
        let socket = sshd.new_file("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent");
        let agent = Agent { socket, child };
        for _ in 0..100 {
            if agent.socket.exists() {
                return agent;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("ssh-agent did not start");
    }

    /// Adds an unencrypted key file.
    pub fn add(&self, key: &str) {
        let out = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ssh-add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
