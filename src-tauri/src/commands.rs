//! The commands the UI invokes. Each one delegates to the core; errors cross IPC as the model's
//! `ErrorReport` (see `error`). A destructive command asks in its own native dialog first and answers
//! `Confirmed::Declined` when the user cancels. Passwords never reach the store or the log.

use dawarich_doctor::connect::{connect, ConnectOptions};
use dawarich_doctor::diagnose::{diagnose as run_diagnosis, DiagnoseOptions};
use dawarich_doctor::locks::{release, ReleaseOptions};
use dawarich_doctor::migrate::{find_host, upgrade_on_host, OnHost, UpgradeOptions};
use dawarich_doctor::probe::probe;
use dawarich_doctor::progress::Cancel;
use dawarich_doctor::repair::{self, RepairOptions};
use dawarich_doctor::secrets::Passwords;
use dawarich_doctor::settings::Environment;
use dawarich_doctor::{profile, profile_list};
use dawarich_doctor_model::{
    AppInfo, AuditEntry, AuditExport, BackupOutcome, Confirmation, Confirmed, DemoMissing, Failure, InstallStatus,
    ParsedConnection, ProbeReport, ProbeStep, Profile, ProfileEntry, ProgressEvent, ReleaseOutcome, RepairChoice,
    RepairOutcome, SavedProfile, SchemaDifference, UndoRow, UpgradeOutcome, WatchReport,
};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, WebviewWindow};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

use crate::error::{Error, Result};
use crate::store;

pub struct AppState {
    passwords: Passwords,
    /// Serialises read-modify-write of the profile store.
    profiles: tokio::sync::Mutex<()>,
    /// The running mutating operation's cancel flag (a fresh one per operation).
    cancel: std::sync::Mutex<Cancel>,
    /// The demo database, if started, with its profile's id; stopped when the app exits.
    demo: std::sync::Mutex<Option<(dawarich_doctor_sandbox::Sandbox, String)>>,
    /// What was wrong with the saved connections' file at start (`store::recover`).
    profiles_notice: Option<String>,
}

impl AppState {
    pub fn new(profiles_notice: Option<String>) -> Self {
        AppState {
            profiles_notice,
            passwords: Passwords::system(),
            profiles: tokio::sync::Mutex::new(()),
            cancel: std::sync::Mutex::new(Cancel::new()),
            demo: std::sync::Mutex::new(None),
        }
    }
}

/// Runs blocking work (the profile store's file, the keychain) on a blocking thread, off the async
/// executor.
async fn blocking<T: Send + 'static>(
    app: &AppHandle,
    f: impl FnOnce(&AppHandle, &AppState) -> Result<T> + Send + 'static,
) -> Result<T> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || f(&app, &app.state::<AppState>())).await?
}

/// Asks `c` in a native warning dialog (buttons `c.ok` and Cancel; the first is the default) on a
/// blocking thread; true when the user went ahead. Only the shell's destructive commands ask: the
/// webview has no dialog permission.
async fn ask(window: &WebviewWindow, c: &Confirmation) -> Result<bool> {
    let (w, q) = (window.clone(), c.clone());
    let yes = tauri::async_runtime::spawn_blocking(move || {
        w.dialog()
            .message(q.message)
            .title(&q.title)
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(q.ok, "Cancel".into()))
            .parent(&w)
            .blocking_show()
    })
    .await?;
    log::info!(
        "confirmation {:?}: {}",
        c.title,
        if yes { "confirmed" } else { "cancelled" }
    );
    Ok(yes)
}

#[tauri::command]
pub async fn app_info(app: AppHandle) -> Result<AppInfo> {
    blocking(&app, |app, state| {
        let demo_missing = dawarich_doctor_sandbox::missing();
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            keychain_unavailable: state.passwords.keychain_unavailable().map(String::from),
            log_dir: app.path().app_log_dir().ok().map(|p| p.display().to_string()),
            demo_available: demo_missing.is_none(),
            demo_missing: demo_missing.map(|m| DemoMissing {
                message: m.to_string(),
                packages: m.packages(),
                install_command: m.install_command(),
            }),
            profiles_notice: state.profiles_notice.clone(),
        })
    })
    .await
}

#[tauri::command]
pub async fn list_profiles(app: AppHandle) -> Result<Vec<ProfileEntry>> {
    blocking(&app, |app, state| {
        Ok(store::load(app)?
            .into_iter()
            .map(|p| ProfileEntry {
                password_ready: !state.passwords.needs_prompt(&p),
                profile: p,
            })
            .collect())
    })
    .await
}

/// A `postgres://` URL or Dawarich `.env` text → a profile to edit (and the password in it).
#[tauri::command]
pub async fn parse_connection(text: String) -> Result<ParsedConnection> {
    let parsed = profile::parse_any(&text)?;
    Ok(ParsedConnection {
        profile: parsed.profile,
        password: parsed.password,
    })
}

/// Adds or updates a profile. `password`: `None` keeps the current one, `""` means none.
#[tauri::command]
pub async fn save_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    profile: Profile,
    password: Option<String>,
) -> Result<SavedProfile> {
    let _guard = state.profiles.lock().await;
    blocking(&app, move |app, state| {
        let mut list = store::load(app)?;
        let mut saved = profile_list::upsert(&mut list, profile)?;
        let outcome = state.passwords.save(&mut saved, password.as_deref());
        profile_list::upsert(&mut list, saved.clone())?;
        store::save(app, &list)?;
        log::info!(
            "saved connection {} ({}@{}:{}/{}), password: {:?}",
            saved.id,
            saved.user,
            saved.host,
            saved.port,
            saved.database,
            saved.password
        );
        Ok(SavedProfile {
            profile: saved,
            password: outcome,
        })
    })
    .await
}

#[tauri::command]
pub async fn duplicate_profile(app: AppHandle, state: State<'_, AppState>, id: String) -> Result<Profile> {
    let _guard = state.profiles.lock().await;
    blocking(&app, move |app, state| {
        let mut list = store::load(app)?;
        let mut copy = profile_list::duplicate(&mut list, &id).ok_or_else(|| Error::NotFound(id.clone()))?;
        let original = list
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .ok_or_else(|| Error::NotFound(id.clone()))?;
        state.passwords.copy(&original, &mut copy);
        profile_list::upsert(&mut list, copy.clone())?;
        store::save(app, &list)?;
        Ok(copy)
    })
    .await
}

/// Deletes a saved connection and its password, once confirmed.
#[tauri::command]
pub async fn delete_profile(
    window: WebviewWindow,
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    confirmation: Confirmation,
) -> Result<Confirmed<()>> {
    if !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let _guard = state.profiles.lock().await;
    blocking(&app, move |app, state| {
        let mut list = store::load(app)?;
        profile_list::remove(&mut list, &id).ok_or_else(|| Error::NotFound(id.clone()))?;
        state.passwords.forget(&id);
        store::save(app, &list)?;
        log::info!("deleted connection {id}");
        Ok(Confirmed::Done(()))
    })
    .await
}

/// Keeps a password typed at the prompt for this run (memory only).
#[tauri::command]
pub async fn remember_password(state: State<'_, AppState>, id: String, password: String) -> Result<()> {
    state.passwords.remember(&id, &password);
    Ok(())
}

/// Runs "Test connection" on the form's values, streaming each step as it finishes. An empty
/// `password` uses the saved one.
#[tauri::command]
pub async fn test_connection(
    app: AppHandle,
    profile: Profile,
    password: Option<String>,
    on_step: Channel<ProbeStep>,
) -> Result<ProbeReport> {
    profile_list::check(&profile)?;
    let password = match password.filter(|p| !p.is_empty()) {
        Some(p) => Some(p),
        None => {
            let profile = profile.clone();
            blocking(&app, move |_, state| Ok(state.passwords.lookup(&profile))).await?
        }
    };
    let report = probe(&ConnectOptions::new(profile, password), &|s: &ProbeStep| {
        let _ = on_step.send(s.clone());
    })
    .await;
    log::info!(
        "connection test: {}",
        report
            .steps
            .iter()
            .map(|s| format!("{:?}={:?}", s.id, s.status))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(report)
}

/// Diagnoses the saved profile `id`, forwarding the core's progress events.
#[tauri::command]
pub async fn diagnose(app: AppHandle, id: String, on_event: Channel<ProgressEvent>) -> Result<tauri::ipc::Response> {
    let db = connect(&options(&app, &id).await?).await?;
    let d = run_diagnosis(&db, &diagnose_options(), &forward(on_event)).await?;
    log::info!(
        "diagnosed connection {id}: release {:?}, lock held {}, {} checks in {} ms",
        d.dawarich.release,
        d.lock.held,
        d.checks.len(),
        d.elapsed_ms
    );
    Ok(json_bytes(&d))
}

/// How to connect with the saved profile `id` (its password from the keychain or memory).
async fn options(app: &AppHandle, id: &str) -> Result<ConnectOptions> {
    let id = id.to_string();
    blocking(app, move |app, state| {
        let profile = store::load(app)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(Error::NotFound(id))?;
        let password = state.passwords.lookup(&profile);
        Ok(ConnectOptions::new(profile, password))
    })
    .await
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

/// The upgrade screen's data (`migrate::proposal`). Read-only.
#[tauri::command]
pub async fn upgrade_proposal(app: AppHandle, id: String) -> Result<tauri::ipc::Response> {
    let proposal =
        dawarich_doctor::migrate::proposal(&options(&app, &id).await?, diagnose_options().stale_after_secs).await?;
    Ok(json_bytes(&proposal))
}

/// Ends the session holding the Rails migration lock (`force` also ends an active migration), once
/// confirmed.
#[tauri::command]
pub async fn release_lock(
    window: WebviewWindow,
    app: AppHandle,
    id: String,
    pid: i32,
    force: bool,
    confirmation: Confirmation,
) -> Result<Confirmed<ReleaseOutcome>> {
    if !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let db = connect(&options(&app, &id).await?).await?;
    let opts = ReleaseOptions {
        pid,
        force_active: force,
        stale_after_secs: diagnose_options().stale_after_secs,
        cancel_grace: std::time::Duration::from_secs(5),
    };
    let out = release(&db, &opts, dawarich_doctor::audit::default_file()).await?;
    log::info!(
        "connection {id}: lock holder {pid} ended ({}), lock free {}",
        out.actions.join(" → "),
        out.lock_free
    );
    Ok(Confirmed::Done(out))
}

/// Runs one repair strategy, streaming progress; `cancel` stops it at the next range. Asks first
/// when the strategy changes rows now (a run that finds nothing to change asks nothing).
#[tauri::command]
pub async fn run_repair(
    window: WebviewWindow,
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    choice: RepairChoice,
    confirmation: Confirmation,
    on_event: Channel<ProgressEvent>,
) -> Result<Confirmed<RepairOutcome>> {
    let conn = options(&app, &id).await?;
    let rows = repair::preview(&connect(&conn).await?, choice.check)
        .await?
        .resolves(choice.strategy)
        .unwrap_or(0);
    if rows > 0 && !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let opts = RepairOptions {
        check: choice.check,
        strategy: choice.strategy,
        user: choice.user,
        batch_size: 10_000,
        audit_file: dawarich_doctor::audit::default_file(),
    };
    let out = repair::repair(&conn, &opts, &forward(on_event), &new_cancel(&state)).await?;
    log::info!(
        "connection {id}: repair {} with {} (run {}), {} quarantined",
        out.check,
        out.strategy,
        out.run_id,
        out.quarantined
    );
    Ok(Confirmed::Done(out))
}

/// Applies the pending schema and data migrations up to the newest release, streaming progress,
/// once confirmed.
#[tauri::command]
pub async fn run_upgrade(
    window: WebviewWindow,
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    confirmation: Confirmation,
    on_event: Channel<ProgressEvent>,
) -> Result<Confirmed<UpgradeOutcome>> {
    if !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let conn = options(&app, &id).await?;
    // As the proposal: the container's environment, the image's release as the target; the
    // containers are stopped (again) before, started after, follow-ups run. Without a Docker host
    // the database upgrade runs alone.
    let (mut env, mut target) = (Environment::of_profile(&conn.profile), None);
    let install = find_host(&connect(&conn).await?, &mut env, &mut target).await.install;
    let opts = UpgradeOptions {
        target,
        env,
        ..Default::default()
    };
    let host = OnHost {
        manage_containers: install.is_some(),
        follow_ups: install.is_some(),
        install,
        backup: None,
        start_timeout: std::time::Duration::from_secs(360),
    };
    let out = upgrade_on_host(&conn, &opts, &host, &forward(on_event), &new_cancel(&state)).await?;
    log::info!(
        "connection {id}: upgrade run {} applied {} migrations in {} ms",
        out.run_id,
        out.applied.len(),
        out.elapsed_ms
    );
    Ok(Confirmed::Done(out))
}

/// Backs the database up into `file` (the proposal's), verified; nothing in the database changes.
#[tauri::command]
pub async fn run_backup(
    app: AppHandle,
    id: String,
    file: String,
    on_event: Channel<ProgressEvent>,
) -> Result<BackupOutcome> {
    let conn = options(&app, &id).await?;
    let out = dawarich_doctor::backup::run(&conn, Some(file.into()), &forward(on_event)).await?;
    log::info!("connection {id}: backup {} ({} bytes) verified", out.path, out.bytes);
    Ok(out)
}

/// Dawarich's containers on the connection's Docker host (read-only).
#[tauri::command]
pub async fn containers_status(app: AppHandle, id: String) -> Result<InstallStatus> {
    let core = dawarich_doctor::Error::from;
    let install = dawarich_doctor::containers::find(&connect(&options(&app, &id).await?).await?)
        .await
        .map_err(core)?;
    Ok(install.status().await.map_err(core)?)
}

/// Starts Dawarich's app container and watches it migrate itself, until it is up or its start fails
/// (why, and the fix). Read-only on the database.
#[tauri::command]
pub async fn watch_dawarich(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
    on_event: Channel<ProgressEvent>,
) -> Result<WatchReport> {
    let conn = options(&app, &id).await?;
    let install = dawarich_doctor::containers::find(&connect(&conn).await?)
        .await
        .map_err(dawarich_doctor::Error::from)?;
    let report = dawarich_doctor::watch::hand_over(
        &conn,
        &install,
        true,
        std::time::Duration::from_secs(3600),
        &forward(on_event),
        &new_cancel(&state),
    )
    .await?;
    log::info!(
        "connection {id}: watched Dawarich, {} versions recorded, failure: {:?}",
        report.recorded.len(),
        report.failure.as_ref().map(|f| f.summary())
    );
    Ok(report)
}

/// Fixes a failed start (duplicates under a unique index, keeping the highest id as Dawarich does;
/// an index a half-applied migration left), once confirmed; Dawarich's containers are stopped first.
#[tauri::command]
pub async fn fix_failure(
    window: WebviewWindow,
    app: AppHandle,
    id: String,
    failure: Failure,
    confirmation: Confirmation,
) -> Result<Confirmed<String>> {
    if !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let conn = options(&app, &id).await?;
    dawarich_doctor::containers::stop_dawarich(&conn).await?;
    let fixed = dawarich_doctor::watch::fix::fix(
        &conn,
        &failure,
        dawarich_doctor::unique::Keep::Highest,
        dawarich_doctor::audit::default_file(),
    )
    .await?;
    Ok(Confirmed::Done(format!(
        "{} rows quarantined (run {}){}",
        fixed.quarantined,
        fixed.run_id,
        fixed
            .dropped
            .map(|d| format!(", index {d} dropped"))
            .unwrap_or_default()
    )))
}

/// Shows a backup file in the system's file manager (only `.dump` files that exist).
#[tauri::command]
pub async fn show_in_folder(path: String) -> Result<()> {
    let file = std::path::PathBuf::from(&path);
    let dir = file
        .parent()
        .filter(|_| file.is_file() && file.extension().is_some_and(|e| e == "dump"))
        .ok_or_else(|| Error::NotLocal(format!("{path} is not a backup file on this computer")))?;
    let mut open = if cfg!(target_os = "macos") {
        let mut c = std::process::Command::new("open");
        c.arg("-R").arg(&file);
        c
    } else if cfg!(target_os = "windows") {
        let mut c = std::process::Command::new("explorer");
        c.arg(format!("/select,{path}"));
        c
    } else {
        let mut c = std::process::Command::new("xdg-open");
        c.arg(dir);
        c
    };
    open.spawn()
        .map_err(|e| Error::NotLocal(format!("cannot open the file manager: {e}")))?;
    Ok(())
}

/// Stops Dawarich's app and sidekiq containers, once confirmed in the dialog that names them.
#[tauri::command]
pub async fn stop_containers(
    window: WebviewWindow,
    app: AppHandle,
    id: String,
    confirmation: Confirmation,
) -> Result<Confirmed<Vec<String>>> {
    if !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let install = dawarich_doctor::containers::stop_dawarich(&options(&app, &id).await?).await?;
    Ok(Confirmed::Done(
        install.dawarich().iter().map(|s| s.to_string()).collect(),
    ))
}

/// Stops the running repair or upgrade at its next safe point.
#[tauri::command]
pub async fn cancel(state: State<'_, AppState>) -> Result<()> {
    state.cancel.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    Ok(())
}

/// The differences between the live schema and what `release` expects (empty: exactly that).
#[tauri::command]
pub async fn verify(app: AppHandle, id: String, release: String) -> Result<Vec<SchemaDifference>> {
    let db = connect(&options(&app, &id).await?).await?;
    Ok(dawarich_doctor::schema::verify(&db, &release).await?)
}

/// Puts back what repair run `run_id` changed (its quarantined rows included), once confirmed.
#[tauri::command]
pub async fn undo(
    window: WebviewWindow,
    app: AppHandle,
    id: String,
    run_id: String,
    confirmation: Confirmation,
) -> Result<Confirmed<Vec<UndoRow>>> {
    if !ask(&window, &confirmation).await? {
        return Ok(Confirmed::Declined);
    }
    let rows = repair::undo(
        &options(&app, &id).await?,
        &run_id,
        dawarich_doctor::audit::default_file(),
    )
    .await?;
    log::info!("connection {id}: undid run {run_id}");
    Ok(Confirmed::Done(rows))
}

/// The audit log kept in the database (`dawarich_doctor.audit_log`), oldest first; one run's only
/// when `run` is given.
#[tauri::command]
pub async fn audit_log(app: AppHandle, id: String, run: Option<String>) -> Result<Vec<AuditEntry>> {
    let db = connect(&options(&app, &id).await?).await?;
    Ok(dawarich_doctor::audit::read(&db, run.as_deref()).await?)
}

/// Asks where to save the audit entries the Log screen shows and writes them as JSON lines
/// (`audit::export`). `None`: the user cancelled the save dialog.
#[tauri::command]
pub async fn export_audit(
    window: WebviewWindow,
    entries: Vec<AuditEntry>,
    run: Option<String>,
) -> Result<Option<AuditExport>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = window
        .dialog()
        .file()
        .set_parent(&window)
        .set_title("Export the audit log")
        .set_file_name(dawarich_doctor::audit::export_file_name(run.as_deref()))
        .add_filter("JSON lines", &["jsonl"]);
    if let Some(dir) = window.path().download_dir().ok().filter(|d| d.is_dir()) {
        dialog = dialog.set_directory(dir);
    }
    dialog.save_file(move |p| {
        let _ = tx.send(p);
    });
    let Some(path) = rx.await.ok().flatten() else {
        return Ok(None);
    };
    let path = path.into_path().map_err(|e| Error::NotLocal(e.to_string()))?;
    let (n, path) = tauri::async_runtime::spawn_blocking(move || {
        dawarich_doctor::audit::export(&path, &entries).map(|n| (n, path))
    })
    .await??;
    log::info!("exported {n} audit entries to {}", path.display());
    Ok(Some(AuditExport {
        path: path.display().to_string(),
        entries: n,
    }))
}

/// Starts the demo database (`sandbox::start`: a throwaway local cluster with a broken Dawarich 0.9.11)
/// and saves a connection to it; both go away when the app exits.
#[tauri::command]
pub async fn open_demo(app: AppHandle, state: State<'_, AppState>) -> Result<Profile> {
    if state.demo.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
        return Err(Error::DemoRunning);
    }
    let sandbox = dawarich_doctor_sandbox::start(2000).await?;
    let parsed = profile::parse_url(&sandbox.url)?;
    let _guard = state.profiles.lock().await;
    let saved = blocking(&app, move |app, state| {
        let mut list = store::load(app)?;
        let mut saved = profile_list::upsert(
            &mut list,
            Profile {
                name: format!("Demo (Dawarich {}, throwaway)", dawarich_doctor_sandbox::DEMO_RELEASE),
                ..parsed.profile
            },
        )?;
        state.passwords.save(&mut saved, parsed.password.as_deref());
        profile_list::upsert(&mut list, saved.clone())?;
        store::save(app, &list)?;
        store::swap_demo(app, Some(&saved.id))?;
        Ok(saved)
    })
    .await?;
    log::info!(
        "demo database started: connection {} ({}@{}:{}/{})",
        saved.id,
        saved.user,
        saved.host,
        saved.port,
        saved.database
    );
    *state.demo.lock().unwrap_or_else(|e| e.into_inner()) = Some((sandbox, saved.id.clone()));
    Ok(saved)
}

/// At exit: stops the demo database and removes its connection.
pub fn stop_demo(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    if let Some((sandbox, _)) = state.demo.lock().unwrap_or_else(|e| e.into_inner()).take() {
        sandbox.stop();
        log::info!("demo database stopped");
    }
    forget_demo(app, &state);
}

/// Removes the demo's connection (also one left by a run that was killed).
pub fn forget_demo(app: &AppHandle, state: &AppState) {
    let Ok(Some(id)) = store::swap_demo(app, None) else {
        return;
    };
    state.passwords.forget(&id);
    if let Ok(mut list) = store::load(app) {
        if profile_list::remove(&mut list, &id).is_some() {
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
    if let Some(secs) = std::env::var(STALE_AFTER_ENV)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| *s >= 0.0)
    {
        o.stale_after_secs = secs;
    }
    o
}
