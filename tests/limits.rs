//! The generator's own limits: a run needing more file descriptors than
//! the process may open is refused before anything is sent, and a soft
//! limit below the need is raised toward the hard one.

use std::process::Output;

use crate::util::{Serve, mcload, repo};

/// `mcload ARGS` under `ulimit FLAG 256`, run by the shell.
fn under_ulimit(flag: &str, args: &[&str]) -> Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit {flag} 256 && exec \"$0\" \"$@\""))
        .arg(mcload().get_program())
        .args(args)
        .output()
        .unwrap()
}

fn hard_limit() -> Option<u64> {
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.trim() {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

#[test]
fn a_run_needing_more_descriptors_than_the_hard_limit_is_refused_before_sending() {
    let server = Serve::start(&[]);
    let url = server.url();
    let smoke = repo().join("scenarios/smoke.toml");
    let args = [
        "run",
        smoke.to_str().unwrap(),
        "--target",
        &url,
        "--concurrency",
        "1000",
        "--requests",
        "2000",
    ];
    let out = under_ulimit("-n", &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the limit is 256"), "{stderr}");
    assert!(stderr.contains("ulimit -n"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(server.stats()["requests"], 0, "nothing reached the target");
}

#[test]
fn a_soft_limit_below_the_need_is_raised_and_the_run_succeeds() {
    // 1,000 connections and mcload's own: the hard limit must allow them.
    match hard_limit() {
        Some(hard) if hard >= 1_200 => {}
        other => {
            eprintln!("skipped: the hard descriptor limit ({other:?}) is below 1,200");
            return;
        }
    }
    let server = Serve::start(&[]);
    let url = server.url();
    let smoke = repo().join("scenarios/smoke.toml");
    let args = [
        "run",
        smoke.to_str().unwrap(),
        "--target",
        &url,
        "--concurrency",
        "1000",
        "--requests",
        "2000",
        "--quiet",
    ];
    let out = under_ulimit("-S -n", &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(server.stats()["requests"], 2000);
}
