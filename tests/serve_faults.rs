use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::{Serve, assert_accounted, run, scenario};

/// A valid body from mcload's own generator.
fn valid_body() -> Vec<u8> {
    let s = mcload::scenario::Scenario::parse("", "t.toml", None).unwrap();
    let mut body = Vec::new();
    mcload::generate::BodyGenerator::new(&s.body, 1).write(0, 1_700_000_000_000, &mut body);
    body
}

/// Sends one session POST on a fresh connection and reads until the
/// server closes it: the reads (each a piece as it came), or the error
/// that ended them.
fn post_and_read(serve: &Serve) -> (Vec<Vec<u8>>, Option<std::io::Error>) {
    let mut stream = TcpStream::connect(serve.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = valid_body();
    let head = format!(
        "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
    let mut pieces = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) => return (pieces, None),
            Ok(n) => pieces.push(chunk[..n].to_vec()),
            Err(e) => return (pieces, Some(e)),
        }
    }
}

fn fault(serve: &Serve, name: &str) -> u64 {
    serve.stats()["faults"][name].as_u64().unwrap()
}

#[test]
fn a_reset_share_of_1_resets_every_request_and_counts_it() {
    let serve = Serve::start(&["--reset-share", "1"]);
    let (pieces, error) = post_and_read(&serve);
    assert!(pieces.is_empty(), "no answer: {pieces:?}");
    assert_eq!(
        error.map(|e| e.kind()),
        Some(std::io::ErrorKind::ConnectionReset)
    );
    let stats = serve.stats();
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["faults"]["reset"], 1);
    assert_eq!(stats["201"], 0);
}

#[test]
fn a_garbage_share_of_1_answers_bytes_that_are_not_http_then_closes() {
    let serve = Serve::start(&["--garbage-share", "1"]);
    let (pieces, error) = post_and_read(&serve);
    assert!(error.is_none(), "{error:?}");
    let got = pieces.concat();
    assert!(!got.is_empty() && !got.starts_with(b"HTTP/"), "{got:?}");
    assert_eq!(fault(&serve, "garbage"), 1);
}

#[test]
fn a_trickled_answer_comes_in_small_pieces_and_whole() {
    let serve = Serve::start(&["--trickle-share", "1"]);
    let started = Instant::now();
    let (pieces, error) = post_and_read(&serve);
    assert!(error.is_none(), "{error:?}");
    let text = String::from_utf8(pieces.concat()).unwrap();
    assert!(text.starts_with("HTTP/1.1 201 Created\r\n"), "{text}");
    assert!(text.contains("location: /api/v1/sessions/"), "{text}");
    assert!(text.ends_with("connection: close\r\n\r\n"), "{text}");
    assert!(pieces.iter().all(|p| p.len() <= 16), "{pieces:?}");
    // 8 bytes every 5 ms.
    let least = Duration::from_millis(5 * (text.len() as u64 / 8 - 1));
    assert!(started.elapsed() >= least, "{:?}", started.elapsed());
    let stats = serve.stats();
    assert_eq!(stats["201"], 1);
    assert_eq!(stats["faults"]["trickled"], 1);
}

#[test]
fn close_says_connection_close_and_closes() {
    let serve = Serve::start(&["--close"]);
    let (pieces, error) = post_and_read(&serve);
    assert!(error.is_none(), "{error:?}");
    let text = String::from_utf8(pieces.concat()).unwrap().to_lowercase();
    assert!(text.starts_with("http/1.1 201"), "{text}");
    assert!(text.contains("connection: close\r\n"), "{text}");
    assert_eq!(fault(&serve, "closed"), 1);
}

/// The stall windows of 300ms/600ms are [600, 900) ms, [1200, 1500) ms, …
/// after the start: a request at about 620 ms waits for the first to end.
#[test]
fn a_stall_holds_answers_until_it_ends() {
    // --close, so that reading to the end of the connection ends.
    let serve = Serve::start(&["--stall", "300ms/600ms", "--close"]);
    std::thread::sleep(Duration::from_millis(620));
    let sent = Instant::now();
    let (pieces, _) = post_and_read(&serve);
    let waited = sent.elapsed();
    assert!(pieces.concat().starts_with(b"HTTP/1.1 201"));
    assert!(
        waited >= Duration::from_millis(100),
        "answered after {waited:?}"
    );
    assert_eq!(fault(&serve, "stalled"), 1);
}

#[test]
fn latency_distributions_show_in_the_measured_latency() {
    let s = scenario("serve-latency-dist", "[load]\nconcurrency = 4\n");
    for (latency, low, high) in [
        ("uniform:20ms..40ms", 20.0, 200.0),
        ("lognormal:20ms,0.3", 5.0, 500.0),
    ] {
        let serve = Serve::start(&["--latency", latency]);
        let run = run(&s, &["--target", &serve.url(), "--requests", "40"]);
        assert_eq!(run.code(), 0, "{}", run.stderr());
        let min = run.json["latency_ms"]["min"].as_f64().unwrap();
        let p50 = run.json["latency_ms"]["p50"].as_f64().unwrap();
        assert!(min >= low, "{latency}: min {min}");
        assert!((low..high).contains(&p50), "{latency}: p50 {p50}");
    }
}

/// Every fault at once: mcload's counts equal the server's, class by
/// class. A reset is an `io` error to mcload and a request received but
/// not answered to the server; garbage is a `protocol` error.
#[test]
fn under_every_fault_mcloads_counts_equal_the_servers() {
    let serve = Serve::start(&[
        "--reset-share",
        "0.1",
        "--garbage-share",
        "0.1",
        "--trickle-share",
        "0.02",
        "--close",
        "--error-rate",
        "0.1",
        "--latency",
        "uniform:0ms..2ms",
    ]);
    let s = scenario("serve-all-faults", "[load]\nconcurrency = 8\n");
    let run = run(
        &s,
        &["--target", &serve.url(), "--requests", "600", "--seed", "3"],
    );
    assert_accounted(&run);
    let stats = serve.stats();
    let count = |key: &str| stats[key].as_u64().unwrap();
    assert_eq!(count("requests"), 600);
    assert_eq!(run.count("/errors/io"), fault(&serve, "reset"));
    assert_eq!(run.count("/errors/protocol"), fault(&serve, "garbage"));
    assert_eq!(run.count("/status/201"), count("201"));
    assert_eq!(run.count("/status/500"), count("500"));
    assert_eq!(
        run.count("/errors/connect") + run.count("/errors/timeout"),
        0
    );
    assert!(fault(&serve, "reset") > 20 && fault(&serve, "garbage") > 20);
    // A trickled answer closes its connection too, counted as trickled.
    assert_eq!(
        fault(&serve, "closed") + fault(&serve, "trickled"),
        count("201") + count("500") + count("400")
    );
}
