use super::*;

fn root(json: &str) -> Value {
    serde_json::from_str(json).unwrap()
}

/// The window is kept to the millisecond and the throughput to a thousandth:
/// the length read back gives both as written, where the millisecond
/// alone would give another throughput.
#[test]
fn the_measured_window_is_narrowed_by_the_throughput_so_both_read_back() {
    let v = root(r#"{"duration_s": 0.216, "throughput_rps": 1388.5}"#);
    let d = measured_length(&At::root(&v), 300).unwrap().as_secs_f64();
    assert_eq!((d * 1000.0).round() / 1000.0, 0.216);
    assert_eq!((300.0 / d * 1000.0).round() / 1000.0, 1388.5);
    // 300 answers over exactly 216 ms would read as 1388.889/s.
    assert_eq!((300.0 / 0.216 * 1000.0_f64).round() / 1000.0, 1388.889);
    // Nothing answered, or a window of no length: the millisecond alone.
    let v = root(r#"{"duration_s": 0.5, "throughput_rps": 0.0}"#);
    assert_eq!(
        measured_length(&At::root(&v), 0).unwrap(),
        Duration::from_millis(500)
    );
    let v = root(r#"{"duration_s": 0.0, "throughput_rps": 0.0}"#);
    assert_eq!(measured_length(&At::root(&v), 0).unwrap(), Duration::ZERO);
}

/// A second keeps its errors as one count; those never sent follow from
/// `rate_rps`, which counts every outcome sent.
#[test]
fn a_seconds_errors_never_sent_follow_from_what_was_sent() {
    let mut counts = Counts::default();
    for class in [
        Class::Status(201),
        Class::Status(404),
        Class::Connect,
        Class::TimeoutNeverSent,
        Class::TimeoutNeverSent,
        Class::Dropped,
        Class::Cancelled,
    ] {
        counts.add(class);
    }
    let run = RunReport {
        intervals: vec![Interval {
            second: 3,
            started: 5,
            counts,
            latency_us: Some((1_000, 2_000, 2_500)),
            send_lag_us: Some((12, 85, 240)),
        }],
        ..RunReport::example()
    };
    let json = crate::report::to_json(&run);
    let i = interval(&At::root(&json["intervals"][0])).unwrap();
    assert_eq!(i.counts.timeouts_never_sent(), 2);
    assert_eq!(
        (i.counts.errors(), i.counts.sent(), i.counts.total()),
        (counts.errors(), counts.sent(), counts.total())
    );
    assert_eq!(i.latency_us, Some((1_000, 2_000, 2_500)));
    assert_eq!(i.send_lag_us, Some((12, 85, 240)), "to the microsecond");
}

#[test]
fn a_report_lacking_a_key_every_report_has_is_refused_naming_it() {
    let run = RunReport::example();
    let mut json = crate::report::to_json(&run);
    json["model"].as_object_mut().unwrap().remove("threads");
    let e = read(&json.to_string()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a complete mcload report: /model/threads is missing"
    );
    json["model"]["threads"] = "two".into();
    let e = read(&json.to_string()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not a complete mcload report: /model/threads is not a count"
    );
    let e = read(r#"{"schema": "mcload.report/v2"}"#).unwrap_err();
    assert!(e.to_string().contains("mcload.report/v2"), "{e}");
    json["model"]["threads"] = 1.into();
    json["histograms"]["all"] = "not base64!".into();
    let e = read(&json.to_string()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/histograms/all cannot be read: its histogram cannot be decoded"),
        "{e}"
    );
}

/// Numbers no run can make are refused, naming the key, rather than
/// overflowing the sums made of them.
#[test]
fn counts_and_times_beyond_any_run_are_refused_not_overflowed() {
    let json = crate::report::to_json(&RunReport::example());
    for (pointer, value) in [
        ("/status/201", Value::from(u64::MAX)),
        ("/requests/scheduled", Value::from(1u64 << 41)),
        ("/duration_s", Value::from(1e300)),
        ("/model/requests", Value::from(-1)),
    ] {
        let mut bad = json.clone();
        *bad.pointer_mut(pointer).unwrap() = value;
        let e = read(&bad.to_string()).err().map(|e| e.to_string());
        assert!(
            e.as_ref().is_some_and(|e| e.contains(pointer)),
            "{pointer}: {e:?}"
        );
    }
    let mut seeded = json.clone();
    seeded["seed"] = u64::MAX.into();
    assert_eq!(read(&seeded.to_string()).unwrap().seed, u64::MAX);
}

/// A shard's keys read back as written; a report from before them reads
/// as an unsharded run.
#[test]
fn a_shards_keys_read_back_as_written() {
    let run = RunReport {
        shard: Some(crate::scenario::Shard { index: 1, count: 3 }),
        plan_fingerprint: 0x9c1d_2e3f_4a5b_6c7d,
        start: Some(crate::report::SharedStart {
            at: std::time::UNIX_EPOCH + Duration::from_millis(1_764_522_000_123),
            lateness: Duration::from_micros(412),
        }),
        session_ids: Some(vec![3, 7, u64::MAX - 1]),
        ..RunReport::example()
    };
    let json = crate::report::to_json(&run);
    assert_eq!(json["plan_fingerprint"], "9c1d2e3f4a5b6c7d");
    assert_eq!(json["start"]["lateness_ms"], 0.412);
    let back = read(&json.to_string()).unwrap();
    assert_eq!(back.shard, run.shard);
    assert_eq!(back.plan_fingerprint, run.plan_fingerprint);
    assert_eq!(back.start, run.start);
    assert_eq!(back.session_ids, run.session_ids);
    assert_eq!(crate::report::to_json(&back), json);

    let mut old = json.clone();
    for key in ["shard", "plan_fingerprint", "start", "session_ids"] {
        old.as_object_mut().unwrap().remove(key);
    }
    let back = read(&old.to_string()).unwrap();
    assert_eq!(
        (back.shard, back.plan_fingerprint, back.start),
        (None, 0, None)
    );
    let mut bad = json.clone();
    bad["session_ids"]["count"] = 2.into();
    let e = read(&bad.to_string()).unwrap_err().to_string();
    assert!(e.contains("/session_ids/count"), "{e}");
}

/// A histogram saved with other bounds is read into this mcload's own,
/// so merging it with another cannot fail; one holding a value beyond them
/// is refused naming its key, not a panic later.
#[test]
fn a_histogram_of_other_bounds_is_read_into_ours_or_refused_naming_it() {
    use hdrhistogram::Histogram;
    let encode =
        |h: &Histogram<u64>| serde_json::json!({ "h": crate::report::histogram_base64(h) });
    let mut narrow = Histogram::<u64>::new_with_bounds(1, 1_000, 2).unwrap();
    narrow.record(250).unwrap();
    let v = encode(&narrow);
    let read = At::root(&v).histogram("h").unwrap().unwrap();
    let mut ours = crate::metrics::new_latency();
    ours.add(&read).unwrap();
    assert_eq!(read.len(), 1);
    let mut wide = Histogram::<u64>::new_with_bounds(1, u64::MAX / 4, 3).unwrap();
    wide.record(crate::metrics::LATENCY_MAX_US * 1_000).unwrap();
    let v = encode(&wide);
    let error = At::root(&v).histogram("h").unwrap_err().to_string();
    assert!(error.contains("h") && error.contains("beyond"), "{error}");
}

/// A run whose requests were sent with a send lag: 201s and timeouts,
/// each with its lag, and one second of the series.
fn lagged_run() -> RunReport {
    use crate::engine::Record;
    let mut r = crate::metrics::Recorder::new(Default::default());
    let t0 = std::time::Instant::now();
    for (i, class) in [Class::Status(201), Class::Timeout]
        .repeat(50)
        .into_iter()
        .enumerate()
    {
        r.record(&crate::engine::Outcome {
            intended: t0,
            sent: t0,
            done: t0 + Duration::from_millis(3),
            send_lag: Some(Duration::from_micros(10 + i as u64 * 3)),
            class,
            warmup: false,
            kind: crate::spec::BodyKind::Valid,
            location: None,
        });
    }
    let tally = r.finish().tally;
    RunReport {
        scheduled: tally.counts.total(),
        elapsed: Duration::from_secs(1),
        sending: Duration::from_secs(1),
        intervals: vec![Interval {
            second: 0,
            started: tally.counts.total(),
            counts: tally.counts,
            latency_us: Some((3_000, 3_000, 3_001)),
            send_lag_us: Some((160, 304, 307)),
        }],
        tally,
        ..RunReport::example()
    }
}

fn summary(run: &RunReport) -> String {
    let mut out = Vec::new();
    crate::report::write_text(run, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The send lag reads back as written: the whole run's histogram, each
/// second's figures, the JSON and the text summary's row.
#[test]
fn a_reports_send_lag_reads_back_as_written() {
    let run = lagged_run();
    let json = crate::report::to_json(&run);
    assert_eq!(json["send_lag_ms"]["min"], 0.01);
    assert!(json["send_lag_ms"]["p99"].as_f64().unwrap() > 0.29);
    assert_eq!(json["intervals"][0]["send_lag_ms"]["p99"], 0.304);
    assert!(json["histograms"]["send_lag"].is_string());
    let back = read(&json.to_string()).unwrap();
    assert_eq!(back.tally.send_lag, run.tally.send_lag);
    assert_eq!(back.intervals[0].send_lag_us, Some((160, 304, 307)));
    assert_eq!(crate::report::to_json(&back), json);
    let text = summary(&back);
    assert_eq!(text, summary(&run));
    assert!(text.contains("\n  send lag     0.010"), "{text}");
}

/// A report from before the send lag was kept (no `send_lag_ms`, no
/// `histograms.send_lag`, seconds without it) reads, with the send lag
/// absent: no figure, no row, and a threshold on it finds nothing to
/// measure, where zeros would read as a generator that kept up.
#[test]
fn a_report_from_before_the_send_lag_reads_with_it_absent_not_zero() {
    let mut old = crate::report::to_json(&lagged_run());
    old.as_object_mut().unwrap().remove("send_lag_ms");
    old["histograms"]
        .as_object_mut()
        .unwrap()
        .remove("send_lag");
    old["intervals"][0]
        .as_object_mut()
        .unwrap()
        .remove("send_lag_ms");
    let back = read(&old.to_string()).unwrap();
    assert!(back.tally.send_lag.is_empty());
    assert_eq!(back.intervals[0].send_lag_us, None);
    assert_eq!(back.tally.counts.total(), 100, "the rest reads as before");
    let json = crate::report::to_json(&back);
    assert!(
        json["send_lag_ms"]["p99"].is_null(),
        "{}",
        json["send_lag_ms"]
    );
    assert!(json["intervals"][0]["send_lag_ms"].is_null());
    assert!(json["histograms"].get("send_lag").is_none());
    let text = summary(&back);
    assert!(!text.contains("send lag"), "{text}");
    assert!(text.contains("\n  service "), "{text}");
    let threshold = {
        let (metric, check) = threshold::split("send_lag.p99 < 250us");
        threshold::parse(metric, check, Source::Flag).unwrap()
    };
    let mut back = back;
    judge_by(&mut back, vec![threshold]).unwrap();
    let lag = back
        .thresholds
        .iter()
        .find(|e| e.threshold.expression() == "send_lag.p99 < 250us")
        .unwrap();
    assert_eq!((lag.measured, lag.pass), (None, false));
}
