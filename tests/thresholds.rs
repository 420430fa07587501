//! Thresholds and the default verdict: `[thresholds]` and `--threshold`
//! judged after the run, in the text summary, the JSON report and the exit
//! code; mistakes in an expression refused before anything is sent.

use serde_json::Value;

use crate::util::{Serve, aimed, execute, mcload, parse, run, scenario};

/// The judged threshold whose expression is `expression`.
fn threshold<'j>(json: &'j Value, expression: &str) -> &'j Value {
    json["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["expression"] == expression)
        .unwrap_or_else(|| panic!("no threshold {expression} in {}", json["thresholds"]))
}

#[test]
fn a_threshold_that_holds_passes_and_the_json_holds_it_with_its_measured_value() {
    let smoke = crate::util::repo().join("scenarios/smoke.toml");
    let r = run(
        &smoke,
        &["--requests", "300", "--threshold", "latency.p99 < 10s"],
    );
    assert_eq!(r.code(), 0, "{}{}", r.stdout(), r.stderr());
    let t = threshold(&r.json, "latency.p99 < 10s");
    assert_eq!(t["metric"], "latency.p99");
    assert_eq!(
        (t["operator"].as_str(), t["unit"].as_str()),
        (Some("<"), Some("ms"))
    );
    assert_eq!(t["limit"], 10_000.0);
    assert_eq!(t["pass"], true);
    assert_eq!(t["source"], "--threshold");
    let measured = t["measured"].as_f64().unwrap();
    assert!(measured > 0.0 && measured == r.json["latency_ms"]["p99"].as_f64().unwrap());
    // The default verdict is judged too, and shown as such.
    let d = threshold(&r.json, "unexpected <= 1%");
    assert_eq!(
        (d["source"].as_str(), d["pass"].as_bool()),
        (Some("default"), Some(true))
    );
    assert_eq!(
        r.json["verdict"],
        serde_json::json!({"pass": true, "causes": []})
    );
    let text = r.stdout();
    assert!(
        text.contains("latency.p99 < 10s") && text.contains("PASS  --threshold"),
        "{text}"
    );
    assert!(
        text.contains("unexpected <= 1%") && text.contains("(default)"),
        "{text}"
    );
    assert!(text.contains("verdict    passed ✓"), "{text}");
}

#[test]
fn a_slow_target_fails_its_latency_threshold_and_every_output_names_it() {
    let server = Serve::start(&["--latency", "30ms"]);
    let file = scenario(
        "slow",
        &aimed(&server.url(), "[load]\nconcurrency = 4\nrequests = 24\n"),
    );
    let junit = crate::util::temp_dir("junit").join("junit.xml");
    let r = run(
        &file,
        &[
            "--threshold",
            "latency.p99 < 5ms",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code(), 1, "{}{}", r.stdout(), r.stderr());
    // JUnit: one case per threshold and per check; the failure says the
    // measured value and the limit.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suite = &report.test_suites[0];
    assert_eq!((suite.tests, suite.failures), (2 + 5, 1), "{xml}");
    let case = |name: &str| {
        suite
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("no case {name} in {xml}"))
    };
    match &case("latency.p99 < 5ms").status {
        quick_junit::TestCaseStatus::NonSuccess { message, .. } => {
            let message = message.as_ref().unwrap().as_str();
            assert!(
                message.starts_with("measured ")
                    && message.contains(" ms; limit < 5ms (--threshold)"),
                "{message}"
            );
        }
        other => panic!("the failed threshold is a failed case: {other:?}"),
    }
    for name in [
        "unexpected <= 1%",
        "checks.valid_rejected",
        "checks.duplicate_session_ids",
    ] {
        assert!(
            matches!(
                case(name).status,
                quick_junit::TestCaseStatus::Success { .. }
            ),
            "{name}"
        );
    }
    let t = threshold(&r.json, "latency.p99 < 5ms");
    assert_eq!(t["pass"], false);
    assert!(t["measured"].as_f64().unwrap() >= 30.0, "{t}");
    assert_eq!(r.json["verdict"]["pass"], false);
    let causes = r.json["verdict"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes[0]["kind"], "threshold");
    assert_eq!(causes[0]["threshold"], "latency.p99 < 5ms");
    assert!(
        r.stderr()
            .contains("mcload: threshold failed: latency.p99 < 5ms (measured "),
        "{}",
        r.stderr()
    );
    let text = r.stdout();
    assert!(text.contains("FAIL  --threshold"), "{text}");
    assert!(
        text.contains("verdict    FAILED: threshold failed: latency.p99 < 5ms"),
        "{text}"
    );
    assert!(
        !text.contains('✓') && !text.contains("passed"),
        "no pass mark in a failed run:\n{text}"
    );
}

#[test]
fn a_malformed_threshold_exits_2_naming_the_mistake_and_nothing_is_sent() {
    let server = Serve::start(&[]);
    let file = scenario(
        "bad-threshold",
        &aimed(&server.url(), "[load]\nrequests = 10\n"),
    );
    for (expression, says) in [
        ("latency.p99 <", "`latency.p99 <`: no value after `<`"),
        (
            "latency.p99 < 5%",
            "`latency.p99` takes a duration such as 300us, 250ms or 1.5s; `5%` is a share",
        ),
        ("lateny.p99 < 5ms", "unknown metric `lateny.p99`"),
    ] {
        let out = mcload()
            .arg("run")
            .arg(&file)
            .args(["--threshold", expression])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{expression}: {stderr}");
        assert!(
            stderr.contains("--threshold: ") && stderr.contains(says),
            "{expression}: {stderr}"
        );
        if expression.starts_with("lateny") {
            assert!(stderr.contains("did you mean `latency.p99`?"), "{stderr}");
        }
    }
    assert_eq!(
        server.stats()["requests"],
        0,
        "the target counted no request"
    );
}

#[test]
fn a_path_that_answers_404_fails_the_default_verdict_naming_unexpected() {
    let server = Serve::start(&[]);
    let file = scenario(
        "not-found",
        &aimed(
            &server.url(),
            "path = \"/nope\"\n[load]\nconcurrency = 2\nrequests = 50\n",
        ),
    );
    let r = run(&file, &[]);
    assert_eq!(r.code(), 1, "{}{}", r.stdout(), r.stderr());
    assert_eq!(r.count("/status/other/404"), 50);
    let d = threshold(&r.json, "unexpected <= 1%");
    assert_eq!(
        (d["pass"].as_bool(), d["measured"].as_f64()),
        (Some(false), Some(100.0))
    );
    assert_eq!(
        r.json["verdict"]["causes"][0]["threshold"],
        "unexpected <= 1%"
    );
    assert!(
        r.stderr()
            .contains("threshold failed: unexpected <= 1% (measured 100.00%; default)"),
        "{}",
        r.stderr()
    );
    assert!(!r.stdout().contains('✓'), "{}", r.stdout());

    // `defaults = false` turns the default off: the same run passes.
    let off = execute(&aimed(
        &server.url(),
        "path = \"/nope\"\n[load]\nconcurrency = 2\nrequests = 20\n[thresholds]\ndefaults = false\n",
    ));
    assert_eq!(off.code(), 0, "{}{}", off.stdout(), off.stderr());
    assert_eq!(off.json["thresholds"], serde_json::json!([]));
}

#[test]
fn file_thresholds_are_judged_with_their_line_and_windows_name_the_worst() {
    let r = execute(
        "[load]\nconcurrency = 2\nrequests = 400\n\n[thresholds]\n\
         \"latency.p99 over 1s\" = \"< 10s\"\n\
         \"status.201\" = { check = \">= 99.5%\" }\n\
         \"requests\" = \"== 400\"\n\
         \"unexpected\" = \"== 0\"\n\
         \"rate\" = \"> 1000000/s\"\n",
    );
    assert_eq!(r.code(), 1, "the rate threshold fails: {}", r.stdout());
    let window = threshold(&r.json, "latency.p99 over 1s < 10s");
    assert_eq!(window["pass"], true);
    assert_eq!(window["source"], "test.toml:6");
    assert_eq!(window["window"]["duration_s"], 1);
    assert!(window["window"]["worst_t"].is_u64(), "{window}");
    assert_eq!(threshold(&r.json, "status.201 >= 99.5%")["measured"], 100.0);
    assert_eq!(threshold(&r.json, "requests == 400")["pass"], true);
    let unexpected = threshold(&r.json, "unexpected == 0");
    assert_eq!(
        (unexpected["pass"].as_bool(), unexpected["source"].as_str()),
        (Some(true), Some("test.toml:9"))
    );
    assert!(
        r.json["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["source"] != "default"),
        "a threshold on unexpected replaces the default"
    );
    let causes = r.json["verdict"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0]["threshold"], "rate > 1000000/s");
}

#[test]
fn mistakes_in_the_thresholds_table_are_located_at_the_key_or_the_value() {
    let text = "[thresholds]\n\"lateny.p99\" = \"< 5ms\"\n\"latency.p99\" = \"< 5%\"\n\"errors\" = { limit = \"< 5%\" }\ndefaults = \"no\"\n";
    let e = mcload::scenario::Scenario::parse(text, "t.toml", None).unwrap_err();
    let shown: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(shown.len(), 5, "{shown:#?}");
    assert!(
        shown[0].starts_with("t.toml:2:1: `thresholds.lateny.p99`: unknown metric `lateny.p99`"),
        "{}",
        shown[0]
    );
    assert!(shown[0].contains("did you mean `latency.p99`?"));
    assert!(
        shown[1]
            .starts_with("t.toml:3:17: `thresholds.latency.p99`: `latency.p99` takes a duration"),
        "{}",
        shown[1]
    );
    assert!(
        shown[2].contains("t.toml:4:") && shown[2].contains("needs `check`"),
        "{}",
        shown[2]
    );
    assert!(
        shown[3].contains("unknown key")
            && shown[3].contains("known keys here: abort, after, check"),
        "{}",
        shown[3]
    );
    assert!(
        shown[4].starts_with("t.toml:5:12: `thresholds.defaults`: expected true or false"),
        "{}",
        shown[4]
    );
    // The same grammar on the command line and in the file.
    let ok = parse("[thresholds]\n\"latency.p99\" = \"< 250ms\"\n");
    assert_eq!(ok.thresholds.len(), 2, "the file's and the default");
}

#[test]
fn an_abort_threshold_stops_the_run_early_with_a_full_report_and_exit_1() {
    let server = Serve::start(&["--error-rate", "0.5"]);
    let file = scenario(
        "abort",
        &aimed(
            &server.url(),
            "[load]\nconcurrency = 2\nduration = \"30s\"\n[thresholds]\n\
             \"status.500\" = { check = \"< 5%\", abort = true, after = \"1s\" }\n",
        ),
    );
    let started = std::time::Instant::now();
    let r = run(&file, &[]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "stopped early"
    );
    assert_eq!(r.code(), 1, "{}{}", r.stdout(), r.stderr());
    assert_eq!(r.json["interrupted"], false, "an abort is not an interrupt");
    assert_eq!(
        r.json["accounted"], true,
        "every request started is accounted for"
    );
    let t = threshold(&r.json, "status.500 < 5%");
    assert_eq!(t["abort"]["stopped_run"], true, "{t}");
    assert_eq!(t["abort"]["after_s"], 1.0);
    let causes = r.json["verdict"]["causes"].as_array().unwrap();
    assert_eq!(causes[0]["kind"], "abort", "{causes:?}");
    assert_eq!(causes[0]["threshold"], "status.500 < 5%");
    assert!(
        causes
            .iter()
            .filter(|c| c["threshold"] == "status.500 < 5%")
            .count()
            == 1,
        "said once: {causes:?}"
    );
    assert!(r.stdout().contains("STOPPED EARLY at "), "{}", r.stdout());
    assert!(
        r.stderr().contains("mcload: stopped early at "),
        "{}",
        r.stderr()
    );
    assert!(r.json["duration_s"].as_f64().unwrap() < 15.0);
}

#[test]
fn abort_needs_a_metric_the_series_keeps_and_after_needs_abort() {
    let text = "[thresholds]\n\"unexpected\" = { check = \"< 1%\", abort = true }\n\"errors\" = { check = \"< 1%\", after = \"5s\" }\n";
    let e = mcload::scenario::Scenario::parse(text, "t.toml", None).unwrap_err();
    let shown: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(shown[0].starts_with("t.toml:2:"), "{}", shown[0]);
    assert!(
        shown[0].contains("`unexpected` is judged after the run, so it cannot stop it early"),
        "{}",
        shown[0]
    );
    assert!(
        shown[1].starts_with("t.toml:3:") && shown[1].contains("needs `abort = true`"),
        "{}",
        shown[1]
    );
    let ok = parse(
        "[thresholds]\n\"latency.p99 over 5s\" = { check = \"< 1s\", abort = true, after = \"10s\" }\n",
    );
    assert_eq!(
        ok.thresholds[0].abort,
        Some(std::time::Duration::from_secs(10))
    );
}

#[test]
fn a_broken_check_is_a_failed_junit_case_and_a_cause_of_its_own() {
    let server = Serve::start(&["--bad-location", "1"]);
    let file = scenario(
        "bad-location",
        &aimed(&server.url(), "[load]\nrequests = 20\n"),
    );
    let junit = crate::util::temp_dir("junit").join("junit.xml");
    let r = run(&file, &["--junit", junit.to_str().unwrap()]);
    assert_eq!(r.code(), 1, "{}{}", r.stdout(), r.stderr());
    let causes = r.json["verdict"]["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(
        (
            causes[0]["kind"].as_str(),
            causes[0]["check"].as_str(),
            causes[0]["count"].as_u64()
        ),
        (Some("check"), Some("location_invalid"), Some(20))
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let case = report.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "checks.location_invalid")
        .unwrap();
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess { message, .. } => {
            let message = message.as_ref().unwrap().as_str();
            assert!(
                message.starts_with("measured 20; limit == 0 (e.g. 201 for a valid body"),
                "{message}"
            );
        }
        other => panic!("a broken check is a failed case: {other:?}"),
    }
    assert_eq!(report.test_suites[0].failures, 1, "{xml}");
}
