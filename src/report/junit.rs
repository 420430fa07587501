//! The JUnit XML report of a run (`--junit PATH`), written with the
//! `quick-junit` crate: one test suite for the run, one test case per
//! threshold and per check, each failure saying what was measured against
//! what limit; the run's other causes (not accounted, the server's counts,
//! an interrupt) are test cases too when they occur, so a CI system that
//! reads only this file sees every reason the run failed.

use std::io::Write;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::RunReport;
use crate::checks::Check;
use crate::verdict::{Cause, Source, measured_text};

/// The run as a JUnit report.
pub fn to_junit(run: &RunReport) -> Report {
    let mut suite = TestSuite::new(format!("mcload run {}", run.scenario));
    suite.set_time(run.elapsed);
    suite.add_property(("target", format!("{}{}", run.target, run.path).as_str()));
    suite.add_property(("seed", run.seed.to_string().as_str()));

    for e in &run.thresholds {
        let t = &e.threshold;
        let source = match &t.source {
            Source::Default => "the default verdict".to_string(),
            other => other.to_string(),
        };
        let window = e.worst_window.map_or(String::new(), |(start, seconds)| {
            format!(" in the worst window, {start}–{} s", start + seconds)
        });
        let stopped = run.aborted.as_ref().is_some_and(|a| a.threshold == *t);
        let status = if e.pass && !stopped {
            TestCaseStatus::success()
        } else {
            let mut failed = TestCaseStatus::non_success(NonSuccessKind::Failure);
            failed.set_message(format!(
                "measured {}{window}; limit {} {} ({source}){}",
                measured_text(e),
                t.op.symbol(),
                t.limit_text,
                if stopped {
                    "; it stopped the run early"
                } else {
                    ""
                }
            ));
            failed.set_type("threshold");
            failed
        };
        let mut case = TestCase::new(t.expression(), status);
        case.set_classname("thresholds");
        case.set_system_out(format!("measured {}{window} ({source})", measured_text(e)));
        suite.add_test_case(case);
    }

    for check in Check::ALL {
        let count = run.checks.count(check);
        let broken = run
            .causes
            .iter()
            .any(|c| matches!(c, Cause::CheckFailed { check: k, .. } if *k == check));
        let status = if broken {
            let mut failed = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let samples: Vec<String> = run
                .checks
                .samples(check)
                .iter()
                .map(|s| format!("{} for a {} body", s.status, s.kind))
                .collect();
            failed.set_message(format!(
                "measured {count}; limit == 0 (e.g. {})",
                samples.join(", ")
            ));
            failed.set_type("check");
            failed
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(format!("checks.{}", check.name()), status);
        case.set_classname("checks");
        let note = if check == Check::UnexpectedStatus {
            " (judged by the `unexpected` threshold)"
        } else {
            ""
        };
        case.set_system_out(format!("{count} offending answers{note}"));
        suite.add_test_case(case);
    }

    for cause in &run.causes {
        let name = match cause {
            Cause::HlogFailed(_) => "interval log",
            Cause::Interrupted => "interrupted",
            Cause::NotAccounted => "accounted",
            Cause::ServerCountsDiffer => "server counts",
            Cause::EngineFailed(_) => "generator",
            Cause::LocalErrors { .. } => "local resources",
            Cause::CheckFailed { .. } | Cause::Threshold { .. } | Cause::Aborted { .. } => {
                continue;
            }
        };
        let mut failed = TestCaseStatus::non_success(NonSuccessKind::Error);
        failed.set_message(cause.message());
        let mut case = TestCase::new(name, failed);
        case.set_classname("run");
        suite.add_test_case(case);
    }

    let mut report = Report::new("mcload");
    report.set_time(run.elapsed);
    report.add_test_suite(suite);
    report
}

/// Writes the run's JUnit XML to `out`.
pub fn write_junit(run: &RunReport, out: &mut dyn Write) -> std::io::Result<()> {
    to_junit(run)
        .serialize(&mut *out)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    writeln!(out)
}
