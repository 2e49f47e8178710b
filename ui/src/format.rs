//! Formatting every screen shares: sizes, durations, counts, errors, profiles, lock holders.

use dawarich_doctor_model::{ErrorReport, HolderVerdict, LockHolder, Profile};

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

/// `1.5 GiB`
pub fn size(bytes: i64) -> String {
    let mut v = bytes as f64;
    for unit in ["B", "KiB", "MiB", "GiB", "TiB"] {
        if v < 1024.0 {
            return if unit == "B" {
                format!("{bytes} B")
            } else {
                format!("{v:.1} {unit}")
            };
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

/// An error as one line for a banner.
pub fn error_line(e: &ErrorReport) -> String {
    format!("{} — {}", e.message, e.fix)
}

/// The text shown for a profile in the list: `user@host:port/database`.
pub fn profile_target(p: &Profile) -> String {
    format!("{}@{}:{}/{}", p.user, p.host, p.port, p.database)
}

/// A lock holder as one sentence.
pub fn describe_holder(h: &LockHolder) -> String {
    let who = h
        .application_name
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or("a session without application name");
    let from = h.client_addr.as_deref().unwrap_or("the local socket");
    let age = h.state_age_secs.map(duration).unwrap_or_else(|| "?".into());
    let verdict = match h.verdict {
        HolderVerdict::Stale => "stale: it does nothing and keeps every migration waiting",
        HolderVerdict::ActiveMigration => "running a statement: a migration is in progress",
        HolderVerdict::Unknown => "briefly idle: it may be a migration between statements",
    };
    format!(
        "pid {} ({who}, from {from}) is {} for {age} — {verdict}",
        h.pid,
        h.state.as_deref().unwrap_or("in an unknown state")
    )
}

/// The word and CSS class of a lock holder's verdict.
pub fn holder_badge(v: HolderVerdict) -> (&'static str, &'static str) {
    match v {
        HolderVerdict::Stale => ("Stale", "problem"),
        HolderVerdict::ActiveMigration => ("Active migration", "warning"),
        HolderVerdict::Unknown => ("Unknown", "muted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
