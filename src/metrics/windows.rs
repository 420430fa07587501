//! Sliding windows over the per-second series: for each window length
//! asked for, every span of that many consecutive seconds, with its outcome
//! counts and the statistics of its merged latency histogram. Built by the
//! series collector as each second completes (off the hot path): a window's
//! histogram is the previous one plus the new second minus the second that
//! left it, and each second is kept only as its few non-empty buckets, so a
//! window of `D` seconds costs `D` small lists and one histogram.

use std::collections::VecDeque;

use super::{Counts, Latency, new_latency};

/// The statistics of a latency histogram, in µs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyStats {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl LatencyStats {
    /// `None` for an empty histogram.
    pub fn of(h: &Latency) -> Option<LatencyStats> {
        (!h.is_empty()).then(|| LatencyStats {
            min: h.min(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        })
    }
}

/// One window: `seconds` seconds from second `start`.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub start: u64,
    pub seconds: u64,
    pub counts: Counts,
    /// `None` when nothing was answered in it.
    pub latency: Option<LatencyStats>,
}

/// Every window of one length, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowSeries {
    pub length: u64,
    pub windows: Vec<Window>,
}

/// One second in a window: its number, its counts, and its latency as
/// (value, count) pairs of its non-empty buckets.
type Second = (u64, Counts, Vec<(u64, u64)>);

/// Builds the windows of one length as seconds arrive.
pub(super) struct WindowBuilder {
    length: u64,
    /// The seconds in the current window.
    ring: VecDeque<Second>,
    merged: Latency,
    scratch: Latency,
    out: Vec<Window>,
}

impl WindowBuilder {
    pub fn new(length: u64) -> WindowBuilder {
        WindowBuilder {
            length: length.max(1),
            ring: VecDeque::new(),
            merged: new_latency(),
            scratch: new_latency(),
            out: Vec::new(),
        }
    }

    /// Adds the next second; a full window is kept.
    pub fn push(&mut self, second: u64, counts: &Counts, h: Option<&Latency>) {
        let buckets: Vec<(u64, u64)> = h.map_or_else(Vec::new, |h| {
            h.iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect()
        });
        for &(value, n) in &buckets {
            self.merged.saturating_record_n(value, n);
        }
        self.ring.push_back((second, *counts, buckets));
        if self.ring.len() as u64 > self.length {
            let (_, _, old) = self.ring.pop_front().expect("longer than the window");
            self.scratch.reset();
            for (value, n) in old {
                self.scratch.saturating_record_n(value, n);
            }
            if self.merged.subtract(&self.scratch).is_err() {
                self.rebuild();
            }
        }
        if self.ring.len() as u64 == self.length {
            self.emit();
        }
    }

    fn rebuild(&mut self) {
        self.merged.reset();
        for (_, _, buckets) in &self.ring {
            for &(value, n) in buckets {
                self.merged.saturating_record_n(value, n);
            }
        }
    }

    fn emit(&mut self) {
        let Some(&(start, _, _)) = self.ring.front() else {
            return;
        };
        let mut counts = Counts::default();
        for (_, c, _) in &self.ring {
            counts += c;
        }
        self.out.push(Window {
            start,
            seconds: self.ring.len() as u64,
            counts,
            latency: LatencyStats::of(&self.merged),
        });
    }

    /// The window that ended with the last second pushed, if it was full.
    pub fn latest(&self) -> Option<&Window> {
        self.out
            .last()
            .filter(|w| Some(&w.start) == self.ring.front().map(|(s, _, _)| s))
    }

    pub fn length(&self) -> u64 {
        self.length
    }

    /// The windows; a run shorter than one window is one window, as long
    /// as the run.
    pub fn finish(mut self) -> WindowSeries {
        if self.out.is_empty() && !self.ring.is_empty() {
            self.emit();
        }
        WindowSeries {
            length: self.length,
            windows: self.out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Class;

    fn second(latencies_ms: &[u64]) -> (Counts, Latency) {
        let mut c = Counts::default();
        let mut h = new_latency();
        for &ms in latencies_ms {
            c.add(Class::Status(201));
            h.record(ms * 1000).unwrap();
        }
        (c, h)
    }

    #[test]
    fn each_window_holds_exactly_its_seconds() {
        let seconds: Vec<(Counts, Latency)> =
            [&[1u64, 1, 1][..], &[2, 2], &[300], &[], &[4, 4, 4, 4]]
                .iter()
                .map(|s| second(s))
                .collect();
        let mut b = WindowBuilder::new(2);
        for (i, (c, h)) in seconds.iter().enumerate() {
            b.push(i as u64, c, (!h.is_empty()).then_some(h));
        }
        let series = b.finish();
        assert_eq!(series.length, 2);
        let starts: Vec<u64> = series.windows.iter().map(|w| w.start).collect();
        assert_eq!(starts, [0, 1, 2, 3]);
        for w in &series.windows {
            let mut expected = new_latency();
            let mut counts = Counts::default();
            for (c, h) in &seconds[w.start as usize..(w.start + 2) as usize] {
                expected.add(h).unwrap();
                counts += c;
            }
            assert_eq!(w.counts, counts, "window {}", w.start);
            assert_eq!(w.latency, LatencyStats::of(&expected), "window {}", w.start);
        }
        // The 300 ms second is in windows 1 and 2 only.
        let max: Vec<u64> = series
            .windows
            .iter()
            .map(|w| w.latency.unwrap().max / 1000)
            .collect();
        assert_eq!(max, [2, 300, 300, 4]);
    }

    #[test]
    fn a_run_shorter_than_the_window_is_one_window() {
        let mut b = WindowBuilder::new(10);
        let (c, h) = second(&[5, 7]);
        b.push(3, &c, Some(&h));
        b.push(4, &c, Some(&h));
        let series = b.finish();
        assert_eq!(series.windows.len(), 1);
        assert_eq!((series.windows[0].start, series.windows[0].seconds), (3, 2));
        assert_eq!(series.windows[0].counts.created(), 4);
    }
}
