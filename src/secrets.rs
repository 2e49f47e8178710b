//! Passwords of saved profiles: in the OS keychain (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) under the profile's id, never in a file. Without a keychain they
//! are held in memory for this run only, and asked for again on the next one.

use std::collections::HashMap;
use std::sync::Mutex;

use dawarich_doctor_model::{PasswordOutcome, PasswordSource, Profile};

/// The keychain service name our entries are filed under.
pub const SERVICE: &str = "dawarich-doctor";

/// Set to `off` to never touch the OS keychain (tests, or a user who prefers to be asked).
pub const KEYCHAIN_ENV: &str = "DAWARICH_DOCTOR_KEYCHAIN";

/// Somewhere to keep secrets by key.
pub trait SecretStore: Send + Sync {
    fn set(&self, key: &str, secret: &str) -> Result<(), String>;
    fn get(&self, key: &str) -> Result<Option<String>, String>;
    fn delete(&self, key: &str) -> Result<(), String>;
}

/// The OS keychain through the `keyring` crate.
pub struct OsKeychain;

impl OsKeychain {
    fn entry(key: &str) -> Result<keyring::Entry, String> {
        keyring::Entry::new(SERVICE, key).map_err(|e| e.to_string())
    }

    /// The keychain, when one answers (probed by reading an entry that does not exist).
    pub fn detect() -> Result<OsKeychain, String> {
        if std::env::var(KEYCHAIN_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("off")) {
            return Err(format!("the keychain is turned off ({KEYCHAIN_ENV}=off)"));
        }
        match Self::entry("probe").and_then(|e| match e.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }) {
            Ok(()) => Ok(OsKeychain),
            Err(e) => Err(format!("no OS keychain is available ({e})")),
        }
    }
}

impl SecretStore for OsKeychain {
    fn set(&self, key: &str, secret: &str) -> Result<(), String> {
        Self::entry(key)?.set_password(secret).map_err(|e| e.to_string())
    }
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        match Self::entry(key)?.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
    fn delete(&self, key: &str) -> Result<(), String> {
        match Self::entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The passwords of saved profiles: the keychain when there is one, plus what was typed during this
/// run (memory only). Nothing here is ever logged.
pub struct Passwords {
    keychain: Option<Box<dyn SecretStore>>,
    /// Why there is no keychain.
    unavailable: Option<String>,
    memory: Mutex<HashMap<String, String>>,
}

impl Passwords {
    /// With the OS keychain if it answers.
    pub fn system() -> Passwords {
        match OsKeychain::detect() {
            Ok(k) => Passwords::new(Some(Box::new(k)), None),
            Err(reason) => {
                log::warn!("{reason}: passwords are asked for once per run and kept in memory");
                Passwords::new(None, Some(reason))
            }
        }
    }

    pub fn new(keychain: Option<Box<dyn SecretStore>>, unavailable: Option<String>) -> Passwords {
        Passwords {
            keychain,
            unavailable,
            memory: Mutex::new(HashMap::new()),
        }
    }

    /// Why passwords cannot be kept across runs, if they cannot.
    pub fn keychain_unavailable(&self) -> Option<&str> {
        if self.keychain.is_some() {
            None
        } else {
            Some(self.unavailable.as_deref().unwrap_or("no OS keychain is available"))
        }
    }

    /// Files the password given with a profile being saved and sets `profile.password` to match.
    /// `None` keeps what the profile had; `Some("")` means "no password".
    pub fn save(&self, profile: &mut Profile, password: Option<&str>) -> PasswordOutcome {
        let Some(pw) = password else {
            return PasswordOutcome::Unchanged;
        };
        if pw.is_empty() {
            self.forget(&profile.id);
            profile.password = PasswordSource::None;
            return PasswordOutcome::None;
        }
        self.memory.lock().unwrap().insert(profile.id.clone(), pw.to_string());
        let reason = match &self.keychain {
            Some(k) => match k.set(&profile.id, pw) {
                Ok(()) => {
                    profile.password = PasswordSource::Keychain;
                    return PasswordOutcome::Keychain;
                }
                Err(e) => format!("the keychain refused the password ({e})"),
            },
            None => self.keychain_unavailable().unwrap_or_default().to_string(),
        };
        profile.password = PasswordSource::Ask;
        PasswordOutcome::MemoryOnly { reason }
    }

    /// The password to connect with, if one is at hand (`Some("")`-free: `None` means ask, or no
    /// password for `PasswordSource::None`).
    pub fn lookup(&self, profile: &Profile) -> Option<String> {
        if profile.password == PasswordSource::None {
            return None;
        }
        if let Some(pw) = self.memory.lock().unwrap().get(&profile.id) {
            return Some(pw.clone());
        }
        if profile.password == PasswordSource::Keychain {
            if let Some(k) = &self.keychain {
                match k.get(&profile.id) {
                    Ok(pw) => return pw,
                    Err(e) => log::warn!("keychain read for profile {} failed: {e}", profile.id),
                }
            }
        }
        None
    }

    /// Whether connecting with this profile needs the user to type a password first.
    pub fn needs_prompt(&self, profile: &Profile) -> bool {
        match profile.password {
            PasswordSource::None => false,
            PasswordSource::Keychain if self.keychain.is_some() => false,
            _ => !self.memory.lock().unwrap().contains_key(&profile.id),
        }
    }

    /// Keeps a password typed at a prompt for the rest of this run.
    pub fn remember(&self, profile_id: &str, password: &str) {
        self.memory
            .lock()
            .unwrap()
            .insert(profile_id.to_string(), password.to_string());
    }

    /// Copies a profile's password to another profile id (duplicate).
    pub fn copy(&self, from: &Profile, to: &mut Profile) {
        match self.lookup(from) {
            Some(pw) => {
                self.save(to, Some(&pw));
            }
            None => {
                to.password = if from.password == PasswordSource::None {
                    PasswordSource::None
                } else {
                    PasswordSource::Ask
                }
            }
        }
    }

    /// Removes a profile's password everywhere.
    pub fn forget(&self, profile_id: &str) {
        self.memory.lock().unwrap().remove(profile_id);
        if let Some(k) = &self.keychain {
            if let Err(e) = k.delete(profile_id) {
                log::warn!("keychain delete for profile {profile_id} failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Fake(Mutex<HashMap<String, String>>, bool);
    impl SecretStore for std::sync::Arc<Fake> {
        fn set(&self, k: &str, s: &str) -> Result<(), String> {
            if self.1 {
                return Err("locked".into());
            }
            self.0.lock().unwrap().insert(k.into(), s.into());
            Ok(())
        }
        fn get(&self, k: &str) -> Result<Option<String>, String> {
            Ok(self.0.lock().unwrap().get(k).cloned())
        }
        fn delete(&self, k: &str) -> Result<(), String> {
            self.0.lock().unwrap().remove(k);
            Ok(())
        }
    }

    fn profile(id: &str) -> Profile {
        Profile {
            id: id.into(),
            name: id.into(),
            ..Profile::default()
        }
    }

    #[test]
    fn with_a_keychain_the_password_goes_there() {
        let store = std::sync::Arc::new(Fake::default());
        let pw = Passwords::new(Some(Box::new(store.clone())), None);
        let mut p = profile("a");
        assert_eq!(pw.save(&mut p, Some("s3cret")), PasswordOutcome::Keychain);
        assert_eq!(p.password, PasswordSource::Keychain);
        assert_eq!(store.0.lock().unwrap().get("a").map(String::as_str), Some("s3cret"));
        // a new run (empty memory) still finds it
        let again = Passwords::new(Some(Box::new(store.clone())), None);
        assert_eq!(again.lookup(&p).as_deref(), Some("s3cret"));
        assert!(!again.needs_prompt(&p));
        let mut copy = profile("b");
        again.copy(&p, &mut copy);
        assert_eq!(store.0.lock().unwrap().get("b").map(String::as_str), Some("s3cret"));
        again.forget("a");
        assert!(!store.0.lock().unwrap().contains_key("a"));
    }

    #[test]
    fn without_a_keychain_it_is_kept_in_memory_and_asked_for_next_run() {
        let pw = Passwords::new(None, Some("no secret service".into()));
        let mut p = profile("a");
        assert!(
            matches!(pw.save(&mut p, Some("s3cret")), PasswordOutcome::MemoryOnly { reason } if reason.contains("secret service"))
        );
        assert_eq!(p.password, PasswordSource::Ask);
        assert_eq!(pw.lookup(&p).as_deref(), Some("s3cret"));
        let next_run = Passwords::new(None, None);
        assert!(next_run.needs_prompt(&p));
        assert_eq!(next_run.lookup(&p), None);
        next_run.remember("a", "typed");
        assert_eq!(next_run.lookup(&p).as_deref(), Some("typed"));
    }

    #[test]
    fn a_refusing_keychain_falls_back_to_asking() {
        let store = std::sync::Arc::new(Fake(Mutex::default(), true));
        let pw = Passwords::new(Some(Box::new(store)), None);
        let mut p = profile("a");
        assert!(matches!(pw.save(&mut p, Some("x")), PasswordOutcome::MemoryOnly { .. }));
        assert_eq!(p.password, PasswordSource::Ask);
        assert_eq!(pw.save(&mut p, Some("")), PasswordOutcome::None);
        assert_eq!(p.password, PasswordSource::None);
        assert!(!pw.needs_prompt(&p));
    }
}
