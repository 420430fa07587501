use std::time::{Duration, Instant};

use mcload::run::RunOptions;

use crate::util::{
    Misbehaviour, RawServer, Run, aimed, assert_accounted, execute_with, mcload, repo, temp_dir,
};

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

/// Sends `signal` to the process `pid`.
fn kill(signal: &str, pid: u32) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Four workers against a server that never answers, with a 25 s timeout
/// and `args`: Ctrl-C after 700 ms, and again `again` later when given.
/// The run, and how long it took to exit after the last Ctrl-C.
fn stalled_run_interrupted(args: &[&str], again: Option<Duration>) -> (Run, Duration) {
    let server = RawServer::start(Misbehaviour::Stall);
    let report = temp_dir("cancel").join("report.json");
    let child = mcload()
        .args(["run", "scenarios/smoke.toml", "--target", &server.url()])
        .args(["--concurrency", "4", "--threads", "2", "--duration", "60s"])
        .args(["--timeout", "25s"])
        .args(args)
        .arg("--json")
        .arg(&report)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    kill("-INT", child.id());
    if let Some(again) = again {
        std::thread::sleep(again);
        kill("-INT", child.id());
    }
    let last = Instant::now();
    let output = child.wait_with_output().unwrap();
    let took = last.elapsed();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let run = Run::from_output(output, json);
    assert_eq!(run.code(), 130, "{}", run.stderr());
    assert_eq!(run.json["interrupted"], true);
    assert_accounted(&run);
    // The four requests on the wire, never answered, are cancelled.
    assert_eq!(run.count("/cancelled"), 4, "{}", run.json);
    assert_eq!(run.count("/requests/scheduled"), 4, "{}", run.json);
    assert!(run.stdout().contains("INTERRUPTED"), "{}", run.stdout());
    assert!(run.stdout().contains("(cancelled)"), "{}", run.stdout());
    (run, took)
}

/// A second Ctrl-C ends the wait for answers at once: what is on the wire
/// is cancelled, the report written, within a second.
#[test]
fn a_second_ctrl_c_cancels_the_requests_on_the_wire_at_once() {
    let (run, took) = stalled_run_interrupted(&[], Some(Duration::from_millis(300)));
    assert!(
        took < Duration::from_secs(1),
        "exited {took:?} after the second Ctrl-C"
    );
    let stderr = run.stderr();
    assert!(
        stderr.contains("get up to 5s to finish") && stderr.contains("Ctrl-C again"),
        "the first Ctrl-C names the grace and the way out: {stderr}"
    );
    assert!(stderr.contains("stopping now"), "{stderr}");
}

/// One Ctrl-C gives the requests on the wire the grace period (`--grace`),
/// then cancels them: the run ends within the grace plus a second, not
/// after their 25 s timeout.
#[test]
fn one_ctrl_c_waits_the_grace_period_then_cancels_what_is_left() {
    let (run, took) = stalled_run_interrupted(&["--grace", "1s"], None);
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(2)).contains(&took),
        "exited {took:?} after Ctrl-C with a 1 s grace"
    );
    assert!(
        run.stderr().contains("get up to 1s to finish"),
        "{}",
        run.stderr()
    );
}

/// The library's interrupt, twice, in the open model: requests on the wire
/// are cancelled, those still waiting for a connection dropped.
#[test]
fn an_open_model_run_cancelled_twice_accounts_for_the_waiting_and_the_sent() {
    let server = RawServer::start(Misbehaviour::Stall);
    let options = RunOptions::default();
    let interrupt = options.interrupt.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        let first = interrupt.request();
        std::thread::sleep(Duration::from_millis(100));
        (first, interrupt.request())
    });
    let started = Instant::now();
    let run = execute_with(
        &aimed(
            &server.url(),
            "[load]\nrate = 200\nduration = \"60s\"\nconnections = 2\nthreads = 1\n[http]\ntimeout = \"20s\"\n",
        ),
        options,
    );
    assert_eq!(stopper.join().unwrap(), (true, false));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code(), 130, "{}", run.stderr());
    assert_accounted(&run);
    assert_eq!(
        run.count("/cancelled"),
        2,
        "one per connection: {}",
        run.json
    );
    assert!(run.count("/dropped") > 20, "the waiting ones: {}", run.json);
}
