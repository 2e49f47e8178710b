//! One typed function per shell command (names from the model's `commands`). Argument names are
//! camelCase, as Tauri expects. A destructive command takes the question its native dialog asks and
//! answers `Confirmed::Declined` when the user cancels there.

use dawarich_doctor_model::commands as cmd;
use dawarich_doctor_model::{
    AppInfo, AuditEntry, AuditExport, BackupOutcome, Confirmation, Confirmed, Diagnosis, ErrorReport, Failure,
    InstallStatus, ParsedConnection, ProbeReport, ProbeStep, Profile, ProfileEntry, ProgressEvent, ReleaseOutcome,
    RepairChoice, RepairOutcome, SavedProfile, SchemaDifference, UndoRow, UpgradeOutcome, UpgradeProposal, WatchReport,
};
use serde::Serialize;

use crate::tauri::{invoke, invoke_bytes, Channel};

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Id<'a> {
    id: &'a str,
}

/// A destructive command's arguments and the question it asks before it changes anything.
#[derive(Serialize)]
struct Asking<'a, A: Serialize> {
    #[serde(flatten)]
    args: A,
    confirmation: &'a Confirmation,
}

pub async fn app_info() -> Result<AppInfo, ErrorReport> {
    invoke(cmd::APP_INFO, &NoArgs {}, None).await
}

pub async fn list_profiles() -> Result<Vec<ProfileEntry>, ErrorReport> {
    invoke(cmd::LIST_PROFILES, &NoArgs {}, None).await
}

pub async fn parse_connection(text: &str) -> Result<ParsedConnection, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        text: &'a str,
    }
    invoke(cmd::PARSE_CONNECTION, &A { text }, None).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithPassword<'a> {
    profile: &'a Profile,
    password: Option<String>,
}

pub async fn save_profile(profile: &Profile, password: Option<String>) -> Result<SavedProfile, ErrorReport> {
    invoke(cmd::SAVE_PROFILE, &WithPassword { profile, password }, None).await
}

pub async fn duplicate_profile(id: &str) -> Result<Profile, ErrorReport> {
    invoke(cmd::DUPLICATE_PROFILE, &Id { id }, None).await
}

pub async fn delete_profile(id: &str, confirmation: &Confirmation) -> Result<Confirmed<()>, ErrorReport> {
    invoke(
        cmd::DELETE_PROFILE,
        &Asking {
            args: Id { id },
            confirmation,
        },
        None,
    )
    .await
}

pub async fn remember_password(id: &str, password: &str) -> Result<(), ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        password: &'a str,
    }
    invoke(cmd::REMEMBER_PASSWORD, &A { id, password }, None).await
}

pub async fn test_connection(
    profile: &Profile,
    password: Option<String>,
    on_step: impl FnMut(ProbeStep) + 'static,
) -> Result<ProbeReport, ErrorReport> {
    let ch = Channel::new(on_step);
    invoke(
        cmd::TEST_CONNECTION,
        &WithPassword { profile, password },
        Some(("onStep", &ch)),
    )
    .await
}

pub async fn diagnose(id: &str, on_event: impl FnMut(ProgressEvent) + 'static) -> Result<Diagnosis, ErrorReport> {
    let ch = Channel::new(on_event);
    invoke_bytes(cmd::DIAGNOSE, &Id { id }, Some(("onEvent", &ch))).await
}

pub async fn upgrade_proposal(id: &str) -> Result<UpgradeProposal, ErrorReport> {
    invoke_bytes(cmd::UPGRADE_PROPOSAL, &Id { id }, None).await
}

pub async fn release_lock(
    id: &str,
    pid: i32,
    force: bool,
    confirmation: &Confirmation,
) -> Result<Confirmed<ReleaseOutcome>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        pid: i32,
        force: bool,
    }
    invoke(
        cmd::RELEASE_LOCK,
        &Asking {
            args: A { id, pid, force },
            confirmation,
        },
        None,
    )
    .await
}

/// The shell asks only when the repair changes rows now.
pub async fn run_repair(
    id: &str,
    choice: &RepairChoice,
    confirmation: &Confirmation,
    on_event: impl FnMut(ProgressEvent) + 'static,
) -> Result<Confirmed<RepairOutcome>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        choice: &'a RepairChoice,
    }
    let ch = Channel::new(on_event);
    invoke(
        cmd::RUN_REPAIR,
        &Asking {
            args: A { id, choice },
            confirmation,
        },
        Some(("onEvent", &ch)),
    )
    .await
}

pub async fn run_upgrade(
    id: &str,
    confirmation: &Confirmation,
    on_event: impl FnMut(ProgressEvent) + 'static,
) -> Result<Confirmed<UpgradeOutcome>, ErrorReport> {
    let ch = Channel::new(on_event);
    invoke(
        cmd::RUN_UPGRADE,
        &Asking {
            args: Id { id },
            confirmation,
        },
        Some(("onEvent", &ch)),
    )
    .await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BackupArgs<'a> {
    id: &'a str,
    file: &'a str,
}

pub async fn run_backup(
    id: &str,
    file: &str,
    on_event: impl FnMut(ProgressEvent) + 'static,
) -> Result<BackupOutcome, ErrorReport> {
    let ch = Channel::new(on_event);
    invoke(cmd::RUN_BACKUP, &BackupArgs { id, file }, Some(("onEvent", &ch))).await
}

#[derive(Serialize)]
struct PathArg<'a> {
    path: &'a str,
}

pub async fn show_in_folder(path: &str) -> Result<(), ErrorReport> {
    invoke(cmd::SHOW_IN_FOLDER, &PathArg { path }, None).await
}

pub async fn containers_status(id: &str) -> Result<InstallStatus, ErrorReport> {
    invoke(cmd::CONTAINERS_STATUS, &Id { id }, None).await
}

pub async fn stop_containers(id: &str, confirmation: &Confirmation) -> Result<Confirmed<Vec<String>>, ErrorReport> {
    invoke(
        cmd::STOP_CONTAINERS,
        &Asking {
            args: Id { id },
            confirmation,
        },
        None,
    )
    .await
}

pub async fn watch_dawarich(
    id: &str,
    on_event: impl FnMut(ProgressEvent) + 'static,
) -> Result<WatchReport, ErrorReport> {
    let ch = Channel::new(on_event);
    invoke(cmd::WATCH_DAWARICH, &Id { id }, Some(("onEvent", &ch))).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FixArgs<'a> {
    id: &'a str,
    failure: &'a Failure,
}

pub async fn fix_failure(
    id: &str,
    failure: &Failure,
    confirmation: &Confirmation,
) -> Result<Confirmed<String>, ErrorReport> {
    invoke(
        cmd::FIX_FAILURE,
        &Asking {
            args: FixArgs { id, failure },
            confirmation,
        },
        None,
    )
    .await
}

pub async fn cancel() -> Result<(), ErrorReport> {
    invoke(cmd::CANCEL, &NoArgs {}, None).await
}

pub async fn verify(id: &str, release: &str) -> Result<Vec<SchemaDifference>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        release: &'a str,
    }
    invoke(cmd::VERIFY, &A { id, release }, None).await
}

pub async fn undo(id: &str, run_id: &str, confirmation: &Confirmation) -> Result<Confirmed<Vec<UndoRow>>, ErrorReport> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        id: &'a str,
        run_id: &'a str,
    }
    invoke(
        cmd::UNDO,
        &Asking {
            args: A { id, run_id },
            confirmation,
        },
        None,
    )
    .await
}

pub async fn audit_log(id: &str, run: Option<&str>) -> Result<Vec<AuditEntry>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        run: Option<&'a str>,
    }
    invoke(cmd::AUDIT_LOG, &A { id, run }, None).await
}

pub async fn open_demo() -> Result<Profile, ErrorReport> {
    invoke(cmd::OPEN_DEMO, &NoArgs {}, None).await
}

/// Saves `entries` where the user chooses in the native save dialog; `None` when cancelled.
pub async fn export_audit(entries: &[AuditEntry], run: Option<&str>) -> Result<Option<AuditExport>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        entries: &'a [AuditEntry],
        run: Option<&'a str>,
    }
    invoke(cmd::EXPORT_AUDIT, &A { entries, run }, None).await
}
