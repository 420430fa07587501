use std::sync::atomic::Ordering::SeqCst;

use crate::util::{
    Misbehaviour, RawServer, Run, aimed, assert_accounted, assert_fails_unexpected, execute,
};

/// Four workers on two threads against `server`, with `extra` load and
/// http settings.
fn closed_run(server: &RawServer, load: &str, http: &str) -> Run {
    execute(&aimed(
        &server.url(),
        &format!("[load]\nconcurrency = 4\nthreads = 2\n{load}\n[http]\n{http}\n"),
    ))
}

#[test]
fn an_answer_that_is_not_http_is_a_protocol_error() {
    let server = RawServer::start(Misbehaviour::Garbage);
    let run = closed_run(&server, "requests = 40", "");
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    assert_eq!(run.count("/errors/protocol"), 40);
    assert_eq!(server.requests.load(SeqCst), 40);
    // The count comes with what was wrong, in the report and the summary.
    let reason = run.json["error_reasons"]["protocol"].as_str().unwrap();
    assert_eq!(reason, "malformed response head");
    assert!(
        run.stdout()
            .contains("first protocol: malformed response head"),
        "{}",
        run.stdout()
    );
    assert!(run.json["error_reasons"]["io"].is_null());
}

#[test]
fn a_server_that_hangs_up_gives_io_errors() {
    let server = RawServer::start(Misbehaviour::Hangup);
    let run = closed_run(&server, "requests = 40", "");
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    assert_eq!(run.count("/errors/io"), 40);
    assert_eq!(server.requests.load(SeqCst), 40);
    assert_eq!(
        run.json["error_reasons"]["io"],
        "the target closed the connection before the answer was complete"
    );
}

#[test]
fn a_stalled_server_gives_timeouts_after_the_timeout() {
    let server = RawServer::start(Misbehaviour::Stall);
    let started = std::time::Instant::now();
    let run = closed_run(&server, "requests = 8", "timeout = \"200ms\"");
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    assert_eq!(run.count("/errors/timeout"), 8);
    // 4 workers, 2 requests each, 200 ms apiece.
    let elapsed = started.elapsed().as_secs_f64();
    assert!((0.4..3.0).contains(&elapsed), "{elapsed}");
    let p50 = run.json["latency_ms_by_outcome"]["errors"]["p50"]
        .as_f64()
        .unwrap();
    assert!(
        (200.0..260.0).contains(&p50),
        "timeouts take the timeout: {p50}"
    );
}

#[test]
fn a_stall_after_many_quick_answers_times_out_at_the_stalled_requests_own_deadline() {
    // Each worker's timer is moved to every request's deadline while the
    // answers come quickly, and must then fire a whole timeout after the
    // stalled request started: not at an earlier request's deadline, and
    // not never.
    let server = RawServer::start(Misbehaviour::StallAfter(2_000));
    let run = closed_run(&server, "requests = 2004", "timeout = \"600ms\"");
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_accounted(&run);
    assert_eq!(run.count("/status/201"), 2_000);
    assert_eq!(run.count("/errors/timeout"), 4);
    let errors = &run.json["latency_ms_by_outcome"]["errors"];
    let (min, max) = (
        errors["min"].as_f64().unwrap(),
        errors["max"].as_f64().unwrap(),
    );
    assert!(
        (595.0..900.0).contains(&min) && max < 900.0,
        "timeouts take the timeout: {min}..{max} ms"
    );
}

#[test]
fn when_the_target_dies_mid_run_every_request_is_still_accounted_for() {
    let server = RawServer::start(Misbehaviour::DieAfter(300));
    let run = closed_run(&server, "duration = \"1s\"", "");
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    // mcload counted exactly the answers the server gave before dying ...
    assert_eq!(run.count("/status/201"), server.answered.load(SeqCst));
    assert_eq!(run.count("/status/201"), 300);
    // ... and the rest as the errors a dying server causes.
    let io = run.count("/errors/io");
    let connect = run.count("/errors/connect");
    assert!(io >= 1, "requests on open connections fail: {}", run.json);
    assert!(connect >= 1, "new connections are refused: {}", run.json);
    assert_eq!(300 + io + connect, run.count("/requests/scheduled"));
}

/// A dead target does not turn the workers into a connect loop: each waits
/// after a failed connect (10 ms, doubling), so in 1 s four workers make
/// a few dozen connects, not hundreds of thousands.
#[test]
fn workers_back_off_after_failed_connects_so_a_dead_target_is_not_hammered() {
    // Accepts the start probe, then dies at the first request.
    let server = RawServer::start(Misbehaviour::DieAfter(0));
    let started = std::time::Instant::now();
    let run = closed_run(&server, "duration = \"1s\"", "");
    let elapsed = started.elapsed().as_secs_f64();
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    let connect = run.count("/errors/connect");
    assert!(
        (1..100).contains(&connect),
        "a bounded number of connects: {}",
        run.json
    );
    assert!(run.count("/requests/scheduled") < 120, "{}", run.json);
    // The waits are measured: about 1 s for each of the 4 workers.
    let backoff = run.json["backoff_s"].as_f64().unwrap();
    assert!((2.0..=4.5).contains(&backoff), "{backoff} s\n{}", run.json);
    assert!(
        run.stdout().contains("backoff    workers waited"),
        "{}",
        run.stdout()
    );
    // A worker in its wait at the end of the duration stops there.
    assert!(elapsed < 2.5, "{elapsed} s");
}

#[test]
fn in_the_open_model_a_dying_target_leaves_every_request_accounted_for() {
    let server = RawServer::start(Misbehaviour::DieAfter(300));
    let run = execute(&aimed(
        &server.url(),
        "[load]\nrate = 1000\nrequests = 1500\nconnections = 4\nthreads = 2\n",
    ));
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    assert_eq!(run.count("/requests/scheduled"), 1_500);
    assert_eq!(run.count("/status/201"), server.answered.load(SeqCst));
    assert_eq!(run.count("/status/201"), 300);
    let failed = run.count("/errors/io") + run.count("/errors/connect") + run.count("/dropped");
    assert_eq!(300 + failed, 1_500, "{}", run.json);
}

#[test]
fn in_the_open_model_a_stalled_server_times_out_waiting_requests_too() {
    let server = RawServer::start(Misbehaviour::Stall);
    let started = std::time::Instant::now();
    let run = execute(&aimed(
        &server.url(),
        "[load]\nrate = 100\nduration = \"500ms\"\nconnections = 2\n[http]\ntimeout = \"300ms\"\n",
    ));
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    assert_eq!(run.count("/requests/scheduled"), 50);
    // Two on the wire at a time; the others wait, and the timeout counts
    // from each request's intended start, waiting included.
    assert_eq!(run.count("/errors/timeout"), 50, "{}", run.json);
    assert!(started.elapsed().as_secs_f64() < 5.0);
    // Those that never got a connection in time are named apart: with the
    // ones the server received, they make up every request.
    let never_sent = run.count("/timeouts_never_sent");
    assert_eq!(
        never_sent + server.requests.load(SeqCst),
        50,
        "{}",
        run.json
    );
}
