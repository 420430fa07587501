//! The `/metrics` page of `run --metrics-listen`, in the Prometheus text
//! format (0.0.4), written by `prometheus-client`. It is a snapshot taken
//! at scrape time: the outcome counts and requests started are read from
//! the generator threads' live counters, the latency and service-time
//! histograms from the per-second series as each second completes, so the
//! hot path gains no shared metric and no lock. Once the run has ended,
//! the page shows the report's own final figures ([`LiveMetrics::finish`]).

use std::borrow::Cow;
use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::RunReport;
use crate::metrics::{Counts, Kind, Latency, SecondWatch, SoFar};

/// The `Content-Type` of the page.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The upper bounds of the histograms' buckets, in seconds (`+Inf` is
/// added): half a millisecond to a minute, about three per decade.
pub const BUCKETS_S: [f64; 16] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
];

/// Every metric name the page can hold, as a query names it (a
/// histogram's series add `_bucket`, `_sum` and `_count`).
pub const METRIC_NAMES: [&str; 6] = [
    "mcload_requests_started_total",
    "mcload_outcomes_total",
    "mcload_in_flight",
    "mcload_run_ended",
    "mcload_latency_seconds",
    "mcload_service_time_seconds",
];

/// The `class` label of each outcome series, its `status` label when it
/// is an answer, and the kinds it counts. The two kinds of timeout are one
/// class, as in the report's `errors.timeout`.
const CLASSES: [(&str, Option<&str>, &[Kind]); 12] = [
    ("status", Some("201"), &[Kind::Created]),
    ("status", Some("400"), &[Kind::BadRequest]),
    ("status", Some("500"), &[Kind::ServerError]),
    ("status", Some("other"), &[Kind::OtherStatus]),
    ("connect", None, &[Kind::Connect]),
    ("tls", None, &[Kind::Tls]),
    ("local", None, &[Kind::Local]),
    ("timeout", None, &[Kind::Timeout, Kind::TimeoutNeverSent]),
    ("io", None, &[Kind::Io]),
    ("protocol", None, &[Kind::Protocol]),
    ("dropped", None, &[Kind::Dropped]),
    ("cancelled", None, &[Kind::Cancelled]),
];

/// A latency histogram cut into [`BUCKETS_S`], as Prometheus keeps one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets {
    /// Values in each bucket: above the previous bound, at or below this
    /// one; the last is `+Inf`'s.
    pub per_bucket: [u64; BUCKETS_S.len() + 1],
    pub sum_s: f64,
    pub count: u64,
}

impl Buckets {
    /// The buckets of a histogram in microseconds. A value counts in the
    /// first bucket whose bound holds its whole HdrHistogram bucket.
    pub fn of(h: &Latency) -> Buckets {
        let mut b = Buckets {
            count: h.len(),
            sum_s: h.mean() * h.len() as f64 / 1e6,
            ..Buckets::default()
        };
        for v in h.iter_recorded() {
            let seconds = v.value_iterated_to() as f64 / 1e6;
            let bucket = BUCKETS_S
                .iter()
                .position(|&bound| seconds <= bound)
                .unwrap_or(BUCKETS_S.len());
            b.per_bucket[bucket] += v.count_at_value();
        }
        b
    }
}

/// What the page shows at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub started: u64,
    /// Outcomes, warm-up included (the live counters count it).
    pub counts: Counts,
    /// Of the measured part, as the report's latency.
    pub latency: Buckets,
    pub service: Buckets,
    /// The run has ended: these are the report's final figures.
    pub ended: bool,
}

impl Snapshot {
    /// Requests started and not ended yet. Queued requests that an
    /// interrupt drops were started too, so the end shows zero outright.
    pub fn in_flight(&self) -> u64 {
        if self.ended {
            return 0;
        }
        let ended = self.counts.total() - self.counts.dropped();
        self.started.saturating_sub(ended)
    }
}

/// The labels every series carries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunLabels {
    pub scenario: String,
    /// The target's base URL.
    pub target: String,
    /// `K/N` of a sharded run (none yet: shards are not built).
    pub shard: Option<String>,
}

/// Reads the live counters: requests started and outcomes so far.
pub type LiveSource = Box<dyn Fn() -> (u64, Counts) + Send>;

#[derive(Default)]
struct State {
    labels: RunLabels,
    live: Option<LiveSource>,
    latency: Buckets,
    service: Buckets,
    /// Set once the run has ended.
    last: Option<Snapshot>,
}

/// The metrics a `/metrics` endpoint serves, shared between the run (which
/// feeds it) and the server (which renders it on each scrape).
#[derive(Default)]
pub struct LiveMetrics {
    state: Mutex<State>,
    /// Told when a scrape has read the final figures.
    final_scraped: tokio::sync::Notify,
}

impl LiveMetrics {
    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding it; a poisoned state is still whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The load starts: the run's labels and where its live counts are.
    pub fn start(&self, labels: RunLabels, live: LiveSource) {
        let mut state = self.state();
        state.labels = labels;
        state.live = Some(live);
    }

    /// The run has ended: from now on the page shows the report's counts
    /// (warm-up included) and histograms, and the requests started as the
    /// live counters last said.
    pub fn finish(&self, report: &RunReport) {
        let mut state = self.state();
        let mut counts = report.tally.counts;
        if let Some((_, warmup)) = &report.warmup {
            counts += &warmup.counts;
        }
        let started = state.live.take().map_or(0, |live| live().0);
        state.last = Some(Snapshot {
            started,
            counts,
            latency: Buckets::of(&report.tally.all),
            service: Buckets::of(&report.tally.service),
            ended: true,
        });
    }

    /// The figures now.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.state();
        if let Some(last) = &state.last {
            return last.clone();
        }
        let (started, counts) = state.live.as_ref().map_or_else(Default::default, |l| l());
        Snapshot {
            started,
            counts,
            latency: state.latency.clone(),
            service: state.service.clone(),
            ended: false,
        }
    }

    /// The page in the Prometheus text format.
    pub fn render(&self) -> String {
        let labels = self.state().labels.clone();
        let snapshot = self.snapshot();
        let text = exposition(&labels, &snapshot);
        if snapshot.ended {
            self.final_scraped.notify_one();
        }
        text
    }

    /// Resolves once a scrape has read the final figures (at once when
    /// one already has).
    pub async fn final_scrape(&self) {
        self.final_scraped.notified().await;
    }
}

/// Feeds the page's histograms as each measured second completes.
pub struct HistogramFeed(pub Arc<LiveMetrics>);

impl SecondWatch for HistogramFeed {
    fn second(&mut self, so_far: &SoFar<'_>) {
        // Cut outside the lock, so a scrape never waits on it.
        let latency = Buckets::of(so_far.latency);
        let service = Buckets::of(so_far.service);
        let mut state = self.0.state();
        state.latency = latency;
        state.service = service;
    }
}

/// The page for `snapshot`, every series labelled with `labels`.
pub fn exposition(labels: &RunLabels, snapshot: &Snapshot) -> String {
    let mut pairs: Vec<(Cow<'static, str>, Cow<'static, str>)> = vec![
        ("scenario".into(), labels.scenario.clone().into()),
        ("target".into(), labels.target.clone().into()),
    ];
    if let Some(shard) = &labels.shard {
        pairs.push(("shard".into(), shard.clone().into()));
    }
    let mut registry = Registry::with_labels(pairs.into_iter());
    registry.register_collector(Box::new(Page(snapshot.clone())));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        .expect("writing to a String cannot fail");
    text
}

/// One scrape's figures, encoded as metric families.
#[derive(Debug)]
struct Page(Snapshot);

/// A histogram whose buckets are already counted.
#[derive(Debug)]
struct ConstHistogram<'a>(&'a Buckets);

impl EncodeMetric for ConstHistogram<'_> {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::MetricEncoder,
    ) -> Result<(), std::fmt::Error> {
        // The encoder sums them into the format's cumulative buckets.
        let buckets: Vec<(f64, u64)> = BUCKETS_S
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.0.per_bucket)
            .collect();
        encoder.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            self.0.sum_s,
            self.0.count,
            &buckets,
            None,
        )
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

impl Collector for Page {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let counter = |n: u64| ConstCounter::new(n);
        counter(s.started).encode(encoder.encode_descriptor(
            "mcload_requests_started",
            "Requests started, warm-up included (not those dropped at the max_in_flight gate).",
            None,
            MetricType::Counter,
        )?)?;
        {
            let mut family = encoder.encode_descriptor(
                "mcload_outcomes",
                "Requests ended, by outcome class and, for answers, status (201, 400, 500, other); warm-up included.",
                None,
                MetricType::Counter,
            )?;
            for (class, status, kinds) in CLASSES {
                let n: u64 = kinds.iter().map(|&k| s.counts.get(k)).sum();
                let mut labels = vec![("class", class)];
                labels.extend(status.map(|st| ("status", st)));
                counter(n).encode(family.encode_family(&labels)?)?;
            }
        }
        ConstGauge::new(s.in_flight() as i64).encode(encoder.encode_descriptor(
            "mcload_in_flight",
            "Requests started and not ended: waiting for a connection or on the wire.",
            None,
            MetricType::Gauge,
        )?)?;
        ConstGauge::new(i64::from(s.ended)).encode(encoder.encode_descriptor(
            "mcload_run_ended",
            "1 once the run has ended and the figures are the report's final ones.",
            None,
            MetricType::Gauge,
        )?)?;
        ConstHistogram(&s.latency).encode(encoder.encode_descriptor(
            "mcload_latency_seconds",
            "Latency of answered requests from their intended start (coordinated-omission corrected), measured part only.",
            None,
            MetricType::Histogram,
        )?)?;
        ConstHistogram(&s.service).encode(encoder.encode_descriptor(
            "mcload_service_time_seconds",
            "Service time of answered requests, from the actual send, measured part only.",
            None,
            MetricType::Histogram,
        )?)?;
        Ok(())
    }
}
