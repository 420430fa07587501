//! The JSON Schema of the report (`mcload schema report`), generated from
//! the report's own types in `json`. The maps whose keys are names the
//! code knows (checks, outcome classes, mutations) list those names, taken
//! from the same catalogues the report is written from.

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde_json::{Map, Value};

use crate::spec::{Bucket, Check, Mutation};

/// The schema of `mcload.report/v1` (JSON Schema draft 2020-12), as
/// `mcload schema report` prints it.
pub fn report_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator
        .into_root_schema_for::<super::json::Report<'static>>()
        .to_value();
    tidy(&mut schema);
    schema
}

/// Joins the lines of descriptions taken from doc comments, and drops
/// empty `required` lists.
fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(text)) = map.get_mut("description") {
                *text = text.replace('\n', " ");
            }
            if map
                .get("required")
                .is_some_and(|r| r.as_array().is_some_and(Vec::is_empty))
            {
                map.remove("required");
            }
            map.values_mut().for_each(tidy);
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// An object whose properties are `keys`, each of `value`'s schema;
/// `required` of them always present. Other keys are allowed too, so that
/// an older copy of the schema still accepts the names a later mcload
/// adds (later versions add keys, they never rename them).
fn keyed<'k>(value: Schema, keys: impl IntoIterator<Item = &'k str>, required: &[&str]) -> Schema {
    let properties: Map<String, Value> = keys
        .into_iter()
        .map(|k| (k.to_owned(), value.clone().to_value()))
        .collect();
    json_schema!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": value,
    })
}

fn latency(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<super::json::Latency3>()
}

pub(super) fn by_outcome(generator: &mut SchemaGenerator) -> Schema {
    let value = latency(generator);
    keyed(value, Bucket::ALL.map(Bucket::name), &[])
}

pub(super) fn by_kind(generator: &mut SchemaGenerator) -> Schema {
    let value = latency(generator);
    keyed(value, ["valid", "invalid"], &["valid", "invalid"])
}

pub(super) fn histograms(_: &mut SchemaGenerator) -> Schema {
    let value = json_schema!({ "type": "string", "contentEncoding": "base64" });
    let always = ["all", "service_time", "valid", "invalid"];
    // `send_lag` only when a request was sent (and never by a report from
    // before it was kept).
    let keys = always
        .into_iter()
        .chain(["send_lag"])
        .chain(Bucket::ALL.map(Bucket::name));
    keyed(value, keys, &always)
}

pub(super) fn checks(generator: &mut SchemaGenerator) -> Schema {
    let value = u64::json_schema(generator);
    let names = Check::ALL.map(Check::name);
    keyed(value, names, &names)
}

pub(super) fn check_samples(generator: &mut SchemaGenerator) -> Schema {
    let value = Vec::<super::json::SampleJson>::json_schema(generator);
    keyed(value, Check::ALL.map(Check::name), &[])
}

pub(super) fn by_mutation(generator: &mut SchemaGenerator) -> Schema {
    let value = u64::json_schema(generator);
    keyed(value, Mutation::all().map(Mutation::name), &[])
}

/// Which keys each load model has: the closed model its `concurrency`;
/// the open model its `connections`, `max_in_flight`, and a constant
/// `rate` or a ramp (`start_rate` and `stages`).
pub(super) fn model_rules(schema: &mut Schema) {
    schema.insert(
        "oneOf".into(),
        serde_json::json!([
            {
                "properties": { "type": { "const": "closed" } },
                "required": ["concurrency"],
            },
            {
                "properties": { "type": { "const": "open" } },
                "required": ["connections", "max_in_flight"],
                "oneOf": [
                    { "required": ["rate"] },
                    { "required": ["start_rate", "stages"] },
                ],
            },
        ]),
    );
}

/// `valid` or a mutation's name.
pub(super) fn body_kind(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = std::iter::once("valid")
        .chain(Mutation::all().map(Mutation::name))
        .collect();
    json_schema!({ "type": "string", "enum": names })
}

/// A check's name.
pub(super) fn check_name(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": Check::ALL.map(Check::name) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Check;
    use crate::threshold::{self, Source};
    use crate::verdict::{Cause, Evaluated};

    fn schema() -> Value {
        report_schema()
    }

    fn enum_of<'a>(schema: &'a Value, pointer: &str) -> Vec<&'a str> {
        schema
            .pointer(pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("no enum at {pointer}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    /// Each operator and each unit a threshold can be written with is one
    /// the schema lists.
    #[test]
    fn every_operator_and_unit_of_a_threshold_is_in_the_schema() {
        let schema = schema();
        let operators = enum_of(&schema, "/$defs/Threshold/properties/operator/enum");
        let units = enum_of(&schema, "/$defs/Threshold/properties/unit/enum");
        for (metric, check) in [
            ("latency.p99", "< 250ms"),
            ("status.201", "<= 99.5%"),
            ("unexpected", "> 3"),
            ("rate", ">= 500/s"),
            ("errors", "== 0"),
            ("dropped", "!= 1"),
        ] {
            let t = threshold::parse(metric, check, Source::Flag).unwrap();
            let json = serde_json::to_value(super::super::json::threshold_json(
                &Evaluated {
                    threshold: t,
                    measured: None,
                    pass: true,
                    worst_window: None,
                },
                None,
            ))
            .unwrap();
            let (op, unit) = (json["operator"].as_str(), json["unit"].as_str());
            assert!(operators.contains(&op.unwrap()), "{metric} {check}: {op:?}");
            assert!(units.contains(&unit.unwrap()), "{metric} {check}: {unit:?}");
        }
        assert_eq!(operators.len(), 6);
        assert_eq!(units.len(), 4);
    }

    /// The causes keep the `kind` names the README documents, each listed
    /// in the schema, with `check`/`count` or `threshold` where they apply.
    #[test]
    fn every_cause_kind_is_written_as_documented_and_listed_in_the_schema() {
        let schema = schema();
        let kinds = enum_of(&schema, "/$defs/CauseKind/enum");
        let threshold = Cause::Threshold {
            expression: "latency.p99 < 5ms".into(),
            measured: "31 ms".into(),
            source: "--threshold".into(),
        };
        let aborted = Cause::Aborted {
            expression: "errors < 5%".into(),
            measured: "80%".into(),
            second: 3,
            source: "--threshold".into(),
        };
        let check = Cause::CheckFailed {
            check: Check::InvalidAccepted,
            count: 7,
        };
        for (cause, kind) in [
            (Cause::HlogFailed("disk full".into()), "hlog"),
            (Cause::Interrupted, "interrupted"),
            (Cause::NotAccounted, "not_accounted"),
            (Cause::ServerCountsDiffer, "server_counts"),
            (Cause::EngineFailed("thread 2 of 4".into()), "engine"),
            (Cause::LocalErrors { count: 3 }, "local"),
            (check, "check"),
            (threshold, "threshold"),
            (aborted, "abort"),
        ] {
            let json = serde_json::to_value(super::super::json::cause_json(&cause)).unwrap();
            assert_eq!(json["kind"], kind);
            assert!(kinds.contains(&kind), "{kind}");
            assert_eq!(json["message"], cause.message());
            let keys: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.as_str())
                .collect();
            let expected: &[&str] = match kind {
                "check" => &["kind", "message", "check", "count"],
                "threshold" | "abort" => &["kind", "message", "threshold"],
                _ => &["kind", "message"],
            };
            assert_eq!(keys, expected, "{kind}");
        }
        assert_eq!(kinds.len(), 9);
    }

    /// The maps keyed by names the code knows list every one of those
    /// names; `checks` and `histograms` require the ones always written.
    #[test]
    fn keyed_maps_list_the_names_from_the_catalogues() {
        let schema = schema();
        let checks = &schema["properties"]["checks"];
        for check in Check::ALL {
            assert!(checks["properties"][check.name()].is_object());
        }
        assert_eq!(
            checks["required"].as_array().unwrap().len(),
            Check::ALL.len()
        );
        let by_mutation = &schema["$defs"]["Bodies"]["properties"]["by_mutation"];
        assert_eq!(
            by_mutation["properties"].as_object().unwrap().len(),
            Mutation::all().count()
        );
        assert!(by_mutation.get("required").is_none());
        let histograms = &schema["properties"]["histograms"];
        assert_eq!(
            histograms["required"],
            serde_json::json!(["all", "service_time", "valid", "invalid"])
        );
        for bucket in Bucket::ALL {
            assert!(histograms["properties"][bucket.name()].is_object());
        }
    }

    /// A closed model without `concurrency`, or an open one without a
    /// rate, is not a report's model.
    #[test]
    fn the_model_schema_requires_what_each_load_model_has() {
        let schema = schema();
        // The model's definition, with the definitions it refers to.
        let mut model_schema = schema["$defs"]["Model"].clone();
        model_schema["$defs"] = schema["$defs"].clone();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.add_resource("model.json", model_schema).unwrap();
        let index = compiler.compile("model.json", &mut schemas).unwrap();
        let validator = |model: Value| schemas.validate(&model, index).is_ok();
        assert!(validator(
            serde_json::json!({"type": "closed", "concurrency": 4, "threads": 1})
        ));
        assert!(!validator(
            serde_json::json!({"type": "closed", "threads": 1})
        ));
        let open = |extra: Value| {
            let mut m = serde_json::json!({"type": "open", "connections": 64, "max_in_flight": 10000, "threads": 2});
            m.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            m
        };
        assert!(validator(open(serde_json::json!({"rate": 500.0}))));
        assert!(validator(open(
            serde_json::json!({"start_rate": 10.0, "stages": [{"duration_s": 1.0, "rate": 100.0}]})
        )));
        assert!(!validator(open(serde_json::json!({}))));
        assert!(!validator(open(
            serde_json::json!({"rate": 5.0, "start_rate": 10.0, "stages": []})
        )));
        assert!(!validator(
            serde_json::json!({"type": "open", "rate": 5.0, "threads": 2})
        ));
    }

    /// What is written only sometimes is optional, never `null`; what may
    /// be `null` is required.
    #[test]
    fn optional_keys_are_not_nullable_and_nullable_ones_are_required() {
        let schema = schema();
        let required = |pointer: &str| -> Vec<String> {
            schema
                .pointer(pointer)
                .and_then(Value::as_array)
                .map(|r| r.iter().map(|k| k.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        let top = required("/required");
        assert!(!top.contains(&"warmup".to_owned()) && !top.contains(&"server".to_owned()));
        assert!(top.contains(&"thresholds".to_owned()) && top.contains(&"verdict".to_owned()));
        assert_eq!(schema["properties"]["warmup"]["$ref"], "#/$defs/Warmup");
        let threshold = required("/$defs/Threshold/required");
        assert!(threshold.contains(&"measured".to_owned()));
        assert!(threshold.contains(&"window".to_owned()));
        assert!(!threshold.contains(&"abort".to_owned()));
        assert_eq!(
            schema["$defs"]["Threshold"]["properties"]["measured"]["type"],
            serde_json::json!(["number", "null"])
        );
        assert!(required("/$defs/Interval/required").contains(&"latency_ms".to_owned()));
        assert_eq!(
            schema["$defs"]["Model"]["properties"]["concurrency"]["type"],
            "integer"
        );
    }
}
