//! Property tests over everything that reads outside input: scenario files
//! (TOML-like text and arbitrary bytes, with and without flags), durations,
//! target URLs, threshold expressions, `mcload serve`'s fault flags and the
//! reference server's body validator. Each must answer every input with a
//! value or an error that says where, and never panic. (The HTTP/1.1 answer
//! parser's properties sit beside it, in `src/engine/http1_props.rs`: it
//! is private to the engine.)
//!
//! `cargo test` runs a few hundred cases of each; `.ci/run` runs them
//! again with `PROPTEST_CASES=4096`.

use std::time::Duration;

use mcload::reference::{Latency, MAX_LATENCY, Stall};
use mcload::scenario::{
    FlagSettings, LoadError, Place, Scenario, TargetUrl, parse_duration, parse_header,
};
use mcload::spec::{RuleSet, validate, validate_bytes};
use mcload::threshold::{self, Source};
use proptest::prelude::*;
use serde_json::Value;

/// `cases` unless `PROPTEST_CASES` says otherwise; failures are printed
/// (with the smallest input found), not saved beside the sources.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

const SECTIONS: &[&str] = &[
    "[load]",
    "[body]",
    "[body.params]",
    "[body.custom_metadata]",
    "[body.qoe_data]",
    "[body.mutations]",
    "[target]",
    "[http]",
    "[http.headers]",
    "[thresholds]",
    "[[load.stages]]",
    "[load",
    "[]",
    "[a.b.c]",
    "[load.concurrency]",
];

const KEYS: &[&str] = &[
    "name",
    "description",
    "url",
    "path",
    "rules",
    "ca_cert",
    "concurrency",
    "rate",
    "start_rate",
    "stages",
    "connections",
    "max_in_flight",
    "duration",
    "requests",
    "warmup",
    "threads",
    "timeout",
    "headers",
    "seed",
    "invalid_share",
    "generated",
    "fields",
    "present",
    "defaults",
    "\"media.contentType\"",
    "\"media.length\"",
    "\"media.id\"",
    "\"analytics.reportSuite\"",
    "\"visitor.aamLocationHint\"",
    "\"media.qoe.bitrate\"",
    "\"missing:params.media.id\"",
    "\"empty_body\"",
    "\"latency.p99\"",
    "\"latency.p99 over 5s\"",
    "\"status.201\"",
    "\"checks.duplicate_session_ids\"",
    "Authorization",
    "\"X-Run\"",
];

const INLINE_KEYS: &[&str] = &[
    "one_of", "weights", "uniform", "present", "value", "pattern", "check", "abort", "after",
    "duration", "rate", "url",
];

const WORDS: &[&str] = &[
    "5s",
    "0s",
    "500ms",
    "2m",
    "99999999d",
    "1ns",
    "< 250ms",
    ">= 99%",
    "== 0",
    "> 500/s",
    "strict",
    "documented",
    "http://127.0.0.1:1",
    "https://[::1]:8443/base",
    "http://h:99999",
    "vod",
    "vod-{digits:8}",
    "{hex:999999}",
    "{",
    "Show {alpha:6}",
    "${HOME}",
    "/api/v1/sessions",
    "",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-3i64..100_001).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|x| format!("{x:?}")),
        prop::sample::select(
            &[
                "inf",
                "-inf",
                "nan",
                "1e308",
                "-1e308",
                "-0.0",
                "0",
                "1",
                "0.5",
                "true",
                "false",
                "1979-05-27T07:32:00Z",
                "07:32:00",
            ][..]
        )
        .prop_map(String::from),
        prop::sample::select(WORDS).prop_map(|s| format!("{s:?}")),
        ".{0,24}".prop_map(|s| format!("{s:?}")),
        "[0-9]{1,14}(ns|us|ms|s|m|h|d|w|y)?".prop_map(|s| format!("\"{s}\"")),
    ]
}

fn value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((prop::sample::select(INLINE_KEYS), inner), 0..4).prop_map(
                |kv| {
                    let pairs: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    format!("{{ {} }}", pairs.join(", "))
                }
            ),
        ]
    })
}

fn toml_line() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(String::from),
        1 => "[a-z_.\"]{1,12}",
    ];
    prop_oneof![
        6 => (key, value()).prop_map(|(k, v)| format!("{k} = {v}")),
        2 => prop::sample::select(SECTIONS).prop_map(String::from),
        1 => any::<String>(),
        1 => Just(String::new()),
    ]
}

fn toml_text() -> impl Strategy<Value = String> {
    prop::collection::vec(toml_line(), 0..16).prop_map(|lines| lines.join("\n"))
}

/// The lines of the worked example that sets every key, comments gone.
fn reference_lines() -> Vec<String> {
    include_str!("../scenarios/reference.toml")
        .lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// A part of the worked example, in order, with some values replaced:
/// mostly scenarios that hold, or break one rule.
fn near_valid_text() -> impl Strategy<Value = String> {
    let lines = reference_lines();
    let count = lines.len();
    (
        prop::collection::vec(prop::bool::weighted(0.8), count),
        prop::collection::vec((any::<prop::sample::Index>(), value()), 0..2),
    )
        .prop_map(move |(keep, changes)| {
            // Section headers stay, so that keys stay in their tables.
            let mut lines: Vec<String> = lines
                .iter()
                .zip(keep)
                .filter(|(line, keep)| *keep || line.starts_with('['))
                .map(|(line, _)| line.clone())
                .collect();
            for (at, value) in changes {
                if lines.is_empty() {
                    break;
                }
                let i = at.index(lines.len());
                if let Some((key, _)) = lines[i].split_once(" = ") {
                    lines[i] = format!("{key} = {value}");
                }
            }
            lines.join("\n")
        })
}

/// Every problem is in the file (at a line the text has, column from 1)
/// or at a flag; a scenario that validates makes bodies.
fn check_scenario(bytes: &[u8], flags: &FlagSettings) -> Result<(), TestCaseError> {
    let lines = bytes.split(|&b| b == b'\n').count();
    match Scenario::resolve_bytes(bytes, "p.toml", None, flags) {
        Ok(scenario) => {
            let generator = mcload::generate::BodyGenerator::new(&scenario.body, 7);
            let mut body = Vec::new();
            for index in 0..4 {
                body.clear();
                let kind = generator.write(index, 1_700_000_000_000, &mut body);
                // A valid body passes the rules the scenario's target applies.
                if kind == mcload::spec::BodyKind::Valid {
                    let judged = validate_bytes(&body, scenario.target.rules);
                    prop_assert!(
                        judged.is_ok(),
                        "{:?}: {}",
                        judged,
                        String::from_utf8_lossy(&body)
                    );
                }
            }
        }
        Err(LoadError::Invalid { problems, .. }) => {
            prop_assert!(!problems.is_empty());
            for problem in &problems {
                let shown = problem.to_string();
                match &problem.place {
                    Place::File(p) => {
                        prop_assert!(p.line >= 1 && p.line <= lines, "{shown}");
                        prop_assert!(p.column >= 1, "{shown}");
                    }
                    Place::Flag(flag) => prop_assert!(flag.starts_with("--"), "{shown}"),
                }
            }
        }
        Err(other) => prop_assert!(false, "not a problem list: {other}"),
    }
    Ok(())
}

fn flags() -> impl Strategy<Value = FlagSettings> {
    let duration = prop::option::of((0u64..10_000_000).prop_map(Duration::from_millis));
    (
        prop::option::of(any::<i64>()),
        prop::option::of(prop_oneof![any::<f64>(), 0.0..10_000.0]),
        prop::option::of(-2i64..5_000),
        duration.clone(),
        duration,
        prop::option::of(any::<i64>()),
        prop::option::of(any::<f64>()),
        prop::collection::vec(threshold_expression(), 0..3),
    )
        .prop_map(
            |(
                concurrency,
                rate,
                threads,
                duration,
                warmup,
                requests,
                invalid_share,
                thresholds,
            )| {
                FlagSettings {
                    concurrency,
                    rate,
                    threads,
                    duration,
                    warmup,
                    requests,
                    invalid_share,
                    thresholds,
                    ..FlagSettings::default()
                }
            },
        )
}

fn threshold_expression() -> impl Strategy<Value = String> {
    let metric = prop_oneof![
        prop::sample::select(
            &[
                "latency.p99",
                "latency.p50",
                "latency.p999",
                "latency.mean",
                "latency.max",
                "service_time.p99",
                "status.201",
                "status.500",
                "status.other",
                "errors",
                "errors.timeout",
                "unexpected",
                "rate",
                "dropped",
                "checks.duplicate_session_ids",
                "checks.nope",
                "latency.p100",
                "latency.p0",
                "",
            ][..]
        )
        .prop_map(String::from),
        "[a-z._0-9]{0,16}",
    ];
    let window = prop_oneof![
        3 => Just(String::new()),
        1 => "(0|1|5|10|3600|99999999999)(ms|s|m|h|d)?".prop_map(|d| format!(" over {d}")),
        1 => ".{0,8}".prop_map(|d| format!(" over {d}")),
    ];
    let op =
        prop::sample::select(&["<", "<=", ">", ">=", "==", "!=", "=<", "=", "<>", "!", ""][..]);
    let value = prop_oneof![
        (
            any::<f64>(),
            prop::sample::select(&["", "ms", "s", "%", "/s", "us", "m", "x"][..])
        )
            .prop_map(|(x, unit)| format!("{x}{unit}")),
        (
            0u32..100_000,
            prop::sample::select(&["", "ms", "s", "%", "/s"][..])
        )
            .prop_map(|(x, unit)| format!("{x}{unit}")),
        ".{0,10}",
    ];
    (metric, window, op, value).prop_map(|(m, w, op, v)| format!("{m}{w} {op} {v}"))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn scenario_text_is_read_or_refused_at_a_place(text in toml_text()) {
        check_scenario(text.as_bytes(), &FlagSettings::default())?;
    }

    #[test]
    fn scenarios_near_the_worked_example_are_read_or_refused_at_a_place(
        text in near_valid_text(),
        flags in prop_oneof![3 => Just(FlagSettings::default()), 1 => flags()],
    ) {
        check_scenario(text.as_bytes(), &flags)?;
    }

    #[test]
    fn scenario_bytes_are_read_or_refused_at_a_place(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        check_scenario(&bytes, &FlagSettings::default())?;
    }

    #[test]
    fn flags_over_a_scenario_are_read_or_refused_at_a_place(
        text in toml_text(),
        flags in flags(),
    ) {
        check_scenario(text.as_bytes(), &flags)?;
    }

    #[test]
    fn durations_parse_or_say_why(text in ".{0,30}") {
        if let Err(e) = parse_duration(&text) {
            prop_assert!(!e.is_empty());
        }
    }

    #[test]
    fn durations_in_range_parse_to_their_value(
        n in 1u64..100_000_000,
        unit in prop::sample::select(&[("ms", 1u64), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)][..]),
    ) {
        let expected = Duration::from_millis(n * unit.1);
        let parsed = parse_duration(&format!("{n}{}", unit.0));
        if expected <= mcload::scenario::MAX_DURATION {
            prop_assert_eq!(parsed, Ok(expected));
        } else {
            prop_assert!(parsed.is_err());
        }
    }

    #[test]
    fn target_urls_parse_and_print_back_or_say_why(
        text in prop_oneof![
            ".{0,40}",
            "(https?|HTTP|ftp|)(://)?(\\[[0-9a-f:]{0,12}\\]|[a-zA-Z0-9.\\-_@%]{0,20})(:[0-9]{0,7})?(/[a-zA-Z0-9%._~\\-]{0,8}){0,3}[/?#]?[a-z=]{0,4}",
        ],
    ) {
        match TargetUrl::parse(&text) {
            Ok(url) => {
                let again = TargetUrl::parse(&url.to_string());
                prop_assert_eq!(again.as_ref(), Ok(&url), "{} printed as {}", text, url);
                let _ = url.request_path("/api/v1/sessions");
            }
            Err(e) => prop_assert!(!e.reason.is_empty()),
        }
    }

    #[test]
    fn threshold_expressions_parse_and_print_back_or_say_why(expr in threshold_expression()) {
        let (metric, check) = threshold::split(&expr);
        match threshold::parse(metric, check, Source::Flag) {
            Ok(t) => {
                let printed = t.expression();
                let (metric, check) = threshold::split(&printed);
                let again = threshold::parse(metric, check, Source::Flag);
                prop_assert!(again.is_ok(), "{} printed as {}", expr, printed);
                let again = again.unwrap();
                prop_assert_eq!((again.metric, again.window, again.op), (t.metric, t.window, t.op));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn header_flags_parse_or_say_why(text in ".{0,40}") {
        if let Ok((name, _)) = parse_header(&text) {
            prop_assert!(!name.is_empty());
        }
    }

    #[test]
    fn serve_fault_flags_parse_or_say_why(text in prop_oneof![
        ".{0,24}",
        "(uniform:|lognormal:)?[0-9]{0,6}(ms|s)?(\\.\\.|,)?[0-9.e]{0,8}(ms|s)?",
        "[0-9]{0,6}(ms|s)?/[0-9]{0,6}(ms|s)?",
    ], u1 in 0.0..1.0f64, u2 in 0.0..1.0f64) {
        if let Ok(latency) = Latency::parse(&text) {
            let most = match latency {
                Latency::Fixed(d) | Latency::Uniform(_, d) => d,
                Latency::LogNormal { .. } => MAX_LATENCY,
            };
            prop_assert!(latency.sample(u1, u2) <= most, "{:?}", latency);
        }
        if let Ok(stall) = Stall::parse(&text) {
            prop_assert!(stall.length < stall.period);
            prop_assert!(stall.wait(Duration::from_secs_f64(u1 * 1e6)) <= stall.length);
        }
    }

    #[test]
    fn the_body_validator_judges_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        for rules in [RuleSet::Strict, RuleSet::Documented] {
            if let Err(v) = validate_bytes(&bytes, rules) {
                prop_assert!(!v.to_string().is_empty());
            }
        }
    }

    #[test]
    fn the_body_validator_judges_any_change_to_a_valid_body(
        seed in any::<u64>(),
        at in any::<prop::sample::Index>(),
        change in json_change(),
    ) {
        let mut body = valid_body(seed);
        let mut pointers = Vec::new();
        pointers_of(&body, String::new(), &mut pointers);
        let pointer = at.get(&pointers).clone();
        change.apply(&mut body, &pointer);
        for rules in [RuleSet::Strict, RuleSet::Documented] {
            if let Err(v) = validate(&body, rules) {
                prop_assert!(!v.to_string().is_empty());
            }
            let bytes = serde_json::to_vec(&body).unwrap();
            prop_assert_eq!(
                validate_bytes(&bytes, rules).is_ok(),
                validate(&body, rules).is_ok(),
                "{}", body
            );
        }
    }
}

fn valid_body(seed: u64) -> Value {
    let scenario = Scenario::parse("", "t.toml", None).unwrap();
    let mut body = Vec::new();
    mcload::generate::BodyGenerator::new(&scenario.body, seed).write(
        0,
        1_700_000_000_000,
        &mut body,
    );
    serde_json::from_slice(&body).unwrap()
}

fn pointers_of(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers_of(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers_of(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// One change to a JSON document at a place in it.
#[derive(Clone, Debug)]
enum JsonChange {
    Replace(Value),
    Remove,
    Insert(String, Value),
}

impl JsonChange {
    fn apply(&self, body: &mut Value, pointer: &str) {
        match self {
            JsonChange::Replace(v) => {
                if let Some(slot) = body.pointer_mut(pointer) {
                    *slot = v.clone();
                }
            }
            JsonChange::Remove => {
                let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", ""));
                let key = key.replace("~1", "/").replace("~0", "~");
                match body.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&key);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = key.parse::<usize>()
                            && i < items.len()
                        {
                            items.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            JsonChange::Insert(key, v) => {
                if let Some(Value::Object(map)) = body.pointer_mut(pointer) {
                    map.insert(key.clone(), v.clone());
                }
            }
        }
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        prop::sample::select(&["vod", "live", "sessionStart", "", "-1", "1e999"][..])
            .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_change() -> impl Strategy<Value = JsonChange> {
    prop_oneof![
        json_value().prop_map(JsonChange::Replace),
        Just(JsonChange::Remove),
        (
            prop_oneof![
                prop::sample::select(
                    &[
                        "media.id",
                        "media.length",
                        "media.contentType",
                        "playhead",
                        "ts",
                        "eventType",
                        "params",
                        "qoeData",
                        "customMetadata",
                    ][..]
                )
                .prop_map(String::from),
                ".{0,12}",
            ],
            json_value()
        )
            .prop_map(|(k, v)| JsonChange::Insert(k, v)),
    ]
}
