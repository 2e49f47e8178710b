//! The desktop shell: a thin Tauri layer. Each command hands its arguments to the core library
//! (`dawarich_doctor`) in a few lines; long operations stream the core's progress events through a
//! `tauri::ipc::Channel`. The UI (ui/, Rust → WebAssembly) is embedded from ui/dist.

mod commands;
mod store;

use tauri_plugin_log::{RotationStrategy, Target, TargetKind};

/// File name (without `.log`) of the log in the app's log folder.
pub const LOG_FILE: &str = "dawarich-doctor";

pub fn run() {
    tauri::Builder::default()
        .plugin(
            tauri_plugin_log::Builder::new()
                .targets([Target::new(TargetKind::LogDir { file_name: Some(LOG_FILE.into()) }), Target::new(TargetKind::Stderr)])
                .level(log::LevelFilter::Info)
                .level_for("tao", log::LevelFilter::Warn)
                .level_for("tokio_postgres", log::LevelFilter::Warn)
                .max_file_size(1_000_000)
                .rotation_strategy(RotationStrategy::KeepSome(5))
                .build(),
        )
        .plugin(tauri_plugin_store::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            use tauri::Manager;
            app.manage(commands::AppState::new());
            // A demo connection left by a run that was killed (its cluster is gone) is removed.
            commands::forget_demo(app.handle(), &app.state::<commands::AppState>());
            log::info!("Dawarich Doctor {} started; log folder {:?}", env!("CARGO_PKG_VERSION"), app.path().app_log_dir().ok());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::list_profiles,
            commands::parse_connection,
            commands::save_profile,
            commands::duplicate_profile,
            commands::delete_profile,
            commands::remember_password,
            commands::test_connection,
            commands::diagnose,
            commands::upgrade_proposal,
            commands::release_lock,
            commands::run_repair,
            commands::run_upgrade,
            commands::cancel,
            commands::verify,
            commands::undo,
            commands::audit_log,
            commands::open_demo,
            commands::confirm,
            commands::export_audit,
        ])
        .build(tauri::generate_context!())
        .expect("error while building Dawarich Doctor")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                commands::stop_demo(app);
            }
        });
}
