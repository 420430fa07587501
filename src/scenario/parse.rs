//! The scenario format: which tables and keys exist and what each accepts.
//! The commented reference, `scenarios/reference.toml`, shows every key.

use std::path::Path;
use std::time::Duration;

use toml::de::{DeTable, DeValue};

use super::reader::MAX_DURATION;
use super::reader::{Reader, Table, Value, type_name};
use super::{
    BodySettings, DEFAULT_CONCURRENCY, DEFAULT_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PATH,
    DEFAULT_TIMEOUT, HttpSettings, Literal, LoadError, LoadSettings, MetadataField,
    MetadataSettings, Model, OpenModel, ParamSetting, Pattern, QoeField, QoeSettings, Rate,
    Scenario, Stage, TargetSettings, TargetUrl, ValueSetting, check_endpoint_path,
};
use crate::scenario::error::nearest;
use crate::spec::MAX_HEADERS;
use crate::spec::{self, Constraint, ValueType};
use crate::spec::{MUTATIONS, Mutation};

/// The most workers a closed-model run may have.
pub const MAX_CONCURRENCY: i64 = 100_000;
/// The most requests per second the open model takes.
pub const MAX_RATE: f64 = 10_000_000.0;
/// The most requests waiting or on the wire in the open model.
pub const MAX_IN_FLIGHT: i64 = 10_000_000;
/// The most generator threads.
pub const MAX_THREADS: i64 = 1024;
/// The most keys the built-in custom-metadata pool holds.
pub const MAX_GENERATED_METADATA: i64 = 16;

pub(super) fn parse(
    source: &str,
    file: &str,
    base_dir: Option<&Path>,
) -> Result<Scenario, LoadError> {
    let doc = DeTable::parse(source).map_err(|e| {
        let mut reader = Reader::new(file, source);
        reader.error(
            e.span().unwrap_or(0..0),
            "",
            format!("not valid TOML: {}", e.message().trim_end()),
            None,
        );
        LoadError::Invalid(reader.errors)
    })?;
    let mut r = Reader::new(file, source);
    let mut top = Table::new("", doc.get_ref());

    let default_name = Path::new(file).file_stem().map_or_else(
        || "scenario".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let name = top
        .get("name")
        .and_then(|v| non_empty_string(&mut r, v, "name"))
        .unwrap_or(default_name);
    let description = top
        .get("description")
        .and_then(|v| r.string(v, "description"));

    let target = read_target(&mut r, &mut top, base_dir);
    let load = read_load(&mut r, &mut top);
    let http = read_http(&mut r, &mut top);
    let body = read_body(&mut r, &mut top);
    top.finish(&mut r);

    if r.errors.is_empty() {
        Ok(Scenario {
            name,
            description,
            origin: file.to_string(),
            target,
            load,
            http,
            body,
        })
    } else {
        let mut errors = r.errors;
        errors.sort_by_key(|e| (e.line, e.column));
        Err(LoadError::Invalid(errors))
    }
}

fn non_empty_string(r: &mut Reader<'_>, v: &Value<'_>, key: &str) -> Option<String> {
    let s = r.string(v, key)?;
    if s.trim().is_empty() {
        r.error(v.span(), key, "must not be empty", None);
        return None;
    }
    Some(s)
}

/// Reads an optional sub-table, calls `read` on it and reports its unknown keys.
fn section<T>(
    r: &mut Reader<'_>,
    parent: &mut Table<'_, '_>,
    key: &'static str,
    read: impl FnOnce(&mut Reader<'_>, &mut Table<'_, '_>) -> T,
) -> Option<T> {
    let value = parent.get(key)?;
    let path = parent.key_path(key);
    let mut table = r.table(value, &path)?;
    let out = read(r, &mut table);
    table.finish(r);
    Some(out)
}

fn read_target(
    r: &mut Reader<'_>,
    top: &mut Table<'_, '_>,
    base_dir: Option<&Path>,
) -> TargetSettings {
    let mut spec = TargetSettings {
        url: None,
        path: DEFAULT_PATH.to_string(),
        ca_cert: None,
        rules: spec::RuleSet::default(),
    };
    section(r, top, "target", |r, t| {
        if let Some(v) = t.get("url") {
            let key = t.key_path("url");
            if let Some(text) = r.string(v, &key) {
                match TargetUrl::parse(&text) {
                    Ok(url) => spec.url = Some(url),
                    Err(e) => r.error(v.span(), &key, e.reason, Some(
                        "write e.g. \"http://127.0.0.1:8080\", or leave `url` out to use the embedded reference server".into(),
                    )),
                }
            }
        }
        if let Some(v) = t.get("path") {
            let key = t.key_path("path");
            if let Some(path) = r.string(v, &key) {
                match check_endpoint_path(&path) {
                    Ok(()) => spec.path = path,
                    Err(message) => r.error(v.span(), &key, message, None),
                }
            }
        }
        if let Some(v) = t.get("ca_cert") {
            let key = t.key_path("ca_cert");
            if let Some(path) = non_empty_string(r, v, &key) {
                let path = Path::new(&path);
                spec.ca_cert = Some(match base_dir {
                    Some(dir) if path.is_relative() => dir.join(path),
                    _ => path.to_path_buf(),
                });
            }
        }
    });
    spec
}

fn read_load(r: &mut Reader<'_>, top: &mut Table<'_, '_>) -> LoadSettings {
    let mut load = LoadSettings {
        model: Model::Closed {
            concurrency: DEFAULT_CONCURRENCY,
        },
        duration: None,
        requests: None,
        warmup: None,
        threads: None,
    };
    section(r, top, "load", |r, t| {
        let concurrency = t.get("concurrency");
        let rate = t.get("rate");
        let stages = t.get("stages");
        let start_rate = t.get("start_rate");
        let connections = t.get("connections");
        let max_in_flight = t.get("max_in_flight");
        let duration = t.get("duration");

        // One model: the first of the keys that choose one wins, the
        // others are errors that say why.
        let chosen = [
            ("concurrency", concurrency),
            ("rate", rate),
            ("stages", stages),
        ];
        let mut model_key: Option<&str> = None;
        for (key, value) in chosen {
            let Some(value) = value else { continue };
            match model_key {
                None => model_key = Some(key),
                Some(first) => r.error(
                    value.span(),
                    &t.key_path(key),
                    format!("`{first}` already chooses the load model"),
                    Some(
                        "use `concurrency` for the closed model, or `rate` (constant) or `stages` (ramp) for the open model"
                            .into(),
                    ),
                ),
            }
        }

        if let Some(v) = concurrency
            && let Some(n) = r.integer_in(v, &t.key_path("concurrency"), 1..=MAX_CONCURRENCY)
            && model_key == Some("concurrency")
        {
            load.model = Model::Closed {
                concurrency: n as u32,
            };
        }
        let open_rate = match model_key {
            Some("rate") => rate
                .and_then(|v| read_rate(r, v, &t.key_path("rate"), false))
                .map(Rate::Constant),
            Some("stages") => stages.and_then(|v| {
                let start = match start_rate {
                    Some(s) => read_rate(r, s, &t.key_path("start_rate"), true)?,
                    None => 0.0,
                };
                read_stages(r, v, &t.key_path("stages"))
                    .map(|stages| Rate::Stages { start, stages })
            }),
            _ => None,
        };
        if let Some(v) = start_rate
            && model_key != Some("stages")
        {
            r.error(
                v.span(),
                &t.key_path("start_rate"),
                "`start_rate` is where `stages` begin; it needs `stages`",
                None,
            );
        }
        let open = model_key.is_some_and(|k| k != "concurrency");
        for (key, value) in [
            ("connections", connections),
            ("max_in_flight", max_in_flight),
        ] {
            if let Some(v) = value
                && !open
            {
                r.error(
                    v.span(),
                    &t.key_path(key),
                    format!("`{key}` applies to the open model, chosen by `rate` or `stages`"),
                    Some("the closed model has one connection per `concurrency` worker".into()),
                );
            }
        }
        let connections = connections
            .filter(|_| open)
            .and_then(|v| r.integer_in(v, &t.key_path("connections"), 1..=MAX_CONCURRENCY))
            .map_or(DEFAULT_CONNECTIONS, |n| n as u32);
        let max_in_flight = match max_in_flight.filter(|_| open) {
            Some(v) => {
                let key = t.key_path("max_in_flight");
                match r.integer_in(v, &key, 1..=MAX_IN_FLIGHT) {
                    Some(n) if (n as u64) < u64::from(connections) => {
                        r.error(
                            v.span(),
                            &key,
                            format!("{n} is less than `connections` ({connections}); it counts the requests on the wire too"),
                            None,
                        );
                        None
                    }
                    n => n.map(|n| n as u64),
                }
            }
            None => Some(DEFAULT_MAX_IN_FLIGHT.max(u64::from(connections))),
        };
        if let (Some(rate), Some(max_in_flight)) = (open_rate, max_in_flight) {
            load.model = Model::Open(OpenModel {
                rate,
                connections,
                max_in_flight,
            });
        }

        if let Some(v) = duration {
            let key = t.key_path("duration");
            if model_key == Some("stages") {
                r.error(
                    v.span(),
                    &key,
                    "`stages` set the run's length; `duration` does not apply",
                    Some("remove `duration`, or use `requests` to stop earlier".into()),
                );
            } else {
                load.duration = r.duration(v, &key);
            }
        }
        if let Some(v) = t.get("requests") {
            load.requests = r
                .integer_in(v, &t.key_path("requests"), 1..=i64::MAX)
                .map(|n| n as u64);
        }
        if let Some(v) = t.get("warmup") {
            load.warmup = r.duration(v, &t.key_path("warmup"));
            if load.warmup.is_some() && load.model.starts_at_zero() {
                r.error(
                    v.span(),
                    &t.key_path("warmup"),
                    "the warm-up runs at `start_rate`, which is 0: it would send nothing",
                    Some("set `start_rate` above 0, or leave `warmup` out".into()),
                );
            }
        }
        if let Some(v) = t.get("threads") {
            load.threads = r
                .integer_in(v, &t.key_path("threads"), 1..=MAX_THREADS)
                .map(|n| n as usize);
        }
    });
    load
}

/// A rate in requests per second: above zero (or zero, where `zero_ok`)
/// and at most [`MAX_RATE`].
fn read_rate(r: &mut Reader<'_>, v: &Value<'_>, key: &str, zero_ok: bool) -> Option<f64> {
    let n = r.number(v, key)?;
    check_rate(n, zero_ok)
        .map_err(|m| r.error(v.span(), key, m, None))
        .ok()
}

/// The rule for rates, shared with the `--rate` and `--stages` flags.
pub fn check_rate(n: f64, zero_ok: bool) -> Result<f64, String> {
    if n < 0.0 || (n == 0.0 && !zero_ok) {
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

/// The `--stages` flag: `[START,]DURATION:RATE[,DURATION:RATE...]`, e.g.
/// `100,5s:1000,10s:1000` starts at 100/s, ramps to 1000/s over 5 s and
/// holds it for 10 s. Without START the ramp starts from 0.
pub fn parse_stages(text: &str) -> Result<Rate, String> {
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
                    super::parse_duration(duration).map_err(|m| format!("stage {part:?}: {m}"))?;
                let rate =
                    parse_rate_text(rate, true).map_err(|m| format!("stage {part:?}: {m}"))?;
                stages.push(Stage { duration, rate });
            }
            None if i == 0 => start = parse_rate_text(part, true)?,
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
    if stages.iter().map(|s| s.duration).sum::<Duration>() > MAX_DURATION {
        return Err("the stages last more than 365 days".into());
    }
    Ok(Rate::Stages { start, stages })
}

/// A rate written on the command line, e.g. `500` or `2.5`.
pub fn parse_rate_text(text: &str, zero_ok: bool) -> Result<f64, String> {
    let n: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| format!("{text:?} is not a rate; write requests per second, e.g. 500"))?;
    check_rate(n, zero_ok)
}

/// `stages = [{ duration = "5s", rate = 1000 }, ...]`.
fn read_stages(r: &mut Reader<'_>, v: &Value<'_>, key: &str) -> Option<Vec<Stage>> {
    let items = r.array(v, key)?;
    if items.is_empty() {
        r.error(
            v.span(),
            key,
            "needs at least one stage",
            Some("write e.g. stages = [{ duration = \"10s\", rate = 1000 }]".into()),
        );
        return None;
    }
    let mut stages = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_key = format!("{key}[{i}]");
        let Some(mut table) = r.table(item, &item_key) else {
            ok = false;
            continue;
        };
        let duration = match table.get("duration") {
            Some(d) => r.duration(d, &table.key_path("duration")),
            None => {
                r.error(item.span(), &item_key, "a stage needs `duration`", None);
                None
            }
        };
        let rate = match table.get("rate") {
            Some(x) => read_rate(r, x, &table.key_path("rate"), true),
            None => {
                r.error(
                    item.span(),
                    &item_key,
                    "a stage needs `rate` (requests per second at its end)",
                    None,
                );
                None
            }
        };
        table.finish(r);
        match (duration, rate) {
            (Some(duration), Some(rate)) => stages.push(Stage { duration, rate }),
            _ => ok = false,
        }
    }
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    if ok && total > MAX_DURATION {
        r.error(v.span(), key, "the stages last more than 365 days", None);
        return None;
    }
    ok.then_some(stages)
}

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

fn read_http(r: &mut Reader<'_>, top: &mut Table<'_, '_>) -> HttpSettings {
    let mut http = HttpSettings {
        timeout: DEFAULT_TIMEOUT,
        headers: Vec::new(),
    };
    section(r, top, "http", |r, t| {
        if let Some(v) = t.get("timeout")
            && let Some(d) = r.duration(v, &t.key_path("timeout"))
        {
            http.timeout = d;
        }
        if let Some(v) = t.get("headers") {
            let path = t.key_path("headers");
            if let Some(headers) = r.table(v, &path) {
                if headers.entries().count() > MAX_HEADERS {
                    r.error(
                        v.span(),
                        &path,
                        format!("at most {MAX_HEADERS} extra headers are allowed"),
                        None,
                    );
                }
                for (name, value) in headers.entries() {
                    let key = format!("{path}.{}", name.get_ref());
                    if let Err(message) = check_header_name(name.get_ref()) {
                        r.error(name.span(), &key, message, None);
                        continue;
                    }
                    let Some(text) = r.string(value, &key) else {
                        continue;
                    };
                    if let Err(message) = check_header_value(&text) {
                        r.error(value.span(), &key, message, None);
                        continue;
                    }
                    http.headers.push((name.get_ref().to_string(), text));
                }
            }
        }
    });
    http
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

fn read_body(r: &mut Reader<'_>, top: &mut Table<'_, '_>) -> BodySettings {
    let mut body = BodySettings {
        seed: None,
        params: Vec::new(),
        custom_metadata: MetadataSettings {
            generated: (0, 3),
            fields: Vec::new(),
        },
        qoe: QoeSettings {
            present: None,
            fields: Vec::new(),
        },
        invalid_share: 0.0,
        mutations: Vec::new(),
    };
    section(r, top, "body", |r, t| {
        if let Some(v) = t.get("seed") {
            body.seed = r
                .integer_in(v, &t.key_path("seed"), 0..=i64::MAX)
                .map(|n| n as u64);
        }
        if let Some(v) = t.get("invalid_share") {
            body.invalid_share = r.share(v, &t.key_path("invalid_share")).unwrap_or(0.0);
        }
        if let Some(v) = t.get("mutations") {
            let path = t.key_path("mutations");
            if let Some(table) = r.table(v, &path) {
                body.mutations = read_mutations(r, &table, v);
            }
        }
        if let Some(v) = t.get("params") {
            let path = t.key_path("params");
            if let Some(params) = r.table(v, &path) {
                body.params = read_params(r, &params);
            }
        }
        section(r, t, "custom_metadata", |r, t| {
            read_custom_metadata(r, t, &mut body.custom_metadata)
        });
        section(r, t, "qoe_data", |r, t| read_qoe(r, t, &mut body.qoe));
    });
    body
}

/// `[body.mutations]`: `"name" = weight` for the mutations to use.
fn read_mutations(
    r: &mut Reader<'_>,
    table: &Table<'_, '_>,
    whole: &Value<'_>,
) -> Vec<(Mutation, f64)> {
    let mut out = Vec::new();
    for (name, value) in table.entries() {
        let key = format!("{}.\"{}\"", table.path, name.get_ref());
        let Some(mutation) = Mutation::by_name(name.get_ref()) else {
            let hint = match nearest(name.get_ref(), MUTATIONS.iter().map(|m| m.name)) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None => "the README lists every mutation".to_string(),
            };
            r.error(name.span(), &key, "not a mutation mcload knows", Some(hint));
            continue;
        };
        if let Some(weight) = r.number(value, &key) {
            if weight < 0.0 {
                r.error(value.span(), &key, "a weight must be 0 or more", None);
            } else {
                out.push((mutation, weight));
            }
        }
    }
    if !out.is_empty() && out.iter().all(|(_, w)| *w == 0.0) {
        r.error(
            whole.span(),
            &table.path,
            "every weight is 0: no mutation could be chosen",
            None,
        );
    }
    out
}

fn read_params(r: &mut Reader<'_>, params: &Table<'_, '_>) -> Vec<ParamSetting> {
    let mut out = Vec::new();
    for (name, value) in params.entries() {
        let key = format!("{}.\"{}\"", params.path, name.get_ref());
        let Some(param) = spec::param(name.get_ref()) else {
            let hint = match nearest(name.get_ref(), spec::PARAMS.iter().map(|p| p.key)) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None => "see scenarios/reference.toml for the list of params".to_string(),
            };
            r.error(name.span(), &key, "not a sessionStart param", Some(hint));
            continue;
        };
        let kind = Kind {
            ty: param.ty,
            constraint: param.constraint,
            required: param.required,
            what: "param",
        };
        if let Some((present, value)) = read_value_setting(r, value, &key, &kind) {
            out.push(ParamSetting {
                param,
                present,
                value,
            });
        }
    }
    out
}

fn read_custom_metadata(r: &mut Reader<'_>, t: &mut Table<'_, '_>, spec: &mut MetadataSettings) {
    if let Some(v) = t.get("generated") {
        let key = t.key_path("generated");
        if let Some((lo, hi)) = int_pair(r, v, &key) {
            if lo < 0 || hi > MAX_GENERATED_METADATA || lo > hi {
                r.error(
                    v.span(),
                    &key,
                    format!("write [min, max] with 0 <= min <= max <= {MAX_GENERATED_METADATA}"),
                    None,
                );
            } else {
                spec.generated = (lo as u32, hi as u32);
            }
        }
    }
    if let Some(v) = t.get("fields") {
        let path = t.key_path("fields");
        if let Some(fields) = r.table(v, &path) {
            for (name, value) in fields.entries() {
                let key = format!("{path}.\"{}\"", name.get_ref());
                if let Err(problem) = spec::check_metadata_key(name.get_ref()) {
                    r.error(
                        name.span(),
                        &key,
                        format!("not a valid custom-metadata key: {problem}"),
                        None,
                    );
                    continue;
                }
                let kind = Kind {
                    ty: ValueType::String,
                    constraint: Constraint::None,
                    required: false,
                    what: "custom-metadata key",
                };
                if let Some((present, spec_value)) = read_value_setting(r, value, &key, &kind) {
                    match spec_value {
                        Some(value) => spec.fields.push(MetadataField {
                            key: name.get_ref().to_string(),
                            present,
                            value,
                        }),
                        None => r.error(
                            value.span(),
                            &key,
                            "a custom-metadata key needs its value",
                            Some(
                                "give a string, { one_of = [...] } or { pattern = \"...\" }".into(),
                            ),
                        ),
                    }
                }
            }
        }
    }
}

fn read_qoe(r: &mut Reader<'_>, t: &mut Table<'_, '_>, spec: &mut QoeSettings) {
    if let Some(v) = t.get("present") {
        spec.present = r.share(v, &t.key_path("present"));
    }
    if let Some(v) = t.get("fields") {
        let path = t.key_path("fields");
        if let Some(fields) = r.table(v, &path) {
            for (name, value) in fields.entries() {
                let key = format!("{path}.\"{}\"", name.get_ref());
                let Some(qoe_key) = spec::qoe_key(name.get_ref()) else {
                    let hint = nearest(name.get_ref(), spec::QOE_KEYS.iter().map(|q| q.key))
                        .map(|k| format!("did you mean \"{k}\"?"));
                    r.error(name.span(), &key, "not a QoE key", hint);
                    continue;
                };
                let kind = Kind {
                    ty: qoe_key.ty,
                    constraint: Constraint::None,
                    required: false,
                    what: "QoE key",
                };
                if let Some((present, value)) = read_value_setting(r, value, &key, &kind) {
                    spec.fields.push(QoeField {
                        key: qoe_key,
                        present,
                        value,
                    });
                }
            }
        }
    }
}

/// What kind of value a key takes.
struct Kind {
    ty: ValueType,
    constraint: Constraint,
    required: bool,
    what: &'static str,
}

/// Reads a value setting: a bare literal (fixed value), or a table with
/// `present` and at most one of `value`, `one_of` (+ `weights`), `uniform`,
/// `pattern`. Returns `(present, value)`.
fn read_value_setting(
    r: &mut Reader<'_>,
    v: &Value<'_>,
    key: &str,
    kind: &Kind,
) -> Option<(Option<f64>, Option<ValueSetting>)> {
    let DeValue::Table(entries) = v.get_ref() else {
        let literal = literal(r, v, key, kind)?;
        return Some((None, Some(ValueSetting::Fixed(literal))));
    };
    let mut t = Table::new(key, entries);
    let mut ok = true;
    let present = match t.get("present") {
        Some(pv) => {
            let share = r.share(pv, &t.key_path("present"));
            ok &= share.is_some();
            if kind.required && share.is_some_and(|s| s < 1.0) {
                r.error(
                    pv.span(),
                    &t.key_path("present"),
                    "this param is required in every sessionStart, so it is always present",
                    Some("remove `present`; to send invalid bodies on purpose, use the invalid share".into()),
                );
                ok = false;
            }
            share
        }
        None => None,
    };
    let mut kinds: Vec<(&str, ValueSetting)> = Vec::new();
    if let Some(fixed) = t.get("value") {
        match literal(r, fixed, &t.key_path("value"), kind) {
            Some(l) => kinds.push(("value", ValueSetting::Fixed(l))),
            None => ok = false,
        }
    }
    let weights_value = t.get("weights");
    if let Some(choices_value) = t.get("one_of") {
        match one_of(r, choices_value, weights_value, &t, kind) {
            Some(spec) => kinds.push(("one_of", spec)),
            None => ok = false,
        }
    } else if let Some(w) = weights_value {
        r.error(
            w.span(),
            &t.key_path("weights"),
            "`weights` only goes with `one_of`",
            None,
        );
        ok = false;
    }
    if let Some(u) = t.get("uniform") {
        match uniform(r, u, &t.key_path("uniform"), kind) {
            Some(spec) => kinds.push(("uniform", spec)),
            None => ok = false,
        }
    }
    if let Some(p) = t.get("pattern") {
        match pattern(r, p, &t.key_path("pattern"), kind) {
            Some(spec) => kinds.push(("pattern", spec)),
            None => ok = false,
        }
    }
    t.finish(r);
    if kinds.len() > 1 {
        let names: Vec<_> = kinds.iter().map(|(n, _)| *n).collect();
        r.error(
            v.span(),
            key,
            format!(
                "give one way to choose the value, not {}",
                names.join(" and ")
            ),
            None,
        );
        return None;
    }
    if kind.ty == ValueType::CustomerIds && !kinds.is_empty() {
        r.error(
            v.span(),
            key,
            "visitor.customerIDs is generated; only `present` can be set",
            None,
        );
        return None;
    }
    ok.then(|| (present, kinds.pop().map(|(_, spec)| spec)))
}

/// A literal of the key's type that obeys the key's constraint.
fn literal(r: &mut Reader<'_>, v: &Value<'_>, key: &str, kind: &Kind) -> Option<Literal> {
    let lit = match (kind.ty, v.get_ref()) {
        (ValueType::String, DeValue::String(s)) => Literal::String(s.to_string()),
        (ValueType::Number, DeValue::Integer(_)) => Literal::Integer(r.integer(v, key)?),
        (ValueType::Number, DeValue::Float(_)) => Literal::Float(r.number(v, key)?),
        (ValueType::Integer, DeValue::Integer(_)) => Literal::Integer(r.integer(v, key)?),
        (ValueType::Boolean, DeValue::Boolean(b)) => Literal::Bool(*b),
        (ValueType::CustomerIds, _) => {
            r.error(
                v.span(),
                key,
                "visitor.customerIDs is generated; only `present` can be set",
                Some("write { present = 0.5 }".into()),
            );
            return None;
        }
        (ty, found) => {
            r.error(
                v.span(),
                key,
                format!(
                    "this {} takes {}, found {}",
                    kind.what,
                    ty.noun(),
                    type_name(found)
                ),
                None,
            );
            return None;
        }
    };
    let problem = match (&lit, kind.constraint) {
        (Literal::String(s), Constraint::NonEmpty) if s.is_empty() => {
            Some("must not be empty".to_string())
        }
        (Literal::String(s), Constraint::OneOf(allowed)) if !allowed.contains(&s.as_str()) => {
            Some(format!("must be one of {allowed:?}"))
        }
        (Literal::Integer(n), Constraint::Positive) if *n <= 0 => {
            Some("must be greater than 0".to_string())
        }
        (Literal::Float(n), Constraint::Positive) if *n <= 0.0 => {
            Some("must be greater than 0".to_string())
        }
        (Literal::Bool(true), Constraint::NotTrue) => Some(
            "media.downloaded: true makes /api/v1/sessions answer 400; only false is valid"
                .to_string(),
        ),
        _ => None,
    };
    match problem {
        Some(message) => {
            r.error(v.span(), key, message, None);
            None
        }
        None => Some(lit),
    }
}

fn one_of(
    r: &mut Reader<'_>,
    choices_value: &Value<'_>,
    weights_value: Option<&Value<'_>>,
    t: &Table<'_, '_>,
    kind: &Kind,
) -> Option<ValueSetting> {
    let key = t.key_path("one_of");
    let items = r.array(choices_value, &key)?;
    if items.is_empty() {
        r.error(
            choices_value.span(),
            &key,
            "one_of needs at least one choice",
            None,
        );
        return None;
    }
    let choice_count = items.len();
    let choices: Option<Vec<_>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| literal(r, item, &format!("{key}[{i}]"), kind))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let weights = match weights_value {
        None => None,
        Some(w) => {
            let wkey = t.key_path("weights");
            let items = r.array(w, &wkey)?;
            if items.len() != choice_count {
                r.error(
                    w.span(),
                    &wkey,
                    format!(
                        "{} weights for {choice_count} choices: give one weight per choice",
                        items.len()
                    ),
                    None,
                );
                return None;
            }
            let weights: Option<Vec<f64>> = items
                .iter()
                .enumerate()
                .map(|(i, item)| r.number(item, &format!("{wkey}[{i}]")))
                .collect();
            let weights = weights?;
            if weights.iter().any(|&x| x < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
                r.error(w.span(), &wkey, "weights must be >= 0 and not all 0", None);
                return None;
            }
            Some(weights)
        }
    };
    Some(ValueSetting::OneOf {
        choices: choices?,
        weights,
    })
}

fn int_pair(r: &mut Reader<'_>, v: &Value<'_>, key: &str) -> Option<(i64, i64)> {
    let items = r.array(v, key)?;
    if items.len() != 2 {
        r.error(v.span(), key, "write a pair [min, max]", None);
        return None;
    }
    Some((r.integer(&items[0], key)?, r.integer(&items[1], key)?))
}

fn uniform(r: &mut Reader<'_>, v: &Value<'_>, key: &str, kind: &Kind) -> Option<ValueSetting> {
    let spec = match kind.ty {
        ValueType::Integer => {
            let (lo, hi) = int_pair(r, v, key)?;
            if lo > hi {
                r.error(v.span(), key, format!("min {lo} is above max {hi}"), None);
                return None;
            }
            ValueSetting::UniformInt(lo, hi)
        }
        ValueType::Number => {
            let items = r.array(v, key)?;
            if items.len() != 2 {
                r.error(v.span(), key, "write a pair [min, max]", None);
                return None;
            }
            let (lo, hi) = (r.number(&items[0], key)?, r.number(&items[1], key)?);
            if lo > hi {
                r.error(v.span(), key, format!("min {lo} is above max {hi}"), None);
                return None;
            }
            if kind.constraint == Constraint::Positive && lo <= 0.0 {
                r.error(v.span(), key, "the range must stay above 0", None);
                return None;
            }
            ValueSetting::UniformFloat(lo, hi)
        }
        ty => {
            r.error(
                v.span(),
                key,
                format!(
                    "uniform needs a numeric {}, and this one takes {}",
                    kind.what,
                    ty.noun()
                ),
                Some("use one_of or pattern instead".into()),
            );
            return None;
        }
    };
    Some(spec)
}

fn pattern(r: &mut Reader<'_>, v: &Value<'_>, key: &str, kind: &Kind) -> Option<ValueSetting> {
    if kind.ty != ValueType::String {
        r.error(
            v.span(),
            key,
            format!(
                "pattern makes strings, and this {} takes {}",
                kind.what,
                kind.ty.noun()
            ),
            None,
        );
        return None;
    }
    if let Constraint::OneOf(allowed) = kind.constraint {
        r.error(
            v.span(),
            key,
            format!("this key accepts only {allowed:?}; use a fixed value or one_of"),
            None,
        );
        return None;
    }
    let text = r.string(v, key)?;
    match Pattern::parse(&text) {
        Ok(p) => Some(ValueSetting::Pattern(p)),
        Err(message) => {
            r.error(v.span(), key, message, None);
            None
        }
    }
}
