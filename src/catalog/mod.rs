//! The Dawarich migration catalog, embedded: every migration as data (header + SQL statements), the
//! release map (which versions each release ships) and each release's schema (`schema_sql`).
//! See docs/CATALOG.md for the file format.

mod split;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use dawarich_doctor_model::MigrationKind;
pub use split::split_statements;

include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
include!(concat!(env!("OUT_DIR"), "/schema_files.rs"));
static RELEASES_TSV: &str = include_str!("../../migrations/releases.tsv");

/// One backfill statement run in primary-key ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub table: String,
    pub pk: String,
    pub size: i64,
    /// Conditions under which the statement cannot change any row: when one holds, the walk is left out.
    pub skip_when: Vec<SkipWhen>,
    /// The `-- fuse:` group: next to members of the same group in the job phase, walked in one pass.
    pub fuse: Option<String>,
}

/// A `-- skip-when:` directive: a cheap SQL boolean that is true only when the batched statement
/// would change no row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipWhen {
    pub sql: String,
    /// Why no row can change then, in words.
    pub reason: String,
}

/// One SQL statement of a migration, with its directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub batch: Option<Batch>,
    /// Work Dawarich enqueues as a Sidekiq job (`-- phase: job` here and after): it runs after every
    /// data migration, as Sidekiq does once the app is up.
    pub job: bool,
}

/// The words of `sql` that may name something: runs of ASCII letters, digits and `_` (string
/// literals included, which errs on the safe side).
pub fn identifiers(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

impl Statement {
    /// The columns an `UPDATE … SET` statement (its last UPDATE, after any CTEs) assigns; empty for
    /// any other statement.
    pub fn assigned(&self) -> Vec<String> {
        let sql = self.sql.as_str();
        // keyword `kw` as a word of its own at `i`
        let at = |kw: &str, i: usize| {
            sql[i..].starts_with(kw)
                && sql[..i].chars().next_back().is_none_or(char::is_whitespace)
                && sql[i + kw.len()..].chars().next().is_none_or(char::is_whitespace)
        };
        let update = sql.rfind("\nUPDATE ").map_or(0, |i| i + 1);
        if !sql[update..].starts_with("UPDATE ") {
            return Vec::new();
        }
        let Some(set) = sql[update..]
            .match_indices("SET")
            .map(|(i, _)| update + i)
            .find(|&i| at("SET", i))
            .map(|i| i + "SET".len())
        else {
            return Vec::new();
        };
        // the assignments: split at top-level commas, up to the first top-level FROM, WHERE or RETURNING
        let (mut depth, mut quoted, mut start, mut end, mut targets) = (0, false, set, sql.len(), Vec::new());
        for (i, c) in sql[set..].char_indices().map(|(i, c)| (set + i, c)) {
            match c {
                '\'' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => depth -= 1,
                ',' if !quoted && depth == 0 => {
                    targets.push(&sql[start..i]);
                    start = i + 1;
                }
                _ if !quoted && depth == 0 && ["FROM", "WHERE", "RETURNING"].iter().any(|k| at(k, i)) => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        targets.push(&sql[start..end]);
        targets
            .iter()
            .map(|a| a.split('=').next().unwrap_or("").trim().trim_matches('"').to_string())
            .collect()
    }
}

/// A migration from the catalog.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: String,
    pub name: String,
    pub kind: MigrationKind,
    /// First stable release that shipped it.
    pub release: String,
    pub removed_in: Option<String>,
    /// False for Rails' `disable_ddl_transaction!`.
    pub transaction: bool,
    pub changes_data: bool,
    pub job: Vec<String>,
    /// Ruby for `bin/rails runner` in the app container, for what cannot be done in SQL.
    pub follow_up: Option<String>,
    /// SQL (a boolean), evaluated once Dawarich is up again: the follow-up runs only when it is true.
    pub follow_up_when: Option<String>,
    pub env: Vec<String>,
    /// Schema migrations whose columns this translation writes (it follows the 1.7.5 code): they must
    /// be applied or run in the same upgrade.
    pub needs: Vec<String>,
    pub notes: Vec<String>,
    pub statements: Vec<Statement>,
}

impl Migration {
    /// `20240815174852 add_owntracks_points_data`
    pub fn label(&self) -> String {
        format!("{} {}", self.version, self.name)
    }

    /// The migration's own statements (run when it runs), with their index in the file.
    pub fn own_statements(&self) -> impl Iterator<Item = (usize, &Statement)> {
        self.statements.iter().enumerate().filter(|(_, s)| !s.job)
    }

    /// The statements of the job it enqueues (run in the job phase), with their index in the file.
    pub fn job_statements(&self) -> impl Iterator<Item = (usize, &Statement)> {
        self.statements.iter().enumerate().filter(|(_, s)| s.job)
    }

    /// Whether it enqueues job work that is done here in SQL.
    pub fn has_job(&self) -> bool {
        self.statements.iter().any(|s| s.job)
    }

    /// The job's batched statement (its only job statement) when it carries `-- fuse:`, with its
    /// index in the file.
    pub fn fusable_job(&self) -> Option<(usize, &Statement, &Batch)> {
        self.job_statements()
            .find_map(|(i, s)| s.batch.as_ref().filter(|b| b.fuse.is_some()).map(|b| (i, s, b)))
    }
}

/// The combined statement of a `-- fuse:` group (`migrations/fused/GROUP.sql`): one statement per
/// range that does what the group's members that walk (`$3`, their versions) would do one after
/// another, and returns one row with the rows each changed, in a column named by its version.
#[derive(Debug, Clone)]
pub struct Fused {
    pub group: String,
    pub sql: String,
    pub notes: Vec<String>,
}

/// One stable Dawarich release.
#[derive(Debug, Clone)]
pub struct Release {
    pub tag: String,
    pub date: String,
    pub rails: String,
    /// The `schemas/` file holding the schema.rb of this release.
    pub schema: String,
    /// `ActiveRecord::Schema.define(version:)` of its schema.rb.
    pub define_version: String,
}

/// The whole catalog.
#[derive(Debug)]
pub struct Catalog {
    pub migrations: Vec<Migration>,
    /// The combined statement of each `-- fuse:` group.
    pub fused: Vec<Fused>,
    pub releases: Vec<Release>,
}

/// A catalog file that does not follow docs/CATALOG.md (a build-time bug, caught by the tests).
#[derive(Debug, thiserror::Error)]
#[error("catalog file {file}: {problem}")]
pub struct CatalogError {
    pub file: String,
    pub problem: String,
}

/// The embedded catalog, parsed once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        Catalog::parse(FILES, FUSED_FILES, RELEASES_TSV).expect("embedded catalog is valid (checked by tests)")
    })
}

impl Catalog {
    /// Parses catalog files, the combined statements of fused job work and the release table.
    pub fn parse(
        files: &[(&str, &str)],
        fused_files: &[(&str, &str)],
        releases_tsv: &str,
    ) -> Result<Catalog, CatalogError> {
        let mut migrations = files
            .iter()
            .map(|(n, t)| parse_migration(n, t))
            .collect::<Result<Vec<_>, _>>()?;
        let fused = fused_files
            .iter()
            .map(|(n, t)| parse_fused(n, t))
            .collect::<Result<Vec<_>, _>>()?;
        for m in &migrations {
            let Some(group) = m.fusable_job().and_then(|(_, _, b)| b.fuse.as_deref()) else {
                continue;
            };
            if !fused.iter().any(|f| f.group == group) {
                return Err(CatalogError {
                    file: format!("{}_{}.sql", m.version, m.name),
                    problem: format!("fuse group `{group}` has no combined statement (migrations/fused/{group}.sql)"),
                });
            }
        }
        migrations.sort_by(|a, b| (a.kind, &a.version).cmp(&(b.kind, &b.version)));
        let releases = releases_tsv
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Release {
                    tag: f[0].into(),
                    date: f.get(1).unwrap_or(&"").to_string(),
                    rails: f.get(2).unwrap_or(&"").to_string(),
                    schema: f.get(3).unwrap_or(&"").to_string(),
                    define_version: f.get(4).unwrap_or(&"").replace('_', ""),
                }
            })
            .collect();
        for m in &migrations {
            if let Some(v) = m.needs.iter().find(|v| {
                !migrations
                    .iter()
                    .any(|n| n.kind == MigrationKind::Schema && &n.version == *v)
            }) {
                return Err(CatalogError {
                    file: format!("{}_{}.sql", m.version, m.name),
                    problem: format!("`needs` names {v}, which is no schema migration of the catalog"),
                });
            }
        }
        Ok(Catalog {
            migrations,
            fused,
            releases,
        })
    }

    /// The release with this tag.
    pub fn release(&self, tag: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.tag == tag)
    }

    /// The combined statement of a `-- fuse:` group (every group has one: checked when parsed).
    pub fn combined(&self, group: &str) -> Option<&Fused> {
        self.fused.iter().find(|f| f.group == group)
    }

    /// The newest release.
    pub fn newest(&self) -> &Release {
        self.releases.last().expect("release table is not empty")
    }

    fn index_of(&self, tag: &str) -> Option<usize> {
        self.releases.iter().position(|r| r.tag == tag)
    }

    /// Whether migration `m` is shipped by release `tag`.
    pub fn ships(&self, m: &Migration, tag: &str) -> bool {
        let (Some(at), Some(first)) = (self.index_of(tag), self.index_of(&m.release)) else {
            return false;
        };
        let gone = m
            .removed_in
            .as_deref()
            .and_then(|r| self.index_of(r))
            .is_some_and(|r| r <= at);
        first <= at && !gone
    }

    /// The migrations of one kind that release `tag` ships, in version order.
    pub fn shipped(&self, tag: &str, kind: MigrationKind) -> Vec<&Migration> {
        self.migrations
            .iter()
            .filter(|m| m.kind == kind && self.ships(m, tag))
            .collect()
    }

    /// The versions of one kind that release `tag` ships.
    pub fn versions(&self, tag: &str, kind: MigrationKind) -> BTreeSet<String> {
        self.shipped(tag, kind).into_iter().map(|m| m.version.clone()).collect()
    }

    /// A migration by kind and version.
    pub fn get(&self, kind: MigrationKind, version: &str) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.kind == kind && m.version == version)
    }

    /// `VERSION name` of a version of either kind (the version alone when the catalog lacks it).
    pub fn label_of(&self, version: &str) -> String {
        self.migrations
            .iter()
            .find(|m| m.version == version)
            .map_or_else(|| version.to_string(), Migration::label)
    }

    /// Every version the catalog has a file for, of one kind.
    pub fn all_versions(&self, kind: MigrationKind) -> BTreeSet<String> {
        self.migrations
            .iter()
            .filter(|m| m.kind == kind)
            .map(|m| m.version.clone())
            .collect()
    }
}

/// The schema.rb of release `tag`, as SQL (`schemas/`): what `verify` expects and a fresh install loads.
pub fn schema_sql(tag: &str) -> crate::error::Result<&'static str> {
    use crate::error::Error;
    let r = catalog()
        .release(tag)
        .ok_or_else(|| Error::UnknownRelease(tag.into()))?;
    let file = format!("{}.sql", r.schema);
    SCHEMA_FILES
        .iter()
        .find(|(n, _)| *n == file)
        .map(|(_, t)| *t)
        .ok_or_else(|| Error::UnknownRelease(format!("{tag} (no {file})")))
}

/// The known releases nearest to a tag the catalog lacks: its series (`1.7.` for `1.7.9`, else
/// `1.` …), or the five newest.
pub fn releases_near(tag: &str) -> Vec<&'static str> {
    let c = catalog();
    let mut rest = tag;
    while let Some((head, _)) = rest.rsplit_once('.') {
        let series = format!("{head}.");
        let near: Vec<&str> = c
            .releases
            .iter()
            .filter(|r| r.tag.starts_with(&series))
            .map(|r| r.tag.as_str())
            .collect();
        if !near.is_empty() {
            return near;
        }
        rest = head;
    }
    c.releases[c.releases.len().saturating_sub(5)..]
        .iter()
        .map(|r| r.tag.as_str())
        .collect()
}

/// Whether release `a` is `b` or newer (unknown tags count as older).
pub fn release_at_least(a: &str, b: &str) -> bool {
    let c = catalog();
    matches!((c.index_of(a), c.index_of(b)), (Some(x), Some(y)) if x >= y)
}

/// The header keys of docs/CATALOG.md.
const HEADER_KEYS: &[&str] = &[
    "version",
    "name",
    "kind",
    "release",
    "removed-in",
    "transaction",
    "changes-data",
    "job",
    "needs",
    "follow-up",
    "follow-up-when",
    "env",
    "note",
];

/// A combined statement: `-- fuse: GROUP` (the file name), `-- note:` lines, one statement.
fn parse_fused(file: &str, text: &str) -> Result<Fused, CatalogError> {
    let err = |problem: String| CatalogError {
        file: format!("fused/{file}"),
        problem,
    };
    let (mut group, mut notes, mut body) = (None, Vec::new(), text);
    while let Some((line, rest)) = body.split_once('\n') {
        let Some((k, v)) = line.strip_prefix("-- ").and_then(|l| l.split_once(':')) else {
            break;
        };
        match k {
            "fuse" => group = Some(v.trim().to_string()),
            "note" => notes.push(v.trim().to_string()),
            _ => return Err(err(format!("unknown header key `{k}` (fuse, note)"))),
        }
        body = rest;
    }
    let group = group.ok_or_else(|| err("missing header `fuse`".into()))?;
    if file != format!("{group}.sql") {
        return Err(err(format!("group {group} does not match the file name")));
    }
    let mut statements = split_statements(body);
    let sql = match (statements.pop(), statements.is_empty()) {
        (Some((_, sql)), true) if ["$1", "$2", "$3"].iter().all(|p| sql.contains(p)) => sql,
        _ => {
            return Err(err(
                "the body must be one statement using $1, $2 (the range) and $3 (the versions that walk)".into(),
            ))
        }
    };
    Ok(Fused { group, sql, notes })
}

fn parse_migration(file: &str, text: &str) -> Result<Migration, CatalogError> {
    let err = |problem: String| CatalogError {
        file: file.into(),
        problem,
    };
    let mut header: Vec<(String, String)> = Vec::new();
    let mut body_start = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("-- ") else { break };
        let Some((k, v)) = rest.split_once(':') else { break };
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            break;
        }
        header.push((k.to_string(), v.trim().to_string()));
        body_start += line.len() + 1;
    }
    if let Some((k, _)) = header.iter().find(|(k, _)| !HEADER_KEYS.contains(&k.as_str())) {
        return Err(err(format!(
            "unknown header key `{k}` (a directive needs a blank line after the header)"
        )));
    }
    let one = |key: &str| header.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let many = |key: &str| {
        header
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let need = |key: &str| one(key).ok_or_else(|| err(format!("missing header `{key}`")));
    let at_most_one = |key: &str| match many(key).as_slice() {
        [] => Ok(None),
        [v] => Ok(Some(v.clone())),
        _ => Err(err(format!("more than one `{key}`"))),
    };
    let flag = |key: &str| match need(key)?.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        v => Err(err(format!("`{key}` must be true or false, not {v:?}"))),
    };
    let version = need("version")?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(format!("version {version:?} is not a Rails version (digits only)")));
    }
    if !file.starts_with(&format!("{version}_")) {
        return Err(err(format!("version {version} does not match the file name")));
    }
    let kind = match need("kind")?.as_str() {
        "schema" => MigrationKind::Schema,
        "data" => MigrationKind::Data,
        k => return Err(err(format!("unknown kind {k:?}"))),
    };
    let body = &text[body_start.min(text.len())..];
    let mut in_job = false;
    let statements = split_statements(body)
        .into_iter()
        .map(|(directives, sql)| {
            let mut batch = None;
            let mut size = 10_000;
            let mut skip_when = Vec::new();
            let mut fuse = None;
            for (k, v) in directives {
                match k.as_str() {
                    "phase" if v == "job" => in_job = true,
                    "phase" => return Err(err(format!("unknown phase {v:?} (only `job`)"))),
                    "batch" => {
                        let (t, pk) = v
                            .split_once('.')
                            .ok_or_else(|| err(format!("batch directive {v:?} is not TABLE.PK")))?;
                        batch = Some((t.to_string(), pk.to_string()));
                    }
                    "batch-size" => size = v.parse().map_err(|_| err(format!("bad batch-size {v:?}")))?,
                    "skip-when" => {
                        let (sql, reason) = v
                            .split_once(" -- ")
                            .ok_or_else(|| err(format!("skip-when {v:?} is not `CONDITION -- REASON`")))?;
                        skip_when.push(SkipWhen {
                            sql: sql.trim().to_string(),
                            reason: reason.trim().to_string(),
                        });
                    }
                    "fuse" => fuse = Some(v),
                    _ => {}
                }
            }
            if batch.is_none() && !skip_when.is_empty() {
                return Err(err(format!("skip-when on a statement without `batch`: {sql}")));
            }
            if fuse.is_some() && (batch.is_none() || !in_job) {
                return Err(err(format!("fuse on a statement that is not batched job work: {sql}")));
            }
            Ok(Statement {
                sql,
                batch: batch.map(|(table, pk)| Batch {
                    table,
                    pk,
                    size,
                    skip_when,
                    fuse,
                }),
                job: in_job,
            })
        })
        .collect::<Result<Vec<_>, CatalogError>>()?;
    if statements
        .iter()
        .any(|s| s.batch.as_ref().is_some_and(|b| b.fuse.is_some()))
        && statements.iter().filter(|s| s.job).count() > 1
    {
        return Err(err("a `fuse` statement must be the only statement of its job".into()));
    }
    if statements.iter().any(|s| s.job) && many("job").is_empty() {
        return Err(err(
            "`-- phase: job` statements without a `job` header saying which job they do".into(),
        ));
    }
    Ok(Migration {
        name: need("name")?,
        release: need("release")?,
        removed_in: one("removed-in"),
        transaction: flag("transaction")?,
        changes_data: flag("changes-data")?,
        job: many("job"),
        follow_up: at_most_one("follow-up")?,
        follow_up_when: at_most_one("follow-up-when")?,
        env: many("env"),
        needs: many("needs")
            .iter()
            .flat_map(|v| v.split(',').map(|x| x.trim().to_string()))
            .filter(|v| !v.is_empty())
            .collect(),
        notes: many("note"),
        statements,
        version,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_release_is_answered_with_its_series_or_the_newest() {
        assert_eq!(
            releases_near("1.7.9"),
            ["1.7.0", "1.7.1", "1.7.2", "1.7.3", "1.7.4", "1.7.5"]
        );
        assert_eq!(releases_near("0.9.99")[..2], ["0.9.0", "0.9.1"]);
        assert!(releases_near("1.99").iter().all(|t| t.starts_with("1.")));
        let newest: Vec<&str> = catalog().releases[catalog().releases.len() - 5..]
            .iter()
            .map(|r| r.tag.as_str())
            .collect();
        assert_eq!(releases_near("nightly"), newest);
        assert_eq!(releases_near("9.0.0"), newest);
        let r = crate::Error::UnknownRelease("1.7.9".into()).report();
        assert!(r.fix.contains("1.7.0, 1.7.1") && r.fix.contains("1.7.5"), "{}", r.fix);
    }

    #[test]
    fn embedded_catalog_parses_and_is_consistent() {
        let files: Vec<_> = FILES.to_vec();
        let c = Catalog::parse(&files, FUSED_FILES, RELEASES_TSV).unwrap();
        for m in &c.migrations {
            assert!(
                c.release(&m.release).is_some(),
                "{}: release {} is not in releases.tsv",
                m.label(),
                m.release
            );
            let done_here = m.job.iter().any(|j| j.to_lowercase().contains("done here in sql"));
            assert_eq!(
                done_here,
                m.has_job(),
                "{}: a job done here in SQL has its statements under `-- phase: job`",
                m.label()
            );
            for s in &m.statements {
                if s.batch.is_some() {
                    assert!(
                        s.sql.contains("$1") && s.sql.contains("$2"),
                        "{}: batch statement without $1/$2",
                        m.label()
                    );
                }
            }
        }
    }

    #[test]
    fn skip_when_directives_belong_to_a_batched_statement_and_give_a_reason() {
        let head = "-- version: 1\n-- name: x\n-- kind: schema\n-- release: 1.7.5\n-- transaction: true\n-- changes-data: true\n\n";
        let parse = |body: &str| parse_migration("1_x.sql", &format!("{head}{body}"));
        let m = parse(
            "-- batch: points.id\n-- skip-when: NOT EXISTS (SELECT 1 FROM countries) -- countries is empty\n-- skip-when: false -- never\nUPDATE points SET x = 1 WHERE id >= $1 AND id < $2;",
        )
        .unwrap();
        let b = m.statements[0].batch.as_ref().unwrap();
        assert_eq!(
            b.skip_when,
            vec![
                SkipWhen {
                    sql: "NOT EXISTS (SELECT 1 FROM countries)".into(),
                    reason: "countries is empty".into()
                },
                SkipWhen {
                    sql: "false".into(),
                    reason: "never".into()
                }
            ]
        );
        let e = parse("-- skip-when: true -- always\nUPDATE points SET x = 1;").unwrap_err();
        assert!(e.problem.contains("without `batch`"), "{e}");
        let e = parse("-- batch: points.id\n-- skip-when: true\nUPDATE points SET x = 1 WHERE id >= $1 AND id < $2;")
            .unwrap_err();
        assert!(e.problem.contains("CONDITION -- REASON"), "{e}");
    }

    #[test]
    fn fuse_directives_mark_the_one_batched_statement_of_a_job() {
        let head = "-- version: 1\n-- name: x\n-- kind: schema\n-- release: 1.7.5\n-- transaction: true\n-- changes-data: true\n-- job: X; done here in SQL\n\n";
        let parse = |body: &str| parse_migration("1_x.sql", &format!("{head}{body}"));
        let batched = "UPDATE points SET x = 1 WHERE id >= $1 AND id < $2;";
        let m = parse(&format!(
            "ALTER TABLE points ADD COLUMN x integer;\n-- phase: job\n-- batch: points.id\n-- fuse: points-rewrite\n{batched}"
        ))
        .unwrap();
        let (index, s, b) = m.fusable_job().unwrap();
        assert_eq!(
            (index, s.sql.as_str(), b.fuse.as_deref()),
            (1, &batched[..batched.len() - 1], Some("points-rewrite"))
        );
        let plain = parse(&format!("-- phase: job\n-- batch: points.id\n{batched}")).unwrap();
        assert!(plain.fusable_job().is_none());
        for (body, problem) in [
            (
                "-- phase: job\n-- fuse: g\nUPDATE points SET x = 1;".to_string(),
                "not batched job work",
            ),
            (
                format!("-- batch: points.id\n-- fuse: g\n{batched}"),
                "not batched job work",
            ),
            (
                format!("-- phase: job\n-- batch: points.id\n-- fuse: g\n{batched}\nUPDATE users SET y = 1;"),
                "the only statement of its job",
            ),
        ] {
            let e = parse(&body).unwrap_err();
            assert!(e.problem.contains(problem), "{body}: {e}");
        }
        // a group needs its combined statement: one statement with the range and the versions
        let member = format!("{head}-- phase: job\n-- batch: points.id\n-- fuse: g\n{batched}");
        let e = Catalog::parse(&[("1_x.sql", &member)], &[], "tag\n1.7.5\n").unwrap_err();
        assert!(
            e.problem.contains("no combined statement (migrations/fused/g.sql)"),
            "{e}"
        );
        for (name, text, problem) in [
            (
                "g.sql",
                format!("-- fuse: g\n\n{batched}\n"),
                "using $1, $2 (the range) and $3",
            ),
            (
                "h.sql",
                "-- fuse: g\n\nSELECT $1, $2, $3;\n".into(),
                "does not match the file name",
            ),
            (
                "g.sql",
                "-- fuse: g\n-- members: 1\n\nSELECT $1, $2, $3;\n".into(),
                "unknown header key `members`",
            ),
        ] {
            let e = Catalog::parse(&[("1_x.sql", &member)], &[(name, &text)], "tag\n1.7.5\n").unwrap_err();
            assert!(e.problem.contains(problem), "{text}: {e}");
        }
        let ok = Catalog::parse(
            &[("1_x.sql", &member)],
            &[("g.sql", "-- fuse: g\n-- note: n\n\nSELECT $1, $2, $3;\n")],
            "tag\n1.7.5\n",
        )
        .unwrap();
        assert_eq!(
            ok.combined("g").map(|f| (f.sql.as_str(), f.notes.clone())),
            Some(("SELECT $1, $2, $3", vec!["n".to_string()]))
        );
    }
}
