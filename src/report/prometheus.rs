//! The `/metrics` page of `run --metrics-listen`, in the Prometheus text
//! format (0.0.4), written by `prometheus-client`. It is a snapshot taken
//! at scrape time: the outcome counts and requests started are read from
//! the generator threads' live counters, the latency, service-time and
//! send-lag histograms from the per-second series as each second
//! completes, so the hot path gains no shared metric and no lock. Once the run has ended,
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
pub const METRIC_NAMES: [&str; 7] = [
    "mcload_requests_started_total",
    "mcload_outcomes_total",
    "mcload_in_flight",
    "mcload_run_ended",
    "mcload_latency_seconds",
    "mcload_service_time_seconds",
    "mcload_send_lag_seconds",
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
    /// Of the measured part, as the report's send lag.
    pub send_lag: Buckets,
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
    send_lag: Buckets,
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
            send_lag: Buckets::of(&report.tally.send_lag),
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
            send_lag: state.send_lag.clone(),
            ended: false,
        }
    }

    /// The page in the Prometheus text format: empty until the load
    /// starts, so that no series goes out without the run's labels.
    pub fn render(&self) -> String {
        let labels = {
            let state = self.state();
            if state.live.is_none() && state.last.is_none() {
                return String::new();
            }
            state.labels.clone()
        };
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
        let send_lag = Buckets::of(so_far.send_lag);
        let mut state = self.0.state();
        state.latency = latency;
        state.service = service;
        state.send_lag = send_lag;
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
        ConstHistogram(&s.send_lag).encode(encoder.encode_descriptor(
            "mcload_send_lag_seconds",
            "Send lag of requests sent, any outcome: the generator's own lateness from the later of the intended start and a free connection to the request handed to it, measured part only.",
            None,
            MetricType::Histogram,
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Class, Outcome, Record};
    use crate::metrics::{Recorder, Tally, new_latency};
    use std::time::{Duration, Instant};

    fn labels() -> RunLabels {
        RunLabels {
            scenario: "soak \"eu\"".into(),
            target: "http://127.0.0.1:8080".into(),
            shard: Some("2/4".into()),
        }
    }

    /// A tally of `n` outcomes of each class, each answer taking `ms`,
    /// each request sent 30 µs late.
    fn tally(classes: &[Class], n: usize, ms: u64) -> Tally {
        let mut recorder = Recorder::new(Arc::default());
        let intended = Instant::now();
        for &class in classes {
            for _ in 0..n {
                recorder.record(&Outcome {
                    intended,
                    sent: intended + Duration::from_millis(ms / 2),
                    done: intended + Duration::from_millis(ms),
                    send_lag: (class != Class::Dropped).then_some(Duration::from_micros(30)),
                    class,
                    warmup: false,
                    kind: crate::spec::BodyKind::Valid,
                    location: None,
                });
            }
        }
        recorder.finish().tally
    }

    /// The value of the one series whose line starts with `series`.
    fn value(page: &str, series: &str) -> f64 {
        let lines: Vec<&str> = page.lines().filter(|l| l.starts_with(series)).collect();
        assert_eq!(lines.len(), 1, "{series} in\n{page}");
        lines[0].rsplit(' ').next().unwrap().parse().unwrap()
    }

    #[test]
    fn the_page_is_prometheus_text_with_the_runs_labels_on_every_series() {
        let t = tally(
            &[Class::Status(201), Class::Status(503), Class::Timeout],
            3,
            4,
        );
        let snapshot = Snapshot {
            started: 10,
            counts: t.counts,
            latency: Buckets::of(&t.all),
            service: Buckets::of(&t.service),
            send_lag: Buckets::of(&t.send_lag),
            ended: false,
        };
        let page = exposition(&labels(), &snapshot);
        let mut families = Vec::new();
        for line in page.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                families.push(name.to_string());
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            // name{labels} value: the labels, escaped, then a number.
            let (series, number) = line.rsplit_once(' ').unwrap();
            assert!(number == "+Inf" || number.parse::<f64>().is_ok(), "{line}");
            let name = &series[..series.find('{').expect("every series has labels")];
            assert!(
                families.iter().any(|f| name.starts_with(f.as_str())),
                "{name} follows its # TYPE line"
            );
            assert!(
                series.contains(
                    r#"{scenario="soak \"eu\"",target="http://127.0.0.1:8080",shard="2/4""#
                ),
                "{line}"
            );
        }
        let mut names: Vec<&str> = families.iter().map(String::as_str).collect();
        names.sort_unstable();
        let mut expected = METRIC_NAMES;
        expected.sort_unstable();
        assert_eq!(names, expected, "the families are the documented ones");
        let outcome = |class: &str| {
            value(
                &page,
                &format!(
                    r#"mcload_outcomes_total{{scenario="soak \"eu\"",target="http://127.0.0.1:8080",shard="2/4",class="{class}"#
                ),
            )
        };
        assert_eq!(outcome(r#"status",status="201"}"#), 3.0);
        assert_eq!(outcome(r#"status",status="other"}"#), 3.0);
        assert_eq!(outcome(r#"timeout"}"#), 3.0);
        assert_eq!(outcome(r#"dropped"}"#), 0.0);
        assert_eq!(
            value(&page, "mcload_in_flight{"),
            1.0,
            "10 started, 9 ended"
        );
        assert_eq!(value(&page, "mcload_latency_seconds_count{"), 6.0);
        assert!(page.contains(r#"le="0.005"} 6"#), "4 ms answers: {page}");
        assert!(page.contains(r#"le="0.002"} 0"#), "{page}");
        assert_eq!(
            value(&page, "mcload_send_lag_seconds_count{"),
            9.0,
            "errors were sent too"
        );
    }

    #[test]
    fn the_buckets_hold_each_value_at_or_below_their_bound_in_seconds() {
        let mut h = new_latency();
        for micros in [100, 500, 501, 1_000, 70_000_000] {
            h.record(micros).unwrap();
        }
        let b = Buckets::of(&h);
        assert_eq!(b.count, 5);
        assert_eq!(b.per_bucket[0], 2, "0.1 ms and 0.5 ms in le=0.0005");
        assert_eq!(b.per_bucket[1], 2, "0.501 ms and 1 ms in le=0.001");
        assert_eq!(
            b.per_bucket[BUCKETS_S.len()],
            1,
            "70 s beyond the last bound"
        );
        assert_eq!(b.per_bucket.iter().sum::<u64>(), 5);
        assert!((b.sum_s - 70.002101).abs() < 0.1, "{}", b.sum_s);
    }

    #[test]
    fn after_the_run_the_page_shows_the_reports_counts_warm_up_included_and_none_in_flight() {
        let metrics = LiveMetrics::default();
        assert_eq!(metrics.render(), "", "no series before the run's labels");
        let live = Counts::from_pairs([(Kind::Created, 4)]);
        metrics.start(labels(), Box::new(move || (9, live)));
        let now = metrics.snapshot();
        assert_eq!((now.started, now.in_flight(), now.ended), (9, 5, false));
        let mut report = RunReport::example();
        report.tally = tally(&[Class::Status(201), Class::Dropped], 5, 2);
        report.warmup = Some((Duration::from_secs(1), tally(&[Class::Status(400)], 2, 1)));
        metrics.finish(&report);
        let last = metrics.snapshot();
        assert!(last.ended);
        assert_eq!(last.started, 9, "the live count, read once more");
        assert_eq!(
            (
                last.counts.created(),
                last.counts.bad_request(),
                last.counts.dropped()
            ),
            (5, 2, 5)
        );
        assert_eq!(last.in_flight(), 0);
        assert_eq!(last.latency, Buckets::of(&report.tally.all));
        assert_eq!(last.service.count, 5, "the measured part's answers");
        assert_eq!(last.send_lag, Buckets::of(&report.tally.send_lag));
        assert_eq!(
            last.send_lag.count, 5,
            "every request sent, dropped ones not"
        );
        let page = metrics.render();
        assert_eq!(value(&page, "mcload_run_ended{"), 1.0);
        // The scrape that read the final figures is told of.
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(5), metrics.final_scrape())
                    .await
                    .expect("a scrape read the final figures")
            });
    }
}
