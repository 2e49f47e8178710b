//! Throughput and memory benchmark, printed as numbers (ratios against baselines run in the same
//! process). `cargo bench --bench throughput -- [POINTS]` (default 1,000,000). For each size (POINTS/10
//! first, then POINTS) it builds a Dawarich 1.7.5 database in a throwaway cluster and measures:
//! - diagnose: total time of the index-backed checks, and the whole-table checks separately;
//! - AddOwntracksPointsData (20240815174852) by our runner on 1, the default and 3 sessions vs (a) one
//!   set-based UPDATE of the same rows (before and after, averaged) and (b) a row-by-row loop (SELECT
//!   a row, UPDATE it by id) on a sample;
//! - the repair of 10 % ownerless points vs one set-based UPDATE (run before and after it, averaged), and
//!   its longest transaction;
//! - peak resident memory of this process per size.
//!
//! The cluster keeps PostgreSQL's default durability (fsync, synchronous commit, full-page writes).

use std::time::Instant;

use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::diagnose::{diagnose, DiagnoseOptions};
use dawarich_doctor::migrate::{upgrade, UpgradeOptions, DEFAULT_WORKERS};
use dawarich_doctor::profile::parse_url;
use dawarich_doctor::progress::{Cancel, Silent};
use dawarich_doctor::repair::{repair, RepairOptions};
use dawarich_doctor_model::MigrationKind;
use dawarich_doctor_testkit::cluster::Cluster;

const OWNTRACKS: &str = "20240815174852";
const RESET: &str = "UPDATE points SET battery = NULL, ping = NULL, altitude = NULL, altitude_decimal = NULL, accuracy = NULL, vertical_accuracy = NULL,
    velocity = NULL, ssid = NULL, bssid = NULL, tracker_id = NULL, inrids = '{}', in_regions = '{}', topic = NULL, battery_status = NULL, connection = NULL, trigger = NULL";

fn opts(url: &str) -> ConnectOptions {
    let p = parse_url(url).unwrap();
    ConnectOptions::new(p.profile, p.password)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmHWM:")
                .map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn vacuum(db: &Db) {
    db.batch_execute("VACUUM ANALYZE points").await.unwrap();
}

/// Detaches every tenth point from its user (the ownerless points the repair fixes).
async fn orphan_every_tenth(db: &Db) {
    db.batch_execute("UPDATE points SET user_id = NULL WHERE id % 10 = 0")
        .await
        .unwrap();
    vacuum(db).await;
}

async fn run(cluster: &Cluster, n: i64) {
    println!("== {n} points");
    reset_peak_rss();
    let admin = connect(&opts(&cluster.url("postgres"))).await.unwrap();
    let name = format!("bench_{n}");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template_postgis"))
        .await
        .unwrap();
    let url = cluster.url(&name);
    let db = connect(&opts(&url)).await.unwrap();
    let t = Instant::now();
    dawarich_doctor_testkit::fixtures::fresh_install(&db, "1.7.5", "production")
        .await
        .unwrap();
    dawarich_doctor_testkit::fixtures::populate(&db, &dawarich_doctor_testkit::fixtures::Data { users: 1, points: n })
        .await
        .unwrap();
    println!("built in {:.1} s", t.elapsed().as_secs_f64());

    // diagnose with 10 % ownerless points
    orphan_every_tenth(&db).await;
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    let indexed: u64 = d.checks.iter().filter(|c| !c.full_scan).map(|c| c.elapsed_ms).sum();
    let mut slowest: Vec<_> = d.checks.iter().filter(|c| !c.full_scan).collect();
    slowest.sort_by_key(|c| std::cmp::Reverse(c.elapsed_ms));
    let slowest: Vec<String> = slowest
        .iter()
        .take(3)
        .map(|c| format!("{} {} ms", c.id, c.elapsed_ms))
        .collect();
    println!(
        "diagnose: {} ms total, index-backed checks {indexed} ms (slowest: {}), whole-table checks: {}",
        d.elapsed_ms,
        slowest.join(", "),
        scans(&d)
    );
    db.batch_execute("DROP INDEX index_points_on_lonlat_timestamp_user_id")
        .await
        .unwrap();
    let d = diagnose(&db, &DiagnoseOptions::default(), &Silent).await.unwrap();
    println!(
        "diagnose without the unique lonlat index: {} ms total; whole-table checks: {}",
        d.elapsed_ms,
        scans(&d)
    );
    db.batch_execute(
        "CREATE UNIQUE INDEX index_points_on_lonlat_timestamp_user_id ON points (lonlat, timestamp, user_id)",
    )
    .await
    .unwrap();

    // repair of the ownerless points vs one UPDATE, measured before and after ours (each update
    // churns the table, so the baseline is taken on both sides and averaged)
    let orphans = n / 10;
    let one_update = || async {
        let t = Instant::now();
        db.batch_execute("UPDATE points SET user_id = 1 WHERE user_id IS NULL")
            .await
            .unwrap();
        let rate = orphans as f64 / t.elapsed().as_secs_f64();
        orphan_every_tenth(&db).await;
        rate
    };
    let before = one_update().await;
    let t = Instant::now();
    let out = repair(
        &opts(&url),
        &RepairOptions {
            check: dawarich_doctor_model::CheckId::PointsWithoutUser,
            strategy: dawarich_doctor_model::StrategyId::Assign,
            user: Some(1),
            batch_size: 5000,
            audit_file: None,
        },
        &Silent,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let ours = orphans as f64 / t.elapsed().as_secs_f64();
    orphan_every_tenth(&db).await;
    let after = one_update().await;
    println!(
        "repair {orphans} ownerless points: batched {ours:.0} rows/s, one UPDATE {before:.0} and {after:.0} rows/s (before and after), ratio {:.2}; longest transaction {} ms",
        ours / ((before + after) / 2.0),
        out.longest_transaction_ms
    );

    drop(db);
    admin.batch_execute(&format!("DROP DATABASE {name}")).await.unwrap();

    // AddOwntracksPointsData: our runner vs one UPDATE vs row by row, on 0.11.1's indexes (the
    // release whose upgrade ran it) plus the one 1.7.5 column the migration writes (below).
    admin
        .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template_postgis"))
        .await
        .unwrap();
    let db = connect(&opts(&url)).await.unwrap();
    dawarich_doctor_testkit::fixtures::fresh_install(&db, "0.11.1", "development")
        .await
        .unwrap();
    dawarich_doctor_testkit::fixtures::populate(&db, &dawarich_doctor_testkit::fixtures::Data { users: 1, points: n })
        .await
        .unwrap();
    // the 1.7.5 column the translation also writes, added as its schema migration does
    db.batch_execute("ALTER TABLE points ADD COLUMN altitude_decimal numeric(10,2); INSERT INTO schema_migrations VALUES ('20260323000001')").await.unwrap();
    let m = dawarich_doctor::catalog::catalog()
        .get(MigrationKind::Data, OWNTRACKS)
        .unwrap();
    let sql = &m.statements[0].sql;
    db.batch_execute(RESET).await.unwrap();
    vacuum(&db).await;
    let max: i64 = db
        .query_one("SELECT max(id) + 1 FROM points", &[])
        .await
        .unwrap()
        .get(0);
    // (a), measured before and after our runs (each pass churns the table) and averaged
    let one_update = || async {
        let t = Instant::now();
        let rows = db.execute(sql.as_str(), &[&0i64, &max]).await.unwrap();
        let rate = rows as f64 / t.elapsed().as_secs_f64();
        db.batch_execute(RESET).await.unwrap();
        vacuum(&db).await;
        (rows, rate)
    };
    let (rows, before) = one_update().await;
    // our runner (the whole upgrade run) with one session, the default, and more
    let mut ours = Vec::new();
    for workers in [1, usize::from(DEFAULT_WORKERS), 3] {
        db.execute("DELETE FROM data_migrations WHERE version = $1", &[&OWNTRACKS])
            .await
            .unwrap();
        let t = Instant::now();
        let up = upgrade(
            &opts(&url),
            &UpgradeOptions {
                target: Some("0.11.1".into()),
                audit_file: None,
                workers,
                ..Default::default()
            },
            &Silent,
            &Cancel::new(),
        )
        .await
        .unwrap();
        assert_eq!(up.applied, vec![OWNTRACKS.to_string()]);
        ours.push((workers, rows as f64 / t.elapsed().as_secs_f64()));
        db.batch_execute(RESET).await.unwrap();
        vacuum(&db).await;
    }
    let (_, after) = one_update().await;
    let one_update = (before + after) / 2.0;
    let sample = (n / 100).clamp(500, 5000);
    let stmt = db
        .prepare_typed(
            sql,
            &[tokio_postgres::types::Type::INT8, tokio_postgres::types::Type::INT8],
        )
        .await
        .unwrap();
    let t = Instant::now();
    // like ActiveRecord's `point.update!`: load the point, load its user (belongs_to), update by id
    for id in 1..=sample {
        let p = db
            .query_opt("SELECT * FROM points WHERE id = $1", &[&id])
            .await
            .unwrap()
            .unwrap();
        let user: Option<i64> = p.get("user_id");
        db.query_opt("SELECT * FROM users WHERE id = $1", &[&user])
            .await
            .unwrap();
        db.execute(&stmt, &[&id, &(id + 1)]).await.unwrap();
    }
    let row_by_row = sample as f64 / t.elapsed().as_secs_f64();
    println!("AddOwntracksPointsData on {rows} rows: one UPDATE {before:.0} and {after:.0} rows/s (before and after), row by row {row_by_row:.0} rows/s on {sample} rows");
    for (workers, rate) in ours {
        println!(
            "  our runner on {workers} session(s): {rate:.0} rows/s, ratio {:.2} to one UPDATE, {:.0} to row by row",
            rate / one_update,
            rate / row_by_row
        );
    }
    println!("peak RSS of this process: {} MiB", peak_rss_kib() / 1024);
    drop(db);
    admin.batch_execute(&format!("DROP DATABASE {name}")).await.unwrap();
}

fn scans(d: &dawarich_doctor_model::Diagnosis) -> String {
    let v: Vec<String> = d
        .checks
        .iter()
        .filter(|c| c.full_scan)
        .map(|c| format!("{} {} ms", c.id, c.elapsed_ms))
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn main() {
    let n: i64 = std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let cluster = Cluster::for_benchmark();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        run(&cluster, (n / 10).max(1000)).await;
        run(&cluster, n).await;
    });
}
