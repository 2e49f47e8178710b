//! Repairs of the data that makes Dawarich's migrations fail, with nothing lost: every removed row is
//! first copied into `dawarich_doctor.quarantine_<table>` and every updated row's old values into
//! `dawarich_doctor.repair_undo`, tagged with the run id, so `undo` restores them. Work runs in
//! primary-key ranges, one short transaction each, resumable and cancellable between ranges.

use std::time::Instant;

use dawarich_doctor_model::{
    CheckId, ProgressEvent, RepairOutcome, RepairPreview, RuleCount, StrategyId, StrategyPreview, UndoRow,
};

use crate::audit::{install_support, new_run_id, Audit};
use crate::batch::{self, walk, Ranges};
use crate::connect::{connect, ConnectOptions, Db};
use crate::diagnose::DupSpec;
use crate::error::{Error, Result};
use crate::problems::problem;
use crate::progress::{Cancel, Progress};
use crate::schema::quote_ident;
use crate::unique::{self, Duplicates, Keep};

/// One step of a strategy over one table.
#[derive(Debug, Clone)]
enum Action {
    /// `UPDATE table p SET <set>` for rows matching the condition; old values of `cols` are kept.
    Update { set: String, cols: Vec<&'static str> },
    /// Move matching rows into quarantine.
    Quarantine { reason: String },
}

#[derive(Debug, Clone)]
struct Rule {
    name: &'static str,
    description: String,
    table: &'static str,
    /// SQL condition on alias `p`; later rules see only rows earlier rules did not change.
    condition: String,
    action: Action,
}

#[derive(Debug, Clone)]
struct Strategy {
    name: StrategyId,
    description: &'static str,
    needs_user: bool,
    rules: Vec<Rule>,
}

/// What can be repaired, with the chosen user for `assign`.
struct Plan {
    title: String,
    table: &'static str,
    /// The rows the check finds (alias `p`).
    condition: String,
    strategies: Vec<Strategy>,
}

async fn has(db: &Db, table: &str, col: &str) -> Result<bool> {
    Ok(db
        .query_one("SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)", &[&table, &col])
        .await?
        .get(0))
}

/// `u.deleted_at IS NULL` where users can be soft-deleted, else true.
async fn live(db: &Db) -> Result<&'static str> {
    Ok(if has(db, "users", "deleted_at").await? {
        "u.deleted_at IS NULL"
    } else {
        "true"
    })
}

fn ids(v: &[i64]) -> String {
    format!(
        "'{{{}}}'::bigint[]",
        v.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    )
}

async fn owner_plan(db: &Db, check: CheckId, user: Option<i64>, strategy: Option<StrategyId>) -> Result<Plan> {
    let live = live(db).await?;
    let condition = match problem(check).condition {
        Some(c) => c.to_string(),
        None => {
            let sql = if check == CheckId::PointsUserMissing {
                "SELECT DISTINCT p.user_id FROM points p WHERE p.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = p.user_id)"
            } else {
                "SELECT id FROM users WHERE deleted_at IS NOT NULL"
            };
            if check == CheckId::PointsUserSoftDeleted && !has(db, "users", "deleted_at").await? {
                return Err(Error::Refused(
                    "this release has no soft-deleted users (users.deleted_at)".into(),
                ));
            }
            let bad: Vec<i64> = db.query(sql, &[]).await?.iter().map(|r| r.get(0)).collect();
            format!("p.user_id = ANY({})", ids(&bad))
        }
    };
    let mut infer = Vec::new();
    // The inference maps cost a scan of points: built only when `infer` is previewed or run.
    let want_infer = strategy.is_none_or(|s| s == StrategyId::Infer);
    if want_infer && has(db, "points", "import_id").await? {
        let owner = format!(
            "(SELECT i.user_id FROM imports i JOIN users u ON u.id = i.user_id WHERE i.id = p.import_id AND {live})"
        );
        infer.push(Rule {
            name: "import",
            description: "the point's import belongs to a user".into(),
            table: "points",
            condition: format!("{owner} IS NOT NULL"),
            action: Action::Update {
                set: format!("user_id = {owner}"),
                cols: vec!["user_id"],
            },
        });
    }
    for (name, col) in [("owntracks-topic", "topic"), ("owntracks-tracker-id", "tracker_id")] {
        if want_infer && has(db, "points", col).await? {
            let map = format!("dawarich_doctor_owner_by_{col}");
            db.batch_execute(&format!(
                "CREATE TEMP TABLE IF NOT EXISTS {map} AS
                 SELECT p.{col} AS key, min(p.user_id) AS user_id FROM points p JOIN users u ON u.id = p.user_id AND {live}
                 WHERE p.{col} IS NOT NULL AND p.{col} <> '' GROUP BY p.{col} HAVING count(DISTINCT p.user_id) = 1"
            ))
            .await?;
            let owner = format!("(SELECT m.user_id FROM {map} m WHERE m.key = p.{col})");
            infer.push(Rule {
                name,
                description: format!("the same OwnTracks {col} is used by exactly one user's other points"),
                table: "points",
                condition: format!("{owner} IS NOT NULL"),
                action: Action::Update {
                    set: format!("user_id = {owner}"),
                    cols: vec!["user_id"],
                },
            });
        }
    }
    let live_users: Vec<i64> = db
        .query(
            &format!("SELECT u.id FROM users u WHERE {live} ORDER BY u.id LIMIT 2"),
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if live_users.len() == 1 {
        infer.push(Rule {
            name: "only-user",
            description: format!("user {} is the only user of this instance", live_users[0]),
            table: "points",
            condition: "true".into(),
            action: Action::Update {
                set: format!("user_id = {}", live_users[0]),
                cols: vec!["user_id"],
            },
        });
    }
    let assign = match user {
        Some(uid) => {
            let ok: bool = db
                .query_one(
                    &format!("SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND {live})"),
                    &[&uid],
                )
                .await?
                .get(0);
            if !ok {
                return Err(Error::Refused(format!(
                    "user {uid} does not exist or is soft-deleted: choose a live user id"
                )));
            }
            vec![Rule {
                name: "assign",
                description: format!("assigned to user {uid}"),
                table: "points",
                condition: "true".into(),
                action: Action::Update {
                    set: format!("user_id = {uid}"),
                    cols: vec!["user_id"],
                },
            }]
        }
        None => vec![],
    };
    Ok(Plan {
        title: problem(check).title.into(),
        table: "points",
        condition,
        strategies: vec![
            Strategy { name: StrategyId::Infer, description: "give each point the owner its data names (import, OwnTracks topic or tracker id, the only user); the rest stay as they are", needs_user: false, rules: infer },
            Strategy { name: StrategyId::Assign, description: "assign every remaining point to the user given with --user", needs_user: true, rules: assign },
            Strategy {
                name: StrategyId::Quarantine,
                description: "move the points into quarantine (restorable with undo)",
                needs_user: false,
                rules: vec![Rule { name: "quarantine", description: "moved to dawarich_doctor.quarantine_points".into(), table: "points", condition: "true".into(), action: Action::Quarantine { reason: format!("{check}: no live owner") } }],
            },
        ],
    })
}

fn lonlat_of(p: &str) -> String {
    format!("ST_SetSRID(ST_MakePoint({p}.longitude, {p}.latitude), 4326)::geography")
}

fn lonlat_plan(check: CheckId) -> Plan {
    let base = problem(CheckId::PointsLonlatMissing)
        .condition
        .expect("a condition")
        .to_string();
    let collides = format!(
        "(EXISTS (SELECT 1 FROM points q WHERE q.user_id = p.user_id AND q.timestamp = p.timestamp AND q.lonlat = {l})
          OR EXISTS (SELECT 1 FROM points q WHERE q.user_id = p.user_id AND q.timestamp = p.timestamp AND q.id < p.id AND q.lonlat IS NULL
                     AND q.latitude = p.latitude AND q.longitude = p.longitude))",
        l = lonlat_of("p")
    );
    let quarantine = Rule {
        name: "collision",
        description: "another point of the same user, time and place already has (or will get) this lonlat".into(),
        table: "points",
        condition: collides,
        action: Action::Quarantine {
            reason: "would duplicate (lonlat, timestamp, user_id) when lonlat is filled".into(),
        },
    };
    let fill = Rule {
        name: "backfill",
        description: "lonlat set from latitude/longitude".into(),
        table: "points",
        condition: "true".into(),
        action: Action::Update {
            set: format!("lonlat = {}", lonlat_of("p")),
            cols: vec!["lonlat"],
        },
    };
    let strategies = if check == CheckId::PointsLonlatConflict {
        vec![Strategy {
            name: StrategyId::Quarantine,
            description: "quarantine the colliding twins so the lonlat backfill can run",
            needs_user: false,
            rules: vec![quarantine],
        }]
    } else {
        vec![Strategy {
            name: StrategyId::Backfill,
            description: "fill lonlat from latitude/longitude, quarantining colliding twins first",
            needs_user: false,
            rules: vec![quarantine, fill],
        }]
    };
    Plan {
        title: problem(check).title.into(),
        table: "points",
        condition: base,
        strategies,
    }
}

fn duplicate_plan(spec: &DupSpec) -> Plan {
    let keep_highest = spec.keep_highest;
    let table = spec.table();
    Plan {
        title: problem(spec.id).title.into(),
        table,
        condition: spec.excess_condition(),
        strategies: vec![Strategy {
            name: StrategyId::Quarantine,
            description: if keep_highest {
                "keep the newest row of each group (as Dawarich does), quarantine the others"
            } else {
                "keep the oldest row of each group (as Dawarich does), quarantine the others"
            },
            needs_user: false,
            rules: vec![Rule {
                name: "quarantine",
                description: format!("moved to dawarich_doctor.quarantine_{table}"),
                table,
                condition: "true".into(),
                action: Action::Quarantine {
                    reason: format!("duplicate on ({}) before {}", spec.columns.join(", "), spec.index),
                },
            }],
        }],
    }
}

fn settings_plan() -> Plan {
    let p = problem(CheckId::UsersNullSettings);
    Plan {
        title: p.title.into(),
        table: p.table,
        condition: p.condition.expect("a condition").into(),
        strategies: vec![Strategy {
            name: StrategyId::Default,
            description: "set settings to an empty object, which Dawarich's own SQL reads NULL as (COALESCE(settings, '{}')); its migrations then add their keys",
            needs_user: false,
            rules: vec![Rule {
                name: "default",
                description: "settings = '{}'".into(),
                table: "users",
                condition: "true".into(),
                action: Action::Update { set: "settings = '{}'::jsonb".into(), cols: vec!["settings"] },
            }],
        }],
    }
}

/// What `repair` can do for `check`, with the chosen user for `assign`.
async fn plan_for(db: &Db, check: CheckId, user: Option<i64>, strategy: Option<StrategyId>) -> Result<Plan> {
    match check {
        CheckId::PointsWithoutUser | CheckId::PointsUserMissing | CheckId::PointsUserSoftDeleted => {
            owner_plan(db, check, user, strategy).await
        }
        CheckId::PointsLonlatMissing | CheckId::PointsLonlatConflict => Ok(lonlat_plan(check)),
        CheckId::UsersNullSettings => Ok(settings_plan()),
        CheckId::DuplicatePointsLatlon
        | CheckId::DuplicatePointsLonlat
        | CheckId::DuplicateStats
        | CheckId::DuplicatePlaceVisits
        | CheckId::DuplicateRawDataArchives => Ok(duplicate_plan(
            &DupSpec::for_database(db, check)
                .await?
                .expect("every duplicate check has its index"),
        )),
        CheckId::InvalidIndexes
        | CheckId::IndexesSetAside
        | CheckId::PointsWithoutTimestamp
        | CheckId::BlockingSessions
        | CheckId::Postgis => Err(Error::Refused(format!(
            "{} has no repair of its rows; repairable checks: {}",
            check,
            crate::problems::repairable()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The batched statement for one rule (`$1`/`$2` the id range, `$3` the run id).
fn statement(plan: &Plan, rule: &Rule) -> String {
    let t = rule.table;
    let cond = format!(
        "p.id >= $1 AND p.id < $2 AND ({}) AND ({})",
        plan.condition, rule.condition
    );
    match &rule.action {
        Action::Update { set, cols } => {
            let old_cols = cols.iter().map(|c| format!("p.\"{c}\"")).collect::<Vec<_>>().join(", ");
            let old_json = cols.iter().map(|c| format!("'{c}', old.\"{c}\"")).collect::<Vec<_>>().join(", ");
            format!(
                "WITH upd AS (UPDATE \"{t}\" p SET {set} FROM (SELECT p.id, {old_cols} FROM \"{t}\" p WHERE {cond}) old
                              WHERE p.id = old.id RETURNING p.id, jsonb_build_object({old_json}) AS o)
                 , ins AS (INSERT INTO dawarich_doctor.repair_undo (run_id, table_name, row_ids, old)
                           SELECT $3, '{t}', array_agg(id), o FROM upd GROUP BY o RETURNING cardinality(row_ids) AS n)
                 SELECT coalesce(sum(n), 0)::bigint FROM ins"
            )
        }
        Action::Quarantine { reason } => format!(
            "SELECT dawarich_doctor.quarantine_delete('\"{t}\"', format('id IN (SELECT p.id FROM \"{t}\" p WHERE p.id >= %s AND p.id < %s AND (%s))', $1::bigint, $2::bigint, $cond$({}) AND ({})$cond$::text), '{}')",
            plan.condition,
            rule.condition,
            reason.replace('\'', "''")
        ),
    }
}

/// Counts, per strategy, how many rows each rule would resolve (rules in order). Read-only.
pub async fn preview(db: &Db, check: CheckId) -> Result<RepairPreview> {
    if check == CheckId::InvalidIndexes {
        let invalid = unique::invalid(db).await?;
        let mut duplicates = 0;
        for d in invalid.iter().filter(|i| i.unique).filter_map(Duplicates::of) {
            duplicates += d.count(db).await?;
        }
        let names: Vec<String> = invalid.iter().map(|i| i.name.clone()).collect();
        return Ok(RepairPreview {
            check,
            title: problem(check).title.into(),
            count: names.len() as i64,
            sample: names.clone(),
            strategies: vec![StrategyPreview {
                name: StrategyId::Rebuild,
                description: "drop each INVALID index and build it again (concurrently); rows a unique one fails on are moved to quarantine first".into(),
                needs_user: false,
                rules: vec![
                    RuleCount {
                        rule: "duplicates".into(),
                        description: "duplicate rows under a unique index quarantined (the newest of each group stays)".into(),
                        count: duplicates,
                    },
                    RuleCount {
                        rule: "rebuild".into(),
                        description: "indexes rebuilt".into(),
                        count: names.len() as i64,
                    },
                ],
                sql: names
                    .iter()
                    .map(|n| {
                        format!(
                            "DROP INDEX CONCURRENTLY {}; CREATE INDEX CONCURRENTLY …",
                            quote_ident(n)
                        )
                    })
                    .collect(),
            }],
        });
    }
    let plan = plan_for(db, check, None, None).await?;
    let t = plan.table;
    let count: i64 = db
        .query_one(&format!("SELECT count(*) FROM \"{t}\" p WHERE {}", plan.condition), &[])
        .await?
        .get(0);
    let sample = db
        .query(
            &format!(
                "SELECT p.id FROM \"{t}\" p WHERE {} ORDER BY p.id LIMIT 5",
                plan.condition
            ),
            &[],
        )
        .await?
        .iter()
        .map(|r| format!("{t} id {}", r.get::<_, i64>(0)))
        .collect();
    let mut strategies = Vec::new();
    for s in &plan.strategies {
        let mut rules = Vec::new();
        let mut earlier = Vec::<String>::new();
        for r in &s.rules {
            let not_earlier = if earlier.is_empty() {
                "true".into()
            } else {
                format!("NOT ({})", earlier.join(" OR "))
            };
            let n: i64 = db
                .query_one(
                    &format!(
                        "SELECT count(*) FROM \"{t}\" p WHERE ({}) AND {not_earlier} AND ({})",
                        plan.condition, r.condition
                    ),
                    &[],
                )
                .await?
                .get(0);
            rules.push(RuleCount {
                rule: r.name.into(),
                description: r.description.clone(),
                count: n,
            });
            earlier.push(format!("({})", r.condition));
        }
        let remaining = if s.name == StrategyId::Infer {
            count - rules.iter().map(|r| r.count).sum::<i64>()
        } else {
            0
        };
        if s.name == StrategyId::Infer {
            rules.push(RuleCount {
                rule: "unresolved".into(),
                description: "no rule names an owner: assign them to a user, or quarantine them".into(),
                count: remaining,
            });
        }
        strategies.push(StrategyPreview {
            name: s.name,
            description: s.description.into(),
            needs_user: s.needs_user,
            rules,
            sql: s.rules.iter().map(|r| statement(&plan, r)).collect(),
        });
    }
    Ok(RepairPreview {
        check,
        title: plan.title,
        count,
        sample,
        strategies,
    })
}

/// How a repair runs.
#[derive(Debug, Clone)]
pub struct RepairOptions {
    pub check: CheckId,
    pub strategy: StrategyId,
    /// For `assign`.
    pub user: Option<i64>,
    /// Rows per range (one transaction each).
    pub batch_size: i64,
    pub audit_file: Option<std::path::PathBuf>,
}

/// Runs one strategy for one check.
pub async fn repair(
    conn: &ConnectOptions,
    opts: &RepairOptions,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<RepairOutcome> {
    let started = Instant::now();
    let db = connect(conn).await?;
    install_support(&db).await?;
    let run_id = new_run_id();
    let audit = Audit::new(run_id.clone(), opts.audit_file.clone());
    db.execute("SELECT set_config('dawarich_doctor.run_id', $1, false)", &[&run_id])
        .await?;
    if opts.check == CheckId::InvalidIndexes {
        let (n, quarantined) = rebuild_invalid_indexes(&db, &audit).await?;
        return Ok(RepairOutcome {
            run_id,
            check: opts.check,
            strategy: StrategyId::Rebuild,
            rules: vec![
                RuleCount {
                    rule: "duplicates".into(),
                    description: "duplicate rows under a unique index quarantined".into(),
                    count: quarantined as i64,
                },
                RuleCount {
                    rule: "rebuild".into(),
                    description: "indexes rebuilt".into(),
                    count: n,
                },
            ],
            quarantined: quarantined as i64,
            longest_transaction_ms: 0,
            elapsed_ms: started.elapsed().as_millis() as u64,
        });
    }
    let plan = plan_for(&db, opts.check, opts.user, Some(opts.strategy)).await?;
    let strategy = plan
        .strategies
        .iter()
        .find(|s| s.name == opts.strategy)
        .ok_or_else(|| {
            Error::Refused(format!(
                "unknown strategy {:?} for {}; choose one of: {}",
                opts.strategy,
                opts.check,
                plan.strategies
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    if strategy.needs_user && opts.user.is_none() {
        return Err(Error::Refused(format!(
            "strategy {} needs --user ID (a live user to own the rows)",
            strategy.name
        )));
    }
    let mut rules = Vec::new();
    let mut longest = std::time::Duration::ZERO;
    let mut quarantined = 0;
    for (i, rule) in strategy.rules.iter().enumerate() {
        progress.emit(ProgressEvent::StepStarted {
            step: i,
            title: format!("{}: {}", rule.name, rule.description),
        });
        let sql = statement(&plan, rule);
        let stmt = db
            .prepare_typed(
                &sql,
                &[
                    tokio_postgres::types::Type::INT8,
                    tokio_postgres::types::Type::INT8,
                    tokio_postgres::types::Type::TEXT,
                ][..if matches!(rule.action, Action::Update { .. }) {
                    3
                } else {
                    2
                }],
            )
            .await?;
        let t = Instant::now();
        let label = format!("repair {} ({})", opts.check, rule.name);
        let ranges = Ranges {
            table: rule.table,
            pk: "id",
            size: opts.batch_size,
            done: Default::default(),
            step: i,
            label: &label,
            lanes: 1,
        };
        let walked = walk(&db, &ranges, progress, cancel, |batch::Range { lo, hi, .. }| {
            let stmt = stmt.clone();
            let run_id = run_id.clone();
            let is_update = matches!(rule.action, Action::Update { .. });
            let db = &db;
            async move {
                Ok(if is_update {
                    db.query_one(&stmt, &[&lo, &hi, &run_id]).await?.get::<_, i64>(0) as u64
                } else {
                    db.query_one(&stmt, &[&lo, &hi]).await?.get::<_, i64>(0) as u64
                })
            }
        })
        .await;
        let walked = match walked {
            Ok(w) => w,
            Err(e) => {
                let _ = audit
                    .record(
                        &db,
                        "repair",
                        &sql,
                        None,
                        t.elapsed(),
                        if matches!(e, Error::Cancelled(_)) {
                            "cancelled"
                        } else {
                            "failed"
                        },
                    )
                    .await;
                return Err(e);
            }
        };
        audit
            .record(
                &db,
                "repair",
                &format!(
                    "-- {label}, batched by {}.id in ranges of {}\n{sql}",
                    rule.table, opts.batch_size
                ),
                Some(walked.rows),
                t.elapsed(),
                "ok",
            )
            .await?;
        progress.emit(ProgressEvent::StepFinished {
            step: i,
            elapsed_ms: t.elapsed().as_millis() as u64,
            rows: Some(walked.rows),
        });
        longest = longest.max(walked.longest);
        if matches!(rule.action, Action::Quarantine { .. }) {
            quarantined += walked.rows as i64;
        }
        rules.push(RuleCount {
            rule: rule.name.into(),
            description: rule.description.clone(),
            count: walked.rows as i64,
        });
    }
    progress.emit(ProgressEvent::Done {
        ok: true,
        message: format!("repair {} finished (run {run_id})", opts.check),
    });
    Ok(RepairOutcome {
        run_id,
        check: opts.check,
        strategy: strategy.name,
        rules,
        quarantined,
        longest_transaction_ms: longest.as_millis() as u64,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// Drops and rebuilds every INVALID index, concurrently (so writers are not blocked); the rows a
/// unique one would fail on go to quarantine first, the newest of each group staying. Returns the
/// indexes rebuilt and the rows quarantined.
async fn rebuild_invalid_indexes(db: &Db, audit: &Audit) -> Result<(i64, u64)> {
    let invalid = unique::invalid(db).await?;
    let mut quarantined = 0;
    for i in &invalid {
        if let Some(d) = Some(i).filter(|i| i.unique).and_then(Duplicates::of) {
            quarantined += d.quarantine(db, audit, Keep::Highest, Some(&i.name)).await?;
        }
        let create = i.definition.replacen("INDEX ", "INDEX CONCURRENTLY ", 1);
        for sql in [
            format!("DROP INDEX CONCURRENTLY IF EXISTS {}", quote_ident(&i.name)),
            create,
        ] {
            let t = Instant::now();
            if let Err(e) = db.batch_execute(&sql).await {
                let _ = audit.record(db, "repair", &sql, None, t.elapsed(), "failed").await;
                return Err(e.into());
            }
            audit.record(db, "repair", &sql, None, t.elapsed(), "ok").await?;
        }
    }
    Ok((invalid.len() as i64, quarantined))
}

/// Puts back what run `run_id` changed: reverts its updates, re-inserts its quarantined rows.
pub async fn undo(conn: &ConnectOptions, run_id: &str, audit_file: Option<std::path::PathBuf>) -> Result<Vec<UndoRow>> {
    let db = connect(conn).await?;
    install_support(&db).await?;
    let audit = Audit::new(run_id.to_string(), audit_file);
    let t = Instant::now();
    let sql = "SELECT table_name, reverted, restored, skipped FROM dawarich_doctor.undo_run($1)";
    let rows: Vec<UndoRow> = db
        .query(sql, &[&run_id])
        .await?
        .iter()
        .map(|r| UndoRow {
            table: r.get(0),
            reverted: r.get(1),
            restored: r.get(2),
            skipped: r.get(3),
        })
        .collect();
    let n: i64 = rows.iter().map(|r| r.reverted + r.restored).sum();
    audit
        .record(
            &db,
            "undo",
            &sql.replace("$1", &format!("'{run_id}'")),
            Some(n as u64),
            t.elapsed(),
            "ok",
        )
        .await?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(action: Action) -> (Plan, Rule) {
        let rule = Rule {
            name: "r",
            description: String::new(),
            table: "points",
            condition: "p.topic = 'a'".into(),
            action,
        };
        (
            Plan {
                title: String::new(),
                table: "points",
                condition: "p.user_id IS NULL".into(),
                strategies: vec![],
            },
            rule,
        )
    }

    #[test]
    fn an_update_keeps_the_old_values_of_its_range_for_undo() {
        let (p, r) = plan(Action::Update {
            set: "user_id = 7".into(),
            cols: vec!["user_id"],
        });
        let sql = statement(&p, &r);
        assert!(sql.contains("UPDATE \"points\" p SET user_id = 7"), "{sql}");
        assert!(
            sql.contains("p.id >= $1 AND p.id < $2 AND (p.user_id IS NULL) AND (p.topic = 'a')"),
            "{sql}"
        );
        assert!(
            sql.contains("INSERT INTO dawarich_doctor.repair_undo")
                && sql.contains("jsonb_build_object('user_id', old.\"user_id\")"),
            "{sql}"
        );
    }

    #[test]
    fn a_quarantine_passes_its_range_condition_and_escapes_the_reason() {
        let (p, r) = plan(Action::Quarantine {
            reason: "it's a twin".into(),
        });
        let sql = statement(&p, &r);
        assert!(
            sql.starts_with("SELECT dawarich_doctor.quarantine_delete('\"points\"'"),
            "{sql}"
        );
        assert!(
            sql.contains("$cond$(p.user_id IS NULL) AND (p.topic = 'a')$cond$"),
            "{sql}"
        );
        assert!(sql.ends_with("'it''s a twin')"), "{sql}");
    }
}
