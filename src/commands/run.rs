//! `mcload run`: load the scenario, run it with [`crate::run::execute`],
//! print the text summary, write the JSON report, and map the verdict to
//! an exit code.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::{CommandResult, Exit, Failure};
use crate::engine::TargetError;
use crate::progress::{HeaderTo, Live, Progress};
use crate::report::{self, RunReport};
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
    /// How often a plain progress line is printed when stderr is not a
    /// terminal.
    pub progress_every: Duration,
    /// No live line and no text summary: only errors and the JSON report.
    pub quiet: bool,
}

/// The scenario the arguments describe: the file, with the flags over it.
pub fn scenario(args: &RunArgs) -> Result<Scenario, Failure> {
    Scenario::resolve(&args.scenario, &args.flags).map_err(Failure::bad_input)
}

pub fn run(args: &RunArgs) -> CommandResult {
    let scenario = scenario(args)?;

    // Open the output files first: a path that cannot be written is bad
    // input, found before anything is sent.
    let mut json_file = match &args.json {
        Some(JsonDest::File(path)) => Some(
            File::create(path)
                .with_context(|| format!("cannot write the JSON report to {}", path.display()))
                .map_err(Failure::bad_input)?,
        ),
        _ => None,
    };
    let mut junit_file = match &args.junit {
        Some(path) => Some(
            File::create(path)
                .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
                .map_err(Failure::bad_input)?,
        ),
        None => None,
    };
    let hlog = match &args.hlog {
        Some(path) => Some(
            File::create(path)
                .with_context(|| format!("cannot write the interval log to {}", path.display()))
                .map_err(Failure::bad_input)?,
        ),
        None => None,
    };

    let interrupt = Arc::new(Interrupt::default());
    let signals = SignalWatch::start(interrupt.clone()).map_err(Failure::unreachable)?;
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
    let watch =
        (!args.quiet).then(|| Box::new(Progress::new(live, header_to)) as Box<dyn run::Watch>);
    let result = run::execute(
        &scenario,
        RunOptions {
            hlog,
            interrupt: interrupt.clone(),
            watch,
        },
    );
    signals.finish();
    let mut result = result.map_err(failure)?;
    // A signal that came after the run looked is still the user's wish.
    if interrupt.requested() {
        result.mark_interrupted();
    }

    write_reports(
        &result.report,
        args,
        json_file.as_mut(),
        junit_file.as_mut(),
    )
    .context("cannot write the report")
    .map_err(Failure::bad_input)?;
    github_actions(&result.report, args);
    Ok(exit_code(&result, &mut io::stderr().lock()))
}

/// The exit code a run's verdict calls for, with a line on `err` for each
/// cause that fails it (a failed interval log is said even when the run
/// was interrupted, which exits 130 all the same).
pub fn exit_code(result: &RunResult, err: &mut dyn Write) -> Exit {
    let mut exit = Exit::Ok;
    for cause in result.causes() {
        if *cause == Cause::Interrupted {
            return Exit::Interrupted;
        }
        let _ = writeln!(err, "mcload: {}", cause.message());
        exit = Exit::CheckFailed;
    }
    exit
}

/// A run that could not be made: a bad certificate is bad input (2), any
/// other failure means the run could not proceed (3).
fn failure(e: RunError) -> Failure {
    match e {
        RunError::Target(TargetError::Tls(_)) => Failure::bad_input(e),
        RunError::Target(TargetError::Stopped) => Failure {
            exit: Exit::Interrupted,
            error: e.into(),
        },
        _ => Failure::unreachable(e),
    }
}

fn write_reports(
    run: &RunReport,
    args: &RunArgs,
    json_file: Option<&mut File>,
    junit_file: Option<&mut File>,
) -> io::Result<()> {
    let json_to_stdout = args.json == Some(JsonDest::Stdout);
    if !args.quiet {
        // With the JSON on stdout, the text goes to stderr so that stdout
        // stays one parseable document.
        // A reader that went away (`| head`) leaves the report files to write.
        crate::output::ignore_broken_pipe(if json_to_stdout {
            report::write_summary(run, &mut io::stderr().lock())
        } else {
            report::write_summary(run, &mut io::stdout().lock())
        })?;
    }
    let json = report::to_json(run);
    if json_to_stdout {
        let mut out = io::stdout().lock();
        crate::output::ignore_broken_pipe(
            serde_json::to_writer_pretty(&mut out, &json)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out)),
        )?;
    }
    if let Some(file) = json_file {
        serde_json::to_writer_pretty(&mut *file, &json)?;
        writeln!(file)?;
        file.flush()?;
    }
    if let Some(file) = junit_file {
        report::write_junit(run, file)?;
        file.flush()?;
    }
    Ok(())
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
    use crate::checks::CheckTally;
    use crate::metrics::Tally;
    use crate::scenario::{Model, StopRule};
    use std::time::{Duration, SystemTime};

    fn result(interrupted: bool, causes: Vec<Cause>) -> RunResult {
        RunResult {
            report: RunReport {
                scenario: "t".into(),
                target: "http://127.0.0.1:1".into(),
                path: "/api/v1/sessions".into(),
                embedded: false,
                rules: crate::spec::RuleSet::Strict,
                seed: 1,
                started_at: SystemTime::now(),
                elapsed: Duration::ZERO,
                sending: Duration::ZERO,
                model: Model::Closed { concurrency: 1 },
                threads: 1,
                stop: StopRule {
                    duration: None,
                    requests: Some(1),
                },
                scheduled: 0,
                tally: Tally::default(),
                warmup: None,
                intervals: Vec::new(),
                checks: CheckTally::default(),
                server: None,
                interrupted,
                thresholds: Vec::new(),
                aborted: None,
                causes,
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
        // A failed interval log fails the run, and is said even when a
        // later cause decides the code.
        let broken = Cause::CheckFailed {
            check: crate::checks::Check::ValidRejected,
            count: 2,
        };
        let (code, err) = exit(false, vec![hlog.clone()]);
        assert_eq!(code, Exit::CheckFailed);
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
        let broken = Cause::CheckFailed {
            check: crate::checks::Check::LocationInvalid,
            count: 1,
        };
        let mut late = result(false, vec![hlog.clone(), broken.clone()]);
        late.mark_interrupted();
        late.mark_interrupted();
        assert!(late.report.interrupted);
        assert_eq!(late.causes(), [hlog, Cause::Interrupted, broken]);
        assert_eq!(exit_code(&late, &mut Vec::new()), Exit::Interrupted);
        let mut passed = result(false, vec![]);
        passed.mark_interrupted();
        assert_eq!(passed.causes(), [Cause::Interrupted]);
    }
}
