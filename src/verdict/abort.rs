//! `abort = true`: thresholds judged as the run goes, once a second on the
//! series collector's thread, so that a run that has already failed stops
//! early (k6's `abortOnFail`). A threshold is judged over the measured part
//! so far, or for `over D` over the window that just ended, once its grace
//! `after` has passed; the first that fails stops the run.

use std::sync::{Arc, Mutex};

use super::evaluate::{amount, outcome_count, stat};
use crate::metrics::{Counts, LatencyStats, SecondWatch, SoFar, Window};
use crate::threshold::Threshold;
use crate::threshold::metric::Metric;

/// The threshold that stopped a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Aborted {
    pub threshold: Threshold,
    /// What it measured when it failed, in the limit's reported unit.
    pub measured: Option<f64>,
    /// The second (from the start of the run) at whose end it failed.
    pub second: u64,
}

/// Watches the abort thresholds; calls `stop` once, when one fails.
pub struct AbortWatch {
    thresholds: Vec<Threshold>,
    stop: Box<dyn Fn() + Send>,
    fired: Arc<Mutex<Option<Aborted>>>,
}

impl AbortWatch {
    /// A watch over the thresholds with `abort` among `all`, or `None`
    /// when there is none. The slot receives the threshold that fired.
    pub fn new(
        all: &[Threshold],
        stop: Box<dyn Fn() + Send>,
    ) -> Option<(AbortWatch, Arc<Mutex<Option<Aborted>>>)> {
        let thresholds: Vec<Threshold> =
            all.iter().filter(|t| t.abort.is_some()).cloned().collect();
        if thresholds.is_empty() {
            return None;
        }
        let fired = Arc::new(Mutex::new(None));
        Some((
            AbortWatch {
                thresholds,
                stop,
                fired: fired.clone(),
            },
            fired,
        ))
    }

    fn fire(&mut self, aborted: Aborted) {
        (self.stop)();
        if let Ok(mut slot) = self.fired.lock() {
            *slot = Some(aborted);
        }
        self.thresholds.clear();
    }
}

impl SecondWatch for AbortWatch {
    fn second(&mut self, so_far: &SoFar<'_>) {
        let mut failed = None;
        for t in &self.thresholds {
            let grace = t.abort.unwrap_or_default().as_secs_f64();
            if (so_far.seconds as f64) < grace {
                continue;
            }
            let measured = match t.window {
                Some(length) => so_far
                    .windows
                    .iter()
                    .find(|(l, _)| *l == length)
                    .and_then(|(_, w)| *w)
                    .and_then(|w| window_value(t, w)),
                None => so_far_value(t, so_far),
            };
            if let Some(value) = measured
                && !t.op.holds(value, t.limit.reported())
            {
                failed = Some(Aborted {
                    threshold: t.clone(),
                    measured: Some(value),
                    second: so_far.second,
                });
                break;
            }
        }
        if let Some(aborted) = failed {
            self.fire(aborted);
        }
    }
}

fn counts_value(t: &Threshold, c: &Counts, seconds: u64) -> Option<f64> {
    match t.metric {
        Metric::Count(count) => Some(amount(t.limit, outcome_count(count, c), c.total())),
        Metric::Rate => (seconds > 0).then(|| c.completed() as f64 / seconds as f64),
        Metric::Latency(..) => None,
    }
}

fn so_far_value(t: &Threshold, s: &SoFar<'_>) -> Option<f64> {
    match t.metric {
        Metric::Latency(_, st) => LatencyStats::of(s.latency).map(|l| stat(&l, st) / 1000.0),
        _ => counts_value(t, s.counts, s.seconds),
    }
}

fn window_value(t: &Threshold, w: &Window) -> Option<f64> {
    match t.metric {
        Metric::Latency(_, st) => w.latency.map(|l| stat(&l, st) / 1000.0),
        _ => counts_value(t, &w.counts, w.seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Class;
    use crate::metrics::new_latency;
    use crate::threshold::{Source, parse, split};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn threshold(text: &str, after_s: u64) -> Threshold {
        let (m, c) = split(text);
        let mut t = parse(m, c, Source::Flag).unwrap();
        t.abort = Some(Duration::from_secs(after_s));
        t
    }

    #[test]
    fn a_failing_threshold_stops_the_run_once_after_its_grace() {
        let stops = Arc::new(AtomicUsize::new(0));
        let counter = stops.clone();
        let (mut watch, fired) = AbortWatch::new(
            &[threshold("errors < 5%", 2), Threshold::default_unexpected()],
            Box::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        )
        .unwrap();
        let mut counts = Counts::default();
        for _ in 0..50 {
            counts.add(Class::Status(201));
        }
        for _ in 0..50 {
            counts.add(Class::Timeout);
        }
        let latency = new_latency();
        let mut second = |n: u64| {
            watch.second(&SoFar {
                second: n,
                seconds: n + 1,
                counts: &counts,
                latency: &latency,
                service: &latency,
                send_lag: &latency,
                windows: Vec::new(),
            })
        };
        second(0);
        assert_eq!(stops.load(Ordering::Relaxed), 0, "within the grace");
        second(1);
        second(2);
        assert_eq!(stops.load(Ordering::Relaxed), 1);
        let aborted = fired.lock().unwrap().clone().unwrap();
        assert_eq!(aborted.threshold.expression(), "errors < 5%");
        assert_eq!((aborted.measured, aborted.second), (Some(50.0), 1));
        second(3);
        assert_eq!(stops.load(Ordering::Relaxed), 1, "once");
    }

    #[test]
    fn without_an_abort_threshold_there_is_no_watch() {
        assert!(AbortWatch::new(&[Threshold::default_unexpected()], Box::new(|| {})).is_none());
    }
}
