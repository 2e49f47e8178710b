//! The saved profiles in the app's settings store (`profiles.json` in the app data folder, via
//! tauri-plugin-store). Profiles hold no password: `PasswordSource` says where it is.

use dawarich_doctor::profile_list;
use dawarich_doctor_model::Profile;
use tauri::AppHandle;
use tauri_plugin_store::StoreExt;

use crate::error::Result;

const FILE: &str = "profiles.json";
const KEY: &str = "profiles";
/// The id of the demo database's profile while it runs (removed at exit, or at the next start when
/// the app was killed: the cluster's watchdog has stopped the demo then).
const DEMO_KEY: &str = "demoProfile";

/// Reads the file before the store first opens it: when it is damaged (a copy is kept), what could
/// be read is written back. Answers the notice for the user.
pub fn recover(app: &AppHandle) -> Result<Option<String>> {
    let loaded = profile_list::load(&tauri_plugin_store::resolve_store_path(app, FILE)?, KEY);
    if loaded.notice.is_some() {
        save(app, &loaded.profiles)?;
    }
    Ok(loaded.notice)
}

pub fn load(app: &AppHandle) -> Result<Vec<Profile>> {
    let store = app.store(FILE)?;
    match store.get(KEY) {
        Some(v) => Ok(serde_json::from_value(v)?),
        None => Ok(Vec::new()),
    }
}

pub fn save(app: &AppHandle, profiles: &[Profile]) -> Result<()> {
    let store = app.store(FILE)?;
    store.set(KEY, serde_json::to_value(profiles)?);
    Ok(store.save()?)
}

/// Records (or, with `None`, clears) the demo profile's id; answers the one recorded before.
pub fn swap_demo(app: &AppHandle, id: Option<&str>) -> Result<Option<String>> {
    let store = app.store(FILE)?;
    let old = store.get(DEMO_KEY).and_then(|v| v.as_str().map(String::from));
    match id {
        Some(id) => store.set(DEMO_KEY, id),
        None => {
            store.delete(DEMO_KEY);
        }
    }
    store.save()?;
    Ok(old)
}
