use serde_json::Value;

use crate::util::{Serve, assert_accounted, assert_fails_unexpected, http, run, scenario};

/// A valid body from mcload's own generator.
fn valid_body() -> Vec<u8> {
    let s = mcload::scenario::Scenario::parse("", "t.toml", None).unwrap();
    let mut body = Vec::new();
    mcload::generate::BodyGenerator::new(&s.body, 1).write(0, 1_700_000_000_000, &mut body);
    body
}

#[test]
fn the_reference_server_answers_as_the_api_documents() {
    let serve = Serve::start(&[]);
    let body = valid_body();

    let created = http(serve.addr, "POST", "/api/v1/sessions", &body);
    assert_eq!(created.status, 201);
    let location = created.header("Location").unwrap();
    let id = location.strip_prefix("/api/v1/sessions/").unwrap();
    assert_eq!(id.len(), 64);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{id}"
    );
    assert_eq!(created.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        created.header("Access-Control-Allow-Methods"),
        Some("OPTIONS,POST,PUT")
    );
    assert_eq!(
        created.header("Access-Control-Allow-Headers"),
        Some("Content-Type")
    );
    assert_eq!(
        created.header("Access-Control-Expose-Headers"),
        Some("Location")
    );
    assert_eq!(created.header("Content-Length"), Some("0"));

    let again = http(serve.addr, "POST", "/api/v1/sessions", &body);
    assert_ne!(
        again.header("Location"),
        Some(location),
        "every session gets a fresh id"
    );

    let mut missing: Value = serde_json::from_slice(&body).unwrap();
    missing["params"]
        .as_object_mut()
        .unwrap()
        .remove("media.id");
    let rejected = http(
        serve.addr,
        "POST",
        "/api/v1/sessions",
        missing.to_string().as_bytes(),
    );
    assert_eq!(rejected.status, 400);
    let error: Value = serde_json::from_slice(&rejected.body).unwrap();
    assert_eq!(error["error"], "missing_param");
    assert_eq!(error["field"], "params.media.id");
    assert_eq!(error["message"], "params.media.id is a required param");

    let not_json = http(serve.addr, "POST", "/api/v1/sessions", b"{oops");
    assert_eq!(not_json.status, 400);
    let error: Value = serde_json::from_slice(&not_json.body).unwrap();
    assert_eq!(error["error"], "not_json");

    assert_eq!(http(serve.addr, "GET", "/nowhere", b"").status, 404);

    let stats = serve.stats();
    assert_eq!(stats["requests"], 5);
    assert_eq!(stats["201"], 2);
    assert_eq!(stats["400"], 2);
    assert_eq!(stats["500"], 0);
    assert_eq!(stats["other"], 1);

    let (code, printed) = serve.stop();
    assert_eq!(code, Some(0));
    assert!(printed.contains("\"requests\":5"), "{printed}");
}

#[test]
fn injected_errors_are_counted_alike_by_server_and_harness() {
    let serve = Serve::start(&["--error-rate", "0.25"]);
    let s = scenario("serve-errors", "[load]\nconcurrency = 8\n");
    let run = run(&s, &["--target", &serve.url(), "--requests", "4000"]);
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    let stats = serve.stats();
    assert_eq!(stats["requests"], 4_000);
    assert_eq!(run.count("/status/500"), stats["500"].as_u64().unwrap());
    assert_eq!(run.count("/status/201"), stats["201"].as_u64().unwrap());
    let errors = run.count("/status/500");
    assert!((800..1_200).contains(&errors), "25% of 4000 gave {errors}");
}

#[test]
fn injected_latency_shows_in_the_measured_latency() {
    let serve = Serve::start(&["--latency", "30ms"]);
    let s = scenario("serve-latency", "[load]\nconcurrency = 4\n");
    let run = run(&s, &["--target", &serve.url(), "--requests", "40"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let p50 = run.json["latency_ms"]["p50"].as_f64().unwrap();
    let min = run.json["latency_ms"]["min"].as_f64().unwrap();
    assert!(min >= 30.0, "no answer comes before the delay: {min}");
    assert!(p50 < 100.0, "{p50}");
}

/// The "Sessions request" page's sample body, its `...` placeholder lines
/// removed so that it is JSON.
const PAGE_SAMPLE: &[u8] = include_bytes!("fixtures/sessions-page-sample.json");

#[test]
fn the_page_sample_is_created_under_documented_rules_and_rejected_at_qoe_data_param1_under_strict()
{
    let documented = Serve::start(&["--rules", "documented"]);
    let created = http(documented.addr, "POST", "/api/v1/sessions", PAGE_SAMPLE);
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    assert!(
        created
            .header("Location")
            .is_some_and(|l| l.starts_with("/api/v1/sessions/"))
    );
    // What the documents state still holds under documented rules.
    let mut no_event: Value = serde_json::from_slice(PAGE_SAMPLE).unwrap();
    no_event["eventType"] = Value::from("play");
    let rejected = http(
        documented.addr,
        "POST",
        "/api/v1/sessions",
        no_event.to_string().as_bytes(),
    );
    assert_eq!(rejected.status, 400);
    let stats = documented.stats();
    assert_eq!(
        (stats["201"].as_u64(), stats["400"].as_u64()),
        (Some(1), Some(1))
    );

    // Strict is the default.
    for flags in [&["--rules", "strict"][..], &[]] {
        let strict = Serve::start(flags);
        let rejected = http(strict.addr, "POST", "/api/v1/sessions", PAGE_SAMPLE);
        assert_eq!(rejected.status, 400, "{flags:?}");
        let error: Value = serde_json::from_slice(&rejected.body).unwrap();
        assert_eq!(error["error"], "unknown_qoe_key");
        assert_eq!(error["field"], "qoeData.param1");
        assert_eq!(error["message"], "qoeData.param1 is not a known QoE key");
    }
}

#[test]
fn a_fractional_playhead_is_created_under_either_rule_set() {
    let mut body: Value = serde_json::from_slice(&valid_body()).unwrap();
    body["playerTime"]["playhead"] = Value::from(12.375);
    let body = body.to_string();
    for rules in ["strict", "documented"] {
        let serve = Serve::start(&["--rules", rules]);
        let answer = http(serve.addr, "POST", "/api/v1/sessions", body.as_bytes());
        assert_eq!(
            answer.status,
            201,
            "{rules}: {}",
            String::from_utf8_lossy(&answer.body)
        );
    }
}

#[test]
fn an_unknown_rule_set_is_a_usage_error() {
    let output = crate::util::mcload()
        .args(["serve", "--listen", "127.0.0.1:0", "--rules", "lenient"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("strict") && stderr.contains("documented"),
        "{stderr}"
    );
}

#[test]
fn the_banner_names_the_rule_set() {
    use std::io::BufRead;
    for (flags, expected) in [
        (&["--rules", "documented"][..], "  rules: documented ("),
        (&[], "  rules: strict ("),
    ] {
        let mut child = crate::util::mcload()
            .args(["serve", "--listen", "127.0.0.1:0", "--threads", "1"])
            .args(flags)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let banner: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            banner[0].contains("listening on http://127.0.0.1:"),
            "{banner:?}"
        );
        assert!(banner[2].starts_with(expected), "{banner:?}");
    }
}
