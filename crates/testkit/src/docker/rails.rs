//! What `rails db:migrate` and `rake data:migrate` print, taken from their sources: Rails v8.0.3
//! `activerecord/lib/active_record/migration.rb` (`Migration#write`, `#announce`, `#say`,
//! `#say_with_time`, `Migrator#execute_migration_in_transaction`, `ConcurrentMigrationError`),
//! `activerecord/lib/active_record/connection_adapters/{abstract_adapter,postgresql_adapter}.rb`
//! (`translate_exception_class`, `translate_exception`), rake v13.4.2 `lib/rake/application.rb`
//! (`display_error_message`, `display_exception_details`, `display_cause_details`,
//! `display_exception_message_details`) with `lib/rake/trace_output.rb` (`trace_on`), Ruby's
//! `Exception#detailed_message(highlight: false)` (`rb_decorate_message` in `error.c`), and libpq's
//! error message layout (`pqBuildErrorMessage3`, which the pg gem's messages carry). data_migrate
//! 11.3.1 prints nothing of its own for `data:migrate`: its migrations are `ActiveRecord::Migration`s,
//! so they announce themselves the same way.

use std::time::Duration;

use tokio_postgres::error::ErrorPosition;

use super::pg_errors;

/// `Migration#announce`: `== VERSION Name: message ===…`, padded with `=` to 79 columns.
pub fn announce(version: &str, name: &str, message: &str) -> String {
    let text = format!("{version} {name}: {message}");
    let length = 75usize.saturating_sub(text.chars().count());
    format!("== {text} {}", "=".repeat(length))
}

/// `Migration#say`: `-- message`, or `   -> message` for a subitem.
pub fn say(message: &str, subitem: bool) -> String {
    format!("{} {message}", if subitem { "   ->" } else { "--" })
}

/// The time `say_with_time` and `announce` print: `"%.4fs"`.
pub fn seconds(d: Duration) -> String {
    format!("{:.4}s", d.as_secs_f64())
}

/// Ruby's `String#inspect` of a UTF-8 string.
pub fn inspect(text: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0b}' => out.push_str("\\v"),
            '\u{08}' => out.push_str("\\b"),
            '\u{07}' => out.push_str("\\a"),
            '\u{1b}' => out.push_str("\\e"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Ruby exception as rake shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RubyError {
    pub class: String,
    pub message: String,
    /// What is left of the backtrace after rake's suppression.
    pub backtrace: Vec<String>,
}

/// `Exception#detailed_message(highlight: false)`: the class in parentheses after the message's
/// first line (a message that ends right after its first line loses that newline).
pub fn detailed_message(class: &str, message: &str) -> String {
    if message.is_empty() {
        return class.to_string();
    }
    match message.split_once('\n') {
        Some((first, rest)) if !rest.is_empty() => format!("{first} ({class})\n{rest}"),
        Some((first, _)) => format!("{first} ({class})"),
        None => format!("{message} ({class})"),
    }
}

/// `trace_on`: each string followed by a newline unless it ends with one.
fn trace(out: &mut String, text: &str) {
    out.push_str(text);
    if !text.ends_with('\n') {
        out.push('\n');
    }
}

/// What rake prints to stderr when a task raises (`display_error_message`): `chain` is the exception
/// and then its causes, outermost first. `app` is `bin/rails` or `rake`, `task` the failing task.
pub fn aborted(app: &str, chain: &[RubyError], task: &str) -> String {
    let mut out = String::new();
    trace(&mut out, &format!("{app} aborted!"));
    for (n, e) in chain.iter().enumerate() {
        if n > 0 {
            trace(&mut out, "\nCaused by:");
        }
        let line = if e.class == "RuntimeError" {
            e.message.clone()
        } else {
            format!("{}: {}", e.class, detailed_message(&e.class, &e.message))
        };
        trace(&mut out, &line);
        trace(&mut out, &e.backtrace.join("\n"));
    }
    trace(&mut out, &format!("Tasks: TOP => {task}"));
    trace(&mut out, "(See full trace by running task with --trace)");
    out
}

/// `ActiveRecord::ConcurrentMigrationError::DEFAULT_MESSAGE`.
pub const CONCURRENT_MIGRATION: &str = "Cannot run migrations because another migration process is currently running.";

/// The pg gem's exception for a failed query: its class, libpq's message (severity, primary
/// message, then `DETAIL:`, `HINT:`, `QUERY:` and `CONTEXT:` lines, each line ending in a newline;
/// the `LINE n:` excerpt libpq adds for an error position in the query is left out) and the
/// SQLSTATE (`None` when the server did not answer).
pub fn pg_error(e: &tokio_postgres::Error) -> (String, String, Option<String>) {
    let Some(db) = e.as_db_error() else {
        return ("PG::ConnectionBad".into(), format!("{e}\n"), None);
    };
    let mut text = format!("{}:  {}\n", db.severity(), db.message());
    let internal_query = match db.position() {
        Some(ErrorPosition::Internal { query, .. }) => Some(query.as_str()),
        _ => None,
    };
    for (label, field) in [
        ("DETAIL", db.detail()),
        ("HINT", db.hint()),
        ("QUERY", internal_query),
        ("CONTEXT", db.where_()),
    ] {
        if let Some(value) = field {
            text.push_str(&format!("{label}:  {value}\n"));
        }
    }
    let code = db.code().code().to_string();
    (pg_errors::class_of(&code), text, Some(code))
}

/// The Active Record exception `translate_exception` makes of a pg exception with this SQLSTATE.
pub fn active_record_class(sqlstate: Option<&str>) -> &'static str {
    match sqlstate {
        Some("23505") => "ActiveRecord::RecordNotUnique",
        Some("23503") => "ActiveRecord::InvalidForeignKey",
        Some("22001") => "ActiveRecord::ValueTooLong",
        Some("22003") => "ActiveRecord::RangeError",
        Some("23502") => "ActiveRecord::NotNullViolation",
        Some("40001") => "ActiveRecord::SerializationFailure",
        Some("40P01") => "ActiveRecord::Deadlocked",
        Some("42P04") => "ActiveRecord::DatabaseAlreadyExists",
        Some("55P03") => "ActiveRecord::LockWaitTimeout",
        Some("57014") => "ActiveRecord::QueryCanceled",
        None => "ActiveRecord::ConnectionFailed",
        Some(_) => "ActiveRecord::StatementInvalid",
    }
}

/// The exception chain of a migration whose statement failed: the migrator's `StandardError`, the
/// Active Record exception, the pg exception (all with the backtrace of the pg one, as
/// `translate_exception_class` and `execute_migration_in_transaction` copy it).
pub fn migration_failure(e: &tokio_postgres::Error, transaction: bool, backtrace: Vec<String>) -> Vec<RubyError> {
    let (pg_class, pg_message, code) = pg_error(e);
    let ar_message = format!("{pg_class}: {pg_message}");
    let this = if transaction { "this and " } else { "" };
    vec![
        RubyError {
            class: "StandardError".into(),
            message: format!("An error has occurred, {this}all later migrations canceled:\n\n{ar_message}"),
            backtrace: backtrace.clone(),
        },
        RubyError {
            class: active_record_class(code.as_deref()).into(),
            message: ar_message,
            backtrace: backtrace.clone(),
        },
        RubyError {
            class: pg_class,
            message: pg_message,
            backtrace,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_are_padded_to_79_columns() {
        let line = announce("20270101000001", "AddDoctorFutureNote", "migrating");
        assert_eq!(
            line,
            "== 20270101000001 AddDoctorFutureNote: migrating =============================="
        );
        assert_eq!(line.len(), 79);
        assert_eq!(
            announce("20270101000001", "AddDoctorFutureNote", "migrated (0.0150s)").len(),
            79
        );
        let long = announce("20270101000001", &"X".repeat(80), "migrating");
        assert!(long.ends_with(": migrating "), "{long}");
        assert_eq!(say("execute(\"SELECT 1\")", false), "-- execute(\"SELECT 1\")");
        assert_eq!(say(&seconds(Duration::from_micros(12_345)), true), "   -> 0.0123s");
    }

    #[test]
    fn strings_are_inspected_like_ruby() {
        assert_eq!(
            inspect("UPDATE \"points\"\n SET a = '#{x}' -- \\ #1\t\u{1}é"),
            r#""UPDATE \"points\"\n SET a = '\#{x}' -- \\ #1\t\u0001é""#
        );
    }

    #[test]
    fn rake_prints_the_chain_with_detailed_messages() {
        let bt = vec!["/var/app/db/migrate/1_x.rb:7:in 'X#change'".to_string()];
        let pg = "ERROR:  could not create unique index \"i\"\nDETAIL:  Key (user_id, \"timestamp\")=(1, 2) is duplicated.\n";
        let chain = vec![
            RubyError {
                class: "StandardError".into(),
                message: format!("An error has occurred, all later migrations canceled:\n\nPG::UniqueViolation: {pg}"),
                backtrace: bt.clone(),
            },
            RubyError {
                class: "ActiveRecord::RecordNotUnique".into(),
                message: format!("PG::UniqueViolation: {pg}"),
                backtrace: bt.clone(),
            },
            RubyError {
                class: "PG::UniqueViolation".into(),
                message: pg.into(),
                backtrace: bt,
            },
        ];
        assert_eq!(
            aborted("bin/rails", &chain, "db:migrate"),
            "bin/rails aborted!
StandardError: An error has occurred, all later migrations canceled: (StandardError)

PG::UniqueViolation: ERROR:  could not create unique index \"i\"
DETAIL:  Key (user_id, \"timestamp\")=(1, 2) is duplicated.
/var/app/db/migrate/1_x.rb:7:in 'X#change'

Caused by:
ActiveRecord::RecordNotUnique: PG::UniqueViolation: ERROR:  could not create unique index \"i\" (ActiveRecord::RecordNotUnique)
DETAIL:  Key (user_id, \"timestamp\")=(1, 2) is duplicated.
/var/app/db/migrate/1_x.rb:7:in 'X#change'

Caused by:
PG::UniqueViolation: ERROR:  could not create unique index \"i\" (PG::UniqueViolation)
DETAIL:  Key (user_id, \"timestamp\")=(1, 2) is duplicated.
/var/app/db/migrate/1_x.rb:7:in 'X#change'
Tasks: TOP => db:migrate
(See full trace by running task with --trace)
"
        );
        assert_eq!(
            detailed_message("ActiveRecord::ConcurrentMigrationError", CONCURRENT_MIGRATION),
            "Cannot run migrations because another migration process is currently running. (ActiveRecord::ConcurrentMigrationError)"
        );
        assert_eq!(detailed_message("E", "one line\n"), "one line (E)");
    }
}
