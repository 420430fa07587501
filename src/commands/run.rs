//! `mcload run`: load a scenario, find or start the target, run the load,
//! report.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{CommandResult, Exit, Failure};
use crate::engine::{self, Control, RunStart, TargetError};
use crate::generate::BodyGenerator;
use crate::metrics::{self, IdChecker, LatestSecond, Live, Recorder, SeriesCollector};
use crate::reference::{Embedded, Faults};
use crate::report::{self, LastSecond, RunReport, ServerCounts};
use crate::scenario::{FlagSettings, Model, Scenario, TargetUrl};
use crate::schedule::{ClosedSchedule, OpenSchedule, Schedule};

/// Where the JSON report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonDest {
    Stdout,
    File(PathBuf),
}

/// The arguments of `mcload run`.
#[derive(Clone, Debug)]
pub struct RunArgs {
    pub scenario: PathBuf,
    /// The flags that override the scenario file.
    pub flags: FlagSettings,
    pub json: Option<JsonDest>,
    /// Where the per-second HdrHistogram interval log goes.
    pub hlog: Option<PathBuf>,
    /// No live line and no text summary: only errors and the JSON report.
    pub quiet: bool,
}

pub fn run(args: &RunArgs) -> CommandResult {
    let scenario = Scenario::resolve(&args.scenario, &args.flags).map_err(Failure::bad_input)?;
    let seed = scenario.body.seed.unwrap_or_else(rand::random);

    // Open the report file first: a path that cannot be written is bad
    // input, found before anything is sent.
    let mut json_file = match &args.json {
        Some(JsonDest::File(path)) => Some(
            File::create(path)
                .with_context(|| format!("cannot write the JSON report to {}", path.display()))
                .map_err(Failure::bad_input)?,
        ),
        _ => None,
    };
    let hlog_file = match &args.hlog {
        Some(path) => Some(
            File::create(path)
                .with_context(|| format!("cannot write the interval log to {}", path.display()))
                .map_err(Failure::bad_input)?,
        ),
        None => None,
    };

    let embedded = match &scenario.target.url {
        Some(_) => None,
        None => Some(
            Embedded::start(scenario.target.rules, Faults::default())
                .context("cannot start the embedded reference server")
                .map_err(Failure::unreachable)?,
        ),
    };
    let url = match (&scenario.target.url, &embedded) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) => {
            TargetUrl::parse(&server.url()).expect("a socket address makes a valid URL")
        }
        (None, None) => unreachable!("the embedded server starts when no target is given"),
    };
    let transport = engine::connect_target(
        &url,
        scenario.target.ca_cert.as_deref(),
        scenario.http.timeout,
    )
    .map_err(|e| match e {
        TargetError::Tls(_) => Failure::bad_input(e),
        _ => Failure::unreachable(e),
    })?;

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stop = scenario.load.stop_rule();
    let wanted_threads = scenario.load.threads.unwrap_or(cores);
    let warmup = scenario.load.warmup;
    let plan = match &scenario.load.model {
        Model::Closed { concurrency } => Schedule::Closed(ClosedSchedule::new(
            *concurrency,
            wanted_threads,
            stop,
            warmup,
        )),
        Model::Open(open) => Schedule::Open(Box::new(OpenSchedule::new(
            &open.rate,
            warmup,
            stop,
            open.connections,
            open.max_in_flight,
            wanted_threads,
        ))),
    };
    let threads = plan.threads();
    let endpoint = url.request_path(&scenario.target.path);
    let config = engine::Config {
        transport,
        head: engine::request_head(&endpoint, &url.host_header(), &scenario.http.headers),
        plan,
        timeout: scenario.http.timeout,
        bodies: BodyGenerator::new(&scenario.body, seed),
    };

    let control = Arc::new(Control::default());
    let signals = SignalWatch::start(control.clone()).map_err(Failure::unreachable)?;
    let lives: Vec<Arc<Live>> = (0..threads).map(|_| Arc::default()).collect();
    let start = RunStart::now();
    let (collector, sinks) = SeriesCollector::start(
        threads,
        start.instant,
        start.wall,
        warmup.unwrap_or_default(),
        hlog_file,
    )
    .context("cannot start the series collector")
    .map_err(Failure::unreachable)?;
    let planned = stop.duration.map(|d| d + warmup.unwrap_or_default());
    let progress = (!args.quiet && io::stderr().is_terminal())
        .then(|| Progress::start(lives.clone(), collector.latest.clone(), planned));

    let (id_checker, id_sinks) = IdChecker::start(threads)
        .context("cannot start the session-id checker")
        .map_err(Failure::unreachable)?;
    let mut sinks = sinks.into_iter();
    let mut id_sinks = id_sinks.into_iter();
    let finished = engine::run(&config, &control, start, |t| {
        let sink = sinks.next().expect("one sink per thread");
        let ids = id_sinks.next().expect("one id sink per thread");
        Recorder::new(lives[t].clone())
            .with_series(sink)
            .with_checks(&[endpoint.as_str(), scenario.target.path.as_str()], ids)
    });
    // Sinks of threads that never started end here, so the collectors end.
    drop(sinks);
    drop(id_sinks);
    if let Some(p) = progress {
        p.finish();
    }
    let interrupted = signals.finish();
    let finished = finished
        .context("the load generator failed")
        .map_err(Failure::unreachable)?;

    let (mut tallies, mut warmups, mut check_parts) = (Vec::new(), Vec::new(), Vec::new());
    for recorded in finished.recorders.into_iter().map(Recorder::finish) {
        tallies.push(recorded.tally);
        warmups.extend(recorded.warmup);
        check_parts.push(recorded.checks);
    }
    // A failure writing the interval log must not cost the report.
    let series = collector.finish();
    let hlog_error = series.hlog_error.clone();
    let tally = metrics::merge(tallies);
    let warmup_tally = metrics::merge(warmups);
    let mut checks = metrics::merge_checks(check_parts);
    checks.add_duplicates(&id_checker.finish());
    let server = embedded.as_ref().map(|e| {
        let s = e.state.stats.snapshot();
        ServerCounts {
            requests: s.requests,
            created: s.created,
            bad_request: s.bad_request,
            server_error: s.server_error,
            other: s.other,
        }
    });
    let run_report = RunReport {
        scenario: &scenario.name,
        target: url.to_string(),
        path: &scenario.target.path,
        embedded: embedded.is_some(),
        seed,
        started_at: finished.started_at,
        elapsed: finished.elapsed,
        sending: finished.sending,
        model: &scenario.load.model,
        threads,
        stop,
        scheduled: finished.scheduled,
        tally: &tally,
        warmup: warmup.map(|w| (w, &warmup_tally)),
        intervals: &series.intervals,
        checks: &checks,
        server,
        interrupted,
    };

    write_reports(&run_report, args, json_file.as_mut())
        .context("cannot write the report")
        .map_err(Failure::bad_input)?;

    if let Some(e) = hlog_error {
        eprintln!("mcload: cannot write the interval log: {e}");
        if !interrupted {
            return Ok(Exit::CheckFailed);
        }
    }
    if interrupted {
        return Ok(Exit::Interrupted);
    }
    if !run_report.accounted() {
        eprintln!("mcload: the outcomes do not add up to the requests scheduled");
        return Ok(Exit::CheckFailed);
    }
    if run_report.server_check() == Some(report::ServerCheck::Different) {
        eprintln!("mcload: the embedded server's counts differ from mcload's");
        return Ok(Exit::CheckFailed);
    }
    if checks.contract_broken() {
        eprintln!("mcload: the endpoint broke the response contract (see `checks` in the report)");
        return Ok(Exit::CheckFailed);
    }
    Ok(Exit::Ok)
}

fn write_reports(
    run: &RunReport<'_>,
    args: &RunArgs,
    json_file: Option<&mut File>,
) -> io::Result<()> {
    let json_to_stdout = args.json == Some(JsonDest::Stdout);
    if !args.quiet {
        // With the JSON on stdout, the text goes to stderr so that stdout
        // stays one parseable document.
        if json_to_stdout {
            report::write_text(run, &mut io::stderr().lock())?;
        } else {
            report::write_text(run, &mut io::stdout().lock())?;
        }
    }
    let json = report::to_json(run);
    if json_to_stdout {
        let mut out = io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    }
    if let Some(file) = json_file {
        serde_json::to_writer_pretty(&mut *file, &json)?;
        writeln!(file)?;
        file.flush()?;
    }
    Ok(())
}

/// Stops the run on Ctrl-C or SIGTERM, and remembers that it did.
struct SignalWatch {
    interrupted: Arc<AtomicBool>,
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SignalWatch {
    fn start(control: Arc<Control>) -> anyhow::Result<SignalWatch> {
        let interrupted = Arc::new(AtomicBool::new(false));
        let (done, mut done_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the signal handler")?;
        // Register the handlers before the load starts, so an early signal
        // is not lost.
        let mut terminate = runtime
            .block_on(async {
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            })
            .context("cannot watch SIGTERM")?;
        let flag = interrupted.clone();
        let thread = std::thread::Builder::new()
            .name("mcload-signals".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let ctrl_c = tokio::signal::ctrl_c();
                    tokio::pin!(ctrl_c);
                    loop {
                        tokio::select! {
                            _ = &mut done_rx => return,
                            _ = &mut ctrl_c => {}
                            _ = terminate.recv() => {}
                        }
                        if !flag.swap(true, Ordering::Relaxed) {
                            control.stop();
                            eprintln!(
                                "\nmcload: stopping; waiting for the requests on the wire (each up to its timeout)"
                            );
                        }
                        ctrl_c.set(tokio::signal::ctrl_c());
                    }
                });
            })
            .context("cannot start the signal handler")?;
        Ok(SignalWatch {
            interrupted,
            done: Some(done),
            thread: Some(thread),
        })
    }

    /// Ends the watch; whether a signal stopped the run.
    fn finish(mut self) -> bool {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.interrupted.load(Ordering::Relaxed)
    }
}

/// The live progress line on a terminal.
struct Progress {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Progress {
    const TICK: Duration = Duration::from_millis(250);

    fn start(
        lives: Vec<Arc<Live>>,
        latest: Arc<LatestSecond>,
        planned: Option<Duration>,
    ) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Self::TICK);
                let last = (latest.seconds.load(Ordering::Relaxed) > 0).then(|| LastSecond {
                    rate: latest.started.load(Ordering::Relaxed),
                    p99_ms: latest.p99_us.load(Ordering::Relaxed) as f64 / 1000.0,
                });
                let line = report::progress_line(
                    started.elapsed(),
                    planned,
                    metrics::live_snapshot(&lives),
                    last,
                );
                let mut err = io::stderr().lock();
                let _ = write!(err, "\r{line}\x1b[K");
                let _ = err.flush();
            }
            let _ = write!(io::stderr().lock(), "\r\x1b[K");
        });
        Progress { stop, thread }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}
