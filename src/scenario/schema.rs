//! The JSON Schema of scenario files (`mcload schema scenario`), for
//! editors that check TOML against a schema (Taplo, Even Better TOML).
//!
//! Each table's keys are listed here with their description and default;
//! the defaults are the scenario's own constants, and the keys of the
//! tables named by the API (params, QoE keys, mutations, rule sets) come
//! from `spec`'s catalogues, which the file reader reads against too. A
//! test reads a file through the reader and checks that, in every table,
//! the keys the reader asks for are exactly the schema's, so neither can
//! gain a key the other lacks. Unknown keys are refused everywhere
//! (`additionalProperties: false`). Limits that weigh one setting against
//! another (a closed model with a rate) stay with `mcload validate`.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::{
    DEFAULT_CONCURRENCY, DEFAULT_CONNECTIONS, DEFAULT_DURATION, DEFAULT_GENERATED_METADATA,
    DEFAULT_GRACE, DEFAULT_MAX_IN_FLIGHT, DEFAULT_PATH, DEFAULT_QOE_PRESENT, DEFAULT_TIMEOUT,
    MAX_CONCURRENCY, MAX_GENERATED_METADATA, MAX_IN_FLIGHT, MAX_RATE, MAX_THREADS,
};
use crate::engine::Pacing;
use crate::spec::{self, Constraint, Mutation, RuleSet, ValueType};

#[cfg(test)]
mod tests;

/// The schema of scenario files (JSON Schema draft 2020-12) as
/// `mcload schema scenario` prints it; a TOML file is checked as the JSON
/// document it reads as.
pub fn scenario_schema() -> Value {
    let mut root = object(&[
        key(
            "name",
            "The scenario's name, shown in reports. Default: the file name without `.toml`.",
            json!({ "type": "string" }),
        ),
        key(
            "description",
            "Free text about the scenario; mcload shows it nowhere.",
            json!({ "type": "string" }),
        ),
        key("target", "Where requests go.", target()),
        key(
            "load",
            "The load model (closed: `concurrency`; open: `rate`, or `start_rate` and `stages`) and when the run stops.",
            load(),
        ),
        key("http", "The request timeout and extra headers.", http()),
        key("body", "What the sessionStart bodies hold.", body()),
        key(
            "thresholds",
            "What the run is judged by: `\"METRIC [over D]\" = \"OP VALUE\"`, e.g. `\"latency.p99\" = \"< 250ms\"`; each must hold or the run exits 1.",
            thresholds(),
        ),
    ]);
    let meta = SchemaSettings::draft2020_12().meta_schema;
    let head = json!({
        "$schema": meta,
        "title": "mcload scenario",
        "description": "A scenario file of mcload (TOML). Every key is optional; what is left out takes the default shown.",
    });
    let Value::Object(mut map) = head else {
        unreachable!("a JSON object literal")
    };
    map.append(root.as_object_mut().expect("object() builds an object"));
    let defs: Map<String, Value> = SHARED
        .iter()
        .map(|(ty, name)| {
            let schema = value_setting(*ty, Constraint::None, false);
            ((*name).to_owned(), schema)
        })
        .collect();
    map.insert("$defs".into(), Value::Object(defs));
    Value::Object(map)
}

/// A key: its name and its schema, with the description added.
fn key(name: &str, description: &str, mut schema: Value) -> (String, Value) {
    schema
        .as_object_mut()
        .expect("each key's schema is an object")
        .insert("description".into(), description.into());
    (name.to_owned(), schema)
}

/// A table that holds exactly `keys`.
fn object(keys: &[(String, Value)]) -> Value {
    let properties: Map<String, Value> = keys.iter().cloned().collect();
    json!({ "type": "object", "properties": properties, "additionalProperties": false })
}

fn duration(default: Option<std::time::Duration>) -> Value {
    let mut schema = json!({
        "type": "string",
        // humantime's syntax: one or more number-unit pairs.
        "pattern": "^\\s*[0-9]+\\s*[A-Za-zµ]+(\\s*[0-9]+\\s*[A-Za-zµ]+)*\\s*$",
        "examples": ["500ms", "30s", "2m"],
    });
    if let Some(d) = default {
        schema["default"] = humantime::format_duration(d).to_string().into();
    }
    schema
}

fn share() -> Value {
    json!({ "type": "number", "minimum": 0, "maximum": 1 })
}

fn target() -> Value {
    let rules: Vec<&str> = RuleSet::ALL.iter().map(|r| r.name()).collect();
    object(&[
        key(
            "url",
            "The target's base URL, http or https (a path here is a prefix). Leave it out to run against the embedded reference server, whose counts mcload checks.",
            json!({ "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://", "examples": ["http://127.0.0.1:8080"] }),
        ),
        key(
            "path",
            "The endpoint, appended to the URL's path.",
            json!({ "type": "string", "default": DEFAULT_PATH }),
        ),
        key(
            "ca_cert",
            "PEM CA certificates to trust besides the system's, relative to the scenario file.",
            json!({ "type": "string" }),
        ),
        key(
            "insecure",
            "true: skip certificate verification, on purpose (said in the summary and the report).",
            json!({ "type": "boolean", "default": false }),
        ),
        key(
            "rules",
            "The rules the target applies, which decide which invalid bodies get a 400: \"strict\" (the Sessions request page plus the 2018 schema's closed key sets and types) or \"documented\" (only what the page states).",
            json!({ "type": "string", "enum": rules, "default": RuleSet::default().name() }),
        ),
    ])
}

fn load() -> Value {
    let stage = object(&[
        key(
            "duration",
            "How long the stage moves the rate.",
            duration(None),
        ),
        key(
            "rate",
            "Requests per second at the stage's end.",
            json!({ "type": "number", "minimum": 0, "maximum": MAX_RATE }),
        ),
    ]);
    let mut stage = stage;
    stage["required"] = json!(["duration", "rate"]);
    object(&[
        key(
            "concurrency",
            "Closed model: this many workers, each sending its next request when the previous one ends.",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY, "default": DEFAULT_CONCURRENCY }),
        ),
        key(
            "rate",
            "Open model: requests started per second, whatever the target does; latency counts from each planned start.",
            json!({ "type": "number", "exclusiveMinimum": 0, "maximum": MAX_RATE }),
        ),
        key(
            "start_rate",
            "Open model with stages: the rate the first stage starts from.",
            json!({ "type": "number", "minimum": 0, "maximum": MAX_RATE, "default": 0 }),
        ),
        key(
            "stages",
            "Open model: a ramp; each stage moves the rate linearly to its `rate` over its `duration`. The stages set the run's length.",
            json!({ "type": "array", "minItems": 1, "items": stage }),
        ),
        key(
            "connections",
            "Open model: connections on the wire at most; a request that finds none free waits, and its wait counts as latency.",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY, "default": DEFAULT_CONNECTIONS }),
        ),
        key(
            "max_in_flight",
            "Open model: requests waiting or on the wire at most; beyond it a request is not started and counts as `dropped`.",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_IN_FLIGHT, "default": DEFAULT_MAX_IN_FLIGHT }),
        ),
        key(
            "duration",
            "How long to send. With `requests`, whichever comes first; the default applies when neither is given.",
            duration(Some(DEFAULT_DURATION)),
        ),
        key(
            "requests",
            "Send exactly this many requests.",
            json!({ "type": "integer", "minimum": 1 }),
        ),
        key(
            "warmup",
            "Send this long first, reported apart and kept out of the figures.",
            duration(None),
        ),
        key(
            "threads",
            "Generator threads. Default: one per core.",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_THREADS }),
        ),
        key(
            "grace",
            "After Ctrl-C, how long requests on the wire may still take (at most the timeout); then they count as `cancelled`.",
            duration(Some(DEFAULT_GRACE)),
        ),
        key(
            "pacing",
            "Open model: how the scheduler wakes for its starts. `exact` wakes for every start (least send lag, most CPU); `batched:D` lets the starts due within one step D of a grid share a wake-up (each late by less than D), once a thread has at least two starts per step.",
            json!({
                "type": "string",
                "pattern": "^(exact|batched(:.+)?)$",
                "default": Pacing::DEFAULT.to_string(),
                "examples": ["exact", "batched:200us", "batched:1ms"],
            }),
        ),
    ])
}

fn http() -> Value {
    object(&[
        key(
            "timeout",
            "Per request; a slower answer counts as a timeout.",
            duration(Some(DEFAULT_TIMEOUT)),
        ),
        key(
            "headers",
            "Extra request headers, `Name = \"value\"`. `${VAR}` in a value is read from the environment when the scenario loads. Values of credential headers are never printed.",
            json!({
                "type": "object",
                "propertyNames": { "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
                "additionalProperties": { "type": "string" },
                "maxProperties": spec::MAX_HEADERS,
            }),
        ),
    ])
}

fn body() -> Value {
    let params: Vec<(String, Value)> = spec::PARAMS
        .iter()
        .map(|p| {
            let what = if p.required {
                "Required sessionStart param, in every body"
            } else {
                "Optional sessionStart param"
            };
            let description = format!(
                "{what} ({}): a fixed value, or a table choosing one.",
                p.ty.noun()
            );
            key(p.key, &description, setting(p.ty, p.constraint, p.required))
        })
        .collect();
    let mutations: Vec<(String, Value)> = Mutation::all()
        .map(|m| {
            key(
                m.name(),
                "The mutation's relative weight.",
                json!({ "type": "number", "minimum": 0 }),
            )
        })
        .collect();
    let qoe: Vec<(String, Value)> = spec::QOE_KEYS
        .iter()
        .map(|q| {
            let description = format!("QoE key ({})", q.ty.noun());
            key(q.key, &description, setting(q.ty, Constraint::None, false))
        })
        .collect();
    let mut metadata_value = value_setting(ValueType::String, Constraint::None, false);
    // A custom-metadata key needs a value: `present` alone is not enough.
    metadata_value["anyOf"][1]["anyOf"] = json!([
        { "required": ["value"] }, { "required": ["one_of"] }, { "required": ["pattern"] },
    ]);
    let custom_metadata = object(&[
        key(
            "generated",
            "How many keys of the built-in custom-metadata pool each body carries, [min, max].",
            json!({
                "type": "array",
                "items": { "type": "integer", "minimum": 0, "maximum": MAX_GENERATED_METADATA },
                "minItems": 2, "maxItems": 2,
                "default": [DEFAULT_GENERATED_METADATA.0, DEFAULT_GENERATED_METADATA.1],
            }),
        ),
        key(
            "fields",
            "Custom-metadata keys of your own (letters, digits, '_' and '.', not starting with \"a.\" or \"media.\"), each with a string value setting.",
            json!({
                "type": "object",
                "propertyNames": {
                    "pattern": "^[A-Za-z0-9_.]+$",
                    "not": { "anyOf": [{ "pattern": "^a\\." }, { "pattern": "^media\\." }] },
                },
                "additionalProperties": metadata_value,
            }),
        ),
    ]);
    let qoe_data = object(&[
        key("present", "Share of bodies with a qoeData object.", {
            let mut s = share();
            s["default"] = DEFAULT_QOE_PRESENT.into();
            s
        }),
        key(
            "fields",
            "QoE keys and their value settings; a value given without `present` is in every qoeData.",
            object(&qoe),
        ),
    ]);
    object(&[
        key(
            "seed",
            "The same seed sends the same bodies. Default: random, printed in the report.",
            json!({ "type": "integer", "minimum": 0 }),
        ),
        key(
            "invalid_share",
            "Share of bodies broken on purpose, each by a named mutation and expecting 400 (0.02 is 2%).",
            {
                let mut s = share();
                s["default"] = 0.into();
                s
            },
        ),
        key(
            "mutations",
            "Which mutations break the invalid share, by relative weight. Default: every mutation, equally; once given, only those listed.",
            object(&mutations),
        ),
        key(
            "params",
            "sessionStart params by their API key. Params left out keep realistic defaults.",
            object(&params),
        ),
        key(
            "custom_metadata",
            "The bodies' customMetadata.",
            custom_metadata,
        ),
        key("qoe_data", "The bodies' qoeData.", qoe_data),
    ])
}

/// The plain value settings, those of optional keys without a
/// constraint, are shared definitions; the others are written in place.
const SHARED: [(ValueType, &str); 4] = [
    (ValueType::String, "StringSetting"),
    (ValueType::Number, "NumberSetting"),
    (ValueType::Integer, "IntegerSetting"),
    (ValueType::Boolean, "BooleanSetting"),
];

/// A key's value setting: a reference to a shared definition, or in place.
fn setting(ty: ValueType, constraint: Constraint, required: bool) -> Value {
    match SHARED.iter().find(|(t, _)| *t == ty) {
        Some((_, name)) if constraint == Constraint::None && !required => {
            json!({ "$ref": format!("#/$defs/{name}") })
        }
        _ => value_setting(ty, constraint, required),
    }
}

/// The schema of one value of a key's type and constraint.
fn literal(ty: ValueType, constraint: Constraint) -> Value {
    let mut schema = match ty {
        ValueType::String => json!({ "type": "string" }),
        ValueType::Number => json!({ "type": "number" }),
        ValueType::Integer => json!({ "type": "integer" }),
        ValueType::Boolean => json!({ "type": "boolean" }),
        ValueType::CustomerIds => return json!({ "not": {} }),
    };
    match constraint {
        Constraint::None => {}
        Constraint::NonEmpty => schema["minLength"] = 1.into(),
        Constraint::Positive => schema["exclusiveMinimum"] = 0.into(),
        Constraint::OneOf(allowed) => schema["enum"] = json!(allowed),
        Constraint::NotTrue => schema["const"] = false.into(),
    }
    schema
}

/// A key's value setting: a fixed value, or a table of `present` and at
/// most one way to choose the value. The table lists every way; those
/// that do not fit the key's type are refused with a reason.
fn value_setting(ty: ValueType, constraint: Constraint, required: bool) -> Value {
    let value = literal(ty, constraint);
    let numeric = matches!(ty, ValueType::Integer | ValueType::Number);
    let refused = |why: &str| json!({ "not": {}, "description": why });
    let uniform = if numeric {
        let mut bound = value.clone();
        bound.as_object_mut().unwrap().remove("exclusiveMinimum");
        if constraint == Constraint::Positive {
            bound["exclusiveMinimum"] = 0.into();
        }
        json!({ "type": "array", "items": bound, "minItems": 2, "maxItems": 2,
                "description": "A number drawn uniformly from [min, max]." })
    } else {
        refused("uniform needs a numeric key")
    };
    let pattern = match (ty, constraint) {
        (ValueType::String, Constraint::OneOf(_)) => {
            refused("this key accepts only its listed values; use a fixed value or one_of")
        }
        (ValueType::String, _) => json!({
            "type": "string",
            "description": "A string made from a pattern: {hex:N} {HEX:N} {digits:N} {alpha:N} {alnum:N} {uuid} {index}; {{ and }} for braces.",
            "examples": ["vod-{digits:8}"],
        }),
        _ => refused("pattern makes strings, and this key takes another type"),
    };
    let (choice, one_of, weights) = if ty == ValueType::CustomerIds {
        let generated = || refused("visitor.customerIDs is generated; only `present` can be set");
        (generated(), generated(), generated())
    } else {
        (
            {
                let mut v = value.clone();
                v["description"] = "A fixed value, in every body that has the key.".into();
                v
            },
            json!({ "type": "array", "items": value, "minItems": 1,
                    "description": "Pick one of these, by `weights` (default: equally)." }),
            json!({ "type": "array", "items": { "type": "number", "minimum": 0 },
                    "description": "One weight per `one_of` choice." }),
        )
    };
    let present = if required {
        json!({ "type": "number", "minimum": 1, "maximum": 1,
                "description": "A required param is in every body." })
    } else {
        let mut s = share();
        s["description"] = "Share of bodies that have the key (0.3 means 30%).".into();
        s
    };
    let table = json!({
        "type": "object",
        "properties": {
            "present": present,
            "value": choice,
            "one_of": one_of,
            "weights": weights,
            "uniform": uniform,
            "pattern": pattern,
        },
        "additionalProperties": false,
        "dependentRequired": { "weights": ["one_of"] },
    });
    json!({ "anyOf": [value, table] })
}

fn thresholds() -> Value {
    let check = json!({
        "type": "string",
        "pattern": "^\\s*(<=?|>=?|==|!=)",
        "examples": ["< 250ms", ">= 99%", "== 0"],
        "description": "OP VALUE: < <= > >= == or !=, and a value with its unit (250ms, 99.5%, 0, 500/s).",
    });
    let mut table = object(&[
        key("check", "The check, as in the short form.", check.clone()),
        key(
            "abort",
            "true: end the run early when the threshold fails.",
            json!({ "type": "boolean", "default": false }),
        ),
        key(
            "after",
            "With `abort`: judge it only after this long.",
            duration(None),
        ),
    ]);
    table["required"] = json!(["check"]);
    json!({
        "type": "object",
        "properties": {
            "defaults": {
                "type": "boolean",
                "default": true,
                "description": "false turns off the default threshold `unexpected <= 1%`.",
            },
        },
        "additionalProperties": { "anyOf": [check, table] },
    })
}
