//! The Upgrade screen: backup reminder, lock release, repairs, migrations, verify — then what was
//! done, with Undo for repaired rows. Every step is one shell command; the order and the choices are
//! the user's (`choices`), the sequence is the state machine in `run`, what each step does is the
//! core's.

mod choices;
mod run;

use dawarich_doctor_model::{
    BlockerId, Confirmed, ContainerRole, ErrorReport, Failure, HolderVerdict, Profile, ProgressEvent, RunSettings,
    Setting, StepKind, StrategyId, UpgradeProposal,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::{Screen, Shared};
use crate::format::{describe_holder, holder_badge, profile_target};
use crate::screens::containers::ContainersTable;
use choices::{
    confirm_fix, confirm_migrations, confirm_release, confirm_repair, confirm_stop, confirm_undo, planned_rows,
    RepairPick,
};
use run::{answered, Event, PhaseState, Run, RunPlan, Step};

/// The screen's state, kept across tab switches.
#[derive(Clone, Copy)]
pub struct UpgradeState {
    shared: Shared,
    /// The connection to upgrade.
    pub profile: RwSignal<Option<Profile>>,
    /// Its plan, loaded when the connection is chosen (`None`: no connection).
    proposal: LocalResource<Option<Result<Box<UpgradeProposal>, ErrorReport>>>,
    /// The one-click run once started.
    run: RwSignal<Option<Run>>,
}

impl UpgradeState {
    pub fn new(shared: Shared) -> Self {
        let profile = RwSignal::new(None::<Profile>);
        let proposal = LocalResource::new(move || {
            let id = profile.with(|p| p.as_ref().map(|p| p.id.clone()));
            async move {
                match id {
                    Some(id) => Some(api::upgrade_proposal(&id).await.map(Box::new)),
                    None => None,
                }
            }
        });
        UpgradeState {
            shared,
            profile,
            proposal,
            run: RwSignal::new(None),
        }
    }

    /// Opens the screen for `profile` and (re)loads its plan.
    pub fn open(self, profile: Profile) {
        self.shared.screen.set(Screen::Upgrade);
        self.run.set(None);
        if self.profile.get_untracked().as_ref() == Some(&profile) {
            self.proposal.refetch();
        } else {
            self.profile.set(Some(profile));
        }
    }
}

#[component]
pub fn UpgradeScreen() -> impl IntoView {
    let st = expect_context::<UpgradeState>();
    view! {
        <div class="upgrade" id="upgrade">
            {move || match st.profile.get() {
                None => view! {
                    <div class="placeholder">
                        <h2>"Nothing to upgrade yet"</h2>
                        <p>"Diagnose a connection, then choose "<strong>"Fix and upgrade"</strong>"."</p>
                    </div>
                }.into_any(),
                Some(p) => view! {
                    <div class="section-head">
                        <div>
                            <h2>{format!("Fix and upgrade — {}", p.name)}</h2>
                            <div class="muted mono">{profile_target(&p)}</div>
                        </div>
                    </div>
                    {move || match st.run.get() {
                        Some(run) => view! { <RunView run=run profile=p.clone()/> }.into_any(),
                        None => {
                            let p = p.clone();
                            view! {
                                <Suspense fallback=|| view! { <div class="running" role="status"><span class="spinner" aria-hidden="true"></span>"Planning…"</div> }>
                                    {move || {
                                        let p = p.clone();
                                        Suspend::new(async move {
                                            match st.proposal.await {
                                                None => ().into_any(),
                                                Some(Err(e)) => view! {
                                                    <div class="notice problem" role="alert" id="upgrade-error"><div><strong>{e.message.clone()}</strong><div>{format!("Fix: {}", e.fix)}</div></div></div>
                                                }.into_any(),
                                                Some(Ok(prop)) => view! { <PlanView prop=*prop profile=p/> }.into_any(),
                                            }
                                        })
                                    }}
                                </Suspense>
                            }.into_any()
                        }
                    }}
                }.into_any(),
            }}
        </div>
    }
}

/// Dawarich's environment the upgrade follows, each with its source; the time zone can be changed
/// (saved with the connection, and the plan made again).
#[component]
fn SettingsView(settings: RunSettings, profile: Profile) -> impl IntoView {
    let st = expect_context::<UpgradeState>();
    let zone = RwSignal::new(settings.time_zone.value.clone());
    let problem = RwSignal::new(None::<String>);
    let apply = move |_| {
        let mut p = profile.clone();
        let z = zone.get_untracked().trim().to_string();
        p.time_zone = (!z.is_empty()).then_some(z);
        spawn_local(async move {
            match api::save_profile(&p, None).await {
                Ok(saved) => st.open(saved.profile),
                Err(e) => problem.set(Some(format!("{} — {}", e.message, e.fix))),
            }
        });
    };
    let source = |s: &Setting| format!("({})", s.source.describe());
    view! {
        <div class="settings small" id="plan-settings">
            <label for="time-zone">"TIME_ZONE (dates without an offset are read in it) "</label>
            <input id="time-zone" class="mono" prop:value=move || zone.get() on:input=move |ev| zone.set(event_target_value(&ev))/>
            " "<span class="muted" id="time-zone-source">{source(&settings.time_zone)}</span>" "
            <button id="set-time-zone" on:click=apply>"Use this time zone"</button>
            <div id="rails-env">{format!("RAILS_ENV {} ", settings.rails_env.value)}<span class="muted">{source(&settings.rails_env)}</span></div>
            <div id="self-hosted">{format!("SELF_HOSTED {} ", settings.self_hosted.value)}<span class="muted">{source(&settings.self_hosted)}</span></div>
            {move || problem.get().map(|p| view! { <p class="field-error">{p}</p> })}
        </div>
    }
}

/// The connection's backup folder (saved with it; the plan is made again).
#[component]
fn BackupFolder(profile: Profile) -> impl IntoView {
    let st = expect_context::<UpgradeState>();
    let folder = RwSignal::new(profile.backup_folder.clone().unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    let apply = move |_| {
        let mut p = profile.clone();
        let f = folder.get_untracked().trim().to_string();
        p.backup_folder = (!f.is_empty()).then_some(f);
        spawn_local(async move {
            match api::save_profile(&p, None).await {
                Ok(saved) => st.open(saved.profile),
                Err(e) => problem.set(Some(format!("{} — {}", e.message, e.fix))),
            }
        });
    };
    view! {
        <div class="settings small">
            <label for="backup-folder">"Backup folder (empty: Documents/Dawarich Doctor backups) "</label>
            <input id="backup-folder" class="mono" prop:value=move || folder.get() on:input=move |ev| folder.set(event_target_value(&ev))/>
            " "<button id="set-backup-folder" on:click=apply>"Use this folder"</button>
            {move || problem.get().map(|p| view! { <p class="field-error">{p}</p> })}
        </div>
    }
}

fn checkbox(id: &'static str, sig: RwSignal<bool>, label: String) -> impl IntoView {
    view! {
        <label class="tick" for=id>
            <input type="checkbox" id=id prop:checked=move || sig.get() on:change=move |ev| sig.set(event_target_checked(&ev))/>
            {label}
        </label>
    }
}

#[component]
fn PlanView(prop: UpgradeProposal, profile: Profile) -> impl IntoView {
    let st = expect_context::<UpgradeState>();
    let plan = prop.plan.clone();
    let holders: Vec<_> = prop.lock.holders.iter().filter(|h| !h.is_self).cloned().collect();
    let active = holders.iter().any(|h| h.verdict == HolderVerdict::ActiveMigration);
    let host = prop.host.clone();
    // Dawarich Doctor makes the backup itself when it can; else the user confirms one made by hand.
    let backup = RwSignal::new(host.backup_file.is_some());
    let release = RwSignal::new(!holders.is_empty());
    let force = RwSignal::new(false);
    let stop_after = RwSignal::new(false);
    let dry_run = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let picks = RwSignal::new(prop.repairs.iter().map(RepairPick::default_for).collect::<Vec<_>>());
    let repairs = prop.repairs.clone();
    let count = |k: StepKind| plan.steps.iter().filter(|s| s.kind == k).count();
    let data_n = count(StepKind::DataMigration);
    let job_n = count(StepKind::JobWork);
    let schema_n = count(StepKind::SchemaMigration);
    let other_blockers: Vec<_> = plan
        .blockers
        .iter()
        .filter(|b| b.id != BlockerId::LockHeld && !prop.repairs.iter().any(|r| BlockerId::Check(r.check) == b.id))
        .cloned()
        .collect();

    // What runs, from the choices; an error names what is missing.
    let holders2 = holders.clone();
    let host2 = host.clone();
    let repairs2 = repairs.clone();
    let plan2 = plan.clone();
    let run_plan = move || -> Result<RunPlan, String> {
        if !backup.get_untracked() {
            return Err("Make a backup first, then tick \u{201c}I have a backup\u{201d}.".into());
        }
        let migrate = (!stop_after.get_untracked()).then(|| {
            let follow_ups = host2.containers.as_ref().map(|_| plan2.follow_ups.len());
            confirm_migrations(
                schema_n,
                data_n,
                plan2.from_release.as_deref(),
                &plan2.to_release,
                follow_ups,
            )
        });
        let stop_names: Vec<String> = host2
            .containers
            .iter()
            .flat_map(|s| s.containers.iter())
            .filter(|c| c.role != ContainerRole::Database)
            .map(|c| c.name.clone())
            .rev()
            .collect();
        let mut rp = RunPlan {
            backup: host2.backup_file.clone(),
            stop: host2
                .containers
                .as_ref()
                .filter(|_| !stop_names.is_empty())
                .map(|s| confirm_stop(&stop_names, &s.host)),
            release: None,
            repairs: Vec::new(),
            migrate,
            watch: false,
        };
        if release.get_untracked() {
            if let Some(h) = holders2.first() {
                if h.verdict == HolderVerdict::ActiveMigration && !force.get_untracked() {
                    return Err(format!(
                        "Session {} is running a migration: tick the force box only if its container is gone.",
                        h.pid
                    ));
                }
                rp.release = Some((h.pid, force.get_untracked(), confirm_release(h, force.get_untracked())));
            }
        }
        for (p, pick) in repairs2.iter().zip(picks.get_untracked()) {
            let choices = pick.choices(p)?;
            for (c, rows) in choices.iter().zip(planned_rows(p, &choices)) {
                rp.repairs.push((
                    format!("{} — {}", p.title, c.strategy),
                    c.clone(),
                    confirm_repair(p, c, rows),
                    rows > 0,
                ));
            }
        }
        Ok(rp)
    };
    // the same backup, stop, lock release and repairs, then Dawarich migrates itself, watched
    let via_dawarich = {
        let profile = profile.clone();
        let plan = plan.clone();
        let run_plan = run_plan.clone();
        move |_| match run_plan() {
            Err(e) => problem.set(Some(e)),
            Ok(mut rp) => {
                problem.set(None);
                rp.migrate = None;
                rp.watch = true;
                drive(st, profile.id.clone(), Run::new(rp, &plan.to_release, Vec::new()));
            }
        }
    };
    let start = {
        let profile = profile.clone();
        let plan = plan.clone();
        move |_| match run_plan() {
            Err(e) => problem.set(Some(e)),
            Ok(rp) => {
                problem.set(None);
                drive(
                    st,
                    profile.id.clone(),
                    Run::new(rp, &plan.to_release, plan.follow_ups.clone()),
                );
            }
        }
    };
    let holders_view = if holders.is_empty() {
        view! { <p><span class="badge ok">"Free"</span>" Nobody holds the Rails migration lock: nothing to release."</p> }.into_any()
    } else {
        view! {
            <ul class="holders">
                {holders.iter().map(|h| {
                    let (word, class) = holder_badge(h.verdict);
                    view! { <li class="holder"><span class=format!("badge {class}")>{word}</span><span>{describe_holder(h)}</span></li> }
                }).collect_view()}
            </ul>
            {checkbox("release-lock", release, format!("End session {} to free the lock. Its open transaction is rolled back; a live Dawarich reconnects.", holders[0].pid))}
            {active.then(|| checkbox("force-active", force, "It is a migration whose container is gone: end it anyway (mid CREATE INDEX CONCURRENTLY this leaves an INVALID index, which the upgrade rebuilds).".into()))}
        }.into_any()
    };
    let sql_view = {
        let plan = plan.clone();
        let repairs = repairs.clone();
        move || {
            dry_run.get().then(|| {
                view! {
                    <section class="card sql" id="dry-run-sql" aria-label="The SQL of the plan">
                        <h3>"Dry run: the SQL, in order (nothing has been changed)"</h3>
                        {repairs.iter().map(|r| r.strategies.iter().map(|s| view! {
                            <h4>{format!("Repair {} — {}", r.title, s.name)}</h4>
                            <pre class="mono small">{s.sql.join(";\n\n")}</pre>
                        }).collect_view()).collect_view()}
                        {plan.steps.iter().map(|s| view! {
                            <h4>{format!("{}. {}", s.step, s.title)}</h4>
                            <pre class="mono small">{s.sql.join(";\n")}</pre>
                        }).collect_view()}
                    </section>
                }
            })
        }
    };
    view! {
        <div class="summary warning" id="upgrade-summary">
            <div class="headline">{format!("From {} to Dawarich {}", plan.from_release.clone().unwrap_or_else(|| "an unknown release".into()), plan.to_release)}</div>
            <div>{format!(
                "Backup, {}, {} to repair, {schema_n} schema and {data_n} data migrations and the work of {job_n} jobs, then a check against what {} expects. Each step that changes the database asks you first.",
                if holders.is_empty() { "no lock to release" } else { "the lock to release" },
                repairs.len(),
                plan.to_release
            )}</div>
        </div>
        <ol class="plan-steps">
            <li class="card" id="step-backup">
                <h3>"1. Back up the database"</h3>
                {match host.backup_file.clone() {
                    Some(file) => view! {
                        <p>"Dawarich Doctor runs pg_dump and checks the archive lists every table's data before anything changes:"</p>
                        <pre class="mono command" id="backup-file">{file}</pre>
                        <BackupFolder profile=profile.clone()/>
                    }.into_any(),
                    None => view! {
                        <p id="backup-note">{host.backup_note.clone().unwrap_or_default()}</p>
                        <p>"With the stock docker compose, on the Docker host:"</p>
                        <pre class="mono command" id="backup-command">{prop.backup_command.clone()}</pre>
                        {checkbox("backup-done", backup, "I have a backup".into())}
                    }.into_any(),
                }}
            </li>
            <li class="card" id="step-containers">
                <h3>"Dawarich's containers"</h3>
                {match host.containers.clone() {
                    Some(s) => view! {
                        <p>{format!("On {}: stopped before the changes, started again after the migrations, then the follow-ups run in the app container.", s.host)}</p>
                        {host.containers_note.clone().map(|n| view! { <p class="notice warning" id="containers-note">{n}</p> })}
                        <ContainersTable status=s/>
                        <p class="muted small">"Or let Dawarich run its own migrations (any release, also one this app does not know): the backup, the lock release and the repairs chosen here first, then Dawarich is stopped, started and watched until it is up; a failure is explained, with its fix."</p>
                        <button id="via-dawarich" on:click=via_dawarich>"Let Dawarich migrate"</button>
                    }.into_any(),
                    None => view! {
                        <p id="containers-note">{host.containers_note.clone().unwrap_or_default()}</p>
                        <p>"Stop the app and sidekiq containers by hand before the upgrade and start them after it."</p>
                    }.into_any(),
                }}
            </li>
            <li class="card" id="step-lock">
                <h3>"2. Release the migration lock"</h3>
                {holders_view}
            </li>
            <li class="card" id="step-repairs">
                <h3>"3. Repair what would make a migration fail"</h3>
                {repairs.is_empty().then(|| view! { <p><span class="badge ok">"Nothing"</span>" No row blocks a migration."</p> })}
                {repairs.iter().enumerate().map(|(i, r)| {
                    let r2 = r.clone();
                    let pick = move || picks.with(|p| p[i].clone());
                    let set = move |f: &dyn Fn(&mut RepairPick)| picks.update(|p| f(&mut p[i]));
                    let names: Vec<StrategyId> = r.strategies.iter().map(|s| s.name).collect();
                    let names2 = names.clone();
                    let r3 = r.clone();
                    let r4 = r.clone();
                    view! {
                        <div class="repair" data-repair=r.check.as_str()>
                            <div><strong>{r.title.clone()}</strong>{format!(" — {} found", r.count)}</div>
                            {(!r.sample.is_empty()).then(|| view! { <div class="mono small muted">{format!("e.g. {}", r.sample.join("; "))}</div> })}
                            <div class="repair-row">
                                <label for=format!("repair-strategy-{i}")>"Strategy"</label>
                                <select id=format!("repair-strategy-{i}") class="repair-strategy" on:change=move |ev| { let v = StrategyId::parse(&event_target_value(&ev)); set(&|p| p.strategy = v) }>
                                    {names.iter().map(|&n| {
                                        let rows = r2.resolves(n).unwrap_or(0);
                                        view! { <option value=n.as_str() selected=move || pick().strategy == Some(n)>{format!("{n} — resolves {rows}")}</option> }
                                    }).collect_view()}
                                </select>
                                {move || (pick().strategy == Some(StrategyId::Infer)).then(|| {
                                    let names = names2.clone();
                                    view! {
                                        <label for=format!("repair-then-{i}")>"then the rest"</label>
                                        <select id=format!("repair-then-{i}") class="repair-then" on:change=move |ev| { let v = StrategyId::parse(&event_target_value(&ev)); set(&|p| p.then = v) }>
                                            <option value="" selected=move || pick().then.is_none()>"leave them (the upgrade stays blocked)"</option>
                                            {names.into_iter().filter(|n| *n != StrategyId::Infer).map(|n| {
                                                view! { <option value=n.as_str() selected=move || pick().then == Some(n)>{n.as_str()}</option> }
                                            }).collect_view()}
                                        </select>
                                    }
                                })}
                                {move || [pick().strategy, pick().then].into_iter().flatten().any(|n| r3.strategies.iter().any(|s| s.name == n && s.needs_user)).then(|| view! {
                                    <label for=format!("repair-user-{i}")>"user id"</label>
                                    <input id=format!("repair-user-{i}") class="repair-user" inputmode="numeric" prop:value=move || pick().user
                                        on:input=move |ev| { let v = event_target_value(&ev); set(&|p| p.user = v.clone()) }/>
                                })}
                            </div>
                            <ul class="rules small">
                                {move || {
                                    let pick = pick();
                                    let first = r4.strategies.iter().find(|s| Some(s.name) == pick.strategy);
                                    let left = first.and_then(|s| s.rules.iter().find(|r| r.rule == "unresolved")).map(|r| r.count);
                                    let mut lines: Vec<String> = first.iter().flat_map(|s| s.rules.iter().map(move |rule| {
                                        format!("{}: {} — {} rows", s.name, if rule.description.is_empty() { &rule.rule } else { &rule.description }, rule.count)
                                    })).collect();
                                    if let (Some(then), Some(first)) = (pick.then, pick.strategy) {
                                        lines.push(match left {
                                            Some(n) => format!("then {then}: the {n} rows {first} leaves"),
                                            None => format!("then {then}"),
                                        });
                                    }
                                    lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()
                                }}
                            </ul>
                        </div>
                    }
                }).collect_view()}
                {other_blockers.iter().map(|b| view! { <p class="field-error">{format!("{} — {}", b.message, b.fix)}</p> }).collect_view()}
            </li>
            <li class="card" id="step-migrations">
                <h3>{format!("4–5. {schema_n} schema migrations, then {data_n} data migrations, then {job_n} jobs")}</h3>
                <SettingsView settings=plan.settings.clone() profile=profile.clone()/>
                <details>
                    <summary>"The steps in order"</summary>
                    <ol class="small">{plan.steps.iter().map(|s| view! { <li>{s.title.clone()}</li> }).collect_view()}</ol>
                </details>
                {checkbox("stop-after", stop_after, "Stop after lock release and repairs: Dawarich runs the migrations at its next start.".into())}
            </li>
            <li class="card" id="step-verify">
                <h3>"6. Verify"</h3>
                <p>{format!("Compare the schema with exactly what Dawarich {} expects.", plan.to_release)}</p>
            </li>
        </ol>
        {move || problem.get().map(|p| view! { <div class="notice problem" role="alert" id="upgrade-problem">{p}</div> })}
        <div class="form-actions">
            <button id="dry-run" aria-pressed=move || if dry_run.get() { "true" } else { "false" } on:click=move |_| dry_run.update(|d| *d = !*d)>
                {move || if dry_run.get() { "Hide the SQL" } else { "Dry run" }}
            </button>
            <button id="start-upgrade" class="primary" disabled=move || !backup.get() on:click=start>"Fix and upgrade"</button>
        </div>
        {sql_view}
    }
}

/// Performs the run's steps one after the other: each command's result goes back to the state
/// machine, which answers the next step. The page shows the question of a dialog while it is open.
fn drive(st: UpgradeState, id: String, mut run: Run) {
    let first = run.start();
    st.shared.asking.set(run.question());
    st.run.set(Some(run));
    let update = move |e: Event| {
        let mut next = None;
        st.run.update(|r| {
            if let Some(r) = r {
                next = r.on(e);
                st.shared.asking.set(r.question());
            }
        });
        next
    };
    spawn_local(async move {
        let mut step = first;
        while let Some(s) = step {
            let on_event = move |e: ProgressEvent| {
                update(Event::Progress(e));
            };
            let event = match s {
                Step::Backup { file } => api::run_backup(&id, &file, on_event)
                    .await
                    .map_or_else(Event::Failed, Event::BackedUp),
                Step::StopContainers { confirmation } => {
                    answered(api::stop_containers(&id, &confirmation).await, Event::Stopped)
                }
                Step::ReleaseLock {
                    pid,
                    force,
                    confirmation,
                } => answered(api::release_lock(&id, pid, force, &confirmation).await, Event::Released),
                Step::Repair { choice, confirmation } => answered(
                    api::run_repair(&id, &choice, &confirmation, on_event).await,
                    Event::Repaired,
                ),
                Step::Migrate { confirmation } => {
                    answered(api::run_upgrade(&id, &confirmation, on_event).await, Event::Migrated)
                }
                Step::Watch => api::watch_dawarich(&id, on_event)
                    .await
                    .map_or_else(Event::Failed, Event::Watched),
                Step::Verify { release } => api::verify(&id, &release)
                    .await
                    .map_or_else(Event::Failed, Event::Verified),
            };
            step = update(event);
        }
    });
}

#[component]
fn RunView(run: Run, profile: Profile) -> impl IntoView {
    let shared = expect_context::<Shared>();
    let live = run.live.clone();
    let finished = !run.running;
    let cancel = move |_| {
        spawn_local(async move {
            if let Err(e) = api::cancel().await {
                shared.error(&e);
            }
        })
    };
    view! {
        {finished.then(|| result_summary(&run))}
        <ol class="phases" id="phases" aria-live="polite">
            {run.phases.iter().map(|p| {
                let (word, class) = p.state.badge();
                let running = p.state == PhaseState::Running;
                view! {
                    <li class="phase card" data-phase=p.id.clone()>
                        <div class="phase-head"><span class=format!("badge {class}")>{word}</span><strong>{p.title.clone()}</strong></div>
                        {(!p.detail.is_empty()).then(|| view! { <div class="phase-detail">{p.detail.clone()}</div> })}
                        {running.then(|| view! {
                            <div class="live" id="live-progress">
                                {live.step.clone().map(|s| view! { <div>{format!("Step {} of {}: {s}", live.steps_done + 1, live.steps_total.max(live.steps_done + 1))}</div> })}
                                <progress max="100" value=live.percent().map(|p| p.to_string()) aria-label="Progress of this step"></progress>
                                <div class="small muted">{live.rate_line()}</div>
                                {live.statement.clone().map(|s| view! { <div class="mono small statement">{s}</div> })}
                                {live.waiting.clone().map(|w| view! { <div class="notice warning small" id="waiting">{w}</div> })}
                                {(!live.output.is_empty()).then(|| view! { <pre class="mono small" id="live-output">{live.output.join("\n")}</pre> })}
                            </div>
                        })}
                    </li>
                }
            }).collect_view()}
        </ol>
        {(!finished && !run.phases.iter().any(|p| p.state == PhaseState::Asking)).then(|| view! {
            <div class="form-actions"><button id="cancel-run" on:click=cancel>"Cancel at the next safe point"</button></div>
        })}
        {finished.then(|| view! { <EndView run=run.clone() profile=profile.clone()/> })}
    }
}

/// The headline of the end screen: done, done with differences, or stopped (with the reason).
fn result_summary(run: &Run) -> impl IntoView {
    let (headline, class) = match (&run.stopped, &run.diffs) {
        (Some(_), _) => ("Stopped before the end".to_string(), "problem"),
        (None, Some(d)) if d.is_empty() => (
            format!("Done: the database is exactly what Dawarich {} expects", run.release),
            "ok",
        ),
        (None, Some(_)) => (
            format!(
                "Done, but the schema differs from what Dawarich {} expects",
                run.release
            ),
            "warning",
        ),
        (None, None) => (
            "Lock and repairs done: Dawarich runs the migrations at its next start".to_string(),
            "ok",
        ),
    };
    view! {
        <div class=format!("summary {class}") id="upgrade-result" role="status">
            <div class="headline">{headline}</div>
            {run.stopped.clone().map(|e| view! { <div id="stop-reason"><div>{e.message}</div><div>{format!("Fix: {}", e.fix)}</div></div> })}
        </div>
    }
}

#[component]
fn EndView(run: Run, profile: Profile) -> impl IntoView {
    let (shared, st) = (expect_context::<Shared>(), expect_context::<UpgradeState>());
    let fix_view = run.watched.clone().and_then(|r| r.failure).map(|failure| {
        let excerpt = match &failure {
            Failure::Unknown { excerpt, .. } => excerpt.join("\n"),
            _ => String::new(),
        };
        let fixable = failure.fixable();
        let id = profile.id.clone();
        let release = run.release.clone();
        let fix = move |_| {
            let (id, failure, release) = (id.clone(), failure.clone(), release.clone());
            spawn_local(async move {
                match api::fix_failure(&id, &failure, &confirm_fix(&failure)).await {
                    Ok(Confirmed::Done(what)) => {
                        shared.notify(crate::format::Level::Good, format!("Fixed: {what}. Starting Dawarich again."));
                        let rp = RunPlan {
                            backup: None,
                            stop: None,
                            release: None,
                            repairs: Vec::new(),
                            migrate: None,
                            watch: true,
                        };
                        drive(st, id, Run::new(rp, &release, Vec::new()));
                    }
                    Ok(Confirmed::Declined) => {}
                    Err(e) => shared.error(&e),
                }
            });
        };
        view! {
            <section class="card" id="watch-failure">
                <h3>"Why Dawarich did not start"</h3>
                {(!excerpt.is_empty()).then(|| view! { <pre class="mono small">{excerpt}</pre> })}
                {fixable.then(|| view! { <button id="fix-failure" class="primary" on:click=fix>"Fix and start again"</button> })}
            </section>
        }
    });
    view! {
        {fix_view}
        {run.diffs.clone().filter(|d| !d.is_empty()).map(|d| view! {
            <section class="card"><h3>"Differences"</h3><ul class="small mono">
                {d.into_iter().map(|d| view! { <li>{format!("{} {} {}: expected {}, found {}", d.change, d.object, d.name, d.expected.unwrap_or_default(), d.actual.unwrap_or_default())}</li> }).collect_view()}
            </ul></section>
        })}
        {(!run.kept.is_empty()).then(|| view! {
            <section class="card" id="kept-objects"><h3>"Kept from an older install"</h3><ul class="small">
                {run.kept.iter().map(|d| view! { <li><span class="mono">{format!("{} {}", d.object, d.name)}</span>{format!(": {}", d.note.clone().unwrap_or_default())}</li> }).collect_view()}
            </ul></section>
        })}
        {(!run.quarantines.is_empty()).then(|| view! {
            <section class="card" id="quarantined">
                <h3>"Repaired and quarantined"</h3>
                <p class="muted small">"Undo reverts a run's changed rows and puts its quarantined rows back."</p>
                <ul class="holders">
                    {run.quarantines.iter().enumerate().map(|(i, q)| {
                        let run_id = q.run_id.clone();
                        let id = profile.id.clone();
                        let question = confirm_undo(&q.run_id, q.rows, q.quarantined);
                        let class = if q.quarantined > 0 { "holder quarantine" } else { "holder" };
                        view! {
                            <li class=class>
                                <span>{if q.quarantined > 0 {
                                    format!("{}: {} rows moved to dawarich_doctor.quarantine_* (run {})", q.title, q.quarantined, q.run_id)
                                } else {
                                    format!("{}: {} rows changed (run {})", q.title, q.rows, q.run_id)
                                }}</span>
                                {match q.undone.clone() {
                                    Some(t) => view! { <span class="badge ok undone">{t}</span> }.into_any(),
                                    None => view! {
                                        <button class="undo" on:click=move |_| {
                                            let (id, run_id, question) = (id.clone(), run_id.clone(), question.clone());
                                            spawn_local(async move {
                                                if let Some(rows) = shared.confirmed(&question, api::undo(&id, &run_id, &question)).await {
                                                    st.run.update(|r| if let Some(r) = r { r.undone(i, &rows) });
                                                }
                                            });
                                        }>"Undo"</button>
                                    }.into_any(),
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        {run.backup.clone().map(|b| view! {
            <section class="card" id="backup-made">
                <h3>"Backup"</h3>
                <p>{format!("{} ({:.1} MB, data of {} tables, verified)", b.path, b.bytes as f64 / 1_048_576.0, b.tables)}</p>
                <p>"To restore it:"</p>
                <pre class="mono command" id="restore-command">{b.restore_command.clone()}</pre>
                {
                    let path = b.path.clone();
                    view! {
                        <button id="show-backup" on:click=move |_| {
                            let path = path.clone();
                            spawn_local(async move {
                                if let Err(e) = api::show_in_folder(&path).await {
                                    shared.error(&e);
                                }
                            });
                        }>"Show in folder"</button>
                    }
                }
            </section>
        })}
        {run.up.clone().map(|(up, log)| view! {
            <section class="card" id="dawarich-up">
                <h3><span class="badge ok">"Up"</span>" "{up}</h3>
                {(!log.is_empty()).then(|| view! {
                    <p>"Its own migrations found nothing to do:"</p>
                    <pre class="mono small">{log.join("\n")}</pre>
                })}
                {(!run.follow_ups_run.is_empty()).then(|| view! {
                    <p>"Follow-ups run in the app container:"</p>
                    <ul>{run.follow_ups_run.iter().map(|f| view! { <li class="mono small">{f.describe(dawarich_doctor_model::DEFAULT_APP_CONTAINER)}</li> }).collect_view()}</ul>
                })}
            </section>
        })}
        {(!run.follow_ups.is_empty()).then(|| view! {
            <section class="card" id="follow-ups">
                <h3>"Dawarich still does these itself"</h3>
                <ul>{run.follow_ups.iter().map(|f| view! { <li>{f.describe(dawarich_doctor_model::DEFAULT_APP_CONTAINER)}</li> }).collect_view()}</ul>
            </section>
        })}
        {(run.stopped.is_none() && run.up.is_none()).then(|| view! {
            <section class="card" id="start-containers">
                <h3>"Start your containers now"</h3>
                <pre class="mono command">"docker compose up -d"</pre>
                {run.migrations_left.then(|| view! { <p class="muted">"Dawarich applies the pending migrations when it starts."</p> })}
            </section>
        })}
        <div class="form-actions">
            <button id="upgrade-again" on:click=move |_| st.open(profile.clone())>"Plan again"</button>
        </div>
    }
}
