//! Reading a saved report: what one run contributes to a comparison.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde_json::Value;

/// The report schema this reads (any `mcload.report/v1…`).
pub const SCHEMA: &str = "mcload.report/v1";

/// Why a file is not an mcload report this version reads, whatever reads it.
#[derive(Debug, thiserror::Error)]
pub enum NotAReport {
    #[error("not JSON ({0}); is the file complete?")]
    NotJson(serde_json::Error),
    #[error("not an mcload report (it has no \"schema\": \"{SCHEMA}\")")]
    Foreign,
    #[error("its schema is {0:?}, and this mcload reads {SCHEMA} reports")]
    Schema(String),
}

/// Parses `text` as JSON and checks that it is a report of a schema this
/// mcload reads (any `mcload.report/v1…`).
pub fn parse_report(text: &str) -> Result<Value, NotAReport> {
    let v: Value = serde_json::from_str(text).map_err(NotAReport::NotJson)?;
    let schema = v
        .get("schema")
        .and_then(Value::as_str)
        .ok_or(NotAReport::Foreign)?;
    let Some(version) = schema.strip_prefix("mcload.report/") else {
        return Err(NotAReport::Foreign);
    };
    if version.split('.').next() != Some("v1") {
        return Err(NotAReport::Schema(schema.to_owned()));
    }
    Ok(v)
}

/// Why a file is not a report `compare` can read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    NotAReport(#[from] NotAReport),
    #[error("not a complete mcload report: {0} is missing or not {1}")]
    Missing(&'static str, &'static str),
    #[error("its histogram {0} cannot be decoded: {1}")]
    Histogram(&'static str, String),
}

/// What one saved report contributes to a comparison.
#[derive(Clone, Debug)]
pub struct RunSample {
    pub scenario: String,
    pub target: String,
    /// The load model as the report states it.
    pub model: Value,
    /// The mcload version that wrote the report, when it says.
    pub version: Option<String>,
    /// The run was stopped early (Ctrl-C or SIGTERM).
    pub interrupted: bool,
    pub(super) latency: Histogram<u64>,
    pub(super) service: Histogram<u64>,
    /// `None` in a report from before the send lag was kept, or with
    /// nothing sent.
    pub(super) send_lag: Option<Histogram<u64>>,
    pub(super) rate: f64,
    pub(super) scheduled: u64,
    pub(super) completed: u64,
    pub(super) errors: u64,
    /// Errors plus answers off the expected status.
    pub(super) unexpected: u64,
    pub(super) checks: BTreeMap<String, u64>,
}

fn field<'a>(v: &'a Value, pointer: &'static str) -> Result<&'a Value, ReadError> {
    v.pointer(pointer)
        .ok_or(ReadError::Missing(pointer, "present"))
}

fn string(v: &Value, pointer: &'static str) -> Result<String, ReadError> {
    field(v, pointer)?
        .as_str()
        .map(str::to_owned)
        .ok_or(ReadError::Missing(pointer, "a string"))
}

fn count(v: &Value, pointer: &'static str) -> Result<u64, ReadError> {
    field(v, pointer)?
        .as_u64()
        .ok_or(ReadError::Missing(pointer, "a count"))
}

fn counts(v: &Value, pointer: &'static str) -> Result<BTreeMap<String, u64>, ReadError> {
    let map = field(v, pointer)?
        .as_object()
        .ok_or(ReadError::Missing(pointer, "an object of counts"))?;
    map.iter()
        .map(|(k, n)| {
            n.as_u64()
                .map(|n| (k.clone(), n))
                .ok_or(ReadError::Missing(pointer, "an object of counts"))
        })
        .collect()
}

fn histogram(v: &Value, pointer: &'static str) -> Result<Histogram<u64>, ReadError> {
    let text = field(v, pointer)?
        .as_str()
        .ok_or(ReadError::Missing(pointer, "a string"))?;
    decode_histogram(text).map_err(|e| ReadError::Histogram(pointer, e))
}

/// A histogram from the report's form of it: base64 of HdrHistogram's V2
/// encoding (compressed or not). The one decoder of saved histograms:
/// `compare` and `mcload report` both read them with it.
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("{e:?}"))
}

impl RunSample {
    /// The latency of every answer, from the intended start.
    pub fn latency(&self) -> &Histogram<u64> {
        &self.latency
    }

    /// The service time of every answer, from the send.
    pub fn service(&self) -> &Histogram<u64> {
        &self.service
    }

    /// Reads a JSON report (`mcload run --json`).
    pub fn parse(text: &str) -> Result<RunSample, ReadError> {
        let v = parse_report(text)?;
        let checks = counts(&v, "/checks")?;
        let errors: u64 = counts(&v, "/errors")?.values().sum();
        let off_status: u64 = ["valid_rejected", "invalid_accepted", "unexpected_status"]
            .iter()
            .map(|k| checks.get(*k).copied().unwrap_or(0))
            .sum();
        Ok(RunSample {
            scenario: string(&v, "/scenario")?,
            target: string(&v, "/target")?,
            model: field(&v, "/model")?.clone(),
            version: v.get("version").and_then(Value::as_str).map(str::to_owned),
            interrupted: v.get("interrupted").and_then(Value::as_bool) == Some(true),
            latency: histogram(&v, "/histograms/all")?,
            service: histogram(&v, "/histograms/service_time")?,
            send_lag: match v.pointer("/histograms/send_lag") {
                Some(_) => Some(histogram(&v, "/histograms/send_lag")?),
                None => None,
            },
            rate: field(&v, "/throughput_rps")?
                .as_f64()
                .ok_or(ReadError::Missing("/throughput_rps", "a number"))?,
            scheduled: count(&v, "/requests/scheduled")?,
            completed: count(&v, "/requests/completed")?,
            errors,
            unexpected: errors + off_status,
            checks,
        })
    }
}
