use std::net::TcpListener;

use crate::util::{mcload, repo, scenario, temp_dir};

fn output(args: &[&str]) -> (i32, String, String) {
    let out = mcload().args(args).current_dir(repo()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An address on which nothing listens: bind a port, then let it go.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr.to_string()
}

#[test]
fn an_unreachable_target_exits_3_naming_the_address_before_any_load() {
    let addr = closed_port();
    let report = temp_dir("unreachable").join("r.json");
    let (code, stdout, stderr) = output(&[
        "run",
        "scenarios/smoke.toml",
        "--target",
        &format!("http://{addr}"),
        "--json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stdout.is_empty(), "no summary: nothing ran");
}

/// A host name that cannot be resolved: the empty label makes the
/// resolver refuse it on this machine, without asking any name server, so
/// the test needs no DNS.
#[test]
fn an_unresolvable_host_exits_3() {
    let (code, _, stderr) = output(&[
        "run",
        "scenarios/smoke.toml",
        "--target",
        "http://no-such-host..invalid",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot resolve no-such-host..invalid: "),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("failed to lookup").count(),
        1,
        "the cause is said once: {stderr}"
    );
}

#[test]
fn a_bad_scenario_exits_2_naming_file_line_column_and_key() {
    let s = scenario("bad", "name = \"x\"\n[load]\nconcurency = 8\n");
    let (code, _, stderr) = output(&["run", s.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    let expected = format!(
        "{}:3:1: `load.concurency`: unknown key in [load]",
        s.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(stderr.contains("did you mean `concurrency`?"), "{stderr}");
}

#[test]
fn a_wrong_value_in_a_scenario_exits_2_pointing_at_the_value() {
    let s = scenario("bad-value", "[body.params]\n\"media.length\" = \"long\"\n");
    let (code, _, stderr) = output(&["run", s.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(":2:18: `body.params.\"media.length\"`: this param takes a number"),
        "{stderr}"
    );
}

#[test]
fn a_missing_scenario_file_exits_2_saying_why_once() {
    for command in ["run", "validate"] {
        let (code, _, stderr) = output(&[command, "no/such/file.toml"]);
        assert_eq!(code, 2, "{command}");
        assert!(
            stderr.contains("cannot read scenario file no/such/file.toml: "),
            "{command}: {stderr}"
        );
        assert_eq!(
            stderr.matches("No such file").count(),
            1,
            "{command}: the cause is said once: {stderr}"
        );
    }
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    for (args, flag) in [
        (
            vec!["run", "scenarios/smoke.toml", "--concurrency", "0"],
            "--concurrency",
        ),
        (
            vec!["run", "scenarios/smoke.toml", "--duration", "ten"],
            "--duration",
        ),
        (
            vec!["run", "scenarios/smoke.toml", "--target", "localhost:80"],
            "--target",
        ),
        (vec!["run", "scenarios/smoke.toml", "--bogus"], "--bogus"),
    ] {
        let (code, _, stderr) = output(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unwritable_report_path_exits_2_before_any_load() {
    let (code, _, stderr) = output(&[
        "run",
        "scenarios/smoke.toml",
        "--json",
        "/nonexistent-dir/r.json",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("/nonexistent-dir/r.json"), "{stderr}");
}

#[test]
fn a_bad_ca_file_exits_2_naming_it() {
    let bad = temp_dir("bad-ca").join("ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let (code, _, stderr) = output(&[
        "run",
        "scenarios/smoke.toml",
        "--target",
        "https://127.0.0.1:9",
        "--ca-cert",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(bad.to_str().unwrap()), "{stderr}");
}

#[test]
fn every_command_answers_help_with_examples() {
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["sample", "--help"],
        vec!["validate", "--help"],
        vec!["serve", "--help"],
    ] {
        let (code, stdout, _) = output(&args);
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains("Examples:"), "{args:?}: {stdout}");
    }
}

#[test]
fn flags_that_break_a_rule_exit_2_naming_the_flag_with_a_hint() {
    for (flags, expected) in [
        (
            vec!["--connections", "8"],
            "--connections: `connections` applies to the open model, chosen by `rate` or `stages`\n  = hint: the closed model has one connection per `concurrency` worker",
        ),
        (
            vec!["--rate", "10", "--connections", "8", "--max-in-flight", "4"],
            "--max-in-flight: 4 is less than `connections` (8); it counts the requests on the wire too",
        ),
        (
            vec!["--stages", "1s:10", "--duration", "1s"],
            "--duration: `stages` set the run's length; `duration` does not apply",
        ),
        (
            vec!["--rate", "20000000"],
            "--rate: 20000000 requests per second is more than mcload sends",
        ),
    ] {
        let mut args = vec!["run", "scenarios/smoke.toml"];
        args.extend(&flags);
        let (code, stdout, stderr) = output(&args);
        assert_eq!(code, 2, "{flags:?}: {stderr}");
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        assert!(stdout.is_empty(), "{flags:?}: nothing ran");
    }
}

#[test]
fn every_problem_of_the_file_and_the_flags_is_reported_at_once() {
    let s = scenario("bad-and-flags", "[load]\nconcurrency = 0\n");
    let (code, _, stderr) = output(&[
        "run",
        s.to_str().unwrap(),
        "--threads",
        "0",
        "--requests",
        "0",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let file_line = format!(
        "{}:2:15: `load.concurrency`: 0 is out of range",
        s.display()
    );
    assert!(stderr.contains(&file_line), "{stderr}");
    assert!(
        stderr.contains("--threads: 0 is out of range: allowed are 1 to 1024"),
        "{stderr}"
    );
    assert!(stderr.contains("--requests: 0 is out of range"), "{stderr}");
    assert!(stderr.contains("3 problems in"), "{stderr}");
}
