//! When requests start, as arithmetic with no clock.
//!
//! The closed model: `concurrency` workers spread over generator threads,
//! each sending its next request when the previous one has ended, until a
//! duration passes or a request count is reached. A count is split over
//! threads so the run sends exactly that many, and each request gets a body
//! index so that the bodies sent are exactly bodies `0..N` of the seed,
//! whichever thread sends them.
//!
//! The open model: request `i` starts at [`RateCurve::offset`]`(i)`, and
//! thread `t` of `T` starts requests `t, t + T, ...`, so the plan is kept
//! whatever the number of threads.
//!
//! A shard `K` of `N` (`--shard K/N`) takes the requests `i ≡ K (mod N)` of
//! the whole plan, at the whole plan's instants in the open model, and
//! spreads them over its threads the same way; in the closed model it takes
//! its share of the workers and the bodies `i ≡ K (mod N)`. So the shards
//! together send the single-process plan, each request exactly once.

mod rate;
#[cfg(test)]
mod shard_tests;

use std::time::Duration;

pub use rate::{RateCurve, Segment};

use crate::scenario::{Rate, Shard, StopRule};

/// The whole plan, sent by one process.
pub const WHOLE: Shard = Shard { index: 0, count: 1 };

/// A run laid out over generator threads.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    Closed(ClosedSchedule),
    Open(Box<OpenSchedule>),
}

impl Schedule {
    pub fn threads(&self) -> usize {
        match self {
            Schedule::Closed(p) => p.threads.len(),
            Schedule::Open(p) => p.threads.len(),
        }
    }
}

/// One generator thread's share of an open-model run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenShare {
    pub connections: u32,
    pub max_in_flight: u64,
}

/// An open-model run: the measured part's arrival rate, the warm-up before
/// it, and its bounds.
///
/// Requests are numbered in one sequence, warm-up first: request `s` below
/// the warm-up's count is warm-up request `s`, due at `s / rate`; request
/// `W + j` is measured request `j`, due at `warmup + rate.offset(j)`. So the
/// measured part is the same plan with or without a warm-up, and sends the
/// same bodies `0..N`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenSchedule {
    /// The measured part.
    pub rate: RateCurve,
    pub warmup: Option<Warmup>,
    /// Measured requests at most, when a request count ends the run.
    pub limit: Option<u64>,
    pub threads: Vec<OpenShare>,
    /// The part of the plan this process sends.
    pub shard: Shard,
}

/// The warm-up of an open-model run: a constant rate, the measured part's
/// starting rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Warmup {
    pub duration: Duration,
    pub curve: RateCurve,
    pub requests: u64,
}

/// Warm-up bodies are numbered from here, apart from the measured ones.
pub const WARMUP_INDEX_BASE: u64 = 1 << 63;

/// One request of an open-model run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planned {
    /// When it is due, from the start of the run.
    pub offset: Duration,
    /// The body it sends.
    pub body: u64,
    pub warmup: bool,
}

impl OpenSchedule {
    /// Lays out `rate` with its warm-up; a request count `stop.requests`
    /// counts measured requests. Never more threads than connections.
    pub fn new(
        rate: &Rate,
        warmup: Option<Duration>,
        stop: StopRule,
        connections: u32,
        max_in_flight: u64,
        threads: usize,
    ) -> OpenSchedule {
        let plan = match rate {
            Rate::Constant(r) => RateCurve::constant(*r, stop.duration),
            Rate::Stages { start, stages } => RateCurve::stages(
                *start,
                &stages
                    .iter()
                    .map(|s| (s.duration, s.rate))
                    .collect::<Vec<_>>(),
            ),
        };
        let warmup = warmup.map(|duration| {
            let warm = RateCurve::constant(plan.rate_at(Duration::ZERO), Some(duration));
            Warmup {
                duration,
                requests: warm.total().unwrap_or(0),
                curve: warm,
            }
        });
        let threads = threads.clamp(1, connections.max(1) as usize);
        let connections = split(u64::from(connections), threads);
        let in_flight = split_weighted(max_in_flight, &connections);
        OpenSchedule {
            shard: WHOLE,
            limit: stop.requests,
            rate: plan,
            warmup,
            threads: connections
                .iter()
                .zip(in_flight)
                .map(|(&c, m)| OpenShare {
                    connections: c as u32,
                    max_in_flight: m.max(c),
                })
                .collect(),
        }
    }

    /// This process's part of the plan: `shard`'s requests at the whole
    /// plan's instants (the connections and in-flight bounds are as given).
    pub fn sharded(mut self, shard: Shard) -> OpenSchedule {
        self.shard = shard;
        self
    }

    /// The plan's number of the `k`-th request (from 0) of `thread`: the
    /// shard's requests `K, K + N, ...` dealt to its threads in turn.
    pub fn sequence(&self, thread: u64, k: u64) -> Option<u64> {
        let threads = self.threads.len() as u64;
        k.checked_mul(threads)?
            .checked_add(thread)?
            .checked_mul(self.shard.count)?
            .checked_add(self.shard.index)
    }

    /// The arrival rate at `offset` one thread of this shard sees.
    pub fn thread_rate_at(&self, offset: Duration) -> f64 {
        self.rate_at(offset) / (self.threads.len() as u64 * self.shard.count) as f64
    }

    fn warmup_requests(&self) -> u64 {
        self.warmup.as_ref().map_or(0, |w| w.requests)
    }

    /// The number of requests the run schedules (warm-up included);
    /// `u64::MAX` when only an interruption ends it.
    pub fn end(&self) -> u64 {
        let measured = match (self.rate.total(), self.limit) {
            (Some(total), Some(limit)) => total.min(limit),
            (Some(n), None) | (None, Some(n)) => n,
            (None, None) => return u64::MAX,
        };
        measured.saturating_add(self.warmup_requests())
    }

    /// The arrival rate at `offset` from the start of the run, warm-up
    /// included.
    pub fn rate_at(&self, offset: Duration) -> f64 {
        match &self.warmup {
            Some(w) if offset < w.duration => w.curve.rate_at(offset),
            Some(w) => self.rate.rate_at(offset - w.duration),
            None => self.rate.rate_at(offset),
        }
    }

    /// Request `s` of the run's sequence, or `None` past its end.
    pub fn request(&self, s: u64) -> Option<Planned> {
        if s >= self.end() {
            return None;
        }
        match &self.warmup {
            Some(w) if s < w.requests => Some(Planned {
                offset: w.curve.offset(s)?,
                body: WARMUP_INDEX_BASE | s,
                warmup: true,
            }),
            _ => {
                let j = s - self.warmup_requests();
                let lead = self.warmup.as_ref().map_or(Duration::ZERO, |w| w.duration);
                Some(Planned {
                    offset: lead.checked_add(self.rate.offset(j)?)?,
                    body: j,
                    warmup: false,
                })
            }
        }
    }
}

/// One generator thread's share of a closed-model run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadShare {
    /// Workers (each with its own connection) on this thread.
    pub workers: u32,
    /// Requests this thread sends in all; `None` when only a duration stops it.
    pub requests: Option<u64>,
}

/// A closed-model run laid out over threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedSchedule {
    pub threads: Vec<ThreadShare>,
    /// Sent before the measured part, whatever its stop rule.
    pub warmup: Option<Duration>,
    /// No request starts after the warm-up and then this much time have passed.
    pub duration: Option<Duration>,
    /// The part of the plan this process sends.
    pub shard: Shard,
}

impl ClosedSchedule {
    /// Spreads `concurrency` workers over at most `threads` threads (never
    /// more threads than workers), and a request count in proportion to
    /// each thread's workers.
    pub fn new(
        concurrency: u32,
        threads: usize,
        stop: StopRule,
        warmup: Option<Duration>,
    ) -> ClosedSchedule {
        ClosedSchedule::sharded(concurrency, threads, stop, warmup, WHOLE)
    }

    /// Shard `shard`'s part of the plan: its share of the `concurrency`
    /// workers (`C / N`, the first `C % N` shards one more), and with a
    /// request count the requests `i ≡ K (mod N)` of it.
    pub fn sharded(
        concurrency: u32,
        threads: usize,
        stop: StopRule,
        warmup: Option<Duration>,
        shard: Shard,
    ) -> ClosedSchedule {
        let parts = shard.count.max(1) as usize;
        let concurrency = split(u64::from(concurrency), parts)[shard.index as usize] as u32;
        let own = |total: u64| (total + shard.count - 1 - shard.index) / shard.count;
        let threads = threads.clamp(1, concurrency.max(1) as usize);
        let workers = split(u64::from(concurrency), threads);
        let requests = stop
            .requests
            .map(|total| split_weighted(own(total), &workers));
        ClosedSchedule {
            threads: workers
                .iter()
                .enumerate()
                .map(|(t, &w)| ThreadShare {
                    workers: w as u32,
                    requests: requests.as_ref().map(|r| r[t]),
                })
                .collect(),
            warmup,
            duration: stop.duration,
            shard,
        }
    }

    /// How thread `thread` numbers its bodies: its `k`-th request (from 0)
    /// sends body `base + k * stride`. With a request count, thread shares
    /// are consecutive ranges; without one, threads interleave (thread t
    /// sends t, t+T, t+2T, ...). Either way no index is sent twice.
    /// A shard's own numbering `j` stands for the plan's `K + N j`.
    pub fn body_indices(&self, thread: usize) -> (u64, u64) {
        let (base, stride) = self.shard_indices(thread);
        let (k, n) = (self.shard.index, self.shard.count);
        (k + n * base, n * stride)
    }

    /// The body of thread `thread`'s `k`-th warm-up request: numbered
    /// apart from the measured ones, interleaved over threads and shards.
    pub fn warmup_index(&self, thread: usize, k: u64) -> u64 {
        let threads = self.threads.len() as u64;
        let own = k.saturating_mul(threads).saturating_add(thread as u64);
        WARMUP_INDEX_BASE
            | own
                .saturating_mul(self.shard.count)
                .saturating_add(self.shard.index)
    }

    fn shard_indices(&self, thread: usize) -> (u64, u64) {
        match self.threads[thread].requests {
            Some(_) => {
                let before = self.threads[..thread]
                    .iter()
                    .map(|s| s.requests.unwrap_or(0))
                    .sum();
                (before, 1)
            }
            None => (thread as u64, self.threads.len() as u64),
        }
    }
}

/// Splits `total` into `parts` near-equal shares; the first ones take the remainder.
pub fn split(total: u64, parts: usize) -> Vec<u64> {
    let parts = parts.max(1) as u64;
    (0..parts)
        .map(|i| total / parts + u64::from(i < total % parts))
        .collect()
}

/// Splits `total` in proportion to `weights`, largest remainders first, so
/// the shares add up to `total` exactly.
pub fn split_weighted(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return split(total, weights.len());
    }
    let exact: Vec<u128> = weights
        .iter()
        .map(|&w| u128::from(total) * u128::from(w))
        .collect();
    let mut shares: Vec<u64> = exact
        .iter()
        .map(|&e| (e / u128::from(sum)) as u64)
        .collect();
    let mut left = total - shares.iter().sum::<u64>();
    let mut by_remainder: Vec<usize> = (0..weights.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(exact[i] % u128::from(sum)));
    for &i in by_remainder.iter().cycle() {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(rate: f64, warmup: Option<f64>, duration: f64) -> OpenSchedule {
        OpenSchedule::new(
            &Rate::Constant(rate),
            warmup.map(Duration::from_secs_f64),
            StopRule {
                duration: Some(Duration::from_secs_f64(duration)),
                requests: None,
            },
            8,
            100,
            2,
        )
    }

    #[test]
    fn a_warm_up_comes_first_and_leaves_the_measured_part_as_it_was() {
        // 3/s for 1.1 s holds 4 requests (0, 1/3, 2/3, 1 s) with or without
        // a warm-up of 0.2 s, which holds 1.
        let plain = open(3.0, None, 1.1);
        let warmed = open(3.0, Some(0.2), 1.1);
        assert_eq!(plain.end(), 4);
        assert_eq!(warmed.end(), 5);
        let first = warmed.request(0).unwrap();
        assert_eq!((first.offset, first.warmup), (Duration::ZERO, true));
        assert_eq!(first.body, WARMUP_INDEX_BASE);
        for j in 0..4 {
            let a = plain.request(j).unwrap();
            let b = warmed.request(j + 1).unwrap();
            assert_eq!(b.body, a.body, "the same bodies are measured");
            assert!(!b.warmup);
            let shift = b.offset - a.offset;
            assert!(shift.abs_diff(Duration::from_millis(200)) < Duration::from_micros(1));
        }
        assert_eq!(warmed.request(5), None);
    }

    #[test]
    fn a_request_count_counts_measured_requests() {
        let mut plan = open(100.0, Some(1.0), 10.0);
        plan.limit = Some(50);
        assert_eq!(plan.end(), 150);
        assert_eq!(plan.request(149).unwrap().body, 49);
        assert_eq!(plan.request(150), None);
    }

    fn stop(duration: Option<u64>, requests: Option<u64>) -> StopRule {
        StopRule {
            duration: duration.map(Duration::from_secs),
            requests,
        }
    }

    #[test]
    fn split_is_exact_and_near_equal() {
        // total, parts => shares
        for (total, parts, expected) in [
            (10, 3, vec![4, 3, 3]),
            (2, 4, vec![1, 1, 0, 0]),
            (0, 2, vec![0, 0]),
            (7, 1, vec![7]),
            (u64::MAX, 2, vec![u64::MAX / 2 + 1, u64::MAX / 2]),
        ] {
            assert_eq!(split(total, parts), expected, "{total} over {parts}");
        }
    }

    #[test]
    fn weighted_split_adds_up_and_follows_weights() {
        for (total, weights, expected) in [
            (100, vec![3, 1], vec![75, 25]),
            (10, vec![2, 1], vec![7, 3]),
            (1, vec![1, 1, 1], vec![1, 0, 0]),
            (5, vec![0, 0], vec![3, 2]),
            (7, vec![5, 0, 2], vec![5, 0, 2]),
        ] {
            let shares = split_weighted(total, &weights);
            assert_eq!(shares, expected, "{total} by {weights:?}");
            assert_eq!(shares.iter().sum::<u64>(), total);
        }
    }

    #[test]
    fn never_more_threads_than_workers() {
        let plan = ClosedSchedule::new(3, 8, stop(Some(1), None), None);
        assert_eq!(plan.threads.len(), 3);
        assert!(plan.threads.iter().all(|t| t.workers == 1));
        let plan = ClosedSchedule::new(9, 2, stop(Some(1), None), None);
        let workers: Vec<_> = plan.threads.iter().map(|t| t.workers).collect();
        assert_eq!(workers, [5, 4]);
    }

    #[test]
    fn a_request_count_is_sent_exactly_with_each_index_once() {
        for (concurrency, threads, total) in [(8, 2, 1_001), (3, 3, 2), (5, 2, 5), (64, 4, 100_000)]
        {
            let plan = ClosedSchedule::new(concurrency, threads, stop(None, Some(total)), None);
            let shares: Vec<u64> = plan.threads.iter().map(|t| t.requests.unwrap()).collect();
            assert_eq!(shares.iter().sum::<u64>(), total);
            let mut seen: Vec<u64> = (0..plan.threads.len())
                .flat_map(|t| (0..shares[t]).map(move |k| (t, k)))
                .map(|(t, k)| {
                    let (base, stride) = plan.body_indices(t);
                    base + k * stride
                })
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..total).collect::<Vec<_>>());
        }
    }

    #[test]
    fn duration_runs_interleave_indices_over_threads() {
        let plan = ClosedSchedule::new(4, 2, stop(Some(1), None), None);
        assert_eq!(plan.duration, Some(Duration::from_secs(1)));
        let index = |t, k| {
            let (base, stride) = plan.body_indices(t);
            base + k * stride
        };
        let first: Vec<_> = (0..3).flat_map(|k| [index(0, k), index(1, k)]).collect();
        assert_eq!(first, [0, 1, 2, 3, 4, 5]);
    }
}
