//! The per-second series: merging, warm-up, the interval sink, the watches.

use super::*;
use std::sync::Mutex;

fn outcome(started: Instant, done_ms: u64, latency_ms: u64, class: Class) -> Outcome<'static> {
    let done = started + Duration::from_millis(done_ms);
    Outcome {
        intended: done - Duration::from_millis(latency_ms),
        sent: done - Duration::from_millis(latency_ms),
        done,
        send_lag: None,
        class,
        warmup: false,
        kind: crate::spec::BodyKind::Valid,
        location: None,
    }
}

fn counts(classes: &[Class]) -> Counts {
    let mut c = Counts::default();
    for &class in classes {
        c.add(class);
    }
    c
}

#[test]
fn seconds_from_all_threads_merge_and_empty_seconds_are_kept() {
    let started = Instant::now();
    let (collector, sinks) =
        SeriesCollector::start(2, started, Duration::ZERO, None, &[], None).unwrap();
    let [mut a, mut b]: [SeriesSink; 2] = sinks.try_into().unwrap();
    // Second 0: thread a answers twice, thread b fails once.
    a.started(started);
    a.add(
        &outcome(started, 100, 10, Class::Status(201)),
        Kind::of(Class::Status(201)),
    );
    a.add(
        &outcome(started, 900, 30, Class::Status(400)),
        Kind::of(Class::Status(400)),
    );
    b.add(
        &outcome(started, 500, 5, Class::Timeout),
        Kind::of(Class::Timeout),
    );
    // Second 1 is empty everywhere (a stall); second 2 has one answer.
    a.add(
        &outcome(started, 2_100, 1_500, Class::Status(201)),
        Kind::of(Class::Status(201)),
    );
    b.rotate_to(started + Duration::from_millis(2_200));
    b.add(
        &outcome(started, 2_300, 0, Class::Dropped),
        Kind::of(Class::Dropped),
    );
    a.finish();
    b.finish();
    let series = collector.finish().intervals;
    let seconds: Vec<u64> = series.iter().map(|i| i.second).collect();
    assert_eq!(seconds, [0, 1, 2]);
    assert_eq!(
        series[0].counts,
        counts(&[Class::Status(201), Class::Status(400), Class::Timeout])
    );
    assert_eq!(series[0].started, 1);
    assert_eq!(series[0].counts.sent(), 3);
    let (_, _, max) = series[0].latency_us.unwrap();
    assert!((29_000..=31_000).contains(&max));
    assert_eq!(series[1].counts, Counts::default());
    assert_eq!(series[1].latency_us, None, "no answers: no latency");
    assert_eq!(series[2].counts.dropped(), 1);
    assert_eq!(series[2].counts.sent(), 1);
    assert!(
        series[2].latency_us.unwrap().1 >= 1_490_000,
        "{:?}",
        series[2]
    );
}

#[test]
fn warm_up_seconds_are_left_out() {
    let started = Instant::now();
    let (collector, sinks) =
        SeriesCollector::start(1, started, Duration::from_secs(2), None, &[], None).unwrap();
    let [mut a]: [SeriesSink; 1] = sinks.try_into().unwrap();
    a.add(
        &outcome(started, 3_500, 1, Class::Status(201)),
        Kind::of(Class::Status(201)),
    );
    a.finish();
    let seconds: Vec<u64> = collector
        .finish()
        .intervals
        .iter()
        .map(|i| i.second)
        .collect();
    assert_eq!(seconds, [2, 3]);
}

/// Keeps what it is given, to compare with what was recorded.
struct Keep(Arc<Mutex<Vec<(u64, Latency)>>>, Option<String>);

impl IntervalWriter for Keep {
    fn write(&mut self, second: u64, h: &Latency) -> Result<(), String> {
        self.0.lock().unwrap().push((second, h.clone()));
        match (second, &self.1) {
            (1, Some(e)) => Err(e.clone()),
            _ => Ok(()),
        }
    }
}

impl IntervalSink for Keep {
    fn run(
        mut self: Box<Self>,
        collect: &mut dyn FnMut(Option<&mut dyn IntervalWriter>),
    ) -> Result<(), String> {
        collect(Some(&mut *self));
        Ok(())
    }
}

#[test]
fn the_sink_gets_every_measured_second_in_order_and_a_failure_stops_it() {
    for failure in [None, Some("disk full".to_string())] {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let sink = Keep(kept.clone(), failure.clone());
        let (collector, sinks) =
            SeriesCollector::start(1, started, Duration::ZERO, Some(Box::new(sink)), &[], None)
                .unwrap();
        let [mut a]: [SeriesSink; 1] = sinks.try_into().unwrap();
        let mut expected = new_latency();
        for i in 0..3_000u64 {
            let o = outcome(started, i, i % 97, Class::Status(201));
            expected.record(micros_between(o.intended, o.done)).unwrap();
            a.add(&o, Kind::of(o.class));
        }
        a.finish();
        let summary = collector.finish();
        assert_eq!(summary.intervals.len(), 3, "the series is complete");
        assert_eq!(summary.sink_error, failure);
        let kept = kept.lock().unwrap();
        let seconds: Vec<u64> = kept.iter().map(|(s, _)| *s).collect();
        if failure.is_some() {
            assert_eq!(seconds, [0, 1], "no writes after the failure");
        } else {
            assert_eq!(seconds, [0, 1, 2]);
            let mut merged = new_latency();
            for (_, h) in kept.iter() {
                merged.add(h).unwrap();
            }
            assert_eq!(merged, expected);
        }
    }
}

/// A second as a watch saw it: the count of outcomes, then the maximum
/// latency, service time and send lag so far.
type SeenSecond = (u64, u64, u64, u64);

/// Keeps the counts, latency, service time and send lag each second shows.
struct Seen(Arc<Mutex<Vec<SeenSecond>>>);

impl SecondWatch for Seen {
    fn second(&mut self, so_far: &SoFar<'_>) {
        self.0.lock().unwrap().push((
            so_far.counts.total(),
            so_far.latency.max(),
            so_far.service.max(),
            so_far.send_lag.max(),
        ));
    }
}

#[test]
fn every_watch_sees_the_service_time_so_far_from_the_actual_send() {
    let seen = [Arc::default(), Arc::default()];
    let watches: Vec<Box<dyn SecondWatch>> = seen
        .iter()
        .map(|s| Box::new(Seen(Arc::clone(s))) as Box<dyn SecondWatch>)
        .collect();
    let started = Instant::now();
    let (collector, sinks) = SeriesCollector::start(
        2,
        started,
        Duration::ZERO,
        None,
        &[],
        Some(Box::new(watches)),
    )
    .unwrap();
    let [a, b]: [SeriesSink; 2] = sinks.try_into().unwrap();
    let (mut a, mut b) = (a.with_service_time(), b.with_service_time());
    // Waited 400 ms for a connection, then served in 100 ms.
    let mut slow = outcome(started, 600, 500, Class::Status(201));
    slow.sent = slow.done - Duration::from_millis(100);
    a.add(&slow, Kind::of(slow.class));
    b.add(
        &outcome(started, 1_200, 20, Class::Status(400)),
        Kind::of(Class::Status(400)),
    );
    let mut late = outcome(started, 1_300, 5, Class::Timeout);
    late.send_lag = Some(Duration::from_micros(750));
    b.add(&late, Kind::of(Class::Timeout));
    a.finish();
    b.finish();
    collector.finish();
    for seen in &seen {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2, "each watch sees both seconds");
        let (total, latency, service, send_lag) = seen[0];
        assert_eq!(total, 1);
        assert!((499_000..=501_000).contains(&latency), "{latency}");
        assert!((99_000..=101_000).contains(&service), "{service}");
        assert_eq!(send_lag, 0, "nothing lagged yet");
        let (total, latency, service, send_lag) = seen[1];
        assert_eq!(total, 3, "counts so far");
        // The 400's 20 ms adds to both, below the first second's maxima.
        assert_eq!((latency, service), (seen[0].1, seen[0].2));
        assert!((749..=751).contains(&send_lag), "the timeout's: {send_lag}");
    }
}

/// Without a reader, the hot path records no service time.
#[test]
fn service_time_is_kept_only_when_asked_for() {
    let seen = Arc::default();
    let started = Instant::now();
    let watch: Vec<Box<dyn SecondWatch>> = vec![Box::new(Seen(Arc::clone(&seen)))];
    let (collector, sinks) =
        SeriesCollector::start(1, started, Duration::ZERO, None, &[], Some(Box::new(watch)))
            .unwrap();
    let [mut a]: [SeriesSink; 1] = sinks.try_into().unwrap();
    assert!(a.service.is_none());
    a.add(
        &outcome(started, 300, 100, Class::Status(201)),
        Kind::of(Class::Status(201)),
    );
    a.finish();
    collector.finish();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].1 >= 99_000, "latency is kept: {:?}", seen[0]);
    assert_eq!(seen[0].2, 0, "no service time");
}

/// Each second keeps the send lag of its requests that were sent, errors
/// included and across threads, as three figures in µs; a second where
/// nothing was sent has none.
#[test]
fn each_second_keeps_the_send_lag_of_what_it_sent() {
    let started = Instant::now();
    let (collector, sinks) =
        SeriesCollector::start(2, started, Duration::ZERO, None, &[], None).unwrap();
    let [mut a, mut b]: [SeriesSink; 2] = sinks.try_into().unwrap();
    let lagged = |done_ms: u64, class: Class, lag_us: Option<u64>| Outcome {
        send_lag: lag_us.map(Duration::from_micros),
        ..outcome(started, done_ms, 1, class)
    };
    for (thread, o) in [
        (0, lagged(100, Class::Status(201), Some(30))),
        (0, lagged(200, Class::Status(201), Some(30))),
        (1, lagged(300, Class::Timeout, Some(700))),
        (1, lagged(400, Class::Dropped, None)),
        // Second 1: only a request never sent.
        (0, lagged(1_500, Class::TimeoutNeverSent, None)),
    ] {
        let sink = if thread == 0 { &mut a } else { &mut b };
        sink.add(&o, Kind::of(o.class));
    }
    a.finish();
    b.finish();
    let series = collector.finish().intervals;
    let (p50, p99, max) = series[0].send_lag_us.expect("three were sent");
    assert_eq!(p50, 30);
    assert!(
        (699..=701).contains(&p99) && (699..=701).contains(&max),
        "{series:?}"
    );
    assert_eq!(series[1].send_lag_us, None, "nothing sent: no send lag");
}
