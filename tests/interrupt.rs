use std::time::{Duration, Instant};

use mcload::run::RunOptions;

use crate::util::{assert_accounted, execute_with, mcload, repo, temp_dir};

fn interrupted_run(signal: &str, model: &[&str]) {
    let report = temp_dir("interrupt").join("report.json");
    let child = mcload()
        .args(["run", "scenarios/smoke.toml", "--duration", "60s"])
        .args(model)
        .arg("--json")
        .arg(&report)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(sent.elapsed() < Duration::from_secs(10), "stops promptly");
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let run = crate::util::Run::from_output(output, json);
    assert_eq!(run.json["interrupted"], true);
    assert_accounted(&run);
    assert!(run.count("/requests/scheduled") > 0);
    // Requests on the wire were awaited, so the server saw exactly what mcload counted.
    assert_eq!(run.json["server"]["matches"], true, "{}", run.json);
    assert!(run.json["duration_s"].as_f64().unwrap() < 30.0);
    assert!(run.stdout().contains("INTERRUPTED"));
}

#[test]
fn ctrl_c_stops_the_run_and_still_writes_a_complete_report() {
    interrupted_run("-INT", &[]);
}

#[test]
fn an_interrupted_open_model_run_has_every_request_accounted_for() {
    // In-process: the interrupt a signal would make, from another thread.
    let options = RunOptions::default();
    let interrupt = options.interrupt.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        interrupt.request()
    });
    let run = execute_with("[load]\nrate = 2000\nduration = \"60s\"\n", options);
    assert!(stopper.join().unwrap(), "the first request stops the run");
    assert_eq!(run.code(), 130, "{}", run.stderr());
    assert_eq!(run.json["interrupted"], true);
    assert_accounted(&run);
    assert!(run.count("/requests/scheduled") > 0);
    assert_eq!(run.json["server"]["matches"], true, "{}", run.json);
    assert!(run.json["duration_s"].as_f64().unwrap() < 30.0);
    assert!(run.stdout().contains("INTERRUPTED"));
}

#[test]
fn sigterm_stops_the_run_like_ctrl_c() {
    interrupted_run("-TERM", &[]);
}

/// Ctrl-C while mcload checks a target that accepts connections but never
/// answers the TLS handshake: the check is cut short, nothing is sent, and
/// the exit is 130, not 3 after the whole timeout.
#[test]
fn ctrl_c_during_the_start_probe_exits_130_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Keeps each connection open and silent.
    let _silent = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let child = mcload()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--requests",
            "5",
            "--timeout",
            "20s",
        ])
        .args(["--target", &format!("https://127.0.0.1:{port}")])
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let sent = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "stops long before the 20 s timeout: {stderr}"
    );
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(output.stdout.is_empty(), "no summary: nothing ran");
}
