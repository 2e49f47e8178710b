//! The root: the tabs, the banners, and what every screen shares (`Shared`). Each screen keeps its
//! own state (`screens::*`), created here so that it outlives a switch of tabs.

use std::future::Future;

use dawarich_doctor_model::{AppInfo, Confirmation, Confirmed, ErrorReport, ProfileEntry};
use leptos::prelude::*;

use crate::api;
use crate::format::{error_line, Level};
use crate::screens::audit_log::LogScreen;
use crate::screens::connections::{Connections, ConnectionsState};
use crate::screens::diagnosis::{DiagnosisScreen, DiagnosisState, PasswordPrompt};
use crate::screens::upgrade::{UpgradeScreen, UpgradeState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Connections,
    Diagnosis,
    Upgrade,
    Log,
}

/// What every screen shares (all `Copy`).
#[derive(Clone, Copy)]
pub struct Shared {
    pub screen: RwSignal<Screen>,
    pub info: LocalResource<Result<AppInfo, ErrorReport>>,
    /// The saved connections; `refresh` reloads them.
    pub profiles: LocalResource<Result<Vec<ProfileEntry>, ErrorReport>>,
    pub notice: RwSignal<Option<(Level, String)>>,
    /// The question of the native dialog that is open, also shown in the page.
    pub asking: RwSignal<Option<String>>,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            screen: RwSignal::new(Screen::Connections),
            info: LocalResource::new(api::app_info),
            profiles: LocalResource::new(api::list_profiles),
            notice: RwSignal::new(None),
            asking: RwSignal::new(None),
        }
    }

    pub fn refresh(self) {
        self.profiles.refetch();
    }

    /// The saved connections as last loaded (empty while loading or after an error).
    pub fn entries(self) -> Vec<ProfileEntry> {
        self.profiles.get().and_then(Result::ok).unwrap_or_default()
    }

    /// Whether the password of connection `id` is at hand (without tracking).
    pub fn password_ready(self, id: &str) -> bool {
        self.profiles
            .get_untracked()
            .and_then(Result::ok)
            .is_some_and(|l| l.iter().any(|e| e.profile.id == id && e.password_ready))
    }

    pub fn info(self) -> AppInfo {
        self.info.get().and_then(Result::ok).unwrap_or_default()
    }

    pub fn notify(self, level: Level, text: String) {
        self.notice.set(Some((level, text)));
    }

    pub fn error(self, e: &ErrorReport) {
        self.notify(Level::Blocked, error_line(e));
    }

    /// Runs a destructive command while the page shows the question its native dialog asks; `None`
    /// when the user declined or the command failed (which is shown).
    pub async fn confirmed<T>(
        self,
        c: &Confirmation,
        command: impl Future<Output = Result<Confirmed<T>, ErrorReport>>,
    ) -> Option<T> {
        self.asking.set(Some(c.message.clone()));
        let answer = command.await;
        self.asking.set(None);
        match answer {
            Ok(Confirmed::Done(v)) => Some(v),
            Ok(Confirmed::Declined) => None,
            Err(e) => {
                self.error(&e);
                None
            }
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let shared = Shared::new();
    provide_context(shared);
    provide_context(ConnectionsState::new(shared));
    provide_context(DiagnosisState::new(shared));
    provide_context(UpgradeState::new(shared));
    Effect::new(move |_| {
        if let Some(Err(e)) = shared.info.get() {
            shared.error(&e);
        }
    });
    let tab = move |s: Screen, label: &'static str, id: &'static str| {
        view! {
            <button id=id class="tab" class:active=move || shared.screen.get() == s
                aria-current=move || if shared.screen.get() == s { "page" } else { "false" }
                on:click=move |_| shared.screen.set(s)>{label}</button>
        }
    };
    view! {
        <div class="app">
            <header class="topbar">
                <div class="brand"><span class="logo" aria-hidden="true"></span>"Dawarich Doctor"</div>
                <nav aria-label="Screens">
                    {tab(Screen::Connections, "Connections", "tab-connections")}
                    {tab(Screen::Diagnosis, "Diagnosis", "tab-diagnosis")}
                    {tab(Screen::Upgrade, "Upgrade", "tab-upgrade")}
                    {tab(Screen::Log, "Log", "tab-log")}
                </nav>
                <div class="version">{move || format!("v{}", shared.info().version)}</div>
            </header>
            <Notice/>
            <main>
                {move || match shared.screen.get() {
                    Screen::Connections => view! { <Connections/> }.into_any(),
                    Screen::Diagnosis => view! { <DiagnosisScreen/> }.into_any(),
                    Screen::Upgrade => view! { <UpgradeScreen/> }.into_any(),
                    Screen::Log => view! { <LogScreen/> }.into_any(),
                }}
            </main>
            <PasswordPrompt/>
        </div>
    }
}

#[component]
fn Notice() -> impl IntoView {
    let shared = expect_context::<Shared>();
    view! {
        {move || shared.asking.get().map(|question| view! {
            <div class="notice warning" role="status" id="asking"><span><strong>"Answer in the dialog: "</strong>{question}</span></div>
        })}
        {move || shared.notice.get().map(|(level, text)| view! {
            <div class=format!("notice {}", level.class()) role="status" id="notice">
                <span>{text}</span>
                <button class="link" aria-label="Dismiss" on:click=move |_| shared.notice.set(None)>"Dismiss"</button>
            </div>
        })}
    }
}
