//! The JSON report (`--json PATH`), schema `mcload.report/v1`. Later
//! versions add keys; they never rename these.

mod plan;
mod verdict;

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use schemars::JsonSchema;
use serde::Serialize;

use super::{LatencyMs, RunReport, ServerCheck, schema};
use crate::checks::{Check, CheckTally};
use crate::metrics::{Bucket, Counts, ErrorSamples, Interval, Kind, Latency, Tally};
use crate::scenario::{Model, Rate};
use crate::spec::{Mutation, RuleSet};

/// The schema a report names, the one the readers (`compare`, `report`)
/// read: one constant for both sides.
pub use crate::verdict::compare::SCHEMA;
pub use plan::{decode_fingerprints, encode_fingerprints, fingerprint_hex};
#[cfg(test)]
pub(crate) use verdict::cause_json;
pub(crate) use verdict::threshold_json;
use verdict::{ThresholdJson, VerdictJson, verdict_json};

/// A run's JSON report (`mcload run --json`).
#[derive(Serialize, JsonSchema)]
#[schemars(title = "mcload.report/v1")]
pub(super) struct Report<'a> {
    /// Always `mcload.report/v1`.
    #[schemars(extend("const" = SCHEMA))]
    schema: &'static str,
    /// The mcload version that wrote the report.
    version: &'static str,
    scenario: &'a str,
    target: &'a str,
    /// The rule set the target was judged by (`strict`, `documented`).
    #[schemars(extend("enum" = RuleSet::ALL.map(RuleSet::name)))]
    rules: &'static str,
    seed: u64,
    /// When the run started (RFC 3339, UTC, milliseconds).
    #[schemars(extend("format" = "date-time"))]
    started_at: String,
    /// The measured window's length: from the end of the warm-up to the
    /// end of the plan or the last answer, whichever is later (the warm-up
    /// has its own, `warmup.duration_s`).
    duration_s: f64,
    /// The target's certificate was not verified, on purpose (`--insecure`
    /// or `target.insecure`).
    insecure: bool,
    interrupted: bool,
    /// `requests.scheduled` equals the sum of all outcomes.
    accounted: bool,
    /// False when the figures cannot be trusted: requests failed for lack
    /// of resources on the machine running mcload (`errors.local`), or the
    /// generator failed part-way. `invalid_reason` says which.
    valid: bool,
    invalid_reason: Option<String>,
    model: ModelJson,
    requests: Requests,
    status: Status<BTreeMap<String, u64>>,
    errors: Errors,
    /// The first reason seen for each error class (warm-up included),
    /// `null` for a class that had none: a refused connect, a certificate
    /// in plain words, a reset, what was not HTTP.
    error_reasons: ErrorReasons,
    /// Of `errors.timeout`: requests that waited their whole timeout for a
    /// connection and were never sent (open model).
    timeouts_never_sent: u64,
    dropped: u64,
    /// Sent, and still on the wire when the run was cut short (a second
    /// Ctrl-C, or the end of the grace period after the first).
    cancelled: u64,
    /// Time closed-model workers waited after failed connects before
    /// trying again, summed over workers (worker-seconds).
    backoff_s: f64,
    /// Answers per second over the measured window (`duration_s`).
    throughput_rps: f64,
    /// From each request's intended start (coordinated-omission correct);
    /// every figure `null` when nothing was answered.
    latency_ms: Latency3,
    /// From each request's actual send; `null` figures when nothing was
    /// answered.
    service_time_ms: Latency3,
    /// Send lag: how late the generator itself sent each request, from the
    /// later of its intended start and the moment a connection was free
    /// for it to the moment the request was handed to the connection.
    /// Waiting for a connection is the target's doing and is left out;
    /// latency still counts from the intended start, lateness included.
    /// Every request sent counts, whatever its outcome (but cancelled
    /// ones); `null` figures when nothing was sent (or the report predates
    /// the figure).
    send_lag_ms: Latency3,
    /// Per outcome class that had answers (`status.201`, …, `errors`).
    #[schemars(schema_with = "schema::by_outcome")]
    latency_ms_by_outcome: BTreeMap<&'static str, Latency3>,
    /// Base64 of HdrHistogram's compressed V2 encoding: `all`,
    /// `service_time`, `valid`, `invalid`, `send_lag` when a request was
    /// sent, and one per outcome class that had answers.
    #[schemars(schema_with = "schema::histograms")]
    histograms: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Warmup")]
    warmup: Option<Warmup>,
    intervals: Vec<IntervalJson>,
    bodies: Bodies,
    /// Each check's count of offending answers; all zero on a healthy endpoint.
    #[schemars(schema_with = "schema::checks")]
    checks: BTreeMap<&'static str, u64>,
    /// Up to a few offending cases per non-zero check.
    #[schemars(schema_with = "schema::check_samples")]
    check_samples: BTreeMap<&'static str, Vec<SampleJson>>,
    /// Latency of the answers to `valid` and to `invalid` bodies.
    #[schemars(schema_with = "schema::by_kind")]
    latency_ms_by_kind: BTreeMap<&'static str, Latency3>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Server")]
    server: Option<Server>,
    /// Only in a report `mcload merge` wrote: how many shards it merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    shards: Option<u64>,
    /// Every threshold the run was judged by, the default one included.
    thresholds: Vec<ThresholdJson>,
    verdict: VerdictJson,
    /// This run's shard of the plan (`--shard K/N`); `null` when unsharded.
    shard: Option<plan::ShardJson>,
    /// The plan's hash (16 hex digits), equal for every shard of one plan.
    plan_fingerprint: String,
    /// The agreed start (`--start-at`) and this run's lateness; `null` without one.
    start: Option<plan::StartJson>,
    /// With `--shard`: the session-id fingerprints remembered at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "plan::SessionIdsJson")]
    session_ids: Option<plan::SessionIdsJson>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Model", transform = schema::model_rules)]
struct ModelJson {
    /// `closed` (`concurrency`) or `open` (`rate`, or `start_rate` and
    /// `stages`; `connections`, `max_in_flight`).
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["closed", "open"]))]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32")]
    concurrency: Option<u32>,
    /// Constant rate, requests per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64")]
    rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64")]
    start_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<StageJson>")]
    stages: Option<Vec<StageJson>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u32")]
    connections: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64")]
    max_in_flight: Option<u64>,
    /// Open model: how the scheduler woke for its starts, `exact` or
    /// `batched:D` (`--pacing`); absent in a report from before it was a
    /// choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pacing: Option<String>,
    threads: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64")]
    duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64")]
    requests: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64")]
    warmup_s: Option<f64>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Stage")]
struct StageJson {
    duration_s: f64,
    rate: f64,
}

/// The bodies of the measured part by kind (requests not dropped).
#[derive(Serialize, JsonSchema)]
struct Bodies {
    valid: u64,
    invalid: u64,
    /// Invalid bodies by mutation, for the mutations used.
    #[schemars(schema_with = "schema::by_mutation")]
    by_mutation: BTreeMap<&'static str, u64>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "CheckSample")]
pub(super) struct SampleJson {
    status: u16,
    /// `valid` or the mutation's name.
    #[schemars(schema_with = "schema::body_kind")]
    kind: &'static str,
    /// The `Location` answered, or `null` when there was none.
    location: Option<String>,
}

fn bodies(c: &CheckTally) -> Bodies {
    Bodies {
        valid: c.valid,
        invalid: c.invalid(),
        by_mutation: Mutation::all()
            .filter(|m| c.by_mutation[m.index()] > 0)
            .map(|m| (m.name(), c.by_mutation[m.index()]))
            .collect(),
    }
}

/// The warm-up, apart from the measured part.
#[derive(Serialize, JsonSchema)]
struct Warmup {
    /// How long it ran: its planned length (`model.warmup_s`), or less
    /// when the run was stopped during it.
    duration_s: f64,
    requests: Requests,
    status: Status<BTreeMap<String, u64>>,
    errors: Errors,
    dropped: u64,
    cancelled: u64,
    latency_ms: Latency3,
}

/// One second of the measured part.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Interval")]
struct IntervalJson {
    /// Seconds from the start of the run (warm-up included).
    t: u64,
    /// The measured part began or ended within this second.
    partial: bool,
    /// Requests started in this second: the rate achieved.
    started: u64,
    /// Requests sent that ended in this second (answered or failed).
    rate_rps: u64,
    status: Status,
    /// Errors of this second, timeouts of requests never sent included.
    errors: u64,
    dropped: u64,
    cancelled: u64,
    /// Of the answers of this second; `null` when there was none.
    latency_ms: Option<IntervalLatency>,
    /// Send lag of the requests of this second that were sent, whatever
    /// their outcome (see the report's `send_lag_ms`); `null` when none
    /// was sent.
    send_lag_ms: Option<IntervalLatency>,
}

/// Answers by status. `other` is one number for the other codes, or (in
/// the run's own totals) a count per code.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Status_{Other}")]
struct Status<Other = u64> {
    #[serde(rename = "201")]
    created: u64,
    #[serde(rename = "400")]
    bad_request: u64,
    #[serde(rename = "500")]
    server_error: u64,
    other: Other,
}

#[derive(Serialize, JsonSchema)]
struct IntervalLatency {
    p50: f64,
    p99: f64,
    max: f64,
}

#[derive(Serialize, JsonSchema)]
struct Requests {
    /// Every request started: the sum of all outcomes.
    scheduled: u64,
    /// Requests that got an HTTP answer.
    completed: u64,
}

#[derive(Serialize, JsonSchema)]
struct Errors {
    connect: u64,
    /// The TLS handshake failed (certificate, protocol).
    tls: u64,
    /// The machine running mcload ran out of resources (descriptors,
    /// ports, buffers): never the target's fault.
    local: u64,
    timeout: u64,
    io: u64,
    protocol: u64,
}

#[derive(Serialize, JsonSchema)]
struct ErrorReasons {
    connect: Option<String>,
    tls: Option<String>,
    local: Option<String>,
    io: Option<String>,
    protocol: Option<String>,
}

fn error_reasons(samples: &ErrorSamples) -> ErrorReasons {
    let reason = |kind| samples.get(kind).map(str::to_owned);
    ErrorReasons {
        connect: reason(Kind::Connect),
        tls: reason(Kind::Tls),
        local: reason(Kind::Local),
        io: reason(Kind::Io),
        protocol: reason(Kind::Protocol),
    }
}

/// Latency in milliseconds, rounded to the microsecond; every figure
/// `null` when nothing was answered.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Latency")]
pub(super) struct Latency3 {
    min: Option<f64>,
    p50: Option<f64>,
    p90: Option<f64>,
    p99: Option<f64>,
    p999: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
}

impl From<Option<LatencyMs>> for Latency3 {
    fn from(l: Option<LatencyMs>) -> Self {
        let r = |x: fn(&LatencyMs) -> f64| l.as_ref().map(|l| (x(l) * 1000.0).round() / 1000.0);
        Latency3 {
            min: r(|l| l.min),
            p50: r(|l| l.p50),
            p90: r(|l| l.p90),
            p99: r(|l| l.p99),
            p999: r(|l| l.p999),
            max: r(|l| l.max),
            mean: r(|l| l.mean),
        }
    }
}

#[derive(Serialize, JsonSchema)]
struct Server {
    requests: u64,
    #[serde(flatten)]
    answers: Status,
    /// `equal`; `consistent` when the only differences are answers mcload
    /// gave up on (timeouts, broken connections); or `different`.
    #[schemars(extend("enum" = ["equal", "consistent", "different"]))]
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

/// The split by status, with one number for the other codes.
fn answers(counts: &Counts) -> Status {
    Status {
        created: counts.created(),
        bad_request: counts.bad_request(),
        server_error: counts.server_error(),
        other: counts.other(),
    }
}

/// The split by status, with the other codes one by one.
fn status(tally: &Tally) -> Status<BTreeMap<String, u64>> {
    let counts = &tally.counts;
    Status {
        created: counts.created(),
        bad_request: counts.bad_request(),
        server_error: counts.server_error(),
        other: tally
            .other_statuses()
            .into_iter()
            .map(|(code, n)| (code.to_string(), n))
            .collect(),
    }
}

fn errors(counts: &Counts) -> Errors {
    Errors {
        connect: counts.connect(),
        tls: counts.tls(),
        local: counts.local(),
        timeout: counts.timeouts(),
        io: counts.io(),
        protocol: counts.protocol(),
    }
}

fn model(run: &RunReport) -> ModelJson {
    let mut m = ModelJson {
        kind: "closed",
        concurrency: None,
        rate: None,
        start_rate: None,
        stages: None,
        connections: None,
        max_in_flight: None,
        pacing: None,
        threads: run.threads,
        duration_s: run.stop.duration.map(|d| d.as_secs_f64()),
        requests: run.stop.requests,
        warmup_s: run.warmup.as_ref().map(|(w, _)| w.as_secs_f64()),
    };
    match &run.model {
        Model::Closed { concurrency } => m.concurrency = Some(*concurrency),
        Model::Open(open) => {
            m.kind = "open";
            m.connections = Some(open.connections);
            m.max_in_flight = Some(open.max_in_flight);
            m.pacing = open.pacing.map(|p| p.to_string());
            match &open.rate {
                Rate::Constant(r) => m.rate = Some(*r),
                Rate::Stages { start, stages } => {
                    m.start_rate = Some(*start);
                    m.stages = Some(
                        stages
                            .iter()
                            .map(|s| StageJson {
                                duration_s: s.duration.as_secs_f64(),
                                rate: s.rate,
                            })
                            .collect(),
                    );
                }
            }
        }
    }
    m
}

fn warmup(duration: std::time::Duration, t: &Tally) -> Warmup {
    // `duration` is how long it ran, not its plan.
    Warmup {
        duration_s: duration.as_secs_f64(),
        requests: Requests {
            scheduled: t.counts.total(),
            completed: t.counts.completed(),
        },
        status: status(t),
        errors: errors(&t.counts),
        dropped: t.counts.dropped(),
        cancelled: t.counts.cancelled(),
        latency_ms: LatencyMs::of(&t.all).into(),
    }
}

/// A second is partial when the run's measured part began or ended inside
/// it: its counts cover less than a second.
fn interval(i: &Interval, run: &RunReport) -> IntervalJson {
    let ms = |us: u64| us as f64 / 1000.0;
    let figures = |(p50, p99, max): (u64, u64, u64)| IntervalLatency {
        p50: ms(p50),
        p99: ms(p99),
        max: ms(max),
    };
    let (measured_from, end) = run.measured_window();
    let (measured_from, end) = (measured_from.as_secs_f64(), end.as_secs_f64());
    let (from, to) = (i.second as f64, i.second as f64 + 1.0);
    IntervalJson {
        t: i.second,
        partial: from < measured_from || to > end,
        started: i.started,
        rate_rps: i.counts.sent(),
        status: answers(&i.counts),
        errors: i.counts.errors(),
        dropped: i.counts.dropped(),
        cancelled: i.counts.cancelled(),
        latency_ms: i.latency_us.map(figures),
        send_lag_ms: i.send_lag_us.map(figures),
    }
}

/// The report as a JSON value.
pub fn to_json(run: &RunReport) -> serde_json::Value {
    let counts = &run.tally.counts;
    let mut by_outcome = BTreeMap::new();
    let mut histograms = BTreeMap::from([
        ("all", histogram_base64(&run.tally.all)),
        ("service_time", histogram_base64(&run.tally.service)),
        ("valid", histogram_base64(&run.checks.latency_valid)),
        ("invalid", histogram_base64(run.checks.latency_invalid())),
    ]);
    // Left out when empty, as a report from before it has none: either
    // reads back as no send lag.
    if !run.tally.send_lag.is_empty() {
        histograms.insert("send_lag", histogram_base64(&run.tally.send_lag));
    }
    for bucket in Bucket::ALL {
        let h = run.tally.bucket(bucket);
        if !h.is_empty() {
            by_outcome.insert(bucket.name(), LatencyMs::of(h).into());
            histograms.insert(bucket.name(), histogram_base64(h));
        }
    }
    let report = Report {
        schema: SCHEMA,
        version: env!("CARGO_PKG_VERSION"),
        scenario: &run.scenario,
        target: &run.target,
        rules: run.rules.name(),
        seed: run.seed,
        started_at: humantime::format_rfc3339_millis(run.started_at).to_string(),
        duration_s: (run.measured_duration().as_secs_f64() * 1000.0).round() / 1000.0,
        insecure: run.insecure,
        interrupted: run.interrupted,
        accounted: run.accounted(),
        valid: run.invalid_reason().is_none(),
        invalid_reason: run.invalid_reason(),
        model: model(run),
        requests: Requests {
            scheduled: run.measured_scheduled(),
            completed: counts.completed(),
        },
        status: status(&run.tally),
        errors: errors(counts),
        error_reasons: error_reasons(&run.error_reasons),
        timeouts_never_sent: counts.timeouts_never_sent(),
        dropped: counts.dropped(),
        cancelled: counts.cancelled(),
        backoff_s: (run.generator.backoff.as_secs_f64() * 1000.0).round() / 1000.0,
        throughput_rps: (run.throughput() * 1000.0).round() / 1000.0,
        latency_ms: LatencyMs::of(&run.tally.all).into(),
        service_time_ms: LatencyMs::of(&run.tally.service).into(),
        send_lag_ms: LatencyMs::of(&run.tally.send_lag).into(),
        latency_ms_by_outcome: by_outcome,
        histograms,
        warmup: run
            .warmup
            .as_ref()
            .zip(run.warmup_ran())
            .map(|((_, t), ran)| warmup(ran, t)),
        intervals: run.intervals.iter().map(|i| interval(i, run)).collect(),
        bodies: bodies(&run.checks),
        checks: Check::ALL
            .iter()
            .map(|&k| (k.name(), run.checks.count(k)))
            .collect(),
        check_samples: Check::ALL
            .iter()
            .filter(|&&k| run.checks.count(k) > 0)
            .map(|&k| {
                let samples = run
                    .checks
                    .samples(k)
                    .iter()
                    .map(|s| SampleJson {
                        status: s.status,
                        kind: s.kind,
                        location: (!s.location.is_empty()).then(|| s.location.clone()),
                    })
                    .collect();
                (k.name(), samples)
            })
            .collect(),
        latency_ms_by_kind: BTreeMap::from([
            ("valid", LatencyMs::of(&run.checks.latency_valid).into()),
            (
                "invalid",
                LatencyMs::of(run.checks.latency_invalid()).into(),
            ),
        ]),
        server: run.server.map(|s| Server {
            requests: s.requests,
            answers: answers(&s.answers),
            check: match run.server_check() {
                Some(ServerCheck::Equal) => "equal",
                Some(ServerCheck::Consistent { .. }) => "consistent",
                _ => "different",
            },
            matches: run.server_check().is_some_and(ServerCheck::holds),
        }),
        shards: run.shards,
        thresholds: run
            .thresholds
            .iter()
            .map(|e| threshold_json(e, run.aborted.as_ref()))
            .collect(),
        verdict: verdict_json(run),
        shard: plan::shard(run.shard),
        plan_fingerprint: fingerprint_hex(run.plan_fingerprint),
        start: plan::start(run.start),
        session_ids: plan::session_ids(run),
    };
    serde_json::to_value(report).expect("the report always serializes")
}
