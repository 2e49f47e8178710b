//! The screens: Connections (list + form + step-by-step test) and Diagnosis.

use dawarich_doctor_model::{
    CheckStatus, Diagnosis, ErrorKind, ErrorReport, FieldError, HolderVerdict, PasswordOutcome, Profile, ProfileEntry, ProgressEvent,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, AppInfo};
use crate::logic::{self, DiagnoseProgress, Level, ProfileForm, StepRow};

mod log;
mod upgrade;
use log::LogScreen;
use upgrade::{RunState, UpgradeScreen};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    Connections,
    Diagnosis,
    Upgrade,
    Log,
}

#[derive(Debug, Clone, PartialEq)]
enum DiagState {
    Idle,
    Running(DiagnoseProgress),
    Done(Box<Diagnosis>),
    Failed(ErrorReport),
}

/// A password asked for before connecting with a saved profile.
#[derive(Debug, Clone, PartialEq)]
struct Prompt {
    profile: Profile,
    reason: Option<String>,
}

/// Everything the screens share (signals are `Copy`).
#[derive(Clone, Copy)]
struct Ctx {
    screen: RwSignal<Screen>,
    info: RwSignal<AppInfo>,
    profiles: RwSignal<Vec<ProfileEntry>>,
    notice: RwSignal<Option<(Level, String)>>,
    form: RwSignal<Option<ProfileForm>>,
    form_errors: RwSignal<Vec<FieldError>>,
    probe: RwSignal<Option<Vec<StepRow>>>,
    probing: RwSignal<bool>,
    diag_profile: RwSignal<Option<Profile>>,
    diag: RwSignal<DiagState>,
    prompt: RwSignal<Option<Prompt>>,
    /// The question of the native dialog that is open, also shown in the page.
    asking: RwSignal<Option<String>>,
    up_profile: RwSignal<Option<Profile>>,
    /// `None` while planning.
    up_proposal: RwSignal<Option<Result<Box<dawarich_doctor_model::UpgradeProposal>, ErrorReport>>>,
    up_run: RwSignal<Option<RunState>>,
}

impl Ctx {
    fn refresh(self) {
        spawn_local(async move {
            match api::list_profiles().await {
                Ok(list) => self.profiles.set(list),
                Err(e) => self.error(&e),
            }
        });
    }

    /// Asks in a native dialog (the shell's `confirm`) while the page shows the same question;
    /// false when cancelled (or when the dialog failed, which is shown).
    async fn confirm(self, c: logic::Confirmation) -> bool {
        self.asking.set(Some(c.message.clone()));
        let ok = api::confirm(&c).await.unwrap_or_else(|e| {
            self.error(&e);
            false
        });
        self.asking.set(None);
        ok
    }

    fn error(self, e: &ErrorReport) {
        self.notice.set(Some((Level::Blocked, logic::error_line(e))));
    }

    /// Diagnoses a saved profile, asking for its password first when none is at hand.
    fn start_diagnosis(self, entry: ProfileEntry) {
        self.screen.set(Screen::Diagnosis);
        self.notice.set(None);
        self.diag_profile.set(Some(entry.profile.clone()));
        if !entry.password_ready {
            self.diag.set(DiagState::Idle);
            self.prompt.set(Some(Prompt { profile: entry.profile, reason: None }));
            return;
        }
        self.run_diagnosis(entry.profile);
    }

    fn run_diagnosis(self, profile: Profile) {
        self.diag.set(DiagState::Running(DiagnoseProgress::default()));
        let diag = self.diag;
        spawn_local(async move {
            let on_event = move |e: ProgressEvent| {
                diag.update(|d| {
                    if let DiagState::Running(p) = d {
                        p.apply(&e)
                    }
                })
            };
            match api::diagnose(&profile.id, on_event).await {
                Ok(d) => diag.set(DiagState::Done(Box::new(d))),
                Err(e) if e.kind == ErrorKind::AuthenticationFailed => {
                    diag.set(DiagState::Failed(e.clone()));
                    self.prompt.set(Some(Prompt { profile, reason: Some(e.message) }));
                }
                Err(e) => diag.set(DiagState::Failed(e)),
            }
        });
    }
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx {
        screen: RwSignal::new(Screen::Connections),
        info: RwSignal::new(AppInfo::default()),
        profiles: RwSignal::new(Vec::new()),
        notice: RwSignal::new(None),
        form: RwSignal::new(None),
        form_errors: RwSignal::new(Vec::new()),
        probe: RwSignal::new(None),
        probing: RwSignal::new(false),
        diag_profile: RwSignal::new(None),
        diag: RwSignal::new(DiagState::Idle),
        prompt: RwSignal::new(None),
        asking: RwSignal::new(None),
        up_profile: RwSignal::new(None),
        up_proposal: RwSignal::new(None),
        up_run: RwSignal::new(None),
    };
    provide_context(ctx);
    spawn_local(async move {
        match api::app_info().await {
            Ok(i) => ctx.info.set(i),
            Err(e) => ctx.error(&e),
        }
    });
    ctx.refresh();
    let tab = move |s: Screen, label: &'static str, id: &'static str| {
        view! {
            <button id=id class="tab" class:active=move || ctx.screen.get() == s
                aria-current=move || if ctx.screen.get() == s { "page" } else { "false" }
                on:click=move |_| ctx.screen.set(s)>{label}</button>
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
                <div class="version">{move || format!("v{}", ctx.info.get().version)}</div>
            </header>
            <Notice/>
            <main>
                {move || match ctx.screen.get() {
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
    let ctx = expect_context::<Ctx>();
    view! {
        {move || ctx.asking.get().map(|question| view! {
            <div class="notice warning" role="status" id="asking"><span><strong>"Answer in the dialog: "</strong>{question}</span></div>
        })}
        {move || ctx.notice.get().map(|(level, text)| view! {
            <div class=format!("notice {}", level.class()) role="status" id="notice">
                <span>{text}</span>
                <button class="link" aria-label="Dismiss" on:click=move |_| ctx.notice.set(None)>"Dismiss"</button>
            </div>
        })}
    }
}

#[component]
fn Connections() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let new_connection = move |_| {
        ctx.form.set(Some(ProfileForm::new_profile()));
        ctx.form_errors.set(Vec::new());
        ctx.probe.set(None);
    };
    let demo_starting = RwSignal::new(false);
    let open_demo = move |_| {
        demo_starting.set(true);
        spawn_local(async move {
            match api::open_demo().await {
                Ok(p) => {
                    ctx.notice.set(Some((Level::Good, format!("Started \u{201c}{}\u{201d}: a throwaway database with a stale lock, ownerless points and pending migrations. It is removed when the app quits.", p.name))));
                    ctx.refresh();
                }
                Err(e) => ctx.error(&e),
            }
            demo_starting.set(false);
        });
    };
    view! {
        <div class="connections">
            <section class="list" aria-labelledby="connections-title">
                <div class="section-head">
                    <h2 id="connections-title">"Connections"</h2>
                    <div class="form-actions head-actions">
                        {move || ctx.info.get().demo_available.then(|| view! {
                            <button id="open-demo" disabled=move || demo_starting.get() on:click=open_demo
                                title="A throwaway local database with a broken Dawarich 0.9.11, removed when the app quits">
                                {move || if demo_starting.get() { "Starting demo…" } else { "Open demo database" }}
                            </button>
                        })}
                        <button id="new-connection" class="primary" on:click=new_connection>"+ New connection"</button>
                    </div>
                </div>
                {move || ctx.profiles.with(|l| l.is_empty()).then(|| view! {
                    <p class="empty">"No saved connection yet. Add one with "<strong>"New connection"</strong>
                    ": paste the postgres:// URL or the .env of your Dawarich."</p>
                })}
                <ul class="profiles">
                    <For each=move || ctx.profiles.get() key=|e| serde_json::to_string(e).unwrap_or_default() children=move |e| view! { <ProfileCard entry=e/> }/>
                </ul>
            </section>
            <section class="editor" aria-label="Connection details">
                {move || if ctx.form.with(|f| f.is_some()) {
                    view! { <ProfileEditor/> }.into_any()
                } else {
                    view! {
                        <div class="placeholder">
                            <h2>"Why does my Dawarich upgrade fail?"</h2>
                            <p>"Add a connection to the Dawarich database, test it, then run a diagnosis: it shows the release, the pending migrations, who holds the migration lock, and every row that will make a migration fail."</p>
                            <p class="muted">"Nothing is changed by a connection test or a diagnosis: both only read."</p>
                        </div>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn ProfileCard(entry: ProfileEntry) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let p = entry.profile.clone();
    let id = p.id.clone();
    let (e1, p2, p3, id3, id4) = (entry.clone(), p.clone(), p.clone(), id.clone(), id.clone());
    let editing = {
        let id = id.clone();
        move || ctx.form.with(|f| f.as_ref().is_some_and(|f| f.id == id))
    };
    let lock = if entry.password_ready { "" } else { "password asked when connecting" };
    view! {
        <li class="profile-card" class:selected=editing data-profile=id.clone()>
            <div class="profile-main">
                <div class="profile-name">{p.name.clone()}</div>
                <div class="profile-target mono">{logic::profile_target(&p)}</div>
                <div class="profile-meta muted">{format!("sslmode {}", p.sslmode.as_str())}{(!lock.is_empty()).then(|| format!(" · {lock}"))}</div>
            </div>
            <div class="profile-actions">
                <button class="primary diagnose" on:click=move |_| ctx.start_diagnosis(e1.clone())>"Diagnose"</button>
                <button class="edit" on:click=move |_| {
                    ctx.form.set(Some(ProfileForm::from_profile(&p2)));
                    ctx.form_errors.set(Vec::new());
                    ctx.probe.set(None);
                }>"Edit"</button>
                <button class="duplicate" on:click=move |_| {
                    let id = id3.clone();
                    spawn_local(async move {
                        match api::duplicate_profile(&id).await {
                            Ok(p) => {
                                ctx.notice.set(Some((Level::Good, format!("Duplicated as \u{201c}{}\u{201d}.", p.name))));
                                ctx.refresh();
                            }
                            Err(e) => ctx.error(&e),
                        }
                    });
                }>"Duplicate"</button>
                <button class="delete" on:click=move |_| {
                    let (id, p) = (id4.clone(), p3.clone());
                    spawn_local(async move {
                        if !ctx.confirm(logic::confirm_delete(&p)).await {
                            return;
                        }
                        match api::delete_profile(&id).await {
                            Ok(()) => {
                                if ctx.form.with(|f| f.as_ref().is_some_and(|f| f.id == id)) {
                                    ctx.form.set(None);
                                }
                                ctx.refresh();
                            }
                            Err(e) => ctx.error(&e),
                        }
                    });
                }>"Delete"</button>
            </div>
        </li>
    }
}

type Getter = fn(&ProfileForm) -> String;
type Setter = fn(&mut ProfileForm, String);

fn text_field(id: &'static str, field: &'static str, label: &'static str, kind: &'static str, get: Getter, set: Setter, hint: Option<&'static str>) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let error = move || ctx.form_errors.with(|e| logic::field_error(e, field).map(String::from));
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete="off" spellcheck="false"
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                prop:value=move || ctx.form.with(|f| f.as_ref().map(get).unwrap_or_default())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    ctx.form.update(|f| if let Some(f) = f { set(f, v) });
                }/>
            {move || error().map(|e| view! { <div class="field-error">{e}</div> })}
            {hint.map(|h| view! { <div class="hint">{h}</div> })}
        </div>
    }
}

#[component]
fn ProfileEditor() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let paste = RwSignal::new(String::new());
    let fill = move |_| {
        let text = paste.get_untracked();
        spawn_local(async move {
            match api::parse_connection(&text).await {
                Ok(parsed) => {
                    ctx.form.update(|f| if let Some(f) = f { f.apply_parsed(&parsed) });
                    ctx.form_errors.set(Vec::new());
                    ctx.notice.set(None);
                    paste.set(String::new());
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let test = move |_| {
        let Some(form) = ctx.form.get_untracked() else { return };
        let profile = match form.to_profile() {
            Ok(p) => p,
            Err(errors) => return ctx.form_errors.set(errors),
        };
        ctx.form_errors.set(Vec::new());
        ctx.probe.set(Some(logic::pending_steps()));
        ctx.probing.set(true);
        request_animation_frame(|| {
            if let Some(el) = document().get_element_by_id("probe") {
                el.scroll_into_view_with_bool(false);
            }
        });
        let password = Some(form.password.clone()).filter(|p| !p.is_empty() && !form.no_password);
        spawn_local(async move {
            let on_step = move |s| ctx.probe.update(|rows| if let Some(rows) = rows { logic::apply_step(rows, s) });
            match api::test_connection(&profile, password, on_step).await {
                Ok(report) => ctx.probe.set(Some({
                    let mut rows = logic::pending_steps();
                    for s in report.steps {
                        logic::apply_step(&mut rows, s);
                    }
                    rows
                })),
                Err(e) => {
                    ctx.probe.set(None);
                    ctx.error(&e);
                }
            }
            ctx.probing.set(false);
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = ctx.form.get_untracked() else { return };
        let profile = match form.to_profile() {
            Ok(p) => p,
            Err(errors) => return ctx.form_errors.set(errors),
        };
        spawn_local(async move {
            match api::save_profile(&profile, form.password_arg()).await {
                Ok(saved) => {
                    let how = match saved.password {
                        PasswordOutcome::Keychain => " The password is in the OS keychain.".to_string(),
                        PasswordOutcome::MemoryOnly { reason } => format!(" The password is not stored: {reason}; it is kept in memory until the app quits and asked for on the next run."),
                        _ => String::new(),
                    };
                    ctx.notice.set(Some((Level::Good, format!("Saved \u{201c}{}\u{201d}.{how}", saved.profile.name))));
                    ctx.form.set(None);
                    ctx.probe.set(None);
                    ctx.refresh();
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    let is_new = move || ctx.form.with(|f| f.as_ref().is_none_or(|f| f.id.is_empty()));
    let no_password = move || ctx.form.with(|f| f.as_ref().is_some_and(|f| f.no_password));
    let ssl = move || ctx.form.with(|f| f.as_ref().map(|f| f.sslmode.clone()).unwrap_or_default());
    view! {
        <form class="editor-form" on:submit=save on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { ctx.form.set(None) }>
            <h2>{move || if is_new() { "New connection" } else { "Edit connection" }}</h2>
            <div class="paste">
                <label for="paste">"Paste a postgres:// URL or Dawarich's .env"</label>
                <div class="paste-row">
                    <textarea id="paste" rows="2" spellcheck="false" placeholder="postgres://postgres:password@192.168.1.10:5432/dawarich_development"
                        prop:value=move || paste.get() on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
                    <button type="button" id="fill-from-paste" on:click=fill disabled=move || paste.with(|p| p.trim().is_empty())>"Fill in"</button>
                </div>
            </div>
            <div class="grid">
                {text_field("f-name", "name", "Name", "text", |f| f.name.clone(), |f, v| f.name = v, None)}
                {text_field("f-host", "host", "Host", "text", |f| f.host.clone(), |f, v| f.host = v, None)}
                {text_field("f-port", "port", "Port", "text", |f| f.port.clone(), |f, v| f.port = v, None)}
                {text_field("f-database", "database", "Database", "text", |f| f.database.clone(), |f, v| f.database = v, None)}
                {text_field("f-user", "user", "User", "text", |f| f.user.clone(), |f, v| f.user = v, None)}
                <div class="field">
                    <div class="label-row">
                        <label for="f-password">"Password"</label>
                        <label class="check">
                            <input id="f-no-password" type="checkbox" prop:checked=no_password
                                on:change=move |ev| { let v = event_target_checked(&ev); ctx.form.update(|f| if let Some(f) = f { f.no_password = v }) }/>
                            "none"
                        </label>
                    </div>
                    <input id="f-password" type="password" autocomplete="off" disabled=no_password aria-describedby="password-hint"
                        placeholder=move || if ctx.form.with(|f| f.as_ref().is_some_and(|f| f.saved_password.is_some())) { "unchanged" } else { "" }
                        prop:value=move || ctx.form.with(|f| f.as_ref().map(|f| f.password.clone()).unwrap_or_default())
                        on:input=move |ev| { let v = event_target_value(&ev); ctx.form.update(|f| if let Some(f) = f { f.password = v }) }/>
                </div>
                <div class="field">
                    <label for="f-sslmode">"TLS (sslmode)"</label>
                    <select id="f-sslmode" prop:value=ssl on:change=move |ev| { let v = event_target_value(&ev); ctx.form.update(|f| if let Some(f) = f { f.sslmode = v }) }>
                        {["disable", "prefer", "require", "verify-ca", "verify-full"].into_iter().map(|m| view! { <option value=m selected=move || ssl() == m>{m}</option> }).collect_view()}
                    </select>
                </div>
                <div class="wide2">
                    {text_field("f-ca-file", "caFile", "CA certificate file (PEM, for verify-ca / verify-full)", "text", |f| f.ca_file.clone(), |f, v| f.ca_file = v, None)}
                </div>
                <div class="hint wide" id="password-hint">{move || ctx.form.with(|f| f.as_ref().map(|f| f.password_hint(ctx.info.with(|i| i.keychain_unavailable.clone()).as_deref())).unwrap_or_default())}</div>
            </div>
            <div class="form-actions">
                <button type="button" id="test-connection" on:click=test disabled=move || ctx.probing.get()>
                    {move || if ctx.probing.get() { "Testing…" } else { "Test connection" }}</button>
                <button type="submit" id="save-profile" class="primary">"Save"</button>
                <button type="button" id="cancel-edit" on:click=move |_| { ctx.form.set(None); ctx.probe.set(None); }>"Cancel"</button>
            </div>
            <ProbeResults/>
        </form>
    }
}

#[component]
fn ProbeResults() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    move || {
        ctx.probe.get().map(|rows| {
            view! {
                <ol class="probe" id="probe" aria-live="polite" aria-label="Connection test">
                    {rows.into_iter().map(|r| {
                        let (word, class) = logic::probe_status(r.result.as_ref().map(|s| s.status));
                        let detail = r.result.as_ref().map(|s| s.detail.clone()).unwrap_or_default();
                        let ms = r.result.as_ref().filter(|s| s.elapsed_ms > 0).map(|s| format!("{} ms", s.elapsed_ms));
                        let fix = r.result.as_ref().and_then(|s| s.error.clone());
                        view! {
                            <li class=format!("probe-step {class}") data-step=format!("{:?}", r.id).to_lowercase()>
                                <span class=format!("badge {class}")>{word}</span>
                                <div class="probe-body">
                                    <span class="probe-title">{r.title}</span>
                                    <span class="probe-detail">{detail}</span>
                                    <span class="muted ms">{ms}</span>
                                    {fix.map(|e| view! { <div class="fix"><strong>"Fix: "</strong>{e.fix}</div> })}
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ol>
            }
        })
    }
}

#[component]
fn PasswordPrompt() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let value = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if ctx.prompt.with(|p| p.is_some()) {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });
    let cancel = move || {
        ctx.prompt.set(None);
        value.set(String::new());
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(p) = ctx.prompt.get_untracked() else { return };
        let pw = value.get_untracked();
        cancel();
        spawn_local(async move {
            match api::remember_password(&p.profile.id, &pw).await {
                Ok(()) => {
                    ctx.refresh();
                    ctx.run_diagnosis(p.profile);
                }
                Err(e) => ctx.error(&e),
            }
        });
    };
    move || {
        ctx.prompt.get().map(|p| {
            view! {
                <div class="modal-backdrop">
                    <form class="modal" role="dialog" aria-modal="true" aria-labelledby="prompt-title" on:submit=submit
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { cancel() }>
                        <h2 id="prompt-title">{format!("Password for {}", p.profile.name)}</h2>
                        <p class="muted">{format!("{} — kept in memory until the app quits.", logic::profile_target(&p.profile))}</p>
                        {p.reason.map(|r| view! { <p class="field-error">{r}</p> })}
                        <input id="prompt-password" type="password" node_ref=input autocomplete="off" aria-label="Password"
                            prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                        <div class="form-actions">
                            <button type="submit" id="prompt-submit" class="primary">"Connect"</button>
                            <button type="button" on:click=move |_| cancel()>"Cancel"</button>
                        </div>
                    </form>
                </div>
            }
        })
    }
}

#[component]
fn DiagnosisScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let again = move |_| {
        if let Some(p) = ctx.diag_profile.get_untracked() {
            let ready = ctx.profiles.with_untracked(|l| l.iter().any(|e| e.profile.id == p.id && e.password_ready));
            ctx.start_diagnosis(ProfileEntry { profile: p, password_ready: ready });
        }
    };
    view! {
        <div class="diagnosis" id="diagnosis">
            {move || match ctx.diag_profile.get() {
                None => view! {
                    <div class="placeholder">
                        <h2>"No diagnosis yet"</h2>
                        <p>"Choose "<strong>"Diagnose"</strong>" on a saved connection."</p>
                        <button class="primary" on:click=move |_| ctx.screen.set(Screen::Connections)>"Go to connections"</button>
                    </div>
                }.into_any(),
                Some(p) => view! {
                    <div class="section-head">
                        <div>
                            <h2>{format!("Diagnosis — {}", p.name)}</h2>
                            <div class="muted mono">{logic::profile_target(&p)}</div>
                        </div>
                        <div class="form-actions">
                            <button id="diagnose-again" on:click=again disabled=move || matches!(ctx.diag.get(), DiagState::Running(_))>"Run again"</button>
                            {move || matches!(ctx.diag.get(), DiagState::Done(_)).then(|| {
                                let p = p.clone();
                                view! { <button id="fix-and-upgrade" class="primary" on:click=move |_| ctx.open_upgrade(p.clone())>"Fix and upgrade"</button> }
                            })}
                        </div>
                    </div>
                    {move || match ctx.diag.get() {
                        DiagState::Idle => view! { <p class="muted">"Waiting for the password…"</p> }.into_any(),
                        DiagState::Running(progress) => view! {
                            <div class="running" role="status" aria-live="polite" id="diagnosis-progress">
                                <span class="spinner" aria-hidden="true"></span>{progress.line()}
                            </div>
                        }.into_any(),
                        DiagState::Failed(e) => view! {
                            <div class="notice problem" role="alert" id="diagnosis-error">
                                <div><strong>{e.message.clone()}</strong><div>{format!("Fix: {}", e.fix)}</div></div>
                            </div>
                        }.into_any(),
                        DiagState::Done(d) => view! { <Report d=*d/> }.into_any(),
                    }}
                }.into_any(),
            }}
        </div>
    }
}

#[component]
pub(crate) fn Report(d: Diagnosis) -> impl IntoView {
    let summary = logic::summarize(&d);
    let s = d.server.clone();
    let w = d.dawarich.clone();
    let lock = d.lock.clone();
    let release = match (&w.release, &w.release_range) {
        (Some(r), Some((a, b))) if a != b => format!("{r} (same migrations as {a} – {b})"),
        (Some(r), _) => r.clone(),
        _ => "not recognised".into(),
    };
    let pending_schema = w.pending_schema.clone();
    let pending_data = w.pending_data.clone();
    let checks = logic::ordered_checks(&d);
    let yn = |b: bool| if b { "yes" } else { "no" };
    view! {
        <div class=format!("summary {}", summary.level.class()) id="summary" role="status">
            <div class="headline">{summary.headline.clone()}</div>
            {(!summary.reasons.is_empty()).then(|| view! {
                <ul class="reasons">{summary.reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul>
            })}
        </div>
        <div class="cards">
            <section class="card" id="card-release" aria-labelledby="h-release">
                <h3 id="h-release">"Dawarich"</h3>
                <dl>
                    <dt>"Release"</dt><dd id="release">{release}</dd>
                    <dt>"Environment"</dt><dd>{w.environment.clone().unwrap_or_else(|| "-".into())}</dd>
                    <dt>"Applied"</dt><dd>{format!("{} schema + {} data migrations", w.schema_versions.len(), w.data_versions.len())}</dd>
                    <dt>"Pending"</dt><dd id="pending">{format!("{} schema + {} data for {}", pending_schema.len(), pending_data.len(), w.newest_known_release)}</dd>
                </dl>
                {(!pending_schema.is_empty() || !pending_data.is_empty()).then(|| view! {
                    <details>
                        <summary>"Pending versions"</summary>
                        <div class="mono small">{pending_schema.iter().map(|v| format!("{v} (schema)")).chain(pending_data.iter().map(|v| format!("{v} (data)"))).collect::<Vec<_>>().join(", ")}</div>
                    </details>
                })}
                {(!w.unknown_newer_versions.is_empty()).then(|| view! {
                    <p class="field-error">{format!("Newer than this tool knows: {}", w.unknown_newer_versions.join(", "))}</p>
                })}
            </section>
            <section class="card" id="card-lock" aria-labelledby="h-lock">
                <h3 id="h-lock">"Migration lock"</h3>
                {if lock.holders.iter().all(|h| h.is_self) {
                    view! { <p><span class="badge ok">"Free"</span>" Nobody holds the Rails migration lock."</p> }.into_any()
                } else {
                    view! {
                        <ul class="holders">
                            {lock.holders.iter().filter(|h| !h.is_self).map(|h| {
                                let (word, class) = match h.verdict {
                                    HolderVerdict::Stale => ("Stale", "problem"),
                                    HolderVerdict::ActiveMigration => ("Active migration", "warning"),
                                    HolderVerdict::Unknown => ("Unknown", "muted"),
                                };
                                view! {
                                    <li class="holder">
                                        <span class=format!("badge {class}") data-verdict=h.verdict.as_str()>{word}</span>
                                        <span>{logic::describe_holder(h)}</span>
                                        {h.query.clone().map(|q| view! { <div class="mono small muted">{q}</div> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
                <div class="muted small mono">{format!("key {} (pg_locks classid {} objid {})", lock.key, lock.classid, lock.objid)}</div>
                {(!d.other_advisory_locks.is_empty()).then(|| view! {
                    <div class="muted small">{format!("{} other advisory locks (Dawarich jobs; never touched)", d.other_advisory_locks.len())}</div>
                })}
            </section>
            <section class="card" id="card-server" aria-labelledby="h-server">
                <h3 id="h-server">"Server"</h3>
                <dl>
                    <dt>"PostgreSQL"</dt><dd>{s.version.clone()}</dd>
                    <dt>"PostGIS"</dt><dd>{s.postgis_version.clone().unwrap_or_else(|| if s.postgis_available { "available, not installed".into() } else { "not available".into() })}</dd>
                    <dt>"Database"</dt><dd>{format!("{} ({})", s.database, logic::size(s.database_size_bytes))}</dd>
                    <dt>"User"</dt><dd>{format!("{} — superuser {}, owns tables {}", s.user, yn(s.privileges.superuser), yn(s.privileges.owns_tables))}</dd>
                </dl>
            </section>
        </div>
        <section class="checks" aria-labelledby="h-checks">
            <h3 id="h-checks">{format!("Checks ({} in {} ms)", checks.len(), d.elapsed_ms)}</h3>
            <table>
                <thead><tr><th scope="col">"Status"</th><th scope="col">"Check"</th><th scope="col" class="num">"Found"</th><th scope="col">"Blocks"</th></tr></thead>
                <tbody>
                    {checks.into_iter().map(|c| {
                        let (word, class) = logic::check_status(c.status);
                        let show_detail = matches!(c.status, CheckStatus::Problem | CheckStatus::Warning) || !c.detail.is_empty() && c.status != CheckStatus::Ok;
                        let count = c.count.map(|n| format!("{n}{}", if c.estimated { "~" } else { "" })).unwrap_or_else(|| "–".into());
                        view! {
                            <tr class=format!("check {class}") data-check=c.id.clone()>
                                <td><span class=format!("badge {class}")>{word}</span></td>
                                <td>
                                    <div class="check-title">{c.title.clone()}</div>
                                    {show_detail.then(|| view! { <div class="check-detail">{c.detail.clone()}</div> })}
                                    {(!c.sample.is_empty() && c.status != CheckStatus::Ok).then(|| view! { <div class="mono small muted">{format!("e.g. {}", c.sample.join("; "))}</div> })}
                                </td>
                                <td class="num count">{count}</td>
                                <td class="mono small">{if matches!(c.status, CheckStatus::Problem | CheckStatus::Warning) { c.blocks.join(", ") } else { String::new() }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}
