//! The Connections screen: the saved connections, the form (filled from a pasted URL or `.env`) and
//! the step-by-step connection test.

use dawarich_doctor_model::{
    validate_profile, Confirmation, ErrorReport, FieldError, ParsedConnection, PasswordOutcome, PasswordSource,
    ProbeStatus, ProbeStep, ProbeStepId, Profile, SslMode,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Shared;
use crate::format::{error_line, profile_target, Level};
use crate::screens::diagnosis::DiagnosisState;

/// The screen's state, kept across tab switches.
#[derive(Clone, Copy)]
pub struct ConnectionsState {
    /// The connection being edited, if any.
    form: RwSignal<Option<ProfileForm>>,
    form_errors: RwSignal<Vec<FieldError>>,
    /// The connection test's rows, while and after it runs.
    probe: RwSignal<Option<Vec<StepRow>>>,
    probing: RwSignal<bool>,
    /// Starts the demo database (its answer is shown when it arrives, whatever the screen).
    demo: Action<(), Result<Profile, ErrorReport>>,
}

impl ConnectionsState {
    pub fn new(shared: Shared) -> Self {
        let demo = Action::new_local(|_: &()| api::open_demo());
        Effect::new(move |_| match demo.value().get() {
            Some(Ok(p)) => {
                shared.notify(Level::Good, format!("Started \u{201c}{}\u{201d}: a throwaway database with a stale lock, ownerless points and pending migrations. It is removed when the app quits.", p.name));
                shared.refresh();
            }
            Some(Err(e)) => shared.error(&e),
            None => {}
        });
        ConnectionsState {
            form: RwSignal::new(None),
            form_errors: RwSignal::new(Vec::new()),
            probe: RwSignal::new(None),
            probing: RwSignal::new(false),
            demo,
        }
    }

    /// Opens the form on `form`, with no error and no test result.
    fn edit(self, form: ProfileForm) {
        self.form.set(Some(form));
        self.form_errors.set(Vec::new());
        self.probe.set(None);
    }
}

/// The connection form as typed (every field a string until saved).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileForm {
    pub id: String,
    pub name: String,
    pub host: String,
    pub port: String,
    pub database: String,
    pub user: String,
    /// Typed or pasted; empty on an existing profile means "keep the saved password".
    pub password: String,
    /// The profile needs no password (trust / peer authentication).
    pub no_password: bool,
    pub sslmode: String,
    pub ca_file: String,
    pub application_name: String,
    /// Where the saved password is (for the hint under the field).
    pub saved_password: Option<PasswordSource>,
    /// The profile being edited: fields the form does not show are kept from it.
    pub base: Profile,
}

impl ProfileForm {
    /// An empty form for a new connection, with PostgreSQL's and Dawarich's defaults.
    pub fn new_profile() -> Self {
        let mut f = Self::from_profile(&Profile::default());
        f.saved_password = None;
        f.no_password = false;
        f
    }

    pub fn from_profile(p: &Profile) -> Self {
        ProfileForm {
            id: p.id.clone(),
            name: p.name.clone(),
            host: p.host.clone(),
            port: p.port.to_string(),
            database: p.database.clone(),
            user: p.user.clone(),
            password: String::new(),
            no_password: p.password == PasswordSource::None,
            sslmode: p.sslmode.as_str().to_string(),
            ca_file: p.ca_file.clone().unwrap_or_default(),
            application_name: p.application_name.clone(),
            saved_password: if p.id.is_empty() {
                None
            } else {
                Some(p.password.clone())
            },
            base: p.clone(),
        }
    }

    /// Fills the form from a pasted URL / `.env`, keeping the id and (if the paste has none) the name.
    pub fn apply_parsed(&mut self, parsed: &ParsedConnection) {
        let keep_id = self.id.clone();
        let keep_name = self.name.clone();
        let saved = self.saved_password.clone();
        let base = self.base.clone();
        *self = Self::from_profile(&parsed.profile);
        self.id = keep_id;
        self.saved_password = saved;
        self.base = base;
        if !keep_name.trim().is_empty() {
            self.name = keep_name;
        }
        self.password = parsed.password.clone().unwrap_or_default();
        self.no_password = parsed.password.is_none()
            && parsed.profile.password == PasswordSource::None
            && self.saved_password.is_none();
    }

    /// The profile to save or test, or the fields to fix.
    pub fn to_profile(&self) -> Result<Profile, Vec<FieldError>> {
        let mut errors = Vec::new();
        let port = match self.port.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                errors.push(FieldError {
                    field: "port".into(),
                    message: "The port is a number from 1 to 65535 (PostgreSQL's default is 5432).".into(),
                });
                5432
            }
        };
        let sslmode = SslMode::parse(self.sslmode.trim()).unwrap_or_default();
        let p = Profile {
            id: self.id.clone(),
            name: self.name.trim().to_string(),
            host: self.host.trim().to_string(),
            port,
            database: self.database.trim().to_string(),
            user: self.user.trim().to_string(),
            password: if self.no_password {
                PasswordSource::None
            } else {
                self.saved_password.clone().unwrap_or(PasswordSource::Ask)
            },
            sslmode,
            ca_file: Some(self.ca_file.trim().to_string()).filter(|c| !c.is_empty()),
            application_name: if self.application_name.trim().is_empty() {
                dawarich_doctor_model::APPLICATION_NAME.into()
            } else {
                self.application_name.trim().to_string()
            },
            ..self.base.clone()
        };
        let port_reported = !errors.is_empty();
        errors.extend(
            validate_profile(&p)
                .into_iter()
                .filter(|e| !(port_reported && e.field == "port")),
        );
        if errors.is_empty() {
            Ok(p)
        } else {
            Err(errors)
        }
    }

    /// The password argument of `save_profile`: `Some("")` for "no password", `None` to keep the
    /// saved one, else the typed one.
    pub fn password_arg(&self) -> Option<String> {
        if self.no_password {
            Some(String::new())
        } else if self.password.is_empty() {
            None
        } else {
            Some(self.password.clone())
        }
    }

    /// The hint under the password field.
    pub fn password_hint(&self, keychain_unavailable: Option<&str>) -> String {
        if self.no_password {
            return "No password: trust or peer authentication.".into();
        }
        let keep = match (&self.saved_password, self.password.is_empty()) {
            (Some(PasswordSource::Keychain), true) => {
                return "Saved in the OS keychain. Type a new one to replace it.".into()
            }
            (Some(PasswordSource::Ask), true) => return "Not stored: you are asked for it once per run.".into(),
            _ => "",
        };
        match keychain_unavailable {
            Some(reason) => {
                format!("{keep}Not stored on disk: {reason}; the password is kept in memory until the app quits.")
            }
            None => format!("{keep}Stored in the OS keychain when you save, never in the settings file."),
        }
    }
}

/// The message for `field`, if the last validation found one.
pub fn field_error<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
}

/// One row of the connection test as shown while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub id: ProbeStepId,
    pub title: &'static str,
    /// `None` while waiting for the result.
    pub result: Option<ProbeStep>,
}

/// Every step, waiting.
pub fn pending_steps() -> Vec<StepRow> {
    ProbeStepId::ALL
        .iter()
        .map(|id| StepRow {
            id: *id,
            title: id.title(),
            result: None,
        })
        .collect()
}

/// Records a step that finished.
pub fn apply_step(rows: &mut [StepRow], step: ProbeStep) {
    if let Some(r) = rows.iter_mut().find(|r| r.id == step.id) {
        r.result = Some(step);
    }
}

/// The word and CSS class for a step's status.
pub fn probe_status(s: Option<ProbeStatus>) -> (&'static str, &'static str) {
    match s {
        None => ("…", "pending"),
        Some(ProbeStatus::Ok) => ("OK", "ok"),
        Some(ProbeStatus::Warning) => ("Warning", "warning"),
        Some(ProbeStatus::Failed) => ("Failed", "problem"),
        Some(ProbeStatus::Skipped) => ("Skipped", "muted"),
    }
}

/// Deleting a saved connection (the database is not touched).
pub fn confirm_delete(p: &Profile) -> Confirmation {
    Confirmation {
        title: format!("Delete \u{201c}{}\u{201d}?", p.name),
        message: format!("Delete the saved connection \u{201c}{}\u{201d} ({})? Its saved password is forgotten too. The database itself is not touched.", p.name, profile_target(p)),
        ok: "Delete".into(),
    }
}

#[component]
pub fn Connections() -> impl IntoView {
    let (shared, st) = (expect_context::<Shared>(), expect_context::<ConnectionsState>());
    let new_connection = move |_| st.edit(ProfileForm::new_profile());
    let (open_demo, demo_starting) = (st.demo, st.demo.pending());
    view! {
        <div class="connections">
            <section class="list" aria-labelledby="connections-title">
                <div class="section-head">
                    <h2 id="connections-title">"Connections"</h2>
                    <div class="form-actions head-actions">
                        {move || shared.info().demo_available.then(|| view! {
                            <button id="open-demo" disabled=move || demo_starting.get() on:click=move |_| { open_demo.dispatch_local(()); }
                                title="A throwaway local database with a broken Dawarich 0.9.11, removed when the app quits">
                                {move || if demo_starting.get() { "Starting demo…" } else { "Open demo database" }}
                            </button>
                        })}
                        {move || shared.info().demo_missing.map(|m| view! {
                            <button id="open-demo" disabled=true title=m.install_command>"Open demo database"</button>
                        })}
                        <button id="new-connection" class="primary" on:click=new_connection>"+ New connection"</button>
                    </div>
                </div>
                {move || shared.info().demo_missing.map(|m| view! {
                    <p class="notice warning" role="status" id="demo-missing"><span>{m.message}". To install:"<br/><code>{m.install_command}</code></span></p>
                })}
                {move || shared.info().profiles_notice.map(|n| view! { <p class="notice warning" role="status" id="profiles-notice">{n}</p> })}
                <Transition fallback=|| view! { <div class="running" role="status"><span class="spinner" aria-hidden="true"></span>"Loading…"</div> }>
                    {move || Suspend::new(async move {
                        match shared.profiles.await {
                            Err(e) => view! { <div class="notice problem" role="alert">{error_line(&e)}</div> }.into_any(),
                            Ok(list) if list.is_empty() => view! {
                                <p class="empty">"No saved connection yet. Add one with "<strong>"New connection"</strong>
                                ": paste the postgres:// URL or the .env of your Dawarich."</p>
                            }.into_any(),
                            Ok(_) => view! {
                                <ul class="profiles">
                                    <For each=move || shared.entries().into_iter().map(|e| e.profile.id) key=|id| id.clone() children=move |id| view! { <ProfileCard id/> }/>
                                </ul>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <section class="editor" aria-label="Connection details">
                {move || if st.form.with(|f| f.is_some()) {
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

/// One saved connection, kept up to date with the list by its id.
#[component]
fn ProfileCard(id: String) -> impl IntoView {
    let (shared, st, diag) = (
        expect_context::<Shared>(),
        expect_context::<ConnectionsState>(),
        expect_context::<DiagnosisState>(),
    );
    let entry = move || shared.entries().into_iter().find(|e| e.profile.id == id);
    move || {
        entry().map(|entry| {
        let p = entry.profile.clone();
        let id = p.id.clone();
        let (e1, p2, p3, id3, id4) = (entry.clone(), p.clone(), p.clone(), id.clone(), id.clone());
        let editing = {
            let id = id.clone();
            move || st.form.with(|f| f.as_ref().is_some_and(|f| f.id == id))
        };
        let lock = if entry.password_ready { "" } else { "password asked when connecting" };
        view! {
            <li class="profile-card" class:selected=editing data-profile=id.clone()>
                <div class="profile-main">
                    <div class="profile-name">{p.name.clone()}</div>
                    <div class="profile-target mono">{profile_target(&p)}</div>
                    <div class="profile-meta muted">{format!("sslmode {}", p.sslmode.as_str())}{(!lock.is_empty()).then(|| format!(" · {lock}"))}</div>
                </div>
                <div class="profile-actions">
                    <button class="primary diagnose" on:click=move |_| diag.start(e1.clone())>"Diagnose"</button>
                    <button class="edit" on:click=move |_| st.edit(ProfileForm::from_profile(&p2))>"Edit"</button>
                    <button class="duplicate" on:click=move |_| {
                        let id = id3.clone();
                        spawn_local(async move {
                            match api::duplicate_profile(&id).await {
                                Ok(p) => {
                                    shared.notify(Level::Good, format!("Duplicated as \u{201c}{}\u{201d}.", p.name));
                                    shared.refresh();
                                }
                                Err(e) => shared.error(&e),
                            }
                        });
                    }>"Duplicate"</button>
                    <button class="delete" on:click=move |_| {
                        let (id, p) = (id4.clone(), p3.clone());
                        spawn_local(async move {
                            let question = confirm_delete(&p);
                            if shared.confirmed(&question, api::delete_profile(&id, &question)).await.is_some() {
                                if st.form.with_untracked(|f| f.as_ref().is_some_and(|f| f.id == id)) {
                                    st.form.set(None);
                                }
                                shared.refresh();
                            }
                        });
                    }>"Delete"</button>
                </div>
            </li>
        }
    })
    }
}

type Getter = fn(&ProfileForm) -> String;
type Setter = fn(&mut ProfileForm, String);

fn text_field(
    id: &'static str,
    field: &'static str,
    label: &'static str,
    kind: &'static str,
    get: Getter,
    set: Setter,
    hint: Option<&'static str>,
) -> impl IntoView {
    let st = expect_context::<ConnectionsState>();
    let error = move || st.form_errors.with(|e| field_error(e, field).map(String::from));
    view! {
        <div class="field" class:invalid=move || error().is_some()>
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete="off" spellcheck="false"
                aria-invalid=move || if error().is_some() { "true" } else { "false" }
                prop:value=move || st.form.with(|f| f.as_ref().map(get).unwrap_or_default())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    st.form.update(|f| if let Some(f) = f { set(f, v) });
                }/>
            {move || error().map(|e| view! { <div class="field-error">{e}</div> })}
            {hint.map(|h| view! { <div class="hint">{h}</div> })}
        </div>
    }
}

#[component]
fn ProfileEditor() -> impl IntoView {
    let (shared, st) = (expect_context::<Shared>(), expect_context::<ConnectionsState>());
    let paste = RwSignal::new(String::new());
    let fill = move |_| {
        let text = paste.get_untracked();
        spawn_local(async move {
            match api::parse_connection(&text).await {
                Ok(parsed) => {
                    st.form.update(|f| {
                        if let Some(f) = f {
                            f.apply_parsed(&parsed)
                        }
                    });
                    st.form_errors.set(Vec::new());
                    shared.notice.set(None);
                    paste.set(String::new());
                }
                Err(e) => shared.error(&e),
            }
        });
    };
    let test = move |_| {
        let Some(form) = st.form.get_untracked() else { return };
        let profile = match form.to_profile() {
            Ok(p) => p,
            Err(errors) => return st.form_errors.set(errors),
        };
        st.form_errors.set(Vec::new());
        st.probe.set(Some(pending_steps()));
        st.probing.set(true);
        request_animation_frame(|| {
            if let Some(el) = document().get_element_by_id("probe") {
                el.scroll_into_view_with_bool(false);
            }
        });
        let password = Some(form.password.clone()).filter(|p| !p.is_empty() && !form.no_password);
        spawn_local(async move {
            let on_step = move |s| {
                st.probe.update(|rows| {
                    if let Some(rows) = rows {
                        apply_step(rows, s)
                    }
                })
            };
            match api::test_connection(&profile, password, on_step).await {
                Ok(report) => st.probe.set(Some({
                    let mut rows = pending_steps();
                    for s in report.steps {
                        apply_step(&mut rows, s);
                    }
                    rows
                })),
                Err(e) => {
                    st.probe.set(None);
                    shared.error(&e);
                }
            }
            st.probing.set(false);
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = st.form.get_untracked() else { return };
        let profile = match form.to_profile() {
            Ok(p) => p,
            Err(errors) => return st.form_errors.set(errors),
        };
        spawn_local(async move {
            match api::save_profile(&profile, form.password_arg()).await {
                Ok(saved) => {
                    let how = match saved.password {
                        PasswordOutcome::Keychain => " The password is in the OS keychain.".to_string(),
                        PasswordOutcome::MemoryOnly { reason } => format!(" The password is not stored: {reason}; it is kept in memory until the app quits and asked for on the next run."),
                        _ => String::new(),
                    };
                    shared.notify(
                        Level::Good,
                        format!("Saved \u{201c}{}\u{201d}.{how}", saved.profile.name),
                    );
                    st.form.set(None);
                    st.probe.set(None);
                    shared.refresh();
                }
                Err(e) => shared.error(&e),
            }
        });
    };
    let is_new = move || st.form.with(|f| f.as_ref().is_none_or(|f| f.id.is_empty()));
    let no_password = move || st.form.with(|f| f.as_ref().is_some_and(|f| f.no_password));
    let ssl = move || {
        st.form
            .with(|f| f.as_ref().map(|f| f.sslmode.clone()).unwrap_or_default())
    };
    view! {
        <form class="editor-form" on:submit=save on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { st.form.set(None) }>
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
                                on:change=move |ev| { let v = event_target_checked(&ev); st.form.update(|f| if let Some(f) = f { f.no_password = v }) }/>
                            "none"
                        </label>
                    </div>
                    <input id="f-password" type="password" autocomplete="off" disabled=no_password aria-describedby="password-hint"
                        placeholder=move || if st.form.with(|f| f.as_ref().is_some_and(|f| f.saved_password.is_some())) { "unchanged" } else { "" }
                        prop:value=move || st.form.with(|f| f.as_ref().map(|f| f.password.clone()).unwrap_or_default())
                        on:input=move |ev| { let v = event_target_value(&ev); st.form.update(|f| if let Some(f) = f { f.password = v }) }/>
                </div>
                <div class="field">
                    <label for="f-sslmode">"TLS (sslmode)"</label>
                    <select id="f-sslmode" prop:value=ssl on:change=move |ev| { let v = event_target_value(&ev); st.form.update(|f| if let Some(f) = f { f.sslmode = v }) }>
                        {["disable", "prefer", "require", "verify-ca", "verify-full"].into_iter().map(|m| view! { <option value=m selected=move || ssl() == m>{m}</option> }).collect_view()}
                    </select>
                </div>
                <div class="wide2">
                    {text_field("f-ca-file", "caFile", "CA certificate file (PEM, for verify-ca / verify-full)", "text", |f| f.ca_file.clone(), |f, v| f.ca_file = v, None)}
                </div>
                <div class="hint wide" id="password-hint">{move || st.form.with(|f| f.as_ref().map(|f| f.password_hint(shared.info().keychain_unavailable.as_deref())).unwrap_or_default())}</div>
            </div>
            <div class="form-actions">
                <button type="button" id="test-connection" on:click=test disabled=move || st.probing.get()>
                    {move || if st.probing.get() { "Testing…" } else { "Test connection" }}</button>
                <button type="submit" id="save-profile" class="primary">"Save"</button>
                <button type="button" id="cancel-edit" on:click=move |_| { st.form.set(None); st.probe.set(None); }>"Cancel"</button>
            </div>
            <ProbeResults/>
        </form>
    }
}

#[component]
fn ProbeResults() -> impl IntoView {
    let st = expect_context::<ConnectionsState>();
    move || {
        st.probe.get().map(|rows| {
            view! {
                <ol class="probe" id="probe" aria-live="polite" aria-label="Connection test">
                    {rows.into_iter().map(|r| {
                        let (word, class) = probe_status(r.result.as_ref().map(|s| s.status));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_form_round_trips_a_profile_and_reports_bad_fields() {
        let p = Profile {
            id: "p1".into(),
            name: "home".into(),
            password: PasswordSource::Keychain,
            sslmode: SslMode::Require,
            ..Profile::default()
        };
        let f = ProfileForm::from_profile(&p);
        assert_eq!(f.to_profile().unwrap(), p);
        assert_eq!(
            f.password_arg(),
            None,
            "an untouched password field keeps the saved one"
        );
        let mut bad = f.clone();
        bad.port = "99999".into();
        bad.host = " ".into();
        let errs = bad.to_profile().unwrap_err();
        assert_eq!(field_error(&errs, "port").map(|m| m.contains("65535")), Some(true));
        assert!(field_error(&errs, "host").is_some());
        assert_eq!(errs.iter().filter(|e| e.field == "port").count(), 1);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn pasting_a_url_fills_the_form_and_keeps_the_name() {
        let mut f = ProfileForm::new_profile();
        f.name = "My server".into();
        let parsed = ParsedConnection {
            profile: Profile {
                host: "10.0.0.5".into(),
                port: 5433,
                database: "dawarich_production".into(),
                user: "dw".into(),
                name: "dawarich_production@10.0.0.5".into(),
                ..Profile::default()
            },
            password: Some("pw".into()),
        };
        f.apply_parsed(&parsed);
        assert_eq!(
            (f.name.as_str(), f.host.as_str(), f.port.as_str(), f.password.as_str()),
            ("My server", "10.0.0.5", "5433", "pw")
        );
        assert_eq!(f.password_arg().as_deref(), Some("pw"));
        let mut g = ProfileForm::new_profile();
        g.apply_parsed(&parsed);
        assert_eq!(g.name, "dawarich_production@10.0.0.5");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_password_hint_tells_where_it_goes() {
        let mut f = ProfileForm::new_profile();
        assert!(f.password_hint(None).contains("OS keychain"));
        assert!(f.password_hint(Some("no secret service")).contains("kept in memory"));
        f.no_password = true;
        assert_eq!(f.password_arg().as_deref(), Some(""));
        f.no_password = false;
        f.saved_password = Some(PasswordSource::Keychain);
        assert!(f.password_hint(None).starts_with("Saved in the OS keychain"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn probe_rows_fill_in_as_steps_arrive() {
        let mut rows = pending_steps();
        assert_eq!(rows.len(), 5);
        apply_step(
            &mut rows,
            ProbeStep {
                id: ProbeStepId::Tls,
                status: ProbeStatus::Warning,
                detail: "no TLS".into(),
                error: None,
                elapsed_ms: 1,
            },
        );
        assert_eq!(rows[1].result.as_ref().map(|r| r.status), Some(ProbeStatus::Warning));
        assert!(rows[0].result.is_none());
        assert_eq!(probe_status(None).1, "pending");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn deleting_a_connection_says_the_database_is_not_touched() {
        let del = confirm_delete(&Profile {
            name: "Home".into(),
            user: "postgres".into(),
            host: "db".into(),
            port: 5432,
            database: "dawarich".into(),
            ..Profile::default()
        });
        assert_eq!(del.title, "Delete \u{201c}Home\u{201d}?");
        assert!(
            del.message.contains("(postgres@db:5432/dawarich)")
                && del.message.contains("not touched")
                && del.ok == "Delete",
            "{del:?}"
        );
    }
}
