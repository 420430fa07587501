//! Judging thresholds after a run, from what the run measured: latency
//! statistics from the HdrHistograms, counts as shares of every request
//! scheduled in the measured part, and for `over D` every window of the
//! per-second series.

use crate::checks::{Check, CheckTally};
use crate::metrics::{Counts, LatencyStats, Tally, WindowSeries};
use crate::threshold::metric::{Count, Metric, Stat, Timing};
use crate::threshold::{Limit, Threshold};

/// What a run measured, as thresholds read it.
#[derive(Clone, Copy, Debug)]
pub struct Measured<'a> {
    pub tally: &'a Tally,
    pub checks: &'a CheckTally,
    /// The windows of each length the thresholds asked for.
    pub windows: &'a [WindowSeries],
    /// Seconds the measured part sent for (the rate's denominator).
    pub elapsed_s: f64,
    /// Where the measured part begins and ends, in seconds from the start
    /// of the run: a window's rate counts only the time inside it.
    pub measured_from_s: f64,
    pub end_s: f64,
}

/// A judged threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    pub threshold: Threshold,
    /// In the limit's reported unit (ms, %, requests, /s); `None` when
    /// there was nothing to measure.
    pub measured: Option<f64>,
    pub pass: bool,
    /// For `over D`: the worst window's first second and its length.
    pub worst_window: Option<(u64, u64)>,
}

/// Judges each threshold.
pub fn evaluate(thresholds: &[Threshold], m: &Measured<'_>) -> Vec<Evaluated> {
    thresholds.iter().map(|t| judge(t, m)).collect()
}

fn judge(t: &Threshold, m: &Measured<'_>) -> Evaluated {
    let limit = t.limit.reported();
    let Some(length) = t.window else {
        let measured = whole_run(t, m);
        return Evaluated {
            threshold: t.clone(),
            measured,
            pass: pass(t, measured),
            worst_window: None,
        };
    };
    let windows = m
        .windows
        .iter()
        .find(|s| s.length == length)
        .map_or(&[][..], |s| &s.windows[..]);
    // The worst window: the first that fails by the most, else the one
    // nearest to failing.
    let mut worst: Option<(f64, (u64, u64))> = None;
    for w in windows {
        let Some(value) = window_value(t, m, w) else {
            continue;
        };
        let worse = match worst {
            None => true,
            Some((current, _)) => further(t, value, limit) > further(t, current, limit),
        };
        if worse {
            worst = Some((value, (w.start, w.seconds)));
        }
    }
    match worst {
        Some((value, window)) => Evaluated {
            threshold: t.clone(),
            measured: Some(value),
            pass: t.op.holds(value, limit),
            worst_window: Some(window),
        },
        // No window had anything to measure: judged as the whole run is.
        None => {
            let measured = whole_run(t, m);
            Evaluated {
                threshold: t.clone(),
                measured,
                pass: pass(t, measured),
                worst_window: None,
            }
        }
    }
}

/// How far `value` is on the failing side of `limit` (larger is worse).
fn further(t: &Threshold, value: f64, limit: f64) -> f64 {
    use crate::threshold::Op;
    match t.op {
        Op::Lt | Op::Le => value - limit,
        Op::Gt | Op::Ge => limit - value,
        Op::Eq => (value - limit).abs(),
        Op::Ne => -(value - limit).abs(),
    }
}

/// No measurement: the latency of the whole run with no answer to
/// measure does not meet its threshold, nor a send lag with no request
/// sent (or a report that predates it: nothing shows the generator kept
/// up); a latency of one outcome or body kind that never occurred has
/// nothing to be slow, and holds.
fn pass(t: &Threshold, measured: Option<f64>) -> bool {
    match measured {
        Some(value) => t.op.holds(value, t.limit.reported()),
        None => !matches!(
            t.metric,
            Metric::Latency(Timing::Latency | Timing::ServiceTime | Timing::SendLag, _)
        ),
    }
}

pub(super) fn stat(s: &LatencyStats, stat: Stat) -> f64 {
    match stat {
        Stat::Min => s.min as f64,
        Stat::P50 => s.p50 as f64,
        Stat::P90 => s.p90 as f64,
        Stat::P95 => s.p95 as f64,
        Stat::P99 => s.p99 as f64,
        Stat::P999 => s.p999 as f64,
        Stat::Max => s.max as f64,
        Stat::Mean => s.mean,
    }
}

/// A count or latency over the whole measured part.
fn whole_run(t: &Threshold, m: &Measured<'_>) -> Option<f64> {
    let c = &m.tally.counts;
    match t.metric {
        Metric::Latency(timing, s) => {
            let h = match timing {
                Timing::Latency => &m.tally.all,
                Timing::ServiceTime => &m.tally.service,
                Timing::SendLag => &m.tally.send_lag,
                Timing::Outcome(bucket) => m.tally.bucket(bucket),
                Timing::Valid => &m.checks.latency_valid,
                Timing::Invalid => m.checks.latency_invalid(),
            };
            LatencyStats::of(h).map(|l| stat(&l, s) / 1000.0)
        }
        Metric::Count(count) => {
            let n = match count {
                Count::Unexpected => unexpected(c, m.checks),
                Count::Checks => Check::ALL.iter().map(|&k| m.checks.count(k)).sum(),
                Count::Check(k) => m.checks.count(k),
                other => outcome_count(other, c),
            };
            Some(amount(t.limit, n, c.total()))
        }
        Metric::Rate => Some(if m.elapsed_s > 0.0 {
            c.completed() as f64 / m.elapsed_s
        } else {
            0.0
        }),
    }
}

fn window_value(t: &Threshold, m: &Measured<'_>, w: &crate::metrics::Window) -> Option<f64> {
    match t.metric {
        Metric::Latency(_, s) => w.latency.map(|l| stat(&l, s) / 1000.0),
        Metric::Count(count) => Some(amount(
            t.limit,
            outcome_count(count, &w.counts),
            w.counts.total(),
        )),
        Metric::Rate => {
            let from = (w.start as f64).max(m.measured_from_s);
            let to = ((w.start + w.seconds) as f64).min(m.end_s);
            (to > from).then(|| w.counts.completed() as f64 / (to - from))
        }
    }
}

/// A count as the limit reads it: a share in percent of `total`, or the
/// count itself.
pub(super) fn amount(limit: Limit, n: u64, total: u64) -> f64 {
    match limit {
        Limit::Share(_) if total == 0 => 0.0,
        Limit::Share(_) => n as f64 * 100.0 / total as f64,
        _ => n as f64,
    }
}

/// Errors plus answers off the status their body expects.
pub fn unexpected(c: &Counts, checks: &CheckTally) -> u64 {
    c.errors()
        + checks.count(Check::ValidRejected)
        + checks.count(Check::InvalidAccepted)
        + checks.count(Check::UnexpectedStatus)
}

/// The counts the outcome counts alone give (also per window).
pub(super) fn outcome_count(count: Count, c: &Counts) -> u64 {
    match count {
        Count::Status201 => c.created(),
        Count::Status400 => c.bad_request(),
        Count::Status500 => c.server_error(),
        Count::StatusOther => c.other(),
        Count::Errors => c.errors(),
        Count::Connect => c.connect(),
        Count::Tls => c.tls(),
        Count::Local => c.local(),
        Count::Timeout => c.timeouts(),
        Count::Io => c.io(),
        Count::Protocol => c.protocol(),
        Count::Dropped => c.dropped(),
        Count::Cancelled => c.cancelled(),
        Count::Requests => c.total(),
        // Not kept per second: the grammar refuses them with `over`.
        Count::Unexpected | Count::Checks | Count::Check(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckTally;
    use crate::engine::Class;
    use crate::metrics::{Tally, Window, WindowSeries, windows::LatencyStats};
    use crate::threshold::{self, Source, with_default};
    use crate::verdict::{Cause, measured_text};

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
                    send_lag: None,
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
                    send_lag: None,
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
        assert_eq!(unexpected(&t.counts, &checks), 3);
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

    /// `send_lag.<stat>` reads the send lag, to the microsecond, of every
    /// request sent (errors too); with none to read (nothing sent, or a
    /// report from before it was kept) it does not pass.
    #[test]
    fn send_lag_thresholds_judge_the_generators_own_lateness() {
        use crate::engine::{Outcome, Record};
        let mut r = crate::metrics::Recorder::new(Default::default());
        let t0 = std::time::Instant::now();
        for i in 0..1_000u64 {
            r.record(&Outcome {
                intended: t0,
                sent: t0,
                // Latency far above the limits: the lag alone is judged.
                done: t0 + std::time::Duration::from_millis(50),
                send_lag: Some(std::time::Duration::from_micros(if i < 990 {
                    100
                } else {
                    2_000
                })),
                class: if i % 2 == 0 {
                    Class::Status(201)
                } else {
                    Class::Timeout
                },
                warmup: false,
                kind: crate::spec::BodyKind::Valid,
                location: None,
            });
        }
        let t = r.finish().tally;
        let checks = CheckTally::default();
        let judged = evaluate(
            &[
                threshold("send_lag.p99 < 250us"),
                threshold("send_lag.max < 250us"),
                threshold("send_lag.p50 <= 100us"),
            ],
            &measure(&t, &checks, &[]),
        );
        let passes: Vec<bool> = judged.iter().map(|e| e.pass).collect();
        assert_eq!(passes, [true, false, true]);
        assert!(
            (judged[0].measured.unwrap() - 0.1).abs() < 0.001,
            "{judged:?}"
        );
        assert!(
            (judged[1].measured.unwrap() - 2.0).abs() < 0.01,
            "{judged:?}"
        );

        let unsent = tally(&[(Class::Status(201), 5, 1)]);
        let judged = evaluate(
            &[threshold("send_lag.p99 < 250us")],
            &measure(&unsent, &checks, &[]),
        );
        assert_eq!((judged[0].measured, judged[0].pass), (None, false));
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
