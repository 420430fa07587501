use std::collections::BTreeSet;

use crate::util::{Serve, assert_accounted, mcload, repo, run, scenario};

#[test]
fn sample_at_invalid_share_one_prints_only_rejected_bodies_each_named() {
    let output = mcload()
        .args([
            "sample",
            "scenarios/smoke.toml",
            "--invalid-share",
            "1",
            "--label",
            "--count",
            "3000",
            "--seed",
            "11",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let (name, body) = line.split_once('\t').expect("KIND<TAB>BODY");
        assert_ne!(name, "valid");
        assert!(
            mcload::spec::validate_bytes(body.as_bytes(), mcload::spec::RuleSet::Strict).is_err(),
            "{name} is accepted: {body}"
        );
        names.insert(name.to_string());
    }
    assert_eq!(text.lines().count(), 3000);
    let all: BTreeSet<String> = mcload::spec::MUTATIONS
        .iter()
        .map(|m| m.name.to_string())
        .collect();
    assert_eq!(names, all, "every mutation appears");
}

#[test]
fn a_quarter_invalid_against_the_reference_server_passes_every_check() {
    let s = scenario(
        "checks-quarter",
        "[load]\nconcurrency = 8\n[body]\nseed = 3\ninvalid_share = 0.25\n",
    );
    let r = run(&s, &["--requests", "20000"]);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r);
    let invalid = r.count("/bodies/invalid");
    assert!((4_500..5_500).contains(&invalid), "{invalid}");
    assert_eq!(r.count("/status/400"), invalid);
    assert_eq!(r.count("/status/201"), r.count("/bodies/valid"));
    assert_eq!(r.count("/bodies/valid") + invalid, 20_000);
    let by_mutation: u64 = r.json["bodies"]["by_mutation"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_mutation, invalid);
    for check in [
        "valid_rejected",
        "invalid_accepted",
        "unexpected_status",
        "location_invalid",
        "duplicate_session_ids",
    ] {
        assert_eq!(r.count(&format!("/checks/{check}")), 0, "{check}");
    }
    assert!(
        r.stdout().contains("checks     valid_rejected 0"),
        "{}",
        r.stdout()
    );
}

#[test]
fn each_check_counts_exactly_what_a_misbehaving_server_did_wrong() {
    let server = Serve::start(&[
        "--reject-valid",
        "0.05",
        "--accept-invalid",
        "0.2",
        "--bad-location",
        "0.03",
        "--repeat-id",
        "0.02",
        "--error-rate",
        "0.01",
    ]);
    let s = scenario(
        "checks-faults",
        "[load]\nconcurrency = 8\n[body]\nseed = 8\ninvalid_share = 0.2\n",
    );
    let r = run(&s, &["--target", &server.url(), "--requests", "20000"]);
    assert_eq!(r.code(), 1, "a failed check exits 1: {}", r.stderr());
    assert_accounted(&r);
    // Exact comparisons need every answer: an answer mcload never saw
    // cannot be checked.
    for error in ["connect", "timeout", "io", "protocol"] {
        assert_eq!(r.count(&format!("/errors/{error}")), 0, "{error}");
    }
    let stats = server.stats();
    let faults = &stats["faults"];
    let fault = |name: &str| faults[name].as_u64().unwrap();
    assert!(
        fault("rejected_valid") > 0 && fault("repeated_id") > 0,
        "{stats}"
    );
    assert_eq!(r.count("/checks/valid_rejected"), fault("rejected_valid"));
    assert_eq!(
        r.count("/checks/invalid_accepted"),
        fault("accepted_invalid")
    );
    assert_eq!(r.count("/checks/location_invalid"), fault("bad_location"));
    assert_eq!(
        r.count("/checks/duplicate_session_ids"),
        fault("repeated_id")
    );
    assert_eq!(
        r.count("/checks/unexpected_status"),
        stats["500"].as_u64().unwrap()
    );
    // Samples name the status, the kind of body and the Location.
    let sample = &r.json["check_samples"]["invalid_accepted"][0];
    assert_eq!(sample["status"], 201);
    assert_ne!(sample["kind"], "valid");
    let sample = &r.json["check_samples"]["location_invalid"][0];
    assert_eq!(sample["location"], "/api/v1/sessions/");
    let out = r.stdout();
    for check in [
        "valid_rejected",
        "invalid_accepted",
        "location_invalid",
        "duplicate_session_ids",
    ] {
        assert!(out.contains(&format!("✗ {check}")), "{check}: {out}");
    }
}

#[test]
fn unknown_mutation_names_are_scenario_errors_with_a_hint() {
    let s = scenario(
        "checks-bad-mutation",
        "[body]\ninvalid_share = 0.1\n[body.mutations]\n\"missing:params.media.idd\" = 1\n",
    );
    let output = mcload().arg("validate").arg(&s).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains(":4:1:"), "{err}");
    assert!(
        err.contains("did you mean \"missing:params.media.id\"?"),
        "{err}"
    );
}
