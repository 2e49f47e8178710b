//! The audit log: every statement Dawarich Doctor ran against the database (kept in the database
//! itself), filterable by run and action, exportable as JSON lines.

use dawarich_doctor_model::{AuditEntry, ErrorReport, ProfileEntry};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Ctx;
use crate::api;
use crate::logic::{self, Level};

#[component]
pub(super) fn LogScreen() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // The connection of the last diagnosis or upgrade, else the first saved one.
    let chosen = RwSignal::new(
        ctx.up_profile.get_untracked().or_else(|| ctx.diag_profile.get_untracked()).map(|p| p.id).unwrap_or_else(|| {
            ctx.profiles.with_untracked(|l| l.first().map(|e| e.profile.id.clone()).unwrap_or_default())
        }),
    );
    let entries = RwSignal::new(None::<Result<Vec<AuditEntry>, ErrorReport>>);
    let run = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let load = move || {
        let id = chosen.get_untracked();
        if id.is_empty() {
            return;
        }
        let ready = ctx.profiles.with_untracked(|l| l.iter().any(|e: &ProfileEntry| e.profile.id == id && e.password_ready));
        if !ready {
            entries.set(Some(Err(ErrorReport {
                kind: dawarich_doctor_model::ErrorKind::AuthenticationFailed,
                message: "The password of this connection is not known yet.".into(),
                fix: "Run a diagnosis of it first: the app asks for the password.".into(),
            })));
            return;
        }
        entries.set(None);
        spawn_local(async move { entries.set(Some(api::audit_log(&id, None).await)) });
    };
    load();
    // Exactly the entries the filters show, to a file the user picks in the native save dialog.
    let export = move |_| {
        let Some(Ok(all)) = entries.get_untracked() else { return };
        let (run, action) = (run.get_untracked(), action.get_untracked());
        let shown = logic::filter_audit(&all, &run, &action);
        spawn_local(async move {
            match api::export_audit(&shown, Some(run.as_str()).filter(|r| !r.is_empty())).await {
                Ok(Some(x)) => ctx.notice.set(Some((Level::Good, format!("Exported {} entries to {}.", x.entries, x.path)))),
                Ok(None) => ctx.notice.set(Some((Level::Attention, "Export cancelled: no file was written.".into()))),
                Err(e) => ctx.error(&e),
            }
        });
    };
    let select = move |id: &'static str, label: &'static str, sig: RwSignal<String>, values: Vec<String>, any: &'static str| {
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
                    <select id="log-connection" on:change=move |ev| { chosen.set(event_target_value(&ev)); run.set(String::new()); load() }>
                        {move || ctx.profiles.get().into_iter().map(|e| {
                            let id = e.profile.id.clone();
                            view! { <option value=e.profile.id.clone() selected=move || chosen.get() == id>{e.profile.name.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <button id="log-reload" on:click=move |_| load()>"Reload"</button>
                    <button id="log-export" disabled=move || entries.with(|e| !matches!(e, Some(Ok(all)) if !all.is_empty())) on:click=export>"Export\u{2026}"</button>
                </div>
            </div>
            <p class="muted">"Every statement Dawarich Doctor ran that changed something, as kept in the database (dawarich_doctor.audit_log). Export\u{2026} saves the entries shown, filters applied, as JSON lines."</p>
            {move || match entries.get() {
                None => view! { <div class="running" role="status"><span class="spinner" aria-hidden="true"></span>"Reading the log…"</div> }.into_any(),
                Some(Err(e)) => view! { <div class="notice problem" role="alert">{logic::error_line(&e)}</div> }.into_any(),
                Some(Ok(all)) if all.is_empty() => view! { <p class="empty" id="log-empty">"Nothing yet: Dawarich Doctor has not changed this database."</p> }.into_any(),
                Some(Ok(all)) => {
                    let runs = logic::distinct(&all, |e| &e.run_id);
                    let actions = logic::distinct(&all, |e| &e.action);
                    view! {
                        <div class="repair-row filters">
                            {select("log-run", "Run", run, runs, "every run")}
                            {select("log-action", "Action", action, actions, "every action")}
                        </div>
                        <table class="audit" id="log-table">
                            <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Run"</th><th scope="col">"Action"</th><th scope="col">"Statement"</th><th scope="col" class="num">"Rows"</th><th scope="col" class="num">"ms"</th><th scope="col">"Outcome"</th></tr></thead>
                            <tbody>
                                {move || logic::filter_audit(&all, &run.get(), &action.get()).into_iter().map(|e| view! {
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
            }}
        </div>
    }
}
