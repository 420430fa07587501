//! The verdict: thresholds (their grammar, [`threshold`]; the metrics they
//! name, [`metric`]; their evaluation over the whole run or every window,
//! [`evaluate`]) and the [`Cause`]s that fail a run. It judges and prints
//! nothing; `report` shows what it decided.
//!
//! The grammar depends only on the names of the checks and outcome
//! buckets, so the scenario reads thresholds with it; judging reads the
//! metrics and checks of a finished run.

pub mod abort;
pub mod evaluate;
pub mod metric;
pub mod threshold;

pub use abort::{AbortWatch, Aborted};
pub use evaluate::{Evaluated, Measured, evaluate};
pub use metric::Metric;
pub use threshold::{Limit, Op, Source, Threshold, ThresholdError};

use crate::checks::Check;

/// What makes a finished run's verdict fail, in the order they are judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The interval log could not be written (the run itself is complete).
    HlogFailed(String),
    /// Stopped early by a signal or the library's interrupt.
    Interrupted,
    /// The outcomes do not add up to the requests scheduled.
    NotAccounted,
    /// The embedded server's counts differ from mcload's.
    ServerCountsDiffer,
    /// The endpoint broke the response contract: this check is not zero.
    CheckFailed { check: Check, count: u64 },
    /// A threshold with `abort = true` failed while the run went on, and
    /// stopped it.
    Aborted {
        expression: String,
        measured: String,
        /// When it failed, in whole seconds from the start of the run.
        second: u64,
        source: String,
    },
    /// A threshold does not hold.
    Threshold {
        /// `latency.p99 < 5ms`.
        expression: String,
        /// The measured value with its unit, or `none`.
        measured: String,
        /// Where it was given: `file:line`, `--threshold` or `default`.
        source: String,
    },
}

impl Cause {
    /// The cause in one line, for people.
    pub fn message(&self) -> String {
        match self {
            Cause::HlogFailed(e) => format!("cannot write the interval log: {e}"),
            Cause::Interrupted => "interrupted".into(),
            Cause::NotAccounted => "the outcomes do not add up to the requests scheduled".into(),
            Cause::ServerCountsDiffer => "the embedded server's counts differ from mcload's".into(),
            Cause::CheckFailed { check, count } => format!(
                "the endpoint broke the response contract: {} {count} (see `checks` in the report)",
                check.name()
            ),
            Cause::Aborted {
                expression,
                measured,
                second,
                source,
            } => format!(
                "stopped early at {second} s: threshold failed: {expression} (measured {measured}; {source})"
            ),
            Cause::Threshold {
                expression,
                measured,
                source,
            } => format!("threshold failed: {expression} (measured {measured}; {source})"),
        }
    }

    /// The threshold that stopped the run, as a cause.
    pub fn aborted(a: &Aborted) -> Cause {
        Cause::Aborted {
            expression: a.threshold.expression(),
            measured: value_text(a.threshold.limit, a.measured),
            second: a.second + 1,
            source: a.threshold.source.to_string(),
        }
    }

    /// A failed threshold as a cause.
    pub fn threshold(e: &Evaluated) -> Cause {
        Cause::Threshold {
            expression: e.threshold.expression(),
            measured: measured_text(e),
            source: e.threshold.source.to_string(),
        }
    }
}

/// A judged threshold's measured value with its unit (`31.2 ms`, `0.52%`,
/// `12 requests`, `1,234.5/s`), `none` when there was nothing to measure.
pub fn measured_text(e: &Evaluated) -> String {
    value_text(e.threshold.limit, e.measured)
}

fn value_text(limit: Limit, measured: Option<f64>) -> String {
    let Some(v) = measured else {
        return "none".into();
    };
    match limit {
        Limit::Duration(_) => format!("{v:.3} ms"),
        Limit::Share(_) => format!("{v:.2}%"),
        Limit::Count(_) => format!("{v:.0}"),
        Limit::Rate(_) => format!("{v:.1}/s"),
    }
}

/// The thresholds a run is judged by: those given, and unless one of them
/// is on `unexpected` or `defaults` is off, the default `unexpected <= 1%`.
pub fn with_default(mut given: Vec<Threshold>, defaults: bool) -> Vec<Threshold> {
    let unexpected = Metric::Count(metric::Count::Unexpected);
    if defaults && !given.iter().any(|t| t.metric == unexpected) {
        given.push(Threshold::default_unexpected());
    }
    given
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckTally;
    use crate::engine::Class;
    use crate::metrics::{Tally, Window, WindowSeries, windows::LatencyStats};

    fn threshold(text: &str) -> Threshold {
        let (metric, check) = threshold::split(text);
        threshold::parse(metric, check, Source::Flag).unwrap()
    }

    /// A tally of `n` answers of `status` at `ms` each, as a recorder
    /// would leave it.
    fn tally(parts: &[(Class, u64, u64)]) -> Tally {
        use crate::engine::{Outcome, Record};
        let mut r = crate::metrics::Recorder::new(Default::default());
        let t0 = std::time::Instant::now();
        for &(class, n, ms) in parts {
            for _ in 0..n {
                r.record(&Outcome {
                    intended: t0,
                    sent: t0,
                    done: t0 + std::time::Duration::from_millis(ms),
                    class,
                    warmup: false,
                    kind: crate::spec::BodyKind::Valid,
                    location: None,
                });
            }
        }
        r.finish().tally
    }

    fn measure<'a>(
        tally: &'a Tally,
        checks: &'a CheckTally,
        windows: &'a [WindowSeries],
    ) -> Measured<'a> {
        Measured {
            tally,
            checks,
            windows,
            elapsed_s: 2.0,
            measured_from_s: 0.0,
            end_s: 2.0,
        }
    }

    #[test]
    fn latency_counts_and_rate_are_judged_over_the_whole_run() {
        let t = tally(&[
            (Class::Status(201), 990, 10),
            (Class::Status(201), 10, 400),
            (Class::Timeout, 0, 0),
        ]);
        let checks = CheckTally::default();
        let m = measure(&t, &checks, &[]);
        let judged = evaluate(
            &[
                threshold("latency.p50 < 11ms"),
                threshold("latency.p99 < 250ms"),
                threshold("latency.max >= 399ms"),
                threshold("status.201 >= 99.5%"),
                threshold("requests == 1000"),
                threshold("rate > 400/s"),
                threshold("rate > 600/s"),
                threshold("latency.status.500.p99 < 1ms"),
            ],
            &m,
        );
        let passes: Vec<bool> = judged.iter().map(|e| e.pass).collect();
        assert_eq!(passes, [true, true, true, true, true, true, false, true]);
        assert!((judged[0].measured.unwrap() - 10.0).abs() < 0.1);
        assert_eq!(judged[3].measured, Some(100.0));
        assert_eq!(judged[5].measured, Some(500.0));
        assert_eq!(judged[7].measured, None, "no 500: nothing to be slow");
    }

    #[test]
    fn unexpected_counts_errors_and_answers_off_the_expected_status() {
        let t = tally(&[
            (Class::Status(201), 95, 1),
            (Class::Status(404), 2, 1),
            (Class::Connect, 1, 0),
        ]);
        // Two answers were 404 to a valid body.
        let checks = {
            use crate::engine::{Outcome, Record};
            let mut r =
                crate::checks::Recorder::new(crate::spec::RuleSet::Strict, &["/api/v1/sessions"]);
            let now = std::time::Instant::now();
            for _ in 0..2 {
                r.record(&Outcome {
                    intended: now,
                    sent: now,
                    done: now,
                    class: Class::Status(404),
                    warmup: false,
                    kind: crate::spec::BodyKind::Valid,
                    location: None,
                });
            }
            r.finish()
        };
        assert_eq!(checks.count(Check::UnexpectedStatus), 2);
        let m = measure(&t, &checks, &[]);
        assert_eq!(evaluate::unexpected(&t.counts, &checks), 3);
        let judged = evaluate(&with_default(vec![], true), &m);
        assert_eq!(judged.len(), 1);
        assert_eq!(judged[0].threshold.source, Source::Default);
        assert!(!judged[0].pass, "3 of 98 is more than 1%");
        assert!((judged[0].measured.unwrap() - 300.0 / 98.0).abs() < 1e-9);
        assert_eq!(
            Cause::threshold(&judged[0]).message(),
            "threshold failed: unexpected <= 1% (measured 3.06%; default)"
        );
        // A threshold on `unexpected` replaces the default; `defaults = false` drops it.
        let own = with_default(vec![threshold("unexpected < 5")], true);
        assert_eq!(own.len(), 1);
        assert!(evaluate(&own, &m)[0].pass);
        assert!(with_default(vec![], false).is_empty());
    }

    #[test]
    fn a_window_threshold_names_the_worst_window() {
        let stats = |p99: u64| {
            Some(LatencyStats {
                min: 1,
                p50: 1,
                p90: 1,
                p95: 1,
                p99,
                p999: p99,
                max: p99,
                mean: 1.0,
            })
        };
        let window = |start, p99| Window {
            start,
            seconds: 3,
            counts: Default::default(),
            latency: stats(p99),
        };
        let series = [WindowSeries {
            length: 3,
            windows: vec![
                window(0, 100_000),
                window(1, 500_000),
                window(2, 450_000),
                window(3, 200_000),
            ],
        }];
        let t = Tally::default();
        let checks = CheckTally::default();
        let m = measure(&t, &checks, &series);
        let judged = evaluate(
            &[
                threshold("latency.p99 over 3s < 400ms"),
                threshold("latency.p99 over 3s < 1s"),
            ],
            &m,
        );
        assert!(!judged[0].pass);
        assert_eq!(judged[0].worst_window, Some((1, 3)));
        assert_eq!(judged[0].measured, Some(500.0));
        assert!(judged[1].pass);
        assert_eq!(
            judged[1].worst_window,
            Some((1, 3)),
            "the nearest to failing"
        );
    }

    #[test]
    fn the_latency_of_a_run_without_answers_does_not_pass() {
        let t = tally(&[(Class::Timeout, 5, 0)]);
        let checks = CheckTally::default();
        let judged = evaluate(&[threshold("latency.p99 < 1s")], &measure(&t, &checks, &[]));
        assert_eq!((judged[0].measured, judged[0].pass), (None, false));
        assert_eq!(measured_text(&judged[0]), "none");
    }
}
