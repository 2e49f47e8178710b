//! Work over a big table in primary-key ranges: one short transaction per range, progress with rate
//! and ETA after each, cancellation between ranges. Ranges may run on several sessions ("lanes") at
//! once: each lane walks its own part of the keys (neighbouring ranges on two sessions would fight
//! over the same index and heap pages) and a lane that runs out takes half of the biggest rest. Each
//! range carries what is done once it commits, which is what a checkpoint records. Used by migration
//! backfills and repairs.

use std::future::Future;
use std::time::{Duration, Instant};

use dawarich_doctor_model::ProgressEvent;
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::connect::Db;
use crate::error::{Error, Result};
use crate::progress::{Cancel, Progress};

/// Key intervals `[lo, hi)` that are done: sorted, disjoint, not touching.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Done(Vec<(i64, i64)>);

impl Done {
    /// Everything below `key`.
    pub fn below(key: i64) -> Done {
        Done(vec![(i64::MIN, key)])
    }

    /// From `[lo1, hi1, lo2, hi2, …]` as stored; pieces out of order or overlapping are merged.
    pub fn from_flat(flat: &[i64]) -> Done {
        let mut d = Done::default();
        for pair in flat.chunks_exact(2) {
            d.add(pair[0], pair[1]);
        }
        d
    }

    /// `[lo1, hi1, lo2, hi2, …]`, for storing.
    pub fn to_flat(&self) -> Vec<i64> {
        self.0.iter().flat_map(|&(lo, hi)| [lo, hi]).collect()
    }

    /// Adds `[lo, hi)`.
    pub fn add(&mut self, lo: i64, hi: i64) {
        if lo >= hi {
            return;
        }
        let (mut lo, mut hi) = (lo, hi);
        self.0.retain(|&(a, b)| {
            let touches = a <= hi && lo <= b;
            if touches {
                lo = lo.min(a);
                hi = hi.max(b);
            }
            !touches
        });
        let at = self.0.partition_point(|&(a, _)| a < lo);
        self.0.insert(at, (lo, hi));
    }

    /// Adds every interval of `other`.
    pub fn extend(&mut self, other: &Done) {
        for &(lo, hi) in &other.0 {
            self.add(lo, hi);
        }
    }

    /// What is done in both.
    pub fn intersect(&self, other: &Done) -> Done {
        let mut both = Done::default();
        for &(a, b) in &self.0 {
            for &(c, d) in &other.0 {
                both.add(a.max(c), b.min(d));
            }
        }
        both
    }

    /// The first key that is not done (a walk counts every key below the table's smallest as done).
    pub fn first_gap(&self) -> i64 {
        self.0
            .first()
            .filter(|&&(a, _)| a == i64::MIN)
            .map_or(i64::MIN, |&(_, b)| b)
    }

    /// What is not done in `[lo, hi)`.
    fn gaps(&self, lo: i64, hi: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut at = lo;
        for &(a, b) in &self.0 {
            if a > at {
                out.push((at, a.min(hi)));
            }
            at = at.max(b);
            if at >= hi {
                break;
            }
        }
        if at < hi {
            out.push((at, hi));
        }
        out.retain(|&(a, b)| a < b);
        out
    }
}

/// Where and how to walk.
pub struct Ranges<'a> {
    pub table: &'a str,
    pub pk: &'a str,
    pub size: i64,
    /// Done already (a resumed run).
    pub done: Done,
    pub step: usize,
    pub label: &'a str,
    /// Ranges running at once (at least 1); lane 0 is the walk's own session.
    pub lanes: usize,
}

impl Ranges<'_> {
    /// The table's keys, `[min, max + 1)`, or `None` when it has no row.
    async fn span(&self, db: &Db) -> Result<Option<(i64, i64)>> {
        let row = db
            .query_one(
                &format!(
                    "SELECT min(\"{pk}\")::bigint, max(\"{pk}\")::bigint FROM \"{t}\"",
                    pk = self.pk,
                    t = self.table
                ),
                &[],
            )
            .await?;
        let (min, max): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
        Ok(min.zip(max).map(|(min, max)| (min, max.saturating_add(1))))
    }

    /// The first range not done yet (for lane 0), or `None` when every key is done.
    pub async fn first(&self, db: &Db) -> Result<Option<Range>> {
        let Some((min, end)) = self.span(db).await? else {
            return Ok(None);
        };
        let Some(&(lo, gap_end)) = self.done.gaps(min, end).first() else {
            return Ok(None);
        };
        let hi = lo.saturating_add(self.size).min(gap_end);
        let mut done_after = self.done.clone();
        done_after.add(lo, hi);
        Ok(Some(Range {
            lane: 0,
            lo,
            hi,
            done_after,
        }))
    }
}

/// One range `[lo, hi)` handed to a lane.
#[derive(Debug, Clone)]
pub struct Range {
    pub lane: usize,
    pub lo: i64,
    pub hi: i64,
    /// What is done once this range commits: the ranges finished when it started, and itself.
    pub done_after: Done,
}

/// What a walk did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Walked {
    pub rows: u64,
    pub ranges: u64,
    /// The longest single range (one transaction).
    pub longest: Duration,
}

/// The keys each lane still has to walk, `[next, end)`, and the ones nobody took yet.
struct Work {
    size: i64,
    lanes: Vec<(i64, i64)>,
    pool: Vec<(i64, i64)>,
}

impl Work {
    /// The next range for `lane`: from its own part, else a part nobody took, else the upper half of
    /// the biggest rest of another lane (at least one range from its next key).
    fn next(&mut self, lane: usize) -> Option<(i64, i64)> {
        if self.lanes[lane].0 >= self.lanes[lane].1 {
            if let Some(i) = (0..self.pool.len()).max_by_key(|&i| self.pool[i].1 - self.pool[i].0) {
                self.lanes[lane] = self.pool.swap_remove(i);
            } else {
                let (other, &(next, end)) = self.lanes.iter().enumerate().max_by_key(|(_, &(n, e))| e - n)?;
                let ranges_left = (end - next + self.size - 1) / self.size;
                if ranges_left < 2 {
                    return None;
                }
                let split = next + ranges_left / 2 * self.size;
                self.lanes[other].1 = split;
                self.lanes[lane] = (split, end);
            }
        }
        let (next, end) = self.lanes[lane];
        let hi = next.saturating_add(self.size).min(end);
        self.lanes[lane].0 = hi;
        Some((next, hi))
    }
}

/// Calls `per_range` for `[lo, hi)` ranges covering the table's keys not yet done, up to `lanes` at
/// once. `per_range` runs and commits one range and returns the rows it changed. On the first failure
/// no new range starts; the running ones finish (their commits are kept) unless `db`, the walk's own
/// session, is gone, in which case the walk returns at once.
pub async fn walk<F, Fut>(
    db: &Db,
    r: &Ranges<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
    per_range: F,
) -> Result<Walked>
where
    F: Fn(Range) -> Fut,
    Fut: Future<Output = Result<u64>>,
{
    let Some((min, end)) = r.span(db).await? else {
        return Ok(Walked::default());
    };
    let todo = r.done.gaps(min, end);
    let total = (end - min) as u64;
    let mut done_keys = total - todo.iter().map(|&(a, b)| (b - a) as u64).sum::<u64>();
    let resumed_at = done_keys;
    let lanes = r.lanes.max(1);
    let mut work = Work {
        size: r.size.max(1),
        lanes: vec![(0, 0); lanes],
        pool: todo,
    };
    let mut done = r.done.clone();
    done.add(i64::MIN, min);
    let t0 = Instant::now();
    let mut w = Walked::default();
    let mut idle: Vec<usize> = (0..lanes).rev().collect();
    let mut failed: Option<Error> = None;
    let mut in_flight = FuturesUnordered::new();
    let mut watch = tokio::time::interval(Duration::from_millis(250));
    loop {
        while failed.is_none() && !cancel.is_cancelled() {
            let Some(&lane) = idle.last() else { break };
            let Some((lo, hi)) = work.next(lane) else { break };
            idle.pop();
            let mut done_after = done.clone();
            done_after.add(lo, hi);
            let fut = per_range(Range {
                lane,
                lo,
                hi,
                done_after,
            });
            in_flight.push(async move {
                let t = Instant::now();
                (lane, lo, hi, fut.await, t.elapsed())
            });
        }
        if in_flight.is_empty() {
            break;
        }
        tokio::select! {
            Some((lane, lo, hi, result, took)) = in_flight.next() => {
                idle.push(lane);
                match result {
                    Ok(n) => {
                        done.add(lo, hi);
                        w.rows += n;
                        w.ranges += 1;
                        w.longest = w.longest.max(took);
                        done_keys = (done_keys + (hi - lo) as u64).min(total);
                        let rate = (done_keys - resumed_at) as f64 / t0.elapsed().as_secs_f64().max(1e-6);
                        progress.emit(ProgressEvent::StepProgress {
                            step: r.step,
                            done: done_keys,
                            total: Some(total),
                            rows_per_sec: rate,
                            eta_secs: Some((total - done_keys) as f64 / rate.max(1.0)),
                            statement: None,
                        });
                    }
                    Err(e) => {
                        failed.get_or_insert(e);
                    }
                }
            }
            _ = watch.tick(), if lanes > 1 => {
                if db.is_closed() {
                    return Err(Error::SessionLost(format!("{} stopped: the session holding the migration lock was closed (terminated or connection lost); every finished range is committed and a new run continues with the rest", r.label)));
                }
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if done_keys < total {
        return Err(Error::Cancelled(format!("{} stopped with {done_keys} of {total} ids done; every finished range is committed and a new run continues with the rest", r.label)));
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn done_merges_and_finds_gaps() {
        let mut d = Done::default();
        d.add(10, 20);
        d.add(30, 40);
        d.add(20, 25);
        assert_eq!(d.to_flat(), vec![10, 25, 30, 40]);
        assert_eq!(d.gaps(0, 50), vec![(0, 10), (25, 30), (40, 50)]);
        d.add(5, 35);
        assert_eq!(d.to_flat(), vec![5, 40]);
        assert_eq!(Done::from_flat(&[30, 40, 5, 12, 10, 31]).to_flat(), vec![5, 40]);
        assert_eq!(Done::below(7).gaps(1, 10), vec![(7, 10)]);
        assert_eq!(d.first_gap(), i64::MIN);
        d.add(i64::MIN, 5);
        assert_eq!(d.first_gap(), 40);
        let other = Done::from_flat(&[0, 8, 20, 30, 38, 50]);
        assert_eq!(d.intersect(&other).to_flat(), vec![0, 8, 20, 30, 38, 40]);
        assert_eq!(d.intersect(&Done::default()), Done::default());
    }

    #[test]
    fn lanes_start_far_apart_and_share_the_rest() {
        let mut w = Work {
            size: 10,
            lanes: vec![(0, 0); 2],
            pool: vec![(0, 100)],
        };
        assert_eq!(w.next(0), Some((0, 10)));
        assert_eq!(
            w.next(1),
            Some((50, 60)),
            "the second lane takes the upper half of the first one's part"
        );
        for _ in 0..4 {
            w.next(0);
        }
        assert_eq!(w.lanes[0], (50, 50));
        assert_eq!(
            w.next(0),
            Some((80, 90)),
            "a lane that is done takes the upper half of the biggest rest"
        );
        assert_eq!(w.lanes[1], (60, 80));
        assert_eq!(w.next(1), Some((60, 70)));
        assert_eq!(w.next(1), Some((70, 80)));
        assert_eq!(w.next(1), None, "a single range left is not split");
        assert_eq!(w.next(0), Some((90, 100)));
        assert_eq!(w.next(0), None);
    }
}
