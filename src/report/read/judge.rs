//! A saved run judged again by other thresholds (`mcload report
//! --threshold`): from its histograms for the whole run, and from its
//! per-second series for `over` windows, where the report keeps less than
//! the run had (each second's p50, p99 and max latency, its errors as one
//! count), so a threshold that needs more is refused, naming it.

use super::RunReport;
use crate::metrics::{Counts, Interval, LatencyStats, Window, WindowSeries};
use crate::threshold::metric::{Count, Metric, Stat};
use crate::threshold::{Threshold, with_default};
use crate::verdict::{Cause, Measured, evaluate};

/// A threshold a saved report cannot judge.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{expression}` cannot be judged from a saved report: {why}; judge it without `over`, or when the run is made"
)]
pub struct Unjudgeable {
    pub expression: String,
    why: &'static str,
}

/// Judges `run` by `given` (and the default `unexpected <= 1%` unless one
/// of them is on `unexpected`, as `run` does), replacing the thresholds it
/// was judged by; the verdict's other causes stay as they were.
pub fn rejudge(run: &mut RunReport, given: Vec<Threshold>) -> Result<(), Unjudgeable> {
    judge_by(run, with_default(given, true))
}

/// Judges `run` by exactly `thresholds` (no default joins them), replacing
/// those it was judged by: `mcload merge` judges the merged shards by the
/// thresholds they were saved with, which already hold the default when
/// their scenario wanted it.
pub fn judge_by(run: &mut RunReport, thresholds: Vec<Threshold>) -> Result<(), Unjudgeable> {
    for t in &thresholds {
        if let Some(length) = t.window
            && let Some(why) = unjudgeable(&t.metric, length)
        {
            return Err(Unjudgeable {
                expression: t.expression(),
                why,
            });
        }
    }
    let mut lengths: Vec<u64> = thresholds.iter().filter_map(|t| t.window).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let windows: Vec<WindowSeries> = lengths
        .into_iter()
        .map(|l| windows(&run.intervals, l))
        .collect();
    let (from, to) = run.measured_window();
    run.thresholds = evaluate(
        &thresholds,
        &Measured {
            tally: &run.tally,
            checks: &run.checks,
            windows: &windows,
            elapsed_s: (to - from).as_secs_f64(),
            measured_from_s: from.as_secs_f64(),
            end_s: to.as_secs_f64(),
        },
    );
    let hlog = run.causes.iter().find_map(|c| match c {
        Cause::HlogFailed(e) => Some(e.clone()),
        _ => None,
    });
    run.causes = run.judge(hlog);
    Ok(())
}

/// Why a metric cannot be judged over windows of `length` seconds from the
/// saved series, if it cannot.
fn unjudgeable(metric: &Metric, length: u64) -> Option<&'static str> {
    match metric {
        Metric::Latency(_, stat) => {
            if length != 1 {
                Some(
                    "the report keeps each second's latency figures, not its histogram, so windows longer than 1s cannot be merged",
                )
            } else if !matches!(stat, Stat::P50 | Stat::P99 | Stat::Max) {
                Some("the report keeps each second's p50, p99 and max latency only")
            } else {
                None
            }
        }
        Metric::Count(
            Count::Connect
            | Count::Tls
            | Count::Local
            | Count::Timeout
            | Count::Io
            | Count::Protocol,
        ) => Some("the report keeps each second's errors as one count, not by class"),
        _ => None,
    }
}

/// Every window of `length` consecutive seconds of the series, as the run
/// builds them: a series shorter than one window is one window.
fn windows(intervals: &[Interval], length: u64) -> WindowSeries {
    let span = (length.max(1) as usize).min(intervals.len());
    let windows = if span == 0 {
        Vec::new()
    } else {
        intervals
            .windows(span)
            .map(|seconds| {
                let mut counts = Counts::default();
                for s in seconds {
                    counts += &s.counts;
                }
                Window {
                    start: seconds[0].second,
                    seconds: seconds.len() as u64,
                    counts,
                    latency: (length == 1)
                        .then(|| seconds[0].latency_us.map(second_stats))
                        .flatten(),
                }
            })
            .collect()
    };
    WindowSeries { length, windows }
}

/// A second's latency as window statistics. Only p50, p99 and max are
/// kept; the others are never read, since thresholds on them are refused
/// (see [`unjudgeable`]), and are set to their nearest kept figure.
fn second_stats((p50, p99, max): (u64, u64, u64)) -> LatencyStats {
    LatencyStats {
        min: p50,
        p50,
        p90: p99,
        p95: p99,
        p99,
        p999: max,
        max,
        mean: p50 as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Class;

    fn second(n: u64, created: u64) -> Interval {
        let mut counts = Counts::default();
        for _ in 0..created {
            counts.add(Class::Status(201));
        }
        Interval {
            second: n,
            started: created,
            counts,
            latency_us: (created > 0).then_some((n * 1_000, n * 2_000, n * 3_000)),
            send_lag_us: None,
        }
    }

    /// Every span of `length` consecutive seconds, as the run builds its
    /// windows; a series shorter than one window is one window.
    #[test]
    fn windows_of_the_saved_series_are_every_span_of_their_length() {
        let series: Vec<Interval> = (0..5).map(|n| second(n, n + 1)).collect();
        let two = windows(&series, 2);
        let spans: Vec<(u64, u64, u64)> = two
            .windows
            .iter()
            .map(|w| (w.start, w.seconds, w.counts.created()))
            .collect();
        assert_eq!(spans, [(0, 2, 3), (1, 2, 5), (2, 2, 7), (3, 2, 9)]);
        assert!(two.windows.iter().all(|w| w.latency.is_none()));
        let long = windows(&series, 10);
        assert_eq!(long.windows.len(), 1);
        assert_eq!(long.windows[0].counts.created(), 15);
        let one = windows(&series, 1);
        assert_eq!(one.windows[4].latency.map(|l| l.p99), Some(8_000));
        assert!(windows(&[], 3).windows.is_empty());
    }

    fn threshold(text: &str) -> Threshold {
        let (metric, check) = crate::threshold::split(text);
        crate::threshold::parse(metric, check, crate::threshold::Source::Flag).unwrap()
    }

    /// The given thresholds replace the saved ones, the default joins
    /// them, an `over` one is judged on the saved seconds, and the run's
    /// other causes (here the abort threshold that stopped it) stay.
    #[test]
    fn given_thresholds_replace_the_saved_ones_and_the_runs_facts_stay() {
        let saved = threshold("status.201 >= 1%");
        let mut run = RunReport {
            elapsed: std::time::Duration::from_secs(3),
            intervals: vec![second(0, 10), second(1, 0), second(2, 10)],
            thresholds: vec![crate::verdict::Evaluated {
                threshold: saved.clone(),
                measured: Some(100.0),
                pass: true,
                worst_window: None,
            }],
            aborted: Some(crate::verdict::Aborted {
                threshold: saved,
                measured: Some(0.5),
                second: 1,
            }),
            ..RunReport::example()
        };
        run.causes = run.judge(None);
        rejudge(&mut run, vec![threshold("requests over 1s >= 5")]).unwrap();
        let judged: Vec<(String, Option<f64>, bool)> = run
            .thresholds
            .iter()
            .map(|e| (e.threshold.expression(), e.measured, e.pass))
            .collect();
        assert_eq!(
            judged,
            [
                ("requests over 1s >= 5".into(), Some(0.0), false),
                ("unexpected <= 1%".into(), Some(0.0), true),
            ]
        );
        assert_eq!(run.thresholds[0].worst_window, Some((1, 1)));
        let kinds: Vec<String> = run.causes.iter().map(Cause::message).collect();
        assert!(
            kinds[0].starts_with("stopped early at 2 s: threshold failed: status.201 >= 1%"),
            "{kinds:?}"
        );
        assert!(
            kinds[1].starts_with("threshold failed: requests over 1s >= 5"),
            "{kinds:?}"
        );
        assert_eq!(kinds.len(), 2);
        let refused = rejudge(&mut run, vec![threshold("errors.io over 1s < 1")]).unwrap_err();
        assert_eq!(refused.expression, "errors.io over 1s < 1");
    }
}
