use std::path::{Path, PathBuf};
use std::time::Duration;

use mcload::report::{RunReport, read, to_json, write_text};
use mcload::run::{RunOptions, RunResult};
use serde_json::Value;

use crate::util::{Misbehaviour, RawServer, Serve, aimed, mcload, parse, repo, temp_dir};

fn execute(text: &str, options: RunOptions) -> RunResult {
    mcload::run::execute(&parse(text), options).expect("the run starts")
}

fn summary(run: &RunReport) -> String {
    let mut out = Vec::new();
    write_text(run, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The report as `--json` writes it, read back.
fn read_back(run: &RunReport) -> RunReport {
    let text = serde_json::to_string_pretty(&to_json(run)).unwrap();
    read(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// Reading a report and writing it again gives the same document, and the
/// same text summary but for the one note whose figure the report does not
/// keep: when the last request started, said when the wait for the last
/// answers was long.
fn assert_round_trip(result: &RunResult) {
    let back = read_back(&result.report);
    assert_eq!(to_json(&back), to_json(&result.report));
    let original = summary(&result.report);
    let original = match original.split_once(" (the last request started at ") {
        Some((before, after)) => format!("{before}{}", &after[after.find(")\n").unwrap() + 1..]),
        None => original,
    };
    assert_eq!(summary(&back), original);
}

#[test]
fn a_closed_run_reads_back_losslessly() {
    let result = execute(
        "[load]\nconcurrency = 4\nrequests = 300\n[body]\ninvalid_share = 0.1\n\
         [thresholds]\n\"latency.p99\" = \"< 10s\"\n\"latency.invalid.p50\" = \"< 10s\"\n",
        RunOptions::default(),
    );
    assert_eq!(result.report.tally.counts.total(), 300);
    assert_round_trip(&result);
}

#[test]
fn an_open_run_with_a_warm_up_and_windows_reads_back_losslessly() {
    let result = execute(
        "[load]\nrate = 400\nduration = \"1200ms\"\nwarmup = \"300ms\"\n\
         [thresholds]\n\"latency.p99 over 1s\" = \"< 10s\"\n\"status.201 over 1s\" = \">= 1%\"\n",
        RunOptions::default(),
    );
    let (_, warmup) = result.report.warmup.as_ref().expect("a warm-up");
    assert!(warmup.counts.completed() > 0);
    assert_round_trip(&result);
}

/// Answers 500 at half the requests: errors, a failed threshold with
/// `abort = true` that stopped the run, and the verdict's causes.
#[test]
fn a_run_with_errors_stopped_by_an_abort_threshold_reads_back_losslessly() {
    let server = Serve::start(&["--error-rate", "0.5"]);
    let result = execute(
        &aimed(
            &server.url(),
            "[load]\nconcurrency = 2\nduration = \"20s\"\n[thresholds]\n\
             \"status.500\" = { check = \"< 5%\", abort = true, after = \"1s\" }\n",
        ),
        RunOptions::default(),
    );
    assert!(result.report.aborted.is_some(), "stopped by the threshold");
    assert!(result.report.tally.counts.server_error() > 0);
    assert_round_trip(&result);

    let garbage = RawServer::start(Misbehaviour::Garbage);
    let result = execute(
        &aimed(&garbage.url(), "[load]\nconcurrency = 2\nrequests = 40\n"),
        RunOptions::default(),
    );
    assert_eq!(result.report.tally.counts.protocol(), 40);
    assert_round_trip(&result);
}

/// A target that dies mid-run: connect and io errors, and the workers'
/// backoff.
#[test]
fn a_run_against_a_dying_target_reads_back_losslessly() {
    let server = RawServer::start(Misbehaviour::DieAfter(100));
    let result = execute(
        &aimed(
            &server.url(),
            "[load]\nconcurrency = 4\nthreads = 2\nduration = \"600ms\"\n",
        ),
        RunOptions::default(),
    );
    let counts = &result.report.tally.counts;
    assert!(counts.connect() + counts.io() > 0, "errors");
    assert!(!result.report.generator.backoff.is_zero());
    assert_round_trip(&result);
}

#[test]
fn an_interrupted_run_reads_back_losslessly() {
    let options = RunOptions::default();
    let interrupt = options.interrupt.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        interrupt.request()
    });
    let result = execute("[load]\nrate = 1000\nduration = \"60s\"\n", options);
    assert!(stopper.join().unwrap());
    assert!(result.report.interrupted);
    assert_round_trip(&result);
}

/// Reports written before later keys were added (no `version`, TLS and
/// local errors, `cancelled`, thresholds, verdict or send lag) are read
/// with those keys' defaults.
#[test]
fn reports_of_older_versions_are_read_with_the_defaults_of_newer_keys() {
    let fixture = repo().join("tests/fixtures/compare/report.json");
    let old: Value = serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    assert!(old.get("verdict").is_none() && old.get("cancelled").is_none());
    let run = read(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let json = without_newer_second_keys(to_json(&run));
    for key in [
        "/status/201",
        "/requests/scheduled",
        "/latency_ms",
        "/histograms",
        "/intervals",
        "/server",
    ] {
        assert_eq!(json.pointer(key), old.pointer(key), "{key}");
    }
    assert_eq!(
        (json["cancelled"].clone(), json["errors"]["tls"].clone()),
        (0.into(), 0.into())
    );
    assert_eq!(json["verdict"]["pass"], true);
    assert!(old.get("send_lag_ms").is_none());
    assert_eq!(json["send_lag_ms"]["p99"], Value::Null, "absent, not zero");

    for i in 1..=5 {
        let path = repo().join(format!("examples/ci/baseline/run-{i}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        let old: Value = serde_json::from_str(&text).unwrap();
        let json = without_newer_second_keys(to_json(&read(&text).unwrap()));
        for key in [
            "/thresholds",
            "/verdict",
            "/status",
            "/latency_ms",
            "/intervals",
        ] {
            assert_eq!(
                json.pointer(key),
                old.pointer(key),
                "{}: {key}",
                path.display()
            );
        }
    }
}

/// The report without each second's `cancelled` and `send_lag_ms`, which
/// older ones lack: read back as none cancelled and no send lag (absent,
/// not zero).
fn without_newer_second_keys(mut json: Value) -> Value {
    for second in json["intervals"].as_array_mut().unwrap() {
        assert_eq!(second["cancelled"], 0);
        assert_eq!(second["send_lag_ms"], Value::Null);
        let second = second.as_object_mut().unwrap();
        second.remove("cancelled");
        second.remove("send_lag_ms");
    }
    json
}

/// Writes `json` to a file of its own and returns its path.
fn saved(name: &str, json: &Value) -> PathBuf {
    let path = temp_dir(name).join("run.json");
    std::fs::write(&path, serde_json::to_string_pretty(json).unwrap()).unwrap();
    path
}

fn report(args: &[&str], file: &Path) -> std::process::Output {
    mcload()
        .arg("report")
        .arg(file)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn report_prints_the_summary_and_judges_again_with_the_given_thresholds() {
    let result = execute(
        "[load]\nconcurrency = 2\nrequests = 200\n",
        RunOptions::default(),
    );
    let file = saved("report-judge", &to_json(&result.report));
    let out = report(&[], &file);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), summary(&result.report));

    // The given thresholds replace the saved ones; the default stays.
    let json_out = file.with_file_name("judged.json");
    let out = report(
        &[
            "--threshold",
            "latency.p50 < 1us",
            "--json",
            json_out.to_str().unwrap(),
        ],
        &file,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("mcload: threshold failed: latency.p50 < 1us (measured "),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "a file asked for, and no --text");
    let judged: Value = serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    let expressions: Vec<&str> = judged["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expression"].as_str().unwrap())
        .collect();
    assert_eq!(expressions, ["latency.p50 < 1us", "unexpected <= 1%"]);
    assert_eq!(judged["verdict"]["pass"], false);

    let out = report(
        &["--threshold", "status.201 over 1s >= 99%", "--text"],
        &file,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("status.201 over 1s >= 99%"));
}

#[test]
fn report_refuses_what_it_cannot_read_or_judge_with_exit_2_naming_it() {
    let dir = temp_dir("report-bad");
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "{\"schema\": ").unwrap();
    let foreign = dir.join("foreign.json");
    std::fs::write(&foreign, "{\"name\": \"k6\"}").unwrap();
    let incomplete = dir.join("incomplete.json");
    std::fs::write(
        &incomplete,
        "{\"schema\": \"mcload.report/v1\", \"scenario\": \"s\"}",
    )
    .unwrap();
    let missing = dir.join("missing.json");
    for (file, said) in [
        (&not_json, "not JSON"),
        (&foreign, "not an mcload report"),
        (&incomplete, "/model is missing"),
        (&missing, "cannot read the report"),
    ] {
        let out = report(&[], file);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&file.display().to_string()) && err.contains(said),
            "{err}"
        );
    }

    let good = repo().join("tests/fixtures/compare/report.json");
    for (threshold, said) in [
        ("errors.connect over 2s < 1", "errors as one count"),
        ("latency.p90 over 1s < 1s", "p50, p99 and max"),
        ("latency.p99 over 5s < 1s", "longer than 1s"),
        ("latency.p99 <", "no value after `<`"),
    ] {
        let out = report(&["--threshold", threshold], &good);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{threshold}: {err}");
        assert!(
            err.contains(threshold) && err.contains(said),
            "{threshold}: {err}"
        );
    }
}

#[test]
fn an_output_file_that_cannot_be_written_exits_4_after_the_summary() {
    let good = repo().join("tests/fixtures/compare/report.json");
    let out = report(&["--csv", "/nonexistent-dir/s.csv", "--text"], &good);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("verdict    passed"));
    assert!(
        text(&out.stderr).contains("cannot write the CSV series to /nonexistent-dir/s.csv"),
        "{}",
        text(&out.stderr)
    );
}

/// The done-when of the CSV: one row per second of a real run, whose
/// counts add up to the report's.
#[test]
fn the_csv_has_one_row_per_second_whose_counts_add_up_to_the_reports() {
    let report_file = temp_dir("report-csv").join("run.json");
    let csv_file = report_file.with_file_name("series.csv");
    let out = mcload()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--rate",
            "300",
            "--duration",
            "2200ms",
        ])
        .args(["--invalid-share", "0.2", "--quiet", "--json"])
        .arg(&report_file)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(report_file.exists(), "{}", text(&out.stderr));
    let out = report(&["--csv", csv_file.to_str().unwrap()], &report_file);
    assert!(csv_file.exists(), "{}", text(&out.stderr));

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap()).unwrap();
    let csv = std::fs::read_to_string(&csv_file).unwrap();
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert!(!csv.replace("\r\n", "").contains('\n'), "CRLF line ends");
    let header: Vec<&str> = lines[0].split(',').collect();
    let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), json["intervals"].as_array().unwrap().len());
    assert!(rows.len() >= 3, "one row per second of 2.2 s");
    let sum = |column: &str| -> u64 {
        let i = header.iter().position(|h| *h == column).unwrap();
        rows.iter().map(|r| r[i].parse::<u64>().unwrap()).sum()
    };
    let count = |pointer: &str| json.pointer(pointer).and_then(Value::as_u64).unwrap();
    let other: u64 = json["status"]["other"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let errors: u64 = json["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum("status_201"), count("/status/201"));
    assert_eq!(sum("status_400"), count("/status/400"));
    assert!(count("/status/400") > 0, "invalid bodies answered 400");
    assert_eq!(sum("status_500"), count("/status/500"));
    assert_eq!(sum("status_other"), other);
    assert_eq!(sum("errors"), errors);
    assert_eq!(sum("dropped"), count("/dropped"));
    assert_eq!(sum("cancelled"), count("/cancelled"));
    assert_eq!(
        sum("status_201")
            + sum("status_400")
            + sum("status_500")
            + sum("status_other")
            + sum("errors")
            + sum("dropped")
            + sum("cancelled"),
        count("/requests/scheduled"),
        "every request scheduled is in one second's row"
    );
}
