use std::collections::BTreeSet;

use mcload::run::RunOptions;
use mcload::spec::{Mutation, RuleSet};

use crate::util::{Run, Serve, aimed, assert_accounted, execute, mcload, parse, repo, scenario};

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
    let r = execute(
        "[load]\nconcurrency = 8\nrequests = 8000\n[body]\nseed = 3\ninvalid_share = 0.25\n",
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r);
    let invalid = r.count("/bodies/invalid");
    assert!((1_800..2_200).contains(&invalid), "{invalid}");
    assert_eq!(r.count("/status/400"), invalid);
    assert_eq!(r.count("/status/201"), r.count("/bodies/valid"));
    assert_eq!(r.count("/bodies/valid") + invalid, 8_000);
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
    let r = execute(&aimed(
        &server.url(),
        "[load]\nconcurrency = 8\nrequests = 10000\n[body]\nseed = 8\ninvalid_share = 0.2\n",
    ));
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
fn weaker_mutations_accepted_by_a_documented_target_are_not_counted_as_invalid_accepted() {
    // A server that accepts every body: under the strict rules each invalid
    // body accepted is a broken contract; under the documented rules only
    // those whose mutation breaks a rule the API page states.
    let server = Serve::start(&["--accept-invalid", "1"]);
    let text = aimed(
        &server.url(),
        "[load]\nconcurrency = 4\nrequests = 3000\n[body]\nseed = 4\ninvalid_share = 1\n",
    );
    let strong: Vec<&str> = Mutation::all()
        .filter(|m| m.rejected_by(RuleSet::Documented))
        .map(Mutation::name)
        .collect();
    assert!(
        strong.len() < mcload::spec::MUTATIONS.len(),
        "some are weaker"
    );
    for rules in [RuleSet::Strict, RuleSet::Documented] {
        let mut scenario = parse(&text);
        scenario.target.rules = rules;
        let result = mcload::run::execute(&scenario, RunOptions::default()).unwrap();
        let r = Run::from_result(&result);
        assert_accounted(&r);
        assert_eq!(r.count("/status/201"), 3_000, "every body is accepted");
        let by_mutation = r.json["bodies"]["by_mutation"].as_object().unwrap();
        let of_strong: u64 = by_mutation
            .iter()
            .filter(|(name, _)| strong.contains(&name.as_str()))
            .map(|(_, n)| n.as_u64().unwrap())
            .sum();
        let expected = match rules {
            RuleSet::Strict => 3_000,
            RuleSet::Documented => of_strong,
        };
        assert!(0 < of_strong && of_strong < 3_000, "{by_mutation:?}");
        assert_eq!(r.count("/checks/invalid_accepted"), expected, "{rules:?}");
        assert_eq!(r.count("/checks/unexpected_status"), 0, "{rules:?}");
        assert_eq!(
            r.code(),
            1,
            "a strong mutation accepted breaks the contract"
        );
    }
}

/// Against a reference server enforcing the documented rules, a scenario
/// that says so (`target.rules = "documented"`) holds every check: the
/// weaker mutations get the 201 it expects. Judged as a strict target, the
/// same answers break the contract.
#[test]
fn a_documented_reference_server_meets_a_documented_scenarios_expectations() {
    let server = Serve::start(&["--rules", "documented"]);
    let body = "[load]\nconcurrency = 4\nrequests = 2000\n[body]\nseed = 9\ninvalid_share = 1\n";
    for (rules, exit) in [("documented", 0), ("strict", 1)] {
        let text = format!(
            "[target]\nurl = \"{}\"\nrules = \"{rules}\"\n{body}",
            server.url()
        );
        let result = mcload::run::execute(&parse(&text), RunOptions::default()).unwrap();
        let r = Run::from_result(&result);
        assert_accounted(&r);
        let by_mutation = r.json["bodies"]["by_mutation"].as_object().unwrap();
        let weaker: u64 = by_mutation
            .iter()
            .filter(|(name, _)| {
                !Mutation::by_name(name)
                    .unwrap()
                    .rejected_by(RuleSet::Documented)
            })
            .map(|(_, n)| n.as_u64().unwrap())
            .sum();
        assert!(0 < weaker && weaker < 2_000, "{by_mutation:?}");
        assert_eq!(r.count("/status/201"), weaker, "{rules}");
        assert_eq!(r.count("/status/400"), 2_000 - weaker, "{rules}");
        let accepted = if rules == "strict" { weaker } else { 0 };
        assert_eq!(r.count("/checks/invalid_accepted"), accepted, "{rules}");
        assert_eq!(r.count("/checks/unexpected_status"), 0, "{rules}");
        assert_eq!(r.code(), exit, "{rules}");
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
