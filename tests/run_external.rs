use std::sync::atomic::Ordering::SeqCst;

use crate::util::{CountingServer, aimed, assert_accounted, assert_fails_unexpected, execute};

#[test]
fn counts_against_an_external_server_equal_that_servers_own() {
    let server = CountingServer::start();
    let run = execute(&aimed(
        &server.url(),
        "[load]\nconcurrency = 16\nrequests = 5000\n[body]\nseed = 5\n",
    ));
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    let c = &server.counts;
    assert_eq!(run.count("/requests/scheduled"), 5_000);
    assert_eq!(c.requests.load(SeqCst), 5_000);
    assert_eq!(run.count("/status/201"), c.created.load(SeqCst));
    assert_eq!(run.count("/status/400"), c.bad_request.load(SeqCst));
    assert_eq!(run.count("/status/500"), c.server_error.load(SeqCst));
    assert_eq!(run.count("/status/other/503"), c.other.load(SeqCst));
    // The server's rule gives each kind of answer.
    assert_eq!(c.server_error.load(SeqCst), 500);
    assert_eq!(c.other.load(SeqCst), 100);
    assert_eq!(c.created.load(SeqCst), 4_400);
    // One keep-alive connection per worker, plus the reachability check.
    assert_eq!(c.connections.load(SeqCst), 16 + 1);
    // An external run has no server section: mcload cannot know its counts.
    assert!(run.json.get("server").is_none());
    assert!(!run.stdout().contains("embedded"));
}

#[test]
fn a_duration_run_awaits_the_requests_on_the_wire() {
    let server = CountingServer::start();
    let run = execute(&aimed(
        &server.url(),
        "[load]\nconcurrency = 4\nduration = \"700ms\"\n",
    ));
    assert_fails_unexpected(&run);
    assert_accounted(&run);
    // Nothing is cut off at the deadline: every request sent was answered
    // and counted on both sides.
    assert_eq!(
        run.count("/requests/scheduled"),
        server.counts.requests.load(SeqCst)
    );
    assert_eq!(
        run.count("/requests/completed"),
        run.count("/requests/scheduled")
    );
    let secs = run.json["duration_s"].as_f64().unwrap();
    assert!((0.7..1.5).contains(&secs), "{secs}");
}
