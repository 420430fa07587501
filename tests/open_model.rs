use std::time::Duration;

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use serde_json::Value;

use mcload::run::RunOptions;

use crate::util::{
    CountingServer, Run, Serve, aimed, assert_accounted, assert_fails_unexpected, execute,
    execute_with, temp_dir,
};

fn decode(base64_text: &str) -> Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .unwrap();
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

fn ms(run: &Run, pointer: &str) -> f64 {
    run.json
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {}", run.json))
}

#[test]
fn a_constant_rate_schedules_exactly_and_every_request_is_accounted() {
    let server = CountingServer::start();
    let r = execute(&aimed(
        &server.url(),
        "[load]\nrate = 500\nduration = \"2s\"\nthreads = 2\n",
    ));
    assert_fails_unexpected(&r);
    assert_accounted(&r);
    let scheduled = r.count("/requests/scheduled");
    assert!((999..=1_001).contains(&scheduled), "{scheduled}");
    assert_eq!(r.count("/dropped"), 0);
    assert_eq!(r.json["model"]["type"], "open");
    assert_eq!(r.json["model"]["rate"], 500.0);
    // Every request reached the server and was answered once.
    assert_eq!(
        server
            .counts
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        r.count("/requests/completed")
    );
    // The plan took the time it says, not less: the rate was kept.
    let secs = ms(&r, "/duration_s");
    assert!((1.9..2.8).contains(&secs), "{secs}");
    assert!(ms(&r, "/service_time_ms/p50") <= ms(&r, "/latency_ms/p50"));
}

#[test]
fn a_stalled_target_shows_in_latency_not_in_service_time() {
    let server = CountingServer::start();
    let text = aimed(
        &server.url(),
        "[load]\nrate = 200\nduration = \"4s\"\nconnections = 4\n\
         [thresholds]\n\"latency.p99 over 1s\" = \"< 300ms\"\n\"latency.p99 over 2s\" = \"< 10s\"\n",
    );
    let r = std::thread::scope(|scope| {
        let run = scope.spawn(|| execute(&text));
        std::thread::sleep(Duration::from_millis(1_500));
        // The server holds its answers for a second; the generator goes on.
        server.freeze(Duration::from_secs(1));
        run.join().unwrap()
    });
    assert_fails_unexpected(&r);
    assert_accounted(&r);
    assert_eq!(r.count("/dropped"), 0);
    let latency_p99 = ms(&r, "/latency_ms/p99");
    let service_p99 = ms(&r, "/service_time_ms/p99");
    let service_max = ms(&r, "/service_time_ms/max");
    // About 200 requests were due during the stall: their latency counts
    // from when they should have started.
    assert!(latency_p99 >= 800.0, "latency p99 {latency_p99} ms");
    // Only the 4 on the wire waited on the server itself.
    assert!(service_max >= 800.0, "service max {service_max} ms");
    assert!(service_p99 < 100.0, "service p99 {service_p99} ms");
    // The stall shows in the series: a second with a p99 near the stall.
    let worst = r.json["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["latency_ms"]["p99"].as_f64())
        .fold(0.0, f64::max);
    assert!(worst >= 800.0, "{}", r.json["intervals"]);
    // A threshold over 1-second windows judges each second of the series:
    // its worst window is the stalled second, with the same p99.
    let thresholds = r.json["thresholds"].as_array().unwrap();
    let by_second = &thresholds[0];
    assert_eq!(by_second["expression"], "latency.p99 over 1s < 300ms");
    assert_eq!(by_second["pass"], false);
    assert_eq!(by_second["measured"].as_f64(), Some(worst), "{by_second}");
    let t = by_second["window"]["worst_t"].as_u64().unwrap();
    let stalled = r.json["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["t"] == t)
        .unwrap();
    assert_eq!(stalled["latency_ms"]["p99"].as_f64(), Some(worst));
    // The worst two-second window holds that second, and passes a loose limit.
    let two = &thresholds[1];
    assert_eq!(two["pass"], true);
    assert!(two["measured"].as_f64().unwrap() >= 800.0, "{two}");
    let start = two["window"]["worst_t"].as_u64().unwrap();
    assert!(start == t || start + 1 == t, "{two} vs second {t}");
    assert!(
        r.stderr()
            .contains("threshold failed: latency.p99 over 1s < 300ms"),
        "{}",
        r.stderr()
    );
    // Every request started in some second of the series, stall or not
    // (a 1 s stall is too short to show as a second without answers).
    let started: u64 = r.json["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["started"].as_u64().unwrap())
        .sum();
    assert_eq!(started, r.count("/requests/scheduled"));
}

#[test]
fn a_ramp_schedules_the_integral_and_the_series_shows_it() {
    let r = execute(
        "[load]\nstart_rate = 100\nstages = [{ duration = \"3s\", rate = 1000 }]\nthreads = 2\n\
         [body]\nseed = 3\n",
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r);
    // (100 + 1000) / 2 * 3 s = 1650 requests.
    let scheduled = r.count("/requests/scheduled");
    assert!((1_649..=1_651).contains(&scheduled), "{scheduled}");
    assert_eq!(r.json["server"]["check"], "equal", "{}", r.json["server"]);
    // Second k holds the integral over [k, k+1): 250, 550, 850.
    let intervals = r.json["intervals"].as_array().unwrap();
    let rates: Vec<u64> = intervals
        .iter()
        .take(3)
        .map(|i| i["rate_rps"].as_u64().unwrap())
        .collect();
    assert_eq!(rates.len(), 3, "{rates:?}");
    for (k, (&got, want)) in rates.iter().zip([250u64, 550, 850]).enumerate() {
        let slack = want / 10 + 5;
        assert!(
            got.abs_diff(want) <= slack,
            "second {k}: {got} vs {want}; {rates:?}"
        );
    }
    assert!(rates.windows(2).all(|w| w[0] < w[1]), "{rates:?}");
}

#[test]
fn the_interval_log_reads_back_to_the_runs_histogram() {
    let dir = temp_dir("open-hlog");
    let hlog = dir.join("run.hlog");
    let r = execute_with(
        "[load]\nrate = 400\nduration = \"1200ms\"\n",
        RunOptions {
            hlog: Some(std::fs::File::create(&hlog).unwrap()),
            ..RunOptions::default()
        },
    );
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let text = std::fs::read(&hlog).unwrap();
    let mut merged: Option<Histogram<u64>> = None;
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&text) {
        if let LogEntry::Interval(i) = entry.unwrap() {
            let h = decode(i.encoded_histogram());
            match &mut merged {
                Some(m) => m.add(&h).unwrap(),
                None => merged = Some(h),
            }
            intervals += 1;
        }
    }
    assert!(intervals >= 2, "{intervals} intervals");
    let total = decode(r.json["histograms"]["all"].as_str().unwrap());
    let merged = merged.unwrap();
    assert_eq!(merged.len(), total.len());
    assert_eq!(merged.len(), r.count("/requests/completed"));
    assert_eq!(merged, total);
}

#[test]
fn beyond_max_in_flight_requests_are_dropped_and_accounted() {
    let server = Serve::start(&["--latency", "100ms"]);
    let r = execute(&aimed(
        &server.url(),
        "[load]\nrate = 400\nduration = \"1s\"\nconnections = 2\nmax_in_flight = 4\n",
    ));
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r);
    assert_eq!(r.count("/requests/scheduled"), 400);
    let dropped = r.count("/dropped");
    // Two connections at 100 ms carry about 20 requests in 1 s; four may
    // be in flight, the rest cannot start.
    assert!(dropped >= 340, "{dropped} dropped of 400");
    let stats = server.stats();
    assert_eq!(
        stats["requests"].as_u64().unwrap(),
        r.count("/requests/completed")
    );
    assert!(r.stdout().contains("dropped"), "{}", r.stdout());
}

#[test]
fn warm_up_is_sent_and_reported_apart() {
    let r = execute("[load]\nrate = 200\nduration = \"500ms\"\nwarmup = \"1s\"\n");
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r);
    assert_eq!(r.count("/warmup/requests/scheduled"), 200);
    assert_eq!(r.count("/requests/scheduled"), 100);
    assert_eq!(r.count("/status/201"), 100);
    // The server saw both parts.
    assert_eq!(r.count("/server/requests"), 300);
    assert_eq!(r.json["server"]["check"], "equal");
    // The series covers the measured second only.
    let first = r.json["intervals"][0]["t"].as_u64().unwrap();
    assert!(first >= 1, "{}", r.json["intervals"]);
    // A second is partial when the measured part began or ended inside it.
    let end = r.json["duration_s"].as_f64().unwrap();
    for i in r.json["intervals"].as_array().unwrap() {
        let t = i["t"].as_u64().unwrap() as f64;
        if (t + 1.0 - end).abs() > 0.01 {
            assert_eq!(
                i["partial"],
                t < 1.0 || t + 1.0 > end,
                "{i} of a run of {end} s"
            );
        }
    }
    assert!(r.stdout().contains("warm-up"), "{}", r.stdout());
}

#[test]
fn a_closed_run_takes_a_warm_up_too() {
    let r = execute("[load]\nconcurrency = 2\nrequests = 300\nwarmup = \"300ms\"\n");
    assert_eq!(r.code(), 0, "{}", r.stderr());
    assert_accounted(&r);
    assert_eq!(r.count("/requests/scheduled"), 300);
    let warm = r.count("/warmup/requests/scheduled");
    assert!(warm > 0);
    assert_eq!(r.count("/server/requests"), 300 + warm);
}
