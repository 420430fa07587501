use std::process::Output;

use crate::util::{mcload, scenario, temp_dir};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An error far along a 70 KB line: exit 2 and a message, not a panic on
/// the caret's width, and not the whole line on stderr.
#[test]
fn an_error_past_column_65535_exits_2_with_the_line_clipped() {
    let path = scenario(
        "long-line",
        &format!("description = \"{}\n", "a".repeat(65_600)),
    );
    let out = mcload().arg("validate").arg(&path).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(":1:65616: not valid TOML"), "{err}");
    assert!(err.len() < 1000, "the line is clipped: {} bytes", err.len());
    assert!(err.contains(" 1 | …aaa"), "{err}");
}

/// `/dev/zero` as a scenario: each command stops at the size cap and says
/// so, instead of reading until memory runs out.
#[test]
fn a_scenario_file_over_the_size_cap_exits_2_naming_file_and_limit() {
    for command in ["validate", "run", "sample"] {
        let out = mcload().args([command, "/dev/zero"]).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("scenario file /dev/zero is larger than 1 MiB"),
            "{command}: {err}"
        );
    }
    // A regular file one byte over the cap, too; one at the cap is read.
    let dir = temp_dir("size-cap");
    let over = dir.join("over.toml");
    let cap = mcload::scenario::MAX_SCENARIO_BYTES as usize;
    let mut text = format!("# {}\n", "x".repeat(cap));
    text.truncate(cap + 1);
    std::fs::write(&over, &text).unwrap();
    let out = mcload().arg("validate").arg(&over).output().unwrap();
    assert!(
        stderr(&out).contains("larger than 1 MiB"),
        "{}",
        stderr(&out)
    );
    let at = dir.join("at.toml");
    text.truncate(cap - 1);
    text.push('\n');
    std::fs::write(&at, &text).unwrap();
    let out = mcload().arg("validate").arg(&at).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Bytes that are not UTF-8 are placed like any other problem.
#[test]
fn a_scenario_that_is_not_utf8_is_placed_at_the_first_bad_byte() {
    let dir = temp_dir("not-utf8");
    let path = dir.join("latin1.toml");
    std::fs::write(&path, b"name = \"ok\"\ndescription = \"caf\xe9\"\n").unwrap();
    let out = mcload().arg("validate").arg(&path).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("latin1.toml:2:19: not UTF-8 text"), "{err}");
}

/// One file with a problem: "the file has problems", not "1 of 1 files".
#[test]
fn validate_of_one_bad_file_says_so_in_the_singular() {
    let path = scenario("one-bad", "[load]\nconcurrency = 0\n");
    let out = mcload().arg("validate").arg(&path).output().unwrap();
    let err = stderr(&out);
    assert!(err.ends_with("the file has problems\n"), "{err}");
}

/// `mcload … 2>&1 | head -c N`: stdout and stderr are one pipe whose
/// reader goes away after the first `read` bytes (at once when 0).
fn with_closed_pipe(args: &[&std::ffi::OsStr], read: usize) -> Option<i32> {
    use std::io::Read;
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut command = mcload();
    command
        .args(args)
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    if read == 0 {
        drop(reader);
        return command.status().unwrap().code();
    }
    let mut child = command.spawn().unwrap();
    drop(command);
    let mut first = vec![0; read];
    reader.read_exact(&mut first).unwrap();
    drop(reader);
    child.wait().unwrap().code()
}

/// The summary written into a closed pipe ends the command quietly (no
/// panic, exit 101), and the JSON report is still written.
#[test]
fn a_closed_pipe_on_stdout_and_stderr_ends_quietly_with_the_report_written() {
    let dir = temp_dir("closed-pipe");
    let json = dir.join("report.json");
    let path = scenario(
        "closed-pipe",
        "[load]\nconcurrency = 2\nduration = \"300ms\"\n",
    );
    let args = [
        "run".as_ref(),
        path.as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
        "--seed".as_ref(),
        "1".as_ref(),
    ];
    assert_eq!(with_closed_pipe(&args, 40), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(report["requests"]["scheduled"].as_u64().unwrap() > 0);
}

/// An error said into a closed stderr keeps its exit code.
#[test]
fn an_error_said_into_a_closed_pipe_keeps_its_exit_code() {
    let missing = temp_dir("closed-pipe-error").join("missing.toml");
    let code = with_closed_pipe(&["run".as_ref(), missing.as_os_str()], 0);
    assert_eq!(code, Some(2));
    let code = with_closed_pipe(&["validate".as_ref(), missing.as_os_str()], 0);
    assert_eq!(code, Some(2));
}

/// Every failure says its cause once: no clause of the message repeats
/// (the cause printed by the error and again by the chain above it).
#[test]
fn failures_say_their_cause_once() {
    let dir = temp_dir("cause-once");
    let good = scenario("cause-once", "[load]\nrequests = 1\n");
    let dir_arg = dir.to_str().unwrap();
    let good_arg = good.to_str().unwrap();
    let missing = dir.join("missing.pem");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["run", "missing.toml"],
        vec!["run", dir_arg],
        vec!["validate", dir_arg],
        vec!["sample", dir_arg],
        vec!["run", good_arg, "--json", dir_arg],
        vec!["run", good_arg, "--hlog", dir_arg],
        vec![
            "run",
            good_arg,
            "--target",
            "https://127.0.0.1:1",
            "--ca-cert",
            missing,
        ],
        vec!["run", good_arg, "--target", "http://no-such-host..invalid"],
        vec!["compare", "--base", dir_arg, "--cand", dir_arg],
    ] {
        let out = mcload().args(&args).output().unwrap();
        let err = stderr(&out);
        assert!(matches!(out.status.code(), Some(2 | 3)), "{args:?}: {err}");
        for line in err.lines().filter(|l| !l.is_empty()) {
            let clauses: Vec<&str> = line.split(": ").map(str::trim).collect();
            for (i, clause) in clauses.iter().enumerate() {
                assert!(
                    !clauses[i + 1..].contains(clause),
                    "{args:?}: {clause:?} is said twice in {line:?}"
                );
            }
        }
    }
}
