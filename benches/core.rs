//! The per-request work outside the network, measured alone: writing a
//! body, recording an outcome (metrics and checks), merging per-thread
//! figures, and asking the schedule when a request starts.
//!
//!     cargo bench --bench core

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use mcload::checks;
use mcload::engine::{Class, Outcome, Record};
use mcload::generate::BodyGenerator;
use mcload::metrics::{Recorder, SeriesCollector, merge};
use mcload::scenario::{Rate, Scenario, StopRule};
use mcload::schedule::{OpenSchedule, RateCurve};
use mcload::spec::{BodyKind, RuleSet};

fn generator(text: &str) -> BodyGenerator {
    let scenario = Scenario::parse(text, "bench.toml", None).expect("a valid scenario");
    BodyGenerator::new(&scenario.body, 42)
}

fn bodies(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.throughput(Throughput::Elements(1));
    // The two ends of the default body: every optional param left out,
    // and every one present. Against the default body's size they show
    // what random presence itself costs.
    let every_param = |present: f64, generated: u32| {
        let mut text = format!(
            "[body.custom_metadata]\ngenerated = [{generated}, {generated}]\n\
             [body.qoe_data]\npresent = {present:.1}\n[body.params]\n"
        );
        for param in mcload::spec::PARAMS.iter().filter(|p| !p.required) {
            text.push_str(&format!(
                "\"{}\" = {{ present = {present:.1} }}\n",
                param.key
            ));
        }
        text
    };
    let (required_only, all_present) = (every_param(0.0, 0), every_param(1.0, 3));
    for (name, text) in [
        ("required params only", required_only.as_str()),
        ("every param present", all_present.as_str()),
        ("default body", ""),
        (
            "reference scenario",
            include_str!("../scenarios/reference.toml"),
        ),
        ("2% invalid", "[body]\ninvalid_share = 0.02\n"),
    ] {
        let g = generator(text);
        let mut out = Vec::with_capacity(4096);
        // The mean size, for the record: bytes per body.
        let sample = 10_000u64;
        let bytes: usize = (0..sample)
            .map(|i| {
                out.clear();
                g.write(i, 1_700_000_000_000, &mut out);
                out.len()
            })
            .sum();
        println!(
            "{name}: {} bytes per body on average",
            bytes as u64 / sample
        );
        let mut index = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                index += 1;
                black_box(g.write(black_box(index), 1_700_000_000_000, &mut out));
            })
        });
    }
    group.finish();
}

fn outcome(now: Instant, micros: u64) -> Outcome<'static> {
    Outcome {
        intended: now,
        sent: now,
        done: now + Duration::from_micros(micros),
        send_lag: Some(Duration::from_micros(4)),
        class: Class::Status(201),
        warmup: false,
        kind: BodyKind::Valid,
        location: Some(b"/api/v1/sessions/0123456789abcdef0123456789abcdef"),
    }
}

fn metrics(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics");
    group.throughput(Throughput::Elements(1));
    let now = Instant::now();
    let outcomes: Vec<Outcome<'static>> = (0..1024).map(|i| outcome(now, 50 + i * 7)).collect();
    // What a generator thread records each outcome into: the metrics
    // recorder and the checks recorder, composed as a tuple.
    let mut recorder = (
        Recorder::new(Arc::default()),
        checks::Recorder::new(RuleSet::Strict, &["/api/v1/sessions"]),
    );
    let mut i = 0;
    group.bench_function("record one outcome", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            recorder.record(black_box(&outcomes[i]));
        })
    });
    let mut measure_only = Recorder::new(Arc::default());
    group.bench_function("record one outcome, metrics only", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            measure_only.record(black_box(&outcomes[i]));
        })
    });
    // As a run records: the per-second series too (latency and service
    // time), and the start of each request in the live counters.
    let (collector, mut sinks) =
        SeriesCollector::start(1, now, Duration::ZERO, None, &[], None).expect("a thread");
    let mut with_series = Recorder::new(Arc::default()).with_series(sinks.remove(0));
    group.bench_function("start and record one outcome, metrics and series", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            with_series.started(now, false);
            with_series.record(black_box(&outcomes[i]));
        })
    });
    drop(with_series);
    drop(collector);
    // The same with the series' service time, kept for `--metrics-listen`.
    let (collector, mut sinks) =
        SeriesCollector::start(1, now, Duration::ZERO, None, &[], None).expect("a thread");
    let mut with_service =
        Recorder::new(Arc::default()).with_series(sinks.remove(0).with_service_time());
    group.bench_function(
        "start and record one outcome, series with service time",
        |b| {
            b.iter(|| {
                i = (i + 1) & 1023;
                with_service.started(now, false);
                with_service.record(black_box(&outcomes[i]));
            })
        },
    );
    drop(with_service);
    drop(collector);
    let mut check_only = checks::Recorder::new(RuleSet::Strict, &["/api/v1/sessions"]);
    group.bench_function("record one outcome, checks only", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            check_only.record(black_box(&outcomes[i]));
        })
    });
    group.finish();

    let filled = |seed: u64| {
        let mut r = Recorder::new(Arc::default());
        for k in 0..100_000u64 {
            r.record(&outcome(now, (k * 7919 + seed) % 200_000));
        }
        r.finish().tally
    };
    let (a, b) = (filled(1), filled(2));
    c.bench_function("metrics/merge two threads' tallies", |bench| {
        bench.iter(|| black_box(merge([a.clone(), b.clone()])))
    });
}

fn schedule(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule");
    group.throughput(Throughput::Elements(1));
    let constant = RateCurve::constant(20_000.0, Some(Duration::from_secs(3_600)));
    let ramp = RateCurve::stages(
        100.0,
        &[
            (Duration::from_secs(60), 50_000.0),
            (Duration::from_secs(60), 50_000.0),
            (Duration::from_secs(60), 1_000.0),
        ],
    );
    let open = OpenSchedule::new(
        &Rate::Constant(20_000.0),
        Some(Duration::from_secs(5)),
        StopRule {
            duration: Some(Duration::from_secs(3_600)),
            requests: None,
        },
        64,
        10_000,
        1,
    );
    let mut i = 0u64;
    group.bench_function("constant offset(i)", |b| {
        b.iter(|| {
            i = (i + 1) % 70_000_000;
            black_box(constant.offset(black_box(i)))
        })
    });
    group.bench_function("three-stage ramp offset(i)", |b| {
        b.iter(|| {
            i = (i + 1) % 3_000_000;
            black_box(ramp.offset(black_box(i)))
        })
    });
    group.bench_function("open schedule request(s) with warm-up", |b| {
        b.iter(|| {
            i = (i + 1) % 70_000_000;
            black_box(open.request(black_box(i)))
        })
    });
    group.finish();
}

criterion_group!(benches, bodies, metrics, schedule);
criterion_main!(benches);
