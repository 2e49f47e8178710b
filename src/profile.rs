//! Building a connection profile from what a self-hoster has at hand: a `postgres://` URL or the
//! Dawarich docker `.env` / compose environment, and an SSH server `USER@HOST[:PORT]`.

use dawarich_doctor_model::{PasswordSource, Profile, SshAuth, SshProfile, SslMode, APPLICATION_NAME};
use percent_encoding::percent_decode_str;
use thiserror::Error;

/// A profile plus the password found next to it (URL or `.env`), which is never stored in the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub profile: Profile,
    pub password: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProfileError {
    #[error("not a PostgreSQL URL: {0} (expected postgres://user:password@host:port/database)")]
    NotAUrl(String),
    #[error("invalid port {0:?} in the URL (expected a number from 1 to 65535)")]
    BadPort(String),
    #[error("unknown sslmode {0:?} (use disable, prefer, require, verify-ca or verify-full)")]
    BadSslMode(String),
    #[error(
        "the .env text has no DATABASE_URL and no DATABASE_HOST: paste the environment of the dawarich_app service"
    )]
    NoDatabaseVars,
    #[error("invalid SSH server {0:?} (expected user@host or user@host:port)")]
    BadSsh(String),
    /// `user:password@host`: the password is never part of the address (shown as `***`).
    #[error("the SSH server {0:?} has a password in it")]
    SshPassword(String),
}

/// Parses `postgres://` or `postgresql://` URLs: percent-encoded user and password, bracketed IPv6
/// hosts, and the query parameters `sslmode`, `sslrootcert`, `application_name`, `host`, `port`.
pub fn parse_url(input: &str) -> Result<Parsed, ProfileError> {
    let input = input.trim();
    let not_a_url = || ProfileError::NotAUrl(redact(input));
    let url = url::Url::parse(input).map_err(|_| not_a_url())?;
    // `postgres:u:pw@h` has no host; an `@` after the host means a `/`, `?` or `#` in the password
    // ended the host part early: either way the parts are not where they seem.
    if (url.scheme() != "postgres" && url.scheme() != "postgresql")
        || url.cannot_be_a_base()
        || after_authority(&url).contains('@')
    {
        return Err(not_a_url());
    }
    let mut profile = Profile::default();
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    if let Some(host) = url.host_str() {
        profile.host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    }
    if let Some(port) = url.port() {
        profile.port = port;
    }
    if !url.username().is_empty() {
        profile.user = decode(url.username());
    }
    let mut password = url.password().map(decode);
    let db = url.path().trim_start_matches('/');
    if !db.is_empty() {
        profile.database = decode(db);
    }
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "sslmode" => profile.sslmode = SslMode::parse(&v).ok_or_else(|| ProfileError::BadSslMode(v.to_string()))?,
            "sslrootcert" => profile.ca_file = Some(v.to_string()),
            "application_name" => profile.application_name = v.to_string(),
            "host" => profile.host = v.to_string(),
            "port" => profile.port = v.parse().map_err(|_| ProfileError::BadPort(v.to_string()))?,
            "user" => profile.user = v.to_string(),
            "password" => password = Some(v.to_string()),
            _ => {}
        }
    }
    Ok(finish(profile, password))
}

fn finish(mut profile: Profile, password: Option<String>) -> Parsed {
    profile.password = if password.is_some() {
        PasswordSource::Ask
    } else {
        PasswordSource::None
    };
    if profile.name.is_empty() {
        profile.name = format!("{}@{}", profile.database, profile.host);
    }
    if profile.application_name.is_empty() {
        profile.application_name = APPLICATION_NAME.into();
    }
    Parsed { profile, password }
}

/// Parses the Dawarich docker `.env` file or compose `environment:` block: `KEY=value` or `KEY: value`
/// lines (quotes, `export` and `- ` list prefixes allowed). `DATABASE_URL` wins over the parts.
pub fn parse_env(text: &str) -> Result<Parsed, ProfileError> {
    let vars = crate::settings::env_vars(text);
    if let Some(url) = vars.get("DATABASE_URL").filter(|u| !u.is_empty()) {
        return parse_url(url);
    }
    let host = vars.get("DATABASE_HOST").ok_or(ProfileError::NoDatabaseVars)?;
    let mut profile = Profile {
        host: host.clone(),
        ..Profile::default()
    };
    if let Some(p) = vars.get("DATABASE_PORT") {
        profile.port = p.parse().map_err(|_| ProfileError::BadPort(p.clone()))?;
    }
    if let Some(u) = vars.get("DATABASE_USERNAME") {
        profile.user = u.clone();
    }
    if let Some(d) = vars.get("DATABASE_NAME") {
        profile.database = d.clone();
    }
    Ok(finish(profile, vars.get("DATABASE_PASSWORD").cloned()))
}

/// Parses either a URL or `.env` text, whichever it is.
pub fn parse_any(text: &str) -> Result<Parsed, ProfileError> {
    let t = text.trim();
    if t.starts_with("postgres://") || t.starts_with("postgresql://") {
        parse_url(t)
    } else {
        parse_env(t)
    }
}

/// Parses an SSH server `USER@HOST[:PORT]` (a bracketed IPv6 host allowed, port 22 by default);
/// without `USER@` the user is `default_user`. Its auth is left at the default (the agent).
pub fn parse_ssh(dest: &str, default_user: Option<&str>) -> Result<SshProfile, ProfileError> {
    let bad = || ProfileError::BadSsh(dest.to_string());
    let (user, hostport) = match dest.rsplit_once('@') {
        Some((u, h)) if u.contains(':') => {
            let name = u.split(':').next().unwrap_or_default();
            return Err(ProfileError::SshPassword(format!("{name}:***@{h}")));
        }
        Some((u, h)) if !u.is_empty() => (u, h),
        Some(_) => return Err(bad()),
        None => (default_user.ok_or_else(bad)?, dest),
    };
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            _ => (hostport, None),
        }
    };
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| bad()))
        .transpose()?
        .unwrap_or(22);
    if host.is_empty() {
        return Err(bad());
    }
    Ok(SshProfile {
        host: host.to_string(),
        port,
        user: user.to_string(),
        auth: SshAuth::default(),
    })
}

/// The path, query and fragment of a URL: what follows its host and port.
fn after_authority(url: &url::Url) -> &str {
    &url[url::Position::BeforePath..]
}

/// The URL with any password (its own and a `password=` option) replaced by `***`, for messages
/// and logs. When the text does not parse as a PostgreSQL URL with the password in its place,
/// everything from the scheme to the last `@` is hidden (other schemes read `user:pw@` otherwise).
pub fn redact(url: &str) -> String {
    if let Ok(mut u) = url::Url::parse(url) {
        if matches!(u.scheme(), "postgres" | "postgresql")
            && !u.cannot_be_a_base()
            && !after_authority(&u).contains('@')
            && (u.password().is_none() || u.set_password(Some("***")).is_ok())
        {
            return hide_password_options(u.as_str());
        }
    }
    let Some(at) = url.rfind('@') else {
        return hide_password_options(url);
    };
    let is_scheme = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    };
    let start = match url.find("://") {
        Some(s) if s < at && is_scheme(&url[..s]) => s + 3,
        _ => url.find(':').filter(|&c| c < at).map_or(0, |c| c + 1),
    };
    format!("{}***{}", &url[..start], hide_password_options(&url[at..]))
}

/// `password=…` up to the next `&` or `#` becomes `password=***`.
fn hide_password_options(text: &str) -> String {
    const KEY: &str = "password=";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        out.push_str("***");
        rest = &rest[i + KEY.len()..];
        rest = &rest[rest.find(['&', '#']).unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_encoded_password_ipv6_and_sslmode() {
        let p = parse_url("postgresql://dawa%40rich:p%40ss%3Aw%2Fd@[::1]:6543/dawarich_production?sslmode=verify-full&sslrootcert=/ca.pem").unwrap();
        assert_eq!(p.profile.user, "dawa@rich");
        assert_eq!(p.password.as_deref(), Some("p@ss:w/d"));
        assert_eq!(p.profile.host, "::1");
        assert_eq!(p.profile.port, 6543);
        assert_eq!(p.profile.database, "dawarich_production");
        assert_eq!(p.profile.sslmode, SslMode::VerifyFull);
        assert_eq!(p.profile.ca_file.as_deref(), Some("/ca.pem"));
    }

    #[test]
    fn url_defaults() {
        let p = parse_url("postgres://db.example").unwrap();
        assert_eq!(
            (p.profile.port, p.profile.user.as_str(), p.profile.database.as_str()),
            (5432, "postgres", "dawarich_development")
        );
        assert_eq!(p.password, None);
        assert_eq!(p.profile.password, PasswordSource::None);
    }

    #[test]
    fn bad_inputs_are_named() {
        assert!(matches!(parse_url("mysql://x/y"), Err(ProfileError::NotAUrl(_))));
        assert!(matches!(
            parse_url("postgres://h/d?sslmode=sometimes"),
            Err(ProfileError::BadSslMode(_))
        ));
        assert_eq!(parse_env("FOO=1"), Err(ProfileError::NoDatabaseVars));
    }

    #[test]
    fn options_after_a_password_option_still_count() {
        let p = parse_url("postgres://u@h/d?password=pw&sslmode=require&port=6543").unwrap();
        assert_eq!(p.password.as_deref(), Some("pw"));
        assert_eq!((p.profile.sslmode, p.profile.port), (SslMode::Require, 6543));
    }

    #[test]
    fn an_at_sign_after_the_host_is_refused() {
        // the `/` in the password ended the host part: `u` would be the host, `1` the port
        for url in [
            "postgres://u:1/pass@h/d",
            "postgres://u:p@ss@h/d?application_name=a@b",
            "postgres:u:pw@h/d",
        ] {
            assert!(matches!(parse_url(url), Err(ProfileError::NotAUrl(_))), "{url}");
        }
        assert_eq!(
            parse_url("postgres://u:p@ss@h/d").unwrap().password.as_deref(),
            Some("p@ss")
        );
    }

    #[test]
    fn env_file_and_compose_block() {
        let env = "# dawarich\nDATABASE_HOST=dawarich_db\nDATABASE_PORT=5433\nDATABASE_USERNAME=postgres\nDATABASE_PASSWORD=\"password\"\nDATABASE_NAME=dawarich_development\n";
        let p = parse_env(env).unwrap();
        assert_eq!((p.profile.host.as_str(), p.profile.port), ("dawarich_db", 5433));
        assert_eq!(p.password.as_deref(), Some("password"));
        let compose = "    environment:\n      RAILS_ENV: development\n      DATABASE_HOST: dawarich_db\n      DATABASE_USERNAME: postgres\n      DATABASE_PASSWORD: password\n      DATABASE_NAME: dawarich_development\n";
        let p = parse_env(compose).unwrap();
        assert_eq!(p.profile.database, "dawarich_development");
        let with_url = "DATABASE_URL=postgres://u:pw@h:1/d\nDATABASE_HOST=ignored";
        assert_eq!(parse_any(with_url).unwrap().profile.host, "h");
    }

    #[test]
    fn ssh_servers() {
        let at = |d: &str, default: Option<&str>| parse_ssh(d, default).map(|s| (s.user, s.host, s.port));
        assert_eq!(at("me@docker.lan", None), Ok(("me".into(), "docker.lan".into(), 22)));
        assert_eq!(
            at("me@docker.lan:2222", None),
            Ok(("me".into(), "docker.lan".into(), 2222))
        );
        assert_eq!(at("me@[::1]:2200", None), Ok(("me".into(), "::1".into(), 2200)));
        assert_eq!(
            at("docker.lan", Some("you")),
            Ok(("you".into(), "docker.lan".into(), 22))
        );
        assert_eq!(at("::1", Some("you")), Ok(("you".into(), "::1".into(), 22)));
        for bad in ["@h", "me@h:x", "me@", "me@h:70000", "me@[::1"] {
            assert_eq!(at(bad, Some("you")), Err(ProfileError::BadSsh(bad.into())), "{bad}");
        }
        assert_eq!(at("docker.lan", None), Err(ProfileError::BadSsh("docker.lan".into())));
        assert_eq!(
            at("me:hunter2@docker.lan", None),
            Err(ProfileError::SshPassword("me:***@docker.lan".into()))
        );
    }

    #[test]
    fn redaction_hides_passwords() {
        assert_eq!(redact("postgres://u:secret@h/d"), "postgres://u:***@h/d");
        assert!(!redact("postgres://u:se cret@h/d").contains("se cret"));
        assert_eq!(
            redact("postgres://h/d?password=secret&sslmode=require"),
            "postgres://h/d?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres:u:secret@h/d"), "postgres:***@h/d");
        assert_eq!(redact("postgres://u:1/se@cret@h/d"), "postgres://***@h/d");
        // `://` inside the password is no scheme's
        assert_eq!(redact("u:se://cret@h/d"), "u:***@h/d");
        assert_eq!(redact(":x://@h"), ":***@h");
        assert_eq!(redact("ws:secret@h"), "ws:***@h");
    }
}
