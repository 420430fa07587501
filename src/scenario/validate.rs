//! The one validation step: every limit and every rule between settings,
//! applied to the merged layers, turning them into a [`Scenario`]. Each
//! problem is located where its value was given (a file position or a flag)
//! and worded the same either way, so the place is the only difference.
//! All problems are returned together.

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::Duration;

use super::error::{Place, ScenarioError};
use super::file::reader::MAX_DURATION;
use super::headers;
use super::raw::{Located, RawSettings, RawShard};
use super::{
    BodySettings, DEFAULT_CONCURRENCY, DEFAULT_CONNECTIONS, DEFAULT_GRACE, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_PATH, DEFAULT_TIMEOUT, HttpSettings, LoadSettings, MetadataSettings, Model, OpenModel,
    QoeSettings, Rate, SHARD_INDEX_VAR, Scenario, Shard, Stage, TargetSettings,
    check_endpoint_path,
};
use crate::engine::Pacing;
use crate::spec::MAX_HEADERS;
use crate::threshold::{self, Part, Source, Threshold};

/// The most workers a closed-model run may have (and the most connections
/// of the open model).
pub const MAX_CONCURRENCY: i64 = 100_000;
/// The most requests per second the open model takes.
pub const MAX_RATE: f64 = 10_000_000.0;
/// The most requests waiting or on the wire in the open model.
pub const MAX_IN_FLIGHT: i64 = 10_000_000;
/// The most generator threads.
pub const MAX_THREADS: i64 = 1024;
/// The most shards a plan may be cut into.
pub const MAX_SHARDS: u64 = 10_000;
/// The most keys the built-in custom-metadata pool holds.
pub const MAX_GENERATED_METADATA: i64 = 16;
/// How many keys of the built-in custom-metadata pool a body carries when
/// the file does not say, `[min, max]`.
pub const DEFAULT_GENERATED_METADATA: (u32, u32) = (0, 3);

/// Headers mcload writes itself, because they frame the request.
const FRAMING_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
];

/// The problems found so far.
struct Check {
    errors: Vec<ScenarioError>,
}

impl Check {
    fn error(&mut self, place: &Place, key: &str, message: impl Into<String>, hint: Option<&str>) {
        self.errors.push(ScenarioError {
            place: place.clone(),
            key: key.to_string(),
            message: message.into(),
            hint: hint.map(str::to_string),
        });
    }

    /// An integer within `range`.
    fn in_range(&mut self, f: &Located<i64>, key: &str, range: RangeInclusive<i64>) -> Option<i64> {
        if range.contains(&f.value) {
            return Some(f.value);
        }
        let message = format!(
            "{} is out of range: allowed are {} to {}",
            f.value,
            range.start(),
            range.end()
        );
        self.error(&f.place, key, message, None);
        None
    }

    /// A rate in requests per second: above zero (or zero, where
    /// `zero_ok`) and at most [`MAX_RATE`].
    fn rate(&mut self, f: &Located<f64>, key: &str, zero_ok: bool) -> Option<f64> {
        check_rate(f.value, zero_ok)
            .map_err(|m| self.error(&f.place, key, m, None))
            .ok()
    }

    /// A share between 0 and 1.
    fn share(&mut self, f: &Located<f64>, key: &str) -> Option<f64> {
        if (0.0..=1.0).contains(&f.value) {
            return Some(f.value);
        }
        let message = format!(
            "{} is not a share: use a number from 0 to 1 (0.3 means 30%)",
            f.value
        );
        self.error(&f.place, key, message, None);
        None
    }

    fn non_empty(&mut self, f: &Located<String>, key: &str) -> Option<String> {
        if f.value.trim().is_empty() {
            self.error(&f.place, key, "must not be empty", None);
            return None;
        }
        Some(f.value.clone())
    }
}

/// The rule for rates.
pub fn check_rate(n: f64, zero_ok: bool) -> Result<f64, String> {
    if !n.is_finite() || n < 0.0 || (n == 0.0 && !zero_ok) {
        Err(format!(
            "{n} is not a rate: use requests per second above {}",
            if zero_ok { "or equal to 0" } else { "0" }
        ))
    } else if n > MAX_RATE {
        Err(format!(
            "{n} requests per second is more than mcload sends ({MAX_RATE})"
        ))
    } else {
        Ok(n)
    }
}

/// Checks the merged settings of the scenario file `origin` and builds the
/// scenario, or returns every problem found.
pub fn validate(raw: &RawSettings, origin: &str) -> Result<Scenario, Vec<ScenarioError>> {
    let mut c = Check { errors: Vec::new() };
    let default_name = Path::new(origin).file_stem().map_or_else(
        || "scenario".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let name = raw
        .name
        .as_ref()
        .and_then(|n| c.non_empty(n, "name"))
        .unwrap_or(default_name);
    let target = target(&mut c, raw);
    let load = load(&mut c, raw);
    let http = http(&mut c, raw);
    let body = body(&mut c, raw);
    let thresholds = thresholds(&mut c, raw);
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    Ok(Scenario {
        name,
        description: raw.description.as_ref().map(|d| d.value.clone()),
        origin: origin.to_string(),
        target,
        load,
        http,
        body,
        thresholds,
    })
}

/// Each threshold read with the verdict's grammar, a mistake located at
/// the metric (the key) or the check (the value); then the default
/// verdict, unless a threshold on `unexpected` or `defaults = false`
/// replaces it.
fn thresholds(c: &mut Check, raw: &RawSettings) -> Vec<Threshold> {
    let t = &raw.thresholds;
    let mut out = Vec::with_capacity(t.entries.len() + 1);
    for entry in &t.entries {
        let source = match &entry.metric.place {
            Place::File(p) => Source::File {
                file: p.file.clone(),
                line: p.line,
            },
            Place::Flag(_) => Source::Flag,
        };
        let key = format!("thresholds.{}", entry.metric.value);
        match threshold::parse(&entry.metric.value, &entry.check.value, source) {
            Ok(mut threshold) => {
                let abort = entry.abort.as_ref().filter(|a| a.value);
                if let (Some(after), None) = (&entry.after, abort) {
                    c.error(
                        &after.place,
                        &format!("{key}.after"),
                        "`after` is the grace before `abort`; it needs `abort = true`",
                        None,
                    );
                }
                if let Some(a) = abort {
                    if threshold.metric.windowed() {
                        threshold.abort =
                            Some(entry.after.as_ref().map_or(Duration::ZERO, |f| f.value));
                    } else {
                        c.error(
                            &a.place,
                            &format!("{key}.abort"),
                            format!(
                                "`{}` is judged after the run, so it cannot stop it early",
                                threshold.metric
                            ),
                            Some("`abort` watches what the per-second series keeps: latency.<stat>, status.*, errors, errors.*, dropped, requests and rate"),
                        );
                    }
                }
                out.push(threshold);
            }
            Err(e) => {
                let place = match e.part {
                    Part::Metric => &entry.metric.place,
                    Part::Check => &entry.check.place,
                };
                let message = match &entry.expression {
                    Some(expression) => format!("`{expression}`: {}", e.message),
                    None => e.message,
                };
                c.error(place, &key, message, e.hint.as_deref());
            }
        }
    }
    let defaults = t.defaults.as_ref().is_none_or(|d| d.value);
    crate::threshold::with_default(out, defaults)
}

fn target(c: &mut Check, raw: &RawSettings) -> TargetSettings {
    let t = &raw.target;
    let path = match &t.path {
        Some(p) => match check_endpoint_path(&p.value) {
            Ok(()) => p.value.clone(),
            Err(message) => {
                c.error(&p.place, "target.path", message, None);
                DEFAULT_PATH.to_string()
            }
        },
        None => DEFAULT_PATH.to_string(),
    };
    let ca_cert = t.ca_cert.as_ref().and_then(|p| {
        if p.value.as_os_str().is_empty() {
            c.error(&p.place, "target.ca_cert", "must not be empty", None);
            return None;
        }
        // Checked whatever the scheme: a file named but missing is a
        // mistake even where it would not be used.
        if let Err(message) = super::ca_file::check(&p.value) {
            c.error(
                &p.place,
                "target.ca_cert",
                message,
                Some("give a PEM file of the CA certificates to trust (a relative path in a file starts at the file's folder), or leave it out"),
            );
        }
        Some(p.value.clone())
    });
    TargetSettings {
        url: t.url.as_ref().map(|u| u.value.clone()),
        path,
        ca_cert,
        insecure: t.insecure.as_ref().is_some_and(|i| i.value),
        rules: t.rules.as_ref().map(|r| r.value).unwrap_or_default(),
    }
}

const MODEL_HINT: &str = "give one of them: `concurrency` (--concurrency) for the closed model, or `rate` (--rate, constant) or `stages` (--stages, a ramp) for the open model";

fn load(c: &mut Check, raw: &RawSettings) -> LoadSettings {
    let l = &raw.load;
    let given = |present: bool, key: &str| present || raw.unreadable.contains(key);

    // One model: the first of the settings that choose one wins, the others
    // are errors that say why.
    let choosers: [(&str, bool, Option<&Place>); 3] = [
        (
            "concurrency",
            given(l.concurrency.is_some(), "load.concurrency"),
            l.concurrency.as_ref().map(|f| &f.place),
        ),
        (
            "rate",
            given(l.rate.is_some(), "load.rate"),
            l.rate.as_ref().map(|f| &f.place),
        ),
        (
            "stages",
            given(l.stages.is_some(), "load.stages"),
            l.stages.as_ref().map(|f| &f.place),
        ),
    ];
    let mut model_key: Option<&str> = None;
    for (key, present, place) in choosers {
        if !present {
            continue;
        }
        match (model_key, place) {
            (None, _) => model_key = Some(key),
            (Some(first), Some(place)) => c.error(
                place,
                &format!("load.{key}"),
                format!("`{first}` already chooses the load model"),
                Some(MODEL_HINT),
            ),
            (Some(_), None) => {}
        }
    }

    let mut model = Some(Model::Closed {
        concurrency: DEFAULT_CONCURRENCY,
    });
    if let Some(f) = &l.concurrency
        && model_key == Some("concurrency")
    {
        model = c
            .in_range(f, "load.concurrency", 1..=MAX_CONCURRENCY)
            .map(|n| Model::Closed {
                concurrency: n as u32,
            });
    }
    let start = match &l.start_rate {
        Some(f) if model_key == Some("stages") => c.rate(f, "load.start_rate", true),
        Some(f) => {
            c.error(
                &f.place,
                "load.start_rate",
                "`start_rate` is where `stages` begin; it needs `stages`",
                None,
            );
            None
        }
        None if raw.unreadable.contains("load.start_rate") => None,
        None => Some(0.0),
    };
    let open_rate = match model_key {
        Some("rate") => l
            .rate
            .as_ref()
            .and_then(|f| c.rate(f, "load.rate", false))
            .map(Rate::Constant),
        Some("stages") => l.stages.as_ref().and_then(|f| {
            let stages = stages(c, f);
            Some(Rate::Stages {
                start: start?,
                stages: stages?,
            })
        }),
        _ => None,
    };

    let open = matches!(model_key, Some("rate" | "stages"));
    const ONE_PER_WORKER: &str = "the closed model has one connection per `concurrency` worker; choose the open model with `rate` or `stages` (--rate or --stages)";
    const NO_SCHEDULE: &str = "a closed-model worker sends as soon as its last answer is in, with no schedule to wake for; choose the open model with `rate` or `stages` (--rate or --stages)";
    for (key, place, help) in [
        (
            "connections",
            l.connections.as_ref().map(|f| &f.place),
            ONE_PER_WORKER,
        ),
        (
            "max_in_flight",
            l.max_in_flight.as_ref().map(|f| &f.place),
            ONE_PER_WORKER,
        ),
        ("pacing", l.pacing.as_ref().map(|f| &f.place), NO_SCHEDULE),
    ] {
        if let Some(place) = place
            && !open
        {
            c.error(
                place,
                &format!("load.{key}"),
                format!("`{key}` applies to the open model, chosen by `rate` or `stages`"),
                Some(help),
            );
        }
    }
    if open {
        let connections = match &l.connections {
            Some(f) => c.in_range(f, "load.connections", 1..=MAX_CONCURRENCY),
            None => Some(i64::from(DEFAULT_CONNECTIONS)),
        };
        let max_in_flight = match (&l.max_in_flight, connections) {
            (Some(f), connections) => {
                match c.in_range(f, "load.max_in_flight", 1..=MAX_IN_FLIGHT) {
                    Some(n) if connections.is_some_and(|k| n < k) => {
                        c.error(
                        &f.place,
                        "load.max_in_flight",
                        format!(
                            "{n} is less than `connections` ({}); it counts the requests on the wire too",
                            connections.unwrap_or_default()
                        ),
                        Some("raise `max_in_flight` to at least `connections`, or leave it out"),
                    );
                        None
                    }
                    n => n,
                }
            }
            (None, Some(k)) => Some((DEFAULT_MAX_IN_FLIGHT as i64).max(k)),
            (None, None) => None,
        };
        model = match (open_rate, connections, max_in_flight) {
            (Some(rate), Some(connections), Some(max_in_flight)) => Some(Model::Open(OpenModel {
                rate,
                connections: connections as u32,
                max_in_flight: max_in_flight as u64,
                pacing: Some(l.pacing.as_ref().map_or_else(Pacing::default, |f| f.value)),
            })),
            _ => None,
        };
    }

    if let Some(f) = &l.duration
        && model_key == Some("stages")
    {
        c.error(
            &f.place,
            "load.duration",
            "`stages` set the run's length; `duration` does not apply",
            Some("leave the duration out, or give a request count to stop earlier"),
        );
    }
    let requests = l
        .requests
        .as_ref()
        .and_then(|f| c.in_range(f, "load.requests", 1..=i64::MAX))
        .map(|n| n as u64);
    if let Some(f) = &l.warmup
        && model_key == Some("stages")
        && start == Some(0.0)
    {
        c.error(
            &f.place,
            "load.warmup",
            "the warm-up runs at the stages' starting rate, which is 0: it would send nothing",
            Some(
                "start the stages above 0 (`start_rate = 100` in the file, --stages 100,10s:1000 as a flag), or leave the warm-up out",
            ),
        );
    }
    let threads = l
        .threads
        .as_ref()
        .and_then(|f| c.in_range(f, "load.threads", 1..=MAX_THREADS))
        .map(|n| n as usize);
    let shard = shard(c, raw);
    if let (Some(shard), Some(Model::Closed { concurrency })) = (shard, &model)
        && u64::from(*concurrency) < shard.count
        && let Some(place) = raw.load.shard.as_ref().map(|f| &f.place)
    {
        c.error(
            place,
            "load.shard",
            format!(
                "{} shards need at least {} closed-model workers, one each; `concurrency` is {concurrency}",
                shard.count, shard.count
            ),
            Some("raise `concurrency` (--concurrency), or use fewer shards"),
        );
    }
    LoadSettings {
        shard,
        model: model.unwrap_or(Model::Closed {
            concurrency: DEFAULT_CONCURRENCY,
        }),
        duration: l.duration.as_ref().map(|f| f.value),
        requests,
        warmup: l.warmup.as_ref().map(|f| f.value),
        threads,
        grace: l.grace.as_ref().map_or(DEFAULT_GRACE, |f| f.value),
    }
}

/// `--shard K/N` (or `auto` with `--shards N`): `K < N`, and a seed, so
/// that every shard sends the bodies of one plan.
fn shard(c: &mut Check, raw: &RawSettings) -> Option<Shard> {
    let l = &raw.load;
    let Some(f) = &l.shard else {
        if let Some(n) = &l.shards {
            c.error(
                &n.place,
                "load.shards",
                "`--shards` is the count for `--shard auto`",
                Some("give --shard auto with it, or leave it out"),
            );
        }
        return None;
    };
    let shard = match &f.value {
        RawShard::Fixed { index, count } => {
            if let Some(n) = &l.shards {
                c.error(
                    &n.place,
                    "load.shards",
                    format!("--shard {index}/{count} already gives the count"),
                    Some("leave --shards out, or write --shard auto"),
                );
            }
            Some((*index, *count))
        }
        RawShard::Auto { index } => {
            let count = match &l.shards {
                Some(n) => c
                    .in_range(n, "load.shards", 1..=MAX_SHARDS as i64)
                    .map(|n| n as u64),
                None => {
                    c.error(
                        &f.place,
                        "load.shard",
                        "`--shard auto` needs the number of shards",
                        Some("give it with --shards N (the Job's `completions`)"),
                    );
                    None
                }
            };
            let index = match index {
                Some(text) => match text.trim().parse::<u64>() {
                    Ok(k) => Some(k),
                    Err(_) => {
                        c.error(
                            &f.place,
                            "load.shard",
                            format!("{SHARD_INDEX_VAR} is {text:?}, not a shard index (0, 1, ...)"),
                            None,
                        );
                        None
                    }
                },
                None => {
                    c.error(
                        &f.place,
                        "load.shard",
                        format!("`--shard auto` reads the index from {SHARD_INDEX_VAR}, which is not set"),
                        Some("run it in a Kubernetes Indexed Job (which sets it), set it yourself, or give --shard K/N"),
                    );
                    None
                }
            };
            index.zip(count)
        }
    };
    let (index, count) = shard?;
    if count == 0 || count > MAX_SHARDS || index >= count {
        c.error(
            &f.place,
            "load.shard",
            format!(
                "shard {index}/{count} does not exist: the index goes from 0 to N-1, N from 1 to {MAX_SHARDS}"
            ),
            Some("shards of a plan cut in 3 are 0/3, 1/3 and 2/3"),
        );
        return None;
    }
    if raw.body.seed.is_none() && !raw.unreadable.contains("body.seed") {
        c.error(
            &f.place,
            "load.shard",
            "shards must send the bodies of one plan, which needs a seed they share",
            Some("set `body.seed` in the file, or give every shard the same --seed"),
        );
        return None;
    }
    Some(Shard { index, count })
}

/// The stages of a ramp: at least one, each rate a rate, together at most
/// [`MAX_DURATION`].
fn stages(c: &mut Check, f: &Located<Vec<super::raw::RawStage>>) -> Option<Vec<Stage>> {
    if f.value.is_empty() {
        c.error(
            &f.place,
            "load.stages",
            "needs at least one stage",
            Some("write e.g. stages = [{ duration = \"10s\", rate = 1000 }], or --stages 100,10s:1000"),
        );
        return None;
    }
    let mut ok = true;
    let mut out = Vec::with_capacity(f.value.len());
    for (i, s) in f.value.iter().enumerate() {
        match c.rate(&s.rate, &format!("load.stages[{i}].rate"), true) {
            Some(rate) => out.push(Stage {
                duration: s.duration.value,
                rate,
            }),
            None => ok = false,
        }
    }
    if out.iter().map(|s| s.duration).sum::<Duration>() > MAX_DURATION {
        c.error(
            &f.place,
            "load.stages",
            "the stages last more than 365 days",
            None,
        );
        return None;
    }
    ok.then_some(out)
}

fn http(c: &mut Check, raw: &RawSettings) -> HttpSettings {
    let h = &raw.http;
    if h.headers.len() > MAX_HEADERS {
        let place = h
            .headers_table
            .as_ref()
            .unwrap_or(&h.headers[MAX_HEADERS].name.place);
        c.error(
            place,
            "http.headers",
            format!("at most {MAX_HEADERS} extra headers are allowed"),
            None,
        );
    }
    let mut headers = Vec::with_capacity(h.headers.len());
    for header in &h.headers {
        let (name, value) = (&header.name, &header.value);
        let key = format!("http.headers.{}", name.value);
        if let Err(message) = check_header_name(&name.value) {
            c.error(&name.place, &key, message, None);
            continue;
        }
        let expanded = match headers::expand_env(&value.value) {
            Ok(expanded) => expanded,
            Err(e) => {
                let hint = matches!(e, headers::ExpandError::Unset(_))
                    .then_some("set it in the environment, or write `$${` for a literal `${`");
                c.error(&value.place, &key, e.message(), hint);
                continue;
            }
        };
        if let Err(message) = check_header_value(&expanded) {
            c.error(&value.place, &key, message, None);
        } else {
            headers.push((name.value.clone(), expanded));
        }
    }
    HttpSettings {
        timeout: h.timeout.as_ref().map_or(DEFAULT_TIMEOUT, |f| f.value),
        headers,
    }
}

fn check_header_name(name: &str) -> Result<(), String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(format!("{name:?} is not a valid header name"));
    }
    if FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "{name} is set by mcload itself, because it frames each request"
        ));
    }
    Ok(())
}

fn check_header_value(value: &str) -> Result<(), String> {
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err("header values must not hold control characters or line breaks".into());
    }
    Ok(())
}

fn body(c: &mut Check, raw: &RawSettings) -> BodySettings {
    let b = &raw.body;
    let mut generated = DEFAULT_GENERATED_METADATA;
    if let Some(f) = &b.generated_metadata {
        let (lo, hi) = f.value;
        if lo < 0 || hi > MAX_GENERATED_METADATA || lo > hi {
            c.error(
                &f.place,
                "body.custom_metadata.generated",
                format!("write [min, max] with 0 <= min <= max <= {MAX_GENERATED_METADATA}"),
                None,
            );
        } else {
            generated = (lo as u32, hi as u32);
        }
    }
    BodySettings {
        seed: b.seed.as_ref().map(|f| f.value),
        params: b.params.clone(),
        custom_metadata: MetadataSettings {
            generated,
            fields: b.metadata_fields.clone(),
        },
        qoe: QoeSettings {
            present: b
                .qoe_present
                .as_ref()
                .and_then(|f| c.share(f, "body.qoe_data.present")),
            fields: b.qoe_fields.clone(),
        },
        invalid_share: b
            .invalid_share
            .as_ref()
            .and_then(|f| c.share(f, "body.invalid_share"))
            .unwrap_or(0.0),
        mutations: b.mutations.clone(),
    }
}
