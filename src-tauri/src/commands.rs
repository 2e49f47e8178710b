//! The commands the UI invokes. Each one delegates to the core; errors cross IPC as the core's
//! `ErrorReport` (kind + message + fix). Passwords never reach the store or the log.

use dawarich_doctor::connect::{connect, ConnectOptions};
use dawarich_doctor::diagnose::{diagnose as run_diagnosis, DiagnoseOptions};
use dawarich_doctor::locks::{lock_report, release, ReleaseOptions};
use dawarich_doctor::migrate::{plan, upgrade, UpgradeOptions};
use dawarich_doctor::settings::Environment;
use dawarich_doctor::probe::probe;
use dawarich_doctor::progress::Cancel;
use dawarich_doctor::repair::{self, RepairOptions};
use dawarich_doctor::secrets::Passwords;
use dawarich_doctor::{profile, profiles};
use dawarich_doctor_model::{
    backup_command, AuditEntry, AuditExport, ErrorKind, ErrorReport, ParsedConnection, ProbeReport, ProbeStep, Profile, ProfileEntry, ProgressEvent, ReleaseOutcome, RepairChoice,
    RepairOutcome, SavedProfile, SchemaDifference, UndoRow, UpgradeOutcome, UpgradeProposal,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, WebviewWindow};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

use crate::store;

pub struct AppState {
    passwords: Passwords,
    /// Serialises read-modify-write of the profile store.
    profiles: tokio::sync::Mutex<()>,
    /// The running mutating operation's cancel flag (a fresh one per operation).
    cancel: std::sync::Mutex<Cancel>,
    /// The demo database, if started, with its profile's id; stopped when the app exits.
    demo: std::sync::Mutex<Option<(dawarich_doctor_sandbox::Sandbox, String)>>,
}

impl AppState {
    pub fn new() -> Self {
        AppState { passwords: Passwords::system(), profiles: tokio::sync::Mutex::new(()), cancel: std::sync::Mutex::new(Cancel::new()), demo: std::sync::Mutex::new(None) }
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
    /// Local PostgreSQL server binaries exist, so "Open demo database" can start one.
    demo_available: bool,
}

#[tauri::command]
pub async fn app_info(app: AppHandle, state: State<'_, AppState>) -> Res<AppInfo> {
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        keychain_unavailable: state.passwords.keychain_unavailable().map(String::from),
        log_dir: app.path().app_log_dir().ok().map(|p| p.display().to_string()),
        demo_available: dawarich_doctor_sandbox::available(),
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
    let db = connect(&options(&app, &state, &id)?).await.map_err(|e| e.report())?;
    let progress = move |e: ProgressEvent| {
        let _ = on_event.send(e);
    };
    let d = run_diagnosis(&db, &diagnose_options(), &progress).await.map_err(|e| e.report())?;
    log::info!("diagnosed connection {id}: release {:?}, lock held {}, {} checks in {} ms", d.dawarich.release, d.lock.held, d.checks.len(), d.elapsed_ms);
    Ok(json_bytes(&d))
}

/// How to connect with the saved profile `id` (its password from the keychain or memory).
fn options(app: &AppHandle, state: &AppState, id: &str) -> Res<ConnectOptions> {
    let profile = store::load(app)?.into_iter().find(|p| p.id == id).ok_or_else(|| not_found(id))?;
    let password = state.passwords.lookup(&profile);
    Ok(ConnectOptions::new(profile, password))
}

/// A fresh cancel flag for the operation starting now; `cancel` flips it.
fn new_cancel(state: &AppState) -> Cancel {
    let c = Cancel::new();
    *state.cancel.lock().unwrap_or_else(|e| e.into_inner()) = c.clone();
    c
}

fn forward(on_event: Channel<ProgressEvent>) -> impl Fn(ProgressEvent) + Send + Sync {
    move |e| {
        let _ = on_event.send(e);
    }
}

/// The upgrade screen's data: the plan to the newest release, the lock holders and a repair preview
/// for each blocker that a repair fixes. Read-only.
#[tauri::command]
pub async fn upgrade_proposal(app: AppHandle, state: State<'_, AppState>, id: String) -> Res<tauri::ipc::Response> {
    let conn = options(&app, &state, &id)?;
    let db = connect(&conn).await.map_err(|e| e.report())?;
    let plan = plan(&db, None, &Environment::of_profile(&conn.profile)).await.map_err(|e| e.report())?;
    let lock = lock_report(&db, &db.database, diagnose_options().stale_after_secs).await.map_err(|e| dawarich_doctor::error::Error::from(e).report())?;
    let mut repairs = Vec::new();
    for b in plan.blockers.iter().filter(|b| b.id != "lock-held" && b.id != "postgis") {
        repairs.push(repair::preview(&db, &b.id).await.map_err(|e| e.report())?);
    }
    Ok(json_bytes(&UpgradeProposal { plan, lock, repairs, backup_command: backup_command(&conn.profile) }))
}

/// Ends the session holding the Rails migration lock (`force` also ends an active migration).
#[tauri::command]
pub async fn release_lock(app: AppHandle, state: State<'_, AppState>, id: String, pid: i32, force: bool) -> Res<ReleaseOutcome> {
    let db = connect(&options(&app, &state, &id)?).await.map_err(|e| e.report())?;
    let opts = ReleaseOptions { pid, force_active: force, stale_after_secs: diagnose_options().stale_after_secs, cancel_grace: std::time::Duration::from_secs(5) };
    let out = release(&db, &opts, dawarich_doctor::audit::default_file()).await.map_err(|e| e.report())?;
    log::info!("connection {id}: lock holder {pid} ended ({}), lock free {}", out.actions.join(" → "), out.lock_free);
    Ok(out)
}

/// Runs one repair strategy, streaming progress; `cancel` stops it at the next range.
#[tauri::command]
pub async fn run_repair(app: AppHandle, state: State<'_, AppState>, id: String, choice: RepairChoice, on_event: Channel<ProgressEvent>) -> Res<RepairOutcome> {
    let conn = options(&app, &state, &id)?;
    let opts = RepairOptions { check: choice.check, strategy: choice.strategy, user: choice.user, batch_size: 10_000, audit_file: dawarich_doctor::audit::default_file() };
    let out = repair::repair(&conn, &opts, &forward(on_event), &new_cancel(&state)).await.map_err(|e| e.report())?;
    log::info!("connection {id}: repair {} with {} (run {}), {} quarantined", out.check, out.strategy, out.run_id, out.quarantined);
    Ok(out)
}

/// Applies the pending schema and data migrations up to the newest release, streaming progress.
#[tauri::command]
pub async fn run_upgrade(app: AppHandle, state: State<'_, AppState>, id: String, on_event: Channel<ProgressEvent>) -> Res<UpgradeOutcome> {
    let conn = options(&app, &state, &id)?;
    let opts = UpgradeOptions { env: Environment::of_profile(&conn.profile), ..Default::default() };
    let out = upgrade(&conn, &opts, &forward(on_event), &new_cancel(&state)).await.map_err(|e| e.report())?;
    log::info!("connection {id}: upgrade run {} applied {} migrations in {} ms", out.run_id, out.applied.len(), out.elapsed_ms);
    Ok(out)
}

/// Stops the running repair or upgrade at its next safe point.
#[tauri::command]
pub async fn cancel(state: State<'_, AppState>) -> Res<()> {
    state.cancel.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    Ok(())
}

/// The differences between the live schema and what `release` expects (empty: exactly that).
#[tauri::command]
pub async fn verify(app: AppHandle, state: State<'_, AppState>, id: String, release: String) -> Res<Vec<SchemaDifference>> {
    let db = connect(&options(&app, &state, &id)?).await.map_err(|e| e.report())?;
    dawarich_doctor::schema::verify(&db, &release).await.map_err(|e| e.report())
}

/// Puts back what repair run `run_id` changed (its quarantined rows included).
#[tauri::command]
pub async fn undo(app: AppHandle, state: State<'_, AppState>, id: String, run_id: String) -> Res<Vec<UndoRow>> {
    let rows = repair::undo(&options(&app, &state, &id)?, &run_id, dawarich_doctor::audit::default_file()).await.map_err(|e| e.report())?;
    log::info!("connection {id}: undid run {run_id}");
    Ok(rows)
}

/// The audit log kept in the database (`dawarich_doctor.audit_log`), oldest first; one run's only
/// when `run` is given.
#[tauri::command]
pub async fn audit_log(app: AppHandle, state: State<'_, AppState>, id: String, run: Option<String>) -> Res<Vec<AuditEntry>> {
    let db = connect(&options(&app, &state, &id)?).await.map_err(|e| e.report())?;
    dawarich_doctor::audit::read(&db, run.as_deref()).await.map_err(|e| e.report())
}

/// Asks in a native warning dialog (buttons `ok` and Cancel); true when the user chose `ok`. The
/// webview has no dialog permission: this is its only way to show one.
#[tauri::command]
pub async fn confirm(window: WebviewWindow, title: String, message: String, ok: String) -> Res<bool> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    window.dialog().message(message).title(&title).kind(MessageDialogKind::Warning).buttons(MessageDialogButtons::OkCancelCustom(ok, "Cancel".into())).parent(&window).show(move |yes| {
        let _ = tx.send(yes);
    });
    let yes = rx.await.unwrap_or(false);
    log::info!("confirmation {title:?}: {}", if yes { "confirmed" } else { "cancelled" });
    Ok(yes)
}

/// Asks where to save the audit entries the Log screen shows and writes them as JSON lines
/// (`audit::export`). `None`: the user cancelled the save dialog.
#[tauri::command]
pub async fn export_audit(window: WebviewWindow, entries: Vec<AuditEntry>, run: Option<String>) -> Res<Option<AuditExport>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = window.dialog().file().set_parent(&window).set_title("Export the audit log").set_file_name(dawarich_doctor::audit::export_file_name(run.as_deref())).add_filter("JSON lines", &["jsonl"]);
    if let Some(dir) = window.path().download_dir().ok().filter(|d| d.is_dir()) {
        dialog = dialog.set_directory(dir);
    }
    dialog.save_file(move |p| {
        let _ = tx.send(p);
    });
    let Some(path) = rx.await.ok().flatten() else { return Ok(None) };
    let path = path.into_path().map_err(|e| ErrorReport { kind: ErrorKind::Io, message: e.to_string(), fix: "Choose a file on this computer.".into() })?;
    let n = dawarich_doctor::audit::export(&path, &entries).map_err(|e| e.report())?;
    log::info!("exported {n} audit entries to {}", path.display());
    Ok(Some(AuditExport { path: path.display().to_string(), entries: n }))
}

/// Starts the demo database (`sandbox::start`: a throwaway local cluster with a broken Dawarich 0.9.11)
/// and saves a connection to it; both go away when the app exits.
#[tauri::command]
pub async fn open_demo(app: AppHandle, state: State<'_, AppState>) -> Res<Profile> {
    if state.demo.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
        return Err(ErrorReport { kind: ErrorKind::InvalidInput, message: "the demo database is already running".into(), fix: "Use its connection, \u{201c}Demo\u{201d}.".into() });
    }
    let sandbox = dawarich_doctor_sandbox::start(2000).await.map_err(|e| e.report())?;
    let parsed = profile::parse_url(&sandbox.url).map_err(|e| ErrorReport { kind: ErrorKind::InvalidInput, message: e.to_string(), fix: String::new() })?;
    let _guard = state.profiles.lock().await;
    let mut list = store::load(&app)?;
    let mut saved = profiles::upsert(&mut list, Profile { name: format!("Demo (Dawarich {}, throwaway)", dawarich_doctor_sandbox::DEMO_RELEASE), ..parsed.profile })?;
    state.passwords.save(&mut saved, parsed.password.as_deref());
    profiles::upsert(&mut list, saved.clone())?;
    store::save(&app, &list)?;
    store::swap_demo(&app, Some(&saved.id))?;
    log::info!("demo database started: connection {} ({}@{}:{}/{})", saved.id, saved.user, saved.host, saved.port, saved.database);
    *state.demo.lock().unwrap_or_else(|e| e.into_inner()) = Some((sandbox, saved.id.clone()));
    Ok(saved)
}

/// At exit: stops the demo database and removes its connection.
pub fn stop_demo(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else { return };
    if let Some((sandbox, _)) = state.demo.lock().unwrap_or_else(|e| e.into_inner()).take() {
        sandbox.stop();
        log::info!("demo database stopped");
    }
    forget_demo(app, &state);
}

/// Removes the demo's connection (also one left by a run that was killed).
pub fn forget_demo(app: &AppHandle, state: &AppState) {
    let Ok(Some(id)) = store::swap_demo(app, None) else { return };
    state.passwords.forget(&id);
    if let Ok(mut list) = store::load(app) {
        if profiles::remove(&mut list, &id).is_some() {
            let _ = store::save(app, &list);
        }
    }
    log::info!("demo connection {id} removed");
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
