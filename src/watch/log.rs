//! Reads a Dawarich app container's log: the entrypoint's steps, Rails' migration output (data_migrate
//! prints the same lines), the abort block that rake prints when a migration fails, and Puma
//! listening. [`recognise`] says why the last start failed; [`migration_in_progress`] what it runs now.
//!
//! The formats, as Dawarich's images print them (Rails 8, rake 13, Ruby 3.4):
//! - `== 20240815174852 AddOwntracksPointsData: migrating ====…` / `…: migrated (0.0150s) ====…`
//!   (`Migration#announce`, padded with `=` to 75 characters), `-- add_index(:points, …)` (`say`),
//!   `   -> 0.0123s` / `   -> 12 rows` (`say_with_time`).
//! - `bin/rails aborted!` (`rails db:migrate`) or `rake aborted!` (`rake data:migrate`), then the
//!   error as `Class: message (Class)`, its backtrace, `Caused by:` sections, `Tasks: TOP => db:migrate`
//!   and `(See full trace by running task with --trace)`.
//! - A failing migration's error is wrapped: `StandardError: An error has occurred, this and all later
//!   migrations canceled: (StandardError)` (`all later migrations canceled` for a no-transaction
//!   migration), a blank line, then the cause's message.
//! - The lines may carry docker compose's `dawarich_app  | `, `docker logs -t`'s RFC 3339 time,
//!   journald's or `kubectl logs --prefix`'s prefix, ANSI colours and CRs; all are removed first.

use dawarich_doctor_model::{EntrypointStep, ExistingKind, Failure, LogEvent, RunningMigration};

/// At most this many lines in an unknown failure's excerpt.
const EXCERPT_LINES: usize = 20;

/// `ActiveRecord::ConcurrentMigrationError::DEFAULT_MESSAGE`.
const LOCK_HELD: &str = "Cannot run migrations because another migration process is currently running";

/// `ConcurrentMigrationError::RELEASE_LOCK_FAILED_MESSAGE`: the same class, another problem.
const RELEASE_FAILED: &str = "Failed to release advisory lock";

/// A log line's text without what docker compose, `docker logs -t`, journald or `kubectl logs
/// --prefix` put before it, ANSI escape sequences and CRs; trailing blanks removed, leading kept.
pub fn clean(line: &str) -> String {
    let plain = strip_ansi(line);
    let mut t = strip_journald(&plain);
    t = strip_kubectl(t);
    t = strip_compose(t);
    // `docker logs -t` of a `-t`-less log viewer that adds its own: two timestamps on one line.
    t = strip_timestamp(strip_timestamp(t));
    t.trim_end().to_string()
}

/// The event a single line reports. A migration line reads as a schema migration here; [`LogReader`]
/// knows from the entrypoint's steps when it is a data migration.
pub fn parse_line(line: &str) -> Option<LogEvent> {
    parse_clean(&clean(line))
}

/// Reads a log line by line, keeping what a single line cannot tell: whether the migrations now
/// running are data migrations (after `Running DATA migrations...`, or once data_migrate's
/// `DataMigrate::DataSchemaMigration` shows in Rails' SQL log).
#[derive(Debug, Clone, Default)]
pub struct LogReader {
    data: bool,
}

impl LogReader {
    pub fn new() -> LogReader {
        LogReader::default()
    }

    /// The event of the next line, if it is one.
    pub fn read(&mut self, line: &str) -> Option<LogEvent> {
        self.read_clean(&clean(line))
    }

    fn read_clean(&mut self, text: &str) -> Option<LogEvent> {
        if text.contains("DataMigrate::DataSchemaMigration") {
            self.data = true;
        }
        let mut event = parse_clean(text)?;
        match &mut event {
            LogEvent::Step { step } => self.data = *step == EntrypointStep::DataMigrations,
            LogEvent::Migrating { data, .. } | LogEvent::Migrated { data, .. } => *data = self.data,
            _ => {}
        }
        Some(event)
    }
}

/// The events of `lines`, in order.
pub fn events(lines: &[String]) -> Vec<LogEvent> {
    let mut reader = LogReader::new();
    lines.iter().filter_map(|l| reader.read(l)).collect()
}

/// Why the last start in `lines` failed: the attempt after the last entrypoint start (the whole log
/// without one), and in it the abort block after the last line that shows it going on (an entrypoint
/// step, a migration, Puma listening). None when there is no such block: it did not fail, or it is
/// still running.
pub fn recognise(lines: &[String]) -> Option<Failure> {
    let all = read_all(lines);
    let attempt = last_attempt(&all);
    let from = attempt.iter().rposition(is_progress).map_or(0, |i| i + 1);
    let abort = from
        + attempt[from..]
            .iter()
            .position(|l| matches!(l.event, Some(LogEvent::Aborted)))?;
    let context = Context::of(&attempt[..abort]);
    Some(classify(&context, &attempt[abort..]))
}

/// The migration the last start is running now (its `migrating` line without `migrated`, no abort
/// after it), with the statement it is in.
pub fn migration_in_progress(lines: &[String]) -> Option<RunningMigration> {
    let all = read_all(lines);
    let attempt = last_attempt(&all);
    let context = Context::of(attempt);
    let (at, version, name, data) = context.running?;
    if attempt[at..]
        .iter()
        .any(|l| matches!(l.event, Some(LogEvent::Aborted | LogEvent::Listening)))
    {
        return None;
    }
    Some(RunningMigration {
        version,
        name,
        data,
        statement: context.statement,
    })
}

/// A cleaned line and its event.
struct Line {
    text: String,
    event: Option<LogEvent>,
}

fn read_all(lines: &[String]) -> Vec<Line> {
    let mut reader = LogReader::new();
    lines
        .iter()
        .map(|l| {
            let text = clean(l);
            let event = reader.read_clean(&text);
            Line { text, event }
        })
        .collect()
}

/// The lines from the last entrypoint start on.
fn last_attempt(lines: &[Line]) -> &[Line] {
    let start = lines
        .iter()
        .rposition(|l| {
            matches!(
                l.event,
                Some(LogEvent::Step {
                    step: EntrypointStep::Start
                })
            )
        })
        .unwrap_or(0);
    &lines[start..]
}

/// A line that shows the entrypoint or Rails going on (an abort block before it is over).
fn is_progress(l: &Line) -> bool {
    matches!(
        l.event,
        Some(LogEvent::Step { .. } | LogEvent::Migrating { .. } | LogEvent::Migrated { .. } | LogEvent::Listening)
    )
}

/// What was running when a block of lines ended.
#[derive(Default)]
struct Context {
    /// Index of the `migrating` line, version, name, data.
    running: Option<(usize, String, String, bool)>,
    /// The migration's last statement without its `->` line.
    statement: Option<String>,
    /// The cleaned `migrating` line and pending statement line, for an excerpt.
    migrating_line: Option<String>,
    statement_line: Option<String>,
}

impl Context {
    fn of(lines: &[Line]) -> Context {
        let mut c = Context::default();
        for (i, l) in lines.iter().enumerate() {
            match &l.event {
                Some(LogEvent::Migrating { version, name, data }) => {
                    c = Context {
                        running: Some((i, version.clone(), name.clone(), *data)),
                        migrating_line: Some(l.text.trim().to_string()),
                        ..Context::default()
                    };
                }
                Some(LogEvent::Migrated { .. } | LogEvent::Step { .. }) => c = Context::default(),
                Some(LogEvent::Statement { text }) if c.running.is_some() => {
                    c.statement = Some(text.clone());
                    c.statement_line = Some(l.text.trim().to_string());
                }
                Some(LogEvent::StatementDone { .. }) => {
                    c.statement = None;
                    c.statement_line = None;
                }
                _ => {}
            }
        }
        c
    }

    /// `VERSION Name`.
    fn migration(&self) -> Option<String> {
        self.running.as_ref().map(|(_, v, n, _)| format!("{v} {n}"))
    }

    fn name(&self) -> Option<&str> {
        self.running.as_ref().map(|(_, _, n, _)| n.as_str())
    }
}

fn classify(context: &Context, block: &[Line]) -> Failure {
    let messages: Vec<&str> = block
        .iter()
        .map(|l| l.text.trim())
        .filter(|t| !t.is_empty() && !is_backtrace(t))
        .collect();
    let any = |needle: &str| messages.iter().any(|m| m.contains(needle));
    let migration = context.migration();

    if any(LOCK_HELD) || (any("ConcurrentMigrationError") && !any(RELEASE_FAILED)) {
        return Failure::LockHeld;
    }
    if let Some(f) = unique_violation(context, &messages) {
        return f;
    }
    if let Some(f) = already_exists(context, &messages) {
        return f;
    }
    if messages
        .iter()
        .any(|m| m.contains("Validation failed:") && m.contains("User must exist"))
    {
        return Failure::UserMustExist { migration };
    }
    if messages.iter().any(|m| is_nil_index(m)) && settings_related(context.name(), block) {
        return Failure::NilSettings { migration };
    }
    let mut excerpt: Vec<String> = context
        .migrating_line
        .iter()
        .chain(&context.statement_line)
        .cloned()
        .collect();
    excerpt.extend(messages.iter().map(|m| m.to_string()));
    excerpt.truncate(EXCERPT_LINES);
    Failure::Unknown {
        migration,
        statement: context.statement.clone(),
        error: error_line(&messages),
        excerpt,
    }
}

/// `PG::UniqueViolation: ERROR:  could not create unique index "i"` or `… duplicate key value violates
/// unique constraint "i"`, with `DETAIL:  Key (a, "timestamp", b)=(…) is duplicated.` / `already exists.`
fn unique_violation(context: &Context, messages: &[&str]) -> Option<Failure> {
    let index_markers = ["could not create unique index \"", "violates unique constraint \""];
    let hit = messages.iter().any(|m| {
        m.contains("PG::UniqueViolation")
            || m.contains("ActiveRecord::RecordNotUnique")
            || index_markers.iter().any(|k| m.contains(k))
    });
    if !hit {
        return None;
    }
    let index = messages
        .iter()
        .find_map(|m| index_markers.iter().find_map(|k| quoted_after(m, k)));
    let (columns, key) = messages
        .iter()
        .filter(|m| m.starts_with("DETAIL:"))
        .find_map(|m| parse_key(m))
        .map_or((Vec::new(), None), |(c, k)| (c, Some(k)));
    Some(Failure::UniqueViolation {
        migration: context.migration(),
        index,
        table: context.statement.as_deref().and_then(table_of_statement),
        columns,
        key,
    })
}

/// `PG::DuplicateColumn: ERROR:  column "c" of relation "t" already exists`, `PG::DuplicateObject:
/// ERROR:  constraint "c" for relation "t" already exists`, `PG::DuplicateTable: ERROR:  relation "r"
/// already exists` (a table or an index: the failing statement tells which).
fn already_exists(context: &Context, messages: &[&str]) -> Option<Failure> {
    let migration = context.migration();
    let statement = context.statement.as_deref().unwrap_or("");
    for m in messages {
        for (marker, middle, kind) in [
            ("column \"", "\" of relation \"", ExistingKind::Column),
            ("constraint \"", "\" for relation \"", ExistingKind::Constraint),
        ] {
            let Some(name) = quoted_after(m, marker) else { continue };
            let rest = &m[m.find(marker).unwrap_or(0) + marker.len() + name.len()..];
            let Some(table) = rest.strip_prefix(middle).and_then(|r| r.split_once('"')) else {
                continue;
            };
            if table.1.trim_start().starts_with("already exists") {
                return Some(Failure::AlreadyExists {
                    migration,
                    kind,
                    name,
                    table: Some(table.0.to_string()),
                });
            }
        }
    }
    for m in messages {
        let Some(at) = m.find("relation \"") else { continue };
        // `column "c" of relation "t" already exists` was handled above; this is the relation itself.
        if m[..at].trim_end().ends_with(" of") || m[..at].trim_end().ends_with(" for") {
            continue;
        }
        let Some(name) = quoted_after(&m[at..], "relation \"") else {
            continue;
        };
        let after = &m[at + "relation \"".len() + name.len()..];
        if !after
            .strip_prefix('"')
            .is_some_and(|r| r.trim_start().starts_with("already exists"))
        {
            continue;
        }
        let method = statement.split('(').next().unwrap_or("").trim();
        let sql = statement.to_ascii_uppercase();
        let kind = if method == "create_table" || (method == "execute" && sql.contains("CREATE TABLE")) {
            ExistingKind::Table
        } else if method == "add_index" || (method == "execute" && sql.contains(" INDEX ")) {
            ExistingKind::Index
        } else {
            ExistingKind::Relation
        };
        let table = if kind == ExistingKind::Index {
            table_of_statement(statement)
        } else {
            None
        };
        return Some(Failure::AlreadyExists {
            migration,
            kind,
            name,
            table,
        });
    }
    None
}

/// Ruby's NoMethodError for `nil[…]`: `undefined method '[]' for nil` (3.4), `` `[]' for nil``
/// (3.3), `` `[]' for nil:NilClass`` (before).
fn is_nil_index(m: &str) -> bool {
    m.contains("undefined method") && (m.contains("'[]'") || m.contains("`[]'")) && m.contains(" for nil")
}

/// A migration about users' settings: its name (`AddFogOfWarMetersToSettings`,
/// `SetDefaultDistanceUnitForUser`), its file in the backtrace, or `User#sanitize_input`, which reads
/// `settings` on every save.
fn settings_related(name: Option<&str>, block: &[Line]) -> bool {
    let settings_name = |n: &str| {
        let n = n.to_ascii_lowercase().replace('_', "");
        n.contains("setting")
            || n.ends_with("foruser")
            || n.ends_with("touser")
            || n.ends_with("forusers")
            || n.ends_with("tousers")
    };
    if name.is_some_and(settings_name) {
        return true;
    }
    block.iter().any(|l| {
        let t = l.text.trim();
        let file = ["/db/data/", "/db/migrate/"]
            .iter()
            .find_map(|dir| t.find(dir).map(|i| &t[i + dir.len()..]))
            .map(|f| f.split(".rb").next().unwrap_or(f));
        file.is_some_and(settings_name) || (t.contains("models/user.rb") && t.contains("sanitize_input"))
    })
}

/// The error's first line: the cause's message under Rails' `An error has occurred, …` wrapper, else
/// the first line after the `aborted!` line.
fn error_line(messages: &[&str]) -> String {
    let mut rest = messages.iter().copied().filter(|m| !is_tool_abort(m));
    let Some(first) = rest.next() else {
        return messages.first().map_or_else(String::new, |m| m.to_string());
    };
    if first.contains("An error has occurred, ") {
        let after = first.split_once("canceled:").map_or("", |(_, a)| a.trim());
        if !after.is_empty() && after != "(StandardError)" {
            return after.to_string();
        }
        if let Some(cause) = rest.find(|m| *m != "Caused by:") {
            return cause.to_string();
        }
    }
    first.to_string()
}

fn parse_clean(text: &str) -> Option<LogEvent> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("== ") {
        return announce(rest);
    }
    if let Some(rest) = t.strip_prefix("-- ") {
        let text = rest.trim();
        return (!text.is_empty()).then(|| LogEvent::Statement { text: text.to_string() });
    }
    if let Some(rest) = t.strip_prefix("-> ") {
        return Some(LogEvent::StatementDone {
            detail: rest.trim().to_string(),
        });
    }
    if is_tool_abort(t) || (t.contains("An error has occurred, ") && t.contains("all later migrations canceled")) {
        return Some(LogEvent::Aborted);
    }
    if t.starts_with("* Listening on ") {
        return Some(LogEvent::Listening);
    }
    step(t).map(|step| LogEvent::Step { step })
}

/// `VERSION Name: migrating ===` / `VERSION Name: migrated (0.0150s) ===` after `== `.
fn announce(rest: &str) -> Option<LogEvent> {
    let (version, rest) = rest.split_once(' ')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_end_matches(['=', ' ']);
    let (name, message) = rest.rsplit_once(": ")?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let (version, name) = (version.to_string(), name.to_string());
    if message == "migrating" {
        return Some(LogEvent::Migrating {
            version,
            name,
            data: false,
        });
    }
    let secs = message
        .strip_prefix("migrated (")?
        .strip_suffix("s)")?
        .parse::<f64>()
        .ok()?;
    Some(LogEvent::Migrated {
        version,
        name,
        secs,
        data: false,
    })
}

/// rake's `#{name} aborted!`: `rake`, `rails`, `bin/rails`.
fn is_tool_abort(t: &str) -> bool {
    t.strip_suffix(" aborted!")
        .is_some_and(|tool| !tool.is_empty() && !tool.contains(char::is_whitespace))
}

/// The entrypoint's echo lines, 0.4.0 to 1.x.
fn step(t: &str) -> Option<EntrypointStep> {
    if t.contains("Starting Rails environment:") || t.starts_with("Environment: ") {
        Some(EntrypointStep::Start)
    } else if t.starts_with("Running DATA migrations") {
        Some(EntrypointStep::DataMigrations)
    } else if t.contains("Running primary database migrations") || t.contains("Running database migrations") {
        Some(EntrypointStep::SchemaMigrations)
    } else if t.starts_with("Running seeds") {
        Some(EntrypointStep::Seeds)
    } else {
        None
    }
}

/// A backtrace line: `/path/file.rb:12:in 'Class#method'`, `bin/rails:4:in '<main>'`, Ruby 2's
/// `11: from /path/file.rb:73:in `execute'`.
fn is_backtrace(t: &str) -> bool {
    let mut s = t.trim_start();
    if let Some((n, rest)) = s.split_once(": from ") {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            s = rest;
        }
    } else if let Some(rest) = s.strip_prefix("from ") {
        s = rest;
    }
    let Some((head, method)) = s.split_once(":in ") else {
        return false;
    };
    let Some((file, line)) = head.rsplit_once(':') else {
        return false;
    };
    !file.is_empty()
        && !file.contains(char::is_whitespace)
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && (method.starts_with('\'') || method.starts_with('`'))
        && !method.contains("': ")
}

/// The text between `marker` (ending with `"`) and the next `"`.
fn quoted_after(m: &str, marker: &str) -> Option<String> {
    let rest = &m[m.find(marker)? + marker.len()..];
    let (name, _) = rest.split_once('"')?;
    (!name.is_empty()).then(|| name.to_string())
}

/// `DETAIL:  Key (lonlat, "timestamp", user_id)=(0101…, 1700000000, 1) is duplicated.`: the columns
/// (unquoted) and the values as printed.
fn parse_key(detail: &str) -> Option<(Vec<String>, String)> {
    let at = detail.find("Key (")? + "Key ".len();
    let (columns, rest) = parenthesised(&detail[at..])?;
    let values = rest.strip_prefix('=')?;
    let values = [") is duplicated", ") already exists"]
        .iter()
        .find_map(|end| values.rfind(*end).map(|i| &values[..i]))
        .and_then(|v| v.strip_prefix('('))
        .map(str::to_string)
        .or_else(|| parenthesised(values).map(|(v, _)| v.to_string()))?;
    let columns = split_top_level(columns)
        .into_iter()
        .map(unquote)
        .filter(|c| !c.is_empty())
        .collect();
    Some((columns, values))
}

/// The inside of the parenthesis `s` starts with, and what follows it (double quotes respected).
fn parenthesised(s: &str) -> Option<(&str, &str)> {
    if !s.starts_with('(') {
        return None;
    }
    let (mut depth, mut quoted) = (0usize, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some((&s[1..i], &s[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `a, "b, c", f(d, e)` → `a`, `"b, c"`, `f(d, e)`.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut parts, mut start, mut depth, mut quoted) = (Vec::new(), 0, 0usize, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            ',' if !quoted && depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

/// `"timestamp"` → `timestamp` (PostgreSQL's quoted identifier, `""` for a quote).
fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_string(),
    }
}

/// The table a statement line names: the first argument of `add_index(:points, …)` and the other
/// schema statements, or the table of the SQL in `execute("…")`.
fn table_of_statement(statement: &str) -> Option<String> {
    let (method, args) = statement.split_once('(')?;
    match method.trim() {
        "execute" => sql_table(args),
        "add_index"
        | "remove_index"
        | "create_table"
        | "add_column"
        | "change_column"
        | "remove_column"
        | "add_reference"
        | "add_foreign_key"
        | "add_check_constraint"
        | "change_column_null" => first_arg(args),
        _ => None,
    }
}

/// `:points, …` / `"points", …` → `points`.
fn first_arg(args: &str) -> Option<String> {
    let a = args.trim_start();
    let name: String = if let Some(r) = a.strip_prefix(':') {
        r.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    } else {
        a.strip_prefix('"')?.split('"').next()?.to_string()
    };
    (!name.is_empty()).then_some(name)
}

/// The table of `CREATE [UNIQUE] INDEX … ON t`, `UPDATE t`, `INSERT INTO t` in Ruby's inspected string.
fn sql_table(sql: &str) -> Option<String> {
    let upper = sql.to_ascii_uppercase();
    let at = if let Some(index) = upper.find(" INDEX ") {
        let rel = upper[index..].find(" ON ")? + index + " ON ".len();
        if upper[rel..].trim_start().starts_with("ONLY ") {
            rel + upper[rel..].find("ONLY ")? + "ONLY ".len()
        } else {
            rel
        }
    } else {
        // The statement's own keyword, not `… ON CONFLICT DO UPDATE` of an INSERT.
        ["UPDATE ", "INSERT INTO "]
            .iter()
            .filter_map(|k| upper.find(k).map(|i| (i, i + k.len())))
            .min()?
            .1
    };
    let token: String = sql[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '"' | '\\'))
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    let table = token.rsplit('.').next().unwrap_or("").to_string();
    (!table.is_empty()).then_some(table)
}

/// Removes ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL`, two-byte escapes) and CRs.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            c => out.push(c),
        }
    }
    out
}

/// docker compose's `dawarich_app  | ` (`dawarich_app-1  | `): a name, padding, a bar.
fn strip_compose(t: &str) -> &str {
    let Some(bar) = t.find('|') else { return t };
    let head = &t[..bar];
    let name = head.trim_end();
    let named = !name.is_empty()
        && name.len() < head.len()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !named {
        return t;
    }
    let rest = &t[bar + 1..];
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// `2026-04-03T18:54:08.236441487Z ` (`docker logs -t`), `2026-04-03 20:54:08.236420+02:00`.
fn strip_timestamp(t: &str) -> &str {
    let b = t.as_bytes();
    let digits = |from: usize, to: usize| to <= b.len() && b[from..to].iter().all(u8::is_ascii_digit);
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let stamped = digits(0, 4)
        && at(4, b'-')
        && digits(5, 7)
        && at(7, b'-')
        && digits(8, 10)
        && (at(10, b'T') || at(10, b' '))
        && digits(11, 13)
        && at(13, b':')
        && digits(14, 16)
        && at(16, b':')
        && digits(17, 19);
    if !stamped {
        return t;
    }
    let mut i = 19;
    if at(i, b'.') || at(i, b',') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if at(i, b'Z') {
        i += 1;
    } else if (at(i, b'+') || at(i, b'-')) && digits(i + 1, i + 3) && at(i + 3, b':') && digits(i + 4, i + 6) {
        i += 6;
    } else if (at(i, b'+') || at(i, b'-')) && digits(i + 1, i + 5) {
        i += 5;
    }
    if at(i, b' ') {
        i += 1;
    }
    &t[i..]
}

/// journald / syslog: `Dec 14 23:55:04 host unit[973430]: `.
fn strip_journald(t: &str) -> &str {
    journald_text(t).unwrap_or(t)
}

fn journald_text(t: &str) -> Option<&str> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    fn token(s: &str) -> Option<(&str, &str)> {
        let s = s.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        (end > 0).then(|| (&s[..end], &s[end..]))
    }
    let (month, r) = token(t)?;
    let (day, r) = token(r)?;
    let (time, r) = token(r)?;
    let (_host, r) = token(r)?;
    let (ident, r) = token(r)?;
    let time_ok = time.len() == 8
        && time.bytes().enumerate().all(|(i, b)| {
            if i == 2 || i == 5 {
                b == b':'
            } else {
                b.is_ascii_digit()
            }
        });
    let ok = MONTHS.contains(&month)
        && (1..=2).contains(&day.len())
        && day.bytes().all(|b| b.is_ascii_digit())
        && time_ok
        && ident.ends_with(':');
    ok.then(|| r.strip_prefix(' ').unwrap_or(r))
}

/// `kubectl logs --prefix`: `[pod/dawarich-app-5bb5/app] `.
fn strip_kubectl(t: &str) -> &str {
    if !t.starts_with("[pod/") {
        return t;
    }
    t.split_once("] ").map_or(t, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    /// A start that migrates and comes up, as `docker logs -t` shows it (the migration lines as Rails
    /// and data_migrate print them; TrueNAS's log, truenas/apps#4763, has the same data lines).
    const CLEAN_RUN: &str = r#"2026-04-03T18:54:01.102938475Z ⚠️ Starting Rails environment: production ⚠️
2026-04-03T18:54:01.503920117Z ✅ PostgreSQL database dawarich_development is ready!
2026-04-03T18:54:01.504011234Z Running migrations for all databases...
2026-04-03T18:54:01.504021234Z Running primary database migrations...
2026-04-03T18:54:05.120411511Z == 20250728191359 AddCountryNameToPoints: migrating ===========================
2026-04-03T18:54:05.120511511Z -- add_column(:points, :country_name, :string)
2026-04-03T18:54:05.123611511Z    -> 0.0031s
2026-04-03T18:54:05.123711511Z -- add_index(:points, :country_name, {algorithm: :concurrently})
2026-04-03T18:54:05.176111511Z    -> 0.0524s
2026-04-03T18:54:05.181211511Z == 20250728191359 AddCountryNameToPoints: migrated (0.0561s) ==================
2026-04-03T18:54:05.181241511Z
2026-04-03T18:54:08.230001000Z Running DATA migrations...
2026-04-03T18:54:08.236420000Z Migrating to AddCounterCacheToImports (20240822094532)
2026-04-03T18:54:08.236420100Z == 20240822094532 AddCounterCacheToImports: migrating =========================
2026-04-03T18:54:08.236420200Z == 20240822094532 AddCounterCacheToImports: migrated (0.0092s) ================
2026-04-03T18:54:08.236441487Z
2026-04-03T18:54:08.248729000Z == 20241202125248 SetReverseGeocodedAtForPoints: migrating ====================
2026-04-03T18:54:08.250574000Z Enqueued DataMigrations::SetReverseGeocodedAtForPointsJob (Job ID: ce1b3971-3bb2-4cab-b7a0-56df09c93d46) to Sidekiq(data_migrations)
2026-04-03T18:54:08.250591000Z == 20241202125248 SetReverseGeocodedAtForPoints: migrated (0.0019s) ===========
2026-04-03T18:54:09.000000000Z Running seeds...
2026-04-03T18:54:12.000000000Z => Booting Puma
2026-04-03T18:54:12.100000000Z Puma starting in single mode...
2026-04-03T18:54:12.200000000Z * Listening on http://[::]:3000
2026-04-03T18:54:12.200000001Z Use Ctrl-C to stop"#;

    /// #3429 (1.13.1 on k3s): the killed pod's backend still holds the lock.
    const LOCK_HELD_K8S: &str = r#"  Starting Rails environment: production
📦 Syncing static assets to public volume...
✅ Static assets synced!
Setting up all required databases...
Attempting to create database dawarich_development if it doesn't exist...
Note: Database dawarich_development may already exist or couldn't be created now
⏳ Waiting for database dawarich_development to be ready...
✅ PostgreSQL database dawarich_development is ready!
Running migrations for all databases...
Running primary database migrations...
bin/rails aborted!
ActiveRecord::ConcurrentMigrationError:  (ActiveRecord::ConcurrentMigrationError)

Cannot run migrations because another migration process is currently running.

/var/app/vendor/bundle/ruby/3.4.0/gems/activerecord-8.1.3.1/lib/active_record/migration.rb:1614:in 'ActiveRecord::Migrator#with_advisory_lock'
Tasks: TOP => db:migrate
(See full trace by running task with --trace)"#;

    /// #192 (0.11.1): both containers ran `data:migrate`; the data migration fails on points without
    /// a user (the error line as the issue names it; Ruby 3.3's backtrace quoting).
    const USER_MUST_EXIST: &str = r#"dawarich_app      | Environment: development
dawarich_app      | PostgreSQL is ready. Running database migrations...
dawarich_app      | Running DATA migrations...
dawarich_app      | D, [2024-08-23T05:50:15.354165 #26] DEBUG -- :    (0.2ms)  SELECT pg_try_advisory_lock(1212213197400985920)
dawarich_app      | I, [2024-08-23T05:50:15.380000 #26]  INFO -- : Migrating to AddOwntracksPointsData (20240815174852)
dawarich_app      | == 20240815174852 AddOwntracksPointsData: migrating ===========================
dawarich_app      | D, [2024-08-23T05:50:15.390000 #26] DEBUG -- :   User Load (0.3ms)  SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2  [["id", 1], ["LIMIT", 1]]
dawarich_app      | rake aborted!
dawarich_app      | StandardError: An error has occurred, this and all later migrations canceled: (StandardError)
dawarich_app      |
dawarich_app      | Validation failed: User must exist
dawarich_app      | /var/app/db/data/20240815174852_add_owntracks_points_data.rb:44:in `update_point'
dawarich_app      | /var/app/db/data/20240815174852_add_owntracks_points_data.rb:29:in `block (2 levels) in up'
dawarich_app      | /var/app/db/data/20240815174852_add_owntracks_points_data.rb:26:in `up'
dawarich_app      | /var/app/vendor/bundle/ruby/3.3.0/gems/data_migrate-9.4.0/lib/data_migrate/migration_context.rb:15:in `up'
dawarich_app      |
dawarich_app      | Caused by:
dawarich_app      | ActiveRecord::RecordInvalid: Validation failed: User must exist (ActiveRecord::RecordInvalid)
dawarich_app      | /var/app/db/data/20240815174852_add_owntracks_points_data.rb:44:in `update_point'
dawarich_app      | Tasks: TOP => data:migrate
dawarich_app      | (See full trace by running task with --trace)"#;

    /// #2700 (1.7.7 on k8s) and #2034 (0.36.3): the stats index over duplicated rows.
    const STATS_UNIQUE: &str = r#"⚠️ Starting Rails environment: production ⚠️
📦 Syncing static assets to public volume...
✅ Static assets synced!
Setting up all required databases...
Attempting to create database dawarich if it doesn't exist...
Note: Database dawarich may already exist or couldn't be created now
⏳ Waiting for database dawarich to be ready...
✅ PostgreSQL database dawarich is ready!
Running migrations for all databases...
Running primary database migrations...
I, [2026-05-11T10:00:00.000000 #1]  INFO -- : Migrating to AddCompositeIndexToStats (20251208210410)
== 20251208210410 AddCompositeIndexToStats: migrating =========================
-- add_index(:stats, [:user_id, :year, :month], {name: "index_stats_on_user_id_year_month", unique: true, algorithm: :concurrently})
bin/rails aborted!
StandardError: An error has occurred, this and all later migrations canceled: (StandardError)

PG::UniqueViolation: ERROR:  could not create unique index "index_stats_on_user_id_year_month"
DETAIL:  Key (user_id, year, month)=(34, 2023, 5) is duplicated.
/var/app/db/migrate/20251208210410_add_composite_index_to_stats.rb:12:in 'AddCompositeIndexToStats#change'

Caused by:
ActiveRecord::RecordNotUnique: PG::UniqueViolation: ERROR:  could not create unique index "index_stats_on_user_id_year_month" (ActiveRecord::RecordNotUnique)
DETAIL:  Key (user_id, year, month)=(34, 2023, 5) is duplicated.
/var/app/db/migrate/20251208210410_add_composite_index_to_stats.rb:12:in 'AddCompositeIndexToStats#change'
Tasks: TOP => db:migrate
(See full trace by running task with --trace)"#;

    /// The points unique index over duplicated coordinates, as `docker compose logs` shows it, with
    /// colours (the DETAIL line as #949 printed it).
    const POINTS_UNIQUE: &str = "dawarich_app    | \u{1b}[1m== 20250221185032 AddLonlatIndex: migrating ===================================\u{1b}[0m\r
dawarich_app    | -- add_index(:points, [:lonlat, :timestamp, :user_id], {unique: true, algorithm: :concurrently, if_not_exists: true})\r
dawarich_app    | bin/rails aborted!\r
dawarich_app    | StandardError: An error has occurred, all later migrations canceled: (StandardError)\r
dawarich_app    |\r
dawarich_app    | PG::UniqueViolation: ERROR:  could not create unique index \"index_points_on_lonlat_timestamp_user_id\"\r
dawarich_app    | DETAIL:  Key (lonlat, \"timestamp\", user_id)=(0101000020E610000008E9297288781C40A54C6A6803684940, 1742144272, 1) is duplicated.\r
dawarich_app    | /var/app/db/migrate/20250221185032_add_lonlat_index.rb:7:in 'AddLonlatIndex#change'\r
dawarich_app    | Tasks: TOP => db:migrate\r
dawarich_app    | (See full trace by running task with --trace)\r";

    /// #1718 (0.30.6): the no-transaction migration's column is there from a run that failed later.
    const DUPLICATE_COLUMN: &str = r#"Running primary database migrations...
== 20250728191359 AddCountryNameToPoints: migrating ===========================
-- add_column(:points, :country_name, :string)
bin/rails aborted!
StandardError: An error has occurred, all later migrations canceled: (StandardError)

PG::DuplicateColumn: ERROR:  column "country_name" of relation "points" already exists
/var/app/db/migrate/20250728191359_add_country_name_to_points.rb:7:in 'AddCountryNameToPoints#change'

Caused by:
PG::DuplicateColumn: ERROR:  column "country_name" of relation "points" already exists (PG::DuplicateColumn)
/var/app/vendor/bundle/ruby/3.4.0/gems/activerecord-8.0.2/lib/active_record/connection_adapters/postgresql/database_statements.rb:160:in 'PG::Connection#exec'
Tasks: TOP => db:migrate
(See full trace by running task with --trace)"#;

    /// #2051 (0.36.3), as journald shows a systemd-run compose: the INVALID index of the failed
    /// concurrent build is in the way.
    const DUPLICATE_INDEX: &str = r#"Dec 14 23:55:01 hera dawarich-init-db-start[973430]: == 20251208210410 AddCompositeIndexToStats: migrating =========================
Dec 14 23:55:01 hera dawarich-init-db-start[973430]: -- add_index(:stats, [:user_id, :year, :month], {name: "index_stats_on_user_id_year_month", unique: true, algorithm: :concurrently})
Dec 14 23:55:04 hera dawarich-init-db-start[973430]: bin/rails aborted!
Dec 14 23:55:04 hera dawarich-init-db-start[973430]: StandardError: An error has occurred, all later migrations canceled: (StandardError)
Dec 14 23:55:04 hera dawarich-init-db-start[973430]: PG::DuplicateTable: ERROR:  relation "index_stats_on_user_id_year_month" already exists
Dec 14 23:55:04 hera dawarich-init-db-start[973430]: Tasks: TOP => db:migrate"#;

    /// #1212 (0.26.2): `settings['maps']` is nil.
    const NIL_SETTINGS: &str = r#"dawarich_app     | PostgreSQL is ready. Running database migrations...
dawarich_app     | Running DATA migrations...
dawarich_app     | I, [2025-05-18T19:40:47.029308 #22]  INFO -- : Migrating to SetDefaultDistanceUnitForUser (20250518174305)
dawarich_app     | == 20250518174305 SetDefaultDistanceUnitForUser: migrating ====================
dawarich_app     | rake aborted!
dawarich_app     | StandardError: An error has occurred, this and all later migrations canceled: (StandardError)
dawarich_app     |
dawarich_app     | undefined method '[]' for nil
dawarich_app     | /var/app/db/data/20250518174305_set_default_distance_unit_for_user.rb:9:in 'block in SetDefaultDistanceUnitForUser#up'
dawarich_app     |
dawarich_app     | Caused by:
dawarich_app     | NoMethodError: undefined method '[]' for nil (NoMethodError)
dawarich_app     | /var/app/db/data/20250518174305_set_default_distance_unit_for_user.rb:9:in 'block in SetDefaultDistanceUnitForUser#up'
dawarich_app     | Tasks: TOP => data:migrate
dawarich_app     | (See full trace by running task with --trace)"#;

    /// #2576 (≤ 1.3.1 → 1.7.x): the model's enum names a column a later migration adds (a RuntimeError:
    /// rake prints its message without the class).
    const UNKNOWN_ENUM: &str = r#"Running primary database migrations...
== 20260301202147 SetPlanForExistingUsers: migrating ==========================
bin/rails aborted!
StandardError: An error has occurred, this and all later migrations canceled: (StandardError)

Undeclared attribute type for enum 'subscription_source' in User. Enums must be backed by a database column or declared with an explicit type via `attribute`.
/var/app/db/migrate/20260301202147_set_plan_for_existing_users.rb:8:in 'SetPlanForExistingUsers#up'

Caused by:
Undeclared attribute type for enum 'subscription_source' in User. Enums must be backed by a database column or declared with an explicit type via `attribute`.
/var/app/vendor/bundle/ruby/3.4.0/gems/activerecord-8.0.3/lib/active_record/enum.rb:243:in 'block in ActiveRecord::Enum#_enum'
Tasks: TOP => db:migrate
(See full trace by running task with --trace)"#;

    fn attempt(start: &str, body: &str) -> String {
        format!("{start}\n{body}")
    }

    #[test]
    fn a_clean_run_reads_as_migrations_and_no_failure() {
        let log = lines(CLEAN_RUN);
        assert_eq!(recognise(&log), None);
        assert_eq!(migration_in_progress(&log), None);
        let ev = events(&log);
        let migrating: Vec<(&str, bool)> = ev
            .iter()
            .filter_map(|e| match e {
                LogEvent::Migrating { version, data, .. } => Some((version.as_str(), *data)),
                _ => None,
            })
            .collect();
        assert_eq!(
            migrating,
            [
                ("20250728191359", false),
                ("20240822094532", true),
                ("20241202125248", true)
            ]
        );
        let migrated = ev.iter().filter(|e| matches!(e, LogEvent::Migrated { .. })).count();
        assert_eq!(migrated, 3);
        assert!(ev.contains(&LogEvent::Migrated {
            version: "20250728191359".into(),
            name: "AddCountryNameToPoints".into(),
            secs: 0.0561,
            data: false,
        }));
        assert!(ev.contains(&LogEvent::Statement {
            text: "add_index(:points, :country_name, {algorithm: :concurrently})".into()
        }));
        assert!(ev.contains(&LogEvent::StatementDone {
            detail: "0.0524s".into()
        }));
        assert_eq!(ev.last(), Some(&LogEvent::Listening));
        assert_eq!(
            ev.first(),
            Some(&LogEvent::Step {
                step: EntrypointStep::Start
            })
        );
    }

    #[test]
    fn single_lines_lose_their_prefixes() {
        let migrating = Some(LogEvent::Migrating {
            version: "20240815174852".into(),
            name: "AddOwntracksPointsData".into(),
            data: false,
        });
        for line in [
            "== 20240815174852 AddOwntracksPointsData: migrating ======",
            "dawarich_app  | == 20240815174852 AddOwntracksPointsData: migrating ======",
            "dawarich_app-1  | 2024-08-23T05:50:15.354165123Z == 20240815174852 AddOwntracksPointsData: migrating ======\r",
            "2026-04-03 20:54:08.244426+02:00== 20240815174852 AddOwntracksPointsData: migrating ======",
            "\u{1b}[32m== 20240815174852 AddOwntracksPointsData: migrating ======\u{1b}[0m",
            "Dec 14 23:55:01 hera dawarich[1]: == 20240815174852 AddOwntracksPointsData: migrating",
            "[pod/dawarich-app-5bb5ddc475-dmn6v/app] == 20240815174852 AddOwntracksPointsData: migrating ===",
            // Rails pads to 75 characters, so a long name leaves no `=` at all.
            "== 20240815174852 AddOwntracksPointsData: migrating ",
        ] {
            assert_eq!(parse_line(line), migrating, "{line:?}");
        }
        assert_eq!(
            parse_line("dawarich_app  |    -> 12 rows"),
            Some(LogEvent::StatementDone {
                detail: "12 rows".into()
            })
        );
        // TrueNAS: its own time, then `docker logs -t`'s, on an empty line.
        assert_eq!(
            clean("2026-04-03 20:54:08.236441+02:002026-04-03T18:54:08.236441487Z"),
            ""
        );
        for line in ["bin/rails aborted!", "rake aborted!", "dawarich_app  | rails aborted!"] {
            assert_eq!(parse_line(line), Some(LogEvent::Aborted), "{line}");
        }
        assert_eq!(
            parse_line("StandardError: An error has occurred, all later migrations canceled: (StandardError)"),
            Some(LogEvent::Aborted)
        );
        assert_eq!(parse_line("* Listening on http://[::]:3000"), Some(LogEvent::Listening));
        for line in [
            "== Data =======================================================================",
            "== 20240815174852 AddOwntracksPointsData: reverting ======",
            "I, [2025-05-18T19:40:47.029308 #22]  INFO -- : Migrating to SetDefaultDistanceUnitForUser (20250518174305)",
            "Tasks: TOP => db:migrate",
            "the run was aborted! by someone",
            "",
        ] {
            assert_eq!(parse_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn the_lock_held_by_another_run() {
        assert_eq!(recognise(&lines(LOCK_HELD_K8S)), Some(Failure::LockHeld));
        // The one-line form (as the testkit's docker double prints it) behind compose's prefix.
        let double = "dawarich_app  | Running primary database migrations...
dawarich_app  | bin/rails aborted!
dawarich_app  | ActiveRecord::ConcurrentMigrationError: Cannot run migrations because another migration process is currently running.
dawarich_app  |
dawarich_app  | Tasks: TOP => db:migrate";
        assert_eq!(recognise(&lines(double)), Some(Failure::LockHeld));
        // The same class failing to release the lock is something else.
        let release = "bin/rails aborted!\nActiveRecord::ConcurrentMigrationError:  (ActiveRecord::ConcurrentMigrationError)\n\nFailed to release advisory lock\n";
        assert!(matches!(recognise(&lines(release)), Some(Failure::Unknown { .. })));
    }

    #[test]
    fn points_without_an_owner() {
        assert_eq!(
            recognise(&lines(USER_MUST_EXIST)),
            Some(Failure::UserMustExist {
                migration: Some("20240815174852 AddOwntracksPointsData".into())
            })
        );
        let running = migration_in_progress(&lines(&USER_MUST_EXIST.lines().take(6).collect::<Vec<_>>().join("\n")));
        assert_eq!(
            running,
            Some(RunningMigration {
                version: "20240815174852".into(),
                name: "AddOwntracksPointsData".into(),
                data: true,
                statement: None,
            })
        );
    }

    #[test]
    fn a_unique_index_over_duplicates() {
        assert_eq!(
            recognise(&lines(STATS_UNIQUE)),
            Some(Failure::UniqueViolation {
                migration: Some("20251208210410 AddCompositeIndexToStats".into()),
                index: Some("index_stats_on_user_id_year_month".into()),
                table: Some("stats".into()),
                columns: vec!["user_id".into(), "year".into(), "month".into()],
                key: Some("34, 2023, 5".into()),
            })
        );
        assert_eq!(
            recognise(&lines(POINTS_UNIQUE)),
            Some(Failure::UniqueViolation {
                migration: Some("20250221185032 AddLonlatIndex".into()),
                index: Some("index_points_on_lonlat_timestamp_user_id".into()),
                table: Some("points".into()),
                columns: vec!["lonlat".into(), "timestamp".into(), "user_id".into()],
                key: Some("0101000020E610000008E9297288781C40A54C6A6803684940, 1742144272, 1".into()),
            })
        );
    }

    #[test]
    fn a_row_write_into_a_unique_index() {
        // #3200 (1.10.1): copying coordinates into lonlat hits the index; the table from the SQL.
        let log = r#"== 20260601000000 CopyLegacyCoordinatesToLonlat: migrating ===================
-- execute("UPDATE points SET lonlat = ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) WHERE lonlat IS NULL")
bin/rails aborted!
StandardError: An error has occurred, this and all later migrations canceled: (StandardError)

PG::UniqueViolation: ERROR:  duplicate key value violates unique constraint "index_points_on_lonlat_timestamp_user_id"
DETAIL:  Key (lonlat, "timestamp", user_id)=(0101000020E610000008E9297288781C40A54C6A6803684940, 1742144272, 1) already exists.
Tasks: TOP => db:migrate"#;
        let Some(Failure::UniqueViolation {
            index,
            table,
            columns,
            key,
            ..
        }) = recognise(&lines(log))
        else {
            panic!("not a unique violation");
        };
        assert_eq!(index.as_deref(), Some("index_points_on_lonlat_timestamp_user_id"));
        assert_eq!(table.as_deref(), Some("points"));
        assert_eq!(columns, ["lonlat", "timestamp", "user_id"]);
        assert_eq!(
            key.as_deref(),
            Some("0101000020E610000008E9297288781C40A54C6A6803684940, 1742144272, 1")
        );
    }

    #[test]
    fn what_a_half_applied_migration_left() {
        assert_eq!(
            recognise(&lines(DUPLICATE_COLUMN)),
            Some(Failure::AlreadyExists {
                migration: Some("20250728191359 AddCountryNameToPoints".into()),
                kind: ExistingKind::Column,
                name: "country_name".into(),
                table: Some("points".into()),
            })
        );
        assert_eq!(
            recognise(&lines(DUPLICATE_INDEX)),
            Some(Failure::AlreadyExists {
                migration: Some("20251208210410 AddCompositeIndexToStats".into()),
                kind: ExistingKind::Index,
                name: "index_stats_on_user_id_year_month".into(),
                table: Some("stats".into()),
            })
        );
        let table = "== 20240808121027 CreatePlaceVisits: migrating ==========\n-- create_table(:place_visits)\nbin/rails aborted!\nStandardError: An error has occurred, this and all later migrations canceled: (StandardError)\n\nPG::DuplicateTable: ERROR:  relation \"place_visits\" already exists\n";
        assert!(matches!(
            recognise(&lines(table)),
            Some(Failure::AlreadyExists { kind: ExistingKind::Table, ref name, table: None, .. }) if name == "place_visits"
        ));
        let constraint = "== 20221122114920 ChangeHolder: migrating ==\n-- add_reference(:items, :user, {null: true, foreign_key: true})\nrails aborted!\nStandardError: An error has occurred, this and all later migrations canceled:\n\nPG::DuplicateObject: ERROR:  constraint \"fk_rails_d4b6334db2\" for relation \"items\" already exists\n";
        assert!(matches!(
            recognise(&lines(constraint)),
            Some(Failure::AlreadyExists { kind: ExistingKind::Constraint, ref name, ref table, .. })
                if name == "fk_rails_d4b6334db2" && table.as_deref() == Some("items")
        ));
    }

    #[test]
    fn nil_settings() {
        assert_eq!(
            recognise(&lines(NIL_SETTINGS)),
            Some(Failure::NilSettings {
                migration: Some("20250518174305 SetDefaultDistanceUnitForUser".into())
            })
        );
        // The same error in a migration that is not about settings is not guessed at.
        let other = NIL_SETTINGS
            .replace("SetDefaultDistanceUnitForUser", "MigratePlacesLonlat")
            .replace("set_default_distance_unit_for_user", "migrate_places_lonlat");
        let Some(Failure::Unknown { error, .. }) = recognise(&lines(&other)) else {
            panic!("classified");
        };
        assert_eq!(error, "undefined method '[]' for nil");
    }

    #[test]
    fn an_unknown_error_is_reported_verbatim() {
        let Some(Failure::Unknown {
            migration,
            statement,
            error,
            excerpt,
        }) = recognise(&lines(UNKNOWN_ENUM))
        else {
            panic!("classified");
        };
        assert_eq!(migration.as_deref(), Some("20260301202147 SetPlanForExistingUsers"));
        assert_eq!(statement, None);
        assert_eq!(
            error,
            "Undeclared attribute type for enum 'subscription_source' in User. Enums must be backed by a database column or declared with an explicit type via `attribute`."
        );
        assert!(excerpt.len() <= EXCERPT_LINES);
        assert_eq!(
            excerpt[0],
            "== 20260301202147 SetPlanForExistingUsers: migrating =========================="
        );
        assert!(excerpt.contains(&"Tasks: TOP => db:migrate".to_string()));
        assert!(!excerpt.iter().any(|l| l.contains(".rb:")), "{excerpt:?}");

        // A long error block keeps at most 20 lines; the pending statement is named.
        let mut long = String::from("== 1 Big: migrating ==\n-- execute(\"SELECT 1\")\nbin/rails aborted!\n");
        for i in 0..50 {
            long.push_str(&format!("line {i} of a long message\n/x.rb:{i}:in 'y'\n"));
        }
        let Some(Failure::Unknown {
            statement,
            error,
            excerpt,
            ..
        }) = recognise(&lines(&long))
        else {
            panic!("classified");
        };
        assert_eq!(statement.as_deref(), Some("execute(\"SELECT 1\")"));
        assert_eq!(error, "line 0 of a long message");
        assert_eq!(excerpt.len(), EXCERPT_LINES);
        assert_eq!(excerpt[1], "-- execute(\"SELECT 1\")");
    }

    #[test]
    fn only_the_last_attempt_counts() {
        // A crash loop: the failed attempt, then one that migrates and comes up.
        let fixed = attempt(USER_MUST_EXIST, CLEAN_RUN);
        assert_eq!(recognise(&lines(&fixed)), None);
        // Failed, then one still migrating: nothing yet, and the running migration is the new one.
        let running = attempt(
            NIL_SETTINGS,
            "⚠️ Starting Rails environment: production ⚠️\nRunning primary database migrations...\n== 20251208210410 AddCompositeIndexToStats: migrating ===\n-- add_index(:stats, [:user_id, :year, :month], {unique: true})",
        );
        assert_eq!(recognise(&lines(&running)), None);
        assert_eq!(
            migration_in_progress(&lines(&running)),
            Some(RunningMigration {
                version: "20251208210410".into(),
                name: "AddCompositeIndexToStats".into(),
                data: false,
                statement: Some("add_index(:stats, [:user_id, :year, :month], {unique: true})".into()),
            })
        );
        // Without entrypoint lines: a later run that migrates past the abort also ends it.
        let bare = format!(
            "{}\n== 20250518174305 SetDefaultDistanceUnitForUser: migrating ===\n== 20250518174305 SetDefaultDistanceUnitForUser: migrated (0.0100s) ===",
            UNKNOWN_ENUM
        );
        assert_eq!(recognise(&lines(&bare)), None);
        // Two failures: the last one is reported.
        let twice = attempt(STATS_UNIQUE, LOCK_HELD_K8S);
        assert_eq!(recognise(&lines(&twice)), Some(Failure::LockHeld));
        assert_eq!(recognise(&[]), None);
    }

    #[test]
    fn keys_and_tables_are_parsed_from_what_pg_and_rails_print() {
        assert_eq!(
            parse_key("DETAIL:  Key (lower(email::text), \"a,b\")=(x@y.z, (1,2)) is duplicated."),
            Some((vec!["lower(email::text)".into(), "a,b".into()], "x@y.z, (1,2)".into()))
        );
        assert_eq!(parse_key("DETAIL:  Key (id)=(1"), None);
        assert_eq!(
            table_of_statement("add_index(\"points\", [:a])").as_deref(),
            Some("points")
        );
        assert_eq!(
            table_of_statement("execute(\"CREATE UNIQUE INDEX CONCURRENTLY x ON ONLY public.\\\"points\\\" (a)\")")
                .as_deref(),
            Some("points")
        );
        assert_eq!(
            table_of_statement("execute(\"INSERT INTO stats (a) VALUES (1) ON CONFLICT DO UPDATE SET a = 1\")")
                .as_deref(),
            Some("stats")
        );
        assert_eq!(table_of_statement("say_with_time(\"Updating\")"), None);
        assert!(is_backtrace(
            "/var/app/vendor/bundle/ruby/3.4.0/gems/railties-8.1.3/lib/rails/commands.rb:18:in '<compiled>'"
        ));
        assert!(is_backtrace(
            "        11: from /home/x/activerecord-5.2.4.3/lib/a.rb:73:in `execute'"
        ));
        assert!(is_backtrace("bin/rails:4:in `<main>'"));
        assert!(!is_backtrace("(dawarich):20:in '<main>': PG::UniqueViolation: ERROR:  duplicate key value (ActiveRecord::RecordNotUnique)"));
        assert!(!is_backtrace("Tasks: TOP => db:migrate"));
    }

    #[test]
    fn failures_serialize_with_their_tag() {
        let f = recognise(&lines(DUPLICATE_COLUMN)).unwrap();
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["failure"], "alreadyExists");
        assert_eq!(json["kind"], "column");
        assert_eq!(serde_json::from_value::<Failure>(json).unwrap(), f);
        let e = serde_json::to_value(LogEvent::Step {
            step: EntrypointStep::DataMigrations,
        })
        .unwrap();
        assert_eq!(e, serde_json::json!({"event": "step", "step": "data-migrations"}));
    }

    #[test]
    fn odd_input_never_panics() {
        const PIECES: &[&str] = &[
            "== ",
            "-- ",
            "-> ",
            "   ",
            "Key (",
            "(",
            ")",
            "\"",
            ",",
            "=",
            " ",
            "aborted!",
            "rake aborted!",
            "\u{1b}[",
            "\u{1b}]",
            "\u{1b}",
            "\u{7}",
            "\r",
            "|",
            " | ",
            "2026-04-03T18:54:08",
            "2026-04-03 ",
            ".",
            "Z",
            "+02:00",
            "-0",
            "é",
            "⚠️",
            "😀",
            "migrating",
            "migrated (",
            "s)",
            ": ",
            "DETAIL:  ",
            "relation \"",
            "column \"",
            "\" of relation \"",
            "\" for relation \"",
            "constraint \"",
            "already exists",
            "is duplicated",
            "could not create unique index \"",
            "violates unique constraint \"",
            "Caused by:",
            "Dec 14 23:55:04 h u[1]: ",
            "Dec ",
            "[pod/",
            "] ",
            ":in '",
            ":in `",
            ".rb:12",
            "0123456789",
            "20240815174852",
            "Starting Rails environment:",
            "Running DATA migrations...",
            "Running seeds...",
            "* Listening on ",
            "undefined method '[]' for nil",
            "add_index(:",
            "execute(\"",
            " INDEX ",
            " ON ",
            "ONLY ",
            "UPDATE ",
            "INSERT INTO ",
            "Validation failed:",
            "User must exist",
            "An error has occurred, ",
            "all later migrations canceled:",
            "ConcurrentMigrationError",
            "/db/data/",
            "_for_user.rb",
            "\t",
            "\n",
            "\u{0}",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut log = Vec::new();
        for _ in 0..4000 {
            let n = (next() % 12) as usize;
            let line: String = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let _ = parse_line(&line);
            let _ = clean(&line);
            log.push(line);
        }
        for window in log.chunks(37) {
            let _ = recognise(window);
            let _ = migration_in_progress(window);
        }
        for s in [
            "",
            "=",
            "==",
            "== ",
            "== 1",
            "== 1 ",
            "== 1 X: migrated (",
            "== 1 X: migrated (s)",
            "-",
            "--",
            "-- ",
            "->",
            "-> ",
            "(",
            "Key (",
            "Key ((",
            "Key ()=",
            "Key (a)=(",
            "DETAIL:  Key (\"a)=(1) is duplicated.",
            "|",
            " |",
            "a |",
            "2026-04-03T18:54:08",
            "2026-04-03T18:54:08+",
            "2026-04-03T18:54:08.",
            "Dec 14 23:55:04",
            "Dec 14 23:55:04 h",
            "[pod/",
            "\u{1b}",
            "\u{1b}[",
            "\u{1b}]",
            "relation \"",
            "column \"x\" of relation \"",
            "é|",
            "é |x",
            " aborted!",
            "\r\r",
        ] {
            let _ = parse_line(s);
            let block = vec!["bin/rails aborted!".to_string(), s.to_string()];
            let _ = recognise(&block);
        }
        let many: Vec<String> = PIECES.iter().map(|p| format!("bin/rails aborted!{p}")).collect();
        let _ = recognise(&many);
        let _ = recognise(&log);
    }
}
