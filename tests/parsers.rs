//! Bad input for the parsers of what a self-hoster pastes: `postgres://` URLs with their libpq
//! options, Dawarich's `.env`, SSH servers. Whatever the input, no panic; every error has a kind and
//! a fix; a password never shows in an error.

use dawarich_doctor::profile::{parse_any, parse_env, parse_ssh, parse_url, redact, ProfileError};
use dawarich_doctor::Error;
use dawarich_doctor_model::{ErrorKind, ErrorReport};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;

/// The report of a parser's error, checked to have a message and a fix.
fn report(e: ProfileError) -> ErrorReport {
    let r = Error::from(e).report();
    assert_eq!(r.kind, ErrorKind::InvalidInput, "{r:?}");
    assert!(!r.message.trim().is_empty() && !r.fix.trim().is_empty(), "{r:?}");
    r
}

/// Fails when `secret`, as typed or percent-encoded, shows in the report, unless it is too short to
/// tell or `rest` (the input without the secret) holds it anyway, in either form: a report may
/// percent-encode what the user typed around the secret.
fn assert_hidden(r: &ErrorReport, secret: &str, rest: &str) -> Result<(), TestCaseError> {
    let encoded = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let forms = [secret, encoded.as_str()];
    if secret.chars().count() < 4 || forms.iter().any(|f| rest.contains(f)) {
        return Ok(());
    }
    for form in forms {
        prop_assert!(!r.message.contains(form), "{form:?} in {:?}", r.message);
        prop_assert!(!r.fix.contains(form), "{form:?} in {:?}", r.fix);
    }
    Ok(())
}

/// A password as people type them: any printable characters, URL delimiters included.
fn password() -> impl Strategy<Value = String> {
    "[^\\p{C}]{1,24}"
}

/// libpq options in a URL's query, valid and not, `password` among them.
fn option() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("sslmode".to_string()),
        Just("sslrootcert".to_string()),
        Just("application_name".to_string()),
        Just("host".to_string()),
        Just("port".to_string()),
        Just("user".to_string()),
        Just("connect_timeout".to_string()),
        "[a-z_]{1,12}",
    ];
    let value = prop_oneof![
        Just("disable".to_string()),
        Just("verify-full".to_string()),
        Just("5432".to_string()),
        Just("70000".to_string()),
        "[^&#]{0,12}",
    ];
    (key, value).prop_map(|(k, v)| format!("{k}={v}"))
}

/// The rest of a URL after `user:password@`: a host, maybe a port, a database, options.
fn after_userinfo() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        Just("db.example".to_string()),
        Just("[::1]".to_string()),
        Just("127.0.0.1".to_string()),
        "[^/?#@]{0,12}"
    ];
    let port = prop_oneof![Just(String::new()), Just(":5432".to_string()), ":[^/?#@]{0,6}"];
    let db = prop_oneof![
        Just(String::new()),
        Just("/dawarich_development".to_string()),
        "/[^?#]{0,12}"
    ];
    let query = proptest::collection::vec(option(), 0..4).prop_map(|o| {
        if o.is_empty() {
            String::new()
        } else {
            format!("?{}", o.join("&"))
        }
    });
    (host, port, db, query).prop_map(|(h, p, d, q)| format!("{h}{p}{d}{q}"))
}

fn scheme() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("postgres://"),
        Just("postgresql://"),
        Just("postgres:"),
        Just("mysql://"),
        Just("http://"),
        Just("file://"),
        Just(""),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_text_is_parsed_or_refused_with_a_fix(text in "\\PC{0,80}|[\\s\\S]{0,80}") {
        for result in [parse_any(&text), parse_url(&text), parse_env(&text)] {
            if let Err(e) = result {
                report(e);
            }
        }
    }

    #[test]
    fn any_url_shaped_text_is_parsed_or_refused_with_a_fix(
        scheme in scheme(),
        rest in "[\\s\\S]{0,60}",
    ) {
        let url = format!("{scheme}{rest}");
        if let Err(e) = parse_url(&url) {
            report(e);
        }
        redact(&url);
    }

    /// The password, raw or percent-encoded, never shows in the error; when the URL is read, it is
    /// the password and in no other field.
    #[test]
    fn a_password_in_a_url_stays_out_of_errors_and_other_fields(
        scheme in scheme(),
        user in "[a-z]{0,8}",
        pw in password(),
        encode in any::<bool>(),
        rest in after_userinfo(),
    ) {
        let written = if encode { utf8_percent_encode(&pw, NON_ALPHANUMERIC).to_string() } else { pw.clone() };
        let url = format!("{scheme}{user}:{written}@{rest}");
        let without = format!("{scheme}{user}:@{rest}");
        match parse_url(&url) {
            Err(e) => assert_hidden(&report(e), &pw, &without)?,
            Ok(parsed) => {
                let p = &parsed.profile;
                let others = [&p.name, &p.host, &p.user, &p.database, &p.application_name];
                if pw.chars().count() >= 4 && !without.contains(&pw) {
                    for field in others {
                        prop_assert!(!field.contains(&pw), "{pw:?} in {field:?} of {url:?}");
                    }
                }
                // a raw `%xx` is the user's own encoding; anything else comes back as typed
                if !pw.contains('%') && !rest.contains("password=") {
                    prop_assert_eq!(parsed.password.as_deref(), Some(pw.as_str()), "{}", url);
                }
            }
        }
        let shown = redact(&url);
        let r = ErrorReport { kind: ErrorKind::InvalidInput, message: shown, fix: String::new() };
        assert_hidden(&r, &pw, &without)?;
    }

    /// `password=` among the options is the password wherever it stands, and stays out of errors.
    #[test]
    fn a_password_option_is_read_in_any_position_and_hidden(
        before in proptest::collection::vec(option(), 0..3),
        after in proptest::collection::vec(option(), 0..3),
        pw in "[A-Za-z0-9_.~-]{1,20}",
    ) {
        let url_with = |pw: &str| {
            let query = before.iter().cloned().chain([format!("password={pw}")]).chain(after.iter().cloned());
            format!("postgres://u@db.example/d?{}", query.collect::<Vec<_>>().join("&"))
        };
        let url = url_with(&pw);
        match parse_url(&url) {
            Ok(parsed) if !after.iter().any(|o| o.starts_with("password=")) => {
                prop_assert_eq!(parsed.password.as_deref(), Some(pw.as_str()));
            }
            Ok(_) => {}
            Err(e) => assert_hidden(&report(e), &pw, &url_with(""))?,
        }
    }

    /// The same through Dawarich's `.env`: a bad port or URL next to DATABASE_PASSWORD.
    #[test]
    fn a_password_in_an_env_file_stays_out_of_errors(
        pw in password(),
        port in prop_oneof![Just("5432".to_string()), "[^\\n\\r]{0,8}"],
        url in prop_oneof![Just(None), "[^\\n\\r]{0,30}".prop_map(Some)],
        compose in any::<bool>(),
    ) {
        let sep = if compose { ": " } else { "=" };
        let text_with = |pw: &str| {
            let mut text = format!("DATABASE_HOST{sep}dawarich_db\nDATABASE_PORT{sep}{port}\nDATABASE_PASSWORD{sep}{pw}\n");
            if let Some(u) = &url {
                text += &format!("DATABASE_URL{sep}postgres://postgres:{pw}@{u}\n");
            }
            text
        };
        let text = text_with(&pw);
        for result in [parse_env(&text), parse_any(&text)] {
            if let Err(e) = result {
                assert_hidden(&report(e), &pw, &text_with(""))?;
            }
        }
    }

    #[test]
    fn any_ssh_server_is_parsed_or_refused_with_a_fix(
        dest in "[\\s\\S]{0,40}|[a-z]{0,5}@?\\[?[a-z0-9:.]{0,12}\\]?(:[0-9a-z]{0,6})?",
        default_user in proptest::option::of("[a-z]{1,8}"),
    ) {
        match parse_ssh(&dest, default_user.as_deref()) {
            Ok(s) => prop_assert!(!s.host.is_empty() && !s.user.is_empty() && !s.user.contains(':')),
            Err(e) => { report(e); }
        }
    }

    /// `user:password@host` is refused without showing the password.
    #[test]
    fn a_password_in_an_ssh_server_is_refused_and_hidden(
        user in "[a-z]{1,8}",
        pw in password(),
        host in "[a-z0-9.]{1,12}(:[0-9]{1,5})?",
    ) {
        let dest = format!("{user}:{pw}@{host}");
        let e = parse_ssh(&dest, None).expect_err("a password in the address is refused");
        assert_hidden(&report(e), &pw, &format!("{user}:@{host}"))?;
    }
}
