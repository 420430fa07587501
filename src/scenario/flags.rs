//! The flag layer: command-line values, parsed for syntax only (a number
//! is a number, a duration a duration, a URL a URL), turned into
//! [`RawSettings`] whose every value carries its `--flag` name. Ranges,
//! limits and the rules between settings are checked by the validation
//! step, with the same messages as for the file.

use std::path::PathBuf;
use std::time::Duration;

use super::file::reader::parse_duration;
use super::raw::{Located, RawHeader, RawSettings, RawShard, RawStage, RawThreshold};
use super::{Stage, TargetUrl};
use crate::engine::Pacing;

/// The values of `run`'s (and `sample`'s) flags that override the file's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlagSettings {
    pub target: Option<TargetUrl>,
    pub concurrency: Option<i64>,
    pub rate: Option<f64>,
    pub stages: Option<Ramp>,
    pub connections: Option<i64>,
    pub max_in_flight: Option<i64>,
    pub warmup: Option<Duration>,
    pub duration: Option<Duration>,
    pub requests: Option<i64>,
    pub threads: Option<i64>,
    /// `--grace D`: after Ctrl-C, how long requests on the wire may take.
    pub grace: Option<Duration>,
    /// `--pacing exact|batched[:D]`: how the open model wakes for its starts.
    pub pacing: Option<Pacing>,
    pub timeout: Option<Duration>,
    pub seed: Option<u64>,
    pub ca_cert: Option<PathBuf>,
    /// `--insecure`: skip certificate verification on purpose.
    pub insecure: bool,
    pub invalid_share: Option<f64>,
    /// `--threshold EXPR`, in the order given; they add to the file's.
    pub thresholds: Vec<String>,
    /// `--header "Name: value"`, in the order given, split at the first
    /// colon; each replaces the file's header of the same name
    /// (case-insensitively). Checked and expanded with the file's.
    pub headers: Vec<(String, String)>,
    /// `--shard K/N` or `--shard auto`.
    pub shard: Option<ShardFlag>,
    /// `--shards N`: the count for `--shard auto`.
    pub shards: Option<i64>,
}

/// The `--shard` flag's form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardFlag {
    Fixed {
        index: u64,
        count: u64,
    },
    /// The index from [`SHARD_INDEX_VAR`], the count from `--shards`.
    Auto,
}

/// Where `--shard auto` reads its index: Kubernetes sets it in each pod of
/// an Indexed Job.
pub const SHARD_INDEX_VAR: &str = "JOB_COMPLETION_INDEX";

/// The `--stages` flag: a starting rate and the stages that follow it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ramp {
    pub start: f64,
    pub stages: Vec<Stage>,
}

impl FlagSettings {
    /// The flags as a layer of raw settings, each value located at its flag.
    pub fn raw(&self) -> RawSettings {
        fn at<T: Clone>(value: &Option<T>, flag: &'static str) -> Option<Located<T>> {
            value.as_ref().map(|v| Located::flag(v.clone(), flag))
        }
        let mut raw = RawSettings::default();
        raw.target.url = at(&self.target, "--target");
        raw.target.ca_cert = at(&self.ca_cert, "--ca-cert");
        raw.target.insecure = self.insecure.then(|| Located::flag(true, "--insecure"));
        raw.load.concurrency = at(&self.concurrency, "--concurrency");
        raw.load.rate = at(&self.rate, "--rate");
        if let Some(ramp) = &self.stages {
            raw.load.start_rate = Some(Located::flag(ramp.start, "--stages"));
            raw.load.stages = Some(Located::flag(
                ramp.stages
                    .iter()
                    .map(|s| RawStage {
                        duration: Located::flag(s.duration, "--stages"),
                        rate: Located::flag(s.rate, "--stages"),
                    })
                    .collect(),
                "--stages",
            ));
        }
        raw.load.connections = at(&self.connections, "--connections");
        raw.load.max_in_flight = at(&self.max_in_flight, "--max-in-flight");
        raw.load.warmup = at(&self.warmup, "--warmup");
        raw.load.duration = at(&self.duration, "--duration");
        raw.load.requests = at(&self.requests, "--requests");
        raw.load.threads = at(&self.threads, "--threads");
        raw.load.grace = at(&self.grace, "--grace");
        raw.load.pacing = at(&self.pacing, "--pacing");
        raw.load.shard = self.shard.map(|shard| {
            let raw = match shard {
                ShardFlag::Fixed { index, count } => RawShard::Fixed { index, count },
                ShardFlag::Auto => RawShard::Auto {
                    index: std::env::var(SHARD_INDEX_VAR).ok(),
                },
            };
            Located::flag(raw, "--shard")
        });
        raw.load.shards = at(&self.shards, "--shards");
        raw.http.timeout = at(&self.timeout, "--timeout");
        raw.http.headers = self
            .headers
            .iter()
            .map(|(name, value)| RawHeader {
                name: Located::flag(name.clone(), "--header"),
                value: Located::flag(value.clone(), "--header"),
            })
            .collect();
        raw.body.seed = at(&self.seed, "--seed");
        raw.body.invalid_share = at(&self.invalid_share, "--invalid-share");
        raw.thresholds.entries = self
            .thresholds
            .iter()
            .map(|expression| {
                let (metric, check) = crate::threshold::split(expression);
                RawThreshold {
                    metric: Located::flag(metric.to_string(), "--threshold"),
                    check: Located::flag(check.to_string(), "--threshold"),
                    expression: Some(expression.clone()),
                    abort: None,
                    after: None,
                }
            })
            .collect();
        raw
    }
}

/// The `--stages` flag: `[START,]DURATION:RATE[,DURATION:RATE...]`, e.g.
/// `100,5s:1000,10s:1000` starts at 100/s, ramps to 1000/s over 5 s and
/// holds it for 10 s. Without START the ramp starts from 0. Only the form
/// is checked here; the rates are checked with the file's.
pub fn parse_stages(text: &str) -> Result<Ramp, String> {
    let mut start = 0.0;
    let mut stages = Vec::new();
    for (i, part) in text.split(',').map(str::trim).enumerate() {
        if part.is_empty() {
            return Err(format!(
                "{text:?} has an empty stage; write e.g. \"100,5s:1000,10s:1000\""
            ));
        }
        match part.split_once(':') {
            Some((duration, rate)) => {
                let duration =
                    parse_duration(duration).map_err(|m| format!("stage {part:?}: {m}"))?;
                let rate = parse_number(rate).map_err(|m| format!("stage {part:?}: {m}"))?;
                stages.push(Stage { duration, rate });
            }
            None if i == 0 => start = parse_number(part)?,
            None => {
                return Err(format!(
                    "stage {part:?} needs DURATION:RATE, e.g. \"5s:1000\" (ramp to 1000/s over 5 s)"
                ));
            }
        }
    }
    if stages.is_empty() {
        return Err(format!(
            "{text:?} has no stage; write e.g. \"100,5s:1000\" (from 100/s to 1000/s over 5 s)"
        ));
    }
    Ok(Ramp { start, stages })
}

/// The `--shard` flag's form: `K/N` (e.g. `0/3`) or `auto`. Only the form
/// is checked here; `K < N` is checked with the other settings.
pub fn parse_shard(text: &str) -> Result<ShardFlag, String> {
    let text = text.trim();
    if text == "auto" {
        return Ok(ShardFlag::Auto);
    }
    let parsed = text
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((index, count)) => Ok(ShardFlag::Fixed { index, count }),
        None => Err(format!(
            "{text:?} is not a shard: write K/N with K from 0 to N-1 (e.g. 0/3), or `auto` to read K from {SHARD_INDEX_VAR}"
        )),
    }
}

/// The `--header` flag's form, `Name: value`: split at the first colon,
/// both sides trimmed. The name and value are checked with the file's
/// headers. The message does not repeat the text, which may hold a secret.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err("write `Name: value`, e.g. --header \"X-Run: ci\"".into()),
    }
}

/// A finite number written on the command line, e.g. `500` or `2.5`.
pub fn parse_number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| format!("{text:?} is not a number; write e.g. 500 or 0.5"))
}
