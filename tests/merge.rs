use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde_json::{Value, json};

use crate::util::{Run, assert_accounted, assert_valid_report, execute, mcload, temp_dir};

const PLAN: &str = "0123456789abcdef";

/// A run's report made a shard's: the keys `run --shard K/N` adds.
fn as_shard(run: &Run, index: u32, count: u32, plan: &str, ids: &[u64]) -> Value {
    let mut v = run.json.clone();
    let fingerprints: Vec<u8> = ids.iter().flat_map(|i| i.to_le_bytes()).collect();
    let root = v.as_object_mut().unwrap();
    root.insert("shard".into(), json!({"index": index, "count": count}));
    root.insert("plan_fingerprint".into(), plan.into());
    root.insert("start".into(), Value::Null);
    root.insert(
        "session_ids".into(),
        json!({
            "fingerprints": base64::engine::general_purpose::STANDARD.encode(fingerprints),
            "count": ids.len(),
        }),
    );
    v
}

/// Writes each report as `shard-I.json` in a fresh directory.
fn save(name: &str, reports: &[Value]) -> Vec<PathBuf> {
    let dir = temp_dir(name);
    reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = dir.join(format!("shard-{i}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(r).unwrap()).unwrap();
            path
        })
        .collect()
}

fn merge(files: &[PathBuf], args: &[&str]) -> Output {
    mcload()
        .arg("merge")
        .args(files)
        .args(args)
        .output()
        .unwrap()
}

/// `mcload merge FILES --json OUT ARGS`: its exit code, stderr and the
/// merged report.
fn merged(files: &[PathBuf], args: &[&str]) -> (i32, String, Value) {
    let out = files[0].with_file_name("merged.json");
    let output = merge(files, &[&["--json", out.to_str().unwrap()], args].concat());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|_| panic!("no merged report; stderr: {stderr}"));
    (
        output.status.code().unwrap(),
        stderr,
        serde_json::from_str(&text).unwrap(),
    )
}

fn histogram(report: &Value, name: &str) -> Option<Histogram<u64>> {
    let text = report["histograms"][name].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    Some(Deserializer::new().deserialize(&mut &bytes[..]).unwrap())
}

fn closed(requests: u64, extra: &str) -> Run {
    execute(&format!(
        "[load]\nconcurrency = 4\nrequests = {requests}\n[body]\ninvalid_share = 0.1\n{extra}"
    ))
}

/// The done-when: the merged histograms equal the sum of the
/// shards', each decoded on its own, and the counts add up.
#[test]
fn the_merged_histograms_equal_the_sum_of_the_shards_decoded_independently() {
    let runs: Vec<Run> = (0..3).map(|_| closed(150, "")).collect();
    let shards: Vec<Value> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| as_shard(r, i as u32, 3, PLAN, &[]))
        .collect();
    let (code, stderr, whole) = merged(&save("merge-sum", &shards), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_valid_report(&whole);
    for name in [
        "all",
        "service_time",
        "send_lag",
        "status.201",
        "status.400",
        "valid",
        "invalid",
    ] {
        let mut sum: Option<Histogram<u64>> = None;
        for s in &shards {
            if let Some(h) = histogram(s, name) {
                match &mut sum {
                    Some(total) => total.add(&h).unwrap(),
                    None => sum = Some(h),
                }
            }
        }
        let sum = sum.unwrap_or_else(|| panic!("no shard has histogram {name}"));
        assert_eq!(histogram(&whole, name).as_ref(), Some(&sum), "{name}");
    }
    let total = |report: &Value, pointer: &str| report.pointer(pointer).unwrap().as_u64().unwrap();
    for pointer in [
        "/requests/scheduled",
        "/requests/completed",
        "/status/201",
        "/status/400",
        "/bodies/valid",
    ] {
        let sum: u64 = shards.iter().map(|s| total(s, pointer)).sum();
        assert_eq!(total(&whole, pointer), sum, "{pointer}");
    }
    assert_eq!(total(&whole, "/requests/scheduled"), 450);
    assert_accounted(&Run {
        code,
        stdout: String::new(),
        stderr,
        json: whole.clone(),
    });
    assert_eq!(whole["shards"], 3);
    assert_eq!(whole["shard"], Value::Null);
    assert_eq!(whole["plan_fingerprint"], PLAN);
    // Each shard ran against its own embedded server: none's counts are
    // the whole's.
    assert_eq!(whole.get("server"), None);
}

/// A threshold every shard fails can hold for the whole, and one every
/// shard passes can fail it: `requests` counts the whole's requests.
#[test]
fn merged_thresholds_are_judged_on_the_whole() {
    let runs: Vec<Run> = (0..2)
        .map(|_| closed(100, "[thresholds]\n\"requests\" = \">= 150\"\n"))
        .collect();
    for r in &runs {
        assert_eq!(r.code, 1, "each shard alone fails: {}", r.stderr);
    }
    let files = save(
        "merge-thresholds",
        &[
            as_shard(&runs[0], 0, 2, PLAN, &[]),
            as_shard(&runs[1], 1, 2, PLAN, &[]),
        ],
    );
    let (code, stderr, whole) = merged(&files, &[]);
    assert_eq!(code, 0, "the whole sent 200: {stderr}");
    let judged = &whole["thresholds"][0];
    assert_eq!(judged["expression"], "requests >= 150");
    assert_eq!(
        (judged["measured"].as_f64(), &judged["pass"]),
        (Some(200.0), &json!(true))
    );

    let (code, stderr, whole) = merged(&files, &["--threshold", "requests <= 150"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("threshold failed: requests <= 150"),
        "{stderr}"
    );
    assert_eq!(whole["verdict"]["pass"], false);
}

fn refused(files: &[PathBuf], says: &[&str]) {
    let output = merge(files, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for s in says {
        assert!(stderr.contains(s), "{s:?} not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn name(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A repeated shard, a missing one, another plan, another shard count, an
/// unsharded report, other thresholds and another schema version: each
/// refused with exit 2, naming the files or the indices.
#[test]
fn merge_refuses_a_repeated_or_missing_shard_and_another_plan_naming_them() {
    let run = closed(20, "");
    let shard = |index, count, plan| as_shard(&run, index, count, plan, &[]);

    let repeated = save(
        "merge-repeated",
        &[shard(0, 3, PLAN), shard(1, 3, PLAN), shard(1, 3, PLAN)],
    );
    refused(
        &repeated,
        &[
            "shard 1 is given more than once",
            name(&repeated[1]),
            name(&repeated[2]),
        ],
    );

    let missing = save("merge-missing", &[shard(0, 4, PLAN), shard(2, 4, PLAN)]);
    refused(&missing, &["shards 1, 3 of 4 are missing"]);

    let other_plan = save(
        "merge-plan",
        &[shard(0, 2, PLAN), shard(1, 2, "fedcba9876543210")],
    );
    refused(
        &other_plan,
        &[
            name(&other_plan[1]),
            "fedcba9876543210",
            name(&other_plan[0]),
            PLAN,
        ],
    );

    let other_count = save("merge-count", &[shard(0, 2, PLAN), shard(1, 3, PLAN)]);
    refused(&other_count, &[name(&other_count[1]), "shard of 3"]);

    let unsharded = save("merge-unsharded", &[shard(0, 2, PLAN), run.json.clone()]);
    refused(
        &unsharded,
        &[name(&unsharded[1]), "unsharded", "--shard K/N"],
    );

    let stricter = closed(20, "[thresholds]\n\"latency.p99\" = \"< 10s\"\n");
    let judged = save(
        "merge-judged",
        &[shard(0, 2, PLAN), as_shard(&stricter, 1, 2, PLAN, &[])],
    );
    refused(
        &judged,
        &[name(&judged[1]), "other thresholds", "--threshold"],
    );

    let mut newer = shard(1, 2, PLAN);
    newer["schema"] = "mcload.report/v1.1".into();
    let schemas = save("merge-schema", &[shard(0, 2, PLAN), newer]);
    refused(&schemas, &[name(&schemas[1]), "mcload.report/v1.1"]);
}

/// Session ids two shards both got are duplicates of the whole, found
/// from the fingerprint sets the shards saved; the check fails the run.
#[test]
fn session_ids_seen_by_two_shards_are_duplicates_of_the_whole() {
    let run = closed(20, "");
    let files = save(
        "merge-ids",
        &[
            as_shard(&run, 0, 3, PLAN, &[1, 5, 9]),
            as_shard(&run, 1, 3, PLAN, &[2, 9]),
            as_shard(&run, 2, 3, PLAN, &[3, 5, 9]),
        ],
    );
    let (code, stderr, whole) = merged(&files, &[]);
    // 9 in three shards (two repeats), 5 in two (one).
    assert_eq!(whole["checks"]["duplicate_session_ids"], 3, "{whole}");
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("duplicate_session_ids"), "{stderr}");
}

/// Shards that started at different instants: each second lands at its
/// absolute time on the axis of the earliest start.
#[test]
fn the_per_second_series_is_aligned_by_absolute_time() {
    let open = || execute("[load]\nrate = 50\nduration = \"300ms\"\n");
    let (a, b) = (open(), open());
    let mut later = as_shard(&b, 1, 2, PLAN, &[]);
    let start = humantime::parse_rfc3339(a.json["started_at"].as_str().unwrap()).unwrap();
    later["started_at"] =
        humantime::format_rfc3339_millis(start + std::time::Duration::from_secs(2))
            .to_string()
            .into();
    let files = save("merge-series", &[as_shard(&a, 0, 2, PLAN, &[]), later]);
    let (code, stderr, whole) = merged(&files, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(whole["started_at"], a.json["started_at"]);
    let seconds: Vec<(u64, u64)> = whole["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["t"].as_u64().unwrap(), i["started"].as_u64().unwrap()))
        .collect();
    let started = |r: &Run| r.json["intervals"][0]["started"].as_u64().unwrap();
    assert_eq!(seconds, [(0, started(&a)), (2, started(&b))]);
}

/// An output file that cannot be written: exit 4, named, and the summary
/// asked for still prints.
#[test]
fn an_output_that_cannot_be_written_exits_4_and_the_summary_still_prints() {
    let run = closed(20, "");
    let files = save("merge-output", &[as_shard(&run, 0, 1, PLAN, &[])]);
    let nowhere = files[0].with_file_name("no-such-dir").join("whole.json");
    let output = merge(&files, &["--text", "--json", nowhere.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(nowhere.to_str().unwrap()), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("verdict    passed"),
        "{stderr}"
    );
}

/// The local stand-in for a cluster run: three `--shard K/3` processes
/// with one `--start-at` against one `mcload serve`, then `merge`. The
/// whole sends the plan (600/s for 4 s) once, the server counts what the
/// merged report says, and the bodies by kind are those `sample` gives
/// for the same seed, as one process would have sent.
#[test]
fn three_shards_merged_send_the_plan_once_and_the_server_agrees() {
    let serve = crate::util::Serve::start(&[]);
    let plan = crate::util::scenario(
        "stand-in",
        "[load]\nrate = 600\nduration = \"4s\"\n[body]\nseed = 11\ninvalid_share = 0.05\n",
    );
    let dir = temp_dir("stand-in");
    let at = humantime::format_rfc3339_millis(
        std::time::SystemTime::now() + std::time::Duration::from_millis(1_500),
    )
    .to_string();
    let shards: Vec<(std::process::Child, PathBuf)> = (0..3)
        .map(|k| {
            let report = dir.join(format!("shard-{k}.json"));
            let child = mcload()
                .arg("run")
                .arg(&plan)
                .args(["--target", &serve.url(), "--shard", &format!("{k}/3")])
                .args(["--start-at", &at, "--threads", "1", "--quiet", "--json"])
                .arg(&report)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (child, report)
        })
        .collect();
    let files: Vec<PathBuf> = shards
        .into_iter()
        .map(|(child, report)| {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{stderr}");
            report
        })
        .collect();
    let (code, stderr, whole) = merged(&files, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_valid_report(&whole);
    let scheduled = whole["requests"]["scheduled"].as_u64().unwrap();
    assert!(scheduled.abs_diff(2_400) <= 1, "scheduled {scheduled}");
    let stats = serve.stats();
    assert_eq!(stats["requests"].as_u64(), Some(scheduled));
    assert_eq!(stats["201"], whole["status"]["201"]);
    assert_eq!(stats["400"], whole["status"]["400"]);
    assert_eq!(whole["shards"], 3);
    assert_eq!(whole["shard"], Value::Null);
    assert_eq!(whole["started_at"].as_str(), Some(at.as_str()));
    assert_eq!(whole["checks"]["duplicate_session_ids"], 0);

    // One process's bodies for the seed, by kind.
    let sample = mcload()
        .arg("sample")
        .arg(&plan)
        .args(["--count", &scheduled.to_string(), "--label"])
        .output()
        .unwrap();
    assert!(sample.status.success());
    let mut kinds: std::collections::BTreeMap<String, u64> = Default::default();
    for line in String::from_utf8(sample.stdout).unwrap().lines() {
        *kinds
            .entry(line.split('\t').next().unwrap().to_owned())
            .or_default() += 1;
    }
    let valid = kinds.remove("valid").unwrap_or(0);
    assert_eq!(whole["bodies"]["valid"].as_u64(), Some(valid));
    let by_mutation: std::collections::BTreeMap<String, u64> = whole["bodies"]["by_mutation"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(by_mutation, kinds);
}
