//! Work over a big table in primary-key ranges: one short transaction per range, progress with rate
//! and ETA after each, cancellation between ranges. Used by migration backfills and repairs.

use std::future::Future;
use std::time::{Duration, Instant};

use dawarich_doctor_model::ProgressEvent;

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
}

/// What a walk did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Walked {
    pub rows: u64,
    pub ranges: u64,
    /// The longest single range (one transaction).
    pub longest: Duration,
}

/// Calls `per_range(lo, hi)` for `[lo, hi)` ranges covering the table's keys. `per_range` runs and
/// commits one range and returns the rows it changed.
pub async fn walk<F, Fut>(db: &Db, r: &Ranges<'_>, progress: &dyn Progress, cancel: &Cancel, mut per_range: F) -> Result<Walked>
where
    F: FnMut(i64, i64) -> Fut,
    Fut: Future<Output = Result<u64>>,
{
    let row = db.query_one(&format!("SELECT min(\"{pk}\")::bigint, max(\"{pk}\")::bigint FROM \"{t}\"", pk = r.pk, t = r.table), &[]).await?;
    let (Some(min), Some(max)): (Option<i64>, Option<i64>) = (row.get(0), row.get(1)) else { return Ok(Walked::default()) };
    let start = r.start.unwrap_or(min).max(min);
    let total = (max - min + 1) as u64;
    let t0 = Instant::now();
    let mut w = Walked::default();
    let mut lo = start;
    while lo <= max {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled(format!("{} stopped before id {lo}; every finished range is committed and a new run continues from there", r.label)));
        }
        let hi = lo.saturating_add(r.size.max(1));
        let t = Instant::now();
        w.rows += per_range(lo, hi).await?;
        w.longest = w.longest.max(t.elapsed());
        w.ranges += 1;
        lo = hi;
        let done = ((lo - min) as u64).min(total);
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
    Ok(w)
}
