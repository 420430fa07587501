//! A whole run as one library call: [`execute`] finds or starts the target,
//! runs the load with a metrics recorder and a checks recorder on every
//! generator thread, and returns what was measured and judged, as data.
//! It prints nothing: the command (or a test) decides what to show, and
//! which exit code the [`Cause`]s call for.

mod limits;
mod metrics_endpoint;
mod start;

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::checks::{self, IdChecker};
use crate::engine::{self, Control, Endpoint, Pacing, RunStart, TargetError};
use crate::generate::BodyGenerator;
use crate::metrics::{
    self, Counts, ErrorSamples, Kind, LatestSecond, LiveCounts, Recorder, SeriesCollector,
};
use crate::reference::{Embedded, Faults, StatsSnapshot};
use crate::report::{Generator, HlogFile, RunHeader, RunReport, ServerCounts};
use crate::scenario::{DEFAULT_GRACE, Model, Scenario, Scheme, TargetUrl};
use crate::schedule::{ClosedSchedule, OpenSchedule, Schedule};
pub use crate::verdict::Cause;
use crate::verdict::{self, Measured};
pub use limits::{DescriptorNeed, DescriptorShortage};
pub use metrics_endpoint::{LingerEnd, ListenError, MetricsEndpoint, MetricsWatch, Serving};
pub use start::{DEFAULT_START_TOLERANCE, StartAt, StartError, Started, parse_start_at};

/// How to run, beyond what the scenario says.
#[derive(Default)]
pub struct RunOptions {
    /// Where the per-second HdrHistogram interval log goes.
    pub hlog: Option<File>,
    /// Lets another thread stop the run early (a signal watch).
    pub interrupt: Arc<Interrupt>,
    /// The agreed instant the plan starts at, after the target is checked.
    pub start_at: Option<StartAt>,
    /// Told when the load starts and when it has ended (the live progress
    /// line).
    pub watch: Option<Box<dyn Watch>>,
    /// Told of each measured second, on the series' thread (the `/metrics`
    /// histograms); the series then keeps service time too.
    pub seconds: Option<Box<dyn metrics::SecondWatch>>,
}

/// A request to stop a run early, from another thread (Ctrl-C). The first
/// stops it: no new request starts, and those on the wire get the grace
/// period (`--grace`, at most the timeout) to finish; any still on the
/// wire then are counted as cancelled. A second request cancels them at
/// once. Either way the report is complete and marked interrupted.
#[derive(Debug)]
pub struct Interrupt {
    control: Arc<Control>,
    requested: AtomicBool,
    /// The run's grace in milliseconds, for whoever tells the user.
    grace_ms: AtomicU64,
}

impl Default for Interrupt {
    fn default() -> Interrupt {
        Interrupt {
            control: Arc::default(),
            requested: AtomicBool::new(false),
            grace_ms: AtomicU64::new(DEFAULT_GRACE.as_millis() as u64),
        }
    }
}

impl Interrupt {
    /// Stops the run the first time, and is true then; cancels what is on
    /// the wire every later time.
    pub fn request(&self) -> bool {
        let first = !self.requested.swap(true, Ordering::Relaxed);
        if first {
            self.control.interrupt();
        } else {
            self.control.cancel();
        }
        first
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// How long requests on the wire may take after the first request:
    /// the default until a run has set its own.
    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.grace_ms.load(Ordering::Relaxed))
    }

    fn set_grace(&self, grace: Duration) {
        let ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        self.grace_ms.store(ms, Ordering::Relaxed);
    }
}

/// What a live view can read while the load runs.
#[derive(Clone, Debug)]
pub struct LiveView {
    lives: Vec<Arc<LiveCounts>>,
    latest: Arc<LatestSecond>,
    /// How long the run is planned to take, when it has a duration.
    pub planned: Option<Duration>,
    /// What runs, where and how: the summary's first lines.
    pub header: RunHeader,
}

impl LiveView {
    /// Outcomes so far, warm-up included.
    pub fn counts(&self) -> Counts {
        metrics::live_total(&self.lives)
    }

    /// Requests started so far, warm-up included (not those dropped at
    /// the `max_in_flight` gate).
    pub fn started(&self) -> u64 {
        self.lives.iter().map(|live| live.started()).sum()
    }

    /// The last complete second: requests started in it and its p99 in µs.
    pub fn last_second(&self) -> Option<(u64, u64)> {
        (self.latest.seconds.load(Ordering::Relaxed) > 0).then(|| {
            (
                self.latest.started.load(Ordering::Relaxed),
                self.latest.p99_us.load(Ordering::Relaxed),
            )
        })
    }
}

/// Watches a run from outside the generator threads.
pub trait Watch: Send {
    /// The load starts now.
    fn start(&mut self, view: LiveView);
    /// The load has ended (the report is not built yet).
    fn stop(&mut self);
}

/// Why a run could not be made or finished; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start the embedded reference server")]
    Embedded(#[source] std::io::Error),
    /// The target cannot be used (the only variant that is the target's
    /// fault, and then only when it is `Unreachable` or `Resolve`).
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot start the {what}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The load generator could not start on this machine (a thread or
    /// its runtime, e.g. for lack of descriptors), before any request was
    /// sent: a local limit, not the target. A failure after requests were
    /// sent is in the report instead, which keeps their counts.
    #[error("the load generator failed on this machine; nothing was sent")]
    Engine(#[source] std::io::Error),
    /// The run needs more of this machine than the process may have;
    /// nothing was sent.
    #[error(transparent)]
    LocalLimit(#[from] DescriptorShortage),
    /// `--start-at` was not met: too late, or stopped while waiting.
    #[error(transparent)]
    SharedStart(#[from] StartError),
}

/// A finished run.
#[derive(Debug)]
pub struct RunResult {
    /// Everything the text summary and the JSON report show, the judged
    /// thresholds and the verdict's causes included.
    pub report: RunReport,
}

impl RunResult {
    /// Whether the verdict passed: no cause fails it.
    pub fn passed(&self) -> bool {
        self.report.causes.is_empty()
    }

    /// Why the verdict fails, in judging order; empty when it passes.
    pub fn causes(&self) -> &[Cause] {
        &self.report.causes
    }
}

/// A server's own counts as the one outcome-count type: the only place the
/// reference server's snapshot is read.
pub fn server_counts(s: &StatsSnapshot) -> ServerCounts {
    ServerCounts {
        requests: s.requests,
        answers: Counts::from_pairs([
            (Kind::Created, s.created),
            (Kind::BadRequest, s.bad_request),
            (Kind::ServerError, s.server_error),
            (Kind::OtherStatus, s.other),
        ]),
    }
}

/// The engine's address of a scenario's target URL.
pub fn endpoint(url: &TargetUrl) -> Endpoint {
    Endpoint {
        tls: url.scheme == Scheme::Https,
        host: url.host.clone(),
        port: url.port,
    }
}

/// The descriptors a run holds open at once: its schedule's connections
/// and threads (this shard's), and the embedded server's side of them.
fn descriptor_need(schedule: &Schedule, embedded: bool) -> DescriptorNeed {
    let connections = match schedule {
        Schedule::Closed(p) => p.threads.iter().map(|t| u64::from(t.workers)).sum(),
        Schedule::Open(p) => p.threads.iter().map(|t| u64::from(t.connections)).sum(),
    };
    DescriptorNeed {
        connections,
        embedded,
        threads: schedule.threads() as u64,
    }
}

/// Generator threads: as the scenario says, or one per core.
fn thread_count(scenario: &Scenario) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    scenario.load.threads.unwrap_or(cores)
}

/// The load's schedule: the scenario's model (this shard's part of it)
/// cut into `threads` shares. A shard's connections and `max_in_flight`
/// are the scenario's divided by the shard count, rounded up.
fn schedule_of(scenario: &Scenario) -> Schedule {
    let stop = scenario.load.stop_rule();
    let threads = thread_count(scenario);
    let warmup = scenario.load.warmup;
    let shard = scenario.load.shard.unwrap_or(crate::schedule::WHOLE);
    match &scenario.load.model {
        Model::Closed { concurrency } => Schedule::Closed(ClosedSchedule::sharded(
            *concurrency,
            threads,
            stop,
            warmup,
            shard,
        )),
        Model::Open(open) => Schedule::Open(Box::new(
            OpenSchedule::new(
                &open.rate,
                warmup,
                stop,
                open.connections.div_ceil(shard.count as u32),
                open.max_in_flight.div_ceil(shard.count),
                threads,
            )
            .sharded(shard),
        )),
    }
}

/// Runs `scenario` and returns what it measured and how it is judged.
///
/// ```no_run
/// # fn main() -> anyhow::Result<()> {
/// let scenario = mcload::scenario::Scenario::load("scenarios/smoke.toml".as_ref())?;
/// let result = mcload::run::execute(&scenario, mcload::run::RunOptions::default())?;
/// let json = mcload::report::to_json(&result.report); // what --json writes
/// assert!(result.passed()); // no cause fails the verdict
/// # Ok(()) }
/// ```
pub fn execute(scenario: &Scenario, options: RunOptions) -> Result<RunResult, RunError> {
    let RunOptions {
        hlog,
        interrupt,
        start_at,
        mut watch,
        seconds,
    } = options;
    let seed = scenario.body.seed.unwrap_or_else(rand::random);
    let schedule = schedule_of(scenario);
    limits::ensure_descriptors(&descriptor_need(&schedule, scenario.target.url.is_none()))?;
    let embedded = match &scenario.target.url {
        Some(_) => None,
        None => Some(
            Embedded::start(scenario.target.rules, Faults::default())
                .map_err(RunError::Embedded)?,
        ),
    };
    let url = match (&scenario.target.url, &embedded) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => TargetUrl {
            scheme: Scheme::Http,
            host: server.addr.ip().to_string(),
            port: server.addr.port(),
            base_path: String::new(),
        },
        (None, None) => unreachable!("the embedded server starts when no target is given"),
    };
    interrupt.set_grace(scenario.grace());
    let address = endpoint(&url);
    let transport = engine::connect_target(
        &address,
        scenario.target.ca_cert.as_deref(),
        scenario.target.insecure,
        scenario.http.timeout,
        &interrupt.control,
    )?;

    let threads = schedule.threads();
    let warmup = scenario.load.warmup;
    let stop = scenario.load.stop_rule();
    let request_path = url.request_path(&scenario.target.path);
    let config = engine::Config {
        transport,
        head: engine::request_head(
            &request_path,
            &address.host_header(),
            &scenario.http.headers,
        ),
        schedule,
        timeout: scenario.http.timeout,
        bodies: BodyGenerator::new(&scenario.body, seed),
        grace: scenario.grace(),
        pacing: match &scenario.load.model {
            Model::Open(open) => open.pacing.unwrap_or_default(),
            Model::Closed { .. } => Pacing::default(),
        },
    };

    // The wait comes after the target is checked, so that the probe's
    // time does not make a shard late.
    let (start, shared_start) = match &start_at {
        Some(at) => {
            let (start, started) = start::wait_for(at, &interrupt.control)?;
            (start, Some(started))
        }
        None => (RunStart::now(), None),
    };
    let hlog = hlog
        .map(|file| Box::new(HlogFile::new(file, start.wall)) as Box<dyn metrics::IntervalSink>);
    // The window lengths the thresholds judge `over`, each built once.
    let mut windows: Vec<u64> = scenario
        .thresholds
        .iter()
        .filter_map(|t| t.window)
        .collect();
    windows.sort_unstable();
    windows.dedup();
    // Thresholds with `abort = true` are watched as the run goes, and stop
    // it as an interrupt would, without marking it interrupted.
    let control = interrupt.control.clone();
    let abort = verdict::AbortWatch::new(&scenario.thresholds, Box::new(move || control.stop()));
    let (abort_watch, aborted) = match abort {
        Some((watch, slot)) => (
            Some(Box::new(watch) as Box<dyn metrics::SecondWatch>),
            Some(slot),
        ),
        None => (None, None),
    };
    // Service time goes into the series only for a watch that reads it.
    let service_time = seconds.is_some();
    let second_watches: Vec<_> = abort_watch.into_iter().chain(seconds).collect();
    let second_watch = (!second_watches.is_empty())
        .then(|| Box::new(second_watches) as Box<dyn metrics::SecondWatch>);
    let (collector, series) = SeriesCollector::start(
        threads,
        start.instant,
        warmup.unwrap_or_default(),
        hlog,
        &windows,
        second_watch,
    )
    .map_err(|source| RunError::Start {
        what: "series collector",
        source,
    })?;
    let (id_checker, id_sinks) = IdChecker::start_with(threads, scenario.load.shard.is_some())
        .map_err(|source| RunError::Start {
            what: "session-id checker",
            source,
        })?;
    let lives: Vec<Arc<LiveCounts>> = (0..threads).map(|_| Arc::default()).collect();
    if let Some(w) = watch.as_mut() {
        w.start(LiveView {
            lives: lives.clone(),
            latest: collector.latest.clone(),
            planned: stop.duration.map(|d| d + warmup.unwrap_or_default()),
            header: RunHeader {
                scenario: scenario.name.clone(),
                target: url.to_string(),
                path: scenario.target.path.clone(),
                embedded: embedded.is_some(),
                insecure: scenario.target.insecure,
                model: scenario.load.model.clone(),
                stop,
                warmup,
                threads,
                seed,
            },
        });
    }

    // A `Location` may name the endpoint under the target's base path, or
    // the endpoint alone (a gateway that strips the base path).
    let endpoints = [request_path.as_str(), scenario.target.path.as_str()];
    let mut series = series.into_iter();
    let mut id_sinks = id_sinks.into_iter();
    let mut finished = engine::run(&config, &interrupt.control, start, |t| {
        let sink = series.next().expect("one series sink per thread");
        let sink = if service_time {
            sink.with_service_time()
        } else {
            sink
        };
        let measure = Recorder::new(lives[t].clone()).with_series(sink);
        let check = checks::Recorder::new(scenario.target.rules, &endpoints)
            .with_ids(id_sinks.next().expect("one id sink per thread"));
        (measure, check)
    });
    // Sinks of threads that never started end here, so the collectors end.
    drop(series);
    drop(id_sinks);
    if let Some(w) = watch.as_mut() {
        w.stop();
    }
    let interrupted = interrupt.requested();
    // A generator that failed before sending anything leaves nothing to
    // report; one that failed later keeps the counts made until then.
    let failure = match finished.failure.take() {
        Some(e) if finished.scheduled == 0 => return Err(RunError::Engine(e)),
        other => other,
    };

    let (mut tallies, mut warmups, mut check_parts) = (Vec::new(), Vec::new(), Vec::new());
    let mut error_reasons = ErrorSamples::default();
    for (measure, check) in finished.recorders {
        let recorded = measure.finish();
        tallies.push(recorded.tally);
        warmups.extend(recorded.warmup);
        error_reasons.merge(recorded.errors);
        check_parts.push(check.finish());
    }
    let summary = collector.finish();
    let mut checks = checks::merge(check_parts);
    let mut duplicates = id_checker.finish();
    let session_ids = duplicates.remembered.take();
    checks.add_duplicates(&duplicates);
    let mut report = RunReport {
        scenario: scenario.name.clone(),
        target: url.to_string(),
        path: scenario.target.path.clone(),
        embedded: embedded.is_some(),
        insecure: scenario.target.insecure,
        rules: scenario.target.rules,
        seed,
        started_at: finished.started_at,
        elapsed: finished.elapsed,
        sending: finished.sending,
        model: scenario.load.model.clone(),
        threads,
        stop,
        scheduled: finished.scheduled,
        tally: metrics::merge(tallies),
        warmup: warmup.map(|w| (w, metrics::merge(warmups))),
        intervals: summary.intervals,
        error_reasons,
        checks,
        server: embedded
            .as_ref()
            .map(|e| server_counts(&e.state.stats.snapshot())),
        interrupted,
        generator: Generator {
            backoff: finished.backoff,
            failure: failure.map(|e| e.to_string()),
        },
        thresholds: Vec::new(),
        aborted: aborted.and_then(|slot| slot.lock().ok().and_then(|mut a| a.take())),
        causes: Vec::new(),
        shard: scenario.load.shard,
        plan_fingerprint: scenario.plan_fingerprint(seed),
        start: shared_start.map(|s| crate::report::SharedStart {
            at: s.at,
            lateness: s.lateness,
        }),
        session_ids,
        shards: None,
    };
    let (measured_from, measured_to) = report.measured_window();
    report.thresholds = verdict::evaluate(
        &scenario.thresholds,
        &Measured {
            tally: &report.tally,
            checks: &report.checks,
            windows: &summary.windows,
            elapsed_s: (measured_to - measured_from).as_secs_f64(),
            measured_from_s: measured_from.as_secs_f64(),
            end_s: measured_to.as_secs_f64(),
        },
    );
    report.causes = report.judge(summary.sink_error);
    Ok(RunResult { report })
}

impl RunResult {
    /// Marks the run interrupted by a stop that came after the load had
    /// ended but before the caller stopped watching for one: the user asked
    /// to stop, so the run ends as interrupted.
    pub fn mark_interrupted(&mut self) {
        if self.report.interrupted {
            return;
        }
        self.report.interrupted = true;
        // Judged again, so the order is the verdict's own; the failed
        // interval log is the one cause the report does not hold otherwise.
        let hlog = self.report.causes.iter().find_map(|c| match c {
            Cause::HlogFailed(e) => Some(e.clone()),
            _ => None,
        });
        self.report.causes = self.report.judge(hlog);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Class, Outcome, Record};
    use crate::metrics::Tally;
    use crate::scenario::StopRule;
    use std::time::Instant;

    /// A closed-model run's report with one recorded outcome per class.
    fn report(classes: &[Class], failure: Option<&str>) -> RunReport {
        let mut recorder = Recorder::new(Arc::default());
        let now = Instant::now();
        for &class in classes {
            recorder.record(&Outcome {
                intended: now,
                sent: now,
                done: now,
                send_lag: None,
                class,
                warmup: false,
                kind: crate::spec::BodyKind::Valid,
                location: None,
            });
        }
        let tally: Tally = recorder.finish().tally;
        RunReport {
            elapsed: Duration::from_secs(1),
            sending: Duration::from_secs(1),
            stop: StopRule {
                duration: None,
                requests: Some(classes.len() as u64),
            },
            scheduled: classes.len() as u64,
            tally,
            generator: Generator {
                backoff: Duration::ZERO,
                failure: failure.map(str::to_owned),
            },
            ..RunReport::example()
        }
    }

    #[test]
    fn local_errors_make_the_run_invalid_and_fail_it_blaming_this_machine() {
        let run = report(&[Class::Status(201), Class::Local, Class::Local], None);
        assert!(run.accounted());
        let causes = run.judge(None);
        assert_eq!(causes, [Cause::LocalErrors { count: 2 }]);
        let message = causes[0].message();
        assert!(
            message.contains("2 requests") && message.contains("ulimit -n"),
            "names the count and the fix: {message}"
        );
        assert!(message.contains("not because of the target"), "{message}");
        let json = crate::report::to_json(&run);
        assert_eq!(json["valid"], false);
        assert_eq!(json["errors"]["local"], 2);
        assert!(
            json["invalid_reason"]
                .as_str()
                .unwrap()
                .contains("2 requests"),
            "{json}"
        );
    }

    #[test]
    fn a_generator_that_failed_part_way_keeps_its_counts_and_fails_the_run() {
        let run = report(
            &[Class::Status(201)],
            Some("cannot start generator thread 2 of 2"),
        );
        let causes = run.judge(None);
        assert_eq!(
            causes,
            [Cause::EngineFailed(
                "cannot start generator thread 2 of 2".into()
            )]
        );
        let json = crate::report::to_json(&run);
        assert_eq!(json["valid"], false);
        assert_eq!(json["status"]["201"], 1);
        let healthy = report(&[Class::Status(201), Class::Tls, Class::Cancelled], None);
        assert_eq!(healthy.invalid_reason(), None);
        let json = crate::report::to_json(&healthy);
        assert_eq!(
            (json["valid"].clone(), json["cancelled"].clone()),
            (true.into(), 1.into())
        );
        assert_eq!(json["errors"]["tls"], 1);
    }

    #[test]
    fn a_second_interrupt_cancels_and_the_grace_is_the_runs() {
        let interrupt = Interrupt::default();
        assert_eq!(interrupt.grace(), DEFAULT_GRACE);
        interrupt.set_grace(Duration::from_millis(1_500));
        assert_eq!(interrupt.grace(), Duration::from_millis(1_500));
        assert!(interrupt.request());
        assert!(matches!(
            interrupt.control.phase(),
            engine::Phase::Interrupted(_)
        ));
        assert!(!interrupt.request());
        assert_eq!(interrupt.control.phase(), engine::Phase::Cancelled);
        assert!(interrupt.requested());
    }
}
