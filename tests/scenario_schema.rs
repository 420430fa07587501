//! The scenario files' JSON Schema (`mcload schema scenario`): the
//! checked-in copy, every shipped scenario valid against it, a misspelt key
//! refused, and the editor wiring (`#:schema`, `taplo.toml`).

use serde_json::Value;

use crate::util::{mcload, repo, scenario};

/// `schema/scenario.schema.json`, compiled.
fn compiled() -> (boon::Schemas, boon::SchemaIndex) {
    let path = repo().join("schema/scenario.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("scenario.schema.json", schema)
        .unwrap();
    let index = compiler
        .compile("scenario.schema.json", &mut schemas)
        .unwrap();
    (schemas, index)
}

/// What the schema finds wrong with the TOML `text`, one line each.
fn schema_errors(text: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(text).expect("valid TOML");
    let document = serde_json::to_value(table).unwrap();
    let (schemas, index) = compiled();
    match schemas.validate(&document, index) {
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

#[test]
fn the_checked_in_scenario_schema_is_what_mcload_schema_scenario_prints() {
    let out = mcload().args(["schema", "scenario"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    let checked_in = std::fs::read_to_string(repo().join("schema/scenario.schema.json")).unwrap();
    assert!(
        printed == checked_in,
        "schema/scenario.schema.json is out of date with the scenario reader; regenerate it with\n  \
         cargo run -- schema scenario > schema/scenario.schema.json"
    );
    let schema: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["additionalProperties"], false);
}

/// Every file in `scenarios/` and the CI example validate.
#[test]
fn every_shipped_scenario_validates_against_the_schema() {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    files.push(repo().join("examples/ci/scenario.toml"));
    for file in files {
        let errors = schema_errors(&std::fs::read_to_string(&file).unwrap());
        assert!(
            errors.is_empty(),
            "{}:\n{}",
            file.display(),
            errors.join("\n")
        );
    }
}

/// A misspelt key fails the schema's validation, as it fails `mcload
/// validate` (exit 2, with the key it meant).
#[test]
fn a_scenario_with_a_misspelt_key_fails_validation() {
    let smoke = std::fs::read_to_string(repo().join("scenarios/smoke.toml")).unwrap();
    let misspelt = smoke.replacen("duration =", "duraton =", 1);
    assert_ne!(misspelt, smoke, "smoke.toml sets a duration");
    let errors = schema_errors(&misspelt);
    assert!(errors.iter().any(|e| e.contains("/load")), "{errors:?}");
    let out = mcload()
        .arg("validate")
        .arg(scenario("misspelt", &misspelt))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `duration`?"));
}

/// The `#:schema` line editors read is a TOML comment to mcload.
#[test]
fn a_schema_comment_on_the_first_line_is_accepted() {
    let smoke = std::fs::read_to_string(repo().join("scenarios/smoke.toml")).unwrap();
    let with_line = format!("#:schema ./schema/scenario.schema.json\n{smoke}");
    let out = mcload()
        .arg("validate")
        .arg(scenario("schema-line", &with_line))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `taplo.toml` maps the scenario files to the checked-in schema.
#[test]
fn taplo_toml_points_the_scenarios_at_the_schema() {
    let taplo: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo().join("taplo.toml")).unwrap()).unwrap();
    let rules = taplo["rule"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|r| {
            r["include"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i.as_str() == Some("scenarios/*.toml"))
        })
        .expect("a rule for scenarios/*.toml");
    let path = rule["schema"]["path"].as_str().unwrap();
    assert_eq!(path, "./schema/scenario.schema.json");
    assert!(repo().join(path).is_file());
}
