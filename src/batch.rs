//! Work over a big table in primary-key ranges: one short transaction per range, progress with rate
//! and ETA after each, cancellation between ranges. Ranges may run on several sessions ("lanes") at
//! once; each range then carries the key below which everything is done when it commits, which is what
//! a checkpoint may record. Used by migration backfills and repairs.

use std::future::Future;
use std::time::{Duration, Instant};

use dawarich_doctor_model::ProgressEvent;
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::connect::Db;
use crate::error::{Error, Result};
use crate::progress::{Cancel, Progress};

/// Where and how to walk.
pub struct Ranges<'a> {
    pub table: &'a str,
    pub pk: &'a str,
    pub size: i64,
    /// Resume here instead of at the smallest key.
    pub start: Option<i64>,
    pub step: usize,
    pub label: &'a str,
    /// Ranges running at once (at least 1); lane 0 is the walk's own session.
    pub lanes: usize,
}

/// One range `[lo, hi)` handed to a lane.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub lane: usize,
    pub lo: i64,
    pub hi: i64,
    /// Every key below this is done once this range commits: `hi`, or the start of a range still
    /// running on another lane. Ranges start in key order, so a later one never lowers it.
    pub done_below: i64,
}

/// What a walk did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Walked {
    pub rows: u64,
    pub ranges: u64,
    /// The longest single range (one transaction).
    pub longest: Duration,
}

/// Calls `per_range` for `[lo, hi)` ranges covering the table's keys, up to `lanes` at once.
/// `per_range` runs and commits one range and returns the rows it changed. On the first failure no
/// new range starts; the running ones finish (their commits are kept) unless `db`, the walk's own
/// session, is gone, in which case the walk returns at once.
pub async fn walk<F, Fut>(db: &Db, r: &Ranges<'_>, progress: &dyn Progress, cancel: &Cancel, per_range: F) -> Result<Walked>
where
    F: Fn(Range) -> Fut,
    Fut: Future<Output = Result<u64>>,
{
    let row = db.query_one(&format!("SELECT min(\"{pk}\")::bigint, max(\"{pk}\")::bigint FROM \"{t}\"", pk = r.pk, t = r.table), &[]).await?;
    let (Some(min), Some(max)): (Option<i64>, Option<i64>) = (row.get(0), row.get(1)) else { return Ok(Walked::default()) };
    let start = r.start.unwrap_or(min).max(min);
    let total = (max - min + 1) as u64;
    let t0 = Instant::now();
    let mut w = Walked::default();
    let mut next = start;
    let mut done = (start - min) as u64;
    let mut free: Vec<usize> = (0..r.lanes.max(1)).rev().collect();
    let mut running: Vec<(usize, i64)> = Vec::new();
    let mut failed: Option<Error> = None;
    let mut in_flight = FuturesUnordered::new();
    let mut watch = tokio::time::interval(Duration::from_millis(250));
    loop {
        while failed.is_none() && !cancel.is_cancelled() && next <= max && !free.is_empty() {
            let lane = free.pop().expect("checked");
            let hi = next.saturating_add(r.size.max(1));
            let done_below = running.iter().map(|&(_, lo)| lo).min().unwrap_or(hi).min(hi);
            running.push((lane, next));
            let range = Range { lane, lo: next, hi, done_below };
            let fut = per_range(range);
            in_flight.push(async move {
                let t = Instant::now();
                (range, fut.await, t.elapsed())
            });
            next = hi;
        }
        if in_flight.is_empty() {
            break;
        }
        tokio::select! {
            Some((range, result, took)) = in_flight.next() => {
                running.retain(|&(lane, _)| lane != range.lane);
                free.push(range.lane);
                match result {
                    Ok(n) => {
                        w.rows += n;
                        w.ranges += 1;
                        w.longest = w.longest.max(took);
                        done = (done + (range.hi - range.lo) as u64).min(total);
                        let rate = (done - (start - min) as u64) as f64 / t0.elapsed().as_secs_f64().max(1e-6);
                        progress.emit(ProgressEvent::StepProgress {
                            step: r.step,
                            done,
                            total: Some(total),
                            rows_per_sec: rate,
                            eta_secs: Some((total - done) as f64 / rate.max(1.0)),
                            statement: None,
                        });
                    }
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
            _ = watch.tick(), if r.lanes > 1 => {
                if db.is_closed() {
                    return Err(Error::SessionLost(format!("{} stopped: the session holding the migration lock was closed (terminated or connection lost); every finished range is committed and a new run continues from there", r.label)));
                }
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if next <= max {
        return Err(Error::Cancelled(format!("{} stopped before id {next}; every finished range is committed and a new run continues from there", r.label)));
    }
    Ok(w)
}
