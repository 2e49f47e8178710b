//! The list of saved connection profiles: adding, editing, duplicating, deleting, and reading the
//! file it is kept in (the desktop app's settings store writes it); passwords are never part of it
//! (see `secrets`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use dawarich_doctor_model::{validate_profile, ErrorKind, ErrorReport, Profile};

/// The saved profiles read from their file, and what to tell the user when it was damaged.
#[derive(Debug, Default)]
pub struct Loaded {
    pub profiles: Vec<Profile>,
    /// What could not be read and where the damaged file was kept.
    pub notice: Option<String>,
}

/// Reads the profiles from `path`, a JSON object whose `key` holds the list (a missing file or key
/// is an empty list). When the file cannot be read whole, a copy of it is kept next to it as
/// `<name>.damaged-<time>` and the profiles that could be read are returned with a notice; the
/// caller then writes them back.
pub fn load(path: &Path, key: &str) -> Loaded {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::default(),
        Err(e) => {
            return Loaded {
                profiles: Vec::new(),
                notice: Some(format!(
                    "The saved connections in {} cannot be read ({e}).",
                    path.display()
                )),
            }
        }
    };
    let (profiles, problem) = read_list(&bytes, key);
    let Some(problem) = problem else {
        return Loaded { profiles, notice: None };
    };
    let kept = match keep_copy(path) {
        Ok(copy) => format!("The file as it was is kept as {}.", copy.display()),
        Err(e) => format!("A copy of it could not be kept ({e})."),
    };
    log::warn!("saved connections in {}: {problem}", path.display());
    Loaded {
        notice: Some(format!(
            "The saved connections in {} were damaged ({problem}): {} could be read. {kept}",
            path.display(),
            match profiles.len() {
                0 => "none".to_string(),
                1 => "1 connection".to_string(),
                n => format!("{n} connections"),
            }
        )),
        profiles,
    }
}

/// The profiles under `key` of a JSON object, each read on its own, and what was wrong if anything.
fn read_list(bytes: &[u8], key: &str) -> (Vec<Profile>, Option<String>) {
    let doc = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(doc) => doc,
        Err(e) => return (Vec::new(), Some(format!("not JSON: {e}"))),
    };
    let Some(object) = doc.as_object() else {
        return (Vec::new(), Some("not a JSON object".into()));
    };
    let items = match object.get(key) {
        None => return (Vec::new(), None),
        Some(serde_json::Value::Array(items)) => items,
        Some(_) => return (Vec::new(), Some(format!("{key:?} is not a list"))),
    };
    let mut profiles = Vec::new();
    let mut bad = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match serde_json::from_value::<Profile>(item.clone()) {
            Ok(p) => profiles.push(p),
            Err(e) => bad.push(format!("entry {}: {e}", i + 1)),
        }
    }
    let problem = (!bad.is_empty()).then(|| bad.join("; "));
    (profiles, problem)
}

/// Copies the file to `<name>.damaged-<local time>` (a free name) and answers the copy's path.
fn keep_copy(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut n = 1;
    loop {
        let suffix = if n == 1 { String::new() } else { format!("-{n}") };
        let copy = path.with_file_name(format!("{name}.damaged-{stamp}{suffix}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&copy) {
            Ok(mut f) => {
                std::io::copy(&mut std::fs::File::open(path)?, &mut f)?;
                return Ok(copy);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A new profile id: time-based, unique within this process.
pub fn new_id() -> String {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("p{:x}{:02x}", nanos, SEQ.fetch_add(1, Ordering::Relaxed) % 256)
}

/// Refuses a profile that cannot be connected with, naming every bad field.
pub fn check(p: &Profile) -> Result<(), ErrorReport> {
    let errors = validate_profile(p);
    if errors.is_empty() {
        return Ok(());
    }
    Err(ErrorReport {
        kind: ErrorKind::InvalidInput,
        message: errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join(" "),
        fix: "Correct the fields marked in the form.".into(),
    })
}

/// Adds the profile (a new id when it has none or an unknown one) or replaces the one with its id.
/// Returns the stored profile.
pub fn upsert(list: &mut Vec<Profile>, mut p: Profile) -> Result<Profile, ErrorReport> {
    check(&p)?;
    p.name = p.name.trim().to_string();
    p.host = p.host.trim().to_string();
    match list.iter_mut().find(|q| !p.id.is_empty() && q.id == p.id) {
        Some(slot) => *slot = p.clone(),
        None => {
            if p.id.is_empty() {
                p.id = new_id();
            }
            list.push(p.clone());
        }
    }
    Ok(p)
}

/// A name not yet used in the list: `base`, else `base (copy)`, `base (copy 2)`, …
pub fn unique_name(list: &[Profile], base: &str) -> String {
    let taken = |n: &str| list.iter().any(|p| p.name == n);
    if !taken(base) {
        return base.to_string();
    }
    let mut name = format!("{base} (copy)");
    let mut i = 2;
    while taken(&name) {
        name = format!("{base} (copy {i})");
        i += 1;
    }
    name
}

/// Copies profile `id` under a new id and name, right after the original. The caller copies the
/// password (`secrets::Passwords::copy`).
pub fn duplicate(list: &mut Vec<Profile>, id: &str) -> Option<Profile> {
    let pos = list.iter().position(|p| p.id == id)?;
    let mut copy = list[pos].clone();
    copy.id = new_id();
    copy.name = unique_name(list, &list[pos].name);
    list.insert(pos + 1, copy.clone());
    Some(copy)
}

/// Removes profile `id`; returns it.
pub fn remove(list: &mut Vec<Profile>, id: &str) -> Option<Profile> {
    let pos = list.iter().position(|p| p.id == id)?;
    Some(list.remove(pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `content` written as a store file; answers what was loaded and the files next to it.
    fn load_file(content: &[u8]) -> (Loaded, Vec<(String, Vec<u8>)>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.json");
        std::fs::write(&path, content).unwrap();
        let loaded = load(&path, "profiles");
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        (loaded, files)
    }

    fn store_file(profiles: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec_pretty(&serde_json::json!({ "profiles": profiles, "demoProfile": "p1" })).unwrap()
    }

    #[test]
    fn a_sound_file_or_none_loads_without_a_notice() {
        let good = store_file(serde_json::to_value([named("home"), named("nas")]).unwrap());
        let (loaded, files) = load_file(&good);
        assert_eq!(loaded.notice, None);
        assert_eq!(
            loaded.profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["home", "nas"]
        );
        assert_eq!(files.len(), 1);
        let (loaded, files) = load_file(b"{}");
        assert_eq!((loaded.profiles.len(), loaded.notice, files.len()), (0, None, 1));
        let missing = load(Path::new("/nonexistent/profiles.json"), "profiles");
        assert_eq!((missing.profiles.len(), missing.notice), (0, None));
    }

    /// The notice says what was wrong and names the copy, which holds the damaged bytes.
    fn assert_kept(content: &[u8], loaded: &Loaded, files: &[(String, Vec<u8>)], problem: &str) {
        let notice = loaded.notice.as_deref().expect("a notice");
        assert!(notice.contains(problem), "{notice}");
        assert_eq!(files.len(), 2, "{files:?}");
        let (copy, bytes) = &files[1];
        assert!(copy.starts_with("profiles.json.damaged-"), "{copy}");
        assert!(notice.contains(copy.as_str()), "{notice}");
        assert_eq!(bytes, content);
    }

    #[test]
    fn garbage_or_truncated_json_loads_empty_and_keeps_a_copy() {
        let truncated = &store_file(serde_json::to_value([named("home")]).unwrap())[..40];
        for content in [&b"\x00\xff\xfe garbage"[..], truncated, b""] {
            let (loaded, files) = load_file(content);
            assert!(loaded.profiles.is_empty());
            assert_kept(content, &loaded, &files, "not JSON");
            assert!(loaded.notice.unwrap().contains("none could be read"));
        }
    }

    #[test]
    fn json_of_the_wrong_shape_keeps_what_can_be_read() {
        let (loaded, files) = load_file(b"[1, 2]");
        assert_kept(b"[1, 2]", &loaded, &files, "not a JSON object");
        let content = store_file(serde_json::json!({ "home": 1 }));
        let (loaded, files) = load_file(&content);
        assert_kept(&content, &loaded, &files, "\"profiles\" is not a list");
        let mut edited = serde_json::to_value([named("home"), named("nas")]).unwrap();
        edited[1]["port"] = serde_json::json!("fifty");
        let content = store_file(edited);
        let (loaded, files) = load_file(&content);
        assert_eq!(
            loaded.profiles.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["home"]
        );
        assert_kept(&content, &loaded, &files, "entry 2: invalid type");
        assert!(loaded.notice.unwrap().contains("1 connection could be read"));
    }

    fn named(name: &str) -> Profile {
        Profile {
            name: name.into(),
            ..Profile::default()
        }
    }

    #[test]
    fn add_edit_duplicate_delete() {
        let mut list = Vec::new();
        let a = upsert(&mut list, named("home")).unwrap();
        assert!(!a.id.is_empty());
        let mut edited = a.clone();
        edited.port = 6543;
        upsert(&mut list, edited).unwrap();
        assert_eq!((list.len(), list[0].port), (1, 6543));
        let c1 = duplicate(&mut list, &a.id).unwrap();
        let c2 = duplicate(&mut list, &a.id).unwrap();
        assert_eq!((c1.name.as_str(), c2.name.as_str()), ("home (copy)", "home (copy 2)"));
        assert_ne!(c1.id, c2.id);
        assert_eq!(
            list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["home", "home (copy 2)", "home (copy)"]
        );
        assert_eq!(remove(&mut list, &a.id).unwrap().name, "home");
        assert_eq!(list.len(), 2);
        assert!(remove(&mut list, "nope").is_none());
    }

    #[test]
    fn invalid_profiles_are_refused_with_the_fields() {
        let mut list = Vec::new();
        let e = upsert(&mut list, Profile { port: 0, ..named("x") }).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.starts_with("port:"), "{}", e.message);
        assert!(list.is_empty());
    }
}
