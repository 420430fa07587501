use serde_json::Value;

use crate::util::{execute, mcload, repo, schema_errors};

/// `schema/report.schema.json` is what `mcload schema report` prints, so
/// the checked-in copy never drifts from the report's types.
#[test]
fn the_checked_in_report_schema_is_what_mcload_schema_report_prints() {
    let out = mcload().args(["schema", "report"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let checked_in = std::fs::read_to_string(repo().join("schema/report.schema.json")).unwrap();
    assert!(
        printed == checked_in,
        "schema/report.schema.json is out of date with the report's types; regenerate it with\n  \
         cargo run -- schema report > schema/report.schema.json"
    );
    let schema: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(schema["title"], "mcload.report/v1");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

/// A report with every optional part: a warm-up, per-second intervals,
/// the embedded server's counts, invalid bodies by mutation, thresholds
/// (a window, an abort, one with nothing to measure, one that fails) and
/// the verdict's causes. It validates, and the schema holds each key it
/// has.
fn full_report() -> Value {
    let run = execute(
        "[load]\nconcurrency = 4\nthreads = 1\nduration = \"1200ms\"\nwarmup = \"300ms\"\n\
         [body]\nseed = 9\ninvalid_share = 0.3\n\
         [thresholds]\n\
         \"latency.p99\" = \"< 10s\"\n\
         \"latency.p99 over 1s\" = \"< 10s\"\n\
         \"latency.status.500.p99\" = \"< 10s\"\n\
         \"service_time.p50\" = \"< 1us\"\n\
         \"errors\" = { check = \"< 5%\", abort = true, after = \"1s\" }\n",
    );
    run.json
}

#[test]
fn a_report_with_every_optional_part_validates_against_the_schema() {
    let json = full_report();
    // The parts this test is about are really there.
    assert!(json["warmup"]["requests"]["scheduled"].as_u64().unwrap() > 0);
    assert!(!json["intervals"].as_array().unwrap().is_empty());
    assert_eq!(json["server"]["check"], "equal", "{}", json["server"]);
    assert!(
        !json["bodies"]["by_mutation"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    let thresholds = json["thresholds"].as_array().unwrap();
    assert!(thresholds.iter().any(|t| t["window"].is_object()));
    assert!(thresholds.iter().any(|t| t["abort"].is_object()));
    assert!(thresholds.iter().any(|t| t["measured"].is_null()));
    assert_eq!(json["verdict"]["pass"], false);
    assert_eq!(json["verdict"]["causes"][0]["kind"], "threshold");
    assert_eq!(schema_errors(&json), Vec::<String>::new());

    // What may be null validates as null: a second without answers.
    let mut quiet_second = json.clone();
    quiet_second["intervals"][0]["latency_ms"] = Value::Null;
    assert_eq!(schema_errors(&quiet_second), Vec::<String>::new());
}

/// A wrong type, a missing required key, a null where a value must be,
/// a name off a closed list and a foreign schema tag each fail, naming
/// where.
#[test]
fn reports_with_a_wrong_type_or_a_missing_key_do_not_validate() {
    let json = full_report();
    type Edit = fn(&mut Value);
    let broken: [(&str, Edit); 7] = [
        ("/requests/scheduled", |j| {
            j["requests"]["scheduled"] = "many".into()
        }),
        ("", |j| {
            j.as_object_mut().unwrap().remove("verdict");
        }),
        ("/warmup", |j| {
            j["warmup"].as_object_mut().unwrap().remove("latency_ms");
        }),
        // `null` is what a run with no answer writes; a string never is.
        ("/latency_ms/p99", |j| {
            j["latency_ms"]["p99"] = "fast".into()
        }),
        ("/verdict/causes/0/kind", |j| {
            j["verdict"]["causes"][0]["kind"] = "oops".into()
        }),
        ("/checks", |j| {
            j["checks"]
                .as_object_mut()
                .unwrap()
                .remove("valid_rejected");
        }),
        ("/schema", |j| j["schema"] = "mcload.report/v2".into()),
    ];
    for (pointer, edit) in broken {
        let mut bad = json.clone();
        edit(&mut bad);
        let errors = schema_errors(&bad);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{pointer}: "))),
            "an error at {pointer:?}, got {errors:?}"
        );
    }
}
