//! The one-click run as a state machine: `Run::new` lays out the phases the user chose, `start` gives
//! the first step, and `on` takes each event (a progress event, the user's answer, a command's
//! result) and gives the next step, until the run ends. The driver in `upgrade.rs` only performs
//! the steps; everything decided here is tested on the host.

use dawarich_doctor_model::{
    BackupOutcome, Confirmation, Confirmed, ErrorKind, ErrorReport, FollowUp, ProgressEvent, ReleaseOutcome,
    RepairChoice, RepairOutcome, SchemaDifference, UndoRow, UpgradeOutcome, WatchReport,
};

use crate::format::duration;

/// What the driver does next: one shell command (the destructive ones ask in their dialog first).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// pg_dump into this file (nothing changes; no dialog).
    Backup {
        file: String,
    },
    StopContainers {
        confirmation: Confirmation,
    },
    ReleaseLock {
        pid: i32,
        force: bool,
        confirmation: Confirmation,
    },
    Repair {
        choice: RepairChoice,
        confirmation: Confirmation,
    },
    Migrate {
        confirmation: Confirmation,
    },
    Verify {
        release: String,
    },
    /// Start Dawarich and watch it migrate itself (no dialog: the stop before it asked).
    Watch,
}

/// What happened to the current step.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Progress(ProgressEvent),
    /// Cancel in the step's dialog: it did not run.
    Declined,
    BackedUp(BackupOutcome),
    /// The containers stopped.
    Stopped(Vec<String>),
    Released(ReleaseOutcome),
    Repaired(RepairOutcome),
    Migrated(UpgradeOutcome),
    Verified(Vec<SchemaDifference>),
    Watched(WatchReport),
    /// The command failed (a cancel at the next safe point included).
    Failed(ErrorReport),
}

/// The event of a destructive command's answer: done, declined in its dialog, or failed.
pub fn answered<T>(answer: Result<Confirmed<T>, ErrorReport>, done: fn(T) -> Event) -> Event {
    match answer {
        Ok(Confirmed::Done(v)) => done(v),
        Ok(Confirmed::Declined) => Event::Declined,
        Err(e) => Event::Failed(e),
    }
}

/// What the user chose on the plan, in the order it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// The file Dawarich Doctor backs up to first (`None`: the user made one by hand).
    pub backup: Option<String>,
    /// Stop app and sidekiq (the question names them); the migrations start them again.
    pub stop: Option<Confirmation>,
    /// The lock holder to end: pid, force, and the question.
    pub release: Option<(i32, bool, Confirmation)>,
    /// Each repair run: its title, choice and question; asked only when the preview found rows it
    /// changes.
    pub repairs: Vec<(String, RepairChoice, Confirmation, bool)>,
    /// `None`: the migrations are left to Dawarich's next start.
    pub migrate: Option<Confirmation>,
    /// Dawarich migrates itself, watched (instead of `migrate`).
    pub watch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseState {
    Pending,
    /// Waiting for the answer to its native confirmation dialog.
    Asking,
    Running,
    Done,
    Failed,
}

impl PhaseState {
    pub fn badge(self) -> (&'static str, &'static str) {
        match self {
            PhaseState::Pending => ("Pending", "pending"),
            PhaseState::Asking => ("Asking you", "warning"),
            PhaseState::Running => ("Running", "warning"),
            PhaseState::Done => ("Done", "ok"),
            PhaseState::Failed => ("Stopped", "problem"),
        }
    }
}

/// One phase of the run (lock release, a repair, the migrations, verify) and its step.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub id: String,
    pub title: String,
    pub state: PhaseState,
    /// What it did, once done.
    pub detail: String,
    step: Step,
    /// Its dialog opens when it starts.
    asks: bool,
    /// For a repair: the title its Undo entry gets.
    repair_title: String,
}

/// A repair run that Undo can put back (updated rows reverted, quarantined rows restored).
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantine {
    pub run_id: String,
    pub title: String,
    pub rows: i64,
    pub quarantined: i64,
    pub undone: Option<String>,
}

/// A one-click run, from the first step to the end screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub phases: Vec<Phase>,
    pub live: LiveProgress,
    pub running: bool,
    /// Why it stopped early (an error, or the cancel message).
    pub stopped: Option<ErrorReport>,
    pub quarantines: Vec<Quarantine>,
    pub follow_ups: Vec<FollowUp>,
    /// `None`: not verified (stopped early, or migrations left to Dawarich).
    pub diffs: Option<Vec<SchemaDifference>>,
    /// What a release's schema.rb left behind that Dawarich keeps too, with its explanation.
    pub kept: Vec<SchemaDifference>,
    pub release: String,
    pub migrations_left: bool,
    /// The backup made in this run.
    pub backup: Option<BackupOutcome>,
    /// "Dawarich 1.7.5 is up" and the log lines that show it, when the run started it.
    pub up: Option<(String, Vec<String>)>,
    /// Follow-ups the run did in the app container.
    pub follow_ups_run: Vec<FollowUp>,
    /// How watching Dawarich migrate itself ended.
    pub watched: Option<WatchReport>,
    current: usize,
}

impl Run {
    /// The phases of `plan` to `release`, all pending.
    pub fn new(plan: RunPlan, release: &str, follow_ups: Vec<FollowUp>) -> Run {
        let mut phases = Vec::new();
        let mut phase = |id: String, title: String, step: Step, asks: bool, repair_title: String| {
            phases.push(Phase {
                id,
                title,
                state: PhaseState::Pending,
                detail: String::new(),
                step,
                asks,
                repair_title,
            })
        };
        if let Some(file) = plan.backup {
            phase(
                "backup".into(),
                "Back up the database".into(),
                Step::Backup { file },
                false,
                String::new(),
            );
        }
        if let Some(confirmation) = plan.stop {
            phase(
                "stop".into(),
                "Stop Dawarich (app and sidekiq)".into(),
                Step::StopContainers { confirmation },
                true,
                String::new(),
            );
        }
        if let Some((pid, force, confirmation)) = plan.release {
            phase(
                "lock".into(),
                format!("Release the migration lock (session {pid})"),
                Step::ReleaseLock {
                    pid,
                    force,
                    confirmation,
                },
                true,
                String::new(),
            );
        }
        for (i, (title, choice, confirmation, asks)) in plan.repairs.into_iter().enumerate() {
            phase(
                format!("repair-{i}"),
                format!("Repair {title}"),
                Step::Repair { choice, confirmation },
                asks,
                title,
            );
        }
        let migrations_left = plan.migrate.is_none() && !plan.watch;
        if plan.watch {
            phase(
                "watch".into(),
                "Dawarich migrates itself (watched)".into(),
                Step::Watch,
                false,
                String::new(),
            );
        }
        if let Some(confirmation) = plan.migrate {
            phase(
                "migrate".into(),
                format!("Schema and data migrations to {release}"),
                Step::Migrate { confirmation },
                true,
                String::new(),
            );
            phase(
                "verify".into(),
                format!("Verify against Dawarich {release}"),
                Step::Verify {
                    release: release.into(),
                },
                false,
                String::new(),
            );
        }
        Run {
            phases,
            live: LiveProgress::default(),
            running: true,
            stopped: None,
            quarantines: Vec::new(),
            follow_ups,
            diffs: None,
            kept: Vec::new(),
            release: release.into(),
            migrations_left,
            backup: None,
            up: None,
            follow_ups_run: Vec::new(),
            watched: None,
            current: 0,
        }
    }

    /// The first step (`None`: nothing was chosen, the run is over).
    pub fn start(&mut self) -> Option<Step> {
        self.begin(0)
    }

    /// The question of the dialog open now, if any.
    pub fn question(&self) -> Option<String> {
        let p = self
            .phases
            .get(self.current)
            .filter(|p| p.state == PhaseState::Asking)?;
        match &p.step {
            Step::ReleaseLock { confirmation, .. }
            | Step::StopContainers { confirmation }
            | Step::Repair { confirmation, .. }
            | Step::Migrate { confirmation } => Some(confirmation.message.clone()),
            Step::Verify { .. } | Step::Backup { .. } | Step::Watch => None,
        }
    }

    /// Takes an event of the current step; answers the next step to perform, if any.
    pub fn on(&mut self, event: Event) -> Option<Step> {
        let i = self.current;
        if !self.running || i >= self.phases.len() {
            return None;
        }
        let detail = match event {
            Event::Progress(e) => {
                // progress means the dialog was answered and the step runs
                if self.phases[i].state == PhaseState::Asking {
                    self.phases[i].state = PhaseState::Running;
                    self.phases[i].detail.clear();
                }
                self.live.apply(&e);
                return None;
            }
            Event::Declined => {
                let message = format!(
                    "Cancelled: \u{201c}{}\u{201d} did not run, nor anything after it.",
                    self.phases[i].title
                );
                return self.stop(ErrorReport {
                    kind: ErrorKind::Cancelled,
                    message,
                    fix: "What finished before it is kept; Plan again to continue.".into(),
                });
            }
            Event::Failed(e) => return self.stop(e),
            Event::BackedUp(b) => {
                let detail = format!(
                    "{} ({:.1} MB, data of {} tables, verified)",
                    b.path,
                    b.bytes as f64 / 1_048_576.0,
                    b.tables
                );
                self.backup = Some(b);
                detail
            }
            Event::Stopped(names) => format!("Stopped {}.", names.join(", ")),
            Event::Watched(r) => {
                let recorded = format!("{} versions recorded", r.recorded.len());
                let failure = r.failure.clone();
                let advice = r.advice.clone();
                self.watched = Some(r);
                if let Some(f) = failure {
                    return self.stop(ErrorReport {
                        kind: ErrorKind::Precondition,
                        message: format!("Dawarich's start failed: {} ({recorded}).", f.summary()),
                        fix: advice.map(|a| format!("{} {}", a.message, a.fix)).unwrap_or_default(),
                    });
                }
                self.up = Some((format!("Dawarich is up: {recorded}"), vec![]));
                format!("Dawarich is up; {recorded}.")
            }
            Event::Released(o) if !o.lock_free => {
                return self.stop(ErrorReport {
                    kind: ErrorKind::Refused,
                    message: "The lock is still held.".into(),
                    fix: "Run the diagnosis again to see by whom.".into(),
                })
            }
            Event::Released(o) => format!("Session {} ended ({}); the lock is free.", o.pid, o.actions.join(" → ")),
            Event::Repaired(o) => {
                let rows: i64 = o.rules.iter().map(|r| r.count).sum();
                if rows > 0 {
                    self.quarantines.push(Quarantine {
                        run_id: o.run_id.clone(),
                        title: self.phases[i].repair_title.clone(),
                        rows,
                        quarantined: o.quarantined,
                        undone: None,
                    });
                }
                format!(
                    "{rows} rows ({}), run {}",
                    o.rules
                        .iter()
                        .map(|r| format!("{} {}", r.rule, r.count))
                        .collect::<Vec<_>>()
                        .join(", "),
                    o.run_id
                )
            }
            Event::Migrated(o) => {
                self.follow_ups = o.follow_ups.clone();
                self.follow_ups_run = o.follow_ups_run.clone();
                self.up = o.dawarich_up.clone().map(|u| (u, o.dawarich_log.clone()));
                format!(
                    "{} migrations applied in {}, run {}{}",
                    o.applied.len(),
                    duration(o.elapsed_ms as f64 / 1000.0),
                    o.run_id,
                    o.dawarich_up.as_deref().map(|u| format!("; {u}")).unwrap_or_default()
                )
            }
            Event::Verified(d) => {
                let (kept, missing): (Vec<_>, Vec<_>) = d.into_iter().partition(|d| d.is_kept());
                let release = &self.release;
                let detail = if missing.is_empty() {
                    format!("The schema is exactly what {release} expects.")
                } else {
                    format!("{} differences from what {release} expects.", missing.len())
                };
                let state = if missing.is_empty() {
                    PhaseState::Done
                } else {
                    PhaseState::Failed
                };
                self.diffs = Some(missing);
                self.kept = kept.into_iter().filter(|d| d.note.is_some()).collect();
                self.finish(i, state, detail);
                return self.begin(i + 1);
            }
        };
        self.finish(i, PhaseState::Done, detail);
        self.begin(i + 1)
    }

    /// Records what Undo put back for quarantine `i`.
    pub fn undone(&mut self, i: usize, rows: &[UndoRow]) {
        let n: i64 = rows.iter().map(|r| r.restored + r.reverted).sum();
        if let Some(q) = self.quarantines.get_mut(i) {
            q.undone = Some(format!("Undone: {n} rows put back"));
        }
    }

    fn finish(&mut self, i: usize, state: PhaseState, detail: String) {
        self.phases[i].state = state;
        self.phases[i].detail = detail;
        self.live = LiveProgress::default();
    }

    /// Starts phase `i` (asking first when it asks); the end of the run after the last one.
    fn begin(&mut self, i: usize) -> Option<Step> {
        self.current = i;
        let Some(p) = self.phases.get_mut(i) else {
            self.running = false;
            return None;
        };
        if p.asks {
            p.state = PhaseState::Asking;
            p.detail = "Waiting for your answer in the dialog.".into();
        } else {
            p.state = PhaseState::Running;
        }
        Some(p.step.clone())
    }

    fn stop(&mut self, e: ErrorReport) -> Option<Step> {
        self.finish(self.current, PhaseState::Failed, e.message.clone());
        self.stopped = Some(e);
        self.running = false;
        None
    }
}

/// The live progress of the running phase, from the core's events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveProgress {
    pub steps_total: usize,
    pub steps_done: usize,
    pub step: Option<String>,
    pub done: u64,
    pub total: Option<u64>,
    pub rows_per_sec: f64,
    pub eta_secs: Option<f64>,
    pub statement: Option<String>,
    /// Whom we wait for (a Waiting event), until the step moves on.
    pub waiting: Option<String>,
    pub warnings: Vec<String>,
    /// Bytes written by a backup (a Transfer event) instead of rows.
    pub bytes: bool,
    /// Docker commands and their output in this step (the last lines).
    pub output: Vec<String>,
}

/// Lines of output kept for the live view.
const OUTPUT_LINES: usize = 12;

impl LiveProgress {
    pub fn apply(&mut self, e: &ProgressEvent) {
        match e {
            ProgressEvent::Plan { steps } => self.steps_total = steps.len(),
            ProgressEvent::StepStarted { title, .. } => {
                *self = LiveProgress {
                    steps_total: self.steps_total,
                    steps_done: self.steps_done,
                    warnings: std::mem::take(&mut self.warnings),
                    ..Default::default()
                };
                self.step = Some(title.clone());
            }
            ProgressEvent::StepProgress {
                done,
                total,
                rows_per_sec,
                eta_secs,
                statement,
                ..
            } => {
                self.done = *done;
                self.total = *total;
                self.rows_per_sec = *rows_per_sec;
                self.eta_secs = *eta_secs;
                if statement.is_some() {
                    self.statement = statement.clone();
                }
                self.waiting = None;
            }
            ProgressEvent::Waiting {
                blocker_pid,
                blocker_query,
                attempt,
                ..
            } => {
                self.waiting = Some(format!(
                    "Waiting for session {blocker_pid}{} (attempt {attempt})",
                    blocker_query
                        .as_deref()
                        .map(|q| format!(", running: {q}"))
                        .unwrap_or_default()
                ))
            }
            ProgressEvent::StepFinished { .. } => {
                self.steps_done += 1;
                self.waiting = None;
            }
            ProgressEvent::Warning { message, .. } => self.warnings.push(message.clone()),
            ProgressEvent::Output { line, .. } => {
                self.output.push(line.clone());
                let extra = self.output.len().saturating_sub(OUTPUT_LINES);
                self.output.drain(..extra);
            }
            ProgressEvent::Transfer {
                bytes,
                total,
                bytes_per_sec,
                ..
            } => {
                self.bytes = true;
                self.done = *bytes;
                self.total = *total;
                self.rows_per_sec = *bytes_per_sec;
                self.eta_secs = None;
            }
            ProgressEvent::Done { .. } => {}
        }
    }

    /// 0–100 for the bar, when the total is known.
    pub fn percent(&self) -> Option<u64> {
        self.total.filter(|t| *t > 0).map(|t| (self.done.min(t) * 100) / t)
    }

    /// `1200 of 5000 rows · 850 rows/s · about 4 s left`
    pub fn rate_line(&self) -> String {
        if self.bytes {
            let mb = |b: f64| b / 1_048_576.0;
            let mut line = format!("{:.1} MB written", mb(self.done as f64));
            if let Some(t) = self.total {
                line += &format!(" (database {:.1} MB)", mb(t as f64));
            }
            if self.rows_per_sec > 0.0 {
                line += &format!(" · {:.1} MB/s", mb(self.rows_per_sec));
            }
            return line;
        }
        let mut parts = vec![match self.total {
            Some(t) => format!("{} of {t} rows", self.done),
            None => format!("{} rows", self.done),
        }];
        if self.rows_per_sec > 0.0 {
            parts.push(format!("{:.0} rows/s", self.rows_per_sec));
        }
        if let Some(eta) = self.eta_secs {
            parts.push(format!("about {} left", duration(eta)));
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use dawarich_doctor_model::{Change, CheckId, ObjectKind, RuleCount, StrategyId};

    use super::*;

    fn q(title: &str) -> Confirmation {
        Confirmation {
            title: title.into(),
            message: format!("{title} really?"),
            ok: "Go".into(),
        }
    }

    fn choice(strategy: StrategyId) -> RepairChoice {
        RepairChoice {
            check: CheckId::PointsWithoutUser,
            strategy,
            user: None,
        }
    }

    /// Lock release, infer (4 rows), quarantine (3 rows), then the migrations unless `stop_after`.
    fn plan(stop_after: bool) -> RunPlan {
        RunPlan {
            backup: None,
            stop: None,
            release: Some((42, false, q("End session 42?"))),
            repairs: vec![
                (
                    "Points without a user — infer".into(),
                    choice(StrategyId::Infer),
                    q("Repair 4?"),
                    true,
                ),
                (
                    "Points without a user — quarantine".into(),
                    choice(StrategyId::Quarantine),
                    q("Quarantine 3?"),
                    true,
                ),
            ],
            migrate: (!stop_after).then(|| q("Apply 133 migrations?")),
            watch: false,
        }
    }

    fn repaired(strategy: StrategyId, run_id: &str, rows: i64, quarantined: i64) -> Event {
        Event::Repaired(RepairOutcome {
            run_id: run_id.into(),
            check: CheckId::PointsWithoutUser,
            strategy,
            rules: vec![RuleCount {
                rule: strategy.as_str().into(),
                description: String::new(),
                count: rows,
            }],
            quarantined,
            longest_transaction_ms: 1,
            elapsed_ms: 1,
        })
    }

    fn released() -> Event {
        Event::Released(ReleaseOutcome {
            pid: 42,
            actions: vec!["terminate".into()],
            lock_free: true,
        })
    }

    fn migrated() -> Event {
        Event::Migrated(UpgradeOutcome {
            run_id: "m1".into(),
            applied: vec!["1".into(); 133],
            follow_ups: vec![],
            elapsed_ms: 4000,
            backup: None,
            dawarich_up: None,
            dawarich_log: vec![],
            follow_ups_run: vec![],
        })
    }

    fn diff(change: Change, note: Option<&str>) -> SchemaDifference {
        SchemaDifference {
            change,
            object: ObjectKind::Index,
            name: "i".into(),
            expected: None,
            actual: None,
            note: note.map(String::from),
        }
    }

    fn states(r: &Run) -> Vec<PhaseState> {
        r.phases.iter().map(|p| p.state).collect()
    }

    /// A run through the lock and both repairs.
    fn through_repairs(stop_after: bool) -> Run {
        let mut r = Run::new(plan(stop_after), "1.7.5", vec![]);
        assert!(matches!(
            r.start(),
            Some(Step::ReleaseLock {
                pid: 42,
                force: false,
                ..
            })
        ));
        assert_eq!(r.question().as_deref(), Some("End session 42? really?"));
        assert!(
            matches!(r.on(released()), Some(Step::Repair { ref choice, .. }) if choice.strategy == StrategyId::Infer)
        );
        r.on(Event::Progress(ProgressEvent::StepStarted {
            step: 0,
            title: "infer".into(),
        }));
        assert_eq!(
            r.phases[1].state,
            PhaseState::Running,
            "progress: the dialog was answered"
        );
        assert_eq!(r.question(), None);
        assert!(
            matches!(r.on(repaired(StrategyId::Infer, "r1", 4, 0)), Some(Step::Repair { ref choice, .. }) if choice.strategy == StrategyId::Quarantine)
        );
        r
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_full_run_releases_repairs_migrates_and_verifies() {
        let mut r = through_repairs(false);
        assert!(matches!(
            r.on(repaired(StrategyId::Quarantine, "r2", 3, 3)),
            Some(Step::Migrate { .. })
        ));
        assert_eq!(r.question().as_deref(), Some("Apply 133 migrations? really?"));
        assert_eq!(
            r.on(migrated()),
            Some(Step::Verify {
                release: "1.7.5".into()
            })
        );
        assert_eq!(r.phases[3].detail, "133 migrations applied in 4 s, run m1");
        assert_eq!(r.on(Event::Verified(vec![])), None);
        assert!(!r.running && r.stopped.is_none());
        assert_eq!(states(&r), [PhaseState::Done; 5]);
        assert_eq!(r.phases[0].detail, "Session 42 ended (terminate); the lock is free.");
        assert_eq!(r.diffs, Some(vec![]));
        assert_eq!(
            r.quarantines
                .iter()
                .map(|q| (q.title.as_str(), q.rows, q.quarantined))
                .collect::<Vec<_>>(),
            [
                ("Points without a user — infer", 4, 0),
                ("Points without a user — quarantine", 3, 3)
            ]
        );
        assert!(!r.migrations_left);
        r.undone(
            1,
            &[UndoRow {
                table: "points".into(),
                reverted: 0,
                restored: 3,
                skipped: 0,
            }],
        );
        assert_eq!(r.quarantines[1].undone.as_deref(), Some("Undone: 3 rows put back"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_declined_confirmation_stops_there_and_runs_nothing_after_it() {
        let mut r = Run::new(plan(false), "1.7.5", vec![]);
        r.start();
        assert_eq!(
            r.on(answered::<ReleaseOutcome>(Ok(Confirmed::Declined), Event::Released)),
            None
        );
        let e = r.stopped.clone().unwrap();
        assert_eq!(e.kind, ErrorKind::Cancelled);
        assert_eq!(
            e.message,
            "Cancelled: \u{201c}Release the migration lock (session 42)\u{201d} did not run, nor anything after it."
        );
        assert_eq!(
            states(&r),
            [
                PhaseState::Failed,
                PhaseState::Pending,
                PhaseState::Pending,
                PhaseState::Pending,
                PhaseState::Pending
            ]
        );
        assert!(!r.running && r.question().is_none());
        assert_eq!(r.on(released()), None, "nothing runs after the end");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_failed_repair_stops_the_run_and_keeps_what_finished() {
        let mut r = through_repairs(false);
        let e = ErrorReport {
            kind: ErrorKind::Database,
            message: "deadlock".into(),
            fix: "again".into(),
        };
        assert_eq!(r.on(Event::Failed(e.clone())), None);
        assert_eq!(r.stopped, Some(e));
        assert_eq!(
            states(&r),
            [
                PhaseState::Done,
                PhaseState::Done,
                PhaseState::Failed,
                PhaseState::Pending,
                PhaseState::Pending
            ]
        );
        assert_eq!(r.phases[2].detail, "deadlock");
        assert_eq!(r.quarantines.len(), 1, "the infer run can still be undone");
        assert_eq!(r.diffs, None);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_cancel_stops_the_migrations_at_the_next_safe_point() {
        let mut r = through_repairs(false);
        r.on(repaired(StrategyId::Quarantine, "r2", 3, 3));
        r.on(Event::Progress(ProgressEvent::StepStarted {
            step: 0,
            title: "20240101 add index".into(),
        }));
        assert_eq!(r.live.step.as_deref(), Some("20240101 add index"));
        let cancelled = ErrorReport {
            kind: ErrorKind::Cancelled,
            message: "cancelled: at the next safe point".into(),
            fix: "Run again".into(),
        };
        assert_eq!(r.on(Event::Failed(cancelled)), None);
        assert_eq!(r.stopped.as_ref().map(|e| e.kind), Some(ErrorKind::Cancelled));
        assert_eq!(states(&r)[3..], [PhaseState::Failed, PhaseState::Pending]);
        assert_eq!(r.live, LiveProgress::default());
        assert_eq!(r.quarantines.len(), 2);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn stop_after_repairs_leaves_the_migrations_to_dawarich() {
        let mut r = through_repairs(true);
        assert_eq!(r.phases.len(), 3);
        assert_eq!(r.on(repaired(StrategyId::Quarantine, "r2", 3, 3)), None);
        assert!(!r.running && r.stopped.is_none() && r.migrations_left);
        assert_eq!(r.diffs, None);
        assert_eq!(states(&r), [PhaseState::Done; 3]);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_repair_that_changes_nothing_asks_nothing_and_leaves_nothing_to_undo() {
        let plan = RunPlan {
            backup: None,
            stop: None,
            release: None,
            repairs: vec![("infer".into(), choice(StrategyId::Infer), q("Repair 0?"), false)],
            migrate: None,
            watch: false,
        };
        let mut r = Run::new(plan, "1.7.5", vec![]);
        assert!(matches!(r.start(), Some(Step::Repair { .. })));
        assert_eq!((r.phases[0].state, r.question()), (PhaseState::Running, None));
        assert_eq!(r.on(repaired(StrategyId::Infer, "r1", 0, 0)), None);
        assert!(r.quarantines.is_empty());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn verify_reports_differences_and_lists_kept_objects_apart() {
        let verified = |diffs: Vec<SchemaDifference>| {
            let mut r = Run::new(
                RunPlan {
                    backup: None,
                    stop: None,
                    release: None,
                    repairs: vec![],
                    migrate: Some(q("Apply?")),
                    watch: false,
                },
                "1.7.5",
                vec![],
            );
            r.start();
            r.on(migrated());
            assert_eq!(r.on(Event::Verified(diffs)), None);
            r
        };
        let r = verified(vec![
            diff(Change::Missing, None),
            diff(Change::Extra, None),
            diff(Change::Extra, Some("left by 0.9.x's schema.rb; Dawarich keeps it")),
        ]);
        assert_eq!(r.diffs, Some(vec![diff(Change::Missing, None)]));
        assert_eq!(r.phases[1].state, PhaseState::Failed);
        assert_eq!(r.phases[1].detail, "1 differences from what 1.7.5 expects.");
        assert_eq!(r.kept.len(), 1, "an extra without an explanation is not listed as kept");
        assert!(r.stopped.is_none() && !r.running);

        let r = verified(vec![diff(
            Change::Different,
            Some("an older default that Dawarich keeps"),
        )]);
        assert_eq!(r.diffs, Some(vec![]));
        assert_eq!(r.phases[1].state, PhaseState::Done);
        assert_eq!(r.phases[1].detail, "The schema is exactly what 1.7.5 expects.");
        assert_eq!(r.kept.len(), 1);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_lock_still_held_after_the_release_stops_the_run() {
        let mut r = Run::new(plan(false), "1.7.5", vec![]);
        r.start();
        assert_eq!(
            r.on(Event::Released(ReleaseOutcome {
                pid: 42,
                actions: vec![],
                lock_free: false
            })),
            None
        );
        assert_eq!(r.stopped.as_ref().map(|e| e.kind), Some(ErrorKind::Refused));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn live_progress_shows_rate_eta_statement_and_whom_we_wait_for() {
        let mut l = LiveProgress::default();
        l.apply(&ProgressEvent::StepStarted {
            step: 0,
            title: "20240101 add index".into(),
        });
        l.apply(&ProgressEvent::Waiting {
            step: 0,
            blocker_pid: 42,
            blocker_query: Some("SELECT 1".into()),
            attempt: 2,
        });
        assert_eq!(
            l.waiting.as_deref(),
            Some("Waiting for session 42, running: SELECT 1 (attempt 2)")
        );
        l.apply(&ProgressEvent::StepProgress {
            step: 0,
            done: 250,
            total: Some(1000),
            rows_per_sec: 125.0,
            eta_secs: Some(6.0),
            statement: Some("UPDATE points".into()),
        });
        assert_eq!(l.waiting, None);
        assert_eq!(l.percent(), Some(25));
        assert_eq!(l.rate_line(), "250 of 1000 rows · 125 rows/s · about 6 s left");
        assert_eq!(l.statement.as_deref(), Some("UPDATE points"));
        l.apply(&ProgressEvent::StepFinished {
            step: 0,
            elapsed_ms: 1,
            rows: None,
        });
        assert_eq!(l.steps_done, 1);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_backup_and_the_stop_come_first_and_the_end_says_dawarich_is_up() {
        let mut plan = plan(false);
        plan.backup = Some("/home/me/b.dump".into());
        plan.stop = Some(q("Stop dawarich_sidekiq and dawarich_app?"));
        let mut r = Run::new(plan, "1.7.5", vec![]);
        let ids: Vec<&str> = r.phases.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids[..3], ["backup", "stop", "lock"]);
        // the backup changes nothing: no dialog
        assert_eq!(
            r.start(),
            Some(Step::Backup {
                file: "/home/me/b.dump".into()
            })
        );
        assert_eq!(r.question(), None);
        r.on(Event::Progress(ProgressEvent::Transfer {
            step: 0,
            bytes: 3 * 1_048_576,
            total: Some(10 * 1_048_576),
            bytes_per_sec: 1_048_576.0,
        }));
        assert_eq!(r.live.rate_line(), "3.0 MB written (database 10.0 MB) · 1.0 MB/s");
        let next = r.on(Event::BackedUp(BackupOutcome {
            path: "/home/me/b.dump".into(),
            bytes: 3 * 1_048_576,
            tables: 30,
            restore_command: "docker exec -i dawarich_db pg_restore …".into(),
            elapsed_ms: 3000,
        }));
        assert!(matches!(next, Some(Step::StopContainers { .. })));
        assert_eq!(
            r.question().as_deref(),
            Some("Stop dawarich_sidekiq and dawarich_app? really?")
        );
        assert!(matches!(
            r.on(Event::Stopped(vec!["dawarich_sidekiq".into(), "dawarich_app".into()])),
            Some(Step::ReleaseLock { .. })
        ));
        assert_eq!(r.phases[1].detail, "Stopped dawarich_sidekiq, dawarich_app.");
        r.on(released());
        r.on(repaired(StrategyId::Infer, "r1", 4, 0));
        r.on(repaired(StrategyId::Quarantine, "r2", 3, 3));
        let follow = FollowUp {
            version: "20250720171241".into(),
            runner: "BulkStatsCalculatingJob.perform_later".into(),
            condition: None,
        };
        let Event::Migrated(mut o) = migrated() else {
            unreachable!()
        };
        o.dawarich_up = Some("Dawarich 1.7.5 is up".into());
        o.dawarich_log = vec!["* Listening on http://[::]:3000".into()];
        o.follow_ups_run = vec![follow.clone()];
        assert!(matches!(r.on(Event::Migrated(o)), Some(Step::Verify { .. })));
        assert_eq!(
            r.up,
            Some((
                "Dawarich 1.7.5 is up".into(),
                vec!["* Listening on http://[::]:3000".into()]
            ))
        );
        assert_eq!(
            (r.follow_ups_run.clone(), r.follow_ups.is_empty()),
            (vec![follow], true)
        );
        assert!(r.backup.is_some());
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn letting_dawarich_migrate_watches_and_a_failure_stops_with_its_fix() {
        let plan = || RunPlan {
            backup: None,
            stop: Some(q("Stop dawarich_sidekiq and dawarich_app?")),
            release: None,
            repairs: vec![],
            migrate: None,
            watch: true,
        };
        let mut r = Run::new(plan(), "1.7.5", vec![]);
        assert!(matches!(r.start(), Some(Step::StopContainers { .. })));
        assert_eq!(r.on(Event::Stopped(vec!["dawarich_app".into()])), Some(Step::Watch));
        assert_eq!(r.question(), None);
        r.on(Event::Progress(ProgressEvent::StepStarted {
            step: 0,
            title: "20270101000002 BackfillDoctorFutureNote".into(),
        }));
        assert_eq!(r.live.step.as_deref(), Some("20270101000002 BackfillDoctorFutureNote"));
        assert_eq!(
            r.on(Event::Watched(WatchReport {
                recorded: vec!["20270101000001".into()],
                failure: None,
                advice: None,
            })),
            None
        );
        assert_eq!(
            r.up.as_ref().map(|u| u.0.as_str()),
            Some("Dawarich is up: 1 versions recorded")
        );
        assert!(!r.migrations_left && r.stopped.is_none());

        let mut r = Run::new(plan(), "1.7.5", vec![]);
        r.start();
        r.on(Event::Stopped(vec![]));
        let failure = dawarich_doctor_model::Failure::LockHeld;
        r.on(Event::Watched(WatchReport {
            recorded: vec![],
            failure: Some(failure.clone()),
            advice: Some(dawarich_doctor_model::Advice {
                message: "Held by session 42.".into(),
                fix: "End it.".into(),
                check: None,
            }),
        }));
        let stopped = r.stopped.clone().unwrap();
        assert!(stopped.message.contains("ConcurrentMigrationError"), "{stopped:?}");
        assert_eq!(stopped.fix, "Held by session 42. End it.");
        assert_eq!(r.watched.unwrap().failure, Some(failure));
    }
}
