//! `--header`, `${VAR}` in header values, and credential headers that
//! reach the target but never mcload's output.

use crate::util::{HeadServer, mcload, scenario, temp_dir};

const TOKEN: &str = "tok-9f3a-SECRET";
const KEY: &str = "key-77c1-SECRET";

fn header_lines(head: &str) -> Vec<&str> {
    head.split("\r\n").skip(1).collect()
}

/// A header from the file with `${VAR}`, one from `--header` with
/// `${VAR}`, and one that `--header` replaces: each reaches the server as
/// meant, and neither secret appears in stdout, stderr or the JSON.
#[test]
fn headers_from_the_file_and_the_flag_reach_the_target_and_secrets_never_the_output() {
    let server = HeadServer::start();
    let file = scenario(
        "headers",
        &format!(
            "[target]\nurl = \"{}\"\n[load]\nconcurrency = 2\nrequests = 20\n[http.headers]\nAuthorization = \"Bearer ${{MCLOAD_IT_TOKEN}}\"\n\"X-Run\" = \"file\"\n\"X-Price\" = \"$${{literal}}\"\n",
            server.url()
        ),
    );
    let report = temp_dir("headers").join("report.json");
    let out = mcload()
        .arg("run")
        .arg(&file)
        .args([
            "--header",
            "x-run: flag",
            "--header",
            "X-Api-Key: ${MCLOAD_IT_KEY}",
        ])
        .arg("--json")
        .arg(&report)
        .env("MCLOAD_IT_TOKEN", TOKEN)
        .env("MCLOAD_IT_KEY", KEY)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let heads = server.heads();
    assert_eq!(heads.len(), 20, "every request recorded");
    for head in &heads {
        let lines = header_lines(head);
        assert!(
            lines.contains(&format!("Authorization: Bearer {TOKEN}").as_str()),
            "{head}"
        );
        assert!(
            lines.contains(&format!("X-Api-Key: {KEY}").as_str()),
            "{head}"
        );
        assert!(
            lines.contains(&"x-run: flag"),
            "the flag replaces the file's: {head}"
        );
        assert!(!head.contains("X-Run: file"), "{head}");
        assert!(lines.contains(&"X-Price: ${literal}"), "{head}");
    }
    let json = std::fs::read_to_string(&report).unwrap();
    for secret in [TOKEN, KEY] {
        for (what, text) in [("stdout", &*stdout), ("stderr", &*stderr), ("JSON", &json)] {
            assert!(!text.contains(secret), "{secret} in {what}: {text}");
        }
    }
}

/// An unset variable is exit 2 naming it and where it was written, in
/// the file or by flag, and nothing is sent.
#[test]
fn an_unset_variable_exits_2_naming_it_and_nothing_is_sent() {
    let server = HeadServer::start();
    let file = scenario(
        "unset",
        &format!(
            "[target]\nurl = \"{}\"\n[load]\nrequests = 5\n[http.headers]\nAuthorization = \"Bearer ${{MCLOAD_IT_UNSET_A}}\"\n",
            server.url()
        ),
    );
    let out = mcload()
        .arg("run")
        .arg(&file)
        .args(["--header", "X-B: ${MCLOAD_IT_UNSET_B}"])
        .env_remove("MCLOAD_IT_UNSET_A")
        .env_remove("MCLOAD_IT_UNSET_B")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unset.toml:6:")
            && stderr.contains("`http.headers.Authorization`")
            && stderr.contains("`MCLOAD_IT_UNSET_A` is not set"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--header") && stderr.contains("`MCLOAD_IT_UNSET_B` is not set"),
        "{stderr}"
    );
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst), 0);

    let out = mcload()
        .arg("validate")
        .arg(&file)
        .env_remove("MCLOAD_IT_UNSET_A")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`MCLOAD_IT_UNSET_A` is not set"));
}

/// A bad `--header` is refused by the file's rules, at `--header`, and a
/// message never repeats a value that may be a secret.
#[test]
fn a_bad_header_flag_exits_2_without_showing_its_value() {
    let smoke = crate::util::repo().join("scenarios/smoke.toml");
    for (flag, says) in [
        ("Content-Length: 5", "frames each request"),
        ("Authorization Bearer hunter2-SECRET", "write `Name: value`"),
        ("X-Token: ${unclosed hunter2-SECRET", "no closing"),
    ] {
        let out = mcload()
            .arg("run")
            .arg(&smoke)
            .args(["--header", flag])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains("--header") && stderr.contains(says),
            "{flag}: {stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{flag}: {stderr}");
        assert!(out.stdout.is_empty(), "nothing ran");
    }
}

/// `mcload validate` of a file holding a credential says nothing of it,
/// also when the credential's own value is the mistake.
#[test]
fn validate_never_shows_a_credential() {
    let good = scenario(
        "cred-ok",
        "[http.headers]\nCookie = \"session=hunter2-SECRET\"\n\"X-Client-Secret\" = \"hunter2-SECRET\"\n",
    );
    let bad = scenario(
        "cred-bad",
        "[http.headers]\nAuthorization = \"Bearer hunter2-SECRET\\u0007\"\n",
    );
    for (file, code) in [(&good, 0), (&bad, 2)] {
        let out = mcload().arg("validate").arg(file).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(code), "{all}");
        assert!(!all.contains("hunter2"), "{all}");
        if code == 2 {
            assert!(
                all.contains("cred-bad.toml:2:") && all.contains("control characters"),
                "{all}"
            );
        }
    }
}
