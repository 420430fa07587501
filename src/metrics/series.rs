//! The per-second series: each generator thread cuts its measurements into
//! one-second parts and sends them, once a second, to a collector thread
//! that merges the threads' parts of each second, keeps a small summary of
//! it, and hands its histogram to an [`IntervalSink`] (the `--hlog` file,
//! written elsewhere) as soon as the second is complete, so no second's
//! histogram is kept. The hot path only records into the current part;
//! sending happens once a second.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::windows::{Window, WindowBuilder, WindowSeries};
use super::{Counts, Kind, Latency, duration_micros, micros_between, new_latency};
use crate::engine::{Class, Outcome};

/// One second of a run, all threads merged.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Seconds from the start of the run: this interval is `[second, second + 1)`.
    pub second: u64,
    /// Requests started this second (the rate achieved).
    pub started: u64,
    /// Outcomes known during this second.
    pub counts: Counts,
    /// Latency (from the intended start) of the answers of this second, in
    /// µs: p50, p99 and max; `None` when nothing was answered.
    pub latency_us: Option<(u64, u64, u64)>,
    /// Send lag of the requests recorded this second that were sent (any
    /// outcome), in µs: p50, p99 and max; `None` when none was sent or the
    /// report predates it. Three figures, so the series stays flat.
    pub send_lag_us: Option<(u64, u64, u64)>,
}

/// One thread's share of one second.
struct Part {
    thread: usize,
    second: u64,
    started: u64,
    counts: Counts,
    /// `None` when the thread had no answer that second.
    latency: Option<Latency>,
    /// The same answers' service time.
    service: Option<Latency>,
    /// The send lag of its requests that were sent; `None` when none was.
    send_lag: Option<Latency>,
}

/// A generator thread's end of the series.
#[derive(Debug)]
pub struct SeriesSink {
    thread: usize,
    started: Instant,
    second: u64,
    started_now: u64,
    counts: Counts,
    latency: Latency,
    /// Only when asked for ([`SeriesSink::with_service_time`]): it costs
    /// the hot path a second histogram record.
    service: Option<Latency>,
    /// Send lag of the sent requests recorded this second (any outcome).
    send_lag: Latency,
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
    /// Also keeps the answers' service time, for [`SoFar::service`].
    pub fn with_service_time(mut self) -> SeriesSink {
        self.service = Some(new_latency());
        self
    }

    fn second_of(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.started).as_secs()
    }

    #[inline]
    pub(super) fn add(&mut self, outcome: &Outcome<'_>, kind: Kind) {
        self.rotate_to(outcome.done);
        self.counts.add_kind(kind);
        if let Some(lag) = outcome.send_lag {
            self.send_lag.saturating_record(duration_micros(lag));
        }
        if let Class::Status(_) = outcome.class {
            self.latency
                .saturating_record(micros_between(outcome.intended, outcome.done));
            if let Some(service) = &mut self.service {
                service.saturating_record(micros_between(outcome.sent, outcome.done));
            }
        }
    }

    #[inline]
    pub(super) fn started(&mut self, now: Instant) {
        self.rotate_to(now);
        self.started_now += 1;
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
                started: 0,
                counts: Counts::default(),
                latency: None,
                service: None,
                send_lag: None,
            });
        }
        self.second = second;
    }

    fn send_current(&mut self) {
        // A histogram that holds something goes to the collector, replaced
        // by one it has emptied.
        let spare = &self.spare;
        let take = |h: &mut Latency| {
            (!h.is_empty()).then(|| {
                let fresh = spare.try_recv().unwrap_or_else(|_| new_latency());
                std::mem::replace(h, fresh)
            })
        };
        // Latency and service time hold the same answers; errors that were
        // sent have a send lag and no latency.
        let latency = take(&mut self.latency);
        let service = self.service.as_mut().and_then(take);
        let send_lag = take(&mut self.send_lag);
        // A collector that is gone has failed on its own; the run goes on.
        let _ = self.parts.send(Part {
            thread: self.thread,
            second: self.second,
            started: std::mem::take(&mut self.started_now),
            counts: std::mem::take(&mut self.counts),
            latency,
            service,
            send_lag,
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
    /// Every window of each length asked for, in the order asked.
    pub windows: Vec<WindowSeries>,
    /// Why the interval sink failed, when it did; the series itself is
    /// complete.
    pub sink_error: Option<String>,
}

/// Takes each complete second's latency histogram, in order, while the run
/// goes on (the `--hlog` interval log implements it).
pub trait IntervalWriter {
    fn write(&mut self, second: u64, h: &Latency) -> Result<(), String>;
}

/// Where the series' histograms go. The sink opens its writer, lends it to
/// the collector for the whole run, then closes it: so a writer may borrow
/// what the sink owns (as HdrHistogram's interval-log writer does).
pub trait IntervalSink: Send {
    /// Calls `collect` exactly once, with the writer, or with `None` when
    /// the writer could not be opened (the error is returned after
    /// `collect` ran, so the series is complete either way).
    fn run(
        self: Box<Self>,
        collect: &mut dyn FnMut(Option<&mut dyn IntervalWriter>),
    ) -> Result<(), String>;
}

/// What a [`SecondWatch`] sees after each measured second.
#[derive(Debug)]
pub struct SoFar<'a> {
    /// The second that just ended, from the start of the run.
    pub second: u64,
    /// Measured seconds so far, this one included.
    pub seconds: u64,
    /// The measured part's outcomes so far.
    pub counts: &'a Counts,
    /// The latency of its answers so far, from the intended start.
    pub latency: &'a Latency,
    /// The service time of its answers so far, from the actual send;
    /// empty unless the sinks keep it ([`SeriesSink::with_service_time`]).
    pub service: &'a Latency,
    /// The send lag of its requests sent so far.
    pub send_lag: &'a Latency,
    /// For each window length asked for, the window that ended with this
    /// second, once there is a full one.
    pub windows: Vec<(u64, Option<&'a Window>)>,
}

/// Watches the series as each measured second completes, on the
/// collector's thread (off the hot path): the run's early stop on a failed
/// threshold reads it.
pub trait SecondWatch: Send {
    fn second(&mut self, so_far: &SoFar<'_>);
}

/// Several watches, each told of every second in turn.
impl SecondWatch for Vec<Box<dyn SecondWatch>> {
    fn second(&mut self, so_far: &SoFar<'_>) {
        for watch in self {
            watch.second(so_far);
        }
    }
}

/// The collector thread.
pub struct SeriesCollector {
    thread: JoinHandle<Summary>,
    pub latest: Arc<LatestSecond>,
}

impl SeriesCollector {
    /// Starts the collector for `threads` sinks whose seconds count from
    /// `started`. Seconds that end before `measure_from` (the warm-up) are
    /// left out; `sink` receives every other second's histogram. For each
    /// length in `windows` (seconds), every window of that many measured
    /// seconds is kept (see [`super::windows`]).
    pub fn start(
        threads: usize,
        started: Instant,
        measure_from: Duration,
        sink: Option<Box<dyn IntervalSink>>,
        windows: &[u64],
        watch: Option<Box<dyn SecondWatch>>,
    ) -> io::Result<(SeriesCollector, Vec<SeriesSink>)> {
        let builders: Vec<WindowBuilder> = windows.iter().map(|&w| WindowBuilder::new(w)).collect();
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
                    started_now: 0,
                    counts: Counts::default(),
                    latency: new_latency(),
                    service: None,
                    send_lag: new_latency(),
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
                    windows: builders,
                    so_far: watch.map(|w| SoFarState {
                        watch: w,
                        counts: Counts::default(),
                        latency: new_latency(),
                        service: new_latency(),
                        send_lag: new_latency(),
                        seconds: 0,
                    }),
                };
                let mut rx = Some(rx);
                match sink {
                    Some(sink) => {
                        let done = sink.run(&mut |writer| {
                            if let Some(rx) = rx.take() {
                                collector.run(rx, writer);
                            }
                        });
                        // A sink that never called back still gets the series.
                        if let Some(rx) = rx.take() {
                            collector.run(rx, None);
                        }
                        if let Err(e) = done {
                            collector.summary.sink_error.get_or_insert(e);
                        }
                    }
                    None => collector.run(rx.take().expect("not taken yet"), None),
                }
                collector.summary.windows = std::mem::take(&mut collector.windows)
                    .into_iter()
                    .map(WindowBuilder::finish)
                    .collect();
                collector.summary
            })?;
        Ok((SeriesCollector { thread, latest }, sinks))
    }

    /// Waits for every sink to be finished or dropped, then returns the series.
    pub fn finish(self) -> Summary {
        self.thread.join().unwrap_or_else(|_| Summary {
            intervals: Vec::new(),
            windows: Vec::new(),
            sink_error: Some("the series collector panicked".into()),
        })
    }
}

/// A second whose parts are still arriving.
struct Pending {
    parts: usize,
    started: u64,
    counts: Counts,
    /// The merged histogram and the thread it came from.
    latency: Option<(Latency, usize)>,
    service: Option<(Latency, usize)>,
    send_lag: Option<(Latency, usize)>,
}

/// The watch, with the measured part's counts, latency, service time and
/// send lag so far and its seconds.
struct SoFarState {
    watch: Box<dyn SecondWatch>,
    counts: Counts,
    latency: Latency,
    service: Latency,
    send_lag: Latency,
    seconds: u64,
}

struct Collector {
    threads: usize,
    first_second: u64,
    returns: Vec<mpsc::Sender<Latency>>,
    latest: Arc<LatestSecond>,
    summary: Summary,
    empty: Latency,
    windows: Vec<WindowBuilder>,
    so_far: Option<SoFarState>,
}

/// Adds a thread's histogram into a second's: the first one becomes the
/// second's, every later one goes back to its thread, emptied, for reuse.
fn merge_part(
    slot: &mut Option<(Latency, usize)>,
    h: Option<Latency>,
    thread: usize,
    returns: &[mpsc::Sender<Latency>],
) {
    let Some(mut h) = h else { return };
    match slot {
        Some((merged, _)) => {
            merged.add(&h).expect("histograms share bounds");
            h.reset();
            let _ = returns[thread].send(h);
        }
        slot => *slot = Some((h, thread)),
    }
}

/// A second's p50, p99 and max in µs; `None` for an empty histogram.
fn figures(h: &Latency) -> Option<(u64, u64, u64)> {
    (!h.is_empty()).then(|| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.max()))
}

impl Collector {
    fn run(&mut self, parts: mpsc::Receiver<Part>, mut log: Option<&mut dyn IntervalWriter>) {
        let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
        for part in parts {
            let entry = pending.entry(part.second).or_insert(Pending {
                parts: 0,
                started: 0,
                counts: Counts::default(),
                latency: None,
                service: None,
                send_lag: None,
            });
            entry.parts += 1;
            entry.started += part.started;
            entry.counts += &part.counts;
            merge_part(&mut entry.latency, part.latency, part.thread, &self.returns);
            merge_part(&mut entry.service, part.service, part.thread, &self.returns);
            merge_part(
                &mut entry.send_lag,
                part.send_lag,
                part.thread,
                &self.returns,
            );
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

    fn close(&mut self, second: u64, p: Pending, log: &mut Option<&mut dyn IntervalWriter>) {
        if second >= self.first_second {
            let h = p.latency.as_ref().map_or(&self.empty, |(h, _)| h);
            if let Some(writer) = log.as_deref_mut()
                && let Err(e) = writer.write(second, h)
            {
                // The series goes on without the log; the error is reported.
                self.summary.sink_error.get_or_insert(e);
                *log = None;
            }
            for window in &mut self.windows {
                window.push(second, &p.counts, p.latency.as_ref().map(|(h, _)| h));
            }
            if let Some(so_far) = &mut self.so_far {
                so_far.counts += &p.counts;
                if let Some((h, _)) = &p.latency {
                    so_far.latency.add(h).expect("histograms share bounds");
                }
                if let Some((h, _)) = &p.service {
                    so_far.service.add(h).expect("histograms share bounds");
                }
                if let Some((h, _)) = &p.send_lag {
                    so_far.send_lag.add(h).expect("histograms share bounds");
                }
                so_far.seconds += 1;
                so_far.watch.second(&SoFar {
                    second,
                    seconds: so_far.seconds,
                    counts: &so_far.counts,
                    latency: &so_far.latency,
                    service: &so_far.service,
                    send_lag: &so_far.send_lag,
                    windows: self
                        .windows
                        .iter()
                        .map(|w| (w.length(), w.latest()))
                        .collect(),
                });
            }
            let interval = Interval {
                second,
                started: p.started,
                counts: p.counts,
                latency_us: figures(h),
                send_lag_us: p.send_lag.as_ref().and_then(|(h, _)| figures(h)),
            };
            self.latest.started.store(interval.started, Relaxed);
            self.latest
                .p99_us
                .store(interval.latency_us.map_or(0, |l| l.1), Relaxed);
            self.latest.seconds.store(second + 1, Relaxed);
            self.summary.intervals.push(interval);
        }
        for (mut h, thread) in p.latency.into_iter().chain(p.service).chain(p.send_lag) {
            h.reset();
            let _ = self.returns[thread].send(h);
        }
    }
}

#[cfg(test)]
mod tests;
