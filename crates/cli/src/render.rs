//! Human-readable output of the CLI (colour optional).

use std::fmt::Write;
use std::io::IsTerminal;

use dawarich_doctor::catalog::catalog;
use dawarich_doctor::progress::ProgressEvent;
use dawarich_doctor_model::{
    BackupOutcome, CheckStatus, Diagnosis, HolderVerdict, InstallStatus, LockReport, Plan, RepairOutcome,
    RepairPreview, SchemaDifference, StepKind, UpgradeOutcome, WatchReport,
};

pub struct Painter {
    pub color: bool,
}

impl Painter {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31;1", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
}

fn size(bytes: i64) -> String {
    let mut v = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if v < 1024.0 {
            return format!("{v:.1} {unit}");
        }
        v /= 1024.0;
    }
    format!("{v:.1} PiB")
}

/// The diagnosis as a summary a self-hoster can act on.
pub fn diagnosis(d: &Diagnosis, p: &Painter) -> String {
    let mut o = String::new();
    let s = &d.server;
    let _ = writeln!(
        o,
        "{}",
        p.bold(&format!(
            "Server  PostgreSQL {}  PostGIS {}  database {} ({})",
            s.version,
            s.postgis_version.as_deref().unwrap_or("not installed"),
            s.database,
            size(s.database_size_bytes)
        ))
    );
    let pr = &s.privileges;
    let _ = writeln!(
        o,
        "        user {}: superuser {}, pg_signal_backend {}, owns Dawarich tables {}",
        s.user,
        yn(pr.superuser),
        yn(pr.signal_backend),
        yn(pr.owns_tables)
    );
    let w = &d.dawarich;
    let release = match (&w.release, &w.release_range) {
        (Some(r), Some((a, b))) if a != b => format!("{r} (matches {a} – {b})"),
        (Some(r), _) => r.clone(),
        _ => "unknown".into(),
    };
    let _ = writeln!(
        o,
        "{}",
        p.bold(&format!(
            "Dawarich  release {release}  environment {}",
            w.environment.as_deref().unwrap_or("-")
        ))
    );
    let _ = writeln!(
        o,
        "        {} schema + {} data versions applied; pending for {}: {} schema, {} data",
        w.schema_versions.len(),
        w.data_versions.len(),
        w.newest_known_release,
        w.pending_schema.len(),
        w.pending_data.len()
    );
    if !w.unknown_newer_versions.is_empty() {
        let _ = writeln!(
            o,
            "        {}",
            p.red(&format!(
                "versions newer than this tool knows: {}",
                w.unknown_newer_versions.join(", ")
            ))
        );
    }
    let stray: Vec<&String> = w
        .stray_versions
        .iter()
        .filter(|v| !w.unknown_newer_versions.contains(v))
        .collect();
    if !stray.is_empty() {
        let _ = writeln!(
            o,
            "        {}",
            p.dim(&format!(
                "stray versions with no file (harmless): {}",
                stray.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ))
        );
    }
    o += &locks(&d.lock, p);
    if !d.other_advisory_locks.is_empty() {
        let _ = writeln!(
            o,
            "        {}",
            p.dim(&format!(
                "{} other advisory locks (Dawarich jobs; never touched)",
                d.other_advisory_locks.len()
            ))
        );
    }
    let _ = writeln!(o, "{}", p.bold("Checks"));
    for c in &d.checks {
        let mark = match c.status {
            CheckStatus::Ok => p.green("ok     "),
            CheckStatus::Problem => p.red("PROBLEM"),
            CheckStatus::Warning => p.yellow("warning"),
            CheckStatus::NotApplicable => p.dim("n/a    "),
            CheckStatus::Skipped => p.dim("skipped"),
        };
        let count = c
            .count
            .map(|n| format!("{n}{}", if c.estimated { "~" } else { "" }))
            .unwrap_or_else(|| "-".into());
        let scan = if c.full_scan {
            format!(" (full scan, {} ms)", c.elapsed_ms)
        } else {
            String::new()
        };
        let _ = writeln!(o, "  {mark} {:<58} {count:>8}{}", c.title, p.dim(&scan));
        if matches!(c.status, CheckStatus::Problem | CheckStatus::Warning) {
            let _ = writeln!(o, "          {}", c.detail);
            if !c.sample.is_empty() {
                let _ = writeln!(o, "          e.g. {}", c.sample.join("; "));
            }
            if !c.blocks.is_empty() {
                let _ = writeln!(o, "          blocks {}", c.blocks.join(", "));
            }
        }
    }
    let _ = writeln!(o, "{}", p.dim(&format!("diagnosed in {} ms", d.elapsed_ms)));
    o
}

fn yn(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The release table.
pub fn releases() -> String {
    let c = catalog();
    let mut o = String::new();
    for r in &c.releases {
        let _ = writeln!(
            o,
            "{:<10} {}  rails {:<8} schema {}",
            r.tag, r.date, r.rails, r.define_version
        );
    }
    o
}

/// Progress lines on stderr while long checks run (only on a terminal, never in JSON mode).
pub fn stderr_progress(enabled: bool) -> impl Fn(ProgressEvent) + Send + Sync {
    let on = enabled && std::io::stderr().is_terminal();
    move |e| {
        if !on {
            return;
        }
        if let ProgressEvent::StepProgress {
            done,
            total: Some(total),
            rows_per_sec,
            ..
        } = e
        {
            eprint!("\r  scanning {done}/{total} ids ({rows_per_sec:.0}/s)   ");
            if done >= total {
                eprintln!();
            }
        }
    }
}

/// The plan: blockers first, then the steps with their cost, then follow-ups.
pub fn plan(plan: &Plan, with_sql: bool, p: &Painter) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}",
        p.bold(&format!(
            "Upgrade plan: {} → {}",
            plan.from_release.as_deref().unwrap_or("unknown release"),
            plan.to_release
        ))
    );
    let st = &plan.settings;
    for (name, s) in [
        ("TIME_ZONE", &st.time_zone),
        ("RAILS_ENV", &st.rails_env),
        ("SELF_HOSTED", &st.self_hosted),
    ] {
        let _ = writeln!(
            o,
            "  {name} {}  {}",
            s.value,
            p.dim(&format!("({})", s.source.describe()))
        );
    }
    for b in &plan.blockers {
        let _ = writeln!(o, "  {} {}\n          fix: {}", p.red("BLOCKED"), b.message, b.fix);
    }
    for s in &plan.steps {
        let kind = match s.kind {
            StepKind::DriftRepair => "drift ",
            StepKind::SchemaMigration => "schema",
            StepKind::DataMigration => "data  ",
            StepKind::JobWork => "job   ",
        };
        let cost: Vec<String> = s.tables.iter().map(|(t, n)| format!("{t} ~{n} rows")).collect();
        let flags = format!(
            "{}{}",
            if s.no_transaction { " no-transaction" } else { "" },
            if s.changes_data { " changes-data" } else { "" }
        );
        let _ = writeln!(
            o,
            "  {:>3}. [{kind}] {}{}  {}",
            s.step + 1,
            s.title,
            p.yellow(&flags),
            p.dim(&cost.join(", "))
        );
        if with_sql {
            for q in &s.sql {
                let _ = writeln!(o, "{}", p.dim(&format!("         {};", q.replace('\n', "\n         "))));
            }
        }
    }
    if !plan.follow_ups.is_empty() {
        let _ = writeln!(o, "{}", p.bold("Afterwards, in Dawarich:"));
        for f in &plan.follow_ups {
            let _ = writeln!(o, "  {}", f.describe(dawarich_doctor_model::DEFAULT_APP_CONTAINER));
        }
    }
    if !plan.extras.is_empty() {
        let _ = writeln!(
            o,
            "  {}",
            p.dim(&format!(
                "tables the target does not have (kept): {}",
                plan.extras.join(", ")
            ))
        );
    }
    o
}

/// Asks a yes/no question on the terminal; no terminal means no.
pub fn confirm(question: &str) -> std::io::Result<bool> {
    if !std::io::stdin().is_terminal() {
        eprintln!("{question} Not a terminal: pass --yes to confirm.");
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// Live step lines on stderr (a step's statement once each time it changes).
pub fn step_printer(p: &Painter) -> impl Fn(ProgressEvent) + Send + Sync {
    let color = p.color;
    let last_statement = std::sync::Mutex::new(None::<String>);
    move |e| {
        let p = Painter { color };
        if let ProgressEvent::StepProgress { statement: Some(s), .. } = &e {
            // once per statement, not each time its seconds count
            let key: String = s.chars().filter(|c| !c.is_ascii_digit()).collect();
            let mut last = last_statement.lock().expect("not poisoned");
            if last.as_ref() != Some(&key) {
                let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
                let short: String = line.chars().take(140).collect();
                let more = if short.len() < line.len() { "…" } else { "" };
                eprintln!("       {}", p.dim(&format!("{short}{more}")));
                *last = Some(key);
            }
        }
        match e {
            ProgressEvent::StepStarted { step, title } => eprintln!("{:>3}. {title}", step + 1),
            ProgressEvent::StepProgress {
                done,
                total: Some(total),
                rows_per_sec,
                eta_secs: Some(eta),
                ..
            } => eprintln!("       {done}/{total} ids, {rows_per_sec:.0}/s, eta {eta:.0} s"),
            // the watch: blocks of an index build or a table scan
            ProgressEvent::StepProgress {
                done,
                total: Some(total),
                ..
            } => eprintln!("       {done}/{total} blocks"),
            ProgressEvent::StepProgress { done, total: None, .. } if done > 0 => {
                eprintln!("       {done} rows updated so far")
            }
            ProgressEvent::StepFinished { elapsed_ms, rows, .. } => eprintln!(
                "       {} in {elapsed_ms} ms, {} rows",
                p.green("done"),
                rows.unwrap_or(0)
            ),
            ProgressEvent::Waiting {
                blocker_pid,
                blocker_query,
                ..
            } => {
                eprintln!(
                    "       {} pid {blocker_pid}: {}",
                    p.yellow("waiting for a lock held by"),
                    blocker_query.unwrap_or_default()
                )
            }
            ProgressEvent::Warning { message, .. } => eprintln!("       {} {message}", p.yellow("warning:")),
            ProgressEvent::Output { line, .. } => eprintln!("       {}", p.dim(&line)),
            ProgressEvent::Transfer {
                bytes, bytes_per_sec, ..
            } => eprintln!(
                "       {:.1} MB written, {:.1} MB/s",
                bytes as f64 / 1_048_576.0,
                bytes_per_sec / 1_048_576.0
            ),
            _ => {}
        }
    }
}

/// Dawarich's containers, one a line.
pub fn containers(s: &InstallStatus, p: &Painter) -> String {
    let mut o = format!("Dawarich on {}:\n", s.host);
    for c in &s.containers {
        let health = c.health.as_deref().map(|h| format!(", {h}")).unwrap_or_default();
        let state = format!("{}{health}", c.state);
        let state = if c.crash_looping() {
            p.red(&format!("{state}, crash-looping"))
        } else if c.is_up() {
            p.green(&state)
        } else {
            p.yellow(&state)
        };
        let _ = writeln!(
            o,
            "  {:<9} {:<20} {state}, {} restarts, image {}{}",
            c.role.as_str(),
            c.name,
            c.restart_count,
            c.image,
            c.release
                .as_deref()
                .map(|r| format!(" (Dawarich {r})"))
                .unwrap_or_default()
        );
    }
    o
}

/// How watching Dawarich's start ended: up, or why it failed and the fix.
pub fn watched(r: &WatchReport, p: &Painter) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} versions recorded while watching: {}",
        r.recorded.len(),
        r.recorded.join(", ")
    );
    match (&r.failure, &r.advice) {
        (None, _) => {
            let _ = writeln!(o, "{} Dawarich is up.", p.green("✓"));
        }
        (Some(f), advice) => {
            let _ = writeln!(o, "{} {}", p.red("Dawarich's start failed:"), f.summary());
            if let dawarich_doctor_model::Failure::Unknown { excerpt, .. } = f {
                for l in excerpt {
                    let _ = writeln!(o, "  {}", p.dim(l));
                }
            }
            if let Some(a) = advice {
                let _ = writeln!(
                    o,
                    "{}
{} {}",
                    a.message,
                    p.bold("fix:"),
                    a.fix
                );
            }
        }
    }
    o
}

/// A verified backup and how to restore it.
pub fn backup(b: &BackupOutcome, p: &Painter) -> String {
    format!(
        "{} {} ({:.1} MB, data of {} tables, verified)\nRestore it with:\n  {}\n",
        p.green("Backup written:"),
        b.path,
        b.bytes as f64 / 1_048_576.0,
        b.tables,
        b.restore_command
    )
}

/// The end of an upgrade.
pub fn outcome(o: &UpgradeOutcome, p: &Painter) -> String {
    let mut s = format!(
        "{} {} migrations applied in {} ms (run {}).\n",
        p.green("Upgrade finished:"),
        o.applied.len(),
        o.elapsed_ms,
        o.run_id
    );
    if let Some(b) = &o.backup {
        s += &backup(b, p);
    }
    for f in &o.follow_ups_run {
        s += &format!(
            "Follow-up run: {}\n",
            f.describe(dawarich_doctor_model::DEFAULT_APP_CONTAINER)
        );
    }
    if !o.follow_ups.is_empty() {
        s += "Still to do in Dawarich after you start it:\n";
        for f in &o.follow_ups {
            s += &format!("  {}\n", f.describe(dawarich_doctor_model::DEFAULT_APP_CONTAINER));
        }
    }
    match &o.dawarich_up {
        Some(up) => {
            s += &format!("{} {up}.\n", p.green("✓"));
            for l in &o.dawarich_log {
                s += &format!("  {}\n", p.dim(l));
            }
        }
        None => s += "Start your Dawarich containers now: its own migrations will find nothing to do.\n",
    }
    s
}

/// Schema differences (missing or different objects), or a clean bill; extras are listed apart.
pub fn differences(release: &str, diffs: &[SchemaDifference], extras: &[SchemaDifference], p: &Painter) -> String {
    let mut o = if diffs.is_empty() {
        format!("{} the schema has exactly what {release} expects.\n", p.green("ok:"))
    } else {
        format!("{} differences from {release}:\n", diffs.len())
    };
    for d in diffs {
        let detail = match (&d.expected, &d.actual) {
            (Some(e), Some(a)) => format!(": expected {e}, found {a}"),
            (Some(e), None) => format!(": expected {e}"),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "  {} {} {}{}",
            p.yellow(d.change.as_str()),
            d.object,
            d.name,
            p.dim(&detail)
        );
    }
    if !extras.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            p.dim(&format!(
                "{} objects {release} does not have (kept, never dropped):",
                extras.len()
            ))
        );
        for d in extras {
            let _ = writeln!(
                o,
                "  {} {}{}",
                d.object,
                d.name,
                p.dim(&d.actual.as_ref().map(|a| format!(": {a}")).unwrap_or_default())
            );
            if let Some(note) = &d.note {
                let _ = writeln!(o, "      {}", p.dim(&format!("left by {note}")));
            }
        }
    }
    o
}

/// The migration lock and its holders, with what releasing costs.
pub fn locks(l: &LockReport, p: &Painter) -> String {
    let mut o = String::new();
    if !l.held {
        let _ = writeln!(
            o,
            "{} {}",
            p.bold("Migration lock"),
            p.green(&format!("free (key {})", l.key))
        );
        return o;
    }
    let _ = writeln!(
        o,
        "{} {}",
        p.bold("Migration lock"),
        p.red(&format!("HELD (key {})", l.key))
    );
    for h in &l.holders {
        let verdict = match h.verdict {
            HolderVerdict::Stale => p.red("stale"),
            HolderVerdict::ActiveMigration => p.yellow("active-migration"),
            HolderVerdict::Unknown => p.dim("unknown"),
        };
        let _ = writeln!(
            o,
            "        pid {} [{}] {} for {:.0} s, from {} ({}), started {}{}",
            h.pid,
            verdict,
            h.state.as_deref().unwrap_or("?"),
            h.state_age_secs.unwrap_or(0.0),
            h.client_addr.as_deref().unwrap_or("local socket"),
            h.application_name
                .as_deref()
                .filter(|a| !a.is_empty())
                .unwrap_or("no application name"),
            h.backend_start.as_deref().unwrap_or("?"),
            if h.is_self { " (this session)" } else { "" }
        );
        if let Some(q) = &h.query {
            let _ = writeln!(o, "          query: {}", p.dim(&q.replace('\n', " ")));
        }
        let cost = match h.state.as_deref() {
            Some("active") => "releasing cancels its statement, then ends the session: its transaction rolls back (mid CREATE INDEX CONCURRENTLY it leaves an INVALID index, which the upgrade rebuilds)",
            Some(s) if s.starts_with("idle in transaction") => "releasing ends the session: its open transaction rolls back",
            _ => "releasing ends the session; it has no open transaction, nothing is lost",
        };
        let _ = writeln!(o, "          {}", p.dim(cost));
    }
    o
}

/// What each strategy would do.
pub fn repair_preview(r: &RepairPreview, p: &Painter) -> String {
    let mut o = format!(
        "{} {}: {} found{}\n",
        p.bold(&r.title),
        r.check,
        r.count,
        if r.sample.is_empty() {
            String::new()
        } else {
            format!(" (e.g. {})", r.sample.join(", "))
        }
    );
    for s in &r.strategies {
        let _ = writeln!(
            o,
            "  strategy {}{}: {}",
            p.bold(s.name.as_str()),
            if s.needs_user { " --user ID" } else { "" },
            s.description
        );
        for rule in &s.rules {
            let _ = writeln!(o, "      {:>8}  {} ({})", rule.count, rule.rule, rule.description);
        }
    }
    o
}

/// What a repair did.
pub fn repair_outcome(r: &RepairOutcome, p: &Painter) -> String {
    let mut o = format!(
        "{} {} with {} (run {}, {} ms, longest transaction {} ms)\n",
        p.green("repaired"),
        r.check,
        r.strategy,
        r.run_id,
        r.elapsed_ms,
        r.longest_transaction_ms
    );
    for rule in &r.rules {
        let _ = writeln!(o, "  {:>8}  {}", rule.count, rule.description);
    }
    if r.quarantined > 0 {
        let _ = writeln!(
            o,
            "{} rows are in quarantine; `dawarich-doctor undo --run {}` puts everything back.",
            r.quarantined, r.run_id
        );
    }
    o
}
