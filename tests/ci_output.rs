//! Output in CI logs: the header when the load starts, a plain progress
//! line when stderr is not a terminal, no escape sequences in pipes, and
//! GitHub Actions' annotations and step summary.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::{mcload, repo, temp_dir};

/// The header (target, then model and plan) is on stdout while the load
/// runs, and the summary at the end does not repeat it.
#[test]
fn the_header_prints_when_the_load_starts_and_once() {
    let mut child = mcload()
        .args(["run", "scenarios/smoke.toml", "--duration", "2s"])
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let seen_after = started.elapsed();
    assert!(
        child.try_wait().unwrap().is_none() && seen_after < Duration::from_millis(1500),
        "the header came {seen_after:?} after the start, before the run ended"
    );
    assert!(
        first.starts_with("mcload ") && first.contains("(embedded reference server)"),
        "{first}"
    );
    assert!(second.starts_with("closed model: 8 workers"), "{second}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{rest}");
    assert!(
        rest.contains("accounted") && rest.contains("verdict    passed"),
        "{rest}"
    );
    assert!(!rest.contains(first.trim()), "the header once: {rest}");
}

/// A log that is not a terminal gets a plain line every `--progress-every`,
/// with no carriage return and no escape sequence anywhere (NO_COLOR or
/// not); `--quiet` prints nothing.
#[test]
fn a_log_gets_plain_progress_lines_and_never_an_escape() {
    let out = mcload()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--duration",
            "2500ms",
            "--progress-every",
            "1s",
        ])
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("mcload: "))
        .collect();
    assert!(lines.len() >= 2, "{stderr}");
    assert!(lines[0].starts_with("mcload: 1s/2.5s · "), "{stderr}");
    assert!(lines[1].starts_with("mcload: 2s/2.5s · "), "{stderr}");
    for line in &lines {
        assert!(
            line.contains(" requests · ") && line.contains(" · errors 0"),
            "{line}"
        );
    }
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.contains(&b'\r') && !stream.contains(&0x1b),
            "{stderr}"
        );
    }

    let out = mcload()
        .args(["run", "scenarios/smoke.toml", "--duration", "1200ms"])
        .args(["--progress-every", "500ms", "--quiet"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

/// With the JSON report on stdout, the header goes to stderr with the
/// summary, so that stdout stays one document.
#[test]
fn with_json_on_stdout_the_header_goes_to_stderr() {
    let out = mcload()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--requests",
            "50",
            "--json",
            "-",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["requests"]["scheduled"], 50);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("mcload ") && stderr.contains("accounted"),
        "{stderr}"
    );
}

fn github_run(summary: &std::path::Path, actions: bool, args: &[&str]) -> (i32, String) {
    let mut command = mcload();
    command
        .args(["run", "scenarios/smoke.toml", "--requests", "200"])
        .args(args)
        .current_dir(repo())
        .env("GITHUB_STEP_SUMMARY", summary);
    if actions {
        command.env("GITHUB_ACTIONS", "true");
    } else {
        command.env_remove("GITHUB_ACTIONS");
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Under GitHub Actions each failed threshold is an `::error` annotation
/// on stdout (`%` escaped), and the thresholds table and verdict are
/// appended to `$GITHUB_STEP_SUMMARY`; outside it, neither.
#[test]
fn github_actions_gets_annotations_and_a_step_summary() {
    let summary = temp_dir("github").join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();

    let (code, stdout) = github_run(
        &summary,
        true,
        &[
            "--threshold",
            "latency.p99 < 1us",
            "--threshold",
            "unexpected > 50%",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 2, "{stdout}");
    assert!(
        annotations[0]
            .starts_with("::error title=mcload::threshold failed: latency.p99 < 1us (measured "),
        "{stdout}"
    );
    assert!(
        annotations[1].starts_with(
            "::error title=mcload::threshold failed: unexpected > 50%25 (measured 0.00%25"
        ),
        "{stdout}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("earlier step\n### mcload · smoke → http://127.0.0.1:"),
        "{md}"
    );
    assert!(
        md.contains("| metric | measured | limit | result | source |"),
        "{md}"
    );
    assert!(md.contains("| `latency.p99` | "), "{md}");
    assert!(md.contains(" | < 1us | **FAIL** | --threshold |"), "{md}");
    assert!(
        md.contains("| `unexpected` | 0.00% | > 50% | **FAIL** | --threshold |"),
        "{md}"
    );
    assert!(md.contains("**verdict: FAILED**"), "{md}");

    let (code, stdout) = github_run(&summary, true, &["--threshold", "latency.p99 < 10s"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("::error"), "{stdout}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(md.matches("### mcload").count(), 2, "appended: {md}");
    assert!(
        md.contains("| PASS | --threshold |") && md.ends_with("**verdict: passed** ✓\n\n"),
        "{md}"
    );

    let before = std::fs::read_to_string(&summary).unwrap();
    let (code, stdout) = github_run(&summary, false, &["--threshold", "latency.p99 < 1us"]);
    assert_eq!(code, 1);
    assert!(!stdout.contains("::error"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), before);
}
