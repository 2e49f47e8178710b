//! The list of saved connection profiles: adding, editing, duplicating, deleting. Storage is the
//! caller's (the desktop app keeps the list in its settings store); passwords are never part of it
//! (see `secrets`).

use std::sync::atomic::{AtomicU32, Ordering};

use dawarich_doctor_model::{validate_profile, ErrorKind, ErrorReport, Profile};

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
