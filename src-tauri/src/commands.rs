//! The commands the UI invokes. Each one delegates to the core; errors cross IPC as the core's
//! `ErrorReport` (kind + message + fix). Passwords never reach the store or the log.

use dawarich_doctor::connect::{connect, ConnectOptions};
use dawarich_doctor::diagnose::{diagnose as run_diagnosis, DiagnoseOptions};
use dawarich_doctor::probe::probe;
use dawarich_doctor::secrets::Passwords;
use dawarich_doctor::{profile, profiles};
use dawarich_doctor_model::{
    ErrorKind, ErrorReport, ParsedConnection, ProbeReport, ProbeStep, Profile, ProfileEntry, ProgressEvent, SavedProfile,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::store;

pub struct AppState {
    passwords: Passwords,
    /// Serialises read-modify-write of the profile store.
    profiles: tokio::sync::Mutex<()>,
}

impl AppState {
    pub fn new() -> Self {
        AppState { passwords: Passwords::system(), profiles: tokio::sync::Mutex::new(()) }
    }
}

type Res<T> = Result<T, ErrorReport>;

fn not_found(id: &str) -> ErrorReport {
    ErrorReport { kind: ErrorKind::InvalidInput, message: format!("no saved connection with id {id}"), fix: "Reload the list.".into() }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    version: &'static str,
    /// Why passwords are not kept across runs (no keychain), if so.
    keychain_unavailable: Option<String>,
    log_dir: Option<String>,
}

#[tauri::command]
pub async fn app_info(app: AppHandle, state: State<'_, AppState>) -> Res<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        keychain_unavailable: state.passwords.keychain_unavailable().map(String::from),
        log_dir: app.path().app_log_dir().ok().map(|p| p.display().to_string()),
    })
}

#[tauri::command]
pub async fn list_profiles(app: AppHandle, state: State<'_, AppState>) -> Res<Vec<ProfileEntry>> {
    let list = store::load(&app)?;
    Ok(list.into_iter().map(|p| ProfileEntry { password_ready: !state.passwords.needs_prompt(&p), profile: p }).collect())
}

/// A `postgres://` URL or Dawarich `.env` text → a profile to edit (and the password in it).
#[tauri::command]
pub async fn parse_connection(text: String) -> Res<ParsedConnection> {
    let parsed = profile::parse_any(&text)
        .map_err(|e| ErrorReport { kind: ErrorKind::InvalidInput, message: e.to_string(), fix: "Paste a postgres:// URL or the environment of the dawarich_app service.".into() })?;
    Ok(ParsedConnection { profile: parsed.profile, password: parsed.password })
}

/// Adds or updates a profile. `password`: `None` keeps the current one, `""` means none.
#[tauri::command]
pub async fn save_profile(app: AppHandle, state: State<'_, AppState>, profile: Profile, password: Option<String>) -> Res<SavedProfile> {
    let _guard = state.profiles.lock().await;
    let mut list = store::load(&app)?;
    let mut saved = profiles::upsert(&mut list, profile)?;
    let outcome = state.passwords.save(&mut saved, password.as_deref());
    profiles::upsert(&mut list, saved.clone())?;
    store::save(&app, &list)?;
    log::info!("saved connection {} ({}@{}:{}/{}), password: {:?}", saved.id, saved.user, saved.host, saved.port, saved.database, saved.password);
    Ok(SavedProfile { profile: saved, password: outcome })
}

#[tauri::command]
pub async fn duplicate_profile(app: AppHandle, state: State<'_, AppState>, id: String) -> Res<Profile> {
    let _guard = state.profiles.lock().await;
    let mut list = store::load(&app)?;
    let mut copy = profiles::duplicate(&mut list, &id).ok_or_else(|| not_found(&id))?;
    let original = list.iter().find(|p| p.id == id).cloned().ok_or_else(|| not_found(&id))?;
    state.passwords.copy(&original, &mut copy);
    profiles::upsert(&mut list, copy.clone())?;
    store::save(&app, &list)?;
    Ok(copy)
}

#[tauri::command]
pub async fn delete_profile(app: AppHandle, state: State<'_, AppState>, id: String) -> Res<()> {
    let _guard = state.profiles.lock().await;
    let mut list = store::load(&app)?;
    profiles::remove(&mut list, &id).ok_or_else(|| not_found(&id))?;
    state.passwords.forget(&id);
    store::save(&app, &list)?;
    log::info!("deleted connection {id}");
    Ok(())
}

/// Keeps a password typed at the prompt for this run (memory only).
#[tauri::command]
pub async fn remember_password(state: State<'_, AppState>, id: String, password: String) -> Res<()> {
    state.passwords.remember(&id, &password);
    Ok(())
}

/// Runs "Test connection" on the form's values, streaming each step as it finishes. An empty
/// `password` uses the saved one.
#[tauri::command]
pub async fn test_connection(state: State<'_, AppState>, profile: Profile, password: Option<String>, on_step: Channel<ProbeStep>) -> Res<ProbeReport> {
    profiles::check(&profile)?;
    let password = password.filter(|p| !p.is_empty()).or_else(|| state.passwords.lookup(&profile));
    let report = probe(&ConnectOptions::new(profile, password), &|s: &ProbeStep| {
        let _ = on_step.send(s.clone());
    })
    .await;
    log::info!("connection test: {}", report.steps.iter().map(|s| format!("{:?}={:?}", s.id, s.status)).collect::<Vec<_>>().join(" "));
    Ok(report)
}

/// Diagnoses the saved profile `id`, forwarding the core's progress events.
#[tauri::command]
pub async fn diagnose(app: AppHandle, state: State<'_, AppState>, id: String, on_event: Channel<ProgressEvent>) -> Res<tauri::ipc::Response> {
    let profile = store::load(&app)?.into_iter().find(|p| p.id == id).ok_or_else(|| not_found(&id))?;
    let password = state.passwords.lookup(&profile);
    let db = connect(&ConnectOptions::new(profile, password)).await.map_err(|e| e.report())?;
    let progress = move |e: ProgressEvent| {
        let _ = on_event.send(e);
    };
    let d = run_diagnosis(&db, &diagnose_options(), &progress).await.map_err(|e| e.report())?;
    log::info!("diagnosed connection {id}: release {:?}, lock held {}, {} checks in {} ms", d.dawarich.release, d.lock.held, d.checks.len(), d.elapsed_ms);
    Ok(json_bytes(&d))
}

/// An answer as JSON bytes, parsed by serde in the UI: the diagnosis carries the 64-bit lock key,
/// which a JavaScript number (what Tauri's JSON answers become) cannot hold exactly.
fn json_bytes<T: Serialize>(v: &T) -> tauri::ipc::Response {
    tauri::ipc::Response::new(serde_json::to_vec(v).expect("model types serialise"))
}

/// Seconds of idleness after which a lock holder counts as stale, like the CLI's `--stale-after`
/// (default 60).
pub const STALE_AFTER_ENV: &str = "DAWARICH_DOCTOR_STALE_AFTER";

fn diagnose_options() -> DiagnoseOptions {
    let mut o = DiagnoseOptions::default();
    if let Some(secs) = std::env::var(STALE_AFTER_ENV).ok().and_then(|v| v.parse::<f64>().ok()).filter(|s| *s >= 0.0) {
        o.stale_after_secs = secs;
    }
    o
}
