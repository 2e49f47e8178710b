//! A throwaway Secret Service for the keychain tests: a private D-Bus session bus without service
//! activation (nothing starts on it by itself), then gnome-keyring-daemon on it with a login keyring
//! unlocked by an empty password, all in a directory of its own. Watchdogs stop the daemons (and
//! remove the directory) when they are dropped or the test binary exits.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A private session bus; `address` is its `DBUS_SESSION_BUS_ADDRESS`.
pub struct Bus {
    pub address: String,
    dir: PathBuf,
    watchdog: Child,
}

/// gnome-keyring-daemon serving `org.freedesktop.secrets` on a [`Bus`]; stopped when dropped.
pub struct Keyring {
    watchdog: Child,
}

/// A shell that runs `$daemon` in the background and stops it when our pipe closes (we dropped it,
/// or exited, even by a crash); `$cleanup` runs after.
fn watchdog(daemon: &str, cleanup: &str, dir: &PathBuf, env: &[(&str, String)]) -> Child {
    let script = format!("{daemon} &\npid=$!\nread _ignored\nkill $pid 2>/dev/null\nwait $pid\n{cleanup}");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .arg(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh")
}

/// Polls `ready` until it holds, or panics with `what` and the log after the deadline.
fn wait_for(what: &str, log: &PathBuf, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Bus {
    /// Starts the bus and returns once it answers.
    pub fn start() -> Bus {
        let dir = tempfile::Builder::new()
            .prefix("dawarich-doctor-keyring-")
            .tempdir()
            .unwrap()
            .keep();
        let socket = dir.join("bus");
        let config = format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        );
        std::fs::write(dir.join("bus.conf"), config).unwrap();
        let watchdog = watchdog(
            r#"dbus-daemon --config-file="$1/bus.conf" --nofork </dev/null >/dev/null 2>"$1/dbus.log""#,
            r#"rm -rf "$1""#,
            &dir,
            &[],
        );
        let bus = Bus {
            address: format!("unix:path={}", socket.display()),
            dir,
            watchdog,
        };
        wait_for("dbus-daemon (scripts/setup desktop)", &bus.dir.join("dbus.log"), || {
            bus.call(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetId",
                &[],
            )
            .is_some()
        });
        bus
    }

    /// `dbus-send` on this bus: the reply, or `None` when the call failed.
    fn call(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> Option<String> {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", self.address))
            .args(["--print-reply", &format!("--dest={dest}"), path, method])
            .args(args)
            .output()
            .expect("dbus-send (scripts/setup desktop)");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts gnome-keyring-daemon on the bus and returns once its login collection is there.
    pub fn start_keyring(&self) -> Keyring {
        let (data, run) = (self.dir.join("data"), self.dir.join("run"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&run).unwrap();
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let env = [
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone()),
            ("XDG_DATA_HOME", data.display().to_string()),
            ("XDG_RUNTIME_DIR", run.display().to_string()),
            ("HOME", self.dir.display().to_string()),
        ];
        // --unlock reads the login keyring's password, here empty, from stdin (and creates it).
        let daemon = r#"printf '\n' | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>"$1/keyring.log""#;
        let keyring = Keyring {
            watchdog: watchdog(daemon, "", &self.dir, &env),
        };
        wait_for(
            "gnome-keyring-daemon (scripts/setup desktop)",
            &self.dir.join("keyring.log"),
            || {
                self.call(
                    "org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.DBus.Properties.Get",
                    &["string:org.freedesktop.Secret.Service", "string:Collections"],
                )
                .is_some_and(|r| r.contains("/org/freedesktop/secrets/collection/login"))
            },
        );
        keyring
    }

    /// `secret-tool lookup` on this bus: the secret stored under these attributes, if any.
    pub fn lookup(&self, attributes: &[(&str, &str)]) -> Option<String> {
        let out = Command::new("secret-tool")
            .arg("lookup")
            .args(attributes.iter().flat_map(|(k, v)| [*k, *v]))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("secret-tool (scripts/setup desktop)");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

fn stop(watchdog: &mut Child) {
    drop(watchdog.stdin.take());
    let _ = watchdog.wait();
}

impl Drop for Keyring {
    fn drop(&mut self) {
        stop(&mut self.watchdog);
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        stop(&mut self.watchdog);
    }
}
