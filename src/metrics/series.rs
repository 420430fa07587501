//! The per-second series: each generator thread cuts its measurements into
//! one-second parts and sends them, once a second, to a collector thread
//! that merges the threads' parts of each second, keeps a small summary of
//! it, and writes its histogram to an HdrHistogram interval log. The hot
//! path only records into the current part; sending happens once a second.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;

use super::{Latency, micros_between, new_latency};
use crate::engine::{Class, Outcome};

/// Outcomes of one second, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntervalCounts {
    pub created: u64,
    pub bad_request: u64,
    pub server_error: u64,
    pub other: u64,
    pub errors: u64,
    pub dropped: u64,
}

impl IntervalCounts {
    #[inline]
    fn add(&mut self, class: Class) {
        match class {
            Class::Status(201) => self.created += 1,
            Class::Status(400) => self.bad_request += 1,
            Class::Status(500) => self.server_error += 1,
            Class::Status(_) => self.other += 1,
            Class::Dropped => self.dropped += 1,
            Class::Connect | Class::Timeout | Class::Io | Class::Protocol => self.errors += 1,
        }
    }

    fn merge(&mut self, o: &IntervalCounts) {
        self.created += o.created;
        self.bad_request += o.bad_request;
        self.server_error += o.server_error;
        self.other += o.other;
        self.errors += o.errors;
        self.dropped += o.dropped;
    }

    /// Requests that were sent and ended this second (answered or failed).
    pub fn sent(&self) -> u64 {
        self.created + self.bad_request + self.server_error + self.other + self.errors
    }
}

/// One second of a run, all threads merged.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Seconds from the start of the run: this interval is `[second, second + 1)`.
    pub second: u64,
    /// Outcomes known during this second.
    pub counts: IntervalCounts,
    /// Latency (from the intended start) of the answers of this second, in µs.
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// One thread's share of one second.
struct Part {
    second: u64,
    counts: IntervalCounts,
    /// `None` when the thread had no answer that second.
    latency: Option<Latency>,
}

/// A generator thread's end of the series.
#[derive(Debug)]
pub struct SeriesSink {
    started: Instant,
    second: u64,
    counts: IntervalCounts,
    latency: Latency,
    parts: mpsc::Sender<Part>,
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part")
            .field("second", &self.second)
            .finish()
    }
}

impl SeriesSink {
    fn second_of(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.started).as_secs()
    }

    #[inline]
    pub(super) fn add(&mut self, outcome: &Outcome<'_>) {
        let second = self.second_of(outcome.done);
        if second > self.second {
            self.rotate_to_second(second);
        }
        self.counts.add(outcome.class);
        if let Class::Status(_) = outcome.class {
            self.latency
                .saturating_record(micros_between(outcome.intended, outcome.done));
        }
    }

    /// Closes the seconds that have passed by `now`, empty ones included,
    /// so the collector hears of every second from every thread.
    pub(super) fn rotate_to(&mut self, now: Instant) {
        let second = self.second_of(now);
        if second > self.second {
            self.rotate_to_second(second);
        }
    }

    fn rotate_to_second(&mut self, second: u64) {
        self.send_current();
        for empty in self.second + 1..second {
            let _ = self.parts.send(Part {
                second: empty,
                counts: IntervalCounts::default(),
                latency: None,
            });
        }
        self.second = second;
    }

    fn send_current(&mut self) {
        let latency =
            (!self.latency.is_empty()).then(|| std::mem::replace(&mut self.latency, new_latency()));
        // A collector that is gone has failed on its own; the run goes on.
        let _ = self.parts.send(Part {
            second: self.second,
            counts: std::mem::take(&mut self.counts),
            latency,
        });
    }

    /// Sends the last, partial second.
    pub(super) fn finish(mut self) {
        self.send_current();
    }
}

/// The latest complete second, for the live progress line.
#[derive(Debug, Default)]
pub struct LatestSecond {
    /// Seconds completed so far.
    pub seconds: AtomicU64,
    pub sent: AtomicU64,
    pub p99_us: AtomicU64,
}

/// What the collector produced.
#[derive(Debug, Default)]
pub struct Summary {
    pub intervals: Vec<Interval>,
}

/// The collector thread.
pub struct SeriesCollector {
    thread: JoinHandle<io::Result<Summary>>,
    pub latest: Arc<LatestSecond>,
}

impl SeriesCollector {
    /// Starts the collector for `threads` sinks. Seconds that end before
    /// `measure_from` (the warm-up) are left out; `hlog` receives every
    /// other second's histogram.
    pub fn start(
        threads: usize,
        started: Instant,
        started_at: SystemTime,
        measure_from: Duration,
        hlog: Option<File>,
    ) -> io::Result<(SeriesCollector, Vec<SeriesSink>)> {
        let (tx, rx) = mpsc::channel();
        let sinks = (0..threads)
            .map(|_| SeriesSink {
                started,
                second: 0,
                counts: IntervalCounts::default(),
                latency: new_latency(),
                parts: tx.clone(),
            })
            .collect();
        drop(tx);
        let latest = Arc::new(LatestSecond::default());
        let shared = latest.clone();
        let first_second = measure_from.as_secs();
        let thread = std::thread::Builder::new()
            .name("mcload-series".into())
            .spawn(move || collect(rx, threads, first_second, started_at, hlog, &shared))?;
        Ok((SeriesCollector { thread, latest }, sinks))
    }

    /// Waits for every sink to be finished or dropped, then returns the series.
    pub fn finish(self) -> io::Result<Summary> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the series collector panicked")))
    }
}

/// A second whose parts are still arriving.
struct Pending {
    parts: usize,
    counts: IntervalCounts,
    latency: Option<Latency>,
}

fn collect(
    parts: mpsc::Receiver<Part>,
    threads: usize,
    first_second: u64,
    started_at: SystemTime,
    hlog: Option<File>,
    latest: &LatestSecond,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut file = hlog.map(BufWriter::new);
    let mut log = match file.as_mut() {
        Some(out) => Some(
            IntervalLogWriterBuilder::new()
                .add_comment(concat!(
                    "mcload ",
                    env!("CARGO_PKG_VERSION"),
                    ": latency from the intended start, in microseconds, one interval per second"
                ))
                .with_start_time(started_at)
                .with_base_time(started_at)
                .with_max_value_divisor(1000.0)
                .begin_log_with(out, &mut serializer)?,
        ),
        None => None,
    };
    let empty = new_latency();
    let mut close = |second: u64, p: Pending| -> io::Result<()> {
        if second < first_second {
            return Ok(());
        }
        let h = p.latency.as_ref().unwrap_or(&empty);
        if let Some(log) = log.as_mut() {
            log.write_histogram(h, Duration::from_secs(second), Duration::from_secs(1), None)
                .map_err(|e| io::Error::other(format!("cannot write the interval log: {e:?}")))?;
        }
        let interval = Interval {
            second,
            counts: p.counts,
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        };
        latest.sent.store(interval.counts.sent(), Relaxed);
        latest.p99_us.store(interval.p99_us, Relaxed);
        latest.seconds.store(second + 1, Relaxed);
        summary.intervals.push(interval);
        Ok(())
    };
    for part in parts {
        let entry = pending.entry(part.second).or_insert(Pending {
            parts: 0,
            counts: IntervalCounts::default(),
            latency: None,
        });
        entry.parts += 1;
        entry.counts.merge(&part.counts);
        if let Some(h) = part.latency {
            match &mut entry.latency {
                Some(merged) => merged.add(&h).expect("histograms share bounds"),
                slot => *slot = Some(h),
            }
        }
        // Each thread sends its seconds in order, so once every thread has
        // sent a second, every earlier second is complete too.
        if entry.parts == threads {
            let complete: Vec<u64> = pending.range(..=part.second).map(|(&s, _)| s).collect();
            for second in complete {
                let p = pending.remove(&second).expect("listed above");
                close(second, p)?;
            }
        }
    }
    // Threads that ended early leave their last seconds short of parts.
    for (second, p) in std::mem::take(&mut pending) {
        close(second, p)?;
    }
    drop(log);
    if let Some(mut out) = file {
        out.flush()?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    fn outcome(started: Instant, done_ms: u64, latency_ms: u64, class: Class) -> Outcome<'static> {
        let done = started + Duration::from_millis(done_ms);
        Outcome {
            intended: done - Duration::from_millis(latency_ms),
            sent: done - Duration::from_millis(latency_ms),
            done,
            class,
            warmup: false,
            kind: crate::generate::BodyKind::Valid,
            location: None,
        }
    }

    #[test]
    fn seconds_from_all_threads_merge_and_empty_seconds_are_kept() {
        let started = Instant::now();
        let (collector, sinks) =
            SeriesCollector::start(2, started, SystemTime::now(), Duration::ZERO, None).unwrap();
        let [mut a, mut b]: [SeriesSink; 2] = sinks.try_into().unwrap();
        // Second 0: thread a answers twice, thread b fails once.
        a.add(&outcome(started, 100, 10, Class::Status(201)));
        a.add(&outcome(started, 900, 30, Class::Status(400)));
        b.add(&outcome(started, 500, 5, Class::Timeout));
        // Second 1 is empty everywhere (a stall); second 2 has one answer.
        a.add(&outcome(started, 2_100, 1_500, Class::Status(201)));
        b.rotate_to(started + Duration::from_millis(2_200));
        b.add(&outcome(started, 2_300, 0, Class::Dropped));
        a.finish();
        b.finish();
        let series = collector.finish().unwrap().intervals;
        let seconds: Vec<u64> = series.iter().map(|i| i.second).collect();
        assert_eq!(seconds, [0, 1, 2]);
        assert_eq!(
            series[0].counts,
            IntervalCounts {
                created: 1,
                bad_request: 1,
                errors: 1,
                ..Default::default()
            }
        );
        assert_eq!(series[0].counts.sent(), 3);
        assert!(series[0].max_us >= 29_000 && series[0].max_us <= 31_000);
        assert_eq!(series[1].counts, IntervalCounts::default());
        assert_eq!(series[2].counts.dropped, 1);
        assert_eq!(series[2].counts.sent(), 1);
        assert!(series[2].p99_us >= 1_490_000, "{:?}", series[2]);
    }

    #[test]
    fn warm_up_seconds_are_left_out() {
        let started = Instant::now();
        let (collector, sinks) =
            SeriesCollector::start(1, started, SystemTime::now(), Duration::from_secs(2), None)
                .unwrap();
        let [mut a]: [SeriesSink; 1] = sinks.try_into().unwrap();
        a.add(&outcome(started, 3_500, 1, Class::Status(201)));
        a.finish();
        let seconds: Vec<u64> = collector
            .finish()
            .unwrap()
            .intervals
            .iter()
            .map(|i| i.second)
            .collect();
        assert_eq!(seconds, [2, 3]);
    }

    #[test]
    fn the_interval_log_reads_back_to_the_recorded_histograms() {
        let dir = std::env::temp_dir().join(format!("mcload-hlog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("unit.hlog");
        let started = Instant::now();
        let (collector, sinks) = SeriesCollector::start(
            1,
            started,
            SystemTime::now(),
            Duration::ZERO,
            Some(File::create(&path).unwrap()),
        )
        .unwrap();
        let [mut a]: [SeriesSink; 1] = sinks.try_into().unwrap();
        let mut expected = new_latency();
        for i in 0..3_000u64 {
            let o = outcome(started, i, i % 97, Class::Status(201));
            expected.record(micros_between(o.intended, o.done)).unwrap();
            a.add(&o);
        }
        a.finish();
        collector.finish().unwrap();
        let text = std::fs::read(&path).unwrap();
        let mut merged = new_latency();
        let mut deserializer = Deserializer::new();
        let mut intervals = 0;
        for entry in IntervalLogIterator::new(&text) {
            if let LogEntry::Interval(i) = entry.unwrap() {
                let bytes = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    i.encoded_histogram(),
                )
                .unwrap();
                let h: Latency = deserializer.deserialize(&mut bytes.as_slice()).unwrap();
                merged.add(&h).unwrap();
                intervals += 1;
            }
        }
        assert_eq!(intervals, 3);
        assert_eq!(merged, expected);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
