//! Dawarich's environment that an upgrade reproduces: `TIME_ZONE`, `RAILS_ENV` and `SELF_HOSTED`.
//! Each comes, in this order, from what the user gave (a command-line option or the desktop
//! connection's setting), Dawarich's docker `.env`, the app container's environment, else the stock
//! docker-compose default for the target release.

use std::collections::BTreeMap;

use dawarich_doctor_model::{RunSettings, Setting, SettingSource};

use crate::connect::Db;
use crate::error::{Error, Result};

/// The stock compose's `TIME_ZONE: ${TIME_ZONE:-Europe/London}` (since 0.22.0).
pub const DEFAULT_TIME_ZONE: &str = "Europe/London";

/// What is known about the Dawarich install's environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Values the user gave, with their source (`Option` or `Profile`).
    pub time_zone: Option<(String, SettingSource)>,
    pub rails_env: Option<(String, SettingSource)>,
    pub self_hosted: Option<(bool, SettingSource)>,
    /// The variables of Dawarich's docker `.env`.
    pub env_file: Option<BTreeMap<String, String>>,
    /// The app container's environment.
    pub container: Option<BTreeMap<String, String>>,
}

/// `KEY=value` / `KEY: value` lines of a docker `.env` file or compose `environment:` block (quotes,
/// `export` and `- ` prefixes allowed; comments and blank lines skipped).
pub fn env_vars(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line
            .trim()
            .trim_start_matches("- ")
            .trim_start_matches("export ")
            .trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let Some(pos) = line.find(['=', ':']) else { continue };
        let (key, value) = (line[..pos].trim(), line[pos + 1..].trim());
        vars.insert(key.to_string(), value.trim_matches('"').trim_matches('\'').to_string());
    }
    vars
}

impl Environment {
    /// What a saved connection knows: its time zone setting.
    pub fn of_profile(profile: &dawarich_doctor_model::Profile) -> Environment {
        Environment {
            time_zone: profile
                .time_zone
                .clone()
                .filter(|t| !t.trim().is_empty())
                .map(|t| (t.trim().to_string(), SettingSource::Profile)),
            ..Default::default()
        }
    }

    /// A variable from the `.env`, else the container; empty counts as unset (compose's `:-`).
    fn lookup(&self, key: &str) -> Option<(String, SettingSource)> {
        let get = |vars: &Option<BTreeMap<String, String>>| {
            vars.as_ref()?
                .get(key)
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().to_string())
        };
        get(&self.env_file)
            .map(|v| (v, SettingSource::EnvFile))
            .or_else(|| get(&self.container).map(|v| (v, SettingSource::Container)))
    }

    /// The settings an upgrade to `target` uses.
    pub fn resolve(&self, target: &str) -> RunSettings {
        let setting = |(value, source): (String, SettingSource)| Setting { value, source };
        let default = |v: &str| (v.to_string(), SettingSource::Default);
        // The stock compose defaults RAILS_ENV to production from 1.3.0, development before.
        let rails_default = if crate::catalog::release_at_least(target, "1.3.0") {
            "production"
        } else {
            "development"
        };
        RunSettings {
            time_zone: setting(
                self.time_zone
                    .clone()
                    .or_else(|| self.lookup("TIME_ZONE"))
                    .unwrap_or_else(|| default(DEFAULT_TIME_ZONE)),
            ),
            rails_env: setting(
                self.rails_env
                    .clone()
                    .or_else(|| self.lookup("RAILS_ENV"))
                    .unwrap_or_else(|| default(rails_default)),
            ),
            self_hosted: setting(
                self.self_hosted
                    .map(|(b, s)| (b.to_string(), s))
                    .or_else(|| self.lookup("SELF_HOSTED").map(|(v, s)| ((v == "true").to_string(), s)))
                    .unwrap_or_else(|| default("true")),
            ),
        }
    }
}

/// Refuses a time zone PostgreSQL does not know, before anything runs (the date migration would
/// fail on it half-way).
pub async fn check(db: &Db, settings: &RunSettings) -> Result<()> {
    let tz = &settings.time_zone;
    let known: bool = db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)",
            &[&tz.value],
        )
        .await?
        .get(0);
    if known {
        return Ok(());
    }
    Err(Error::Precondition {
        message: format!("the time zone {:?} ({}) is not a zone name PostgreSQL knows", tz.value, tz.source.describe()),
        fix: format!("Give Dawarich's TIME_ZONE as an IANA zone name, e.g. --time-zone {DEFAULT_TIME_ZONE} (Rails' short names such as \"London\" are not read)."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Option<BTreeMap<String, String>> {
        Some(env_vars(text))
    }

    #[test]
    fn option_beats_env_file_beats_container_beats_default() {
        let mut env = Environment {
            container: vars("TIME_ZONE=Asia/Tokyo\nRAILS_ENV=staging"),
            ..Default::default()
        };
        assert_eq!(
            env.resolve("1.7.5").time_zone,
            Setting {
                value: "Asia/Tokyo".into(),
                source: SettingSource::Container
            }
        );
        env.env_file = vars("export TIME_ZONE=\"America/New_York\"\n# RAILS_ENV=test");
        assert_eq!(
            env.resolve("1.7.5").time_zone,
            Setting {
                value: "America/New_York".into(),
                source: SettingSource::EnvFile
            }
        );
        assert_eq!(
            env.resolve("1.7.5").rails_env,
            Setting {
                value: "staging".into(),
                source: SettingSource::Container
            }
        );
        env.time_zone = Some(("Europe/Paris".into(), SettingSource::Option));
        assert_eq!(
            env.resolve("1.7.5").time_zone,
            Setting {
                value: "Europe/Paris".into(),
                source: SettingSource::Option
            }
        );
    }

    #[test]
    fn defaults_follow_the_stock_compose_of_the_target() {
        let s = Environment {
            env_file: vars("TIME_ZONE=\nSELF_HOSTED=false"),
            ..Default::default()
        }
        .resolve("1.7.5");
        assert_eq!(
            s.time_zone,
            Setting {
                value: "Europe/London".into(),
                source: SettingSource::Default
            }
        );
        assert_eq!(
            s.rails_env,
            Setting {
                value: "production".into(),
                source: SettingSource::Default
            }
        );
        assert_eq!(
            s.self_hosted,
            Setting {
                value: "false".into(),
                source: SettingSource::EnvFile
            }
        );
        assert_eq!(Environment::default().resolve("1.2.0").rails_env.value, "development");
        assert_eq!(Environment::default().resolve("1.2.0").self_hosted.value, "true");
    }
}
