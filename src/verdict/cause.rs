//! Why a finished run's verdict fails, and how a judged value reads.

use super::abort::Aborted;
use super::evaluate::Evaluated;
use crate::checks::Check;
use crate::threshold::Limit;

/// What makes a finished run's verdict fail, in the order they are judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// The interval log could not be written (the run itself is complete).
    HlogFailed(String),
    /// Stopped early by a signal or the library's interrupt.
    Interrupted,
    /// The outcomes do not add up to the requests scheduled.
    NotAccounted,
    /// The load generator failed part-way (a thread could not start or
    /// panicked): the counts cover only what ran.
    EngineFailed(String),
    /// Requests failed for lack of resources on the machine running
    /// mcload: the figures say nothing about the target.
    LocalErrors { count: u64 },
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
            Cause::EngineFailed(e) => format!(
                "the run is invalid: the load generator failed part-way ({e}); the counts cover only what ran before"
            ),
            Cause::LocalErrors { count } => format!(
                "the run is invalid: {count} requests failed for lack of resources on the machine running mcload (file descriptors, local ports or buffers), not because of the target; raise the descriptor limit (`ulimit -n`), or lower --concurrency or --connections"
            ),
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
            // Only a latency of the whole run fails for want of a figure.
            measured: match e.measured {
                Some(_) => measured_text(e),
                None => "none: nothing was answered".into(),
            },
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
