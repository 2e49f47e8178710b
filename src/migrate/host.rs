//! The upgrade on the Docker host, around the database upgrade: a verified backup, Dawarich's
//! containers stopped, then (after the migrations) started again until healthy, and the follow-ups
//! run in the app container. The steps are shown as steps of the same plan; every docker command is
//! shown before it runs and written to the audit log.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dawarich_doctor_model::{HostProposal, ProgressEvent, StepInfo, UpgradeOutcome};

use crate::backup::{backup, source};
use crate::connect::{connect, ConnectOptions};
use crate::containers::Install;
use crate::docker::DockerHost;
use crate::error::{Error, Result};
use crate::progress::{Cancel, Progress};
use crate::settings::Environment;

use super::{plan, upgrade, UpgradeOptions};

/// What the upgrade does on the Docker host besides the database.
#[derive(Debug, Clone)]
pub struct OnHost {
    /// The install; `None`: no Docker host (the backup then needs a local pg_dump).
    pub install: Option<Install>,
    /// Where the backup goes; `None`: no backup (the user said so).
    pub backup: Option<PathBuf>,
    /// Stop app and sidekiq before, start them after (needs `install`).
    pub manage_containers: bool,
    /// Run the follow-ups in the app container once it is healthy (needs `manage_containers`).
    pub follow_ups: bool,
    /// How long Dawarich may take to become healthy (its health check allows about 5.5 min).
    pub start_timeout: Duration,
}

/// The steps around the plan's, by title.
const BACKUP: &str = "Back up the database (pg_dump, verified)";
const STOP: &str = "Stop Dawarich (app and sidekiq)";
const START: &str = "Start Dawarich and wait until it is healthy";
const FOLLOW_UPS: &str = "Run the follow-ups in the app container";

/// Runs backup, stop, the upgrade, start and follow-ups as one list of steps.
pub async fn upgrade_on_host(
    conn: &ConnectOptions,
    opts: &UpgradeOptions,
    host: &OnHost,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<UpgradeOutcome> {
    let started = Instant::now();
    let install = host.install.as_ref().filter(|_| host.manage_containers);
    let before: Vec<&str> = [host.backup.as_ref().map(|_| BACKUP), install.map(|_| STOP)]
        .into_iter()
        .flatten()
        .collect();
    let after: Vec<&str> = [
        install.map(|_| START),
        install.filter(|_| host.follow_ups).map(|_| FOLLOW_UPS),
    ]
    .into_iter()
    .flatten()
    .collect();
    let db = connect(conn).await?;
    let preview = plan(&db, opts.target.as_deref(), &opts.env).await?;
    let titles: Vec<String> = before
        .iter()
        .map(|s| s.to_string())
        .chain(preview.steps.iter().map(|s| s.title.clone()))
        .chain(after.iter().map(|s| s.to_string()))
        .collect();
    let steps = |titles: &[String]| ProgressEvent::Plan {
        steps: titles
            .iter()
            .enumerate()
            .map(|(step, title)| StepInfo {
                step,
                title: title.clone(),
            })
            .collect(),
    };
    progress.emit(steps(&titles));
    let mut step = 0;
    let mut backup_outcome = None;
    let docker = install
        .map(|i| i.host.clone())
        .or_else(|| host.install.as_ref().map(|i| i.host.clone()));
    let result: Result<UpgradeOutcome> = async {
        if let Some(path) = &host.backup {
            let t = begin(progress, step, BACKUP);
            let src = source(&db, host.install.as_ref()).await?;
            let b = backup(&db, conn, &src, path, step, progress).await?;
            progress.emit(ProgressEvent::Output {
                step: Some(step),
                line: format!("Backup verified: {} ({} bytes, data of {} tables)", b.path, b.bytes, b.tables),
            });
            backup_outcome = Some(b);
            finish(progress, step, t);
            step += 1;
        }
        if cancel.is_cancelled() {
            return Err(Error::Cancelled("after the backup; nothing in the database was changed".into()));
        }
        if let Some(i) = install {
            let t = begin(progress, step, STOP);
            show(progress, step, &i.host, crate::docker::Sub::Stop, &i.dawarich());
            i.stop().await?;
            finish(progress, step, t);
            step += 1;
        }
        let offset = step;
        let shifted = Shifted {
            inner: progress,
            offset,
            titles: &titles,
            before: before.len(),
            after: after.len(),
            steps: std::sync::Mutex::new(preview.steps.len()),
        };
        // stopped just now (or the caller says it is)
        let run = UpgradeOptions {
            dawarich_stopped: opts.dawarich_stopped || install.is_some(),
            ..opts.clone()
        };
        let mut outcome = upgrade(conn, &run, &shifted, cancel).await.inspect_err(|_| {
            if let Some(i) = install {
                progress.emit(ProgressEvent::Warning {
                    step: None,
                    message: format!(
                        "Dawarich stays stopped. Once the problem is fixed, run the upgrade again, or start it with `docker start {}`.",
                        i.dawarich().iter().rev().cloned().collect::<Vec<_>>().join(" ")
                    ),
                });
            }
        })?;
        step = offset + *shifted.steps.lock().expect("not poisoned");
        outcome.backup = backup_outcome.take();
        if let Some(i) = install {
            let t = begin(progress, step, START);
            show(progress, step, &i.host, crate::docker::Sub::Start, &[&i.app]);
            let mut on_line = |l: &str| {
                progress.emit(ProgressEvent::Output {
                    step: Some(step),
                    line: l.to_string(),
                })
            };
            outcome.dawarich_log = i.start(host.start_timeout, &mut on_line).await?;
            let release = i.release_of(&i.app).await.ok();
            outcome.dawarich_up = Some(format!(
                "Dawarich {} is up",
                release.as_deref().unwrap_or(&outcome_release(opts, &preview.to_release))
            ));
            finish(progress, step, t);
            step += 1;
            if host.follow_ups {
                let t = begin(progress, step, FOLLOW_UPS);
                let mut left = Vec::new();
                for f in std::mem::take(&mut outcome.follow_ups) {
                    if !needed(conn, f.condition.as_deref()).await? {
                        progress.emit(ProgressEvent::Output {
                            step: Some(step),
                            line: format!("{}: not needed ({} is false)", f.version, f.condition.as_deref().unwrap_or("")),
                        });
                        continue;
                    }
                    show(progress, step, &i.host, crate::docker::Sub::Exec, &[&i.app, f.argv()[0], f.argv()[1], f.argv()[2]]);
                    match i.run_follow_up(&f).await {
                        Ok(out) => {
                            for line in out.lines() {
                                progress.emit(ProgressEvent::Output {
                                    step: Some(step),
                                    line: line.to_string(),
                                });
                            }
                            outcome.follow_ups_run.push(f);
                        }
                        Err(e) => {
                            progress.emit(ProgressEvent::Warning {
                                step: Some(step),
                                message: format!("follow-up {} failed: {e}; run it by hand: {}", f.version, f.command(&i.app)),
                            });
                            left.push(f);
                        }
                    }
                }
                outcome.follow_ups = left;
                finish(progress, step, t);
            }
        }
        Ok(outcome)
    }
    .await;
    if let Some(d) = &docker {
        d.write_journal(conn, opts.audit_file.clone()).await;
    }
    let mut outcome = result?;
    outcome.elapsed_ms = started.elapsed().as_millis() as u64;
    progress.emit(ProgressEvent::Done {
        ok: true,
        message: outcome
            .dawarich_up
            .clone()
            .unwrap_or_else(|| format!("{} migrations applied", outcome.applied.len())),
    });
    Ok(outcome)
}

/// The Docker host of a session as an upgrade uses it (the CLI and the app alike).
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub install: Option<Install>,
    /// Why the containers are not managed, with the fix; or what the image's release means.
    pub notes: Vec<String>,
}

/// Finds the install of the session's database; folds the app container's environment into `env`
/// (after options, the profile and the .env) and makes the app image's release the target when
/// none was given and the catalog knows it. Read-only; a Docker host that cannot be used is a note.
pub async fn find_host(db: &crate::connect::Db, env: &mut Environment, target: &mut Option<String>) -> Found {
    let mut found = Found::default();
    let install = match crate::containers::find(db).await {
        Ok(i) => i,
        Err(e) => {
            found.notes.push(format!("{e}. {}", e.report().fix));
            return found;
        }
    };
    match install.app_environment().await {
        Ok(vars) => env.container = Some(vars),
        Err(e) => found
            .notes
            .push(format!("the app container's environment cannot be read: {e}")),
    }
    if let Ok(release) = install.release_of(&install.app).await {
        match crate::catalog::catalog().release(&release) {
            Some(_) if target.is_none() => *target = Some(release),
            Some(_) => {}
            None => found.notes.push(format!(
                "The app image holds Dawarich {release}, which this Dawarich Doctor does not know: it prepares the database up to the newest release it knows, and Dawarich migrates the rest itself when it starts."
            )),
        }
    }
    found.install = Some(install);
    found
}

/// What the upgrade screen shows of the Docker host (read-only): the install and where a backup
/// would go, or why not.
pub async fn proposal(
    db: &crate::connect::Db,
    folder: Option<&std::path::Path>,
    found: &Found,
    release: Option<&str>,
) -> HostProposal {
    let mut p = HostProposal::default();
    let install = found.install.as_ref();
    p.containers_note = (!found.notes.is_empty()).then(|| found.notes.join(" "));
    if let Some(i) = install {
        match i.status().await {
            Ok(s) => p.containers = Some(s),
            Err(e) => p.containers_note = Some(format!("{e}. {}", e.report().fix)),
        }
    }
    match source(db, install).await {
        Ok(_) => {
            p.backup_file = Some(
                crate::backup::default_path(folder, &db.database, release)
                    .display()
                    .to_string(),
            )
        }
        Err(e) => p.backup_note = Some(format!("{e}. {}", e.report().fix)),
    }
    p
}

/// The target release for the message (the plan's).
fn outcome_release(opts: &UpgradeOptions, planned: &str) -> String {
    opts.target.clone().unwrap_or_else(|| planned.to_string())
}

/// Evaluates a follow-up's condition on a fresh session (Dawarich has seeded by now).
async fn needed(conn: &ConnectOptions, condition: Option<&str>) -> Result<bool> {
    let Some(c) = condition else { return Ok(true) };
    let db = connect(conn).await?;
    Ok(db.query_one(&format!("SELECT ({c})::bool"), &[]).await?.get(0))
}

fn begin(progress: &dyn Progress, step: usize, title: &str) -> Instant {
    progress.emit(ProgressEvent::StepStarted {
        step,
        title: title.into(),
    });
    Instant::now()
}

fn finish(progress: &dyn Progress, step: usize, t: Instant) {
    progress.emit(ProgressEvent::StepFinished {
        step,
        elapsed_ms: t.elapsed().as_millis() as u64,
        rows: None,
    });
}

/// Shows a docker command before it runs.
fn show(progress: &dyn Progress, step: usize, host: &DockerHost, sub: crate::docker::Sub, args: &[&str]) {
    progress.emit(ProgressEvent::Output {
        step: Some(step),
        line: format!("$ {}  (on {})", DockerHost::command_line(sub, args), host.describe()),
    });
}

/// The inner upgrade's events with step numbers moved past the steps before it; its plan becomes
/// the whole list.
struct Shifted<'a> {
    inner: &'a dyn Progress,
    offset: usize,
    titles: &'a [String],
    before: usize,
    after: usize,
    /// Steps of the inner plan as last announced.
    steps: std::sync::Mutex<usize>,
}

impl Progress for Shifted<'_> {
    fn emit(&self, event: ProgressEvent) {
        let o = self.offset;
        let e = match event {
            // the plan made under the lock; re-announce the whole list only if it changed
            ProgressEvent::Plan { steps } => {
                if let Ok(mut n) = self.steps.lock() {
                    *n = steps.len();
                }
                let inner: Vec<&String> = self.titles[self.before..self.titles.len() - self.after]
                    .iter()
                    .collect();
                if steps.iter().map(|s| &s.title).eq(inner) {
                    return;
                }
                let titles: Vec<String> = self.titles[..self.before]
                    .iter()
                    .cloned()
                    .chain(steps.into_iter().map(|s| s.title))
                    .chain(self.titles[self.titles.len() - self.after..].iter().cloned())
                    .collect();
                ProgressEvent::Plan {
                    steps: titles
                        .into_iter()
                        .enumerate()
                        .map(|(step, title)| StepInfo { step, title })
                        .collect(),
                }
            }
            ProgressEvent::StepStarted { step, title } => ProgressEvent::StepStarted { step: step + o, title },
            ProgressEvent::StepProgress {
                step,
                done,
                total,
                rows_per_sec,
                eta_secs,
                statement,
            } => ProgressEvent::StepProgress {
                step: step + o,
                done,
                total,
                rows_per_sec,
                eta_secs,
                statement,
            },
            ProgressEvent::Waiting {
                step,
                blocker_pid,
                blocker_query,
                attempt,
            } => ProgressEvent::Waiting {
                step: step + o,
                blocker_pid,
                blocker_query,
                attempt,
            },
            ProgressEvent::StepFinished { step, elapsed_ms, rows } => ProgressEvent::StepFinished {
                step: step + o,
                elapsed_ms,
                rows,
            },
            ProgressEvent::Warning { step, message } => ProgressEvent::Warning {
                step: step.map(|s| s + o),
                message,
            },
            ProgressEvent::Output { step, line } => ProgressEvent::Output {
                step: step.map(|s| s + o),
                line,
            },
            ProgressEvent::Transfer {
                step,
                bytes,
                total,
                bytes_per_sec,
            } => ProgressEvent::Transfer {
                step: step + o,
                bytes,
                total,
                bytes_per_sec,
            },
            // the whole run ends later
            ProgressEvent::Done { .. } => return,
        };
        self.inner.emit(e);
    }
}
