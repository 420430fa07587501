//! The HTML report's renderer: escaping, every chart present, and a run
//! with nothing to draw saying so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::charts::{self, TimeAxis};
use super::{esc, write_html};
use crate::engine::{Class, Outcome, Record};
use crate::metrics::{Counts, Interval, Recorder, new_latency};
use crate::report::RunReport;
use crate::scenario::{Model, OpenModel, Rate, Stage, StopRule};
use crate::spec::{BodyKind, RuleSet};

fn outcome(class: Class, micros: u64, location: Option<&[u8]>) -> Outcome<'_> {
    let intended = Instant::now();
    Outcome {
        intended,
        sent: intended,
        done: intended + Duration::from_micros(micros),
        // Sent 7 µs late, whatever came back.
        send_lag: Some(Duration::from_micros(7)),
        class,
        warmup: false,
        kind: BodyKind::Valid,
        location,
    }
}

fn counts(pairs: &[(Class, u64)]) -> Counts {
    let mut c = Counts::default();
    for &(class, n) in pairs {
        for _ in 0..n {
            c.add(class);
        }
    }
    c
}

/// A run with answers of several outcomes over three seconds, a warm-up,
/// and a check sample whose `Location` is markup.
fn busy_run(scenario: &str, location: &[u8]) -> RunReport {
    let mut metrics = Recorder::new(Arc::default());
    let mut checks = crate::checks::Recorder::new(RuleSet::Strict, &["/api/v1/sessions"]);
    for i in 0..500u64 {
        let class = match i % 50 {
            0 => Class::Status(500),
            1 => Class::Timeout,
            _ => Class::Status(201),
        };
        let loc: &[u8] = if i == 7 {
            location
        } else {
            b"/api/v1/sessions/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        };
        let o = outcome(class, 1_000 + i * 37, Some(loc));
        metrics.record(&o);
        checks.record(&o);
    }
    let recorded = metrics.finish();
    let second = |s: u64, started: u64| Interval {
        second: s,
        started,
        counts: counts(&[
            (Class::Status(201), started - 6),
            (Class::Status(500), 3),
            (Class::Timeout, 2),
            (Class::Dropped, 1),
        ]),
        latency_us: Some((2_000, 18_000, 19_500)),
        send_lag_us: Some((40, 180, 900)),
    };
    RunReport {
        scenario: scenario.into(),
        elapsed: Duration::from_secs(4),
        model: Model::Open(OpenModel {
            rate: Rate::Constant(170.0),
            connections: 8,
            max_in_flight: 100,
            pacing: Some(crate::engine::Pacing::DEFAULT),
        }),
        stop: StopRule {
            duration: Some(Duration::from_secs(3)),
            requests: None,
        },
        scheduled: 500 + 10,
        tally: recorded.tally,
        warmup: Some((Duration::from_secs(1), Default::default())),
        intervals: vec![second(1, 170), second(2, 165), second(3, 165)],
        checks: checks.finish(),
        ..RunReport::example()
    }
}

fn html(run: &RunReport) -> String {
    let mut out = Vec::new();
    write_html(run, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Each `<figure class="chart" id=…>` and whether it holds an SVG.
fn figures(page: &str) -> Vec<(String, bool)> {
    page.split("<figure class=\"chart")
        .skip(1)
        .map(|f| {
            let id = f.split("id=\"").nth(1).unwrap().split('"').next().unwrap();
            let body = f.split("</figure>").next().unwrap();
            (
                id.to_string(),
                body.contains("<svg") && body.contains("<polyline"),
            )
        })
        .collect()
}

#[test]
fn markup_in_the_scenario_name_and_a_check_sample_is_escaped() {
    let page = html(&busy_run(
        "<script>alert(1)</script> & \"peak\"",
        b"/api/v1/sessions/<img src=x onerror=alert(2)>",
    ));
    assert!(!page.contains("<script"), "no script element at all");
    assert!(!page.contains("<img"), "the sample's markup is text");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;peak&quot;"));
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert_eq!(
        esc("a<'b'>&\"").to_string(),
        "a&lt;&#39;b&#39;&gt;&amp;&quot;"
    );
}

#[test]
fn a_run_with_answers_draws_every_chart_and_loads_nothing() {
    let page = html(&busy_run("peak", b"/nowhere"));
    let ids: Vec<&str> = vec![
        "spectrum",
        "spectrum-outcomes",
        "rate",
        "latency-over-time",
        "outcomes-over-time",
        "in-flight",
    ];
    let found = figures(&page);
    assert_eq!(
        found.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(),
        ids
    );
    for (id, drawn) in &found {
        assert!(drawn, "{id} has a drawn SVG");
    }
    // The warm-up is shaded on the per-second charts, and the check
    // samples are a table.
    assert!(page.contains("warm-up (not measured)"));
    // The latency table has the generator's own send lag beside service time.
    assert!(
        page.contains("<tr><td>service</td>") && page.contains("<tr><td>send lag</td>"),
        "{page}"
    );
    assert!(page.contains("<table class=\"samples\">"));
    assert!(page.contains("location_invalid"));
    for outside in ["src=", "href=", "<link", "<script", "@import", "url("] {
        assert!(!page.contains(outside), "{outside} would load something");
    }
    assert!(page.contains("prefers-color-scheme:dark") && page.contains("@media print"));
}

#[test]
fn a_run_with_no_answers_says_so_instead_of_drawing_empty_charts() {
    let mut run = RunReport {
        scenario: "dead".into(),
        scheduled: 3,
        elapsed: Duration::from_secs(2),
        intervals: vec![Interval {
            second: 0,
            started: 3,
            counts: counts(&[(Class::Connect, 3)]),
            latency_us: None,
            send_lag_us: None,
        }],
        ..RunReport::example()
    };
    run.tally.counts = counts(&[(Class::Connect, 3)]);
    let page = html(&run);
    let found = figures(&page);
    for id in ["spectrum", "spectrum-outcomes", "latency-over-time"] {
        assert!(
            found.iter().any(|(f, drawn)| f == id && !drawn),
            "{id} is an empty figure"
        );
    }
    assert_eq!(page.matches("No answers").count(), 3, "{page}");
    // What did happen still shows: the errors, second by second.
    assert!(
        found
            .iter()
            .any(|(f, drawn)| f == "outcomes-over-time" && *drawn)
    );
    // A run that measured no second at all has no series to draw.
    let page = html(&RunReport::example());
    assert!(page.contains("No per-second series"));
    assert!(!page.contains("<svg"));
}

#[test]
fn the_spectrum_runs_from_the_minimum_at_1_to_the_maximum_at_the_count() {
    let mut h = new_latency();
    for us in 1..=1_000u64 {
        h.record(us * 1_000).unwrap();
    }
    let points = charts::spectrum_points(&h);
    let (first, last) = (points[0], points[points.len() - 1]);
    assert_eq!(first.0, 1.0);
    assert!((first.1 - 1.0).abs() < 0.01, "{first:?}");
    assert_eq!(last.0, 1_000.0);
    assert!((last.1 - 1_000.0).abs() < 1.0, "{last:?}");
    // 1 in 100 is the p99.
    let p99 = points.iter().find(|p| (p.0 - 100.0).abs() < 1e-6).unwrap();
    assert!((p99.1 - 990.0).abs() < 1.0, "{p99:?}");
    assert!(
        points
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
    );
    assert!(charts::spectrum_points(&new_latency()).is_empty());
    assert_eq!(super::charts::percentile_label(1_000.0), "99.9%");
    assert_eq!(super::charts::percentile_label(10.0), "90%");
}

#[test]
fn the_planned_rate_holds_the_warm_up_at_the_starting_rate_then_ramps() {
    let open = |rate| {
        Model::Open(OpenModel {
            rate,
            connections: 4,
            max_in_flight: 10,
            pacing: Some(crate::engine::Pacing::DEFAULT),
        })
    };
    let stop = |d: Option<u64>| StopRule {
        duration: d.map(Duration::from_secs),
        requests: None,
    };
    let stages = open(Rate::Stages {
        start: 10.0,
        stages: vec![
            Stage {
                duration: Duration::from_secs(2),
                rate: 50.0,
            },
            Stage {
                duration: Duration::from_secs(3),
                rate: 50.0,
            },
        ],
    });
    assert_eq!(
        charts::planned_rate(&stages, stop(None), Some(1.0), 9.0),
        Some(vec![(0.0, 10.0), (1.0, 10.0), (3.0, 50.0), (6.0, 50.0)])
    );
    assert_eq!(
        charts::planned_rate(&open(Rate::Constant(200.0)), stop(Some(3)), Some(2.0), 6.0),
        Some(vec![(0.0, 200.0), (5.0, 200.0)])
    );
    // By count: the plan holds until the run ends.
    assert_eq!(
        charts::planned_rate(&open(Rate::Constant(5.0)), stop(None), None, 7.5),
        Some(vec![(0.0, 5.0), (7.5, 5.0)])
    );
    assert_eq!(
        charts::planned_rate(&Model::Closed { concurrency: 2 }, stop(Some(1)), None, 1.0),
        None
    );
}

#[test]
fn requests_in_flight_are_the_starts_less_the_ends_with_drops_never_started() {
    let second = |s, started, c: Counts| Interval {
        second: s,
        started,
        counts: c,
        latency_us: None,
        send_lag_us: None,
    };
    let intervals = [
        second(
            2,
            10,
            counts(&[(Class::Status(201), 4), (Class::Dropped, 5)]),
        ),
        second(
            3,
            3,
            counts(&[(Class::Status(201), 7), (Class::Timeout, 1)]),
        ),
        second(4, 0, counts(&[(Class::Cancelled, 1)])),
    ];
    assert_eq!(
        charts::in_flight(&intervals),
        [(3.0, 6.0), (4.0, 1.0), (5.0, 0.0)]
    );
    let axis = TimeAxis::new(4.2, &intervals, Some(2.0));
    assert_eq!(axis.end, 5.0);
    assert_eq!(axis.warmup, Some(2.0));
}

/// The dark scheme swaps colours by their value: every colour a chart
/// uses must be one it knows, or that line would stay dark on dark.
#[test]
fn every_colour_the_charts_use_has_a_dark_twin_in_the_stylesheet() {
    let page = html(&busy_run("peak", b"/nowhere"));
    let mut used = std::collections::BTreeSet::new();
    for attr in ["fill=\"#", "stroke=\"#"] {
        for rest in page.split(attr).skip(1) {
            used.insert(rest[..6].to_string());
        }
    }
    // The stylesheet's own rules (`svg [fill="#…"]`) are found too; they
    // name palette colours, so they pass.
    let known: Vec<String> = charts::PALETTE
        .iter()
        .map(|r| {
            let c = r.color();
            format!("{:02X}{:02X}{:02X}", c.0, c.1, c.2)
        })
        .collect();
    assert!(used.len() > 5, "{used:?}");
    for colour in &used {
        assert!(known.contains(colour), "#{colour} has no dark twin");
        assert!(
            page.contains(&format!("svg [stroke=\"#{colour}\"]{{stroke:")),
            "#{colour} is swapped in the dark scheme"
        );
    }
}
