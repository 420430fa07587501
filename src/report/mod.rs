//! Turns a finished run into text for people and JSON for machines. It
//! reads measured numbers and run facts; it never runs load.

mod json;
mod text;

use std::time::{Duration, SystemTime};

pub use json::{SCHEMA, histogram_base64, to_json};
pub use text::{progress_line, write_text};

use crate::metrics::{Latency, Tally};
use crate::scenario::StopRule;

/// A server's own counts, where mcload can know them (the embedded server).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerCounts {
    pub requests: u64,
    pub created: u64,
    pub bad_request: u64,
    pub server_error: u64,
    pub other: u64,
}

/// Everything a report says about one run.
pub struct RunReport<'a> {
    pub scenario: &'a str,
    /// The target's base URL, as design.md's report shows it.
    pub target: String,
    /// The endpoint path appended to it.
    pub path: &'a str,
    /// The target was the embedded reference server.
    pub embedded: bool,
    pub seed: u64,
    pub started_at: SystemTime,
    pub elapsed: Duration,
    pub concurrency: u32,
    pub threads: usize,
    pub stop: StopRule,
    pub tally: &'a Tally,
    pub server: Option<ServerCounts>,
    /// Stopped early by Ctrl-C or SIGTERM.
    pub interrupted: bool,
}

impl RunReport<'_> {
    /// Answers per second over the run.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.tally.counts.completed() as f64 / secs
        } else {
            0.0
        }
    }

    /// The server's counts equal mcload's, outcome for outcome.
    pub fn server_agrees(&self) -> Option<bool> {
        let c = &self.tally.counts;
        self.server.map(|s| {
            s.requests == c.total()
                && s.created == c.status(201)
                && s.bad_request == c.status(400)
                && s.server_error == c.status(500)
                && s.other == c.other()
        })
    }
}

/// Latency figures in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyMs {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl LatencyMs {
    pub fn of(h: &Latency) -> LatencyMs {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return LatencyMs {
                min: 0.0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        LatencyMs {
            min: ms(h.min()),
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}
