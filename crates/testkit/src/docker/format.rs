//! What the double prints: `docker ps` rows, `docker inspect` objects (keys in docker's order), the
//! small part of Go templates that `--format` needs, docker's duration and truncation rules, and the
//! tar stream of `docker cp … -`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::state::{parse_time, Container, Role};

/// A JSON value whose objects keep their key order (docker prints struct fields in declaration
/// order), with `Nil` for a nil pointer: left out of JSON, an error when a template walks into it.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Nil,
    Null,
    B(bool),
    N(i64),
    S(String),
    A(Vec<J>),
    /// A struct (a missing field is an error in a template).
    O(Vec<(String, J)>),
    /// A map (a missing key prints `<no value>`).
    M(Vec<(String, J)>),
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Nil | J::Null => s.serialize_unit(),
            J::B(b) => s.serialize_bool(*b),
            J::N(n) => s.serialize_i64(*n),
            J::S(t) => s.serialize_str(t),
            J::A(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            J::O(fields) | J::M(fields) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in fields.iter().filter(|(_, v)| *v != J::Nil) {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fn s(t: impl Into<String>) -> J {
    J::S(t.into())
}

fn strings(items: &[String]) -> J {
    J::A(items.iter().map(|i| s(i.clone())).collect())
}

fn obj(fields: Vec<(&str, J)>) -> J {
    J::O(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Compact JSON, as Go's `json.Marshal` (without its HTML escaping).
pub fn to_json(j: &J) -> String {
    serde_json::to_string(j).unwrap()
}

/// Indented JSON, as `docker inspect` prints it (4 spaces).
pub fn to_json_pretty(j: &J) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    j.serialize(&mut ser).unwrap();
    String::from_utf8(out).unwrap()
}

/// go-units `HumanDuration`.
pub fn human_duration(d: chrono::Duration) -> String {
    let seconds = d.num_seconds();
    let minutes = d.num_minutes();
    let hours = (d.num_milliseconds() as f64 / 3_600_000.0).round() as i64;
    if seconds < 1 {
        "Less than a second".into()
    } else if seconds == 1 {
        "1 second".into()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", d.num_hours() / 24 / 365)
    }
}

/// docker's `Ellipsis`: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote` for the characters our commands contain.
pub fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn since(t: &str, now: DateTime<Utc>) -> chrono::Duration {
    parse_time(t).map_or(chrono::Duration::zero(), |t| now - t)
}

/// The STATUS column (moby's `State.String`).
pub fn status(c: &Container, now: DateTime<Utc>) -> String {
    match c.state.as_str() {
        "running" => match &c.health {
            Some(h) if c.healthcheck.is_some() => {
                let h = if h == "starting" { "health: starting" } else { h };
                format!("Up {} ({h})", human_duration(since(&c.started_at, now)))
            }
            _ => format!("Up {}", human_duration(since(&c.started_at, now))),
        },
        "restarting" => format!(
            "Restarting ({}) {} ago",
            c.exit_code,
            human_duration(since(&c.finished_at, now))
        ),
        "created" => "Created".into(),
        _ => format!(
            "Exited ({}) {} ago",
            c.exit_code,
            human_duration(since(&c.finished_at, now))
        ),
    }
}

fn command_line(c: &Container) -> String {
    c.entrypoint.iter().chain(&c.cmd).cloned().collect::<Vec<_>>().join(" ")
}

fn ports_column(c: &Container) -> String {
    if c.state != "running" {
        return String::new();
    }
    c.ports
        .iter()
        .map(|p| match p.split_once(':') {
            Some((host, inner)) => format!("0.0.0.0:{host}->{inner}, [::]:{host}->{inner}"),
            None => p.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One `docker ps` row as `{{json .}}` sees it (Go marshals the fields map with sorted keys).
pub fn ps_row(c: &Container, trunc: bool, now: DateTime<Utc>) -> J {
    let command = command_line(c);
    let command = go_quote(&if trunc { ellipsis(&command, 20) } else { command });
    let created = parse_time(&c.created).unwrap_or(now);
    let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mounts: Vec<String> = c
        .mounts
        .iter()
        .map(|m| if trunc { ellipsis(m, 15) } else { m.clone() })
        .collect();
    let id = if trunc { c.id[..12].to_string() } else { c.id.clone() };
    obj(vec![
        ("Command", s(command)),
        (
            "CreatedAt",
            s(created.format("%Y-%m-%d %H:%M:%S +0000 UTC").to_string()),
        ),
        ("ID", s(id)),
        ("Image", s(c.image.clone())),
        ("Labels", s(labels.join(","))),
        ("LocalVolumes", s(c.mounts.len().to_string())),
        ("Mounts", s(mounts.join(","))),
        ("Names", s(c.name.clone())),
        ("Networks", s("dawarich")),
        ("Ports", s(ports_column(c))),
        ("RunningFor", s(format!("{} ago", human_duration(now - created)))),
        ("Size", s("0B")),
        ("State", s(c.state.clone())),
        ("Status", s(status(c, now))),
    ])
}

/// The header docker prints for a `ps` field in a `table` format.
pub fn ps_header(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID",
        "Names" => "NAMES",
        "Image" => "IMAGE",
        "Command" => "COMMAND",
        "CreatedAt" => "CREATED AT",
        "RunningFor" => "CREATED",
        "Ports" => "PORTS",
        "State" => "STATE",
        "Status" => "STATUS",
        "Size" => "SIZE",
        "Labels" => "LABELS",
        "Mounts" => "MOUNTS",
        "Networks" => "NETWORKS",
        "LocalVolumes" => "LOCAL VOLUMES",
        other => return other.to_uppercase(),
    }
    .to_string()
}

/// The `docker inspect` object of a container.
pub fn inspect(c: &Container) -> J {
    let mut all: Vec<String> = c.entrypoint.clone();
    all.extend(c.cmd.iter().cloned());
    let (path, args) = match all.split_first() {
        Some((p, rest)) => (p.clone(), rest.to_vec()),
        None => (String::new(), vec![]),
    };
    let running = c.is_up();
    let health = match (&c.healthcheck, &c.health) {
        (Some(_), Some(h)) => obj(vec![
            ("Status", s(h.clone())),
            ("FailingStreak", J::N(0)),
            ("Log", J::A(vec![])),
        ]),
        _ => J::Nil,
    };
    let pid = if c.state == "running" { c.pid.unwrap_or(0) } else { 0 };
    let state = obj(vec![
        ("Status", s(c.state.clone())),
        ("Running", J::B(running)),
        ("Paused", J::B(false)),
        ("Restarting", J::B(c.state == "restarting")),
        ("OOMKilled", J::B(false)),
        ("Dead", J::B(false)),
        ("Pid", J::N(pid.into())),
        ("ExitCode", J::N(c.exit_code.into())),
        ("Error", s("")),
        ("StartedAt", s(c.started_at.clone())),
        ("FinishedAt", s(c.finished_at.clone())),
        ("Health", health),
    ]);
    let healthcheck = match &c.healthcheck {
        Some(h) => obj(vec![
            ("Test", strings(&h.test)),
            ("Interval", J::N(h.interval)),
            ("Timeout", J::N(h.timeout)),
            ("StartPeriod", J::N(h.start_period)),
            ("Retries", J::N(h.retries)),
        ]),
        None => J::Nil,
    };
    let exposed: Vec<(String, J)> = c
        .ports
        .iter()
        .map(|p| (p.rsplit(':').next().unwrap().to_string(), J::O(vec![])))
        .collect();
    let bindings: Vec<(String, J)> = c
        .ports
        .iter()
        .filter_map(|p| p.split_once(':'))
        .map(|(host, inner)| {
            let bind = |ip: &str| obj(vec![("HostIp", s(ip)), ("HostPort", s(host))]);
            (inner.to_string(), J::A(vec![bind("0.0.0.0"), bind("::")]))
        })
        .collect();
    let labels = J::M(c.labels.iter().map(|(k, v)| (k.clone(), s(v.clone()))).collect());
    let mounts = J::A(
        c.mounts
            .iter()
            .map(|m| {
                obj(vec![
                    ("Type", s("volume")),
                    ("Name", s(m.clone())),
                    ("Source", s(format!("/var/lib/docker/volumes/{m}/_data"))),
                    ("Driver", s("local")),
                    ("RW", J::B(true)),
                ])
            })
            .collect(),
    );
    let workdir = match c.role {
        Role::App | Role::Sidekiq => "/var/app",
        Role::Db | Role::Redis => "",
    };
    let network = obj(vec![
        (
            "Aliases",
            strings(&[
                c.name.clone(),
                c.labels.get("com.docker.compose.service").cloned().unwrap_or_default(),
            ]),
        ),
        ("NetworkID", s(format!("{:0>64}", "d"))),
        ("Gateway", s(if c.ip.starts_with("172.") { "172.18.0.1" } else { "" })),
        ("IPAddress", s(c.ip.clone())),
        ("IPPrefixLen", J::N(16)),
        ("DNSNames", strings(&[c.name.clone(), c.id[..12].to_string()])),
    ]);
    obj(vec![
        ("Id", s(c.id.clone())),
        ("Created", s(c.created.clone())),
        ("Path", s(path)),
        ("Args", strings(&args)),
        ("State", state),
        ("Image", s(c.image_id.clone())),
        ("Name", s(format!("/{}", c.name))),
        ("RestartCount", J::N(c.restart_count.into())),
        ("Driver", s("overlay2")),
        ("Platform", s("linux")),
        (
            "HostConfig",
            obj(vec![
                ("NetworkMode", s("dawarich")),
                ("PortBindings", J::M(bindings)),
                (
                    "RestartPolicy",
                    obj(vec![
                        ("Name", s(c.restart_policy.clone())),
                        ("MaximumRetryCount", J::N(0)),
                    ]),
                ),
            ]),
        ),
        ("Mounts", mounts),
        (
            "Config",
            obj(vec![
                ("Hostname", s(c.id[..12].to_string())),
                ("Domainname", s("")),
                ("User", s("")),
                ("AttachStdin", J::B(false)),
                ("AttachStdout", J::B(true)),
                ("AttachStderr", J::B(true)),
                ("ExposedPorts", if exposed.is_empty() { J::Nil } else { J::M(exposed) }),
                ("Tty", J::B(false)),
                ("OpenStdin", J::B(false)),
                ("StdinOnce", J::B(false)),
                ("Env", strings(&c.env)),
                ("Cmd", strings(&c.cmd)),
                ("Healthcheck", healthcheck),
                ("Image", s(c.image.clone())),
                ("Volumes", J::Null),
                ("WorkingDir", s(workdir)),
                ("Entrypoint", strings(&c.entrypoint)),
                ("OnBuild", J::Null),
                ("Labels", labels),
            ]),
        ),
        (
            "NetworkSettings",
            obj(vec![("Networks", J::M(vec![("dawarich".to_string(), network)]))]),
        ),
    ])
}

/// A Go template error, as docker prints it (exit status 1).
#[derive(Debug, PartialEq)]
pub struct TemplateError(pub String);

const UNSUPPORTED: &str = "template: unsupported by the test double";

#[derive(Debug)]
enum Node {
    Text(String),
    Action(Vec<Arg>),
    Range(Vec<Arg>, Vec<Node>),
}

#[derive(Debug, Clone)]
enum Arg {
    Word(String),
    Field(String),
    Str(String),
}

fn split_args(action: &str) -> Result<Vec<Arg>, TemplateError> {
    let mut out = vec![];
    let mut rest = action.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').ok_or_else(|| TemplateError(UNSUPPORTED.into()))?;
            out.push(Arg::Str(r[..end].to_string()));
            rest = r[end + 1..].trim_start();
            continue;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        out.push(if word.starts_with('.') {
            Arg::Field(word.to_string())
        } else {
            Arg::Word(word.to_string())
        });
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

fn parse_nodes(tpl: &str) -> Result<Vec<Node>, TemplateError> {
    let mut stack: Vec<(Vec<Arg>, Vec<Node>)> = vec![(vec![], vec![])];
    let mut rest = tpl;
    while !rest.is_empty() {
        let Some(open) = rest.find("{{") else {
            stack.last_mut().unwrap().1.push(Node::Text(rest.to_string()));
            break;
        };
        if open > 0 {
            stack.last_mut().unwrap().1.push(Node::Text(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find("}}")
            .ok_or_else(|| TemplateError(format!("template: :1: unclosed action in {tpl:?}")))?;
        let args = split_args(&rest[open + 2..open + close])?;
        rest = &rest[open + close + 2..];
        match args.first() {
            Some(Arg::Word(w)) if w == "range" => stack.push((args[1..].to_vec(), vec![])),
            Some(Arg::Word(w)) if w == "end" => {
                if stack.len() < 2 {
                    return Err(TemplateError("template: :1: unexpected {{end}}".into()));
                }
                let (over, body) = stack.pop().unwrap();
                stack.last_mut().unwrap().1.push(Node::Range(over, body));
            }
            Some(_) => stack.last_mut().unwrap().1.push(Node::Action(args)),
            None => return Err(TemplateError("template: :1: missing value for command".into())),
        }
    }
    if stack.len() != 1 {
        return Err(TemplateError("template: :1: unexpected EOF".into()));
    }
    Ok(stack.pop().unwrap().1)
}

fn field(dot: &J, path: &str) -> Result<J, TemplateError> {
    let mut v = dot.clone();
    for name in path.split('.').filter(|p| !p.is_empty()) {
        v = match &v {
            J::O(fields) => match fields.iter().find(|(k, _)| k == name) {
                Some((_, f)) => f.clone(),
                None => {
                    return Err(TemplateError(format!(
                        "template: :1: executing \"\" at <{path}>: can't evaluate field {name}"
                    )))
                }
            },
            J::M(entries) => entries
                .iter()
                .find(|(k, _)| k == name)
                .map_or(J::Nil, |(_, f)| f.clone()),
            J::Nil => {
                return Err(TemplateError(format!(
                    "template: :1: executing \"\" at <{path}>: nil pointer evaluating {name}"
                )))
            }
            _ => {
                return Err(TemplateError(format!(
                    "template: :1: executing \"\" at <{path}>: can't evaluate field {name}"
                )))
            }
        };
    }
    Ok(v)
}

fn value(dot: &J, arg: &Arg) -> Result<J, TemplateError> {
    match arg {
        Arg::Field(f) => field(dot, f),
        Arg::Str(t) => Ok(J::S(t.clone())),
        Arg::Word(_) => Err(TemplateError(UNSUPPORTED.into())),
    }
}

/// Go's `fmt.Print` of a value as a template prints it.
fn print(v: &J) -> String {
    match v {
        J::Nil => "<no value>".into(),
        J::Null => "<nil>".into(),
        J::B(b) => b.to_string(),
        J::N(n) => n.to_string(),
        J::S(t) => t.clone(),
        J::A(items) => format!("[{}]", items.iter().map(print).collect::<Vec<_>>().join(" ")),
        J::M(entries) | J::O(entries) => {
            let body: Vec<String> = entries.iter().map(|(k, v)| format!("{k}:{}", print(v))).collect();
            format!("map[{}]", body.join(" "))
        }
    }
}

fn eval(dot: &J, args: &[Arg]) -> Result<J, TemplateError> {
    match args {
        [a @ (Arg::Field(_) | Arg::Str(_))] => value(dot, a),
        [Arg::Word(f), a] if f == "json" => Ok(J::S(to_json(&value(dot, a)?))),
        [Arg::Word(f), m, Arg::Str(key)] if f == "index" => match value(dot, m)? {
            J::M(entries) | J::O(entries) => Ok(entries
                .iter()
                .find(|(k, _)| k == key)
                .map_or(J::Nil, |(_, v)| v.clone())),
            _ => Err(TemplateError(UNSUPPORTED.into())),
        },
        // `{{.Label "key"}}` of docker ps: the label's value.
        [Arg::Field(f), Arg::Str(key)] if f == ".Label" => {
            let labels = field(dot, ".Labels")?;
            let J::S(all) = labels else {
                return Err(TemplateError(UNSUPPORTED.into()));
            };
            Ok(J::S(
                all.split(',')
                    .find_map(|kv| kv.strip_prefix(key.as_str()).and_then(|r| r.strip_prefix('=')))
                    .unwrap_or("")
                    .to_string(),
            ))
        }
        _ => Err(TemplateError(UNSUPPORTED.into())),
    }
}

fn render_nodes(nodes: &[Node], dot: &J, out: &mut String) -> Result<(), TemplateError> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(args) => out.push_str(&print(&eval(dot, args)?)),
            Node::Range(over, body) => match eval(dot, over)? {
                J::A(items) => {
                    for i in &items {
                        render_nodes(body, i, out)?;
                    }
                }
                J::M(entries) => {
                    let mut sorted = entries.clone();
                    sorted.sort_by(|a, b| a.0.cmp(&b.0));
                    for (_, v) in &sorted {
                        render_nodes(body, v, out)?;
                    }
                }
                J::Nil | J::Null => {}
                _ => return Err(TemplateError(UNSUPPORTED.into())),
            },
        }
    }
    Ok(())
}

/// Renders a Go template (the subset the double supports: fields, `json`, `index`, `.Label`,
/// `range … end`; anything else is an error) against `dot`.
pub fn render(tpl: &str, dot: &J) -> Result<String, TemplateError> {
    let nodes = parse_nodes(tpl)?;
    let mut out = String::new();
    render_nodes(&nodes, dot, &mut out)?;
    Ok(out)
}

/// The fields a `ps` template names, for a `table` header.
pub fn template_header(tpl: &str) -> Result<String, TemplateError> {
    let mut out = String::new();
    for n in parse_nodes(tpl)? {
        match n {
            Node::Text(t) => out.push_str(&t),
            Node::Action(args) => match args.as_slice() {
                [Arg::Field(f)] => out.push_str(&ps_header(f.trim_start_matches('.'))),
                [Arg::Field(f), Arg::Str(_)] if f == ".Label" => out.push_str("LABEL"),
                _ => {}
            },
            Node::Range(..) => {}
        }
    }
    Ok(out)
}

/// Go's tabwriter as docker uses it (min width 10, padding 3, the last cell unpadded).
pub fn tabwrite(lines: &[String]) -> String {
    let rows: Vec<Vec<&str>> = lines.iter().map(|l| l.split('\t').collect()).collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter(|r| i + 1 < r.len())
                .map(|r| r[i].chars().count() + 3)
                .max()
                .unwrap_or(0)
                .max(10)
        })
        .collect();
    let mut out = String::new();
    for r in &rows {
        for (i, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < r.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out = out.trim_end_matches(' ').to_string();
        out.push('\n');
    }
    out
}

/// A ustar archive holding one regular file (what `docker cp CONTAINER:FILE -` writes).
pub fn tar_one_file(name: &str, content: &[u8], mtime: i64) -> Vec<u8> {
    let mut h = [0u8; 512];
    let put = |h: &mut [u8; 512], at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
    put(&mut h, 0, name.as_bytes());
    put(&mut h, 100, b"0000644\0");
    put(&mut h, 108, b"0000000\0");
    put(&mut h, 116, b"0000000\0");
    put(&mut h, 124, format!("{:011o}\0", content.len()).as_bytes());
    put(&mut h, 136, format!("{mtime:011o}\0").as_bytes());
    put(&mut h, 148, b"        ");
    h[156] = b'0';
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    put(&mut h, 265, b"root");
    put(&mut h, 297, b"root");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    let mut out = h.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.resize(out.len() + 1024, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(secs: i64) -> chrono::Duration {
        chrono::Duration::seconds(secs)
    }

    #[test]
    fn durations_read_like_docker() {
        assert_eq!(
            human_duration(chrono::Duration::milliseconds(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(d(1)), "1 second");
        assert_eq!(human_duration(d(3)), "3 seconds");
        assert_eq!(human_duration(d(60)), "About a minute");
        assert_eq!(human_duration(d(300)), "5 minutes");
        assert_eq!(human_duration(d(3600)), "About an hour");
        assert_eq!(human_duration(d(5 * 3600)), "5 hours");
        assert_eq!(human_duration(d(3 * 86400)), "3 days");
        assert_eq!(human_duration(d(800 * 86400)), "2 years");
    }

    #[test]
    fn commands_are_cut_and_quoted() {
        assert_eq!(
            ellipsis("web-entrypoint.sh bin/rails server", 20),
            "web-entrypoint.sh b…"
        );
        assert_eq!(ellipsis("sidekiq", 20), "sidekiq");
        assert_eq!(go_quote("a \"b\"\\"), "\"a \\\"b\\\"\\\\\"");
    }

    #[test]
    fn templates_cover_what_the_callers_use() {
        let dot = obj(vec![
            (
                "NetworkSettings",
                obj(vec![(
                    "Networks",
                    J::M(vec![("dawarich".into(), obj(vec![("IPAddress", s("10.0.0.2"))]))]),
                )]),
            ),
            ("State", obj(vec![("Status", s("running")), ("Health", J::Nil)])),
            ("Config", obj(vec![("Env", strings(&["A=1".into(), "B=2".into()]))])),
            ("Labels", J::M(vec![("k".into(), s("v"))])),
        ]);
        let r = |t: &str| render(t, &dot);
        assert_eq!(
            r("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}").unwrap(),
            "10.0.0.2 "
        );
        assert_eq!(r("{{json .Config.Env}}").unwrap(), "[\"A=1\",\"B=2\"]");
        assert_eq!(r("{{.Config.Env}}").unwrap(), "[A=1 B=2]");
        assert_eq!(r("{{.State.Status}}").unwrap(), "running");
        assert_eq!(
            r("{{index .Labels \"k\"}} {{index .Labels \"x\"}}").unwrap(),
            "v <no value>"
        );
        assert_eq!(r("{{json .State.Health}}").unwrap(), "null");
        assert!(r("{{.State.Health.Status}}").unwrap_err().0.contains("nil pointer"));
        assert!(r("{{.Nope}}").unwrap_err().0.contains("can't evaluate field Nope"));
        assert_eq!(r("{{printf \"%s\" .State.Status}}").unwrap_err().0, UNSUPPORTED);
    }

    #[test]
    fn inspect_json_keeps_docker_key_order_and_drops_nil() {
        let j = obj(vec![("Id", s("x")), ("Health", J::Nil), ("A", J::A(vec![]))]);
        assert_eq!(to_json(&j), "{\"Id\":\"x\",\"A\":[]}");
        assert_eq!(to_json_pretty(&j), "{\n    \"Id\": \"x\",\n    \"A\": []\n}");
    }

    #[test]
    fn tables_are_aligned_like_tabwriter() {
        let out = tabwrite(&["NAMES\tSTATUS".into(), "dawarich_app\tUp 2 seconds".into()]);
        assert_eq!(out, "NAMES          STATUS\ndawarich_app   Up 2 seconds\n");
    }

    #[test]
    fn the_tar_stream_is_read_by_tar() {
        let archive = tar_one_file(".app_version", b"1.7.5\n", 1_714_557_600);
        assert_eq!(archive.len(), 512 * 4);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        std::fs::write(&path, &archive).unwrap();
        let list = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&path)
            .output()
            .unwrap();
        assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
        let listing = String::from_utf8_lossy(&list.stdout);
        assert!(
            listing.contains("-rw-r--r-- root/root         6 2024-05-01"),
            "{listing}"
        );
        let out = std::process::Command::new("tar")
            .arg("-xOf")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"1.7.5\n");
    }
}
