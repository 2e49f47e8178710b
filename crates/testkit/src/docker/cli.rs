//! The `docker` command line of the double: `docker-double --state DIR ARGS…`. Each call is logged
//! to `calls.jsonl`; `ps`, `inspect`, `exec`, `stop`, `start`, `logs` and `cp` act on the state
//! (and on real processes: `exec` runs the real PostgreSQL client programs, `start` spawns the
//! container's main process). Flags and subcommands the double does not know fail like unknown ones
//! in docker, so a caller cannot rely on something untested.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dawarich_doctor_model::MigrationKind;

use super::format::{self, J};
use super::future;
use super::main_process;
use super::state::{self, lock, Container, Role};

/// What every command prints when the user may not use docker.
pub const DENIED: &str = "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json\": dial unix /var/run/docker.sock: connect: permission denied";

/// The internal subcommand that is a container's main process.
pub const MAIN: &str = "__main";

fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

fn err(text: &str) {
    let _ = std::io::stderr().write_all(format!("{text}\n").as_bytes());
}

/// The entry point of the `docker-double` binary; returns the exit status.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match args.as_slice() {
        [flag, dir, rest @ ..] if flag == "--state" => dispatch(Path::new(dir), rest),
        _ => {
            err("usage: docker-double --state DIR [docker arguments]");
            2
        }
    }
}

fn dispatch(dir: &Path, args: &[String]) -> i32 {
    if args.first().map(String::as_str) == Some(MAIN) {
        return match args.get(1) {
            Some(id) => main_process::run(dir, id),
            None => 2,
        };
    }
    let Ok(locked) = lock(dir) else {
        err("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
        return 1;
    };
    if let Ok(mut f) = state::append_shared(&dir.join(state::CALLS)) {
        let _ = f.write_all(format!("{}\n", serde_json::to_string(args).unwrap()).as_bytes());
    }
    if locked.state.denied {
        err(DENIED);
        return 1;
    }
    drop(locked);
    let Some(first) = args.first() else {
        out("\nUsage:  docker [OPTIONS] COMMAND\n");
        return 0;
    };
    if first.starts_with('-') && first != "-" {
        return usage_error("", &unknown_flag(first));
    }
    let (cmd, rest, typed) = match (first.as_str(), args.get(1).map(String::as_str)) {
        ("container", Some(sub @ ("ls" | "ps" | "list" | "inspect" | "exec" | "stop" | "start" | "logs" | "cp"))) => {
            (sub, &args[2..], true)
        }
        (sub, _) => (sub, &args[1..], false),
    };
    let cmd = if typed && (cmd == "ls" || cmd == "list") {
        "ps"
    } else {
        cmd
    };
    match cmd {
        "ps" => ps(dir, rest),
        "inspect" => inspect(dir, rest, typed),
        "exec" => exec(dir, rest),
        "stop" => stop(dir, rest),
        "start" => start(dir, rest),
        "logs" => logs(dir, rest),
        "cp" => cp(dir, rest),
        other => {
            err(&format!(
                "docker: '{other}' is not a docker command.\nSee 'docker --help'"
            ));
            1
        }
    }
}

fn unknown_flag(arg: &str) -> String {
    match arg.strip_prefix("--") {
        Some(long) => format!("unknown flag: --{}", long.split('=').next().unwrap()),
        None => format!(
            "unknown shorthand flag: '{}' in {arg}",
            arg.chars().nth(1).unwrap_or('-')
        ),
    }
}

/// A flag error: docker prints it with a pointer to the help and exits with 125.
fn usage_error(cmd: &str, msg: &str) -> i32 {
    let help = if cmd.is_empty() {
        "docker --help".to_string()
    } else {
        format!("docker {cmd} --help")
    };
    err(&format!("{msg}\nSee '{help}'."));
    125
}

/// The flags one subcommand takes: `(short, long)` pairs.
struct Spec {
    cmd: &'static str,
    bools: &'static [(&'static str, &'static str)],
    values: &'static [(&'static str, &'static str)],
    /// Flags may follow arguments (false for `exec`: everything after the command is its own).
    interspersed: bool,
}

#[derive(Default)]
struct Parsed {
    bools: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
    args: Vec<String>,
}

impl Parsed {
    fn has(&self, long: &str) -> bool {
        self.bools.contains(&long)
    }
    fn value(&self, long: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| *k == long)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, long: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(k, _)| *k == long)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn parse(spec: &Spec, args: &[String]) -> Result<Parsed, i32> {
    let mut p = Parsed::default();
    let mut i = 0;
    let fail = |msg: String| usage_error(spec.cmd, &msg);
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a == "--" {
            p.args.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            if let Some((_, l)) = spec.bools.iter().find(|(_, l)| *l == name) {
                if inline.as_deref().is_some_and(|v| v != "true" && v != "false") {
                    return Err(fail(format!(
                        "invalid argument {:?} for \"--{name}\" flag",
                        inline.unwrap()
                    )));
                }
                if inline.as_deref() != Some("false") {
                    p.bools.push(l);
                }
            } else if let Some((_, l)) = spec.values.iter().find(|(_, l)| *l == name) {
                let v = match inline {
                    Some(v) => v,
                    None if i < args.len() => {
                        i += 1;
                        args[i - 1].clone()
                    }
                    None => return Err(fail(format!("flag needs an argument: --{name}"))),
                };
                p.values.push((l, v));
            } else {
                return Err(fail(unknown_flag(a)));
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let shorts: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < shorts.len() {
                let c = shorts[j].to_string();
                j += 1;
                if let Some((_, l)) = spec.bools.iter().find(|(s, _)| *s == c) {
                    p.bools.push(l);
                } else if let Some((_, l)) = spec.values.iter().find(|(s, _)| *s == c) {
                    let rest: String = shorts[j..].iter().collect();
                    let v = if !rest.is_empty() {
                        rest.strip_prefix('=').unwrap_or(&rest).to_string()
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(fail(format!("flag needs an argument: '{c}' in {a}")));
                    };
                    p.values.push((l, v));
                    break;
                } else {
                    return Err(fail(format!("unknown shorthand flag: '{c}' in {a}")));
                }
            }
        } else {
            p.args.push(a.clone());
            if !spec.interspersed {
                p.args.extend(args[i..].iter().cloned());
                break;
            }
        }
    }
    Ok(p)
}

fn arity_error(cmd: &str, what: &str) -> i32 {
    err(&format!("\"docker {cmd}\" {what}.\nSee 'docker {cmd} --help'."));
    1
}

fn no_such(name: &str) -> String {
    format!("Error response from daemon: No such container: {name}")
}

/// docker's `--format` preprocessing: `table` prefix, `\t` and `\n` escapes.
fn pre_format(f: &str) -> (bool, String) {
    let f = f.trim_start();
    let (table, body) = match f.strip_prefix("table") {
        Some(rest) => (true, rest),
        None => (false, f),
    };
    (table, body.trim().replace("\\t", "\t").replace("\\n", "\n"))
}

fn name_matches(pattern: &str, name: &str) -> bool {
    let (start, p) = match pattern.strip_prefix('^') {
        Some(p) => (true, p),
        None => (false, pattern),
    };
    let (end, p) = match p.strip_suffix('$') {
        Some(p) => (true, p),
        None => (false, p),
    };
    [name.to_string(), format!("/{name}")]
        .iter()
        .any(|n| match (start, end) {
            (true, true) => n == p,
            (true, false) => n.starts_with(p),
            (false, true) => n.ends_with(p),
            (false, false) => n.contains(p),
        })
}

fn ps(dir: &Path, args: &[String]) -> i32 {
    let spec = Spec {
        cmd: "ps",
        bools: &[("a", "all"), ("", "no-trunc"), ("q", "quiet"), ("s", "size")],
        values: &[("f", "filter"), ("", "format")],
        interspersed: true,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if !p.args.is_empty() {
        return arity_error("ps", "accepts no arguments");
    }
    let mut filters: Vec<(String, String)> = vec![];
    for f in p.all("filter") {
        let Some((k, v)) = f.split_once('=') else {
            err(&format!("Error response from daemon: invalid filter '{f}'"));
            return 1;
        };
        if !["label", "name", "status", "id"].contains(&k) {
            err(&format!("Error response from daemon: invalid filter '{k}'"));
            return 1;
        }
        filters.push((k.to_string(), v.to_string()));
    }
    let st = match lock(dir) {
        Ok(l) => l.state,
        Err(e) => {
            err(&e.to_string());
            return 1;
        }
    };
    let any_of = |key: &str, test: &dyn Fn(&str) -> bool| {
        let vals: Vec<&String> = filters.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        vals.is_empty() || vals.iter().any(|v| test(v))
    };
    let mut shown: Vec<&Container> = st
        .containers
        .iter()
        .filter(|c| p.has("all") || c.is_up())
        .filter(|c| {
            filters
                .iter()
                .filter(|(k, _)| k == "label")
                .all(|(_, v)| match v.split_once('=') {
                    Some((k, v)) => c.labels.get(k).is_some_and(|x| x == v),
                    None => c.labels.contains_key(v),
                })
        })
        .filter(|c| any_of("name", &|v| name_matches(v, &c.name)))
        .filter(|c| any_of("status", &|v| v == c.state))
        .filter(|c| any_of("id", &|v| c.id.starts_with(v)))
        .collect();
    shown.sort_by(|a, b| b.created.cmp(&a.created));
    let trunc = !p.has("no-trunc");
    if p.has("quiet") {
        for c in &shown {
            out(&format!("{}\n", if trunc { &c.id[..12] } else { &c.id }));
        }
        return 0;
    }
    let format = match p.value("format") {
        None | Some("table") => {
            "table {{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{.Names}}"
        }
        Some("json") => "{{json .}}",
        Some(f) => f,
    };
    let (table, tpl) = pre_format(format);
    let now = state::now();
    let mut lines = vec![];
    if table {
        match format::template_header(&tpl) {
            Ok(h) => lines.push(h),
            Err(e) => {
                err(&e.0);
                return 1;
            }
        }
    }
    for c in &shown {
        match format::render(&tpl, &format::ps_row(c, trunc, now)) {
            Ok(line) => lines.push(line),
            Err(e) => {
                err(&e.0);
                return 1;
            }
        }
    }
    if table {
        out(&format::tabwrite(&lines));
    } else {
        out(&lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    }
    0
}

fn inspect(dir: &Path, args: &[String], typed: bool) -> i32 {
    let spec = Spec {
        cmd: "inspect",
        bools: &[("s", "size")],
        values: &[("f", "format"), ("", "type")],
        interspersed: true,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.is_empty() {
        return arity_error("inspect", "requires at least 1 argument");
    }
    let kind = match (typed, p.value("type")) {
        (true, _) => Some("container"),
        (false, None | Some("")) => None,
        (false, Some(t)) => {
            const TYPES: [&str; 10] = [
                "config",
                "container",
                "image",
                "network",
                "node",
                "plugin",
                "secret",
                "service",
                "task",
                "volume",
            ];
            if !TYPES.contains(&t) {
                err(&format!("\"{t}\" is not a valid value for --type"));
                return 1;
            }
            Some(t)
        }
    };
    let st = match lock(dir) {
        Ok(l) => l.state,
        Err(e) => {
            err(&e.to_string());
            return 1;
        }
    };
    let mut found = vec![];
    let mut missing = vec![];
    for name in &p.args {
        match st.find(name).filter(|_| matches!(kind, None | Some("container"))) {
            Some(i) => found.push(format::inspect(&st.containers[i])),
            None => missing.push(match kind {
                Some(k) => format!("Error: No such {k}: {name}"),
                None => format!("Error: No such object: {name}"),
            }),
        }
    }
    match p.value("format") {
        Some(f) if f != "json" => {
            let (_, tpl) = pre_format(f);
            for j in &found {
                match format::render(&tpl, j) {
                    Ok(text) => out(&format!("{text}\n")),
                    Err(e) => {
                        err(&e.0);
                        return 1;
                    }
                }
            }
        }
        _ => out(&format!("{}\n", format::to_json_pretty(&J::A(found)))),
    }
    for m in &missing {
        err(m);
    }
    i32::from(!missing.is_empty())
}

/// Finds a container for `exec`/`logs`/`cp`, printing docker's error when there is none.
fn find_container(dir: &Path, name: &str) -> Result<(Container, state::Pg), i32> {
    let st = match lock(dir) {
        Ok(l) => l.state,
        Err(e) => {
            err(&e.to_string());
            return Err(1);
        }
    };
    match st.find(name) {
        Some(i) => Ok((st.containers[i].clone(), st.pg)),
        None => {
            err(&no_such(name));
            Err(1)
        }
    }
}

fn not_found_in_path(cmd: &str) -> i32 {
    err(&format!(
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{cmd}\": executable file not found in $PATH: unknown"
    ));
    126
}

const PG_PROGRAMS: [&str; 5] = ["pg_dump", "pg_dumpall", "pg_restore", "psql", "pg_isready"];

fn exec(dir: &Path, args: &[String]) -> i32 {
    let spec = Spec {
        cmd: "exec",
        bools: &[("i", "interactive")],
        values: &[("e", "env"), ("u", "user")],
        interspersed: false,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.len() < 2 {
        return arity_error("exec", "requires at least 2 arguments");
    }
    let (c, pg) = match find_container(dir, &p.args[0]) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if c.state == "restarting" {
        err(&format!(
            "Error response from daemon: Container {} is restarting, wait until the container is running",
            c.id
        ));
        return 1;
    }
    if c.state != "running" {
        err(&format!(
            "Error response from daemon: container {} is not running",
            c.id
        ));
        return 1;
    }
    let cmd = &p.args[1];
    let rest = &p.args[2..];
    match c.role {
        Role::Db => {
            let program = cmd.rsplit('/').next().unwrap();
            let in_path = !cmd.contains('/') || cmd == &format!("/usr/local/bin/{program}");
            if !in_path || !PG_PROGRAMS.contains(&program) || !pg.bin.join(program).exists() {
                return not_found_in_path(cmd);
            }
            let user = p.value("user").map(|u| u.split(':').next().unwrap().to_string());
            let user = match user.as_deref() {
                None | Some("0") => "root".to_string(),
                Some("70") => "postgres".to_string(),
                Some(u) => u.to_string(),
            };
            let mut command = Command::new(pg.bin.join(program));
            command.args(rest).env_clear();
            // The container's environment, then `-e` (a bare `-e NAME` takes the caller's value).
            for e in c.env.iter().map(String::as_str).chain(p.all("env")) {
                match e.split_once('=') {
                    Some((k, v)) => command.env(k, v),
                    None => match std::env::var_os(e) {
                        Some(v) => command.env(e, v),
                        None => command.env_remove(e),
                    },
                };
            }
            command
                .env("PGUSER", user)
                .env("PGHOST", &pg.host)
                .env("PGPORT", pg.port.to_string())
                .env("PGPASSWORD", &pg.password);
            if !p.has("interactive") {
                command.stdin(Stdio::null());
            }
            let e = command.exec();
            err(&format!("docker-double: {}: {e}", pg.bin.join(program).display()));
            126
        }
        Role::App | Role::Sidekiq => app_exec(dir, &c, cmd, rest),
        Role::Redis => not_found_in_path(cmd),
    }
}

/// The files of the Dawarich image the double knows: migration file names and `.app_version`.
fn app_files(c: &Container, path: &str) -> Option<Vec<String>> {
    let rel = path.strip_prefix("/var/app/").unwrap_or(path).trim_end_matches('/');
    let kind = match rel {
        "db/migrate" => MigrationKind::Schema,
        "db/data" => MigrationKind::Data,
        _ => return None,
    };
    // The catalog's files, plus a future release's synthetic ones (checked when it was set up).
    let mut names: Vec<String> = future::files(c, kind)
        .unwrap_or_else(|e| panic!("synthetic migrations: {e}"))
        .into_iter()
        .map(|(_, file)| format!("{file}.rb"))
        .collect();
    names.sort();
    Some(names)
}

fn app_exec(dir: &Path, c: &Container, cmd: &str, rest: &[String]) -> i32 {
    let words: Vec<&str> = std::iter::once(cmd).chain(rest.iter().map(String::as_str)).collect();
    let runner = match words.as_slice() {
        ["bin/rails" | "rails", "runner", code] | ["bundle", "exec", "rails", "runner", code] => Some(*code),
        ["bin/rails" | "rails", "runner", "-e", _, code] | ["bundle", "exec", "rails", "runner", "-e", _, code] => {
            Some(*code)
        }
        _ => None,
    };
    if let Some(code) = runner {
        main_process::log_line(&state::log_path(dir, &c.name), "stdout", &format!("runner: {code}"));
        return 0;
    }
    match words.as_slice() {
        ["ls", paths @ ..] => {
            let paths: Vec<&str> = paths.iter().copied().filter(|p| *p != "-1").collect();
            let mut status = 0;
            let mut text = String::new();
            for (n, path) in paths.iter().enumerate() {
                match app_files(c, path) {
                    Some(names) => {
                        if paths.len() > 1 {
                            text.push_str(&format!("{}{path}:\n", if n > 0 { "\n" } else { "" }));
                        }
                        text.extend(names.iter().map(|f| format!("{f}\n")));
                    }
                    None => {
                        err(&format!("ls: cannot access '{path}': No such file or directory"));
                        status = 2;
                    }
                }
            }
            out(&text);
            status
        }
        ["cat", path] if *path == "/var/app/.app_version" || *path == ".app_version" => {
            out(&format!("{}\n", c.release));
            0
        }
        ["cat", path] => {
            err(&format!("cat: {path}: No such file or directory"));
            1
        }
        _ => not_found_in_path(cmd),
    }
}

/// Ends a container's process: SIGTERM, then SIGKILL after `grace`; returns once it has exited.
pub fn end_process(pid: i32, dir: &Path, grace: Duration) {
    if !state::is_double_process(pid, dir) {
        return;
    }
    // While it exits its command line is already empty: it is known by its start time until then.
    let start = state::process_start(pid);
    let alive = || start.is_some() && state::process_start(pid) == start;
    let wait = |limit: Duration| {
        let deadline = Instant::now() + limit;
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // SAFETY: kill has no memory-safety preconditions; the pid was checked to be ours.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    wait(grace);
    if alive() {
        // SAFETY: as above; still the same process (same start time).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    wait(Duration::from_secs(5));
}

fn stop(dir: &Path, args: &[String]) -> i32 {
    let spec = Spec {
        cmd: "stop",
        bools: &[],
        values: &[("t", "time"), ("", "timeout")],
        interspersed: true,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.is_empty() {
        return arity_error("stop", "requires at least 1 argument");
    }
    let grace = match p.value("time").or(p.value("timeout")).map(str::parse::<u64>) {
        None => Duration::from_secs(5),
        Some(Ok(s)) => Duration::from_secs(s),
        Some(Err(_)) => return usage_error("stop", "invalid argument for \"-t, --time\" flag"),
    };
    let mut status = 0;
    for name in &p.args {
        let id = match find_container(dir, name) {
            Ok((c, _)) => c.id,
            Err(code) => {
                status = code;
                continue;
            }
        };
        // The state first: a process the caller may not signal then ends itself (its watcher).
        let Ok(mut l) = lock(dir) else { return 1 };
        let mut pid = None;
        if let Some(i) = l.state.find(&id) {
            let c = &mut l.state.containers[i];
            if c.is_up() {
                if c.state == "running" {
                    c.exit_code = 0;
                }
                c.state = "exited".into();
                c.finished_at = state::rfc3339(state::now());
            }
            pid = c.pid.take();
            let _ = l.save();
        }
        drop(l);
        if let Some(pid) = pid {
            end_process(pid, dir, grace);
        }
        out(&format!("{name}\n"));
    }
    status
}

fn start(dir: &Path, args: &[String]) -> i32 {
    let spec = Spec {
        cmd: "start",
        bools: &[],
        values: &[],
        interspersed: true,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.is_empty() {
        return arity_error("start", "requires at least 1 argument");
    }
    let mut failed = vec![];
    for name in &p.args {
        let Ok(mut l) = lock(dir) else { return 1 };
        let Some(i) = l.state.find(name) else {
            err(&no_such(name));
            failed.push(name.clone());
            continue;
        };
        let c = &mut l.state.containers[i];
        let alive = c.pid.is_some_and(|pid| state::is_double_process(pid, dir));
        if !(c.is_up() && (alive || c.pid.is_none())) {
            match spawn_main(dir, c) {
                Ok(pid) => {
                    c.state = "running".into();
                    c.pid = Some(pid);
                    c.health = c.healthcheck.as_ref().map(|_| "starting".to_string());
                    c.started_at = state::rfc3339(state::now());
                    c.restart_count = 0;
                    c.exit_code = 0;
                    if let Err(e) = l.save() {
                        err(&format!("Error response from daemon: {e}"));
                        failed.push(name.clone());
                        continue;
                    }
                }
                Err(e) => {
                    err(&format!("Error response from daemon: {e}"));
                    failed.push(name.clone());
                    continue;
                }
            }
        }
        out(&format!("{name}\n"));
    }
    if failed.is_empty() {
        0
    } else {
        err(&format!("Error: failed to start containers: {}", failed.join(", ")));
        1
    }
}

/// Spawns the container's main process, detached (own session, log file as stdout and stderr).
fn spawn_main(dir: &Path, c: &Container) -> std::io::Result<i32> {
    let log = state::append_shared(&state::log_path(dir, &c.name))?;
    let exe: PathBuf = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .arg("--state")
        .arg(dir)
        .arg(MAIN)
        .arg(&c.id)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; it detaches the child from our session and terminal.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    Ok(command.spawn()?.id() as i32)
}

/// docker's `--since`/`--until`: RFC 3339, Unix seconds, or a duration before now (`10m`, `1h30m`).
fn parse_since(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Some(t) = state::parse_time(v) {
        return Some(t);
    }
    if let Ok(secs) = v.parse::<f64>() {
        return chrono::DateTime::from_timestamp_millis((secs * 1000.0) as i64);
    }
    let mut total = 0.0;
    let mut num = String::new();
    let mut chars = v.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let mut unit = ch.to_string();
        if ch == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next().unwrap());
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(state::now() - chrono::Duration::milliseconds((total * 1000.0) as i64))
}

fn logs(dir: &Path, args: &[String]) -> i32 {
    let spec = Spec {
        cmd: "logs",
        bools: &[("t", "timestamps")],
        values: &[("n", "tail"), ("", "since"), ("", "until")],
        interspersed: true,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.len() != 1 {
        return arity_error("logs", "requires exactly 1 argument");
    }
    let (c, _) = match find_container(dir, &p.args[0]) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let bound = |flag: &str| match p.value(flag) {
        None => Ok(None),
        Some(v) => parse_since(v).map(Some).ok_or_else(|| {
            err(&format!(
                "invalid value for \"{flag}\": failed to parse value as time or duration: \"{v}\""
            ));
            1
        }),
    };
    let since = match bound("since") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let until = match bound("until") {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut lines = main_process::read_log(&state::log_path(dir, &c.name));
    match p.value("tail").unwrap_or("all") {
        "all" => {}
        n => match n.parse::<i64>() {
            Ok(n) if n >= 0 => {
                let n = n as usize;
                lines = lines.split_off(lines.len().saturating_sub(n));
            }
            Ok(_) => {}
            Err(_) => {
                err(&format!(
                    "Error response from daemon: invalid value for \"tail\": \"{n}\""
                ));
                return 1;
            }
        },
    }
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    for l in lines {
        if since.is_some_and(|s| l.time.is_some_and(|t| t < s)) || until.is_some_and(|u| l.time.is_some_and(|t| t > u))
        {
            continue;
        }
        let prefix = match (p.has("timestamps"), l.time) {
            (true, Some(t)) => format!("{} ", state::rfc3339_fixed(t)),
            _ => String::new(),
        };
        let text = format!("{prefix}{}", l.text);
        let _ = if l.stream == "stderr" {
            stderr.write_all(text.as_bytes())
        } else {
            stdout.write_all(text.as_bytes())
        };
    }
    0
}

fn cp(dir: &Path, args: &[String]) -> i32 {
    let spec = Spec {
        cmd: "cp",
        bools: &[("a", "archive"), ("L", "follow-link"), ("q", "quiet")],
        values: &[],
        interspersed: true,
    };
    let p = match parse(&spec, args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if p.args.len() != 2 {
        return arity_error("cp", "requires exactly 2 arguments");
    }
    let Some((name, path)) = p.args[0].split_once(':') else {
        err("docker-double: copying into a container is not emulated");
        return 1;
    };
    let (c, _) = match find_container(dir, name) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let image_has_it = matches!(c.role, Role::App | Role::Sidekiq);
    if !image_has_it || path.trim_end_matches('/') != "/var/app/.app_version" {
        err(&format!(
            "Error response from daemon: Could not find the file {path} in container {name}"
        ));
        return 1;
    }
    let content = format!("{}\n", c.release);
    let dest = &p.args[1];
    if dest == "-" {
        let mtime = state::parse_time(&c.created).map_or(0, |t| t.timestamp());
        let _ = std::io::stdout()
            .lock()
            .write_all(&format::tar_one_file(".app_version", content.as_bytes(), mtime));
        return 0;
    }
    let mut target = PathBuf::from(dest);
    if target.is_dir() {
        target.push(".app_version");
    }
    match std::fs::write(&target, &content) {
        Ok(()) => {
            if !p.has("quiet") {
                err(&format!(
                    "Successfully copied {}B to {}",
                    content.len(),
                    target.display()
                ));
            }
            0
        }
        Err(e) => {
            err(&format!("docker-double: {}: {e}", target.display()));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_parse_like_pflag() {
        let spec = Spec {
            cmd: "exec",
            bools: &[("i", "interactive")],
            values: &[("e", "env"), ("u", "user")],
            interspersed: false,
        };
        let p = parse(
            &spec,
            &strs(&["-i", "-eA=1", "--env=B=2", "-u", "postgres", "db", "pg_dump", "-U", "x"]),
        )
        .unwrap();
        assert!(p.has("interactive"));
        assert_eq!(p.all("env"), ["A=1", "B=2"]);
        assert_eq!(p.value("user"), Some("postgres"));
        assert_eq!(p.args, strs(&["db", "pg_dump", "-U", "x"]));
        assert_eq!(parse(&spec, &strs(&["--tty", "db"])).err(), Some(125));
        assert_eq!(parse(&spec, &strs(&["-it", "db"])).err(), Some(125));
        assert_eq!(parse(&spec, &strs(&["-e"])).err(), Some(125));
    }

    #[test]
    fn name_filters_match_like_docker() {
        assert!(name_matches("dawarich", "dawarich_app"));
        assert!(name_matches("^dawarich_app$", "dawarich_app"));
        assert!(name_matches("^/dawarich_app$", "dawarich_app"));
        assert!(!name_matches("^dawarich$", "dawarich_app"));
        assert!(name_matches("_app$", "dawarich_app"));
    }

    #[test]
    fn since_takes_times_and_durations() {
        let now = state::now();
        let t = parse_since("10m").unwrap();
        assert!((now - t).num_seconds() >= 599 && (now - t).num_seconds() <= 601);
        assert_eq!(
            parse_since("2024-05-01T10:00:00Z").unwrap(),
            state::parse_time("2024-05-01T10:00:00Z").unwrap()
        );
        assert_eq!(parse_since("1714557600").unwrap().timestamp(), 1_714_557_600);
        assert!(parse_since("1h30m").is_some());
        assert!(parse_since("soon").is_none());
    }
}
