//! One typed function per shell command. Argument names are camelCase, as Tauri expects.

use dawarich_doctor_model::{Diagnosis, ErrorReport, ParsedConnection, ProbeReport, ProbeStep, Profile, ProfileEntry, ProgressEvent, SavedProfile};
use serde::{Deserialize, Serialize};

use crate::tauri::{invoke, invoke_bytes, Channel};

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub keychain_unavailable: Option<String>,
    pub log_dir: Option<String>,
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
