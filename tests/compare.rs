use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::compare_util::{compare, text};
use crate::util::{mcload, repo, temp_dir};

fn fixture() -> PathBuf {
    repo().join("tests/fixtures/compare/report.json")
}

/// The fixture report, changed by `edit`, written as a new file.
fn edited(dir: &Path, name: &str, edit: impl Fn(&mut Value)) -> PathBuf {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(fixture()).unwrap()).unwrap();
    edit(&mut v);
    let path = dir.join(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

fn assert_refused(out: &Output, names: &str, says: &str) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(names), "names {names}: {stderr}");
    assert!(stderr.contains(says), "says {says}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn files_that_are_not_mcload_reports_exit_2_naming_the_file() {
    let dir = temp_dir("compare-bad");
    let good = fixture();
    let whole = std::fs::read_to_string(&good).unwrap();
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let foreign = dir.join("k6-summary.json");
    std::fs::write(
        &foreign,
        r#"{"metrics": {"http_req_duration": {"p(95)": 12.5}}}"#,
    )
    .unwrap();
    let not_json = dir.join("notes.txt");
    std::fs::write(&not_json, "latency went up, I think\n").unwrap();
    let v2 = edited(&dir, "v2.json", |v| v["schema"] = "mcload.report/v2".into());
    let broken = edited(&dir, "no-histograms.json", |v| {
        v.as_object_mut().unwrap().remove("histograms");
    });
    let bad_histogram = edited(&dir, "bad-histogram.json", |v| {
        v["histograms"]["all"] = "bm90IGEgaGlzdG9ncmFt".into();
    });
    let missing = dir.join("missing.json");
    for (file, says) in [
        (&truncated, "not JSON"),
        (&foreign, "not an mcload report"),
        (&not_json, "not JSON"),
        (&v2, "\"mcload.report/v2\""),
        (&broken, "/histograms/all is missing"),
        (&bad_histogram, "/histograms/all cannot be decoded"),
        (&missing, "cannot read"),
    ] {
        let name = file.file_name().unwrap().to_str().unwrap();
        // On either side.
        assert_refused(
            &compare(std::slice::from_ref(&good), std::slice::from_ref(file), &[]),
            name,
            says,
        );
        assert_refused(
            &compare(std::slice::from_ref(file), std::slice::from_ref(&good), &[]),
            name,
            says,
        );
    }
}

#[test]
fn an_empty_side_or_an_unknown_metric_exits_2() {
    let good = fixture();
    for args in [
        vec!["compare", "--base", "--cand", good.to_str().unwrap()],
        vec!["compare", "--cand", good.to_str().unwrap()],
        vec!["compare", "--base", good.to_str().unwrap()],
    ] {
        let out = mcload().args(&args).output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("--base") || stderr.contains("--cand"),
            "{stderr}"
        );
    }
    let out = compare(
        std::slice::from_ref(&good),
        std::slice::from_ref(&good),
        &["--metric", "lateny.p99"],
    );
    assert_refused(&out, "\"lateny.p99\"", "unknown metric");
    let both = [good];
    let out = compare(&both, &both, &["--tolerance", "5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("5% or 0.05"));
}

/// Sides that ran different things: a warning, and exit 2 with --strict.
#[test]
fn different_scenarios_warn_and_strict_refuses_them() {
    let dir = temp_dir("compare-mismatch");
    let other = edited(&dir, "other.json", |v| {
        v["scenario"] = "soak".into();
        v["model"]["concurrency"] = 64.into();
    });
    let good = fixture();
    let out = compare(
        std::slice::from_ref(&good),
        std::slice::from_ref(&other),
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: the scenario differs: base smoke, candidate soak"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: the model differs"), "{stderr}");
    let out = compare(std::slice::from_ref(&good), &[other], &["--strict"]);
    assert_refused(&out, "--strict", "the scenario differs");
    // Reports written by different mcload versions are said too.
    let older = edited(&dir, "older.json", |v| v["version"] = "0.0.9".into());
    let newer = edited(&dir, "newer.json", |v| v["version"] = "0.1.0".into());
    let out = compare(
        std::slice::from_ref(&older),
        std::slice::from_ref(&newer),
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: the version differs"), "{stderr}");
    let out = compare(&[older], &[newer], &["--strict"]);
    assert_refused(&out, "--strict", "the version differs");
    // A run stopped early is said, naming its file.
    let cut = edited(&dir, "cut.json", |v| v["interrupted"] = true.into());
    let out = compare(&[good], &[cut], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("cut.json: the run was interrupted"),
        "{stderr}"
    );
}

/// One report per side: the tolerance alone, with a warning that noise is
/// not accounted for; a check that was 0 in the base and is not in the
/// candidate regressed.
#[test]
fn a_check_that_appears_regresses_and_few_runs_are_judged_by_the_tolerance() {
    let dir = temp_dir("compare-check");
    let broken = edited(&dir, "broken.json", |v| {
        v["checks"]["location_invalid"] = 1.into();
    });
    let out = compare(
        &[fixture()],
        &[broken],
        &["--markdown", dir.join("c.md").to_str().unwrap()],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("noise is not accounted for"), "{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("checks.location_invalid")
                && l.ends_with("regressed (0 in every base run)")),
        "{stdout}"
    );
    assert!(stdout.contains("tolerance alone"), "{stdout}");
    let md = std::fs::read_to_string(dir.join("c.md")).unwrap();
    assert!(md.contains("> warning: fewer than 3 reports"), "{md}");
}

/// Under GitHub Actions a regressed row is also an `::error` annotation,
/// and the Markdown table is appended to the step summary; elsewhere
/// neither.
#[test]
fn under_github_actions_a_regression_is_annotated_and_summarised() {
    let dir = temp_dir("compare-github");
    let broken = edited(&dir, "broken.json", |v| {
        v["checks"]["location_invalid"] = 1.into();
    });
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = mcload()
        .arg("compare")
        .arg("--base")
        .arg(fixture())
        .arg("--cand")
        .arg(&broken)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .contains("::error title=mcload::checks.location_invalid: regressed against the base"),
        "{stdout}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("earlier step\n### mcload compare"), "{md}");

    let quiet = mcload()
        .arg("compare")
        .arg("--base")
        .arg(fixture())
        .arg("--cand")
        .arg(&broken)
        .env_remove("GITHUB_ACTIONS")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert!(!text(&quiet.stdout).contains("::error"));
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        md,
        "not appended"
    );
}
