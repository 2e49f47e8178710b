//! The saved profiles in the app's settings store (`profiles.json` in the app data folder, via
//! tauri-plugin-store). Profiles hold no password: `PasswordSource` says where it is.

use dawarich_doctor_model::{ErrorKind, ErrorReport, Profile};
use tauri::AppHandle;
use tauri_plugin_store::StoreExt;

const FILE: &str = "profiles.json";
const KEY: &str = "profiles";

fn io(e: impl std::fmt::Display) -> ErrorReport {
    ErrorReport { kind: ErrorKind::Io, message: format!("cannot use the profile store: {e}"), fix: "Check that the app's data folder is writable.".into() }
}

pub fn load(app: &AppHandle) -> Result<Vec<Profile>, ErrorReport> {
    let store = app.store(FILE).map_err(io)?;
    match store.get(KEY) {
        Some(v) => serde_json::from_value(v).map_err(io),
        None => Ok(Vec::new()),
    }
}

pub fn save(app: &AppHandle, profiles: &[Profile]) -> Result<(), ErrorReport> {
    let store = app.store(FILE).map_err(io)?;
    store.set(KEY, serde_json::to_value(profiles).map_err(io)?);
    store.save().map_err(io)
}
