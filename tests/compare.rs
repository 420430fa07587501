use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{Serve, aimed, mcload, parse, repo, temp_dir};

/// A run long enough for p99 (1,000 answers, closed model, 32 workers:
/// well below what a 20 ms server answers on a busy machine), in-process;
/// its JSON report written to `dir/name.json` as `mcload run --json` would.
fn report(dir: &Path, name: &str, url: &str) -> PathBuf {
    let scenario = parse(&aimed(
        url,
        "[load]\nconcurrency = 32\nthreads = 1\nrequests = 1000\n[body]\nseed = 3\n",
    ));
    let result = mcload::run::execute(&scenario, mcload::run::RunOptions::default())
        .expect("the run starts");
    let path = dir.join(format!("{name}.json"));
    let json = serde_json::to_string(&crate::util::report_json(&result)).unwrap();
    std::fs::write(&path, json).unwrap();
    path
}

fn compare(base: &[PathBuf], cand: &[PathBuf], extra: &[&str]) -> Output {
    mcload()
        .arg("compare")
        .arg("--base")
        .args(base)
        .arg("--cand")
        .args(cand)
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn verdicts(json: &Value) -> Vec<(String, String)> {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"].as_str().unwrap().to_owned(),
                r["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row<'a>(json: &'a Value, metric: &str) -> &'a Value {
    json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == metric)
        .unwrap_or_else(|| panic!("no row {metric} in {json}"))
}

fn verdict_of(json: &Value, metric: &str) -> String {
    verdicts(json)
        .into_iter()
        .find(|(m, _)| m == metric)
        .unwrap_or_else(|| panic!("no row {metric} in {json}"))
        .1
}

/// Five runs against a server that adds 20 ms to each answer, against
/// five runs against one that adds none (interleaved, so that a drifting
/// machine shifts both sides alike): exit 1, the latency rows regressed,
/// p999 unjudged (1,000 answers per run are too few for it).
#[test]
fn compare_marks_the_latency_rows_of_a_slower_server_regressed() {
    let fast = Serve::start(&[]);
    let slow = Serve::start(&["--latency", "20ms"]);
    let dir = temp_dir("compare-slower");
    let (mut base, mut cand) = (Vec::new(), Vec::new());
    for i in 0..5 {
        base.push(report(&dir, &format!("base{i}"), &fast.url()));
        cand.push(report(&dir, &format!("cand{i}"), &slow.url()));
    }
    let json_path = dir.join("compare.json");
    let md_path = dir.join("compare.md");
    let junit_path = dir.join("compare.xml");
    let out = compare(
        &base,
        &cand,
        &[
            "--json",
            json_path.to_str().unwrap(),
            "--markdown",
            md_path.to_str().unwrap(),
            "--junit",
            junit_path.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    eprintln!("{stdout}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    for metric in ["latency.p50", "service_time.p50", "rate"] {
        assert_eq!(verdict_of(&json, metric), "regressed", "{metric}: {stdout}");
    }
    // The fast server's tail is set by scheduling stalls on a loaded
    // machine (p99 of 1,000 answers is the tenth worst), so its runs can
    // spread too widely for significance after the correction for 12 rows.
    // Such a row is never called improved: regressed, or a ratio above 1
    // left unproven (under a full parallel test run the fast server's p99
    // has reached 21 ms against the slow one's 30 ms).
    for metric in ["latency.p90", "latency.p99", "service_time.p99"] {
        let row = row(&json, metric);
        let ratio = row["ratio"].as_f64().unwrap();
        match row["verdict"].as_str().unwrap() {
            "regressed" => {}
            "same" => assert!(ratio > 1.0, "{metric}: {stdout}"),
            other => panic!("{metric}: {other}: {stdout}"),
        }
    }
    assert_eq!(verdict_of(&json, "latency.p999"), "too_few_answers");
    assert_eq!(verdict_of(&json, "unexpected"), "same");
    let p50 = row(&json, "latency.p50");
    let (ratio, lo) = (
        p50["ratio"].as_f64().unwrap(),
        p50["ci"][0].as_f64().unwrap(),
    );
    assert!(lo > 1.05 && ratio >= lo, "{p50}");
    assert!(p50["p_adjusted"].as_f64().unwrap() < 0.05, "{p50}");
    // Candidate centre at least the 20 ms the server adds.
    assert!(
        p50["candidate"]["center"].as_f64().unwrap() >= 20.0,
        "{p50}"
    );
    assert_eq!(json["pass"], false);
    // The two servers are different targets: said, not fatal.
    assert!(stderr.contains("warning: the target differs"), "{stderr}");
    assert!(stdout.contains("FAIL: regressed: latency.p50"), "{stdout}");
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(
        md.contains("| `latency.p50` |") && md.contains("**regressed**"),
        "{md}"
    );
}

/// Five runs against five more of the same server: nothing regressed,
/// exit 0, and no warning (same scenario, target and model).
#[test]
fn compare_of_runs_against_the_same_server_passes() {
    // A fixed 3 ms per answer keeps the runs alike on a busy machine and
    // the ten runs short.
    let server = Serve::start(&["--latency", "3ms"]);
    let dir = temp_dir("compare-same");
    let (mut base, mut cand) = (Vec::new(), Vec::new());
    for i in 0..5 {
        base.push(report(&dir, &format!("base{i}"), &server.url()));
        cand.push(report(&dir, &format!("cand{i}"), &server.url()));
    }
    let json_path = dir.join("compare.json");
    let out = compare(&base, &cand, &["--json", json_path.to_str().unwrap()]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    eprintln!("{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(json["pass"], true);
    assert!(
        verdicts(&json)
            .iter()
            .all(|(_, v)| v != "regressed" && v != "improved"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS: no regression"), "{stdout}");
}

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

#[test]
fn compare_reads_the_schema_run_writes() {
    assert_eq!(mcload::verdict::compare::SCHEMA, mcload::report::SCHEMA);
}
