use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

use crate::util::{mcload, repo, temp_dir};

fn run(args: &[&str]) -> Output {
    mcload()
        .arg("run")
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An address on which nothing listens.
fn refused() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// The folder holds exactly these names (no temporary file left behind).
fn assert_holds(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(found, names, "{}", dir.display());
}

/// Reports from an earlier run stay byte for byte when a later run fails
/// before producing its own: the target refused (3), a CA file that holds
/// no certificate (2, found after the outputs were opened), an interval
/// log whose folder does not exist (2).
#[test]
fn earlier_reports_are_unchanged_by_a_run_that_exits_2_or_3() {
    let dir = temp_dir("kept");
    let json = dir.join("p.json");
    let junit = dir.join("p.xml");
    let hlog = dir.join("p.hlog");
    for (file, old) in [
        (&json, "{\"old\": 1}\n"),
        (&junit, "<old/>"),
        (&hlog, "#old"),
    ] {
        std::fs::write(file, old).unwrap();
    }
    let bad_ca = temp_dir("kept-ca").join("ca.pem");
    std::fs::write(&bad_ca, "not a certificate").unwrap();
    let refused = refused();
    let outputs = [
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ];
    let hlog_flag = ["--hlog", hlog.to_str().unwrap()];
    let cases: [(Vec<&str>, i32); 3] = [
        (
            [
                &["scenarios/smoke.toml", "--target", &refused][..],
                &outputs,
                &hlog_flag,
            ]
            .concat(),
            3,
        ),
        (
            [
                &[
                    "scenarios/smoke.toml",
                    "--target",
                    "https://127.0.0.1:9",
                    "--ca-cert",
                    bad_ca.to_str().unwrap(),
                ][..],
                &outputs,
                &hlog_flag,
            ]
            .concat(),
            2,
        ),
        (
            [
                &["scenarios/smoke.toml", "--requests", "10"][..],
                &outputs,
                &["--hlog", "/nonexistent-dir/p.hlog"],
            ]
            .concat(),
            2,
        ),
    ];
    for (args, code) in cases {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(std::fs::read_to_string(&json).unwrap(), "{\"old\": 1}\n");
        assert_eq!(std::fs::read_to_string(&junit).unwrap(), "<old/>");
        assert_eq!(std::fs::read_to_string(&hlog).unwrap(), "#old");
        assert_holds(&dir, &["p.hlog", "p.json", "p.xml"]);
    }
}

/// A run that completes replaces the earlier reports whole, and leaves no
/// temporary file beside them.
#[test]
fn a_finished_run_replaces_earlier_reports_whole() {
    let dir = temp_dir("replaced");
    let json = dir.join("p.json");
    let hlog = dir.join("p.hlog");
    std::fs::write(&json, "old").unwrap();
    std::fs::write(&hlog, "old").unwrap();
    let out = run(&[
        "scenarios/smoke.toml",
        "--requests",
        "20",
        "--json",
        json.to_str().unwrap(),
        "--hlog",
        hlog.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["requests"]["scheduled"], 20);
    assert!(std::fs::read(&hlog).unwrap().starts_with(b"#mcload "));
    assert_holds(&dir, &["p.hlog", "p.json"]);
}

/// A report that cannot be written after the load (a full device) is
/// exit 4, said on stderr, with the text summary printed all the same.
#[test]
fn a_report_that_cannot_be_written_after_the_load_exits_4_with_the_summary() {
    for flag in ["--json", "--hlog", "--junit"] {
        let out = run(&[
            "scenarios/smoke.toml",
            "--requests",
            "20",
            flag,
            "/dev/full",
        ]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(4), "{flag}: {stderr}");
        assert!(
            stdout.contains("requests   20 scheduled"),
            "{flag}: {stdout}"
        );
        assert!(stdout.contains("verdict"), "{flag}: {stdout}");
        assert!(
            stderr.contains("/dev/full") || stderr.contains("interval log"),
            "{flag}: {stderr}"
        );
        assert!(
            stderr.contains("No space left on device"),
            "{flag}: {stderr}"
        );
    }
}

/// `mcload compare` writes its files the same way: one that cannot be
/// written after the comparison is exit 4, the table printed.
#[test]
fn a_comparison_file_that_cannot_be_written_exits_4() {
    let dir = temp_dir("compare-full");
    let report = dir.join("r.json");
    let out = run(&[
        "scenarios/smoke.toml",
        "--requests",
        "20",
        "--json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let md = dir.join("cmp.md");
    std::fs::write(&md, "old").unwrap();
    let out = crate::compare_util::compare(
        std::slice::from_ref(&report),
        std::slice::from_ref(&report),
        &["--json", "/dev/full", "--markdown", md.to_str().unwrap()],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("cannot write the comparison (JSON) to /dev/full"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).is_empty(), "the table still prints");
    assert_ne!(
        std::fs::read_to_string(&md).unwrap(),
        "old",
        "the others are written"
    );
}
