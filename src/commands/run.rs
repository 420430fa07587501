//! `mcload run`: load the scenario, run it with [`crate::run::execute`],
//! print the text summary, write the JSON report, and map the verdict to
//! an exit code.

use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::{CommandResult, Exit, Failure};
use crate::engine::TargetError;
use crate::progress::{HeaderTo, Live, Progress};
use crate::report::prometheus::{HistogramFeed, LiveMetrics};
use crate::report::{self, OutputFile, RunReport};
use crate::run::{self, Cause, Interrupt, RunError, RunOptions, RunResult};
use crate::scenario::{FlagSettings, Scenario};
use crate::signals::SignalWatch;

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
    /// Where the JUnit XML report goes.
    pub junit: Option<PathBuf>,
    /// Where the HTML report goes.
    pub html: Option<PathBuf>,
    /// How often a plain progress line is printed when stderr is not a
    /// terminal.
    pub progress_every: Duration,
    /// No live line and no text summary: only errors and the JSON report.
    pub quiet: bool,
    /// Where to serve `/metrics` for Prometheus while the run lasts.
    pub metrics_listen: Option<SocketAddr>,
    /// How long `/metrics` waits after the run for a scrape of the final
    /// figures.
    pub metrics_linger: Duration,
    /// The agreed instant the plan starts at (`--start-at`).
    pub start_at: Option<run::StartAt>,
}

/// The scenario the arguments describe: the file, with the flags over it.
pub fn scenario(args: &RunArgs) -> Result<Scenario, Failure> {
    Scenario::resolve(&args.scenario, &args.flags).map_err(Failure::bad_input)
}

pub fn run(args: &RunArgs) -> CommandResult {
    // Signals are watched from the first moment, so a Ctrl-C during the
    // start probe (a silent https target) ends the command at once.
    let interrupt = Arc::new(Interrupt::default());
    let signals = SignalWatch::start(interrupt.clone()).map_err(Failure::bad_input)?;
    let scenario = scenario(args)?;

    // Open the output files first: a path that cannot be written is bad
    // input, found before anything is sent. Each is a temporary file beside
    // its destination until the run has produced it.
    let json_path = match &args.json {
        Some(JsonDest::File(path)) => Some(path.as_path()),
        _ => None,
    };
    let json_file = open_output(json_path, "JSON report")?;
    let junit_file = open_output(args.junit.as_deref(), "JUnit report")?;
    let html_file = open_output(args.html.as_deref(), "HTML report")?;
    let mut hlog_file = open_output(args.hlog.as_deref(), "interval log")?;
    let hlog = match hlog_file.as_mut() {
        Some(out) => Some(
            out.file()
                .try_clone()
                .context("cannot write the interval log")
                .map_err(Failure::bad_input)?,
        ),
        None => None,
    };

    // The header prints when the load starts, the summary after it.
    let live = if io::stderr().is_terminal() {
        Live::Terminal
    } else {
        Live::Every(args.progress_every)
    };
    let header_to = if args.json == Some(JsonDest::Stdout) {
        HeaderTo::Stderr
    } else {
        HeaderTo::Stdout
    };
    let mut watches: Vec<Box<dyn run::Watch>> = Vec::new();
    if !args.quiet {
        watches.push(Box::new(Progress::new(live, header_to)));
    }
    // `/metrics` is bound before the run, so a port in use is bad input
    // with nothing sent.
    let mut metrics = match args.metrics_listen {
        Some(addr) => Some(serve_metrics(addr)?),
        None => None,
    };
    if let Some((live_metrics, _)) = &metrics {
        watches.push(Box::new(run::MetricsWatch(live_metrics.clone())));
    }
    let result = run::execute(
        &scenario,
        RunOptions {
            hlog,
            interrupt: interrupt.clone(),
            start_at: args.start_at,
            watch: Some(Box::new(watches)),
            seconds: metrics.as_ref().map(|(live_metrics, _)| {
                Box::new(HistogramFeed(live_metrics.clone()))
                    as Box<dyn crate::metrics::SecondWatch>
            }),
        },
    );
    if let Some((_, serving)) = metrics.as_mut() {
        serving.watch_signals();
    }
    signals.finish();
    let mut result = result.map_err(failure)?;
    if let Some((live_metrics, _)) = &metrics {
        live_metrics.finish(&result.report);
    }
    // A signal that came after the run looked is still the user's wish.
    if interrupt.requested() {
        result.mark_interrupted();
    }

    let mut failed = write_reports(&result.report, args, json_file, junit_file, html_file);
    // An interval log that failed while the run went on stays out of place
    // (its cause says why); a complete one is put in place.
    let hlog_failed = result
        .causes()
        .iter()
        .any(|c| matches!(c, Cause::HlogFailed(_)));
    if let (Some(out), false) = (hlog_file.take(), hlog_failed) {
        let path = out.path().display().to_string();
        if let Err(e) = out.commit() {
            failed.push(
                anyhow::Error::new(e).context(format!("cannot write the interval log to {path}")),
            );
        }
    }
    github_actions(&result.report, args);
    let mut err = io::stderr().lock();
    for e in &failed {
        let _ = writeln!(err, "mcload: {e:#}");
    }
    let exit = exit_code(&result, &mut err);
    drop(err);
    if let Some((live_metrics, serving)) = metrics {
        // The final figures stay up until a scrape has read them: a
        // Prometheus scraping every second sees the report's counts.
        serving.linger(&live_metrics, args.metrics_linger);
    }
    Ok(if !failed.is_empty() && exit != Exit::Interrupted {
        Exit::OutputFailed
    } else {
        exit
    })
}

/// The exit code a run's verdict calls for, with a line on `err` for each
/// cause that fails it: 130 when interrupted (a failed interval log is
/// still said), else 4 when the interval log could not be written, else 1
/// when any cause fails the verdict.
pub fn exit_code(result: &RunResult, err: &mut dyn Write) -> Exit {
    let mut exit = Exit::Ok;
    for cause in result.causes() {
        if *cause == Cause::Interrupted {
            return Exit::Interrupted;
        }
        let _ = writeln!(err, "mcload: {}", cause.message());
        exit = match (cause, exit) {
            (Cause::HlogFailed(_), _) | (_, Exit::OutputFailed) => Exit::OutputFailed,
            _ => Exit::CheckFailed,
        };
    }
    exit
}

/// Binds and serves `/metrics`, and says where on stderr.
fn serve_metrics(addr: SocketAddr) -> Result<(Arc<LiveMetrics>, run::Serving), Failure> {
    let endpoint = run::MetricsEndpoint::bind(addr).map_err(Failure::bad_input)?;
    let bound = endpoint.addr;
    let live_metrics = Arc::new(LiveMetrics::default());
    let serving = endpoint
        .serve(live_metrics.clone())
        .context("cannot start the /metrics server")
        .map_err(Failure::bad_input)?;
    crate::output::eprintln(format_args!("mcload: metrics on http://{bound}/metrics"));
    Ok((live_metrics, serving))
}

/// A run that could not be made: a target that cannot be reached is 3, a
/// stop before the load an interrupt (130), anything else this side's
/// doing with nothing sent (2).
fn failure(e: RunError) -> Failure {
    match e {
        // Only a target that cannot be reached is the target's doing (3).
        RunError::Target(TargetError::Unreachable { .. } | TargetError::Resolve { .. }) => {
            Failure::unreachable(e)
        }
        // A shard too late for its start could not proceed (3).
        RunError::SharedStart(run::StartError::TooLate { .. }) => Failure::unreachable(e),
        RunError::Target(TargetError::Stopped)
        | RunError::SharedStart(run::StartError::Stopped) => Failure {
            exit: Exit::Interrupted,
            error: e.into(),
        },
        // A CA that cannot be used, or this machine's own limits and
        // failures: nothing was sent (2).
        RunError::Target(TargetError::Tls(_))
        | RunError::LocalLimit(_)
        | RunError::Engine(_)
        | RunError::Start { .. }
        | RunError::Embedded(_) => Failure::bad_input(e),
    }
}

/// Opens an output file's temporary file; a path that cannot be written is
/// bad input.
fn open_output(path: Option<&Path>, what: &str) -> Result<Option<OutputFile>, Failure> {
    path.map(|p| {
        OutputFile::create(p)
            .with_context(|| format!("cannot write the {what} to {}", p.display()))
            .map_err(Failure::bad_input)
    })
    .transpose()
}

/// Writes `write`'s output into `out` and puts it in place.
fn place(
    out: OutputFile,
    what: &str,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let path = out.path().display().to_string();
    out.write_whole(write)
        .with_context(|| format!("cannot write the {what} to {path}"))
}

/// Prints the summary and writes the reports; each failure is returned,
/// and one does not keep the others from being written.
fn write_reports(
    run: &RunReport,
    args: &RunArgs,
    json_file: Option<OutputFile>,
    junit_file: Option<OutputFile>,
    html_file: Option<OutputFile>,
) -> Vec<anyhow::Error> {
    let mut failed = Vec::new();
    let json_to_stdout = args.json == Some(JsonDest::Stdout);
    if !args.quiet {
        // With the JSON on stdout, the text goes to stderr so that stdout
        // stays one parseable document.
        let printed = if json_to_stdout {
            report::write_summary(run, &mut io::stderr().lock())
        } else {
            report::write_summary(run, &mut io::stdout().lock())
        };
        // A reader that went away (`| head`) wants no more; files still follow.
        if let Err(e) = crate::output::ignore_broken_pipe(printed) {
            failed.push(anyhow::Error::new(e).context("cannot print the summary"));
        }
    }
    let json = report::to_json(run);
    let write_json = |out: &mut dyn Write| {
        serde_json::to_writer_pretty(&mut *out, &json)?;
        writeln!(out)
    };
    if json_to_stdout {
        let mut out = io::stdout().lock();
        if let Err(e) =
            crate::output::ignore_broken_pipe(write_json(&mut out).and_then(|()| out.flush()))
        {
            failed.push(anyhow::Error::new(e).context("cannot write the JSON report to stdout"));
        }
    }
    if let Some(out) = json_file
        && let Err(e) = place(out, "JSON report", write_json)
    {
        failed.push(e);
    }
    if let Some(out) = junit_file
        && let Err(e) = place(out, "JUnit report", |w| report::write_junit(run, w))
    {
        failed.push(e);
    }
    if let Some(out) = html_file
        && let Err(e) = place(out, "HTML report", |w| report::write_html(run, w))
    {
        failed.push(e);
    }
    failed
}

/// Under GitHub Actions (`GITHUB_ACTIONS=true`): an `::error` annotation
/// per cause that fails the verdict (on stdout, or stderr when stdout
/// holds the JSON report; the runner reads both), and the thresholds and
/// verdict appended to the file `GITHUB_STEP_SUMMARY` names. A summary
/// that cannot be written is said on stderr and leaves the exit code be.
fn github_actions(run: &RunReport, args: &RunArgs) {
    if !super::under_github_actions() {
        return;
    }
    let _ = if args.json == Some(JsonDest::Stdout) {
        report::ci::write_annotations(run, &mut io::stderr().lock())
    } else {
        report::ci::write_annotations(run, &mut io::stdout().lock())
    };
    super::append_step_summary(report::ci::step_summary(run).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(interrupted: bool, causes: Vec<Cause>) -> RunResult {
        RunResult {
            report: RunReport {
                interrupted,
                causes,
                ..RunReport::example()
            },
        }
    }

    fn exit(interrupted: bool, causes: Vec<Cause>) -> (Exit, String) {
        let mut err = Vec::new();
        let exit = exit_code(&result(interrupted, causes), &mut err);
        (exit, String::from_utf8(err).unwrap())
    }

    #[test]
    fn the_verdicts_causes_map_to_exit_codes_in_order() {
        assert_eq!(exit(false, vec![]), (Exit::Ok, String::new()));
        let hlog = Cause::HlogFailed("disk full".into());
        // A failed interval log is an output that could not be written
        // (4, also beside a failed check), and is said even when a later
        // cause decides the code.
        let broken = Cause::CheckFailed {
            check: crate::checks::Check::ValidRejected,
            count: 2,
        };
        let (code, err) = exit(false, vec![hlog.clone()]);
        assert_eq!(code, Exit::OutputFailed);
        assert_eq!(
            exit(false, vec![hlog.clone(), broken.clone()]).0,
            Exit::OutputFailed
        );
        assert_eq!(
            exit(false, vec![broken.clone(), hlog.clone()]).0,
            Exit::OutputFailed
        );
        assert_eq!(err, "mcload: cannot write the interval log: disk full\n");
        let (code, err) = exit(true, vec![hlog, Cause::Interrupted, Cause::NotAccounted]);
        assert_eq!(code, Exit::Interrupted);
        assert!(
            err.contains("interval log") && !err.contains("add up"),
            "{err}"
        );
        let threshold = Cause::Threshold {
            expression: "latency.p99 < 5ms".into(),
            measured: "31.000 ms".into(),
            source: "--threshold".into(),
        };
        for cause in [
            Cause::NotAccounted,
            Cause::ServerCountsDiffer,
            broken.clone(),
            threshold.clone(),
        ] {
            let (code, err) = exit(false, vec![cause.clone(), threshold.clone()]);
            assert_eq!(code, Exit::CheckFailed);
            assert_eq!(
                err,
                format!(
                    "mcload: {}\nmcload: {}\n",
                    cause.message(),
                    threshold.message()
                ),
                "each cause, in order"
            );
        }
    }

    /// A stop that came after the run looked still ends it as interrupted,
    /// in judging order: after a failed interval log, before the rest.
    #[test]
    fn a_late_stop_marks_the_run_interrupted_once_and_in_order() {
        let hlog = Cause::HlogFailed("disk full".into());
        // One request scheduled and none recorded: the outcomes do not add up.
        let mut late = result(false, vec![hlog.clone(), Cause::NotAccounted]);
        late.report.scheduled = 1;
        late.mark_interrupted();
        late.mark_interrupted();
        assert!(late.report.interrupted);
        assert_eq!(
            late.causes(),
            [hlog, Cause::Interrupted, Cause::NotAccounted]
        );
        assert_eq!(exit_code(&late, &mut Vec::new()), Exit::Interrupted);
        let mut passed = result(false, vec![]);
        passed.mark_interrupted();
        assert_eq!(passed.causes(), [Cause::Interrupted]);
    }
}
