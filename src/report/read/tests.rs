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
