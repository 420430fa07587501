use serde_json::Value;

use crate::util::{Serve, assert_accounted, http, run, scenario};

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
    assert_eq!(run.code(), 0, "{}", run.stderr());
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
