//! Measurement: HdrHistograms and counters per outcome, recorded per
//! generator thread and merged losslessly off the hot path; a per-second
//! series beside them. It records numbers; it neither judges them nor
//! writes them anywhere.

mod counts;
mod samples;
mod series;
pub mod windows;

pub use crate::spec::Bucket;
pub use counts::{Counts, Kind, LiveCounts, live_total};
pub use samples::ErrorSamples;
pub use series::{
    Interval, IntervalSink, IntervalWriter, LatestSecond, SecondWatch, SeriesCollector, SeriesSink,
    SoFar, Summary,
};
pub use windows::{LatencyStats, Window, WindowSeries};

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
pub fn merge_optional(mine: &mut Option<Latency>, theirs: &Option<Latency>) {
    match (mine.as_mut(), theirs) {
        (_, None) => {}
        (Some(m), Some(t)) => m.add(t).expect("histograms share bounds"),
        (None, Some(t)) => *mine = Some(t.clone()),
    }
}

impl Bucket {
    /// The bucket of an outcome; `None` for a dropped request, which was
    /// never sent, and a cancelled one, whose answer was never awaited:
    /// neither has a latency.
    #[inline]
    pub fn of(kind: Kind) -> Option<Bucket> {
        Some(match kind {
            Kind::Created => Bucket::Created,
            Kind::BadRequest => Bucket::BadRequest,
            Kind::ServerError => Bucket::ServerError,
            Kind::OtherStatus => Bucket::OtherStatus,
            Kind::Dropped | Kind::Cancelled => return None,
            _ => Bucket::Error,
        })
    }
}

/// Counts plus latency histograms: everything a run measured.
#[derive(Clone, Debug)]
pub struct Tally {
    pub counts: Counts,
    /// Answers of [`Kind::OtherStatus`] by status code, indexed by code
    /// (100..=599): the detail behind [`Counts::other`].
    codes: Vec<u64>,
    /// Latency of every request that got an answer, from its intended start.
    pub all: Latency,
    /// Service time of every request that got an answer: from the actual
    /// send to the answer, so without any wait for a connection.
    pub service: Latency,
    /// Send lag of every request that was sent, whatever its outcome (the
    /// engine gives none for a cancelled one): the generator's own
    /// lateness (see [`Outcome::send_lag`]), kept apart from latency so
    /// that a generator that falls behind shows as itself rather than as a
    /// slow target.
    pub send_lag: Latency,
    /// Latency per bucket, in [`Bucket::ALL`] order, made on first use.
    buckets: [Option<Latency>; 5],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            counts: Counts::default(),
            codes: vec![0; 600],
            all: new_latency(),
            service: new_latency(),
            send_lag: new_latency(),
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

    /// A tally rebuilt from what a saved report holds: counts, the other
    /// statuses by code (100..=599), and the histograms, by bucket in
    /// [`Bucket::ALL`] order (`None` where a bucket had no answer).
    pub fn from_parts(
        counts: Counts,
        other_statuses: &BTreeMap<u16, u64>,
        histograms: Histograms,
        buckets: [Option<Latency>; 5],
    ) -> Tally {
        let Histograms {
            all,
            service,
            send_lag,
        } = histograms;
        let mut codes = vec![0; 600];
        for (&code, &n) in other_statuses {
            codes[usize::from(code).min(599)] += n;
        }
        Tally {
            counts,
            codes,
            all,
            service,
            send_lag,
            buckets,
        }
    }

    /// Answers with a status other than 201, 400 and 500, by code.
    pub fn other_statuses(&self) -> BTreeMap<u16, u64> {
        self.codes
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(code, &n)| (code as u16, n))
            .collect()
    }

    #[inline]
    fn add(&mut self, outcome: &Outcome<'_>, kind: Kind) {
        self.counts.add_kind(kind);
        // Any request that was sent, an errored one too: how late the
        // generator sent it does not depend on what came back.
        if let Some(lag) = outcome.send_lag {
            self.send_lag.saturating_record(duration_micros(lag));
        }
        if let (Kind::OtherStatus, Class::Status(code)) = (kind, outcome.class) {
            // The driver only passes codes 100..=599 through.
            self.codes[usize::from(code).min(599)] += 1;
        }
        let Some(bucket) = Bucket::of(kind) else {
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
        for (mine, theirs) in self.codes.iter_mut().zip(&other.codes) {
            *mine += theirs;
        }
        // Same bounds on both sides, so adding cannot fail.
        self.all.add(&other.all).expect("histograms share bounds");
        self.service
            .add(&other.service)
            .expect("histograms share bounds");
        self.send_lag
            .add(&other.send_lag)
            .expect("histograms share bounds");
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            merge_optional(mine, theirs);
        }
    }
}

/// The whole-run histograms of a [`Tally`] besides those per bucket, as a
/// saved report gives them back to [`Tally::from_parts`].
#[derive(Debug)]
pub struct Histograms {
    /// Latency of every answer, from the intended start.
    pub all: Latency,
    /// Service time of every answer, from the actual send.
    pub service: Latency,
    /// Send lag of every request sent; empty when a report predates it.
    pub send_lag: Latency,
}

/// Whole microseconds of a duration, saturating.
#[inline]
pub fn duration_micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Whole microseconds from `from` to `to`, zero when `to` is earlier.
#[inline]
pub fn micros_between(from: Instant, to: Instant) -> u64 {
    duration_micros(to.saturating_duration_since(from))
}

/// One generator thread's recorder: the measured part's tally, the
/// warm-up's apart, the live counters and the per-second series.
#[derive(Debug)]
pub struct Recorder {
    tally: Tally,
    /// Made on the first warm-up outcome.
    warmup: Option<Tally>,
    live: Arc<LiveCounts>,
    series: Option<SeriesSink>,
    errors: ErrorSamples,
}

/// What a recorder measured.
#[derive(Debug, Default)]
pub struct Recorded {
    pub tally: Tally,
    /// `None` when there was no warm-up outcome.
    pub warmup: Option<Tally>,
    /// The first reason of each kind of failure, warm-up included.
    pub errors: ErrorSamples,
}

impl Recorder {
    pub fn new(live: Arc<LiveCounts>) -> Recorder {
        Recorder {
            tally: Tally::default(),
            warmup: None,
            live,
            series: None,
            errors: ErrorSamples::default(),
        }
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
        Recorded {
            tally: self.tally,
            warmup: self.warmup,
            errors: self.errors,
        }
    }
}

impl Record for Recorder {
    #[inline]
    fn record(&mut self, outcome: &Outcome<'_>) {
        // The outcome's kind, found once for every count it goes into.
        let kind = Kind::of(outcome.class);
        if outcome.warmup {
            self.warmup
                .get_or_insert_with(Tally::default)
                .add(outcome, kind);
        } else {
            self.tally.add(outcome, kind);
            if let Some(series) = &mut self.series {
                series.add(outcome, kind);
            }
        }
        self.live.add_kind(kind);
    }

    fn started(&mut self, now: Instant, warmup: bool) {
        self.live.add_started();
        if let (Some(series), false) = (&mut self.series, warmup) {
            series.started(now);
        }
    }

    fn tick(&mut self, now: Instant) {
        if let Some(series) = &mut self.series {
            series.rotate_to(now);
        }
    }

    #[inline]
    fn failed(&mut self, class: Class, reason: &dyn std::fmt::Display) {
        self.errors.add(class, reason);
    }
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
            send_lag: None,
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
        let live = live_total(&[r.live.clone()]);
        let t = r.finish().tally;
        let c = &t.counts;
        assert_eq!(
            [
                c.created(),
                c.bad_request(),
                c.server_error(),
                c.other(),
                c.connect(),
                c.timeout(),
                c.io(),
                c.protocol()
            ],
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(t.other_statuses(), BTreeMap::from([(404, 4)]));
        assert_eq!(c.completed(), 10);
        assert_eq!(c.errors(), 26);
        assert_eq!(c.total(), 36);
        assert_eq!(
            t.all.len(),
            10,
            "errors are kept out of the answered latency"
        );
        assert_eq!(t.bucket(Bucket::Error).len(), 26);
        assert_eq!(live, *c, "the live counters count alike");
    }

    #[test]
    fn merging_equals_recording_everything_in_one_place() {
        let mut parts = [Recorder::new(Arc::default()), Recorder::new(Arc::default())];
        let mut single = Recorder::new(Arc::default());
        for i in 0..10_000u64 {
            let mut o = outcome(CLASSES[(i % 8) as usize], i * 37 % 250_000);
            o.send_lag = (i % 5 != 0).then(|| Duration::from_micros(i * 13 % 4_000));
            parts[(i % 2) as usize].record(&o);
            single.record(&o);
        }
        let [a, b] = parts;
        let merged = merge([a.finish().tally, b.finish().tally]);
        let single = single.finish().tally;
        assert_eq!(merged.counts, single.counts);
        assert_eq!(merged.other_statuses(), single.other_statuses());
        assert_eq!(merged.all, single.all);
        assert_eq!(merged.service, single.service);
        assert_eq!(merged.send_lag, single.send_lag);
        assert_eq!(merged.send_lag.len(), 8_000, "the shards' send lags add up");
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
            send_lag: None,
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
        assert_eq!(t.counts.dropped(), 1);
        assert_eq!(t.counts.total(), 3);
        // A request that timed out waiting for a connection is a timeout,
        // counted apart as never sent.
        assert_eq!((t.counts.errors(), t.counts.timeouts()), (1, 1));
        assert_eq!((t.counts.timeout(), t.counts.timeouts_never_sent()), (0, 1));
        assert_eq!(t.all.len(), 1);
        let recorded: u64 = Bucket::ALL.iter().map(|&b| t.bucket(b).len()).sum();
        assert_eq!(recorded, 2);
    }

    #[test]
    fn cancelled_requests_are_counted_apart_without_latency_and_tls_and_local_as_errors() {
        let mut r = Recorder::new(Arc::default());
        r.record(&outcome(Class::Cancelled, 900));
        r.record(&outcome(Class::Tls, 100));
        r.record(&outcome(Class::Local, 100));
        let t = r.finish().tally;
        assert_eq!(
            (t.counts.cancelled(), t.counts.tls(), t.counts.local()),
            (1, 1, 1)
        );
        assert_eq!(t.counts.errors(), 2, "cancelled is no error");
        assert_eq!(t.counts.sent(), 3, "a cancelled request was sent");
        assert_eq!(t.bucket(Bucket::Error).len(), 2, "no latency for cancelled");
        assert!(t.all.is_empty());
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
        assert_eq!(warmup.counts.created(), 1);
        assert_eq!(warmup.counts.total(), 1);
        assert_eq!(recorded.tally.counts.created(), 0);
        assert_eq!(recorded.tally.counts.total(), 1);
        assert_eq!(recorded.tally.all.max(), recorded.tally.all.max().min(200));
    }

    fn lagged(class: Class, lag_us: Option<u64>) -> Outcome<'static> {
        Outcome {
            send_lag: lag_us.map(Duration::from_micros),
            ..outcome(class, 1_000)
        }
    }

    /// Every request sent has a send lag, an errored one too; one never
    /// sent has none. The lag is kept in microseconds, apart from latency.
    #[test]
    fn send_lag_is_recorded_for_every_request_sent_whatever_its_outcome() {
        let mut r = Recorder::new(Arc::default());
        r.record(&lagged(Class::Status(201), Some(40)));
        r.record(&lagged(Class::Status(500), Some(7)));
        r.record(&lagged(Class::Timeout, Some(900)));
        r.record(&lagged(Class::Dropped, None));
        r.record(&lagged(Class::TimeoutNeverSent, None));
        let t = r.finish().tally;
        assert_eq!(t.send_lag.len(), 3);
        assert_eq!(t.send_lag.min(), 7, "to the microsecond");
        assert!(t.send_lag.equivalent(t.send_lag.max(), 900));
        assert_eq!(t.all.len(), 2, "latency is unchanged by the lag");
        assert!(t.all.equivalent(t.all.min(), 1_000));
    }

    #[test]
    fn warm_up_send_lag_goes_to_the_warm_up_tally() {
        let mut r = Recorder::new(Arc::default());
        let mut warm = lagged(Class::Status(201), Some(5_000));
        warm.warmup = true;
        r.record(&warm);
        r.record(&lagged(Class::Status(201), Some(20)));
        let recorded = r.finish();
        let warmup = recorded.warmup.unwrap();
        assert_eq!(warmup.send_lag.len(), 1);
        assert!(warmup.send_lag.equivalent(warmup.send_lag.max(), 5_000));
        assert_eq!(recorded.tally.send_lag.len(), 1);
        assert_eq!(recorded.tally.send_lag.max(), 20);
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
