use std::collections::BTreeSet;

use serde_json::Value;

use super::scenario_schema;
use crate::scenario::file::keys_asked;
use crate::spec;

/// A file with every key of every table whose keys are fixed, and each way
/// of setting a value (it mixes the two load models: the reader reads each
/// key on its own, and the models are the validation step's business).
const EVERY_KEY: &str = r#"#:schema ./schema/scenario.schema.json
name = "every-key"
description = "every key"

[target]
url = "https://127.0.0.1:8443"
path = "/api/v1/sessions"
ca_cert = "ca.pem"
insecure = false
rules = "documented"

[load]
concurrency = 8
rate = 500
start_rate = 10
stages = [{ duration = "5s", rate = 100 }]
connections = 64
max_in_flight = 10000
duration = "1m30s"
requests = 1000
warmup = "2s"
threads = 2
grace = "5s"
pacing = "batched:200us"

[http]
timeout = "10s"
headers = { "X-Load-Test" = "mcload" }

[body]
seed = 42
invalid_share = 0.02

[body.mutations]
"not_json" = 1

[body.params]
"media.id" = { pattern = "vod-{digits:8}", present = 1 }
"media.contentType" = { one_of = ["vod", "live"], weights = [3, 1] }
"media.length" = { uniform = [60.0, 5400.0] }
"media.show" = { value = "The Show", present = 0.3 }
"media.downloaded" = false
"visitor.customerIDs" = { present = 0.2 }

[body.custom_metadata]
generated = [0, 3]
fields = { "cms.tier" = { one_of = ["free", "premium"] }, "app.env" = "loadtest" }

[body.qoe_data]
present = 0.5
fields = { "media.qoe.bitrate" = { uniform = [800000, 6000000], present = 0.8 } }

[thresholds]
"latency.p99" = "< 250ms"
"errors" = { check = "< 5%", abort = true, after = "10s" }
defaults = false
"#;

/// The TOML file as the JSON document a schema checks.
fn json_of(toml_text: &str) -> Value {
    let table: toml::Table = toml::from_str(toml_text).expect("valid TOML");
    serde_json::to_value(table).unwrap()
}

/// The schema's problems with `document`, one line each.
fn problems(document: &Value) -> Vec<String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("scenario.schema.json", scenario_schema())
        .unwrap();
    let index = compiler
        .compile("scenario.schema.json", &mut schemas)
        .unwrap();
    match schemas.validate(document, index) {
        Ok(()) => Vec::new(),
        Err(e) => {
            let output = serde_json::to_value(e.basic_output()).unwrap();
            output["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| format!("{}: {}", e["instanceLocation"], e["error"]))
                .collect()
        }
    }
}

/// The segments of a reader's dotted path: `body.params."media.id"` is
/// `body`, `params`, `media.id`; `load.stages[0]` is `load`, `stages`, `[]`.
fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.strip_prefix('.').unwrap_or(rest);
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap();
            out.push(quoted[..end].to_string());
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        if let Some(after) = rest.strip_prefix('[') {
            out.push("[]".into());
            rest = &after[after.find(']').unwrap() + 1..];
        }
    }
    out
}

/// The object schema of the table at `path`: a value setting's or a
/// threshold's table form is the branch of its `anyOf` that is a table.
fn table_at<'s>(schema: &'s Value, path: &str) -> &'s Value {
    let resolve = |node: &'s Value| match node["$ref"].as_str() {
        Some(r) => &schema["$defs"][r.trim_start_matches("#/$defs/")],
        None => node,
    };
    let table_form = |node: &'s Value| match resolve(node).get("anyOf") {
        Some(branches) => branches
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["type"] == "object")
            .unwrap_or_else(|| panic!("{path}: no table form")),
        None => resolve(node),
    };
    let mut node = schema;
    for segment in segments(path) {
        node = if segment == "[]" {
            &node["items"]
        } else {
            match node["properties"].get(&segment) {
                Some(property) => property,
                None => &node["additionalProperties"],
            }
        };
        node = table_form(node);
        assert!(node.is_object(), "{path}: no schema at {segment}");
    }
    node
}

fn property_names(table: &Value) -> BTreeSet<&str> {
    table["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// In every table the reader reads, the keys it asks for (which are the
/// keys it accepts there) are exactly the schema's properties of that
/// table, and the schema refuses any other key. The file visits every
/// kind of table there is.
#[test]
fn every_table_the_reader_reads_has_exactly_the_schema_keys() {
    let schema = scenario_schema();
    let (asked, errors) = keys_asked(EVERY_KEY);
    assert!(errors.is_empty(), "{errors:?}");
    for (path, keys) in &asked {
        let table = table_at(&schema, path);
        let keys: BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(keys, property_names(table), "keys of [{path}]");
        assert_eq!(
            table["additionalProperties"], false,
            "[{path}] refuses unknown keys"
        );
    }
    let paths: Vec<&str> = asked.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "",
        "target",
        "load",
        "load.stages[0]",
        "http",
        "body",
        "body.params.\"media.contentType\"",
        "body.custom_metadata",
        "body.custom_metadata.fields.\"cms.tier\"",
        "body.qoe_data",
        "body.qoe_data.fields.\"media.qoe.bitrate\"",
        "thresholds.errors",
    ] {
        assert!(paths.contains(&expected), "{expected} not read: {paths:?}");
    }
}

/// The file using every key validates, and uses every key of each table
/// whose keys are fixed; across its value settings, every way of setting
/// a value.
#[test]
fn a_file_using_every_key_validates() {
    let schema = scenario_schema();
    let document = json_of(EVERY_KEY);
    assert_eq!(problems(&document), Vec::<String>::new());
    let (asked, _) = keys_asked(EVERY_KEY);
    let mut value_setting_keys = BTreeSet::new();
    for (path, _) in &asked {
        let mut node = &document;
        for segment in segments(path) {
            node = if segment == "[]" {
                &node[0]
            } else {
                &node[&segment]
            };
        }
        let given: BTreeSet<&str> = node
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let table = table_at(&schema, path);
        if table["properties"].get("one_of").is_some() {
            value_setting_keys.extend(given);
        } else if path.starts_with("thresholds.") {
            continue;
        } else {
            assert_eq!(given, property_names(table), "[{path}] uses every key");
        }
    }
    let ways = table_at(&schema, "body.params.\"media.id\"");
    assert_eq!(value_setting_keys, property_names(ways));
}

/// The keys of the tables named by the API are the catalogues' own: every
/// param, QoE key and mutation, and nothing else.
#[test]
fn params_qoe_keys_and_mutations_are_the_catalogues() {
    let schema = scenario_schema();
    let body = &schema["properties"]["body"]["properties"];
    let params = property_names(&body["params"]);
    assert_eq!(params, spec::PARAMS.iter().map(|p| p.key).collect());
    let qoe = property_names(&body["qoe_data"]["properties"]["fields"]);
    assert_eq!(qoe, spec::QOE_KEYS.iter().map(|q| q.key).collect());
    let mutations = property_names(&body["mutations"]);
    assert_eq!(
        mutations,
        spec::Mutation::all().map(spec::Mutation::name).collect()
    );
    for table in [&body["params"], &body["mutations"]] {
        assert_eq!(table["additionalProperties"], false);
    }
}

/// A misspelt key fails validation wherever it stands, as it fails the
/// reader (which names the key it meant).
#[test]
fn a_misspelt_key_fails_validation_and_the_reader_in_every_table() {
    for (file, misspelt) in [
        ("nmae = \"x\"\n", "nmae"),
        ("[target]\nulr = \"http://h\"\n", "ulr"),
        ("[load]\nconcurency = 4\n", "concurency"),
        (
            "[load]\nstages = [{ durtion = \"1s\", rate = 5 }]\n",
            "durtion",
        ),
        ("[http]\ntimout = \"1s\"\n", "timout"),
        ("[body]\nsed = 4\n", "sed"),
        ("[body.params]\n\"media.shw\" = \"x\"\n", "media.shw"),
        (
            "[body.params]\n\"media.show\" = { presnt = 0.5 }\n",
            "presnt",
        ),
        ("[body.mutations]\n\"not_jsn\" = 1\n", "not_jsn"),
        ("[body.custom_metadata]\ngenrated = [0, 1]\n", "genrated"),
        (
            "[body.qoe_data.fields]\n\"media.qoe.bitrat\" = 5\n",
            "media.qoe.bitrat",
        ),
        ("[thresholds]\nerrors = { chek = \"< 1%\" }\n", "chek"),
    ] {
        assert!(
            !problems(&json_of(file)).is_empty(),
            "{misspelt} passed the schema"
        );
        let (_, errors) = keys_asked(file);
        assert!(
            errors.iter().any(|e| e.key.contains(misspelt)),
            "{misspelt} passed the reader: {errors:?}"
        );
    }
}

/// Values the reader refuses on their own, the schema refuses too. (Limits
/// and the threshold grammar are the validation step's.)
#[test]
fn values_the_reader_refuses_fail_validation() {
    for file in [
        "[load]\nconcurrency = \"8\"\n",
        "[load]\nduration = \"soon\"\n",
        "[load]\nduration = 30\n",
        "[target]\nrules = \"lenient\"\n",
        "[target]\nurl = \"ftp://h\"\n",
        "[body.params]\n\"media.length\" = { pattern = \"x\" }\n",
        "[body.params]\n\"media.streamType\" = \"tape\"\n",
        "[body.params]\n\"media.downloaded\" = true\n",
        "[body.params]\n\"media.id\" = { present = 0.5 }\n",
        "[body.params]\n\"visitor.customerIDs\" = \"x\"\n",
        "[body.params]\n\"media.show\" = { weights = [1] }\n",
        "[body.custom_metadata.fields]\n\"media.x\" = \"y\"\n",
        "[body.custom_metadata.fields]\n\"x\" = { present = 0.5 }\n",
    ] {
        assert!(!problems(&json_of(file)).is_empty(), "passed: {file}");
        let (_, errors) = keys_asked(file);
        assert!(!errors.is_empty(), "the reader took: {file}");
    }
}

/// Each key has a description, and the defaults are the scenario's.
#[test]
fn every_key_is_described_and_defaults_are_the_scenarios() {
    fn walk(node: &Value, at: &str) {
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let here = format!("{at}.{name}");
                assert!(
                    property["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{here} has no description"
                );
                walk(property, &here);
            }
        }
        for child in ["items", "additionalProperties"] {
            if let Some(c) = node.get(child).filter(|c| c.is_object()) {
                walk(c, at);
            }
        }
        if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            branches.iter().for_each(|b| walk(b, at));
        }
    }
    let schema = scenario_schema();
    walk(&schema, "");
    for (name, def) in schema["$defs"].as_object().unwrap() {
        walk(def, name);
    }
    let load = &schema["properties"]["load"]["properties"];
    assert_eq!(load["concurrency"]["default"], super::DEFAULT_CONCURRENCY);
    assert_eq!(load["duration"]["default"], "10s");
    assert_eq!(
        schema["properties"]["http"]["properties"]["timeout"]["default"],
        humantime::format_duration(super::DEFAULT_TIMEOUT).to_string()
    );
    assert_eq!(
        schema["properties"]["target"]["properties"]["rules"]["default"],
        "strict"
    );
}
