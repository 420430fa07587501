use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{mcload, repo, scenario};

fn sample(args: &[&str]) -> Vec<Value> {
    let out = mcload()
        .arg("sample")
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn without_ts(mut body: Value) -> Value {
    body["playerTime"]["ts"] = Value::Null;
    body
}

#[test]
fn sampled_bodies_pass_spec_validation_for_any_seed() {
    for seed in ["0", "1", "42", "18446744073709551615"] {
        for file in ["scenarios/smoke.toml", "scenarios/reference.toml"] {
            for body in sample(&[file, "--count", "500", "--seed", seed]) {
                if let Err(v) = mcload::spec::validate(&body, mcload::spec::RuleSet::Strict) {
                    panic!("{file} seed {seed}: {v}: {body}");
                }
            }
        }
    }
}

#[test]
fn the_same_seed_prints_the_same_bodies_apart_from_ts() {
    let a = sample(&["scenarios/smoke.toml", "--count", "50", "--seed", "9"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let b = sample(&["scenarios/smoke.toml", "--count", "50", "--seed", "9"]);
    assert_eq!(a.len(), 50);
    let a: Vec<_> = a.into_iter().map(without_ts).collect();
    let b: Vec<_> = b.into_iter().map(without_ts).collect();
    assert_eq!(a, b);
    let c: Vec<_> = sample(&["scenarios/smoke.toml", "--count", "50", "--seed", "10"])
        .into_iter()
        .map(without_ts)
        .collect();
    assert_ne!(a, c);
}

#[test]
fn sampled_bodies_vary_from_body_to_body() {
    let bodies = sample(&["scenarios/smoke.toml", "--count", "400"]);
    let distinct =
        |f: &dyn Fn(&Value) -> String| bodies.iter().map(f).collect::<BTreeSet<_>>().len();
    assert!(
        distinct(&|b| b["params"]["media.id"].to_string()) > 390,
        "ids"
    );
    assert!(
        distinct(&|b| b["params"]["media.length"].to_string()) > 200,
        "lengths"
    );
    assert!(
        distinct(&|b| b["params"]["media.contentType"].to_string()) >= 8,
        "content types"
    );
    assert!(
        distinct(&|b| b["params"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(","))
            > 100,
        "optional keys"
    );
    assert!(
        distinct(&|b| b
            .get("customMetadata")
            .map_or(String::new(), |m| m.to_string()))
            > 100,
        "custom metadata"
    );
}

#[test]
fn sample_takes_the_body_settings_of_the_scenario() {
    let s = scenario(
        "sample-settings",
        "[body]\nseed = 3\n[body.params]\n\"media.channel\" = \"ch-x\"\n\"media.id\" = { pattern = \"id-{index}\" }\n",
    );
    let bodies = sample(&[s.to_str().unwrap(), "--count", "5"]);
    for (i, b) in bodies.iter().enumerate() {
        assert_eq!(b["params"]["media.channel"], "ch-x");
        assert_eq!(b["params"]["media.id"], format!("id-{i}"));
    }
}

#[test]
fn the_worked_scenarios_validate() {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let out = mcload().arg("validate").args(&files).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ok"))
            .count(),
        files.len()
    );
}

#[test]
fn validate_names_the_rule_set_and_refuses_an_unknown_one() {
    let documented = scenario("rules-documented", "[target]\nrules = \"documented\"\n");
    let out = mcload().arg("validate").arg(&documented).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(documented rules)"), "{stdout}");

    let unknown = scenario("rules-unknown", "[target]\nrules = \"loose\"\n");
    let out = mcload().arg("validate").arg(&unknown).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            ":2:9: `target.rules`: \"loose\" is not a rule set: use \"strict\" or \"documented\""
        ),
        "{stderr}"
    );
}

#[test]
fn sample_flags_go_through_the_scenarios_validation() {
    let out = mcload()
        .args(["sample", "scenarios/smoke.toml", "--invalid-share", "2"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--invalid-share: 2 is not a share: use a number from 0 to 1"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn validate_reports_every_bad_file_and_exits_2() {
    let good = repo().join("scenarios/smoke.toml");
    let bad = scenario(
        "bad-validate",
        "[load]\nduration = 5\n[http]\ntimeot = \"1s\"\n",
    );
    let out = mcload()
        .arg("validate")
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(":2:12: `load.duration`: expected a duration"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":4:1: `http.timeot`: unknown key in [http]"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 2 files has problems"), "{stderr}");
}
