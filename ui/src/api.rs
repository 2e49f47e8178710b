//! One typed function per shell command. Argument names are camelCase, as Tauri expects.

use dawarich_doctor_model::{
    AuditEntry, AuditExport, Diagnosis, ErrorReport, ParsedConnection, ProbeReport, ProbeStep, Profile, ProfileEntry, ProgressEvent, ReleaseOutcome, RepairChoice, RepairOutcome,
    SavedProfile, SchemaDifference, UndoRow, UpgradeOutcome, UpgradeProposal,
};
use serde::{Deserialize, Serialize};

use crate::logic::Confirmation;
use crate::tauri::{invoke, invoke_bytes, Channel};

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub keychain_unavailable: Option<String>,
    pub log_dir: Option<String>,
    pub demo_available: bool,
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Id<'a> {
    id: &'a str,
}

pub async fn app_info() -> Result<AppInfo, ErrorReport> {
    invoke("app_info", &NoArgs {}, None).await
}

pub async fn list_profiles() -> Result<Vec<ProfileEntry>, ErrorReport> {
    invoke("list_profiles", &NoArgs {}, None).await
}

pub async fn parse_connection(text: &str) -> Result<ParsedConnection, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        text: &'a str,
    }
    invoke("parse_connection", &A { text }, None).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WithPassword<'a> {
    profile: &'a Profile,
    password: Option<String>,
}

pub async fn save_profile(profile: &Profile, password: Option<String>) -> Result<SavedProfile, ErrorReport> {
    invoke("save_profile", &WithPassword { profile, password }, None).await
}

pub async fn duplicate_profile(id: &str) -> Result<Profile, ErrorReport> {
    invoke("duplicate_profile", &Id { id }, None).await
}

pub async fn delete_profile(id: &str) -> Result<(), ErrorReport> {
    invoke("delete_profile", &Id { id }, None).await
}

pub async fn remember_password(id: &str, password: &str) -> Result<(), ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        password: &'a str,
    }
    invoke("remember_password", &A { id, password }, None).await
}

pub async fn test_connection(profile: &Profile, password: Option<String>, on_step: impl FnMut(ProbeStep) + 'static) -> Result<ProbeReport, ErrorReport> {
    let ch = Channel::new(on_step);
    invoke("test_connection", &WithPassword { profile, password }, Some(("onStep", &ch))).await
}

pub async fn diagnose(id: &str, on_event: impl FnMut(ProgressEvent) + 'static) -> Result<Diagnosis, ErrorReport> {
    let ch = Channel::new(on_event);
    invoke_bytes("diagnose", &Id { id }, Some(("onEvent", &ch))).await
}

pub async fn upgrade_proposal(id: &str) -> Result<UpgradeProposal, ErrorReport> {
    invoke_bytes("upgrade_proposal", &Id { id }, None).await
}

pub async fn release_lock(id: &str, pid: i32, force: bool) -> Result<ReleaseOutcome, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        pid: i32,
        force: bool,
    }
    invoke("release_lock", &A { id, pid, force }, None).await
}

pub async fn run_repair(id: &str, choice: &RepairChoice, on_event: impl FnMut(ProgressEvent) + 'static) -> Result<RepairOutcome, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        choice: &'a RepairChoice,
    }
    let ch = Channel::new(on_event);
    invoke("run_repair", &A { id, choice }, Some(("onEvent", &ch))).await
}

pub async fn run_upgrade(id: &str, on_event: impl FnMut(ProgressEvent) + 'static) -> Result<UpgradeOutcome, ErrorReport> {
    let ch = Channel::new(on_event);
    invoke("run_upgrade", &Id { id }, Some(("onEvent", &ch))).await
}

pub async fn cancel() -> Result<(), ErrorReport> {
    invoke("cancel", &NoArgs {}, None).await
}

pub async fn verify(id: &str, release: &str) -> Result<Vec<SchemaDifference>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        release: &'a str,
    }
    invoke("verify", &A { id, release }, None).await
}

pub async fn undo(id: &str, run_id: &str) -> Result<Vec<UndoRow>, ErrorReport> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        id: &'a str,
        run_id: &'a str,
    }
    invoke("undo", &A { id, run_id }, None).await
}

pub async fn audit_log(id: &str, run: Option<&str>) -> Result<Vec<AuditEntry>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        id: &'a str,
        run: Option<&'a str>,
    }
    invoke("audit_log", &A { id, run }, None).await
}

pub async fn open_demo() -> Result<Profile, ErrorReport> {
    invoke("open_demo", &NoArgs {}, None).await
}

/// Asks in the shell's native dialog; true when the user went ahead.
pub async fn confirm(c: &Confirmation) -> Result<bool, ErrorReport> {
    invoke("confirm", c, None).await
}

/// Saves `entries` where the user chooses in the native save dialog; `None` when cancelled.
pub async fn export_audit(entries: &[AuditEntry], run: Option<&str>) -> Result<Option<AuditExport>, ErrorReport> {
    #[derive(Serialize)]
    struct A<'a> {
        entries: &'a [AuditEntry],
        run: Option<&'a str>,
    }
    invoke("export_audit", &A { entries, run }, None).await
}
