//! The plan of an upgrade: what would run, in order, with SQL, row estimates and the blockers that
//! must be fixed first. Read-only.

use std::collections::{BTreeSet, HashMap, HashSet};

use dawarich_doctor_model::{
    Blocker, BlockerId, Change, CheckId, FollowUp, JobOf, MigrationKind, ObjectKind, Plan, PlanStep, StepKind,
};

use crate::applied;
use crate::catalog::{catalog, identifiers, Migration};
use crate::connect::Db;
use crate::diagnose::{diagnose, DiagnoseOptions};
use crate::error::{Error, Result};
use crate::progress::Silent;
use crate::settings::Environment;

/// Builds the plan of an upgrade to `target` (default: the newest release in the catalog) for a
/// Dawarich with environment `env`.
pub async fn plan(db: &Db, target: Option<&str>, env: &Environment) -> Result<Plan> {
    plan_fused(db, target, env, true).await
}

/// [`plan`], with consecutive fusable job work in one step each (`fuse`) or every job on its own.
pub(super) async fn plan_fused(db: &Db, target: Option<&str>, env: &Environment, fuse: bool) -> Result<Plan> {
    let c = catalog();
    let applied = applied::read_applied(db, &db.database).await?;
    let st = applied::describe(&applied, target)?;
    if !st.unknown_newer_versions.is_empty() {
        return Err(Error::UnknownVersions {
            versions: st.unknown_newer_versions.join(", "),
            newest_known: st.newest_known_release,
        });
    }
    let to = target.map(String::from).unwrap_or_else(|| c.newest().tag.clone());
    let settings = env.resolve(&to);
    crate::settings::check(db, &settings).await?;
    let estimates: HashMap<String, i64> = db
        .query("SELECT relname::text, greatest(reltuples, 0)::bigint FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let tables: HashSet<String> = estimates.keys().cloned().collect();
    let mut steps = Vec::new();
    // a step of no migration, of one, or the fused job work of several
    let mut push = |kind: StepKind, ms: &[&Migration], title: String, sql: Vec<String>, notes: Vec<String>| {
        let one = match ms {
            [m] => Some(*m),
            _ => None,
        };
        steps.push(PlanStep {
            step: steps.len(),
            kind,
            version: one.map(|m| m.version.clone()),
            migration_kind: one.map(|m| m.kind),
            title,
            no_transaction: one.is_some_and(|m| !m.transaction),
            changes_data: ms.iter().any(|m| m.changes_data),
            sql,
            tables: touched_tables(ms, &estimates),
            notes,
            fused: if one.is_some() {
                vec![]
            } else {
                ms.iter()
                    .map(|m| JobOf {
                        version: m.version.clone(),
                        migration_kind: m.kind,
                    })
                    .collect()
            },
        });
    };
    // Drift: a recorded migration whose table never got created (e.g. place_visits on installs made
    // from the 0.9.12–0.11.1 schema.rb, #263) is run again, without recording it twice, in version
    // order among the pending schema migrations (what it builds on may be pending itself).
    let mut schema_steps: Vec<(&Migration, bool)> = recorded_but_missing(c, &applied.schema, &tables, &to)
        .into_iter()
        .map(|m| (m, true))
        .collect();
    for v in st_pending(&st, MigrationKind::Schema) {
        schema_steps.push((
            c.get(MigrationKind::Schema, &v)
                .expect("pending versions come from the catalog"),
            false,
        ));
    }
    schema_steps.sort_by(|a, b| a.0.version.cmp(&b.0.version));
    for (m, drift) in schema_steps {
        if drift {
            push(
                StepKind::DriftRepair,
                &[m],
                format!("Re-create what {} should have made (recorded, but missing)", m.label()),
                sql_of(m),
                vec![],
            );
        } else {
            push(
                StepKind::SchemaMigration,
                &[m],
                format!("Schema migration {}", m.label()),
                sql_of(m),
                m.notes.clone(),
            );
        }
    }
    let data_steps: Vec<&Migration> = st_pending(&st, MigrationKind::Data)
        .iter()
        .map(|v| {
            c.get(MigrationKind::Data, v)
                .expect("pending versions come from the catalog")
        })
        .collect();
    for m in &data_steps {
        push(
            StepKind::DataMigration,
            &[m],
            format!("Data migration {}", m.label()),
            sql_of(m),
            m.notes.clone(),
        );
    }
    // Job work, in the order Sidekiq would take it: what an interrupted run queued, then what the
    // pending schema and data migrations enqueue.
    let mut jobs = queued_jobs(db, c).await?;
    let pending_schema = st_pending(&st, MigrationKind::Schema)
        .into_iter()
        .filter_map(|v| c.get(MigrationKind::Schema, &v));
    for m in pending_schema.chain(data_steps.iter().copied()) {
        if m.has_job() && !jobs.iter().any(|j| std::ptr::eq(*j, m)) {
            jobs.push(m);
        }
    }
    let walks = if fuse {
        fuse_jobs(&jobs, &tables)
    } else {
        jobs.iter().map(|m| vec![*m]).collect()
    };
    for ms in walks {
        let mut notes: Vec<String> = ms.iter().flat_map(|m| m.job.clone()).collect();
        let (title, sql) = match ms.as_slice() {
            [m] => (
                format!("Job work of {}", m.label()),
                m.job_statements().map(|(_, s)| s.sql.clone()).collect(),
            ),
            _ => {
                let (_, _, b) = ms[0].fusable_job().expect("fused jobs are fusable");
                let f = c
                    .combined(b.fuse.as_deref().expect("fusable jobs have a group"))
                    .expect("every group has one (checked when parsed)");
                notes.extend(f.notes.iter().cloned());
                let labels: Vec<String> = ms.iter().map(|m| m.label()).collect();
                (
                    format!(
                        "Job work of {}, in one walk over {}.{}",
                        labels.join(" + "),
                        b.table,
                        b.pk
                    ),
                    vec![f.sql.clone()],
                )
            }
        };
        push(StepKind::JobWork, &ms, title, sql, notes);
    }
    push(
        StepKind::DriftRepair,
        &[],
        format!("Verify against {to}; create anything still missing"),
        vec![],
        vec![],
    );
    let follow_ups = st
        .pending_schema
        .iter()
        .map(|v| (MigrationKind::Schema, v))
        .chain(st.pending_data.iter().map(|v| (MigrationKind::Data, v)))
        .filter_map(|(k, v)| c.get(k, v))
        .filter_map(|m| {
            Some(FollowUp {
                version: m.version.clone(),
                runner: m.follow_up.clone()?,
                condition: m.follow_up_when.clone(),
            })
        })
        .fold(Vec::<FollowUp>::new(), |mut all, f| {
            // the same job enqueued by several migrations runs once
            if !all.iter().any(|g| g.runner == f.runner) {
                all.push(f);
            }
            all
        });
    let order: Vec<String> = steps
        .iter()
        .filter(|s| s.kind != StepKind::JobWork)
        .filter_map(|s| s.version.clone())
        .collect();
    let mut blockers = blockers(db, order).await?;
    blockers.extend(unmet_needs(c, &applied.schema, &steps, &to));
    let expected = crate::schema::expected(db, &to).await.ok();
    let extras = match expected {
        Some(e) => {
            let live = crate::schema::live(db).await?;
            crate::schema::diff(&e, &live)
                .into_iter()
                .filter(|d| d.change == Change::Extra && d.object == ObjectKind::Table)
                .map(|d| d.name)
                .collect()
        }
        None => vec![],
    };
    Ok(Plan {
        from_release: st.release,
        to_release: to,
        steps,
        blockers,
        follow_ups,
        extras,
        settings,
    })
}

fn st_pending(st: &dawarich_doctor_model::DawarichState, kind: MigrationKind) -> Vec<String> {
    let mut v = if kind == MigrationKind::Schema {
        st.pending_schema.clone()
    } else {
        st.pending_data.clone()
    };
    v.sort();
    v
}

/// The statements a migration step runs (its job work runs later, in its own step).
fn sql_of(m: &Migration) -> Vec<String> {
    m.own_statements().map(|(_, s)| s.sql.clone()).collect()
}

/// Job work an earlier, interrupted run recorded as enqueued but did not finish, oldest first.
async fn queued_jobs<'a>(db: &Db, c: &'a crate::catalog::Catalog) -> Result<Vec<&'a Migration>> {
    if !db
        .query_one("SELECT to_regclass('dawarich_doctor.job_queue') IS NOT NULL", &[])
        .await?
        .get::<_, bool>(0)
    {
        return Ok(vec![]);
    }
    let rows = db
        .query(
            "SELECT kind, version FROM dawarich_doctor.job_queue ORDER BY enqueued_at, kind DESC, version",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let kind = if r.get::<_, String>(0) == "schema" {
                MigrationKind::Schema
            } else {
                MigrationKind::Data
            };
            c.get(kind, &r.get::<_, String>(1)).filter(|m| m.has_job())
        })
        .collect())
}

/// Recorded schema migrations that create a table which does not exist, is not dropped by a later
/// recorded migration, and is part of the target release.
fn recorded_but_missing<'a>(
    c: &'a crate::catalog::Catalog,
    recorded: &BTreeSet<String>,
    tables: &HashSet<String>,
    target: &str,
) -> Vec<&'a Migration> {
    let target_sql = crate::catalog::schema_sql(target).unwrap_or("");
    c.migrations
        .iter()
        .filter(|m| m.kind == MigrationKind::Schema && recorded.contains(&m.version))
        .filter(|m| {
            created_tables(m).iter().any(|t| {
                !tables.contains(t)
                    && target_sql.contains(&format!("CREATE TABLE \"{t}\""))
                    && !c.migrations.iter().any(|later| {
                        later.kind == MigrationKind::Schema
                            && later.version > m.version
                            && recorded.contains(&later.version)
                            && drops_table(later, t)
                    })
            })
        })
        .collect()
}

fn created_tables(m: &Migration) -> Vec<String> {
    m.statements
        .iter()
        .filter_map(|s| {
            let rest = s.sql.strip_prefix("CREATE TABLE ")?;
            let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
            Some(
                rest.split(|c: char| c.is_whitespace() || c == '(')
                    .next()?
                    .trim_matches('"')
                    .to_string(),
            )
        })
        .collect()
}

fn drops_table(m: &Migration, t: &str) -> bool {
    m.statements.iter().any(|s| {
        s.sql.starts_with("DROP TABLE")
            && s.sql
                .split(|c: char| c.is_whitespace() || c == ',')
                .any(|w| w.trim_matches('"') == t)
    })
}

/// The job phase's walks, in its order: jobs of one `-- fuse:` group on the same table key are one
/// walk when each job between them may run before the walk's first members (see [`commutes`]; it
/// then does); every other job is a walk of its own. The jobs after a walk's last member that may
/// run before it do too (a job that reads the walk's table is quicker before it is rewritten).
fn fuse_jobs<'a>(jobs: &[&'a Migration], tables: &HashSet<String>) -> Vec<Vec<&'a Migration>> {
    let key = |m: &'a Migration| {
        m.fusable_job()
            .map(|(_, _, b)| (b.fuse.as_deref(), b.table.as_str(), b.pk.as_str()))
    };
    let mut walks: Vec<Vec<&Migration>> = Vec::new();
    // the last walk while it may still take members, and the jobs after it that may run before it
    let mut open: Option<usize> = None;
    let mut between: Vec<&Migration> = Vec::new();
    for &m in jobs {
        if let Some(i) = open {
            if key(m).is_some() && key(walks[i][0]) == key(m) {
                let moved = between.len();
                walks.splice(i..i, between.drain(..).map(|j| vec![j]));
                walks[i + moved].push(m);
                open = Some(i + moved);
                continue;
            }
            if key(m).is_none() && commutes(m, &walks[i], tables) {
                between.push(m);
                continue;
            }
            walks.splice(i..i, between.drain(..).map(|j| vec![j]));
        }
        walks.push(vec![m]);
        open = key(m).is_some().then(|| walks.len() - 1);
    }
    if let Some(i) = open {
        walks.splice(i..i, between.drain(..).map(|j| vec![j]));
    }
    walks
}

/// Whether job `m` may run before the walk's members `walk` instead of after them: it writes none of
/// the `tables` they mention, and it mentions none of those they write or reads no column they assign
/// (it may read their table, e.g. to count its rows).
fn commutes(m: &Migration, walk: &[&Migration], tables: &HashSet<String>) -> bool {
    let is_table = |w: &str| tables.contains(w);
    if !written(m, is_table).is_disjoint(&mentioned(walk, is_table)) {
        return false;
    }
    let theirs: BTreeSet<String> = walk.iter().flat_map(|w| written(w, is_table)).collect();
    if mentioned(&[m], is_table).is_disjoint(&theirs) {
        return true;
    }
    let assigned: HashSet<String> = walk
        .iter()
        .filter_map(|w| w.fusable_job())
        .flat_map(|(_, s, _)| s.assigned())
        .collect();
    !assigned.iter().any(|c| may_read(m, c))
}

/// Whether `m`'s SQL may read a column named `column`: it names it anywhere but as the target of its
/// own `SET` (a column of a table it writes, e.g. its own `updated_at`).
fn may_read(m: &Migration, column: &str) -> bool {
    let in_conditions = m
        .statements
        .iter()
        .flat_map(|s| s.batch.iter().flat_map(|b| &b.skip_when))
        .any(|w| identifiers(&w.sql).any(|x| x == column));
    in_conditions
        || m.statements.iter().any(|s| {
            let named = identifiers(&s.sql).filter(|&x| x == column).count();
            named > s.assigned().iter().filter(|&t| t == column).count()
        })
}

/// The SQL of `m`'s statements and of their `skip-when` conditions.
fn texts(m: &Migration) -> impl Iterator<Item = &str> {
    m.statements.iter().flat_map(|s| {
        let conditions = s.batch.iter().flat_map(|b| b.skip_when.iter().map(|w| w.sql.as_str()));
        std::iter::once(s.sql.as_str()).chain(conditions)
    })
}

/// The tables (words for which `is_table` holds) `m`'s statements may write: named in the three words
/// after UPDATE, INTO, TRUNCATE, TABLE or DELETE FROM (room for ONLY or a schema), or first in a
/// `quarantine_*` call.
fn written(m: &Migration, is_table: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in &m.statements {
        let words: Vec<&str> = identifiers(&s.sql).collect();
        for (k, w) in words.iter().enumerate() {
            let delete_from = w.eq_ignore_ascii_case("FROM") && k > 0 && words[k - 1].eq_ignore_ascii_case("DELETE");
            let target = ["UPDATE", "INTO", "TRUNCATE", "TABLE"]
                .iter()
                .any(|kw| w.eq_ignore_ascii_case(kw))
                || delete_from
                || w.starts_with("quarantine_");
            if target {
                out.extend(
                    words[k + 1..]
                        .iter()
                        .take(3)
                        .filter(|t| is_table(t))
                        .map(|t| t.to_string()),
                );
            }
        }
    }
    out
}

/// The tables (words for which `is_table` holds) the migrations' statements and `skip-when`
/// conditions mention.
fn mentioned(ms: &[&Migration], is_table: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let batched = ms.iter().flat_map(|m| &m.statements).filter_map(|s| s.batch.as_ref());
    ms.iter()
        .flat_map(|m| texts(m))
        .flat_map(identifiers)
        .filter(|w| is_table(w))
        .map(String::from)
        .chain(batched.map(|b| b.table.clone()))
        .collect()
}

/// Tables the migrations' SQL mentions, with their estimated rows.
fn touched_tables(ms: &[&Migration], estimates: &HashMap<String, i64>) -> Vec<(String, i64)> {
    mentioned(ms, |w| estimates.contains_key(w))
        .into_iter()
        .map(|t| (t.clone(), estimates.get(&t).copied().unwrap_or(0)))
        .collect()
}

/// Migrations of the plan whose translation uses what a schema migration adds that is neither applied
/// nor part of the plan (a target older than the code the translation follows).
fn unmet_needs(
    c: &crate::catalog::Catalog,
    applied: &BTreeSet<String>,
    steps: &[PlanStep],
    target: &str,
) -> Vec<Blocker> {
    let planned: HashSet<&str> = steps
        .iter()
        .filter(|s| s.kind == StepKind::SchemaMigration)
        .filter_map(|s| s.version.as_deref())
        .collect();
    steps
        .iter()
        .filter_map(|s| match s.kind {
            StepKind::SchemaMigration => c.get(MigrationKind::Schema, s.version.as_deref()?),
            StepKind::DataMigration => c.get(MigrationKind::Data, s.version.as_deref()?),
            _ => None,
        })
        .filter_map(|m| {
            let missing: Vec<&Migration> = m.needs.iter().filter(|v| !applied.contains(*v) && !planned.contains(v.as_str())).filter_map(|v| c.get(MigrationKind::Schema, v)).collect();
            let first = missing.iter().map(|n| n.release.as_str()).max_by_key(|r| c.releases.iter().position(|x| x.tag == *r))?;
            Some(Blocker {
                id: BlockerId::TargetTooOld,
                message: format!(
                    "{} is done here as Dawarich {} runs it, which uses what {} adds (Dawarich {first}); the target {target} does not have it",
                    m.label(),
                    c.newest().tag,
                    missing.iter().map(|n| n.label()).collect::<Vec<_>>().join(", ")
                ),
                fix: format!("Upgrade to {first} or newer (leave out --to for the newest release), or let Dawarich {target}'s own start run this migration."),
                versions: vec![m.version.clone()],
            })
        })
        .collect()
}

/// What must be fixed before anything runs: the lock, and what a pending migration would fail on
/// before another one fixes it (from a read-only diagnosis, in the plan's order).
async fn blockers(db: &Db, order: Vec<String>) -> Result<Vec<Blocker>> {
    let d = diagnose(
        db,
        &DiagnoseOptions {
            run_order: Some(order),
            blockers_only: true,
            ..Default::default()
        },
        &Silent,
    )
    .await?;
    let mut out = Vec::new();
    let others: Vec<_> = d.lock.holders.iter().filter(|h| !h.is_self).collect();
    if !others.is_empty() {
        out.push(Blocker {
            id: BlockerId::LockHeld,
            message: crate::locks::describe_holders(&d.lock),
            fix: "Stop the Dawarich containers (docker compose stop dawarich_app dawarich_sidekiq), or end a stale holder with `dawarich-doctor locks --release PID --yes`.".into(),
            versions: vec![],
        });
    }
    for c in d.checks.into_iter().filter(|c| !c.blocks.is_empty()) {
        out.push(Blocker {
            fix: if c.id == CheckId::Postgis {
                c.detail.clone()
            } else {
                format!(
                    "Run `dawarich-doctor repair --check {}` first (nothing is lost: removed rows are quarantined).",
                    c.id
                )
            },
            id: BlockerId::Check(c.id),
            message: c.detail,
            versions: c.blocks,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    /// A data migration whose job is one statement: batched on `key` in fuse group `group`, batched
    /// without a group, or (`key` empty) a plain statement.
    fn job(version: &str, key: &str, group: Option<&str>, skip_when: bool) -> (String, String) {
        job_on(version, key, group, skip_when, "points")
    }

    fn job_on(version: &str, key: &str, group: Option<&str>, skip_when: bool, table: &str) -> (String, String) {
        job_of(
            version,
            key,
            group,
            skip_when.then_some("NOT EXISTS (SELECT 1 FROM users) -- no user"),
            &format!("UPDATE {table} SET x = 1 WHERE id >= $1 AND id < $2;\n"),
        )
    }

    fn job_of(version: &str, key: &str, group: Option<&str>, skip_when: Option<&str>, sql: &str) -> (String, String) {
        let mut body = String::from("-- phase: job\n");
        if !key.is_empty() {
            body += &format!("-- batch: {key}\n");
        }
        if let Some(g) = group {
            body += &format!("-- fuse: {g}\n");
        }
        if let Some(c) = skip_when {
            body += &format!("-- skip-when: {c}\n");
        }
        body += sql;
        (
            format!("{version}_job_{version}.sql"),
            format!("-- version: {version}\n-- name: job_{version}\n-- kind: data\n-- release: 1.7.5\n-- transaction: true\n-- changes-data: true\n-- job: J; done here in SQL\n\n{body}"),
        )
    }

    #[test]
    fn jobs_of_one_group_on_one_key_are_one_walk_unless_what_runs_between_touches_their_tables() {
        let files = [
            job("1", "points.id", Some("rewrite"), false),
            job("2", "points.id", Some("rewrite"), true),
            job("3", "points.id", Some("rewrite"), false),
            job("4", "points.id", None, false),
            job("5", "", None, false),
            job("6", "visits.id", Some("rewrite"), false),
            job("7", "points.id", Some("other"), false),
            job_on("8", "", None, false, "users"),
            job_on("9", "imports.id", None, true, "imports"),
            job("10", "points.id", Some("rewrite"), false),
            job_of(
                "11",
                "",
                None,
                None,
                "UPDATE users SET y = (SELECT count(*) FROM points WHERE points.user_id = users.id);\n",
            ),
            job_of(
                "12",
                "",
                None,
                None,
                "UPDATE users SET y = (SELECT max(x) FROM points);\n",
            ),
            job_of(
                "13",
                "",
                None,
                None,
                "SELECT dawarich_doctor.quarantine_delete('points', $$user_id IS NULL$$, 'no user');\n",
            ),
            job_of(
                "14",
                "",
                None,
                None,
                "DO $$\nBEGIN\n  EXECUTE 'DELETE FROM ONLY public.points WHERE user_id IS NULL';\nEND\n$$;\n",
            ),
            job_of(
                "15",
                "users.id",
                None,
                Some("NOT EXISTS (SELECT 1 FROM points WHERE x IS NULL) -- every point has x"),
                "UPDATE users SET y = (SELECT count(*) FROM points WHERE points.user_id = users.id) WHERE id >= $1 AND id < $2;\n",
            ),
            job_of(
                "16",
                "",
                None,
                None,
                "UPDATE users SET x = (SELECT count(*) FROM points WHERE points.user_id = users.id);\n",
            ),
            job_of("17", "", None, None, "UPDATE users SET x = x + 1 WHERE EXISTS (SELECT 1 FROM points);\n"),
        ];
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let combined = |g: &str| format!("-- fuse: {g}\nSELECT $1::bigint, $2::bigint, $3::text[];\n");
        let (rewrite, other) = (combined("rewrite"), combined("other"));
        let fused = [("rewrite.sql", rewrite.as_str()), ("other.sql", other.as_str())];
        let c = Catalog::parse(&refs, &fused, "tag\tdate\n1.7.5\t\n").unwrap();
        let walks = |versions: &[&str]| -> Vec<Vec<String>> {
            let jobs: Vec<&Migration> = versions
                .iter()
                .map(|v| c.get(MigrationKind::Data, v).unwrap())
                .collect();
            let tables = ["points", "users", "visits", "imports"].map(String::from).into();
            fuse_jobs(&jobs, &tables)
                .iter()
                .map(|w| w.iter().map(|m| m.version.clone()).collect())
                .collect()
        };
        // a member with a skip-when fuses too: whether it walks is decided when the step runs
        assert_eq!(walks(&["1", "2", "3"]), [["1", "2", "3"]]);
        assert_eq!(walks(&["3", "1"]), [["3", "1"]], "the job phase's order is kept");
        for between in ["4", "5", "6", "7"] {
            assert_eq!(
                walks(&["1", between, "2"]),
                [["1"], [between], ["2"]],
                "{between} runs between them: nothing fuses across it"
            );
        }
        assert_eq!(walks(&["1", "6"]), [["1"], ["6"]], "another table");
        assert_eq!(walks(&["1", "7"]), [["1"], ["7"]], "another group");
        assert_eq!(walks(&["4", "4"]), [["4"], ["4"]], "batched without a group");
        // a job on another table runs before the walk, whether a member follows it or not
        assert_eq!(walks(&["1", "8", "2"]), [vec!["8"], vec!["1", "2"]]);
        assert_eq!(
            walks(&["1", "3", "8", "10", "8"]),
            [vec!["8"], vec!["8"], vec!["1", "3", "10"]]
        );
        assert_eq!(walks(&["1", "8", "4"]), [["8"], ["1"], ["4"]]);
        assert_eq!(walks(&["1", "8", "5", "2"]), [["8"], ["1"], ["5"], ["2"]]);
        assert_eq!(walks(&["1", "8", "7"]), [["8"], ["1"], ["7"]], "another group");
        assert_eq!(walks(&["4", "8"]), [["4"], ["8"]], "no walk of a group before it");
        assert_eq!(
            walks(&["2", "8", "3"]),
            [["2"], ["8"], ["3"]],
            "2's skip-when reads users, which 8 writes"
        );
        assert_eq!(walks(&["1", "9", "3"]), [vec!["9"], vec!["1", "3"]]);
        assert_eq!(
            walks(&["2", "3", "5", "1", "2"]),
            [vec!["2", "3"], vec!["5"], vec!["1", "2"]]
        );
        // a job that reads the walk's table but no column its members assign runs before the walk
        assert_eq!(walks(&["1", "11", "2"]), [vec!["11"], vec!["1", "2"]]);
        assert_eq!(
            walks(&["1", "12", "2"]),
            [["1"], ["12"], ["2"]],
            "12 reads x, which 1 assigns"
        );
        assert_eq!(
            walks(&["1", "15", "2"]),
            [["1"], ["15"], ["2"]],
            "15's skip-when reads x, which 1 assigns"
        );
        assert_eq!(
            walks(&["1", "16", "2"]),
            [vec!["16"], vec!["1", "2"]],
            "16 assigns a column of users named x, and reads none"
        );
        assert_eq!(
            walks(&["1", "17", "2"]),
            [["1"], ["17"], ["2"]],
            "17 reads a column named x"
        );
        for writes in ["13", "14"] {
            assert_eq!(
                walks(&["1", writes, "2"]),
                [["1"], [writes], ["2"]],
                "{writes} deletes points"
            );
        }
    }

    #[test]
    fn from_0_11_1_the_jobs_that_read_no_point_the_walk_rewrites_run_before_it() {
        let c = catalog();
        // the job phase of a 0.11.1 → newest run: the schema migrations' jobs, then the data ones'
        let jobs: Vec<&Migration> = [MigrationKind::Schema, MigrationKind::Data]
            .iter()
            .flat_map(|&k| c.migrations.iter().filter(move |m| m.kind == k && m.has_job()))
            .collect();
        let tables = ["points", "users", "imports", "places", "visits", "countries"]
            .map(String::from)
            .into();
        let walks: Vec<Vec<&str>> = fuse_jobs(&jobs, &tables)
            .iter()
            .map(|w| w.iter().map(|m| m.version.as_str()).collect())
            .collect();
        let at = |v: &str| walks.iter().position(|w| w.contains(&v)).unwrap();
        let walk = at("20250222213848");
        assert_eq!(walks[walk].len(), 5, "{walks:?}");
        // the places' lonlat (a column of places named as one the walk writes) and the imports'
        // points counts (reads points, writes its own updated_at) run before the walk; the country
        // ids (reads lonlat of points) after it
        for before in ["20250303194123", "20250403204658"] {
            assert!(at(before) < walk, "{before}: {walks:?}");
        }
        assert!(at("20250516180933") > walk, "{walks:?}");
    }
}
