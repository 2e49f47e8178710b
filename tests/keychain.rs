//! Saved passwords in a real Secret Service: gnome-keyring on a private D-Bus session bus. A
//! remembered password is stored there under the profile's id and in no saved profile, and goes with
//! the profile; without a Secret Service it is kept for the run only, and why is said once.

use std::sync::Mutex;

use dawarich_doctor::profile_list;
use dawarich_doctor::secrets::{Passwords, KEYCHAIN_ENV, SERVICE};
use dawarich_doctor_model::{PasswordOutcome, PasswordSource, Profile};
use dawarich_doctor_testkit::keyring::Bus;

/// The warnings logged in this test binary.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            WARNINGS.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn named(name: &str) -> Profile {
    Profile {
        name: name.into(),
        ..Profile::default()
    }
}

/// One test: libdbus reads the session bus address once per process, so every step runs on the same
/// bus, first without a Secret Service on it, then with gnome-keyring.
#[test]
fn remembered_passwords_live_in_the_secret_service_only() {
    log::set_logger(&Recorder).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    std::env::remove_var(KEYCHAIN_ENV);
    let bus = Bus::start();
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);
    let mut list = Vec::new();

    // A desktop without a keyring: the password is kept for this run, and the reason said once.
    let passwords = Passwords::system();
    let reason = passwords.keychain_unavailable().expect("no keychain").to_string();
    assert!(reason.contains("org.freedesktop.secrets"), "{reason}");
    let mut p = profile_list::upsert(&mut list, named("no keyring")).unwrap();
    for _ in 0..2 {
        assert_eq!(
            passwords.save(&mut p, Some("memory-only-pw")),
            PasswordOutcome::MemoryOnly { reason: reason.clone() }
        );
    }
    assert_eq!(p.password, PasswordSource::Ask);
    assert_eq!(passwords.lookup(&p).as_deref(), Some("memory-only-pw"));
    passwords.forget(&p.id);
    let warned = WARNINGS.lock().unwrap().clone();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(warned[0].contains(&reason), "{warned:?}");

    // gnome-keyring answers: the password goes there.
    let _keyring = bus.start_keyring();
    let passwords = Passwords::system();
    assert_eq!(passwords.keychain_unavailable(), None);
    let mut home = profile_list::upsert(&mut list, named("home")).unwrap();
    let mut nas = profile_list::upsert(&mut list, named("nas")).unwrap();
    assert_eq!(
        passwords.save(&mut home, Some("home-s3cret")),
        PasswordOutcome::Keychain
    );
    assert_eq!(passwords.save(&mut nas, Some("nas-s3cret")), PasswordOutcome::Keychain);
    assert_eq!(home.password, PasswordSource::Keychain);
    let entry = |p: &Profile| bus.lookup(&[("service", SERVICE), ("username", &p.id)]);
    assert_eq!(entry(&home).as_deref(), Some("home-s3cret"));
    assert_eq!(entry(&nas).as_deref(), Some("nas-s3cret"));

    // The saved profiles, as the app's store file holds them, carry no password; a new run finds it.
    profile_list::upsert(&mut list, home.clone()).unwrap();
    profile_list::upsert(&mut list, nas.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("profiles.json");
    std::fs::write(
        &file,
        serde_json::to_vec_pretty(&serde_json::json!({ "profiles": list })).unwrap(),
    )
    .unwrap();
    assert!(!std::fs::read_to_string(&file).unwrap().contains("s3cret"));
    let next_run = Passwords::system();
    let saved = profile_list::load(&file, "profiles").profiles;
    let saved_home = saved.iter().find(|p| p.id == home.id).unwrap();
    assert!(!next_run.needs_prompt(saved_home));
    assert_eq!(next_run.lookup(saved_home).as_deref(), Some("home-s3cret"));

    // Deleting a profile removes its password, and only its.
    profile_list::remove(&mut list, &home.id).unwrap();
    next_run.forget(&home.id);
    assert_eq!(entry(&home), None);
    assert_eq!(entry(&nas).as_deref(), Some("nas-s3cret"));
    assert_eq!(Passwords::system().lookup(&home), None);

    let warned = WARNINGS.lock().unwrap().clone();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(!warned
        .iter()
        .any(|w| w.contains("s3cret") || w.contains("memory-only-pw")));
}
