//! End-to-end upgrade speed: the time of each step of a 0.11.1 → newest upgrade at N points
//! (`DAWARICH_DOCTOR_BENCH_POINTS`, default 1,000,000) with and without the shortcuts (a batched
//! statement whose `skip-when` holds is not walked; index builds without CONCURRENTLY while
//! Dawarich is stopped; job work the catalog fuses walked once; a walk that rewrites most rows with
//! the table's plain indexes set aside and built again after it, the pending migrations' builds of
//! such indexes waiting for it), next to one
//! full-table `UPDATE points SET id = id` on the same data as the reference.
//! `cargo bench --bench upgrade`; `DAWARICH_DOCTOR_BENCH_WAYS=long,aside` runs only those ways
//! (long, skip, plain, both, fused, aside).
//! Every run starts from a copy of the same database, in a cluster with PostgreSQL's default
//! durability.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use dawarich_doctor::connect::{connect, ConnectOptions, Db};
use dawarich_doctor::migrate::{upgrade, UpgradeOptions};
use dawarich_doctor::profile::parse_url;
use dawarich_doctor::progress::{Cancel, ProgressEvent};
use dawarich_doctor_testkit::cluster::Cluster;
use dawarich_doctor_testkit::fixtures::{fresh_install, populate, Data};

const FROM: &str = "0.11.1";

fn opts(url: &str) -> ConnectOptions {
    let p = parse_url(url).unwrap();
    ConnectOptions::new(p.profile, p.password)
}

/// One way of running the upgrade.
struct Variant {
    /// What `DAWARICH_DOCTOR_BENCH_WAYS` calls it.
    key: &'static str,
    name: &'static str,
    walk_always: bool,
    dawarich_stopped: bool,
    walk_separately: bool,
    /// Set the indexes aside at any size (else never).
    aside: bool,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        key: "long",
        name: "long way",
        walk_always: true,
        dawarich_stopped: false,
        walk_separately: true,
        aside: false,
    },
    Variant {
        key: "skip",
        name: "skip-when",
        walk_always: false,
        dawarich_stopped: false,
        walk_separately: true,
        aside: false,
    },
    Variant {
        key: "plain",
        name: "plain index builds",
        walk_always: true,
        dawarich_stopped: true,
        walk_separately: true,
        aside: false,
    },
    Variant {
        key: "both",
        name: "both, separate walks",
        walk_always: false,
        dawarich_stopped: true,
        walk_separately: true,
        aside: false,
    },
    Variant {
        key: "fused",
        name: "both, fused walks",
        walk_always: false,
        dawarich_stopped: true,
        walk_separately: false,
        aside: false,
    },
    Variant {
        key: "aside",
        name: "fused, indexes set aside",
        walk_always: false,
        dawarich_stopped: true,
        walk_separately: false,
        aside: true,
    },
];

/// Step titles and times of one run, and its total.
struct Timed {
    name: &'static str,
    steps: Vec<(String, Duration)>,
    total: Duration,
}

/// A copy of the fixture database (a closed session of ours may still be leaving it).
async fn copy(admin: &Db, name: &str) {
    for sql in [
        format!("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname IN ('fixture', '{name}')"),
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name} TEMPLATE fixture"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
}

async fn run(cluster: &Cluster, admin: &Db, v: &Variant) -> Timed {
    copy(admin, "run").await;
    let steps = Mutex::new(Vec::new());
    let progress = |e: ProgressEvent| match e {
        ProgressEvent::StepStarted { title, .. } => steps.lock().unwrap().push((title, Duration::ZERO)),
        ProgressEvent::StepFinished { elapsed_ms, .. } => {
            if let Some(last) = steps.lock().unwrap().last_mut() {
                last.1 = Duration::from_millis(elapsed_ms);
            }
        }
        ProgressEvent::Output { line, .. } => println!("  {}: {line}", v.name),
        _ => {}
    };
    let t = Instant::now();
    upgrade(
        &opts(&cluster.url("run")),
        &UpgradeOptions {
            audit_file: None,
            walk_always: v.walk_always,
            dawarich_stopped: v.dawarich_stopped,
            walk_separately: v.walk_separately,
            aside_from_rows: if v.aside { 0 } else { u64::MAX },
            ..Default::default()
        },
        &progress,
        &Cancel::new(),
    )
    .await
    .unwrap();
    let total = t.elapsed();
    println!("{}: {:.1} s", v.name, total.as_secs_f64());
    // the disk holds the fixture and one run at a time
    admin.batch_execute("DROP DATABASE run WITH (FORCE)").await.unwrap();
    admin.batch_execute("CHECKPOINT").await.unwrap();
    Timed {
        name: v.name,
        steps: steps.into_inner().unwrap(),
        total,
    }
}

fn main() {
    let n: i64 = std::env::var("DAWARICH_DOCTOR_BENCH_POINTS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    // e.g. `aside` for the 10 M run (the long way takes half an hour there)
    let ways: Vec<&Variant> = match std::env::var("DAWARICH_DOCTOR_BENCH_WAYS") {
        Err(_) => VARIANTS.iter().collect(),
        Ok(keys) => keys
            .split(',')
            .map(|k| {
                VARIANTS.iter().find(|v| v.key == k.trim()).unwrap_or_else(|| {
                    let keys: Vec<&str> = VARIANTS.iter().map(|v| v.key).collect();
                    panic!(
                        "DAWARICH_DOCTOR_BENCH_WAYS: no way `{k}` (the ways: {})",
                        keys.join(", ")
                    )
                })
            })
            .collect(),
    };
    let cluster = Cluster::for_benchmark();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let admin = connect(&opts(&cluster.url("postgres"))).await.unwrap();
        admin
            .batch_execute("CREATE DATABASE fixture TEMPLATE template_postgis")
            .await
            .unwrap();
        let t = Instant::now();
        {
            let db = connect(&opts(&cluster.url("fixture"))).await.unwrap();
            fresh_install(&db, FROM, "production").await.unwrap();
            populate(&db, &Data { users: 2, points: n }).await.unwrap();
            db.batch_execute("VACUUM ANALYZE").await.unwrap();
        }
        println!("{FROM} with {n} points built in {:.1} s", t.elapsed().as_secs_f64());

        copy(&admin, "reference").await;
        let reference = {
            let db = connect(&opts(&cluster.url("reference"))).await.unwrap();
            let t = Instant::now();
            db.batch_execute("UPDATE points SET id = id").await.unwrap();
            t.elapsed()
        };
        admin.batch_execute("DROP DATABASE reference").await.unwrap();
        println!("reference, UPDATE points SET id = id: {:.1} s", reference.as_secs_f64());

        let mut runs = Vec::new();
        for v in &ways {
            runs.push(run(&cluster, &admin, v).await);
        }
        report(&runs, reference);
    });
}

/// Every step title of the runs, in the order they run (a fused step where its first member ran).
fn titles(runs: &[Timed]) -> Vec<&str> {
    let mut order: Vec<&str> = Vec::new();
    for t in runs {
        let mut at = 0;
        for (title, _) in &t.steps {
            match order.iter().position(|o| o == title) {
                Some(i) => at = i + 1,
                None => {
                    order.insert(at, title);
                    at += 1;
                }
            }
        }
    }
    order
}

/// Steps that take at least 1 % of the first run's total in some run, one row each (seconds, and
/// the ratio to the reference UPDATE; a run without the step shows –), the rest summed up, then the
/// totals.
fn report(runs: &[Timed], reference: Duration) {
    let secs = |d: Duration| d.as_secs_f64();
    let r = secs(reference);
    let names: Vec<&str> = runs.iter().map(|t| t.name).collect();
    println!("\n| step | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    let time = |t: &Timed, title: &str| t.steps.iter().find(|(s, _)| s == title).map(|(_, d)| secs(*d));
    let all = titles(runs);
    let big = |title: &str| {
        runs.iter()
            .any(|t| time(t, title).is_some_and(|d| d >= secs(runs[0].total) / 100.0))
    };
    let row = |label: &str, times: Vec<Option<f64>>| {
        let cells: Vec<String> = times
            .iter()
            .map(|t| t.map_or("–".into(), |t| format!("{t:.1} s ({:.2}×)", t / r)))
            .collect();
        println!("| {label} | {} |", cells.join(" | "));
    };
    for title in all.iter().filter(|t| big(t)) {
        row(title, runs.iter().map(|t| time(t, title)).collect());
    }
    let small: Vec<&str> = all.iter().copied().filter(|t| !big(t)).collect();
    row(
        &format!("{} other steps", small.len()),
        runs.iter()
            .map(|t| Some(small.iter().filter_map(|s| time(t, s)).sum()))
            .collect(),
    );
    row("**whole upgrade**", runs.iter().map(|t| Some(secs(t.total))).collect());
    println!("\n(×: time divided by one UPDATE points SET id = id on the same data, {r:.1} s)");
}
