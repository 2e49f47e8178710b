//! One read-only pass over a Dawarich database: server, bookkeeping, the migration lock and every
//! known blocker of Dawarich's migrations. Nothing here writes; every count uses indexes or runs in
//! primary-key ranges with progress, and no rows are loaded into the app beyond a short sample.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use dawarich_doctor_model::{
    Check, CheckId, CheckStatus, Diagnosis, Effect as EffectKind, MigrationEffect, Privileges, ProgressEvent,
    ServerInfo,
};
use tokio_postgres::Client;

use crate::applied;
use crate::connect::Db;
use crate::error::Result;
use crate::locks;
use crate::problems::{problem, Effect, Problem};
use crate::progress::Progress;

/// How thorough the pass is.
#[derive(Debug, Clone)]
pub struct DiagnoseOptions {
    /// Skip checks that must scan a whole table (they are reported as `skipped`).
    pub quick: bool,
    /// A lock holder idle for this long is `stale`.
    pub stale_after_secs: f64,
    /// Sessions idle in transaction (or running) for this long are reported as blocking DDL.
    pub long_session_secs: f64,
    /// The versions an upgrade will run, in its order (default: what Dawarich's entrypoint runs now
    /// for the newest release); what blocks is judged against it.
    pub run_order: Option<Vec<String>>,
    /// Only the checks that can block the run (a version of it fails on their problem); the others
    /// are reported as skipped without reading anything (an upgrade's plan: a whole-table check that
    /// cannot block took half a minute at 10 M points).
    pub blockers_only: bool,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        DiagnoseOptions {
            quick: false,
            stale_after_secs: locks::STALE_AFTER_SECS,
            long_session_secs: 300.0,
            run_order: None,
            blockers_only: false,
        }
    }
}

/// Runs the diagnosis. Fails only when the database cannot be read or is not Dawarich's.
pub async fn diagnose(db: &Db, opts: &DiagnoseOptions, progress: &dyn Progress) -> Result<Diagnosis> {
    // Every statement of the pass runs read-only: a write would fail instead of happening.
    db.client
        .batch_execute("SET SESSION default_transaction_read_only = on")
        .await?;
    let result = diagnose_read_only(db, opts, progress).await;
    db.client.batch_execute("RESET default_transaction_read_only").await?;
    result
}

async fn diagnose_read_only(db: &Db, opts: &DiagnoseOptions, progress: &dyn Progress) -> Result<Diagnosis> {
    let started = Instant::now();
    let client = &db.client;
    let server = server_info(client).await?;
    let applied = applied::read_applied(client, &db.database).await?;
    let dawarich = applied::describe(&applied, None)?;
    let lock = locks::lock_report(client, &db.database, opts.stale_after_secs).await?;
    let other_advisory_locks = locks::other_advisory_locks(client, &db.database).await?;
    let schema = Schema::read(client).await?;
    let pending: HashSet<&str> = dawarich
        .pending_schema
        .iter()
        .chain(dawarich.pending_data.iter())
        .map(String::as_str)
        .collect();
    let ctx = Ctx {
        db,
        client,
        schema: &schema,
        opts,
        progress,
        pending: &pending,
        server: &server,
    };
    let order = opts.run_order.clone().unwrap_or_else(|| pending_order(&dawarich));
    let mut checks = Vec::new();
    for (i, id) in CheckId::ALL.into_iter().enumerate() {
        let p = problem(id);
        progress.emit(ProgressEvent::StepStarted {
            step: i,
            title: p.title.into(),
        });
        let t = Instant::now();
        let mut check = match opts.blockers_only && !can_block(p, &order) {
            true => not_run(check(id)),
            false => runner(id)(&ctx).await?,
        };
        check.elapsed_ms = t.elapsed().as_millis() as u64;
        check.effects = effects(&ctx, p).await?;
        settle(&mut check, &order);
        progress.emit(ProgressEvent::StepFinished {
            step: i,
            elapsed_ms: check.elapsed_ms,
            rows: check.count.map(|c| c.max(0) as u64),
        });
        checks.push(check);
    }
    Ok(Diagnosis {
        server,
        dawarich,
        lock,
        other_advisory_locks,
        checks,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

async fn server_info(client: &Client) -> Result<ServerInfo> {
    let r = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int,
                    (SELECT extversion::text FROM pg_extension WHERE extname = 'postgis'),
                    EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'),
                    current_database()::text, pg_database_size(current_database()), current_user::text,
                    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                    pg_has_role(current_user, 'pg_signal_backend', 'MEMBER'),
                    coalesce((SELECT bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) FROM pg_class c
                              WHERE c.oid IN (to_regclass('points'), to_regclass('users'))), false),
                    pg_is_in_recovery()",
            &[],
        )
        .await?;
    let superuser: bool = r.get(7);
    Ok(ServerInfo {
        version: r
            .get::<_, String>(0)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        version_num: r.get(1),
        postgis_version: r.get(2),
        postgis_available: r.get(3),
        database: r.get(4),
        database_size_bytes: r.get(5),
        user: r.get(6),
        privileges: Privileges {
            superuser,
            signal_backend: r.get(8),
            owns_tables: r.get(9),
            can_create_extension: superuser,
        },
        in_recovery: r.get(10),
    })
}

/// The columns and indexes present, so checks adapt to the release instead of failing.
pub struct Schema {
    columns: HashSet<(String, String)>,
    /// index name → (table, valid, unique, leading column, all columns)
    indexes: BTreeMap<String, IndexInfo>,
    estimates: HashMap<String, i64>,
}

#[derive(Debug, Clone)]
struct IndexInfo {
    table: String,
    valid: bool,
    unique: bool,
    columns: Vec<String>,
}

impl Schema {
    async fn read(client: &Client) -> Result<Schema> {
        let columns = client
            .query("SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let indexes = client
            .query(
                "SELECT ic.relname::text, t.relname::text, i.indisvalid, i.indisunique,
                        array(SELECT coalesce(a.attname::text, '(expr)') FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                              LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n)
                 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
                 WHERE t.relnamespace = current_schema()::regnamespace",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), IndexInfo { table: r.get(1), valid: r.get(2), unique: r.get(3), columns: r.get(4) }))
            .collect();
        let estimates = client
            .query("SELECT relname::text, greatest(reltuples, 0)::bigint FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'", &[])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(Schema {
            columns,
            indexes,
            estimates,
        })
    }

    pub fn has(&self, table: &str, cols: &[&str]) -> bool {
        cols.iter()
            .all(|c| self.columns.contains(&(table.to_string(), c.to_string())))
    }

    fn has_table(&self, table: &str) -> bool {
        self.columns.iter().any(|(t, _)| t == table)
    }

    /// A valid unique index on exactly these columns (in any order).
    fn unique_on(&self, table: &str, cols: &[&str]) -> Option<&str> {
        let want: HashSet<&str> = cols.iter().copied().collect();
        self.indexes
            .iter()
            .find(|(_, i)| {
                i.table == table
                    && i.valid
                    && i.unique
                    && i.columns.len() == cols.len()
                    && i.columns.iter().all(|c| want.contains(c.as_str()))
            })
            .map(|(n, _)| n.as_str())
    }

    /// Whether a valid index starts with this column (so lookups by it are cheap).
    fn leading_index(&self, table: &str, col: &str) -> bool {
        self.indexes
            .values()
            .any(|i| i.table == table && i.valid && i.columns.first().is_some_and(|c| c == col))
    }

    fn estimate(&self, table: &str) -> i64 {
        self.estimates.get(table).copied().unwrap_or(0)
    }
}

struct Ctx<'a> {
    db: &'a Db,
    client: &'a Client,
    schema: &'a Schema,
    opts: &'a DiagnoseOptions,
    progress: &'a dyn Progress,
    pending: &'a HashSet<&'a str>,
    server: &'a ServerInfo,
}

type CheckFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Check>> + Send + 'a>>;

type CheckFn = for<'a> fn(&'a Ctx<'a>) -> CheckFuture<'a>;

/// How each problem is looked for.
fn runner(id: CheckId) -> CheckFn {
    match id {
        CheckId::PointsWithoutUser => |c| Box::pin(points_owner(c, OwnerProblem::Null)),
        CheckId::PointsUserMissing => |c| Box::pin(points_owner(c, OwnerProblem::Missing)),
        CheckId::PointsUserSoftDeleted => |c| Box::pin(points_owner(c, OwnerProblem::SoftDeleted)),
        CheckId::PointsLonlatMissing => |c| Box::pin(lonlat_missing(c)),
        CheckId::PointsLonlatConflict => |c| Box::pin(lonlat_conflicts(c)),
        CheckId::PointsWithoutTimestamp => |c| Box::pin(null_timestamp(c)),
        CheckId::DuplicatePointsLatlon => |c| Box::pin(dup(c, &DUPS[0])),
        CheckId::DuplicatePointsLonlat => |c| Box::pin(dup(c, &DUPS[1])),
        CheckId::DuplicateStats => |c| Box::pin(dup(c, &DUPS[2])),
        CheckId::DuplicatePlaceVisits => |c| Box::pin(dup(c, &DUPS[3])),
        CheckId::DuplicateRawDataArchives => |c| Box::pin(dup(c, &DUPS[4])),
        CheckId::UsersNullSettings => |c| Box::pin(null_settings(c)),
        CheckId::InvalidIndexes => |c| Box::pin(invalid_indexes(c)),
        CheckId::IndexesSetAside => |c| Box::pin(indexes_set_aside(c)),
        CheckId::BlockingSessions => |c| Box::pin(long_sessions(c)),
        CheckId::Postgis => |c| Box::pin(postgis(c)),
    }
}

/// The effects of a problem on this database: a fix whose condition does not hold is left out.
async fn effects(ctx: &Ctx<'_>, p: &Problem) -> Result<Vec<MigrationEffect>> {
    let mut out = Vec::new();
    for e in p.effects {
        let (version, effect, note) = match *e {
            Effect::Fails(v, n) => (v, EffectKind::Fails, n),
            Effect::Skips(v, n) => (v, EffectKind::Skips, n),
            Effect::Fixes(v, when, n) => {
                if let Some(cond) = when {
                    if !ctx
                        .client
                        .query_one(&format!("SELECT {cond}"), &[])
                        .await?
                        .get::<_, bool>(0)
                    {
                        continue;
                    }
                }
                (v, EffectKind::Fixes, n)
            }
        };
        out.push(MigrationEffect {
            version: version.into(),
            effect,
            note: note.into(),
        });
    }
    Ok(out)
}

/// The versions Dawarich's entrypoint would run now, in its order: pending schema migrations, then
/// pending data migrations (each ascending).
fn pending_order(d: &dawarich_doctor_model::DawarichState) -> Vec<String> {
    let (mut s, mut data) = (d.pending_schema.clone(), d.pending_data.clone());
    s.sort();
    data.sort();
    s.into_iter().chain(data).collect()
}

/// Sets what blocks from the effects and the order pending migrations run in, and says it in the
/// detail; a problem nothing pending fails on is only worth knowing.
pub(crate) fn settle(c: &mut Check, order: &[String]) {
    c.blocks = if c.count.unwrap_or(0) > 0 {
        c.blocking(order)
    } else {
        vec![]
    };
    let fails_somewhere = c.effects.iter().any(|e| e.effect == EffectKind::Fails);
    if c.count.unwrap_or(0) <= 0 || !fails_somewhere {
        return;
    }
    let label = |v: &str| crate::catalog::catalog().label_of(v);
    let pending = |e: &&MigrationEffect| order.contains(&e.version);
    let said = |kind: EffectKind, what: &dyn Fn(&MigrationEffect) -> String| {
        c.effects
            .iter()
            .filter(|e| e.effect == kind)
            .filter(pending)
            .map(what)
            .collect::<Vec<_>>()
    };
    let mut detail = c.detail.clone();
    if c.blocks.is_empty() {
        if c.status == CheckStatus::Problem {
            c.status = CheckStatus::Warning;
        }
        let fixed = said(EffectKind::Fixes, &|e| {
            format!("{} {} first", label(&e.version), e.note)
        });
        detail.push_str(" No pending migration fails on them");
        if !fixed.is_empty() {
            detail.push_str(&format!(": {}", fixed.join("; ")));
        }
        detail.push('.');
    } else {
        let fails: Vec<String> = c
            .blocks
            .iter()
            .filter_map(|v| {
                c.effects
                    .iter()
                    .find(|e| &e.version == v && e.effect == EffectKind::Fails)
            })
            .map(|e| format!("{} fails on them with {}", label(&e.version), e.note))
            .collect();
        detail.push_str(&format!(" {}.", fails.join("; ")));
    }
    let skips = said(EffectKind::Skips, &|e| format!("{} {}", label(&e.version), e.note));
    if !skips.is_empty() {
        detail.push_str(&format!(" Dawarich goes on past them in: {}.", skips.join("; ")));
    }
    c.detail = detail;
}

fn check(id: CheckId) -> Check {
    Check::new(id, problem(id).title)
}

fn not_applicable(mut c: Check, why: &str) -> Check {
    c.status = CheckStatus::NotApplicable;
    c.count = None;
    c.detail = why.into();
    c
}

fn found(mut c: Check, count: i64, problem: CheckStatus, detail: String) -> Check {
    c.count = Some(count);
    c.status = if count > 0 { problem } else { CheckStatus::Ok };
    if count > 0 {
        c.detail = detail;
    }
    c
}

async fn sample_ids(client: &Client, sql: &str) -> Result<Vec<String>> {
    Ok(client
        .query(sql, &[])
        .await?
        .iter()
        .map(|r| format!("id {}", r.get::<_, i64>(0)))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_duplicate_is_a_row_with_an_equal_twin_that_is_kept_instead() {
        let stats = super::DUPS
            .iter()
            .find(|d| d.id == dawarich_doctor_model::CheckId::DuplicateStats)
            .unwrap();
        let c = stats.excess_condition();
        assert!(c.starts_with("p.\"user_id\" IS NOT NULL AND p.\"year\" IS NOT NULL AND p.\"month\" IS NOT NULL AND EXISTS (SELECT 1 FROM stats q WHERE"), "{c}");
        assert!(
            c.ends_with("q.\"month\" = p.\"month\" AND q.id > p.id)"),
            "the newest stats row is kept: {c}"
        );
        let points = super::DUPS
            .iter()
            .find(|d| d.id == dawarich_doctor_model::CheckId::DuplicatePointsLonlat)
            .unwrap();
        assert!(
            points.excess_condition().ends_with("AND q.id < p.id)"),
            "the oldest point is kept"
        );
    }

    #[test]
    fn plan_cost_reads_the_top_node() {
        let plan = "Aggregate  (cost=183540.51..183540.52 rows=1 width=8)\n  ->  Index Only Scan using x on points  (cost=0.43..158540.51 rows=10000000 width=0)";
        assert_eq!(super::plan_cost(plan), 183540.52);
        assert_eq!(super::plan_cost("nonsense"), 0.0);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum OwnerProblem {
    Null,
    Missing,
    SoftDeleted,
}

/// Distinct `points.user_id` values by a loose index scan (one index probe per user), when an index
/// leads with `user_id`; otherwise one grouped scan.
async fn point_owner_ids(ctx: &Ctx<'_>) -> Result<(Vec<i64>, bool)> {
    if ctx.schema.leading_index("points", "user_id") {
        let rows = ctx
            .client
            .query(
                "WITH RECURSIVE u AS (
                   (SELECT user_id FROM points WHERE user_id IS NOT NULL ORDER BY user_id LIMIT 1)
                   UNION ALL
                   SELECT (SELECT p.user_id FROM points p WHERE p.user_id > u.user_id ORDER BY p.user_id LIMIT 1) FROM u WHERE u.user_id IS NOT NULL)
                 SELECT user_id FROM u WHERE user_id IS NOT NULL",
                &[],
            )
            .await?;
        Ok((rows.iter().map(|r| r.get(0)).collect(), false))
    } else {
        let rows = ctx
            .client
            .query("SELECT DISTINCT user_id FROM points WHERE user_id IS NOT NULL", &[])
            .await?;
        Ok((rows.iter().map(|r| r.get(0)).collect(), true))
    }
}

async fn points_owner(ctx: &Ctx<'_>, which: OwnerProblem) -> Result<Check> {
    let c = check(match which {
        OwnerProblem::Null => CheckId::PointsWithoutUser,
        OwnerProblem::Missing => CheckId::PointsUserMissing,
        OwnerProblem::SoftDeleted => CheckId::PointsUserSoftDeleted,
    });
    if !ctx.schema.has("points", &["user_id"]) {
        return Ok(not_applicable(c, "points has no user_id column (before 0.4.0)"));
    }
    if which == OwnerProblem::SoftDeleted && !ctx.schema.has("users", &["deleted_at"]) {
        return Ok(not_applicable(c, "users has no deleted_at column (before 1.3.1)"));
    }
    if which == OwnerProblem::Null {
        let mut c = c;
        c.full_scan = !ctx.schema.leading_index("points", "user_id");
        if c.full_scan && ctx.opts.quick {
            return Ok(skipped(c));
        }
        let cond = problem(CheckId::PointsWithoutUser).condition.expect("a condition");
        let n: i64 = ctx
            .client
            .query_one(&format!("SELECT count(*) FROM points p WHERE {cond}"), &[])
            .await?
            .get(0);
        let mut c = found(c, n, CheckStatus::Problem, format!("{n} points have no user."));
        if n > 0 {
            c.sample = sample_ids(
                ctx.client,
                &format!("SELECT p.id FROM points p WHERE {cond} ORDER BY p.id LIMIT 5"),
            )
            .await?;
        }
        return Ok(c);
    }
    let (owners, full_scan) = point_owner_ids(ctx).await?;
    let mut c = c;
    c.full_scan = full_scan;
    let bad: Vec<i64> = if which == OwnerProblem::Missing {
        let rows = ctx
            .client
            .query(
                "SELECT o FROM unnest($1::bigint[]) o WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o)",
                &[&owners],
            )
            .await?;
        rows.iter().map(|r| r.get(0)).collect()
    } else {
        let rows = ctx
            .client
            .query(
                "SELECT id FROM users WHERE id = ANY($1) AND deleted_at IS NOT NULL",
                &[&owners],
            )
            .await?;
        rows.iter().map(|r| r.get(0)).collect()
    };
    if bad.is_empty() {
        return Ok(c);
    }
    let n: i64 = ctx
        .client
        .query_one("SELECT count(*) FROM points WHERE user_id = ANY($1)", &[&bad])
        .await?
        .get(0);
    let users = bad.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let detail = match which {
        OwnerProblem::Missing => format!("{n} points belong to user ids that do not exist ({users})."),
        _ => format!("{n} points belong to soft-deleted users ({users}): Dawarich's User scope hides these users."),
    };
    let mut c = found(c, n, CheckStatus::Problem, detail);
    c.sample = ctx
        .client
        .query(
            "SELECT id FROM points WHERE user_id = ANY($1) ORDER BY id LIMIT 5",
            &[&bad],
        )
        .await?
        .iter()
        .map(|r| format!("id {}", r.get::<_, i64>(0)))
        .collect();
    Ok(c)
}

/// Whether a version of `order` fails on the problem.
fn can_block(p: &Problem, order: &[String]) -> bool {
    p.effects
        .iter()
        .any(|e| matches!(e, Effect::Fails(v, _) if order.iter().any(|o| o == v)))
}

/// Skipped (as [`skipped`]) because nothing of the run can fail on it.
fn not_run(c: Check) -> Check {
    Check {
        detail: "not run: no migration of this run fails on it".into(),
        ..skipped(c)
    }
}

fn skipped(mut c: Check) -> Check {
    c.status = CheckStatus::Skipped;
    c.count = None;
    c.detail = "skipped: needs a scan of the whole table (run without --quick)".into();
    c
}

/// Counts `condition` over `table` in primary-key ranges, emitting progress; for tables without a
/// usable index this is the whole-table scan, done in pieces so the user sees it move.
async fn count_in_ranges(ctx: &Ctx<'_>, table: &str, condition: &str, step: usize) -> Result<i64> {
    let (name, alias) = table.split_once(' ').unwrap_or((table, table));
    let sql = format!("SELECT count(*) FROM {table} WHERE {alias}.id >= $1 AND {alias}.id < $2 AND ({condition})");
    let stmt = ctx.client.prepare(&sql).await?;
    let ranges = crate::batch::Ranges {
        table: name,
        pk: "id",
        size: 1_000_000,
        done: Default::default(),
        step,
        label: "scan",
        lanes: 1,
    };
    let walked = crate::batch::walk(
        ctx.db,
        &ranges,
        ctx.progress,
        &crate::progress::Cancel::new(),
        |crate::batch::Range { lo, hi, .. }| {
            let stmt = stmt.clone();
            async move { Ok(ctx.client.query_one(&stmt, &[&lo, &hi]).await?.get::<_, i64>(0) as u64) }
        },
    )
    .await?;
    Ok(walked.rows as i64)
}

/// Planner cost above which a count is treated as a whole-table scan (about a million index entries).
const FULL_SCAN_COST: f64 = 50_000.0;

/// The total cost of the top plan node (`cost=START..TOTAL`).
fn plan_cost(plan: &str) -> f64 {
    plan.split("cost=")
        .nth(1)
        .and_then(|r| r.split("..").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

/// The progress step of a check (its place in `CheckId::ALL`).
fn step_of(id: CheckId) -> usize {
    CheckId::ALL.iter().position(|c| *c == id).unwrap_or(0)
}

/// Counts rows matching `condition`: through an index when the planner has one, else in ranges.
async fn count_rows(ctx: &Ctx<'_>, table: &str, condition: &str, c: &mut Check) -> Result<Option<i64>> {
    let plan: String = ctx
        .client
        .query(&format!("EXPLAIN SELECT count(*) FROM {table} WHERE {condition}"), &[])
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n");
    // A whole-table check: the planner must read the table (or a whole index) of a big table.
    let name = table.split_whitespace().next().unwrap_or(table);
    c.full_scan =
        ctx.schema.estimate(name) > 100_000 && (plan.contains("Seq Scan") || plan_cost(&plan) > FULL_SCAN_COST);
    if !c.full_scan {
        return Ok(Some(
            ctx.client
                .query_one(&format!("SELECT count(*) FROM {table} WHERE {condition}"), &[])
                .await?
                .get(0),
        ));
    }
    if ctx.opts.quick {
        return Ok(None);
    }
    Ok(Some(count_in_ranges(ctx, table, condition, step_of(c.id)).await?))
}

async fn lonlat_missing(ctx: &Ctx<'_>) -> Result<Check> {
    let mut c = check(CheckId::PointsLonlatMissing);
    if !ctx.schema.has("points", &["lonlat", "latitude", "longitude"]) {
        return Ok(not_applicable(
            c,
            "points has no lonlat column yet (before 0.25.0) or no latitude/longitude any more",
        ));
    }
    let cond = problem(c.id).condition.expect("a condition");
    let Some(n) = count_rows(ctx, "points p", cond, &mut c).await? else {
        return Ok(skipped(c));
    };
    let mut c = if ctx.pending.contains("20250222213848") {
        found(c, n, CheckStatus::Warning, format!("{n} points have latitude/longitude but no lonlat yet: the pending data migration 20250222213848 fills them."))
    } else {
        found(c, n, CheckStatus::Problem, format!("{n} points have latitude/longitude but no lonlat: the map fails on them (#949); the lonlat backfill never finished for them."))
    };
    if n > 0 {
        c.sample = sample_ids(
            ctx.client,
            &format!("SELECT p.id FROM points p WHERE {cond} ORDER BY p.id LIMIT 5"),
        )
        .await?;
    }
    Ok(c)
}

async fn lonlat_conflicts(ctx: &Ctx<'_>) -> Result<Check> {
    let mut c = check(CheckId::PointsLonlatConflict);
    if !ctx
        .schema
        .has("points", &["lonlat", "latitude", "longitude", "timestamp", "user_id"])
    {
        return Ok(not_applicable(c, "points has no lonlat column yet (before 0.25.0)"));
    }
    let cond = "p.lonlat IS NULL AND p.latitude IS NOT NULL AND p.longitude IS NOT NULL AND EXISTS (
        SELECT 1 FROM points q WHERE q.user_id = p.user_id AND q.timestamp = p.timestamp AND q.id <> p.id
          AND q.lonlat = ST_SetSRID(ST_MakePoint(p.longitude, p.latitude), 4326)::geography)";
    let n: i64 = match count_rows(ctx, "points p", cond, &mut c).await? {
        Some(n) => n,
        None => return Ok(skipped(c)),
    };
    let mut c = found(c, n, CheckStatus::Problem, format!("{n} points without lonlat have a twin (same user, time and place) that already has one: filling lonlat would violate index_points_on_lonlat_timestamp_user_id (#949, #3200)."));
    if n > 0 {
        c.sample = sample_ids(
            ctx.client,
            &format!("SELECT p.id FROM points p WHERE {cond} ORDER BY p.id LIMIT 5"),
        )
        .await?;
    }
    Ok(c)
}

async fn null_timestamp(ctx: &Ctx<'_>) -> Result<Check> {
    let mut c = check(CheckId::PointsWithoutTimestamp);
    if !ctx.schema.has("points", &["timestamp"]) {
        return Ok(not_applicable(c, "points has no timestamp column"));
    }
    let cond = problem(c.id).condition.expect("a condition");
    let Some(n) = count_rows(ctx, "points p", cond, &mut c).await? else {
        return Ok(skipped(c));
    };
    let mut c = found(c, n, CheckStatus::Warning, format!("{n} points have no timestamp: migration 20260113230537 takes it from raw_data; rows without a date there stay invalid."));
    if n > 0 {
        c.sample = sample_ids(
            ctx.client,
            &format!("SELECT p.id FROM points p WHERE {cond} ORDER BY p.id LIMIT 5"),
        )
        .await?;
    }
    Ok(c)
}

/// A unique index Dawarich builds, whose duplicates make its migration fail (or get deleted by it).
#[derive(Debug, Clone, Copy)]
pub struct DupSpec {
    pub id: CheckId,
    pub columns: &'static [&'static str],
    pub index: &'static str,
    /// Which row of a group stays: Dawarich's stats dedupe keeps the newest, the others the oldest.
    pub keep_highest: bool,
}

/// Every unique index Dawarich creates over user data (facts.md §3, §9).
pub static DUPS: [DupSpec; 5] = [
    DupSpec {
        id: CheckId::DuplicatePointsLatlon,
        columns: &["latitude", "longitude", "timestamp", "user_id"],
        index: "unique_points_lat_long_timestamp_user_id_index",
        keep_highest: false,
    },
    DupSpec {
        id: CheckId::DuplicatePointsLonlat,
        columns: &["lonlat", "timestamp", "user_id"],
        index: "index_points_on_lonlat_timestamp_user_id",
        keep_highest: false,
    },
    DupSpec {
        id: CheckId::DuplicateStats,
        columns: &["user_id", "year", "month"],
        index: "index_stats_on_user_id_year_month",
        keep_highest: true,
    },
    DupSpec {
        id: CheckId::DuplicatePlaceVisits,
        columns: &["visit_id", "place_id"],
        index: "idx_place_visits_visit_id_place_id",
        keep_highest: false,
    },
    DupSpec {
        id: CheckId::DuplicateRawDataArchives,
        columns: &["user_id", "year", "month", "chunk_number"],
        index: "index_raw_data_archives_uniqueness",
        keep_highest: false,
    },
];

impl DupSpec {
    /// The table the unique index is on.
    pub fn table(&self) -> &'static str {
        problem(self.id).table
    }

    /// Whether Dawarich's own migration removes the duplicates first (we quarantine them instead).
    fn migration_dedupes(&self) -> bool {
        !problem(self.id).effects.iter().any(|e| matches!(e, Effect::Fails(..)))
    }

    /// The duplicate check `id` as Dawarich treats this database: with an INVALID
    /// `unique_points_lat_long_timestamp_user_id_index` left by an earlier attempt, Rails skips the
    /// schema migration's dedupe (lowest id kept) and the data migration keeps the highest id.
    pub async fn for_database(client: &Client, id: CheckId) -> Result<Option<DupSpec>> {
        let Some(spec) = DUPS.iter().find(|d| d.id == id).copied() else {
            return Ok(None);
        };
        if spec.id != CheckId::DuplicatePointsLatlon {
            return Ok(Some(spec));
        }
        let invalid: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid)",
                &[&spec.index],
            )
            .await?
            .get(0);
        Ok(Some(DupSpec {
            keep_highest: invalid,
            ..spec
        }))
    }

    /// SQL condition on alias `p` that is true for every row a dedupe would remove: rows with an equal
    /// twin that is kept instead (lower id, or higher id when the newest is kept).
    pub fn excess_condition(&self) -> String {
        let cmp = if self.keep_highest { ">" } else { "<" };
        let eq = self
            .columns
            .iter()
            .map(|c| format!("q.\"{c}\" = p.\"{c}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        let nn = self
            .columns
            .iter()
            .map(|c| format!("p.\"{c}\" IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!(
            "{nn} AND EXISTS (SELECT 1 FROM {} q WHERE {eq} AND q.id {cmp} p.id)",
            self.table()
        )
    }
}

async fn dup(ctx: &Ctx<'_>, spec: &DupSpec) -> Result<Check> {
    let spec = &DupSpec::for_database(ctx.client, spec.id).await?.unwrap_or(*spec);
    let mut c = check(spec.id);
    let name = spec.table();
    if !ctx.schema.has_table(name) || !ctx.schema.has(name, spec.columns) {
        return Ok(not_applicable(
            c,
            &format!("{} does not have these columns in this release", name),
        ));
    }
    if let Some(index) = ctx.schema.unique_on(name, spec.columns) {
        c.detail = format!("guaranteed by the valid unique index {index}");
        return Ok(c);
    }
    // Pre-0.25 databases: the lat/lon index is only built by 20250120154555; after 0.25 it is gone
    // for good, so its absence there is not a problem.
    if spec.id == CheckId::DuplicatePointsLatlon && !ctx.pending.contains("20250120154555") {
        return Ok(not_applicable(
            c,
            "the unique index on latitude/longitude is no longer part of Dawarich (dropped in 0.25.0)",
        ));
    }
    let cond = spec.excess_condition();
    let table = format!("{} p", name);
    // Without the unique index every row must be compared: a whole-table check. Twins are found
    // through an index on the key's leading column (in id ranges, with progress) when there is one,
    // else with one grouped scan.
    let small = ctx.schema.estimate(name) < 100_000;
    c.full_scan = !small;
    if c.full_scan && ctx.opts.quick {
        return Ok(skipped(c));
    }
    let step = step_of(c.id);
    let n = if small {
        ctx.client
            .query_one(&format!("SELECT count(*) FROM {table} WHERE {cond}"), &[])
            .await?
            .get(0)
    } else if ctx.schema.leading_index(name, spec.columns[0]) || ctx.schema.leading_index(name, "user_id") {
        count_in_ranges(ctx, &table, &cond, step).await?
    } else {
        let cols = spec
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let nn = spec
            .columns
            .iter()
            .map(|c| format!("\"{c}\" IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND ");
        ctx.client
            .query_one(&format!("SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) n FROM {} WHERE {nn} GROUP BY {cols} HAVING count(*) > 1) g", name), &[])
            .await?
            .get(0)
    };
    let (status, what) = if spec.migration_dedupes() {
        (
            CheckStatus::Warning,
            "Dawarich's migration deletes them; Dawarich Doctor quarantines them instead (restorable)",
        )
    } else {
        (CheckStatus::Problem, "building the unique index fails on them")
    };
    let mut c = found(
        c,
        n,
        status,
        format!(
            "{n} {} rows duplicate another row on ({}) and no unique index {} exists yet: {what}.",
            name,
            spec.columns.join(", "),
            spec.index
        ),
    );
    if n > 0 {
        c.sample = sample_ids(
            ctx.client,
            &format!("SELECT p.id FROM {table} WHERE {cond} ORDER BY p.id LIMIT 5"),
        )
        .await?;
    }
    Ok(c)
}

async fn null_settings(ctx: &Ctx<'_>) -> Result<Check> {
    let c = check(CheckId::UsersNullSettings);
    if !ctx.schema.has("users", &["settings"]) {
        return Ok(not_applicable(c, "users has no settings column (before 0.7.1)"));
    }
    let cond = problem(c.id).condition.expect("a condition");
    let n: i64 = ctx
        .client
        .query_one(&format!("SELECT count(*) FROM users p WHERE {cond}"), &[])
        .await?
        .get(0);
    let mut c = found(c, n, CheckStatus::Problem, format!("{n} users have NULL settings."));
    if n > 0 {
        c.sample = sample_ids(
            ctx.client,
            &format!("SELECT p.id FROM users p WHERE {cond} ORDER BY p.id LIMIT 5"),
        )
        .await?;
    }
    Ok(c)
}

async fn invalid_indexes(ctx: &Ctx<'_>) -> Result<Check> {
    let c = check(CheckId::InvalidIndexes);
    let invalid = crate::unique::invalid(ctx.db).await?;
    // a unique one is built again only once the rows sharing its key are gone
    let mut sample = Vec::new();
    let mut duplicates = 0;
    for i in &invalid {
        let n = match Some(i).filter(|i| i.unique).and_then(crate::unique::Duplicates::of) {
            Some(d) => d.count(ctx.db).await?,
            None => 0,
        };
        duplicates += n;
        let rows = if n > 0 {
            format!(" ({n} duplicate rows)")
        } else {
            String::new()
        };
        sample.push(format!("{} on {}{rows}", i.name, i.table));
    }
    let n = invalid.len() as i64;
    let mut message = format!("{n} indexes are INVALID (left by an interrupted CREATE INDEX CONCURRENTLY): `IF NOT EXISTS` keeps them, so the index never works; they must be rebuilt.");
    if duplicates > 0 {
        message += &format!(" {duplicates} rows share a unique one's key: the rebuild moves them to quarantine first (the newest of each group stays).");
    }
    let mut c = found(c, n, CheckStatus::Problem, message);
    c.sample = sample.into_iter().take(10).collect();
    Ok(c)
}

/// Indexes an upgrade of ours set aside (`dawarich_doctor.index_aside`) and did not build again: it
/// was cancelled, lost its session or failed to build them.
async fn indexes_set_aside(ctx: &Ctx<'_>) -> Result<Check> {
    let c = check(CheckId::IndexesSetAside);
    let ours: bool = ctx
        .client
        .query_one("SELECT to_regclass('dawarich_doctor.index_aside') IS NOT NULL", &[])
        .await?
        .get(0);
    if !ours {
        return Ok(found(c, 0, CheckStatus::Warning, String::new()));
    }
    let rows = ctx
        .client
        .query(
            "SELECT format('%s on %s (run %s, since %s)', name, table_name, run_id, date_trunc('second', set_aside_at))
             FROM dawarich_doctor.index_aside ORDER BY set_aside_at, name",
            &[],
        )
        .await?;
    let n = rows.len() as i64;
    let mut c = found(
        c,
        n,
        CheckStatus::Warning,
        format!("{n} indexes are missing: an upgrade set them aside while Dawarich was stopped and did not finish. Dawarich works, but the queries they serve are slow. Run the upgrade again: it builds them (its last step at the latest), and what it knows of each is kept in dawarich_doctor.index_aside."),
    );
    c.sample = rows.iter().take(10).map(|r| r.get(0)).collect();
    Ok(c)
}

async fn long_sessions(ctx: &Ctx<'_>) -> Result<Check> {
    let c = check(CheckId::BlockingSessions);
    let rows = ctx
        .client
        .query(
            "SELECT pid, state, extract(epoch FROM clock_timestamp() - coalesce(xact_start, state_change))::float8, left(coalesce(query, ''), 120), coalesce(application_name, '')
             FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
               AND ((state LIKE 'idle in transaction%' AND clock_timestamp() - state_change > make_interval(secs => $1))
                    OR (state = 'active' AND clock_timestamp() - xact_start > make_interval(secs => $1)))
             ORDER BY 3 DESC",
            &[&ctx.opts.long_session_secs],
        )
        .await?;
    let n = rows.len() as i64;
    let mut c = found(
        c,
        n,
        CheckStatus::Warning,
        format!("{n} sessions hold a transaction open for a long time: ALTER TABLE and CREATE INDEX wait behind them."),
    );
    c.sample = rows
        .iter()
        .map(|r| {
            format!(
                "pid {} {} for {:.0} s ({}): {}",
                r.get::<_, i32>(0),
                r.get::<_, Option<String>>(1).unwrap_or_default(),
                r.get::<_, Option<f64>>(2).unwrap_or(0.0),
                r.get::<_, String>(4),
                r.get::<_, String>(3)
            )
        })
        .collect();
    Ok(c)
}

async fn postgis(ctx: &Ctx<'_>) -> Result<Check> {
    let c = check(CheckId::Postgis);
    let s = ctx.server;
    if s.postgis_version.is_some() {
        let mut c = c;
        c.detail = format!("PostGIS {} is installed", s.postgis_version.as_deref().unwrap_or(""));
        return Ok(c);
    }
    if !ctx.pending.contains("20250123145155") {
        return Ok(not_applicable(c, "no pending migration needs PostGIS"));
    }
    let mut c = c;
    c.count = Some(1);
    c.status = CheckStatus::Problem;
    c.detail = if !s.postgis_available {
        "Migration 20250123145155 enables PostGIS, but this server has no PostGIS (\"could not open extension control file … postgis.control\", #828). Switch the dawarich_db image to postgis/postgis:17-3.5-alpine (or 14-3.5 for a PostgreSQL 14 data directory).".into()
    } else if !s.privileges.superuser {
        format!("Migration 20250123145155 runs CREATE EXTENSION postgis, which needs a superuser; {} is not one. Run it once as a superuser, or connect as one.", s.user)
    } else {
        c.count = Some(0);
        c.status = CheckStatus::Ok;
        "PostGIS is available and will be enabled by the upgrade".into()
    };
    Ok(c)
}
