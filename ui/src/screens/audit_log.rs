//! The Log screen: every statement Dawarich Doctor ran against the database (kept in the database
//! itself), filterable by run and action, exportable as JSON lines.

use dawarich_doctor_model::{AuditEntry, ErrorKind, ErrorReport};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Shared;
use crate::format::{error_line, Level};
use crate::screens::diagnosis::DiagnosisState;
use crate::screens::upgrade::UpgradeState;

#[component]
pub fn LogScreen() -> impl IntoView {
    let shared = expect_context::<Shared>();
    // The connection of the last upgrade or diagnosis, else the first saved one.
    let last = expect_context::<UpgradeState>()
        .profile
        .get_untracked()
        .or_else(|| expect_context::<DiagnosisState>().profile.get_untracked());
    let chosen = RwSignal::new(last.map(|p| p.id).unwrap_or_else(|| {
        shared
            .entries()
            .first()
            .map(|e| e.profile.id.clone())
            .unwrap_or_default()
    }));
    let run = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    // `None`: no connection to read.
    let entries = LocalResource::new(move || {
        let id = chosen.get();
        let ready = shared.password_ready(&id);
        async move {
            if id.is_empty() {
                return None;
            }
            if !ready {
                return Some(Err(ErrorReport {
                    kind: ErrorKind::AuthenticationFailed,
                    message: "The password of this connection is not known yet.".into(),
                    fix: "Run a diagnosis of it first: the app asks for the password.".into(),
                }));
            }
            Some(api::audit_log(&id, None).await)
        }
    });
    let loaded = move || entries.get().flatten().and_then(Result::ok);
    // Exactly the entries the filters show, to a file the user picks in the native save dialog.
    let export = move |_| {
        let Some(all) = loaded() else { return };
        let (run, action) = (run.get_untracked(), action.get_untracked());
        let shown = filter_audit(&all, &run, &action);
        spawn_local(async move {
            match api::export_audit(&shown, Some(run.as_str()).filter(|r| !r.is_empty())).await {
                Ok(Some(x)) => shared.notify(Level::Good, format!("Exported {} entries to {}.", x.entries, x.path)),
                Ok(None) => shared.notify(Level::Attention, "Export cancelled: no file was written.".into()),
                Err(e) => shared.error(&e),
            }
        });
    };
    let select =
        move |id: &'static str, label: &'static str, sig: RwSignal<String>, values: Vec<String>, any: &'static str| {
            view! {
                <label for=id>{label}</label>
                <select id=id on:change=move |ev| sig.set(event_target_value(&ev))>
                    <option value="" selected=move || sig.get().is_empty()>{any}</option>
                    {values.into_iter().map(|v| {
                        let v2 = v.clone();
                        view! { <option value=v.clone() selected=move || sig.get() == v2>{v.clone()}</option> }
                    }).collect_view()}
                </select>
            }
        };
    view! {
        <div class="log" id="log">
            <div class="section-head">
                <h2>"Audit log"</h2>
                <div class="repair-row">
                    <label for="log-connection">"Connection"</label>
                    <select id="log-connection" on:change=move |ev| { run.set(String::new()); chosen.set(event_target_value(&ev)) }>
                        <For each=move || shared.entries() key=|e| e.profile.id.clone() children=move |e| {
                            let id = e.profile.id.clone();
                            view! { <option value=e.profile.id.clone() selected=move || chosen.get() == id>{e.profile.name.clone()}</option> }
                        }/>
                    </select>
                    <button id="log-reload" on:click=move |_| entries.refetch()>"Reload"</button>
                    <button id="log-export" disabled=move || loaded().is_none_or(|all| all.is_empty()) on:click=export>"Export\u{2026}"</button>
                </div>
            </div>
            <p class="muted">"Every statement Dawarich Doctor ran that changed something, as kept in the database (dawarich_doctor.audit_log). Export\u{2026} saves the entries shown, filters applied, as JSON lines."</p>
            <Suspense fallback=|| view! { <div class="running" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the log…"</div> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        None => ().into_any(),
                        Some(Err(e)) => view! { <div class="notice problem" role="alert">{error_line(&e)}</div> }.into_any(),
                        Some(Ok(all)) if all.is_empty() => view! { <p class="empty" id="log-empty">"Nothing yet: Dawarich Doctor has not changed this database."</p> }.into_any(),
                        Some(Ok(all)) => {
                            let runs = distinct(&all, |e| &e.run_id);
                            let actions = distinct(&all, |e| &e.action);
                            view! {
                                <div class="repair-row filters">
                                    {select("log-run", "Run", run, runs, "every run")}
                                    {select("log-action", "Action", action, actions, "every action")}
                                </div>
                                <table class="audit" id="log-table">
                                    <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Run"</th><th scope="col">"Action"</th><th scope="col">"Statement"</th><th scope="col" class="num">"Rows"</th><th scope="col" class="num">"ms"</th><th scope="col">"Outcome"</th></tr></thead>
                                    <tbody>
                                        {move || filter_audit(&all, &run.get(), &action.get()).into_iter().map(|e| view! {
                                            <tr data-action=e.action.clone()>
                                                <td class="small">{e.at.clone()}</td>
                                                <td class="mono small">{e.run_id.clone()}</td>
                                                <td>{e.action.clone()}</td>
                                                <td class="mono small"><div class="stmt" tabindex="0">{e.statement.clone()}</div></td>
                                                <td class="num">{e.rows_affected.map(|n| n.to_string()).unwrap_or_default()}</td>
                                                <td class="num">{e.duration_ms.map(|d| format!("{d:.0}")).unwrap_or_default()}</td>
                                                <td>{e.outcome.clone()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </div>
    }
}

/// The distinct values of a field of the audit log, in order of first appearance (for the filters).
pub fn distinct(entries: &[AuditEntry], field: fn(&AuditEntry) -> &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries {
        if !out.iter().any(|v| v == field(e)) {
            out.push(field(e).to_string());
        }
    }
    out
}

/// The entries of run `run` and action `action` ("" = any).
pub fn filter_audit(entries: &[AuditEntry], run: &str, action: &str) -> Vec<AuditEntry> {
    entries
        .iter()
        .filter(|e| (run.is_empty() || e.run_id == run) && (action.is_empty() || e.action == action))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_audit_log_filters_by_run_and_action() {
        let e = |run: &str, action: &str| AuditEntry {
            run_id: run.into(),
            at: String::new(),
            action: action.into(),
            statement: String::new(),
            rows_affected: None,
            duration_ms: None,
            outcome: "ok".into(),
        };
        let log = vec![
            e("r1", "lock-release"),
            e("r2", "repair"),
            e("r2", "repair"),
            e("r3", "migrate"),
        ];
        assert_eq!(distinct(&log, |e| &e.run_id), ["r1", "r2", "r3"]);
        assert_eq!(distinct(&log, |e| &e.action), ["lock-release", "repair", "migrate"]);
        assert_eq!(filter_audit(&log, "r2", "").len(), 2);
        assert_eq!(filter_audit(&log, "", "migrate").len(), 1);
        assert_eq!(filter_audit(&log, "r1", "repair").len(), 0);
        assert_eq!(filter_audit(&log, "", "").len(), 4);
    }
}
