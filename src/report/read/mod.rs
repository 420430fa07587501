//! A saved JSON report (`mcload run --json`) read back into the
//! [`RunReport`] every output is written from, so `mcload report` can show
//! a run again, in any format, and judge it by other thresholds.
//!
//! The report holds the run's histograms, so every latency figure of the
//! whole run, its outcomes, checks and judged thresholds come back as they
//! were: writing the read report as JSON gives the same document. What the
//! report does not hold is approximated, and said here:
//!
//! - the measured window's length is known to the millisecond
//!   (`duration_s`); it is narrowed with `throughput_rps` so that both read
//!   back as written. When the last request started is not kept, so a
//!   summary read back never says how long the wait for the last answers
//!   was.
//! - the warm-up keeps figures, not a histogram: it is rebuilt as a
//!   histogram with exactly those figures (min, p50, p90, p99, p99.9, max,
//!   mean), not the original one.
//! - each second keeps its errors as one count, not by class; those that
//!   waited for a connection and were never sent follow from its counts.
//! - the endpoint path is not kept: the API's own, `/api/v1/sessions`.

mod json;
mod judge;
mod plan;
mod warmup;

pub use judge::{Unjudgeable, judge_by, rejudge};

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use self::json::At;
use super::{Generator, RunReport, ServerCounts};
use crate::checks::{Check, CheckTally, Sample};
use crate::engine::Class;
use crate::metrics::{
    Bucket, Counts, ErrorSamples, Histograms, Interval, Kind, Latency, Tally, new_latency,
};
use crate::scenario::{Model, OpenModel, Rate, Stage, StopRule};
use crate::spec::{ENDPOINT_PATH, MUTATIONS, Mutation, RuleSet};
use crate::threshold::{self, Source};
use crate::verdict::compare::{NotAReport, parse_report};
use crate::verdict::{Aborted, Evaluated};

/// Why a file is not a report that can be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    NotAReport(#[from] NotAReport),
    #[error("not a complete mcload report: {key} is {what}")]
    Missing { key: String, what: &'static str },
    #[error("{key} cannot be read: {reason}")]
    Bad { key: String, reason: String },
}

fn bad(at: &At<'_>, key: &str, reason: impl Into<String>) -> ReadError {
    ReadError::Bad {
        key: at.name(key),
        reason: reason.into(),
    }
}

/// Reads a JSON report back into the run it describes. Keys a later
/// mcload added take their defaults in an older report (no TLS or local
/// errors, nothing cancelled, no thresholds); a key every report has that
/// is missing is an error naming it.
pub fn read(text: &str) -> Result<RunReport, ReadError> {
    read_value(&parse_report(text)?)
}

/// [`read`] of a report already parsed (and checked to be one) with
/// [`parse_report`].
pub fn read_value(v: &Value) -> Result<RunReport, ReadError> {
    let root = At::root(v);
    let model_at = root.at("model")?;
    let (model, threads, stop, planned_warmup) = model(&model_at)?;
    let counts = counts(&root, &root.at("errors")?)?;
    let status = root.at("status")?;
    let tally = Tally::from_parts(
        counts,
        &other_codes(&status)?,
        Histograms {
            all: root_histogram(&root, "all")?,
            service: root_histogram(&root, "service_time")?,
            // A report written before the send lag was kept has none: an
            // empty histogram, shown as no figure rather than as zero.
            send_lag: root
                .at("histograms")?
                .histogram("send_lag")?
                .unwrap_or_else(new_latency),
        },
        buckets(&root)?,
    );
    let warmup = root
        .at_opt("warmup")
        .map(|w| warmup_tally(&w, planned_warmup))
        .transpose()?;
    let from = warmup.as_ref().map_or(Duration::ZERO, |(_, ran, _)| *ran);
    let measured = measured_length(&root, tally.counts.completed())?;
    let started_at = root.str("started_at")?;
    let plan = plan::plan_keys(&root)?;
    let mut report = RunReport {
        scenario: root.str("scenario")?.to_owned(),
        target: root.str("target")?.to_owned(),
        path: ENDPOINT_PATH.to_owned(),
        // Only a run against the embedded server reports its counts.
        embedded: root.opt("server").is_some(),
        insecure: root.bool_or_false("insecure")?,
        rules: root
            .str("rules")?
            .parse::<RuleSet>()
            .map_err(|e| bad(&root, "rules", e.to_string()))?,
        // Any 64-bit number, unlike the counts.
        seed: root
            .opt("seed")
            .and_then(Value::as_u64)
            .ok_or_else(|| ReadError::Missing {
                key: root.name("seed"),
                what: "not a seed",
            })?,
        started_at: humantime::parse_rfc3339(started_at)
            .map_err(|e| bad(&root, "started_at", e.to_string()))?,
        elapsed: from + measured,
        // Not kept: taken as the end, so no wait for answers is claimed.
        sending: from + measured,
        model,
        threads,
        stop,
        scheduled: 0,
        tally,
        warmup: warmup.map(|(planned, _, t)| (planned, t)),
        intervals: root
            .array("intervals")?
            .iter()
            .map(interval)
            .collect::<Result<_, _>>()?,
        error_reasons: error_reasons(&root)?,
        checks: checks(&root)?,
        server: root.at_opt("server").map(|s| server(&s)).transpose()?,
        interrupted: root.bool_or_false("interrupted")?,
        generator: Generator {
            backoff: Duration::from_millis(
                (root.f64_opt("backoff_s")?.unwrap_or(0.0) * 1000.0).round() as u64,
            ),
            failure: generator_failure(&root)?,
        },
        thresholds: Vec::new(),
        aborted: None,
        causes: Vec::new(),
        shard: plan.shard,
        plan_fingerprint: plan.plan_fingerprint,
        start: plan.start,
        session_ids: plan.session_ids,
        shards: plan.shards,
    };
    let measured_scheduled = root.at("requests")?.u64("scheduled")?;
    report.scheduled = measured_scheduled
        .saturating_add(report.warmup.as_ref().map_or(0, |(_, t)| t.counts.total()));
    report.thresholds = root
        .array("thresholds")?
        .iter()
        .map(evaluated)
        .collect::<Result<_, _>>()?;
    let saved_causes = saved_causes(&root)?;
    report.aborted = aborted(&root, &report.thresholds)?;
    let hlog = saved_causes.iter().find_map(|(kind, message, _)| {
        (*kind == "hlog").then(|| {
            message
                .strip_prefix("cannot write the interval log: ")
                .unwrap_or(message)
                .to_owned()
        })
    });
    // Judged again by the rules `run` judges by: from the saved facts and
    // thresholds, the same causes in the same order.
    report.causes = report.judge(hlog);
    Ok(report)
}

fn root_histogram(root: &At<'_>, name: &str) -> Result<Latency, ReadError> {
    let histograms = root.at("histograms")?;
    histograms
        .histogram(name)?
        .ok_or_else(|| ReadError::Missing {
            key: histograms.name(name),
            what: "missing",
        })
}

fn buckets(root: &At<'_>) -> Result<[Option<Latency>; 5], ReadError> {
    let histograms = root.at("histograms")?;
    let mut out: [Option<Latency>; 5] = Default::default();
    for (slot, bucket) in out.iter_mut().zip(Bucket::ALL) {
        *slot = histograms.histogram(bucket.name())?;
    }
    Ok(out)
}

/// The model, threads, stop rule and planned warm-up of `model`.
fn model(m: &At<'_>) -> Result<(Model, usize, StopRule, Option<Duration>), ReadError> {
    let secs = |key: &str| -> Result<Option<Duration>, ReadError> {
        m.f64_opt(key)?.map(|s| duration(m, key, s)).transpose()
    };
    let model = match m.str("type")? {
        "closed" => Model::Closed {
            concurrency: u32::try_from(m.u64("concurrency")?)
                .map_err(|_| bad(m, "concurrency", "too large"))?,
        },
        "open" => {
            let rate = match m.f64_opt("rate")? {
                Some(r) => Rate::Constant(r),
                None => Rate::Stages {
                    start: m.f64("start_rate")?,
                    stages: m
                        .array("stages")?
                        .iter()
                        .map(|s| {
                            Ok(Stage {
                                duration: duration(s, "duration_s", s.f64("duration_s")?)?,
                                rate: s.f64("rate")?,
                            })
                        })
                        .collect::<Result<_, ReadError>>()?,
                },
            };
            Model::Open(OpenModel {
                rate,
                connections: u32::try_from(m.u64("connections")?)
                    .map_err(|_| bad(m, "connections", "too large"))?,
                max_in_flight: m.u64("max_in_flight")?,
                // Unknown in a report from before pacing was a choice.
                pacing: match m.opt("pacing") {
                    None => None,
                    Some(v) => Some(
                        v.as_str()
                            .ok_or_else(|| bad(m, "pacing", "not a string"))?
                            .parse()
                            .map_err(|e: String| bad(m, "pacing", e))?,
                    ),
                },
            })
        }
        other => {
            return Err(bad(
                m,
                "type",
                format!("{other:?} is neither closed nor open"),
            ));
        }
    };
    let threads = usize::try_from(m.u64("threads")?).map_err(|_| bad(m, "threads", "too large"))?;
    let stop = StopRule {
        duration: secs("duration_s")?,
        requests: m.opt("requests").map(|_| m.u64("requests")).transpose()?,
    };
    Ok((model, threads, stop, secs("warmup_s")?))
}

/// The longest time a report may state: a century, so that sums of its
/// times cannot overflow.
const LONGEST_S: f64 = 100.0 * 365.0 * 86_400.0;

/// Seconds as written by `Duration::as_secs_f64`, back to the nanosecond.
fn duration(at: &At<'_>, key: &str, secs: f64) -> Result<Duration, ReadError> {
    if secs > LONGEST_S {
        return Err(bad(
            at,
            key,
            format!("{secs} s is longer than a run can be"),
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| bad(at, key, e.to_string()))
}

/// The whole run's counts by outcome kind, from `status`, `errors` and
/// the keys beside them.
fn counts(root: &At<'_>, errors: &At<'_>) -> Result<Counts, ReadError> {
    let status = root.at("status")?;
    let never_sent = root.u64_or_zero("timeouts_never_sent")?;
    let other: u64 = status.counts("other")?.iter().map(|(_, n)| n).sum();
    Ok(Counts::from_pairs([
        (Kind::Created, status.u64("201")?),
        (Kind::BadRequest, status.u64("400")?),
        (Kind::ServerError, status.u64("500")?),
        (Kind::OtherStatus, other),
        (Kind::Connect, errors.u64("connect")?),
        (Kind::Tls, errors.u64_or_zero("tls")?),
        (Kind::Local, errors.u64_or_zero("local")?),
        // `errors.timeout` counts those never sent too.
        (
            Kind::Timeout,
            errors.u64("timeout")?.saturating_sub(never_sent),
        ),
        (Kind::TimeoutNeverSent, never_sent),
        (Kind::Io, errors.u64("io")?),
        (Kind::Protocol, errors.u64("protocol")?),
        (Kind::Dropped, root.u64_or_zero("dropped")?),
        (Kind::Cancelled, root.u64_or_zero("cancelled")?),
    ]))
}

/// The other statuses by code (`status.other`).
fn other_codes(status: &At<'_>) -> Result<BTreeMap<u16, u64>, ReadError> {
    status
        .counts("other")?
        .into_iter()
        .map(|(code, n)| match code.parse::<u16>() {
            Ok(c) if (100..=599).contains(&c) => Ok((c, n)),
            _ => Err(bad(
                status,
                "other",
                format!("{code:?} is not a status code"),
            )),
        })
        .collect()
}

/// The warm-up: its planned length, how long it ran, and its tally.
fn warmup_tally(
    w: &At<'_>,
    planned: Option<Duration>,
) -> Result<(Duration, Duration, Tally), ReadError> {
    let ran = duration(w, "duration_s", w.f64("duration_s")?)?;
    let status = w.at("status")?;
    let errors = w.at("errors")?;
    let other = other_codes(&status)?;
    let counts = Counts::from_pairs([
        (Kind::Created, status.u64("201")?),
        (Kind::BadRequest, status.u64("400")?),
        (Kind::ServerError, status.u64("500")?),
        (Kind::OtherStatus, other.values().sum()),
        (Kind::Connect, errors.u64("connect")?),
        (Kind::Tls, errors.u64_or_zero("tls")?),
        (Kind::Local, errors.u64_or_zero("local")?),
        // The warm-up does not split its timeouts.
        (Kind::Timeout, errors.u64("timeout")?),
        (Kind::Io, errors.u64("io")?),
        (Kind::Protocol, errors.u64("protocol")?),
        (Kind::Dropped, w.u64_or_zero("dropped")?),
        (Kind::Cancelled, w.u64_or_zero("cancelled")?),
    ]);
    let all = warmup::histogram(counts.completed(), &warmup::figures(&w.at("latency_ms")?)?);
    let histograms = Histograms {
        all,
        service: new_latency(),
        send_lag: new_latency(),
    };
    let tally = Tally::from_parts(counts, &other, histograms, Default::default());
    Ok((planned.unwrap_or(ran), ran, tally))
}

/// Half the unit `throughput_rps` is rounded to (a thousandth).
const RATE_ROUNDING: f64 = 0.0005;

/// The measured window's length: `duration_s` is rounded to the
/// millisecond, and `throughput_rps` (answers over that length, to a
/// thousandth)
/// narrows it; the middle of what both allow reads back as both.
fn measured_length(root: &At<'_>, completed: u64) -> Result<Duration, ReadError> {
    let written = root.f64("duration_s")?;
    let (mut low, mut high) = ((written - 0.0005).max(0.0), written + 0.0005);
    if let Some(rate) = root.f64_opt("throughput_rps")?
        && completed > 0
        && rate > RATE_ROUNDING
    {
        let n = completed as f64;
        let (rate_low, rate_high) = (n / (rate + RATE_ROUNDING), n / (rate - RATE_ROUNDING));
        if rate_low < high && rate_high > low {
            low = low.max(rate_low);
            high = high.min(rate_high);
        }
    }
    let middle = (low + high) / 2.0;
    // A window of no length stays none (a run stopped in its warm-up).
    let secs = if written == 0.0 { 0.0 } else { middle };
    duration(root, "duration_s", secs)
}

fn interval(i: &At<'_>) -> Result<Interval, ReadError> {
    let status = i.at("status")?;
    let (created, bad_request, server_error, other) = (
        status.u64("201")?,
        status.u64("400")?,
        status.u64("500")?,
        status.u64("other")?,
    );
    let errors = i.u64("errors")?;
    let cancelled = i.u64_or_zero("cancelled")?;
    let completed = created + bad_request + server_error + other;
    // `rate_rps` counts what was sent: every outcome but the dropped ones
    // and the errors that never got a connection.
    let never_sent = (completed + errors + cancelled)
        .saturating_sub(i.u64("rate_rps")?)
        .min(errors);
    let ms = |key: &str, l: &At<'_>| -> Result<u64, ReadError> {
        Ok((l.f64(key)? * 1000.0).round() as u64)
    };
    let figures = |key: &str| -> Result<Option<(u64, u64, u64)>, ReadError> {
        match i.at_opt(key) {
            Some(l) => Ok(Some((ms("p50", &l)?, ms("p99", &l)?, ms("max", &l)?))),
            None => Ok(None),
        }
    };
    let latency_us = figures("latency_ms")?;
    // Absent in a report written before the send lag was kept.
    let send_lag_us = figures("send_lag_ms")?;
    Ok(Interval {
        second: i.u64("t")?,
        started: i.u64("started")?,
        counts: Counts::from_pairs([
            (Kind::Created, created),
            (Kind::BadRequest, bad_request),
            (Kind::ServerError, server_error),
            (Kind::OtherStatus, other),
            (Kind::TimeoutNeverSent, never_sent),
            // The other errors of a second are not kept by class.
            (Kind::Io, errors - never_sent),
            (Kind::Dropped, i.u64_or_zero("dropped")?),
            (Kind::Cancelled, cancelled),
        ]),
        latency_us,
        send_lag_us,
    })
}

/// The first reason of each kind of error; none in an older report.
fn error_reasons(root: &At<'_>) -> Result<ErrorSamples, ReadError> {
    let mut samples = ErrorSamples::default();
    let Some(reasons) = root.at_opt("error_reasons") else {
        return Ok(samples);
    };
    for (key, class) in [
        ("connect", Class::Connect),
        ("tls", Class::Tls),
        ("local", Class::Local),
        ("io", Class::Io),
        ("protocol", Class::Protocol),
    ] {
        if reasons.opt(key).is_some() {
            samples.add(class, &reasons.str(key)?);
        }
    }
    Ok(samples)
}

fn checks(root: &At<'_>) -> Result<CheckTally, ReadError> {
    let bodies = root.at("bodies")?;
    let mut by_mutation = vec![0; MUTATIONS.len()];
    for (name, n) in bodies.counts("by_mutation")? {
        let m = Mutation::by_name(name).ok_or_else(|| {
            bad(
                &bodies,
                "by_mutation",
                format!("{name:?} is a mutation this mcload does not know"),
            )
        })?;
        by_mutation[m.index()] = n;
    }
    let counts: BTreeMap<&str, u64> = root.counts("checks")?.into_iter().collect();
    let samples = root.at_opt("check_samples");
    let mut parts: [(u64, Vec<Sample>); 5] = Default::default();
    for (part, check) in parts.iter_mut().zip(Check::ALL) {
        part.0 = counts.get(check.name()).copied().unwrap_or(0);
        if let Some(samples) = &samples {
            part.1 = samples
                .array(check.name())?
                .iter()
                .map(sample)
                .collect::<Result<_, _>>()?;
        }
    }
    let histograms = root.at("histograms")?;
    Ok(CheckTally::from_parts(
        bodies.u64("valid")?,
        by_mutation,
        parts,
        histograms.histogram("valid")?.unwrap_or_else(new_latency),
        histograms.histogram("invalid")?.filter(|h| !h.is_empty()),
    ))
}

fn sample(s: &At<'_>) -> Result<Sample, ReadError> {
    let kind = s.str("kind")?;
    let kind = if kind == "valid" {
        "valid"
    } else {
        Mutation::by_name(kind).map(Mutation::name).ok_or_else(|| {
            bad(
                s,
                "kind",
                format!("{kind:?} is a body kind this mcload does not know"),
            )
        })?
    };
    Ok(Sample {
        status: u16::try_from(s.u64("status")?).map_err(|_| bad(s, "status", "not a status"))?,
        kind,
        location: s
            .opt("location")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    })
}

fn server(s: &At<'_>) -> Result<ServerCounts, ReadError> {
    Ok(ServerCounts {
        requests: s.u64("requests")?,
        answers: Counts::from_pairs([
            (Kind::Created, s.u64("201")?),
            (Kind::BadRequest, s.u64("400")?),
            (Kind::ServerError, s.u64("500")?),
            (Kind::OtherStatus, s.u64("other")?),
        ]),
    })
}

/// Why the generator failed part-way, from `invalid_reason`.
fn generator_failure(root: &At<'_>) -> Result<Option<String>, ReadError> {
    const SAID: &str = "the load generator failed part-way: ";
    let reason = match root.opt("invalid_reason") {
        None => return Ok(None),
        Some(_) => root.str("invalid_reason")?,
    };
    Ok(reason
        .find(SAID)
        .map(|at| reason[at + SAID.len()..].to_owned()))
}

/// Where a threshold was given, as the report writes it.
fn source(t: &At<'_>) -> Result<Source, ReadError> {
    Ok(match t.str("source")? {
        "default" => Source::Default,
        "--threshold" => Source::Flag,
        other => match other.rsplit_once(':').map(|(f, l)| (f, l.parse::<usize>())) {
            Some((file, Ok(line))) => Source::File {
                file: file.to_owned(),
                line,
            },
            _ => {
                return Err(bad(
                    t,
                    "source",
                    format!("{other:?} is not FILE:LINE, --threshold or default"),
                ));
            }
        },
    })
}

/// A saved threshold, as it was judged.
fn evaluated(t: &At<'_>) -> Result<Evaluated, ReadError> {
    let expression = t.str("expression")?;
    let (metric, check) = threshold::split(expression);
    let mut threshold = threshold::parse(metric, check, source(t)?)
        .map_err(|e| bad(t, "expression", e.to_string()))?;
    if let Some(abort) = t.at_opt("abort") {
        threshold.abort = Some(duration(&abort, "after_s", abort.f64("after_s")?)?);
    }
    let worst_window = match t.at_opt("window") {
        Some(w) => match (w.opt("worst_t"), w.opt("worst_duration_s")) {
            (Some(_), Some(_)) => Some((w.u64("worst_t")?, w.u64("worst_duration_s")?)),
            _ => None,
        },
        None => None,
    };
    Ok(Evaluated {
        threshold,
        measured: t.f64_opt("measured")?,
        pass: t.bool("pass")?,
        worst_window,
    })
}

/// A cause of the saved verdict: its kind, message and threshold.
type SavedCause<'a> = (&'a str, &'a str, Option<&'a str>);

/// The saved verdict's causes.
fn saved_causes<'a>(root: &At<'a>) -> Result<Vec<SavedCause<'a>>, ReadError> {
    let Some(verdict) = root.at_opt("verdict") else {
        return Ok(Vec::new());
    };
    verdict
        .array("causes")?
        .iter()
        .map(|c| {
            Ok((
                c.str("kind")?,
                c.str("message")?,
                c.opt("threshold").and_then(Value::as_str),
            ))
        })
        .collect()
}

/// The threshold that stopped the run, with what it measured then
/// (`abort.stopped_measured`).
fn aborted(root: &At<'_>, thresholds: &[Evaluated]) -> Result<Option<Aborted>, ReadError> {
    for (i, t) in root.array("thresholds")?.iter().enumerate() {
        let Some(abort) = t.at_opt("abort") else {
            continue;
        };
        if !abort.bool("stopped_run")? {
            continue;
        }
        let e = &thresholds[i];
        let measured = abort.f64_opt("stopped_measured")?;
        return Ok(Some(Aborted {
            threshold: e.threshold.clone(),
            measured: measured.or(e.measured),
            second: abort.u64("stopped_at_s")?.saturating_sub(1),
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
