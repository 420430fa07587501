//! The JSON report (`--json PATH`): the stable keys of design.md. Later
//! versions add keys; they never rename these.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use serde::Serialize;

use super::{LatencyMs, RunReport, ServerCheck};
use crate::metrics::{Bucket, Latency};

pub const SCHEMA: &str = "mcload.report/v1";

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    scenario: &'a str,
    target: &'a str,
    seed: u64,
    started_at: String,
    duration_s: f64,
    interrupted: bool,
    /// `requests.scheduled` equals the sum of all outcomes.
    accounted: bool,
    model: Model,
    requests: Requests,
    status: Status,
    errors: Errors,
    dropped: u64,
    throughput_rps: f64,
    latency_ms: Latency3,
    latency_ms_by_outcome: BTreeMap<&'static str, Latency3>,
    histograms: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<Server>,
}

#[derive(Serialize)]
struct Model {
    #[serde(rename = "type")]
    kind: &'static str,
    concurrency: u32,
    threads: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<u64>,
}

#[derive(Serialize)]
struct Requests {
    /// Every request started: the sum of all outcomes.
    scheduled: u64,
    /// Requests that got an HTTP answer.
    completed: u64,
}

#[derive(Serialize)]
struct Status {
    #[serde(rename = "201")]
    created: u64,
    #[serde(rename = "400")]
    bad_request: u64,
    #[serde(rename = "500")]
    server_error: u64,
    other: BTreeMap<String, u64>,
}

#[derive(Serialize)]
struct Errors {
    connect: u64,
    timeout: u64,
    io: u64,
    protocol: u64,
}

/// Latency in milliseconds, rounded to the microsecond.
#[derive(Serialize)]
struct Latency3 {
    min: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    p999: f64,
    max: f64,
    mean: f64,
}

impl From<LatencyMs> for Latency3 {
    fn from(l: LatencyMs) -> Self {
        let r = |x: f64| (x * 1000.0).round() / 1000.0;
        Latency3 {
            min: r(l.min),
            p50: r(l.p50),
            p90: r(l.p90),
            p99: r(l.p99),
            p999: r(l.p999),
            max: r(l.max),
            mean: r(l.mean),
        }
    }
}

#[derive(Serialize)]
struct Server {
    requests: u64,
    #[serde(rename = "201")]
    created: u64,
    #[serde(rename = "400")]
    bad_request: u64,
    #[serde(rename = "500")]
    server_error: u64,
    other: u64,
    /// `equal`; `consistent` when the only differences are answers mcload
    /// gave up on (timeouts, broken connections); or `different`.
    check: &'static str,
    /// Whether the check holds (`equal` or `consistent`).
    matches: bool,
}

/// A histogram as base64 of its compressed V2 encoding, the form
/// HdrHistogram's own tools decode.
pub fn histogram_base64(h: &Latency) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The report as a JSON value.
pub fn to_json(run: &RunReport<'_>) -> serde_json::Value {
    let counts = &run.tally.counts;
    let mut by_outcome = BTreeMap::new();
    let mut histograms = BTreeMap::from([("all", histogram_base64(&run.tally.all))]);
    for bucket in Bucket::ALL {
        let h = run.tally.bucket(bucket);
        if !h.is_empty() {
            by_outcome.insert(bucket.name(), LatencyMs::of(h).into());
            histograms.insert(bucket.name(), histogram_base64(h));
        }
    }
    let report = Report {
        schema: SCHEMA,
        scenario: run.scenario,
        target: &run.target,
        seed: run.seed,
        started_at: humantime::format_rfc3339_millis(run.started_at).to_string(),
        duration_s: (run.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        interrupted: run.interrupted,
        accounted: run.accounted(),
        model: Model {
            kind: "closed",
            concurrency: run.concurrency,
            threads: run.threads,
            duration_s: run.stop.duration.map(|d| d.as_secs_f64()),
            requests: run.stop.requests,
        },
        requests: Requests {
            scheduled: run.scheduled,
            completed: counts.completed(),
        },
        status: Status {
            created: counts.status(201),
            bad_request: counts.status(400),
            server_error: counts.status(500),
            other: counts
                .other_statuses()
                .into_iter()
                .map(|(code, n)| (code.to_string(), n))
                .collect(),
        },
        errors: Errors {
            connect: counts.connect,
            timeout: counts.timeout,
            io: counts.io,
            protocol: counts.protocol,
        },
        dropped: 0,
        throughput_rps: (run.throughput() * 10.0).round() / 10.0,
        latency_ms: LatencyMs::of(&run.tally.all).into(),
        latency_ms_by_outcome: by_outcome,
        histograms,
        server: run.server.map(|s| Server {
            requests: s.requests,
            created: s.created,
            bad_request: s.bad_request,
            server_error: s.server_error,
            other: s.other,
            check: match run.server_check() {
                Some(ServerCheck::Equal) => "equal",
                Some(ServerCheck::Consistent { .. }) => "consistent",
                _ => "different",
            },
            matches: run.server_check().is_some_and(ServerCheck::holds),
        }),
    };
    serde_json::to_value(report).expect("the report always serializes")
}
