use std::time::Duration;

use mcload::run::RunOptions;

use crate::util::{
    Misbehaviour, RawServer, Serve, assert_accounted, execute, execute_with, run, scenario,
};

fn seconds(run: &crate::util::Run, pointer: &str) -> f64 {
    run.json
        .pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {pointer} in {}", run.json))
}

/// The rate is the answers over the measured window, which runs to the
/// last answer: a slow server's few answers are a few per second, not
/// thousands over the instant the requests were sent.
#[test]
fn throughput_counts_the_wait_for_a_slow_servers_answers() {
    let server = Serve::start(&["--latency", "600ms"]);
    let s = scenario(
        "slow-figures",
        &format!("[target]\nurl = \"{}\"\n", server.url()),
    );
    let run = run(
        &s,
        &[
            "--concurrency",
            "4",
            "--duration",
            "200ms",
            "--timeout",
            "5s",
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_accounted(&run);
    let completed = run.count("/requests/completed") as f64;
    let duration = seconds(&run, "/duration_s");
    let rps = seconds(&run, "/throughput_rps");
    assert!(duration >= 0.6, "the window holds the answers: {duration}");
    assert!(
        (rps - completed / duration).abs() <= 0.1,
        "{rps}/s for {completed} answers over {duration} s"
    );
    assert!(rps < 20.0, "{rps}");
}

/// A rate below one per second: the one answer over the planned second.
#[test]
fn a_low_rate_is_measured_over_the_planned_window() {
    let s = scenario("low-rate", "");
    let run = run(&s, &["--rate", "0.5", "--duration", "1s"]);
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.count("/requests/completed"), 1);
    assert_eq!(seconds(&run, "/duration_s"), 1.0);
    assert_eq!(seconds(&run, "/throughput_rps"), 1.0);
    assert!(
        run.stdout().contains("1 answered · 1.00/s over 1.00 s"),
        "{}",
        run.stdout()
    );
}

/// `duration_s` is the measured part alone; the warm-up has its own.
#[test]
fn duration_is_the_measured_part_and_the_warmup_has_its_own() {
    let run = execute("[load]\nrate = 200\nduration = \"500ms\"\nwarmup = \"300ms\"\n");
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let duration = seconds(&run, "/duration_s");
    assert!((0.5..0.7).contains(&duration), "{duration}");
    assert_eq!(seconds(&run, "/warmup/duration_s"), 0.3);
    let rps = seconds(&run, "/throughput_rps");
    let completed = run.count("/requests/completed") as f64;
    assert!(
        (rps - completed / duration).abs() <= 0.2,
        "{rps} {completed} {duration}"
    );
}

/// A run stopped during its warm-up says how long the warm-up ran, and
/// has nothing measured.
#[test]
fn an_interrupted_warmup_reports_what_ran() {
    let options = RunOptions::default();
    let interrupt = options.interrupt.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        interrupt.request()
    });
    let run = execute_with(
        "[load]\nconcurrency = 2\nduration = \"1s\"\nwarmup = \"20s\"\n",
        options,
    );
    assert!(stopper.join().unwrap());
    assert_eq!(run.json["interrupted"], true);
    let warmup = seconds(&run, "/warmup/duration_s");
    assert!((0.2..5.0).contains(&warmup), "{warmup}");
    assert_eq!(seconds(&run, "/duration_s"), 0.0);
    assert_eq!(run.count("/requests/scheduled"), 0);
    assert_eq!(seconds(&run, "/throughput_rps"), 0.0);
}

/// Nothing answered: every latency figure is null in the JSON and a dash
/// in the summary (not 0), and a latency threshold fails on it.
#[test]
fn nothing_answered_means_no_latency_figure() {
    let server = RawServer::start(Misbehaviour::Stall);
    let s = scenario(
        "no-answers",
        &format!("[target]\nurl = \"{}\"\n", server.url()),
    );
    let run = run(
        &s,
        &[
            "--concurrency",
            "2",
            "--requests",
            "2",
            "--timeout",
            "200ms",
            "--threshold",
            "latency.p99 < 100ms",
        ],
    );
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert_eq!(run.count("/errors/timeout"), 2);
    for key in ["latency_ms", "service_time_ms"] {
        for stat in ["min", "p50", "p90", "p99", "p999", "max", "mean"] {
            assert!(
                run.json[key][stat].is_null(),
                "{key}.{stat}: {}",
                run.json[key]
            );
        }
    }
    assert!(
        run.stdout().contains("  answered         —         —"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stderr()
            .contains("threshold failed: latency.p99 < 100ms (measured none: nothing was answered"),
        "{}",
        run.stderr()
    );
}
