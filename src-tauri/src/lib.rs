//! The desktop shell: a thin Tauri layer. Each command hands its arguments to the core library
//! (`dawarich_doctor`) in a few lines; long operations stream the core's progress events through a
//! `tauri::ipc::Channel`. The UI (ui/, Rust → WebAssembly) is embedded from ui/dist.

mod commands;
mod error;
mod store;

use tauri_plugin_log::{RotationStrategy, Target, TargetKind};

/// File name (without `.log`) of the log in the app's log folder.
pub const LOG_FILE: &str = "dawarich-doctor";

pub fn run() {
    tauri::Builder::default()
        .plugin(
            tauri_plugin_log::Builder::new()
                .targets([
                    Target::new(TargetKind::LogDir {
                        file_name: Some(LOG_FILE.into()),
                    }),
                    Target::new(TargetKind::Stderr),
                ])
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
            // Before anything opens the store: a damaged file is kept aside and the app starts.
            let notice = store::recover(app.handle()).unwrap_or_else(|e| Some(e.to_string()));
            if let Some(n) = &notice {
                log::warn!("{n}");
            }
            app.manage(commands::AppState::new(notice));
            // A demo connection left by a run that was killed (its cluster is gone) is removed.
            commands::forget_demo(app.handle(), &app.state::<commands::AppState>());
            log::info!(
                "Dawarich Doctor {} started; log folder {:?}",
                env!("CARGO_PKG_VERSION"),
                app.path().app_log_dir().ok()
            );
            Ok(())
        })
        .invoke_handler(handler())
        .build(tauri::generate_context!())
        .expect("error while building Dawarich Doctor")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                commands::stop_demo(app);
            }
        });
}

/// Registers the commands and lists their names (`HANDLED`, checked against the model's
/// `commands::ALL`, which the UI invokes and build.rs allows) from one list.
macro_rules! handler {
    ($($name:ident),* $(,)?) => {
        fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(commands::$name),*]
        }

        #[cfg(test)]
        const HANDLED: &[&str] = &[$(stringify!($name)),*];
    };
}

handler![
    app_info,
    list_profiles,
    parse_connection,
    save_profile,
    duplicate_profile,
    delete_profile,
    remember_password,
    test_connection,
    diagnose,
    upgrade_proposal,
    release_lock,
    run_repair,
    run_upgrade,
    cancel,
    verify,
    undo,
    audit_log,
    open_demo,
    export_audit,
    run_backup,
    stop_containers,
    containers_status,
    show_in_folder,
    watch_dawarich,
    fix_failure,
];

#[cfg(test)]
mod tests {
    use dawarich_doctor_model::commands;

    #[test]
    fn the_handler_registers_exactly_the_commands_the_ui_invokes() {
        assert_eq!(super::HANDLED, commands::ALL);
    }

    #[test]
    fn the_capability_allows_exactly_those_commands() {
        let cap: serde_json::Value = serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        let allowed: Vec<&str> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let expected: Vec<String> = commands::ALL
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        assert_eq!(allowed, expected);
    }
}
