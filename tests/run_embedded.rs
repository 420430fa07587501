use crate::util::{assert_accounted, execute, mcload, repo, run, temp_dir};

/// `scenarios/smoke.toml` with its stop rule replaced, as `--duration` or
/// `--requests` would.
fn smoke(stop: &str) -> String {
    let text = std::fs::read_to_string(repo().join("scenarios/smoke.toml")).unwrap();
    let without_stop: String = text
        .lines()
        .filter(|l| !l.starts_with("duration") && !l.starts_with("requests"))
        .map(|l| format!("{l}\n"))
        .collect();
    without_stop.replace("[load]\n", &format!("[load]\n{stop}\n"))
}

#[test]
fn the_smoke_scenario_counts_equal_the_embedded_servers() {
    // The README's first command, shortened so the suite stays quick.
    let run = execute(&smoke("duration = \"1s\""));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_accounted(&run);
    let scheduled = run.count("/requests/scheduled");
    assert!(
        scheduled > 100,
        "a second of load sends more than {scheduled}"
    );
    assert_eq!(
        run.count("/status/201"),
        scheduled,
        "the embedded server accepts every default body"
    );
    assert_eq!(run.json["server"]["matches"], true);
    assert_eq!(run.count("/server/requests"), scheduled);
    assert_eq!(run.count("/server/201"), run.count("/status/201"));
    assert_eq!(run.json["interrupted"], false);
    assert_eq!(run.json["schema"], "mcload.report/v1");
    assert_eq!(run.json["seed"], 42);

    let text = run.stdout();
    assert!(text.contains("(embedded reference server)"), "{text}");
    assert!(text.contains("equal to mcload's counts ✓"), "{text}");
    assert!(text.contains("latency ms"), "{text}");
}

#[test]
fn a_request_count_sends_exactly_that_many() {
    for n in [1, 13, 2_501] {
        let run = execute(&format!(
            "[load]\nconcurrency = 7\nthreads = 2\nrequests = {n}\n"
        ));
        assert_eq!(run.code(), 0, "{}", run.stderr());
        assert_accounted(&run);
        assert_eq!(run.count("/requests/scheduled"), n);
        assert_eq!(run.count("/server/requests"), n);
    }
}

#[test]
fn the_json_report_has_the_stable_keys() {
    let run = run(&repo().join("scenarios/smoke.toml"), &["--requests", "300"]);
    let j = &run.json;
    for key in [
        "schema",
        "version",
        "scenario",
        "target",
        "rules",
        "seed",
        "started_at",
        "duration_s",
        "requests",
        "status",
        "errors",
        "dropped",
        "throughput_rps",
        "latency_ms",
        "histograms",
        "interrupted",
        "accounted",
        "model",
        "timeouts_never_sent",
        "service_time_ms",
        "latency_ms_by_outcome",
        "intervals",
        "bodies",
        "checks",
        "check_samples",
        "latency_ms_by_kind",
        "server",
    ] {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    for key in ["min", "p50", "p90", "p99", "p999", "max", "mean"] {
        assert!(j["latency_ms"][key].as_f64().is_some(), "latency_ms.{key}");
    }
    assert!(
        j["target"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(j["rules"], "strict", "the default rule set");
    assert_eq!(j["version"], env!("CARGO_PKG_VERSION"));
    assert!(j["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(j["duration_s"].as_f64().unwrap() > 0.0);
    let p50 = j["latency_ms"]["p50"].as_f64().unwrap();
    let p99 = j["latency_ms"]["p99"].as_f64().unwrap();
    assert!(0.0 < p50 && p50 <= p99, "{p50} {p99}");
}

#[test]
fn the_histograms_in_the_report_decode_to_the_counted_requests() {
    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    let run = execute(&smoke("requests = 777"));
    let encoded = run.json["histograms"]["all"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let h: hdrhistogram::Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
    assert_eq!(h.len(), 777);
    let p99_ms = h.value_at_quantile(0.99) as f64 / 1000.0;
    assert!((p99_ms - run.json["latency_ms"]["p99"].as_f64().unwrap()).abs() < 0.002);
}

#[test]
fn json_to_stdout_keeps_stdout_one_document_and_quiet_prints_nothing_else() {
    let out = crate::util::mcload()
        .args([
            "run",
            "scenarios/smoke.toml",
            "--requests",
            "50",
            "--json",
            "-",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    crate::util::assert_valid_report(&json);
    assert_eq!(json["requests"]["scheduled"], 50);
    assert!(String::from_utf8_lossy(&out.stderr).contains("accounted"));

    let out = crate::util::mcload()
        .args(["run", "scenarios/smoke.toml", "--requests", "50", "--quiet"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn a_terminal_gets_a_live_progress_line_and_a_pipe_does_not() {
    // `script` (util-linux) runs the command on a pseudo-terminal.
    let command = format!(
        "{} run scenarios/smoke.toml --duration 1s",
        env!("CARGO_BIN_EXE_mcload")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let screen = String::from_utf8_lossy(&out.stdout);
    // Only the progress line erases to the end of the line, once per redraw.
    let updates = screen.matches("\u{1b}[K").count();
    assert!(screen.contains("s/1s  "), "{screen}");
    assert!(screen.contains(" requests "), "{screen}");
    assert!(
        updates >= 3,
        "the line is redrawn in place ({updates}): {screen}"
    );
    assert!(
        screen.contains("accounted"),
        "the summary follows: {screen}"
    );

    let out = crate::util::mcload()
        .args(["run", "scenarios/smoke.toml", "--duration", "600ms"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!out.stderr.contains(&b'\r'), "no progress line in a pipe");
    assert!(!out.stdout.contains(&b'\r'));
}

/// The generator's own send lag is reported: a figure of its own in the
/// JSON (whole run and each second), a row of the text summary, and a
/// threshold CI can hold it to. In the open model every request's latency
/// (from its intended start) includes its send lag, so each percentile of
/// latency is at least the same percentile of send lag: a lag that hid
/// lateness from latency would break that. How low the lag is depends on
/// the machine, so it is not bounded here.
#[test]
fn the_send_lag_is_reported_in_json_and_text_and_can_be_judged() {
    let run = run(
        &repo().join("scenarios/smoke.toml"),
        &[
            "--rate",
            "2000",
            "--duration",
            "1s",
            "--threads",
            "1",
            "--threshold",
            "send_lag.p99 < 10s",
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let j = &run.json;
    for stat in ["p50", "p99", "max"] {
        let lag = j["send_lag_ms"][stat]
            .as_f64()
            .unwrap_or_else(|| panic!("send_lag_ms.{stat}: {}", j["send_lag_ms"]));
        let latency = j["latency_ms"][stat].as_f64().unwrap();
        assert!(latency >= lag, "{stat}: latency {latency} < send lag {lag}");
    }
    assert!(j["histograms"]["send_lag"].is_string());
    let seconds = j["intervals"].as_array().unwrap();
    assert!(
        seconds
            .iter()
            .any(|s| s["send_lag_ms"]["p99"].as_f64().is_some()),
        "{seconds:?}"
    );
    let judged = j["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["expression"] == "send_lag.p99 < 10s")
        .expect("the threshold is judged");
    assert_eq!(judged["pass"], true, "{judged}");
    // A bound no run can meet fails, and says what it measured.
    let strict = run_strict_lag();
    assert_eq!(strict.code(), 1, "{}", strict.stderr());

    let text = run.stdout();
    let row = text
        .lines()
        .find(|l| l.starts_with("  send lag "))
        .unwrap_or_else(|| panic!("no send lag row:\n{text}"));
    assert_eq!(row.split_whitespace().count(), 9, "{row}");
}

/// An open-model run held to a send lag below what any run has.
fn run_strict_lag() -> crate::util::Run {
    run(
        &repo().join("scenarios/smoke.toml"),
        &[
            "--rate",
            "2000",
            "--requests",
            "200",
            "--threads",
            "1",
            "--threshold",
            "send_lag.max < 1us",
        ],
    )
}

/// `--pacing` reaches the open model: every request of an exact-paced run
/// is accounted for with its send lag, and the pacing is named in the
/// text header and the JSON model, and again when the report is reread.
#[test]
fn the_pacing_chosen_is_used_and_named_in_the_report() {
    for (pacing, shown) in [("exact", "exact"), ("batched:5ms", "batched:5ms")] {
        // 500/s on one thread: 2.5 starts per 5 ms, so the 5 ms grid
        // applies; a rate low enough that connections are free even on a
        // busy machine (the send lag leaves out waiting for one).
        let run = run(
            &repo().join("scenarios/smoke.toml"),
            &[
                "--rate",
                "500",
                "--duration",
                "1s",
                "--threads",
                "1",
                "--pacing",
                pacing,
            ],
        );
        assert_eq!(run.code(), 0, "{pacing}: {}", run.stderr());
        assert_accounted(&run);
        assert_eq!(run.json["model"]["pacing"], shown);
        assert_eq!(run.count("/requests/scheduled"), 500, "{pacing}");
        let lag_p50 = run.json["send_lag_ms"]["p50"].as_f64().unwrap();
        if pacing.starts_with("batched") {
            // Starts wait for the next point of a 5 ms grid: 2.5 ms on
            // average, and never less than the wait (a busy machine only
            // adds to it).
            assert!(lag_p50 >= 1.0, "{pacing}: send lag p50 {lag_p50} ms");
        }
        let text = run.stdout();
        assert!(text.contains(&format!("pacing {shown}")), "{text}");
        let saved = temp_dir("pacing").join("report.json");
        std::fs::write(&saved, run.json.to_string()).unwrap();
        let reread = mcload().arg("report").arg(&saved).output().unwrap();
        let reread_text = String::from_utf8_lossy(&reread.stdout);
        assert!(
            reread_text.contains(&format!("pacing {shown}")),
            "{reread_text}"
        );
    }
}

/// 1,000/s for 1 s on one thread under `batched:10ms`, on `connections`
/// connections: 10 starts per 10 ms step, sent together at the step's end.
fn run_on_a_10ms_grid(connections: &str) -> crate::util::Run {
    let run = run(
        &repo().join("scenarios/smoke.toml"),
        &[
            "--rate",
            "1000",
            "--duration",
            "1s",
            "--threads",
            "1",
            "--connections",
            connections,
            "--pacing",
            "batched:10ms",
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_accounted(&run);
    assert_eq!(run.count("/requests/completed"), 1000);
    run
}

/// Under batched pacing the open model sleeps to each step of its grid and
/// reads the answers that came meanwhile there, up to a step late; each
/// answer still ends when its bytes arrived (the kernel's receive time), so
/// service time, latency and send lag do not grow by that wait.
#[test]
fn batched_pacing_ends_each_answer_when_it_arrived_not_when_read_at_the_next_step() {
    // Answers read at the next step, 10 ms after their starts were sent.
    let run = run_on_a_10ms_grid("64");
    // Ended when read, the answers' service time would be about the step;
    // ended when they arrived, it is the embedded server's.
    let service_p50 = run.json["service_time_ms"]["p50"].as_f64().unwrap();
    assert!(service_p50 < 5.0, "service time p50 {service_p50} ms");
}

/// A start that waits for a free connection is sent when an answer frees
/// one, not at the next step of the grid: the batched pacing's naps stop
/// while starts wait, so one connection still carries far more than one
/// request per step.
#[test]
fn batched_pacing_sends_a_waiting_start_when_an_answer_frees_its_connection() {
    // One connection: nine of each step's starts wait for the answer
    // before theirs.
    let run = run_on_a_10ms_grid("1");
    // Carrying only about one request per step (100/s of the 1,000/s),
    // the connection would fall ever further behind: latency p50 over half
    // a second. Sent as answers free it, the starts wait at most a step
    // and for the few before them (7 ms here).
    let latency_p50 = run.json["latency_ms"]["p50"].as_f64().unwrap();
    assert!(latency_p50 < 250.0, "latency p50 {latency_p50} ms");
}
