//! The judged part of the JSON report: each threshold as judged, and the
//! verdict with its causes.

use schemars::JsonSchema;
use serde::Serialize;

use super::super::{RunReport, schema};
use crate::verdict::{Aborted, Cause, Evaluated};

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Threshold")]
pub(crate) struct ThresholdJson {
    metric: String,
    /// `latency.p99 < 250ms`, as it would be written.
    expression: String,
    #[schemars(extend("enum" = ["<", "<=", ">", ">=", "==", "!="]))]
    operator: &'static str,
    /// In `unit`: `ms`, `%` (of the requests scheduled), `requests`, `/s`.
    limit: f64,
    #[schemars(extend("enum" = ["ms", "%", "requests", "/s"]))]
    unit: &'static str,
    /// `null` when there was nothing to measure.
    measured: Option<f64>,
    pass: bool,
    /// `FILE:LINE`, `--threshold` or `default`.
    source: String,
    /// For `over D`: the windows' length and the worst one.
    window: Option<WindowJson>,
    /// With `abort = true`: the grace, and whether this threshold stopped
    /// the run (at `stopped_at_s` from its start).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "AbortJson")]
    abort: Option<AbortJson>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Abort")]
struct AbortJson {
    after_s: f64,
    stopped_run: bool,
    stopped_at_s: Option<u64>,
    /// What it measured when it stopped the run, in the limit's unit;
    /// `null` when it did not stop the run.
    stopped_measured: Option<f64>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Window")]
struct WindowJson {
    duration_s: u64,
    /// The worst window's first second (from the start of the run) and
    /// length; `null` when no window had anything to measure.
    worst_t: Option<u64>,
    worst_duration_s: Option<u64>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Verdict")]
pub(super) struct VerdictJson {
    pass: bool,
    causes: Vec<CauseJson>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum CauseKind {
    Threshold,
    Abort,
    Check,
    ServerCounts,
    NotAccounted,
    Interrupted,
    Hlog,
    Engine,
    Local,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Cause")]
pub(crate) struct CauseJson {
    /// `threshold`, `abort` (a threshold stopped the run early), `check`,
    /// `server_counts`, `not_accounted`, `interrupted`, `hlog`, `engine`
    /// (the generator failed part-way) or `local` (requests failed for lack
    /// of resources on the machine running mcload).
    kind: CauseKind,
    message: String,
    /// The threshold's expression (`kind: threshold` or `abort`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    threshold: Option<String>,
    /// The check that failed (`kind: check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "schema::check_name")]
    check: Option<&'static str>,
    /// The check's count (`kind: check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64")]
    count: Option<u64>,
}

pub(crate) fn threshold_json(e: &Evaluated, aborted: Option<&Aborted>) -> ThresholdJson {
    let t = &e.threshold;
    let fired = aborted.filter(|a| a.threshold == *t);
    ThresholdJson {
        metric: t.metric.name(),
        expression: t.expression(),
        operator: t.op.symbol(),
        limit: t.limit.reported(),
        unit: t.limit.unit_name(),
        measured: e.measured,
        pass: e.pass,
        source: t.source.to_string(),
        window: t.window.map(|duration_s| WindowJson {
            duration_s,
            worst_t: e.worst_window.map(|(start, _)| start),
            worst_duration_s: e.worst_window.map(|(_, seconds)| seconds),
        }),
        abort: t.abort.map(|after| AbortJson {
            after_s: after.as_secs_f64(),
            stopped_run: fired.is_some(),
            stopped_at_s: fired.map(|a| a.second + 1),
            stopped_measured: fired.and_then(|a| a.measured),
        }),
    }
}

pub(crate) fn cause_json(cause: &Cause) -> CauseJson {
    let (kind, threshold, check) = match cause {
        Cause::HlogFailed(_) => (CauseKind::Hlog, None, None),
        Cause::Interrupted => (CauseKind::Interrupted, None, None),
        Cause::NotAccounted => (CauseKind::NotAccounted, None, None),
        Cause::EngineFailed(_) => (CauseKind::Engine, None, None),
        Cause::LocalErrors { .. } => (CauseKind::Local, None, None),
        Cause::ServerCountsDiffer => (CauseKind::ServerCounts, None, None),
        Cause::CheckFailed { check, count } => (CauseKind::Check, None, Some((*check, *count))),
        Cause::Threshold { expression, .. } => (CauseKind::Threshold, Some(expression), None),
        Cause::Aborted { expression, .. } => (CauseKind::Abort, Some(expression), None),
    };
    CauseJson {
        kind,
        message: cause.message(),
        threshold: threshold.cloned(),
        check: check.map(|(c, _)| c.name()),
        count: check.map(|(_, n)| n),
    }
}

/// The verdict as the report states it: pass, and every cause.
pub(super) fn verdict_json(run: &RunReport) -> VerdictJson {
    VerdictJson {
        pass: run.passed(),
        causes: run.causes.iter().map(cause_json).collect(),
    }
}
