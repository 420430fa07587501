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
use hdrhistogram::serialization::interval_log::{IntervalLogWriter, IntervalLogWriterBuilder};

use super::{Latency, micros_between, new_latency};
use crate::engine::{Class, Outcome};

/// Outcomes of one second, by kind, and the requests started in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntervalCounts {
    /// Requests started this second (the rate achieved).
    pub started: u64,
    pub created: u64,
    pub bad_request: u64,
    pub server_error: u64,
    pub other: u64,
    /// Errors of requests that were sent.
    pub errors: u64,
    /// Timed out waiting for a connection, never sent.
    pub timeouts_never_sent: u64,
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
            Class::TimeoutNeverSent => self.timeouts_never_sent += 1,
            Class::Connect | Class::Timeout | Class::Io | Class::Protocol => self.errors += 1,
        }
    }

    fn merge(&mut self, o: &IntervalCounts) {
        self.started += o.started;
        self.created += o.created;
        self.bad_request += o.bad_request;
        self.server_error += o.server_error;
        self.other += o.other;
        self.errors += o.errors;
        self.timeouts_never_sent += o.timeouts_never_sent;
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
    /// Latency (from the intended start) of the answers of this second, in
    /// µs: p50, p99 and max; `None` when nothing was answered.
    pub latency_us: Option<(u64, u64, u64)>,
}

/// One thread's share of one second.
struct Part {
    thread: usize,
    second: u64,
    counts: IntervalCounts,
    /// `None` when the thread had no answer that second.
    latency: Option<Latency>,
}

/// A generator thread's end of the series.
#[derive(Debug)]
pub struct SeriesSink {
    thread: usize,
    started: Instant,
    second: u64,
    counts: IntervalCounts,
    latency: Latency,
    parts: mpsc::Sender<Part>,
    /// Histograms the collector has emptied, for reuse: the hot path never
    /// allocates one.
    spare: mpsc::Receiver<Latency>,
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
        self.rotate_to(outcome.done);
        self.counts.add(outcome.class);
        if let Class::Status(_) = outcome.class {
            self.latency
                .saturating_record(micros_between(outcome.intended, outcome.done));
        }
    }

    #[inline]
    pub(super) fn started(&mut self, now: Instant) {
        self.rotate_to(now);
        self.counts.started += 1;
    }

    /// Closes the seconds that have passed by `now`, empty ones included,
    /// so the collector hears of every second from every thread.
    #[inline]
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
                thread: self.thread,
                second: empty,
                counts: IntervalCounts::default(),
                latency: None,
            });
        }
        self.second = second;
    }

    fn send_current(&mut self) {
        let latency = (!self.latency.is_empty()).then(|| {
            let fresh = self.spare.try_recv().unwrap_or_else(|_| new_latency());
            std::mem::replace(&mut self.latency, fresh)
        });
        // A collector that is gone has failed on its own; the run goes on.
        let _ = self.parts.send(Part {
            thread: self.thread,
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
    /// Requests started in it.
    pub started: AtomicU64,
    pub p99_us: AtomicU64,
}

/// What the collector produced.
#[derive(Debug, Default)]
pub struct Summary {
    pub intervals: Vec<Interval>,
    /// Why the interval log could not be written, when it could not; the
    /// series itself is complete.
    pub hlog_error: Option<String>,
}

/// The collector thread.
pub struct SeriesCollector {
    thread: JoinHandle<Summary>,
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
        let mut returns = Vec::with_capacity(threads);
        let sinks = (0..threads)
            .map(|thread| {
                let (back, spare) = mpsc::channel();
                returns.push(back);
                SeriesSink {
                    thread,
                    started,
                    second: 0,
                    counts: IntervalCounts::default(),
                    latency: new_latency(),
                    parts: tx.clone(),
                    spare,
                }
            })
            .collect();
        drop(tx);
        let latest = Arc::new(LatestSecond::default());
        let shared = latest.clone();
        let first_second = measure_from.as_secs();
        let thread = std::thread::Builder::new()
            .name("mcload-series".into())
            .spawn(move || {
                let mut collector = Collector {
                    threads,
                    first_second,
                    returns,
                    latest: shared,
                    summary: Summary::default(),
                    empty: new_latency(),
                };
                let mut file = hlog.map(BufWriter::new);
                match file.as_mut() {
                    Some(out) => collector.run_with_log(rx, out, started_at),
                    None => collector.run(rx, None::<&mut NoLog>),
                }
                if let (Some(mut out), None) = (file, &collector.summary.hlog_error)
                    && let Err(e) = out.flush()
                {
                    collector.summary.hlog_error = Some(e.to_string());
                }
                collector.summary
            })?;
        Ok((SeriesCollector { thread, latest }, sinks))
    }

    /// Waits for every sink to be finished or dropped, then returns the series.
    pub fn finish(self) -> Summary {
        self.thread.join().unwrap_or_else(|_| Summary {
            intervals: Vec::new(),
            hlog_error: Some("the series collector panicked".into()),
        })
    }
}

/// Where complete seconds' histograms go.
trait IntervalLog {
    fn write(&mut self, h: &Latency, second: u64) -> Result<(), String>;
}

/// No log.
enum NoLog {}

impl IntervalLog for NoLog {
    fn write(&mut self, _: &Latency, _: u64) -> Result<(), String> {
        match *self {}
    }
}

impl<W: Write> IntervalLog for IntervalLogWriter<'_, '_, W, V2DeflateSerializer> {
    fn write(&mut self, h: &Latency, second: u64) -> Result<(), String> {
        self.write_histogram(h, Duration::from_secs(second), Duration::from_secs(1), None)
            .map_err(|e| format!("{e:?}"))
    }
}

/// A second whose parts are still arriving.
struct Pending {
    parts: usize,
    counts: IntervalCounts,
    /// The merged histogram and the thread it came from.
    latency: Option<(Latency, usize)>,
}

struct Collector {
    threads: usize,
    first_second: u64,
    returns: Vec<mpsc::Sender<Latency>>,
    latest: Arc<LatestSecond>,
    summary: Summary,
    empty: Latency,
}

impl Collector {
    fn run_with_log(
        &mut self,
        parts: mpsc::Receiver<Part>,
        out: &mut BufWriter<File>,
        started_at: SystemTime,
    ) {
        let mut serializer = V2DeflateSerializer::new();
        let log = IntervalLogWriterBuilder::new()
            .add_comment(concat!(
                "mcload ",
                env!("CARGO_PKG_VERSION"),
                ": latency from the intended start, in microseconds, one interval per second"
            ))
            .with_start_time(started_at)
            .with_base_time(started_at)
            .with_max_value_divisor(1000.0)
            .begin_log_with(out, &mut serializer);
        match log {
            Ok(mut log) => self.run(parts, Some(&mut log)),
            Err(e) => {
                self.summary.hlog_error = Some(e.to_string());
                self.run(parts, None::<&mut NoLog>);
            }
        }
    }

    fn run<L: IntervalLog>(&mut self, parts: mpsc::Receiver<Part>, mut log: Option<&mut L>) {
        let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
        for part in parts {
            let entry = pending.entry(part.second).or_insert(Pending {
                parts: 0,
                counts: IntervalCounts::default(),
                latency: None,
            });
            entry.parts += 1;
            entry.counts.merge(&part.counts);
            if let Some(mut h) = part.latency {
                match &mut entry.latency {
                    Some((merged, _)) => {
                        merged.add(&h).expect("histograms share bounds");
                        h.reset();
                        let _ = self.returns[part.thread].send(h);
                    }
                    slot => *slot = Some((h, part.thread)),
                }
            }
            // Each thread sends its seconds in order, so once every thread
            // has sent a second, every earlier second is complete too.
            if entry.parts == self.threads {
                let complete: Vec<u64> = pending.range(..=part.second).map(|(&s, _)| s).collect();
                for second in complete {
                    let p = pending.remove(&second).expect("listed above");
                    self.close(second, p, &mut log);
                }
            }
        }
        // Threads that ended early leave their last seconds short of parts.
        for (second, p) in std::mem::take(&mut pending) {
            self.close(second, p, &mut log);
        }
    }

    fn close<L: IntervalLog>(&mut self, second: u64, p: Pending, log: &mut Option<&mut L>) {
        if second >= self.first_second {
            let h = p.latency.as_ref().map_or(&self.empty, |(h, _)| h);
            if let Some(writer) = log.as_deref_mut()
                && let Err(e) = writer.write(h, second)
            {
                // The series goes on without the log; the error is reported.
                self.summary.hlog_error.get_or_insert(e);
                *log = None;
            }
            let interval = Interval {
                second,
                counts: p.counts,
                latency_us: (!h.is_empty())
                    .then(|| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.max())),
            };
            self.latest.started.store(interval.counts.started, Relaxed);
            self.latest
                .p99_us
                .store(interval.latency_us.map_or(0, |l| l.1), Relaxed);
            self.latest.seconds.store(second + 1, Relaxed);
            self.summary.intervals.push(interval);
        }
        if let Some((mut h, thread)) = p.latency {
            h.reset();
            let _ = self.returns[thread].send(h);
        }
    }
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
            kind: crate::spec::BodyKind::Valid,
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
        let series = collector.finish().intervals;
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
        let (_, _, max) = series[0].latency_us.unwrap();
        assert!((29_000..=31_000).contains(&max));
        assert_eq!(series[1].counts, IntervalCounts::default());
        assert_eq!(series[1].latency_us, None, "no answers: no latency");
        assert_eq!(series[2].counts.dropped, 1);
        assert_eq!(series[2].counts.sent(), 1);
        assert!(
            series[2].latency_us.unwrap().1 >= 1_490_000,
            "{:?}",
            series[2]
        );
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
        assert_eq!(collector.finish().hlog_error, None);
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
