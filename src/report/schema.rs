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
    let keys = always.into_iter().chain(Bucket::ALL.map(Bucket::name));
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
