//! The Diagnosis screen: why the upgrade fails (a read-only diagnosis of a saved connection), with
//! the password asked for first when none is at hand.

use dawarich_doctor_model::{
    Check, CheckStatus, Diagnosis, ErrorKind, ErrorReport, HolderVerdict, Profile, ProfileEntry, ProgressEvent,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::{Screen, Shared};
use crate::format::{describe_holder, holder_badge, profile_target, size, Level};
use crate::screens::containers::ContainersCard;
use crate::screens::upgrade::UpgradeState;

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

/// The screen's state, kept across tab switches.
#[derive(Clone, Copy)]
pub struct DiagnosisState {
    shared: Shared,
    /// The connection diagnosed last.
    pub profile: RwSignal<Option<Profile>>,
    diag: RwSignal<DiagState>,
    prompt: RwSignal<Option<Prompt>>,
}

impl DiagnosisState {
    pub fn new(shared: Shared) -> Self {
        DiagnosisState {
            shared,
            profile: RwSignal::new(None),
            diag: RwSignal::new(DiagState::Idle),
            prompt: RwSignal::new(None),
        }
    }

    /// Diagnoses a saved profile, asking for its password first when none is at hand.
    pub fn start(self, entry: ProfileEntry) {
        self.shared.screen.set(Screen::Diagnosis);
        self.shared.notice.set(None);
        self.profile.set(Some(entry.profile.clone()));
        if !entry.password_ready {
            self.diag.set(DiagState::Idle);
            self.prompt.set(Some(Prompt {
                profile: entry.profile,
                reason: None,
            }));
            return;
        }
        self.run(entry.profile);
    }

    fn run(self, profile: Profile) {
        self.diag.set(DiagState::Running(DiagnoseProgress::default()));
        let (diag, prompt) = (self.diag, self.prompt);
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
                    prompt.set(Some(Prompt {
                        profile,
                        reason: Some(e.message),
                    }));
                }
                Err(e) => diag.set(DiagState::Failed(e)),
            }
        });
    }
}

/// The answer to "why does my upgrade fail", from a diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub level: Level,
    pub headline: String,
    /// One line per cause, worst first.
    pub reasons: Vec<String>,
}

pub fn summarize(d: &Diagnosis) -> Summary {
    let mut reasons: Vec<(Level, String)> = Vec::new();
    let w = &d.dawarich;
    for h in d.lock.holders.iter().filter(|h| !h.is_self) {
        let level = if h.verdict == HolderVerdict::Stale {
            Level::Blocked
        } else {
            Level::Attention
        };
        reasons.push((level, format!("The migration lock is held: {}.", describe_holder(h))));
    }
    for c in d.checks.iter().filter(|c| c.status == CheckStatus::Problem) {
        let blocks = if c.blocks.is_empty() {
            String::new()
        } else {
            format!(" (blocks {})", c.blocks.join(", "))
        };
        reasons.push((Level::Blocked, format!("{}: {}{blocks}.", c.title, count_text(c))));
    }
    if !w.unknown_newer_versions.is_empty() {
        reasons.push((
            Level::Blocked,
            format!(
                "A newer Dawarich than this tool knows already migrated this database ({}).",
                w.unknown_newer_versions.join(", ")
            ),
        ));
    }
    for c in d.checks.iter().filter(|c| c.status == CheckStatus::Warning) {
        reasons.push((Level::Attention, format!("{}: {}.", c.title, count_text(c))));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
    let level = reasons.iter().map(|r| r.0).max().unwrap_or(Level::Good);
    let pending = w.pending_schema.len() + w.pending_data.len();
    let release = w
        .release
        .as_deref()
        .map(|r| format!("Dawarich {r}"))
        .unwrap_or_else(|| "This Dawarich release".into());
    let headline = match (level, pending) {
        (Level::Blocked, _) => {
            let n = reasons.iter().filter(|r| r.0 == Level::Blocked).count();
            format!(
                "{release}: the upgrade to {} will fail — {n} blocker{} found.",
                w.newest_known_release,
                if n == 1 { "" } else { "s" }
            )
        }
        (Level::Attention, _) => format!(
            "{release}: no blocker found, but look at the warnings before upgrading to {}.",
            w.newest_known_release
        ),
        (Level::Good, 0) => format!(
            "{release} is up to date with {} and nothing blocks it.",
            w.newest_known_release
        ),
        (Level::Good, n) => format!(
            "{release}: nothing blocks the upgrade to {} ({n} migrations pending).",
            w.newest_known_release
        ),
    };
    Summary {
        level,
        headline,
        reasons: reasons.into_iter().map(|r| r.1).collect(),
    }
}

/// "7 rows" / "7 rows (estimate)" / "not counted".
pub fn count_text(c: &Check) -> String {
    match c.count {
        Some(n) if c.estimated => format!("about {n} found"),
        Some(n) => format!("{n} found"),
        None => "not counted".into(),
    }
}

/// The word and CSS class for a check's status.
pub fn check_status(s: CheckStatus) -> (&'static str, &'static str) {
    match s {
        CheckStatus::Ok => ("OK", "ok"),
        CheckStatus::Problem => ("Problem", "problem"),
        CheckStatus::Warning => ("Warning", "warning"),
        CheckStatus::NotApplicable => ("N/A", "muted"),
        CheckStatus::Skipped => ("Skipped", "muted"),
    }
}

/// Checks in the order to read them: problems, warnings, then the rest (stable otherwise).
pub fn ordered_checks(d: &Diagnosis) -> Vec<Check> {
    let rank = |s: CheckStatus| match s {
        CheckStatus::Problem => 0,
        CheckStatus::Warning => 1,
        CheckStatus::Ok => 2,
        CheckStatus::Skipped => 3,
        CheckStatus::NotApplicable => 4,
    };
    let mut v = d.checks.clone();
    v.sort_by_key(|c| rank(c.status));
    v
}

/// Live state of a running diagnosis, from the core's progress events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiagnoseProgress {
    pub current: Option<String>,
    pub finished: usize,
    /// Rows scanned of the current full scan.
    pub scan: Option<(u64, Option<u64>)>,
    pub warnings: Vec<String>,
}

impl DiagnoseProgress {
    pub fn apply(&mut self, e: &ProgressEvent) {
        match e {
            ProgressEvent::StepStarted { title, .. } => {
                self.current = Some(title.clone());
                self.scan = None;
            }
            ProgressEvent::StepProgress { done, total, .. } => self.scan = Some((*done, *total)),
            ProgressEvent::StepFinished { .. } => {
                self.finished += 1;
                self.scan = None;
            }
            ProgressEvent::Warning { message, .. } => self.warnings.push(message.clone()),
            ProgressEvent::Done { message, .. } => self.current = Some(message.clone()),
            ProgressEvent::Plan { .. }
            | ProgressEvent::Waiting { .. }
            | ProgressEvent::Output { .. }
            | ProgressEvent::Transfer { .. } => {}
        }
    }

    pub fn line(&self) -> String {
        let mut s = match &self.current {
            Some(c) => format!("Check {}: {c}", self.finished + 1),
            None => "Connecting…".into(),
        };
        if let Some((done, total)) = self.scan {
            match total {
                Some(t) if t > 0 => s += &format!(" — scanned {done} of {t} ({}%)", done * 100 / t),
                _ => s += &format!(" — scanned {done}"),
            }
        }
        s
    }
}

#[component]
pub fn PasswordPrompt() -> impl IntoView {
    let (shared, st) = (expect_context::<Shared>(), expect_context::<DiagnosisState>());
    let value = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if st.prompt.with(|p| p.is_some()) {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        }
    });
    let cancel = move || {
        st.prompt.set(None);
        value.set(String::new());
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(p) = st.prompt.get_untracked() else { return };
        let pw = value.get_untracked();
        cancel();
        spawn_local(async move {
            match api::remember_password(&p.profile.id, &pw).await {
                Ok(()) => {
                    shared.refresh();
                    st.run(p.profile);
                }
                Err(e) => shared.error(&e),
            }
        });
    };
    move || {
        st.prompt.get().map(|p| {
            view! {
                <div class="modal-backdrop">
                    <form class="modal" role="dialog" aria-modal="true" aria-labelledby="prompt-title" on:submit=submit
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { cancel() }>
                        <h2 id="prompt-title">{format!("Password for {}", p.profile.name)}</h2>
                        <p class="muted">{format!("{} — kept in memory until the app quits.", profile_target(&p.profile))}</p>
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
pub fn DiagnosisScreen() -> impl IntoView {
    let (shared, st, upgrade) = (
        expect_context::<Shared>(),
        expect_context::<DiagnosisState>(),
        expect_context::<UpgradeState>(),
    );
    let again = move |_| {
        if let Some(p) = st.profile.get_untracked() {
            let ready = shared.password_ready(&p.id);
            st.start(ProfileEntry {
                profile: p,
                password_ready: ready,
            });
        }
    };
    view! {
        <div class="diagnosis" id="diagnosis">
            {move || match st.profile.get() {
                None => view! {
                    <div class="placeholder">
                        <h2>"No diagnosis yet"</h2>
                        <p>"Choose "<strong>"Diagnose"</strong>" on a saved connection."</p>
                        <button class="primary" on:click=move |_| shared.screen.set(Screen::Connections)>"Go to connections"</button>
                    </div>
                }.into_any(),
                Some(p) => view! {
                    <div class="section-head">
                        <div>
                            <h2>{format!("Diagnosis — {}", p.name)}</h2>
                            <div class="muted mono">{profile_target(&p)}</div>
                        </div>
                        <div class="form-actions">
                            <button id="diagnose-again" on:click=again disabled=move || matches!(st.diag.get(), DiagState::Running(_))>"Run again"</button>
                            {move || matches!(st.diag.get(), DiagState::Done(_)).then(|| {
                                let p = p.clone();
                                view! { <button id="fix-and-upgrade" class="primary" on:click=move |_| upgrade.open(p.clone())>"Fix and upgrade"</button> }
                            })}
                        </div>
                    </div>
                    {move || match st.diag.get() {
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
                        DiagState::Done(d) => view! {
                            <Report d=*d/>
                            {st.profile.get_untracked().map(|p| view! { <ContainersCard id=p.id/> })}
                        }.into_any(),
                    }}
                }.into_any(),
            }}
        </div>
    }
}

#[component]
pub fn Report(d: Diagnosis) -> impl IntoView {
    let summary = summarize(&d);
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
    let checks = ordered_checks(&d);
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
                                let (word, class) = holder_badge(h.verdict);
                                view! {
                                    <li class="holder">
                                        <span class=format!("badge {class}") data-verdict=h.verdict.as_str()>{word}</span>
                                        <span>{describe_holder(h)}</span>
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
                    <dt>"Database"</dt><dd>{format!("{} ({})", s.database, size(s.database_size_bytes))}</dd>
                    <dt>"User"</dt><dd>{format!("{} — superuser {}, owns tables {}", s.user, yn(s.privileges.superuser), yn(s.privileges.owns_tables))}</dd>
                </dl>
            </section>
        </div>
        <section class="checks" aria-labelledby="h-checks">
            <h3 id="h-checks">{format!("Checks ({} in {} ms)", checks.len(), d.elapsed_ms)}</h3>
            <table>
                <thead><tr><th scope="col">"Status"</th><th scope="col">"Check"</th><th scope="col" class="num">"Found"</th><th scope="col">"Blocks"</th></tr></thead>
                <tbody>
                    <For each=move || checks.clone() key=|c| c.id children=|c| {
                        let (word, class) = check_status(c.status);
                        let show_detail = matches!(c.status, CheckStatus::Problem | CheckStatus::Warning) || !c.detail.is_empty() && c.status != CheckStatus::Ok;
                        let count = c.count.map(|n| format!("{n}{}", if c.estimated { "~" } else { "" })).unwrap_or_else(|| "–".into());
                        view! {
                            <tr class=format!("check {class}") data-check=c.id.as_str()>
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
                    }/>
                </tbody>
            </table>
        </section>
    }
}

/// A diagnosis with a stale lock holder, a blocking check and a warning (tests only).
#[cfg(test)]
pub(crate) fn sample_diagnosis() -> dawarich_doctor_model::Diagnosis {
    use dawarich_doctor_model::*;
    Diagnosis {
        server: ServerInfo {
            version: "15.8".into(),
            version_num: 150008,
            postgis_version: Some("3.3.2".into()),
            postgis_available: true,
            database: "dawarich_development".into(),
            database_size_bytes: 12 * 1024 * 1024,
            user: "postgres".into(),
            privileges: Privileges {
                superuser: true,
                signal_backend: true,
                owns_tables: true,
                can_create_extension: true,
            },
            in_recovery: false,
        },
        dawarich: DawarichState {
            release: Some("1.3.1".into()),
            release_range: Some(("1.3.1".into(), "1.3.1".into())),
            schema_versions: vec![],
            data_versions: vec![],
            stray_versions: vec![],
            unknown_newer_versions: vec![],
            pending_schema: vec!["20250101000000".into()],
            pending_data: vec![],
            environment: Some("development".into()),
            newest_known_release: "1.7.5".into(),
        },
        lock: LockReport {
            key: 1,
            classid: 0,
            objid: 1,
            held: true,
            holders: vec![LockHolder {
                pid: 4242,
                state: Some("idle".into()),
                client_addr: Some("172.18.0.3".into()),
                application_name: Some("bin/rails".into()),
                user: Some("postgres".into()),
                backend_start: None,
                state_age_secs: Some(600.0),
                query: Some("SELECT pg_try_advisory_lock(1)".into()),
                verdict: HolderVerdict::Stale,
                is_self: false,
            }],
        },
        other_advisory_locks: vec![],
        checks: vec![
            Check {
                elapsed_ms: 1,
                ..Check::new(CheckId::Postgis, "Fine")
            },
            Check {
                status: CheckStatus::Problem,
                count: Some(7),
                sample: vec!["id 1".into()],
                blocks: vec!["20240815174852".into()],
                detail: "7 points".into(),
                elapsed_ms: 1,
                ..Check::new(CheckId::PointsWithoutUser, "Points without a user")
            },
            Check {
                status: CheckStatus::Warning,
                count: Some(3),
                estimated: true,
                elapsed_ms: 1,
                ..Check::new(CheckId::DuplicateStats, "Duplicate stats")
            },
        ],
        elapsed_ms: 12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_stale_lock_and_orphans_explain_the_failure_worst_first() {
        let s = summarize(&sample_diagnosis());
        assert_eq!(s.level, Level::Blocked);
        assert!(s.headline.contains("will fail"), "{}", s.headline);
        assert!(s.headline.contains("2 blockers"), "{}", s.headline);
        assert!(
            s.reasons[0].contains("pid 4242") && s.reasons[0].contains("stale"),
            "{:?}",
            s.reasons
        );
        assert!(
            s.reasons[1].contains("Points without a user: 7 found (blocks 20240815174852)"),
            "{:?}",
            s.reasons
        );
        assert!(s.reasons[2].contains("about 3 found"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_clean_database_says_so() {
        let mut d = sample_diagnosis();
        d.lock.holders.clear();
        d.checks.retain(|c| c.status == CheckStatus::Ok);
        let s = summarize(&d);
        assert_eq!(s.level, Level::Good);
        assert_eq!(
            s.headline,
            "Dawarich 1.3.1: nothing blocks the upgrade to 1.7.5 (1 migrations pending)."
        );
        d.dawarich.pending_schema.clear();
        assert!(summarize(&d).headline.contains("up to date"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn our_own_session_never_counts_as_a_holder() {
        let mut d = sample_diagnosis();
        d.lock.holders[0].is_self = true;
        d.checks.clear();
        assert_eq!(summarize(&d).level, Level::Good);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn checks_are_ordered_problems_first() {
        let ids: Vec<_> = ordered_checks(&sample_diagnosis()).into_iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                dawarich_doctor_model::CheckId::PointsWithoutUser,
                dawarich_doctor_model::CheckId::DuplicateStats,
                dawarich_doctor_model::CheckId::Postgis
            ]
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn progress_lines() {
        let mut p = DiagnoseProgress::default();
        assert_eq!(p.line(), "Connecting…");
        p.apply(&ProgressEvent::StepStarted {
            step: 0,
            title: "Points without a user".into(),
        });
        p.apply(&ProgressEvent::StepProgress {
            step: 0,
            done: 50,
            total: Some(200),
            rows_per_sec: 1.0,
            eta_secs: None,
            statement: None,
        });
        assert_eq!(p.line(), "Check 1: Points without a user — scanned 50 of 200 (25%)");
        p.apply(&ProgressEvent::StepFinished {
            step: 0,
            elapsed_ms: 1,
            rows: Some(0),
        });
        assert_eq!(p.finished, 1);
    }
}
