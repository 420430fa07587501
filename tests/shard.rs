//! Sharded runs: `--shard K/N` processes with a common `--start-at`
//! against one `mcload serve` send the single-process plan between them.

use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::util::{Serve, mcload, scenario, temp_dir};

const PLAN: &str = "[load]\nrate = 600\nduration = \"1s\"\n[body]\nseed = 11\n";

/// `mcload run` of shard `k` of `n` with a JSON report, started now.
fn shard(
    file: &std::path::Path,
    target: &str,
    k: u64,
    n: u64,
    extra: &[&str],
) -> (Child, std::path::PathBuf) {
    let report = temp_dir("shard").join(format!("shard-{k}.json"));
    let child = Command::new(env!("CARGO_BIN_EXE_mcload"))
        .arg("run")
        .arg(file)
        .args([
            "--target",
            target,
            "--shard",
            &format!("{k}/{n}"),
            "--threads",
            "1",
            "--quiet",
        ])
        .args(extra)
        .arg("--json")
        .arg(&report)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, report)
}

#[test]
fn three_shards_with_a_shared_start_send_the_whole_plan_and_the_server_counts_it() {
    let serve = Serve::start(&[]);
    let file = scenario("shards", PLAN);
    // One instant for all three, given as the absolute time a Job would use.
    let at = humantime::format_rfc3339_millis(
        std::time::SystemTime::now() + std::time::Duration::from_millis(1_500),
    )
    .to_string();
    let runs: Vec<_> = (0..3)
        .map(|k| shard(&file, &serve.url(), k, 3, &["--start-at", &at]))
        .collect();
    let reports: Vec<Value> = runs
        .into_iter()
        .map(|(child, report)| {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap()
        })
        .collect();
    let scheduled: u64 = reports
        .iter()
        .map(|r| r["requests"]["scheduled"].as_u64().unwrap())
        .sum();
    assert!(
        scheduled.abs_diff(600) <= 1,
        "the shards scheduled {scheduled}"
    );
    assert_eq!(serve.stats()["requests"].as_u64(), Some(scheduled));
    let fingerprint = &reports[0]["plan_fingerprint"];
    assert_eq!(fingerprint.as_str().map(str::len), Some(16));
    for (k, r) in reports.iter().enumerate() {
        crate::util::assert_valid_report(r);
        assert_eq!(r["shard"], serde_json::json!({"index": k, "count": 3}));
        assert_eq!(&r["plan_fingerprint"], fingerprint, "one plan");
        assert_eq!(r["start"]["at"].as_str(), Some(at.as_str()));
        assert_eq!(
            r["started_at"].as_str(),
            Some(at.as_str()),
            "the plan's axis"
        );
        let late = r["start"]["lateness_ms"].as_f64().unwrap();
        assert!((0.0..1_000.0).contains(&late), "lateness {late} ms");
        let ids = &r["session_ids"];
        assert_eq!(ids["count"], r["status"]["201"], "every id remembered");
        assert!(ids["fingerprints"].is_string());
        // Each shard took its third: 200 of the 600.
        let own = r["requests"]["scheduled"].as_u64().unwrap();
        assert!(own.abs_diff(200) <= 1, "shard {k} scheduled {own}");
    }
}

#[test]
fn a_shard_too_late_for_its_start_exits_3_and_sends_nothing() {
    let serve = Serve::start(&[]);
    let file = scenario("late", PLAN);
    let at = humantime::format_rfc3339_millis(
        std::time::SystemTime::now() - std::time::Duration::from_secs(5),
    )
    .to_string();
    let (child, report) = shard(&file, &serve.url(), 0, 2, &["--start-at", &at]);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("beyond --start-tolerance 1s") && stderr.contains("nothing sent"),
        "{stderr}"
    );
    assert!(!report.exists(), "no report for a run that did not happen");
    assert_eq!(serve.stats()["requests"], 0);
}

#[test]
fn a_shard_that_does_not_exist_or_lacks_its_index_exits_2() {
    let file = scenario("no-shard", PLAN);
    let out = mcload()
        .args(["run", file.to_str().unwrap(), "--shard", "3/3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--shard") && stderr.contains("3/3 does not exist"),
        "{stderr}"
    );
    let out = mcload()
        .args([
            "run",
            file.to_str().unwrap(),
            "--shard",
            "auto",
            "--shards",
            "3",
        ])
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("JOB_COMPLETION_INDEX"), "{stderr}");
}

#[test]
fn ctrl_c_while_waiting_for_the_start_exits_130_and_sends_nothing() {
    let serve = Serve::start(&[]);
    let file = scenario("waiting", PLAN);
    let (child, report) = shard(&file, &serve.url(), 0, 2, &["--start-at", "+30s"]);
    // Long enough for the start probe to have passed and the wait to begin.
    std::thread::sleep(std::time::Duration::from_millis(700));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--start-at"), "{stderr}");
    assert!(!report.exists());
    assert_eq!(serve.stats()["requests"], 0);
}
