//! Everything the screens decide that does not need a browser: the profile form, the state of a
//! connection test, the "why does my upgrade fail" summary of a diagnosis, formatting. Plain Rust,
//! tested on the host (`cargo test -p dawarich-doctor-ui`) and in the browser (wasm-bindgen-test).

use dawarich_doctor_model::{
    validate_profile, AuditEntry, Check, CheckStatus, Diagnosis, ErrorReport, FieldError, HolderVerdict, LockHolder, ParsedConnection, PasswordSource,
    ProbeStatus, ProbeStep, ProbeStepId, Profile, ProgressEvent, RepairChoice, RepairPreview, SslMode,
};

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
            saved_password: if p.id.is_empty() { None } else { Some(p.password.clone()) },
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
        self.no_password = parsed.password.is_none() && parsed.profile.password == PasswordSource::None && self.saved_password.is_none();
    }

    /// The profile to save or test, or the fields to fix.
    pub fn to_profile(&self) -> Result<Profile, Vec<FieldError>> {
        let mut errors = Vec::new();
        let port = match self.port.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                errors.push(FieldError { field: "port".into(), message: "The port is a number from 1 to 65535 (PostgreSQL's default is 5432).".into() });
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
            password: if self.no_password { PasswordSource::None } else { self.saved_password.clone().unwrap_or(PasswordSource::Ask) },
            sslmode,
            ca_file: Some(self.ca_file.trim().to_string()).filter(|c| !c.is_empty()),
            application_name: if self.application_name.trim().is_empty() { dawarich_doctor_model::APPLICATION_NAME.into() } else { self.application_name.trim().to_string() },
            ..self.base.clone()
        };
        let port_reported = !errors.is_empty();
        errors.extend(validate_profile(&p).into_iter().filter(|e| !(port_reported && e.field == "port")));
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
            (Some(PasswordSource::Keychain), true) => return "Saved in the OS keychain. Type a new one to replace it.".into(),
            (Some(PasswordSource::Ask), true) => return "Not stored: you are asked for it once per run.".into(),
            _ => "",
        };
        match keychain_unavailable {
            Some(reason) => format!("{keep}Not stored on disk: {reason}; the password is kept in memory until the app quits."),
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
    ProbeStepId::ALL.iter().map(|id| StepRow { id: *id, title: id.title(), result: None }).collect()
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

/// How bad things are, for colour and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Good,
    Attention,
    Blocked,
}

impl Level {
    pub fn class(self) -> &'static str {
        match self {
            Level::Good => "ok",
            Level::Attention => "warning",
            Level::Blocked => "problem",
        }
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

/// A lock holder as one sentence.
pub fn describe_holder(h: &LockHolder) -> String {
    let who = h.application_name.as_deref().filter(|a| !a.is_empty()).unwrap_or("a session without application name");
    let from = h.client_addr.as_deref().unwrap_or("the local socket");
    let age = h.state_age_secs.map(duration).unwrap_or_else(|| "?".into());
    let verdict = match h.verdict {
        HolderVerdict::Stale => "stale: it does nothing and keeps every migration waiting",
        HolderVerdict::ActiveMigration => "running a statement: a migration is in progress",
        HolderVerdict::Unknown => "briefly idle: it may be a migration between statements",
    };
    format!("pid {} ({who}, from {from}) is {} for {age} — {verdict}", h.pid, h.state.as_deref().unwrap_or("in an unknown state"))
}

pub fn summarize(d: &Diagnosis) -> Summary {
    let mut reasons: Vec<(Level, String)> = Vec::new();
    let w = &d.dawarich;
    for h in d.lock.holders.iter().filter(|h| !h.is_self) {
        let level = if h.verdict == HolderVerdict::Stale { Level::Blocked } else { Level::Attention };
        reasons.push((level, format!("The migration lock is held: {}.", describe_holder(h))));
    }
    for c in d.checks.iter().filter(|c| c.status == CheckStatus::Problem) {
        let blocks = if c.blocks.is_empty() { String::new() } else { format!(" (blocks {})", c.blocks.join(", ")) };
        reasons.push((Level::Blocked, format!("{}: {}{blocks}.", c.title, count_text(c))));
    }
    if !w.unknown_newer_versions.is_empty() {
        reasons.push((Level::Blocked, format!("A newer Dawarich than this tool knows already migrated this database ({}).", w.unknown_newer_versions.join(", "))));
    }
    for c in d.checks.iter().filter(|c| c.status == CheckStatus::Warning) {
        reasons.push((Level::Attention, format!("{}: {}.", c.title, count_text(c))));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
    let level = reasons.iter().map(|r| r.0).max().unwrap_or(Level::Good);
    let pending = w.pending_schema.len() + w.pending_data.len();
    let release = w.release.as_deref().map(|r| format!("Dawarich {r}")).unwrap_or_else(|| "This Dawarich release".into());
    let headline = match (level, pending) {
        (Level::Blocked, _) => {
            let n = reasons.iter().filter(|r| r.0 == Level::Blocked).count();
            format!("{release}: the upgrade to {} will fail — {n} blocker{} found.", w.newest_known_release, if n == 1 { "" } else { "s" })
        }
        (Level::Attention, _) => format!("{release}: no blocker found, but look at the warnings before upgrading to {}.", w.newest_known_release),
        (Level::Good, 0) => format!("{release} is up to date with {} and nothing blocks it.", w.newest_known_release),
        (Level::Good, n) => format!("{release}: nothing blocks the upgrade to {} ({n} migrations pending).", w.newest_known_release),
    };
    Summary { level, headline, reasons: reasons.into_iter().map(|r| r.1).collect() }
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
            ProgressEvent::Plan { .. } | ProgressEvent::Waiting { .. } => {}
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

/// `1.5 GiB`
pub fn size(bytes: i64) -> String {
    let mut v = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if v < 1024.0 {
            return if unit == "B" { format!("{bytes} B") } else { format!("{v:.1} {unit}") };
        }
        v /= 1024.0;
    }
    format!("{v:.1} PiB")
}

/// `42 s`, `3 min`, `2 h 5 min`, `3 days`
pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=119 => format!("{s} s"),
        120..=3599 => format!("{} min", s / 60),
        3600..=172_799 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} days", s / 86_400),
    }
}

/// An error as one line for a banner.
pub fn error_line(e: &ErrorReport) -> String {
    format!("{} — {}", e.message, e.fix)
}

/// The text shown for a profile in the list: `user@host:port/database`.
pub fn profile_target(p: &Profile) -> String {
    format!("{}@{}:{}/{}", p.user, p.host, p.port, p.database)
}

/// What the user picked for one repair on the upgrade screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepairPick {
    pub strategy: String,
    /// A second strategy for the rows the first leaves (`infer` leaves the unresolved), or "".
    pub then: String,
    /// User id for `assign`, as typed.
    pub user: String,
}

impl RepairPick {
    /// `infer` when the check has it (then `quarantine` for the rest), else the first strategy.
    pub fn default_for(p: &RepairPreview) -> RepairPick {
        let has = |n: &str| p.strategies.iter().any(|s| s.name == n);
        let strategy = if has("infer") { "infer" } else { p.strategies.first().map(|s| s.name.as_str()).unwrap_or("") };
        let then = if strategy == "infer" && has("quarantine") { "quarantine" } else { "" };
        RepairPick { strategy: strategy.into(), then: then.into(), user: String::new() }
    }

    /// The repair runs this pick means, in order; an error names what is missing.
    pub fn choices(&self, p: &RepairPreview) -> Result<Vec<RepairChoice>, String> {
        let mut out = Vec::new();
        for name in [&self.strategy, &self.then].into_iter().filter(|n| !n.is_empty()) {
            let s = p.strategies.iter().find(|s| &s.name == name).ok_or_else(|| format!("{}: no strategy {name}", p.title))?;
            let user = if s.needs_user {
                Some(self.user.trim().parse::<i64>().map_err(|_| format!("{}: strategy {name} needs the id of the user who gets the rows", p.title))?)
            } else {
                None
            };
            out.push(RepairChoice { check: p.check.clone(), strategy: name.clone(), user });
        }
        Ok(out)
    }
}

/// Rows a strategy of a preview resolves (its "unresolved" rule excluded).
pub fn strategy_rows(p: &RepairPreview, name: &str) -> Option<i64> {
    p.strategies.iter().find(|s| s.name == name).map(|s| s.rules.iter().filter(|r| r.rule != "unresolved").map(|r| r.count).sum())
}

/// A question for the native confirmation dialog (the shell's `confirm`): what exactly happens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Confirmation {
    pub title: String,
    pub message: String,
    /// The label of the button that goes ahead (the other one is Cancel).
    pub ok: String,
}

/// `1,234,567`
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// Ending the session that holds the migration lock.
pub fn confirm_release(h: &LockHolder, force: bool) -> Confirmation {
    let mut message = format!(
        "End session {}, which holds the Rails migration lock? {}. Its open transaction is rolled back; a live Dawarich reconnects.",
        h.pid,
        describe_holder(h)
    );
    if force {
        message += " It is running a migration: ended mid CREATE INDEX CONCURRENTLY, it leaves an INVALID index, which the upgrade rebuilds.";
    }
    Confirmation { title: format!("End session {}?", h.pid), message, ok: "End session".into() }
}

/// The rows each repair run of `choices` (one pick of preview `p`, in order) changes, as previewed:
/// the first strategy's resolved rows, then what it leaves unresolved.
pub fn planned_rows(p: &RepairPreview, choices: &[RepairChoice]) -> Vec<i64> {
    let unresolved = |name: &str| p.strategies.iter().find(|s| s.name == name).and_then(|s| s.rules.iter().find(|r| r.rule == "unresolved")).map(|r| r.count).unwrap_or(0);
    choices.iter().enumerate().map(|(i, c)| if i == 0 { strategy_rows(p, &c.strategy).unwrap_or(0) } else { unresolved(&choices[i - 1].strategy) }).collect()
}

/// One repair run changing `rows` rows (as previewed) of preview `p`.
pub fn confirm_repair(p: &RepairPreview, c: &RepairChoice, rows: i64) -> Confirmation {
    let mut what = p.title.clone();
    if let Some(first) = what.get(..1) {
        what = first.to_lowercase() + &what[1..];
    }
    let what = format!("{} {what}", thousands(rows));
    let how = p.strategies.iter().find(|s| s.name == c.strategy).map(|s| s.description.as_str()).unwrap_or("");
    if c.strategy == "quarantine" {
        return Confirmation {
            title: format!("Quarantine {what}?"),
            message: format!("Quarantine {what}? They are copied to dawarich_doctor.quarantine_* first, then removed from their table; Undo on the end screen restores them."),
            ok: format!("Quarantine {} rows", thousands(rows)),
        };
    }
    let to = c.user.map(|u| format!(" (user {u})")).unwrap_or_default();
    Confirmation {
        title: format!("Repair {what} with {}?", c.strategy),
        message: format!("Repair {what} with {}{to}: {how}. The old values are copied to dawarich_doctor first; Undo on the end screen reverts them.", c.strategy),
        ok: format!("Repair {} rows", thousands(rows)),
    }
}

/// Applying the pending migrations (no undo: the backup is the way back).
pub fn confirm_migrations(schema: usize, data: usize, from: Option<&str>, to: &str) -> Confirmation {
    let from = from.map(|f| format!("Dawarich {f}")).unwrap_or_else(|| "its unknown release".into());
    Confirmation {
        title: format!("Apply {} migrations?", schema + data),
        message: format!(
            "Apply {schema} schema and {data} data migrations, taking the database from {from} to Dawarich {to}? Dawarich's containers must be stopped meanwhile. Finished migrations are kept if it stops early; there is no undo: your backup is the way back."
        ),
        ok: "Apply migrations".into(),
    }
}

/// Undoing repair run `run_id`, which changed `rows` rows and quarantined `quarantined` of them.
pub fn confirm_undo(run_id: &str, rows: i64, quarantined: i64) -> Confirmation {
    let what = if quarantined > 0 { format!("{} quarantined rows go back to their table", thousands(quarantined)) } else { format!("{} changed rows get their old values back", thousands(rows)) };
    Confirmation { title: format!("Undo run {run_id}?"), message: format!("Undo repair run {run_id}? Its {what}."), ok: "Undo".into() }
}

/// Deleting a saved connection (the database is not touched).
pub fn confirm_delete(p: &Profile) -> Confirmation {
    Confirmation {
        title: format!("Delete \u{201c}{}\u{201d}?", p.name),
        message: format!("Delete the saved connection \u{201c}{}\u{201d} ({})? Its saved password is forgotten too. The database itself is not touched.", p.name, profile_target(p)),
        ok: "Delete".into(),
    }
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

/// One phase of the one-click upgrade (lock release, a repair, the migrations, verify).
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub id: String,
    pub title: String,
    pub state: PhaseState,
    /// What it did, once done.
    pub detail: String,
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
}

impl LiveProgress {
    pub fn apply(&mut self, e: &ProgressEvent) {
        match e {
            ProgressEvent::Plan { steps } => self.steps_total = steps.len(),
            ProgressEvent::StepStarted { title, .. } => {
                *self = LiveProgress { steps_total: self.steps_total, steps_done: self.steps_done, warnings: std::mem::take(&mut self.warnings), ..Default::default() };
                self.step = Some(title.clone());
            }
            ProgressEvent::StepProgress { done, total, rows_per_sec, eta_secs, statement, .. } => {
                self.done = *done;
                self.total = *total;
                self.rows_per_sec = *rows_per_sec;
                self.eta_secs = *eta_secs;
                if statement.is_some() {
                    self.statement = statement.clone();
                }
                self.waiting = None;
            }
            ProgressEvent::Waiting { blocker_pid, blocker_query, attempt, .. } => {
                self.waiting = Some(format!(
                    "Waiting for session {blocker_pid}{} (attempt {attempt})",
                    blocker_query.as_deref().map(|q| format!(", running: {q}")).unwrap_or_default()
                ))
            }
            ProgressEvent::StepFinished { .. } => {
                self.steps_done += 1;
                self.waiting = None;
            }
            ProgressEvent::Warning { message, .. } => self.warnings.push(message.clone()),
            ProgressEvent::Done { .. } => {}
        }
    }

    /// 0–100 for the bar, when the total is known.
    pub fn percent(&self) -> Option<u64> {
        self.total.filter(|t| *t > 0).map(|t| (self.done.min(t) * 100) / t)
    }

    /// `1200 of 5000 rows · 850 rows/s · about 4 s left`
    pub fn rate_line(&self) -> String {
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
    entries.iter().filter(|e| (run.is_empty() || e.run_id == run) && (action.is_empty() || e.action == action)).cloned().collect()
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
            privileges: Privileges { superuser: true, signal_backend: true, owns_tables: true, can_create_extension: true },
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
            Check { id: "postgis".into(), title: "Fine".into(), status: CheckStatus::Ok, count: Some(0), estimated: false, sample: vec![], blocks: vec![], detail: String::new(), elapsed_ms: 1, full_scan: false, effects: vec![] },
            Check { id: "points-without-user".into(), title: "Points without a user".into(), status: CheckStatus::Problem, count: Some(7), estimated: false, sample: vec!["id 1".into()], blocks: vec!["20240815174852".into()], detail: "7 points".into(), elapsed_ms: 1, full_scan: false, effects: vec![] },
            Check { id: "duplicate-stats".into(), title: "Duplicate stats".into(), status: CheckStatus::Warning, count: Some(3), estimated: true, sample: vec![], blocks: vec![], detail: String::new(), elapsed_ms: 1, full_scan: false, effects: vec![] },
        ],
        elapsed_ms: 12,
    }
}


#[cfg(test)]
/// Plain tests on the host; the same tests in the browser under wasm-bindgen-test.
mod tests {
    use super::*;

    fn owner_preview() -> RepairPreview {
        use dawarich_doctor_model::{RuleCount, StrategyPreview};
        let strategy = |name: &str, needs_user: bool, rules: Vec<(&str, i64)>| StrategyPreview {
            name: name.into(),
            description: String::new(),
            needs_user,
            rules: rules.into_iter().map(|(r, n)| RuleCount { rule: r.into(), description: String::new(), count: n }).collect(),
            sql: vec![],
        };
        RepairPreview {
            check: "points-without-user".into(),
            title: "Points without a user".into(),
            count: 7,
            sample: vec![],
            strategies: vec![strategy("infer", false, vec![("import", 2), ("unresolved", 5)]), strategy("assign", true, vec![("assign", 7)]), strategy("quarantine", false, vec![("quarantine", 7)])],
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn owner_repairs_infer_then_quarantine_by_default_and_assign_needs_a_user() {
        let p = owner_preview();
        let pick = RepairPick::default_for(&p);
        assert_eq!((pick.strategy.as_str(), pick.then.as_str()), ("infer", "quarantine"));
        let runs = pick.choices(&p).unwrap();
        assert_eq!(runs.iter().map(|c| c.strategy.as_str()).collect::<Vec<_>>(), ["infer", "quarantine"]);
        assert_eq!(strategy_rows(&p, "infer"), Some(2));
        let assign = RepairPick { then: "assign".into(), ..pick.clone() };
        assert!(assign.choices(&p).unwrap_err().contains("needs the id"));
        let assign = RepairPick { user: " 3 ".into(), ..assign };
        assert_eq!(assign.choices(&p).unwrap()[1].user, Some(3));
    }

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
        let log = vec![e("r1", "lock-release"), e("r2", "repair"), e("r2", "repair"), e("r3", "migrate")];
        assert_eq!(distinct(&log, |e| &e.run_id), ["r1", "r2", "r3"]);
        assert_eq!(distinct(&log, |e| &e.action), ["lock-release", "repair", "migrate"]);
        assert_eq!(filter_audit(&log, "r2", "").len(), 2);
        assert_eq!(filter_audit(&log, "", "migrate").len(), 1);
        assert_eq!(filter_audit(&log, "r1", "repair").len(), 0);
        assert_eq!(filter_audit(&log, "", "").len(), 4);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn live_progress_shows_rate_eta_statement_and_whom_we_wait_for() {
        let mut l = LiveProgress::default();
        l.apply(&ProgressEvent::StepStarted { step: 0, title: "20240101 add index".into() });
        l.apply(&ProgressEvent::Waiting { step: 0, blocker_pid: 42, blocker_query: Some("SELECT 1".into()), attempt: 2 });
        assert_eq!(l.waiting.as_deref(), Some("Waiting for session 42, running: SELECT 1 (attempt 2)"));
        l.apply(&ProgressEvent::StepProgress { step: 0, done: 250, total: Some(1000), rows_per_sec: 125.0, eta_secs: Some(6.0), statement: Some("UPDATE points".into()) });
        assert_eq!(l.waiting, None);
        assert_eq!(l.percent(), Some(25));
        assert_eq!(l.rate_line(), "250 of 1000 rows · 125 rows/s · about 6 s left");
        assert_eq!(l.statement.as_deref(), Some("UPDATE points"));
        l.apply(&ProgressEvent::StepFinished { step: 0, elapsed_ms: 1, rows: None });
        assert_eq!(l.steps_done, 1);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_stale_lock_and_orphans_explain_the_failure_worst_first() {
        let s = summarize(&sample_diagnosis());
        assert_eq!(s.level, Level::Blocked);
        assert!(s.headline.contains("will fail"), "{}", s.headline);
        assert!(s.headline.contains("2 blockers"), "{}", s.headline);
        assert!(s.reasons[0].contains("pid 4242") && s.reasons[0].contains("stale"), "{:?}", s.reasons);
        assert!(s.reasons[1].contains("Points without a user: 7 found (blocks 20240815174852)"), "{:?}", s.reasons);
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
        assert_eq!(s.headline, "Dawarich 1.3.1: nothing blocks the upgrade to 1.7.5 (1 migrations pending).");
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
        assert_eq!(ids, ["points-without-user", "duplicate-stats", "postgis"]);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_form_round_trips_a_profile_and_reports_bad_fields() {
        let p = Profile { id: "p1".into(), name: "home".into(), password: PasswordSource::Keychain, sslmode: SslMode::Require, ..Profile::default() };
        let f = ProfileForm::from_profile(&p);
        assert_eq!(f.to_profile().unwrap(), p);
        assert_eq!(f.password_arg(), None, "an untouched password field keeps the saved one");
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
            profile: Profile { host: "10.0.0.5".into(), port: 5433, database: "dawarich_production".into(), user: "dw".into(), name: "dawarich_production@10.0.0.5".into(), ..Profile::default() },
            password: Some("pw".into()),
        };
        f.apply_parsed(&parsed);
        assert_eq!((f.name.as_str(), f.host.as_str(), f.port.as_str(), f.password.as_str()), ("My server", "10.0.0.5", "5433", "pw"));
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
        apply_step(&mut rows, ProbeStep { id: ProbeStepId::Tls, status: ProbeStatus::Warning, detail: "no TLS".into(), error: None, elapsed_ms: 1 });
        assert_eq!(rows[1].result.as_ref().map(|r| r.status), Some(ProbeStatus::Warning));
        assert!(rows[0].result.is_none());
        assert_eq!(probe_status(None).1, "pending");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn progress_lines() {
        let mut p = DiagnoseProgress::default();
        assert_eq!(p.line(), "Connecting…");
        p.apply(&ProgressEvent::StepStarted { step: 0, title: "Points without a user".into() });
        p.apply(&ProgressEvent::StepProgress { step: 0, done: 50, total: Some(200), rows_per_sec: 1.0, eta_secs: None, statement: None });
        assert_eq!(p.line(), "Check 1: Points without a user — scanned 50 of 200 (25%)");
        p.apply(&ProgressEvent::StepFinished { step: 0, elapsed_ms: 1, rows: Some(0) });
        assert_eq!(p.finished, 1);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn formatting() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(12 * 1024 * 1024), "12.0 MiB");
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(600.0), "10 min");
        assert_eq!(duration(7500.0), "2 h 5 min");
        assert_eq!(duration(3.0 * 86400.0), "3 days");
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(100_000), "100,000");
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn each_destructive_step_says_exactly_what_happens() {
        let p = owner_preview();
        let runs = RepairPick::default_for(&p).choices(&p).unwrap();
        assert_eq!(planned_rows(&p, &runs), [2, 5], "infer resolves 2, quarantine takes the 5 left");
        let infer = confirm_repair(&p, &runs[0], 2);
        assert_eq!(infer.title, "Repair 2 points without a user with infer?");
        assert!(infer.message.contains("Undo") && infer.ok == "Repair 2 rows", "{infer:?}");
        let q = confirm_repair(&p, &runs[1], 1234);
        assert_eq!(q.title, "Quarantine 1,234 points without a user?");
        assert!(q.message.contains("copied to dawarich_doctor.quarantine_* first") && q.message.contains("Undo"), "{q:?}");
        assert_eq!(q.ok, "Quarantine 1,234 rows");
        let assign = RepairChoice { check: p.check.clone(), strategy: "assign".into(), user: Some(3) };
        assert!(confirm_repair(&p, &assign, 7).message.contains("with assign (user 3)"));

        let d = sample_diagnosis();
        let h = d.lock.holders.iter().find(|h| !h.is_self).unwrap();
        let c = confirm_release(h, false);
        assert_eq!(c.title, format!("End session {}?", h.pid));
        assert!(c.message.contains("holds the Rails migration lock") && c.message.contains("rolled back") && !c.message.contains("INVALID"), "{c:?}");
        assert!(confirm_release(h, true).message.contains("INVALID index"));

        let m = confirm_migrations(120, 13, Some("0.9.11"), "1.7.5");
        assert_eq!(m.title, "Apply 133 migrations?");
        assert!(m.message.contains("from Dawarich 0.9.11 to Dawarich 1.7.5") && m.message.contains("backup"), "{m:?}");
        assert!(confirm_migrations(1, 0, None, "1.7.5").message.contains("its unknown release"));
        assert!(confirm_undo("r1", 3, 3).message.contains("3 quarantined rows go back"));
        assert!(confirm_undo("r1", 4, 0).message.contains("4 changed rows get their old values back"));
        let del = confirm_delete(&Profile { name: "Home".into(), user: "postgres".into(), host: "db".into(), port: 5432, database: "dawarich".into(), ..Profile::default() });
        assert_eq!(del.title, "Delete \u{201c}Home\u{201d}?");
        assert!(del.message.contains("(postgres@db:5432/dawarich)") && del.message.contains("not touched") && del.ok == "Delete", "{del:?}");
    }
}
