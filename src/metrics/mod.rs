//! Measurement: HdrHistograms and counters per outcome, recorded per
//! generator thread and merged losslessly off the hot path; a per-second
//! series beside them. It produces numbers, never text.

mod checks;
mod series;

pub use checks::{
    Check, CheckTally, Duplicates, IdChecker, IdSink, SAMPLES_PER_CHECK, SESSION_ID_WINDOW, Sample,
    SessionIds, session_id, session_id_in,
};
pub use series::{Interval, IntervalCounts, LatestSecond, SeriesCollector, SeriesSink, Summary};

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use hdrhistogram::Histogram;

use crate::engine::{Class, Outcome, Record};

/// The largest latency a histogram holds, in microseconds (one hour);
/// longer values are recorded as this.
pub const LATENCY_MAX_US: u64 = 3_600_000_000;
/// Significant decimal digits kept by every histogram.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in microseconds.
pub type Latency = Histogram<u64>;

pub fn new_latency() -> Latency {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, SIGNIFICANT_DIGITS).expect("the bounds are valid")
}

/// An empty histogram to show where none was needed: histograms that may
/// stay empty are made on first use, since each takes 188 KB.
pub fn empty_latency() -> &'static Latency {
    static EMPTY: std::sync::OnceLock<Latency> = std::sync::OnceLock::new();
    EMPTY.get_or_init(new_latency)
}

/// Adds `theirs` into `mine`, either of which may not exist yet.
fn merge_optional(mine: &mut Option<Latency>, theirs: &Option<Latency>) {
    match (mine.as_mut(), theirs) {
        (_, None) => {}
        (Some(m), Some(t)) => m.add(t).expect("histograms share bounds"),
        (None, Some(t)) => *mine = Some(t.clone()),
    }
}

/// The outcome classes that get their own latency histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    Created,
    BadRequest,
    ServerError,
    OtherStatus,
    Error,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [
        Bucket::Created,
        Bucket::BadRequest,
        Bucket::ServerError,
        Bucket::OtherStatus,
        Bucket::Error,
    ];

    /// The bucket of an outcome; `None` for a dropped request, which was
    /// never sent and so has no latency.
    pub fn of(class: Class) -> Option<Bucket> {
        Some(match class {
            Class::Status(201) => Bucket::Created,
            Class::Status(400) => Bucket::BadRequest,
            Class::Status(500) => Bucket::ServerError,
            Class::Status(_) => Bucket::OtherStatus,
            Class::Dropped => return None,
            _ => Bucket::Error,
        })
    }

    /// The name used in reports (`status.201`, `errors`).
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Created => "status.201",
            Bucket::BadRequest => "status.400",
            Bucket::ServerError => "status.500",
            Bucket::OtherStatus => "status.other",
            Bucket::Error => "errors",
        }
    }
}

/// How many requests ended in each outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Answers by status code, indexed by code (100..=599).
    status: Vec<u64>,
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    pub protocol: u64,
    /// Timed out waiting for a connection, never sent (see [`Class::TimeoutNeverSent`]).
    pub timeouts_never_sent: u64,
    /// Open model: never started (see [`Class::Dropped`]).
    pub dropped: u64,
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            status: vec![0; 600],
            connect: 0,
            timeout: 0,
            io: 0,
            protocol: 0,
            timeouts_never_sent: 0,
            dropped: 0,
        }
    }
}

impl Counts {
    #[inline]
    pub fn add(&mut self, class: Class) {
        match class {
            // The driver only passes codes 100..=599 through.
            Class::Status(code) => self.status[usize::from(code).min(599)] += 1,
            Class::Connect => self.connect += 1,
            Class::Timeout => self.timeout += 1,
            Class::Io => self.io += 1,
            Class::Protocol => self.protocol += 1,
            Class::TimeoutNeverSent => self.timeouts_never_sent += 1,
            Class::Dropped => self.dropped += 1,
        }
    }

    pub fn status(&self, code: u16) -> u64 {
        self.status.get(usize::from(code)).copied().unwrap_or(0)
    }

    /// Answers with a status other than 201, 400 and 500, by code.
    pub fn other_statuses(&self) -> BTreeMap<u16, u64> {
        self.status
            .iter()
            .enumerate()
            .filter(|&(code, &n)| n > 0 && !matches!(code, 201 | 400 | 500))
            .map(|(code, &n)| (code as u16, n))
            .collect()
    }

    pub fn other(&self) -> u64 {
        self.other_statuses().values().sum()
    }

    /// Requests that got an HTTP answer.
    pub fn completed(&self) -> u64 {
        self.status.iter().sum()
    }

    /// Requests that ended in an error instead of an answer.
    pub fn errors(&self) -> u64 {
        self.connect + self.timeouts() + self.io + self.protocol
    }

    /// Every timeout: on the wire, or waiting for a connection.
    pub fn timeouts(&self) -> u64 {
        self.timeout + self.timeouts_never_sent
    }

    /// Every request that ended in an outcome, dropped ones included.
    pub fn total(&self) -> u64 {
        self.completed() + self.errors() + self.dropped
    }
}

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, other: &Counts) {
        for (mine, theirs) in self.status.iter_mut().zip(&other.status) {
            *mine += theirs;
        }
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.io += other.io;
        self.protocol += other.protocol;
        self.timeouts_never_sent += other.timeouts_never_sent;
        self.dropped += other.dropped;
    }
}

/// Counts plus latency histograms: everything a run measured.
#[derive(Clone, Debug)]
pub struct Tally {
    pub counts: Counts,
    /// Latency of every request that got an answer, from its intended start.
    pub all: Latency,
    /// Service time of every request that got an answer: from the actual
    /// send to the answer, so without any wait for a connection.
    pub service: Latency,
    /// Latency per bucket, in [`Bucket::ALL`] order, made on first use.
    buckets: [Option<Latency>; 5],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            counts: Counts::default(),
            all: new_latency(),
            service: new_latency(),
            buckets: Default::default(),
        }
    }
}

impl Tally {
    pub fn bucket(&self, bucket: Bucket) -> &Latency {
        self.buckets[bucket as usize]
            .as_ref()
            .unwrap_or_else(|| empty_latency())
    }

    #[inline]
    fn add(&mut self, outcome: &Outcome<'_>) {
        self.counts.add(outcome.class);
        let Some(bucket) = Bucket::of(outcome.class) else {
            return;
        };
        let micros = micros_between(outcome.intended, outcome.done);
        self.buckets[bucket as usize]
            .get_or_insert_with(new_latency)
            .saturating_record(micros);
        if bucket != Bucket::Error {
            self.all.saturating_record(micros);
            self.service
                .saturating_record(micros_between(outcome.sent, outcome.done));
        }
    }
}

impl AddAssign<&Tally> for Tally {
    fn add_assign(&mut self, other: &Tally) {
        self.counts += &other.counts;
        // Same bounds on both sides, so adding cannot fail.
        self.all.add(&other.all).expect("histograms share bounds");
        self.service
            .add(&other.service)
            .expect("histograms share bounds");
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            merge_optional(mine, theirs);
        }
    }
}

/// Whole microseconds from `from` to `to`, zero when `to` is earlier.
#[inline]
pub fn micros_between(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_micros()).unwrap_or(u64::MAX)
}

/// Counters the live progress line reads while a run goes on. One per
/// thread, written only by its thread, on a cache line of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct Live {
    pub ended: AtomicU64,
    pub created: AtomicU64,
    pub errors: AtomicU64,
}

/// A sum of [`Live`] counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveSnapshot {
    pub ended: u64,
    pub created: u64,
    pub errors: u64,
}

pub fn live_snapshot(lives: &[Arc<Live>]) -> LiveSnapshot {
    lives
        .iter()
        .fold(LiveSnapshot::default(), |s, l| LiveSnapshot {
            ended: s.ended + l.ended.load(Relaxed),
            created: s.created + l.created.load(Relaxed),
            errors: s.errors + l.errors.load(Relaxed),
        })
}

/// One generator thread's recorder: the measured part's tally, the
/// warm-up's apart, the live counters and the per-second series.
#[derive(Debug)]
pub struct Recorder {
    tally: Tally,
    /// Made on the first warm-up outcome.
    warmup: Option<Tally>,
    checks: CheckTally,
    /// The endpoint paths a `Location` may name (with and without the
    /// target's base path).
    endpoints: Vec<Vec<u8>>,
    ids: Option<IdSink>,
    live: Arc<Live>,
    series: Option<SeriesSink>,
}

/// What a recorder measured.
#[derive(Debug, Default)]
pub struct Recorded {
    pub tally: Tally,
    /// `None` when there was no warm-up outcome.
    pub warmup: Option<Tally>,
    /// The measured part's bodies and checks (session ids apart).
    pub checks: CheckTally,
}

impl Recorder {
    pub fn new(live: Arc<Live>) -> Recorder {
        Recorder {
            tally: Tally::default(),
            warmup: None,
            checks: CheckTally::default(),
            endpoints: vec![crate::spec::ENDPOINT_PATH.as_bytes().to_vec()],
            ids: None,
            live,
            series: None,
        }
    }

    /// Checks `Location` against `endpoints` and sends session ids to the
    /// checker.
    pub fn with_checks(mut self, endpoints: &[&str], ids: IdSink) -> Recorder {
        self.endpoints = endpoints.iter().map(|e| e.as_bytes().to_vec()).collect();
        self.ids = Some(ids);
        self
    }

    /// Also feeds the per-second series.
    pub fn with_series(mut self, sink: SeriesSink) -> Recorder {
        self.series = Some(sink);
        self
    }

    /// Ends recording: the series gets its last second.
    pub fn finish(mut self) -> Recorded {
        if let Some(series) = self.series.take() {
            series.finish();
        }
        if let Some(mut ids) = self.ids.take() {
            ids.flush();
        }
        Recorded {
            tally: self.tally,
            warmup: self.warmup,
            checks: self.checks,
        }
    }
}

impl Record for Recorder {
    #[inline]
    fn record(&mut self, outcome: &Outcome<'_>) {
        let id = if outcome.warmup {
            self.warmup.get_or_insert_with(Tally::default).add(outcome);
            outcome
                .location
                .filter(|_| outcome.class == Class::Status(201))
                .and_then(|l| session_id_in(l, &self.endpoints))
        } else {
            self.tally.add(outcome);
            if let Some(series) = &mut self.series {
                series.add(outcome);
            }
            self.checks.add(outcome, &self.endpoints)
        };
        if let (Some(id), Some(ids)) = (id, &mut self.ids) {
            ids.add(id, outcome.warmup, outcome.kind);
        }
        // Only this thread writes these, so a relaxed load and store is
        // enough and cheaper than an atomic add.
        bump(&self.live.ended);
        match outcome.class {
            Class::Status(201) => bump(&self.live.created),
            Class::Status(_) | Class::Dropped => {}
            _ => bump(&self.live.errors),
        }
    }

    fn started(&mut self, now: Instant, warmup: bool) {
        if let (Some(series), false) = (&mut self.series, warmup) {
            series.started(now);
        }
    }

    fn tick(&mut self, now: Instant) {
        if let Some(series) = &mut self.series {
            series.rotate_to(now);
        }
        if let Some(ids) = &mut self.ids {
            ids.flush();
        }
    }
}

#[inline]
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed) + 1, Relaxed);
}

/// Merges the threads' check tallies into the first.
pub fn merge_checks(parts: impl IntoIterator<Item = CheckTally>) -> CheckTally {
    let mut parts = parts.into_iter();
    let first = parts.next().unwrap_or_default();
    parts.fold(first, |mut total, c| {
        total.merge(&c);
        total
    })
}

/// Merges the threads' tallies into the first, so merging allocates no
/// new histograms.
pub fn merge(tallies: impl IntoIterator<Item = Tally>) -> Tally {
    let mut tallies = tallies.into_iter();
    let first = tallies.next().unwrap_or_default();
    tallies.fold(first, |mut total, t| {
        total += &t;
        total
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn outcome(class: Class, micros: u64) -> Outcome<'static> {
        let intended = Instant::now();
        Outcome {
            intended,
            sent: intended,
            done: intended + Duration::from_micros(micros),
            class,
            warmup: false,
            kind: crate::spec::BodyKind::Valid,
            location: None,
        }
    }

    const CLASSES: [Class; 8] = [
        Class::Status(201),
        Class::Status(400),
        Class::Status(500),
        Class::Status(404),
        Class::Connect,
        Class::Timeout,
        Class::Io,
        Class::Protocol,
    ];

    #[test]
    fn every_outcome_lands_in_exactly_one_count() {
        let mut r = Recorder::new(Arc::default());
        for (i, class) in CLASSES.iter().enumerate() {
            for _ in 0..=i {
                r.record(&outcome(*class, 100));
            }
        }
        let live = live_snapshot(&[r.live.clone()]);
        let t = r.finish().tally;
        let c = &t.counts;
        assert_eq!(
            [
                c.status(201),
                c.status(400),
                c.status(500),
                c.other(),
                c.connect,
                c.timeout,
                c.io,
                c.protocol
            ],
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(c.other_statuses(), BTreeMap::from([(404, 4)]));
        assert_eq!(c.completed(), 10);
        assert_eq!(c.errors(), 26);
        assert_eq!(c.total(), 36);
        assert_eq!(
            t.all.len(),
            10,
            "errors are kept out of the answered latency"
        );
        assert_eq!(t.bucket(Bucket::Error).len(), 26);
        assert_eq!(
            live,
            LiveSnapshot {
                ended: 36,
                created: 1,
                errors: 26
            }
        );
    }

    #[test]
    fn merging_equals_recording_everything_in_one_place() {
        let mut parts = [Recorder::new(Arc::default()), Recorder::new(Arc::default())];
        let mut single = Recorder::new(Arc::default());
        for i in 0..10_000u64 {
            let o = outcome(CLASSES[(i % 8) as usize], i * 37 % 250_000);
            parts[(i % 2) as usize].record(&o);
            single.record(&o);
        }
        let [a, b] = parts;
        let merged = merge([a.finish().tally, b.finish().tally]);
        let single = single.finish().tally;
        assert_eq!(merged.counts, single.counts);
        assert_eq!(merged.all, single.all);
        assert_eq!(merged.service, single.service);
        for bucket in Bucket::ALL {
            assert_eq!(merged.bucket(bucket), single.bucket(bucket), "{bucket:?}");
        }
    }

    #[test]
    fn latency_is_measured_from_the_intended_start_in_microseconds() {
        let mut r = Recorder::new(Arc::default());
        let intended = Instant::now();
        r.record(&Outcome {
            intended,
            sent: intended + Duration::from_millis(900),
            done: intended + Duration::from_millis(1_000),
            class: Class::Status(201),
            warmup: false,
            kind: crate::spec::BodyKind::Valid,
            location: None,
        });
        let t = r.finish().tally;
        assert!(t.all.equivalent(t.all.max(), 1_000_000));
        assert!(
            t.service.equivalent(t.service.max(), 100_000),
            "service time counts from the actual send"
        );
    }

    #[test]
    fn dropped_requests_are_counted_without_latency() {
        let mut r = Recorder::new(Arc::default());
        r.record(&outcome(Class::Dropped, 0));
        r.record(&outcome(Class::Status(201), 100));
        r.record(&outcome(Class::TimeoutNeverSent, 100));
        let t = r.finish().tally;
        assert_eq!(t.counts.dropped, 1);
        assert_eq!(t.counts.total(), 3);
        // A request that timed out waiting for a connection is a timeout,
        // counted apart as never sent.
        assert_eq!((t.counts.errors(), t.counts.timeouts()), (1, 1));
        assert_eq!((t.counts.timeout, t.counts.timeouts_never_sent), (0, 1));
        assert_eq!(t.all.len(), 1);
        let recorded: u64 = Bucket::ALL.iter().map(|&b| t.bucket(b).len()).sum();
        assert_eq!(recorded, 2);
    }

    #[test]
    fn warm_up_outcomes_go_to_their_own_tally() {
        let mut r = Recorder::new(Arc::default());
        let mut warm = outcome(Class::Status(201), 5_000);
        warm.warmup = true;
        r.record(&warm);
        r.record(&outcome(Class::Status(500), 100));
        let recorded = r.finish();
        let warmup = recorded.warmup.unwrap();
        assert_eq!(warmup.counts.status(201), 1);
        assert_eq!(warmup.counts.total(), 1);
        assert_eq!(recorded.tally.counts.status(201), 0);
        assert_eq!(recorded.tally.counts.total(), 1);
        assert_eq!(recorded.tally.all.max(), recorded.tally.all.max().min(200));
    }

    #[test]
    fn latencies_beyond_the_maximum_saturate_instead_of_failing() {
        let mut r = Recorder::new(Arc::default());
        r.record(&outcome(Class::Status(201), LATENCY_MAX_US * 10));
        let t = r.finish().tally;
        assert_eq!(t.all.len(), 1);
        assert!(t.all.equivalent(t.all.max(), LATENCY_MAX_US));
    }
}
