use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;
use crate::scenario::Scenario;
use crate::spec::{self, RuleSet};

fn generator(scenario_text: &str, seed: u64) -> BodyGenerator {
    let scenario = Scenario::parse(scenario_text, "t.toml", None).unwrap();
    BodyGenerator::new(&scenario.body, seed)
}

fn body(g: &BodyGenerator, index: u64) -> Value {
    let mut out = Vec::new();
    g.write(index, 1_700_000_000_000 + index, &mut out);
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "body {index} is not JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    })
}

/// A scenario that sets every kind of value, so the test of validity covers
/// user settings as well as defaults.
const BUSY: &str = r#"
[body.params]
"analytics.reportSuite" = { one_of = ["a-prod", "b-prod"], weights = [3, 1] }
"media.contentType" = { one_of = ["vod", "live", "podcast", "Clip"] }
"media.length" = { uniform = [0.5, 7200] }
"media.id" = { pattern = "id-{alnum:6}-{index}-{{x}}" }
"media.name" = { pattern = "Tab\there \"quoted\" {uuid}" }
"media.show" = { present = 0.9 }
"media.artist" = { present = 0.9 }
"visitor.aamLocationHint" = { uniform = [-5, 5] }
"visitor.customerIDs" = { present = 1.0 }
"media.downloaded" = false
"media.resume" = { one_of = [true, false] }
[body.custom_metadata]
generated = [0, 16]
fields = { "cms.category" = { pattern = "c-{digits:2}" }, "x.y_z" = "é ü \\ /" }
[body.qoe_data]
present = 1.0
fields = { "media.qoe.errorID" = { present = 0.5 }, "media.qoe.errorSource" = "player" }
"#;

#[test]
fn every_body_over_many_seeds_passes_spec_validation_under_both_rule_sets() {
    let mut checked = 0;
    let mut out = Vec::with_capacity(2048);
    for (text, seeds) in [("", 0..60u64), (BUSY, 1000..1050)] {
        let scenario = Scenario::parse(text, "t.toml", None).unwrap();
        for seed in seeds {
            let g = BodyGenerator::new(&scenario.body, seed);
            for index in 0..1_000 {
                out.clear();
                g.write(index, 1_700_000_000_000, &mut out);
                // The documented rules are a subset of the strict ones; every
                // tenth body is checked under them too, to keep the test quick
                // in a debug build.
                let rule_sets: &[RuleSet] = if index % 10 == 0 {
                    &RuleSet::ALL
                } else {
                    &[RuleSet::Strict]
                };
                for &rules in rule_sets {
                    if let Err(v) = spec::validate_bytes(&out, rules) {
                        panic!(
                            "seed {seed} body {index} is invalid under {rules}: {v}\n{}",
                            String::from_utf8_lossy(&out)
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 110_000);
}

#[test]
fn some_playheads_carry_a_fraction_and_stay_below_the_length() {
    for (text, seed) in [("", 12u64), (BUSY, 13)] {
        let g = generator(text, seed);
        let mut out = Vec::with_capacity(2048);
        let (mut fractional, mut whole_nonzero, mut at_start) = (0, 0, 0);
        for index in 0..5_000 {
            out.clear();
            g.write_valid(index, 1_700_000_000_000, &mut out);
            for rules in RuleSet::ALL {
                assert_eq!(spec::validate_bytes(&out, rules), Ok(()), "under {rules}");
            }
            let b: Value = serde_json::from_slice(&out).unwrap();
            let playhead = &b["playerTime"]["playhead"];
            let value = playhead.as_f64().unwrap();
            // Live content reports the time of day, recorded content a
            // position below its length.
            let content_type = b["params"]["media.contentType"].as_str().unwrap();
            let bound = if data::profile_for(content_type).live {
                86_400.0
            } else {
                b["params"]["media.length"].as_f64().unwrap()
            };
            assert!((0.0..bound).contains(&value), "{b}");
            if playhead.is_f64() {
                assert_ne!(value.fract(), 0.0, "a float playhead has a fraction: {b}");
                let text = playhead.to_string();
                let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                assert!((1..=3).contains(&decimals), "millisecond precision: {text}");
                fractional += 1;
            } else if value == 0.0 {
                at_start += 1;
            } else {
                whole_nonzero += 1;
            }
        }
        // About a fifth of default bodies: half the live ones and half the
        // recorded ones that resume part-way.
        assert!(
            (400..2_000).contains(&fractional),
            "{fractional} fractional playheads of 5000"
        );
        assert!(whole_nonzero > 400, "{whole_nonzero} whole nonzero");
        assert!(at_start > 1_500, "{at_start} at the start");
    }
}

#[test]
fn playheads_are_written_as_json_numbers_without_trailing_zeros() {
    for (playhead, text) in [
        (Playhead::Seconds(0), "0"),
        (Playhead::Seconds(86_399), "86399"),
        (Playhead::Millis(0), "0"),
        (Playhead::Millis(7), "0.007"),
        (Playhead::Millis(1_050), "1.05"),
        (Playhead::Millis(12_500), "12.5"),
        (Playhead::Millis(60_000), "60"),
        (Playhead::Millis(86_399_999), "86399.999"),
    ] {
        let mut out = Vec::new();
        playhead.write(&mut out);
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
}

#[test]
fn the_same_seed_and_index_give_the_same_body() {
    for text in ["", BUSY] {
        let a = generator(text, 42);
        let b = generator(text, 42);
        for index in [0, 1, 2, 999, 123_456_789] {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            a.write(index, 5, &mut x);
            b.write(index, 5, &mut y);
            assert_eq!(x, y);
        }
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.write(7, 5, &mut x);
        generator(text, 43).write(7, 5, &mut y);
        assert_ne!(x, y, "another seed gives other bodies");
    }
}

#[test]
fn only_ts_depends_on_the_send_time() {
    let g = generator("", 3);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    g.write(11, 1_000, &mut x);
    g.write(11, 2_000, &mut y);
    let mut a: Value = serde_json::from_slice(&x).unwrap();
    let mut b: Value = serde_json::from_slice(&y).unwrap();
    assert_eq!(a["playerTime"]["ts"], 1_000);
    assert_eq!(b["playerTime"]["ts"], 2_000);
    a["playerTime"]["ts"] = Value::Null;
    b["playerTime"]["ts"] = Value::Null;
    assert_eq!(a, b);
}

#[test]
fn default_bodies_vary_like_a_real_player_population() {
    let g = generator("", 9);
    let bodies: Vec<Value> = (0..2_000).map(|i| body(&g, i)).collect();
    let distinct = |f: &dyn Fn(&Value) -> Option<String>| {
        bodies.iter().filter_map(f).collect::<BTreeSet<_>>().len()
    };
    let param = |key: &'static str| move |b: &Value| b["params"].get(key).map(|v| v.to_string());
    assert!(distinct(&param("media.id")) > 1_900, "ids vary");
    assert!(distinct(&param("media.length")) > 1_000, "lengths vary");
    assert_eq!(
        distinct(&param("media.contentType")),
        9,
        "every recommended type"
    );
    assert!(distinct(&param("media.name")) > 500, "names vary");
    let key_sets = distinct(&|b: &Value| {
        Some(
            b["params"]
                .as_object()?
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
        )
    });
    assert!(key_sets > 500, "optional keys vary: {key_sets} sets");
    let metadata_sizes = distinct(&|b: &Value| {
        Some(
            b.get("customMetadata")
                .map_or(0, |m| m.as_object().unwrap().len())
                .to_string(),
        )
    });
    assert_eq!(metadata_sizes, 4, "0 to 3 custom metadata keys");
    let with_qoe = bodies.iter().filter(|b| b.get("qoeData").is_some()).count();
    assert!(
        (800..1_200).contains(&with_qoe),
        "{with_qoe} of 2000 carry qoeData"
    );
    assert!(
        bodies
            .iter()
            .all(|b| b["params"].as_object().unwrap().len() > spec::REQUIRED_COUNT)
    );
}

#[test]
fn content_type_decides_stream_type_length_and_playhead() {
    let g = generator("", 5);
    for i in 0..5_000 {
        let b = body(&g, i);
        let params = &b["params"];
        let content_type = params["media.contentType"].as_str().unwrap();
        let profile = data::profile_for(content_type);
        assert_eq!(params["media.streamType"], profile.stream_type(), "{b}");
        let length = params["media.length"].as_f64().unwrap();
        let playhead = b["playerTime"]["playhead"].as_f64().unwrap();
        if profile.live {
            assert_eq!(length, 86_400.0);
        } else {
            assert!(
                length >= profile.length.0 && length <= profile.length.1,
                "{b}"
            );
        }
        assert!((0.0..length).contains(&playhead), "{b}");
        let audio = profile.stream_type() == "audio";
        assert!(
            !(audio && params.get("media.show").is_some()),
            "video keys stay off audio: {b}"
        );
        assert!(
            audio || params.get("media.artist").is_none(),
            "audio keys stay off video: {b}"
        );
    }
}

#[test]
fn scenario_settings_are_honoured() {
    let g = generator(BUSY, 77);
    let bodies: Vec<Value> = (0..4_000).map(|i| body(&g, i)).collect();
    let count = |f: &dyn Fn(&Value) -> bool| bodies.iter().filter(|b| f(b)).count();

    let a_prod = count(&|b| b["params"]["analytics.reportSuite"] == "a-prod");
    assert!(
        (2_800..3_200).contains(&a_prod),
        "weights 3:1 gave {a_prod} of 4000"
    );
    let types: BTreeSet<_> = bodies
        .iter()
        .map(|b| {
            b["params"]["media.contentType"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(["Clip".into(), "live".into(), "podcast".into(), "vod".into()])
    );
    assert!(bodies.iter().all(|b| {
        let l = b["params"]["media.length"].as_f64().unwrap();
        (0.5..=7200.0).contains(&l)
    }));
    assert!(bodies.iter().enumerate().all(|(i, b)| {
        let id = b["params"]["media.id"].as_str().unwrap();
        id.starts_with("id-")
            && id.ends_with(&format!("-{i}-{{x}}"))
            && id.len() == 3 + 6 + 1 + i.to_string().len() + 4
    }));
    assert!(
        bodies[0]["params"]["media.name"]
            .as_str()
            .unwrap()
            .starts_with("Tab\there \"quoted\" ")
    );
    // The user's media.show share applies to audio bodies too.
    let shows = count(&|b| b["params"].get("media.show").is_some());
    assert!((3_450..3_750).contains(&shows), "{shows}");
    assert_eq!(
        count(&|b| b["params"].get("visitor.customerIDs").is_some()),
        4_000
    );
    assert_eq!(count(&|b| b["params"]["media.downloaded"] == false), 4_000);
    assert_eq!(
        count(&|b| b["customMetadata"]["x.y_z"] == "é ü \\ /"),
        4_000
    );
    assert!(bodies.iter().all(|b| {
        b["customMetadata"]["cms.category"]
            .as_str()
            .unwrap()
            .starts_with("c-")
    }));
    let metadata_sizes: BTreeSet<_> = bodies
        .iter()
        .map(|b| b["customMetadata"].as_object().unwrap().len())
        .collect();
    // Two fixed keys plus 0..=15 pool keys (the pool's cms.category is replaced).
    assert_eq!(metadata_sizes, (2..=17).collect());
    assert_eq!(
        count(&|b| b["qoeData"]["media.qoe.errorSource"] == "player"),
        4_000
    );
    let with_error_id = count(&|b| b["qoeData"].get("media.qoe.errorID").is_some());
    assert!((1_800..2_200).contains(&with_error_id), "{with_error_id}");
}

#[test]
fn a_fixed_required_value_appears_in_every_body_and_absent_sections_are_left_out() {
    let g = generator(
        "[body.params]\n\"media.channel\" = \"ch-1\"\n[body.custom_metadata]\ngenerated = [0, 0]\n[body.qoe_data]\npresent = 0\n",
        1,
    );
    for i in 0..500 {
        let b = body(&g, i);
        assert_eq!(b["params"]["media.channel"], "ch-1");
        assert!(b.get("customMetadata").is_none());
        assert!(b.get("qoeData").is_none());
    }
}

#[test]
fn writing_reuses_the_buffer_without_growing_it() {
    let g = generator(BUSY, 1);
    let mut out = Vec::with_capacity(16 * 1024);
    let capacity = out.capacity();
    let mut sizes = BTreeMap::new();
    for i in 0..10_000 {
        out.clear();
        g.write(i, 1, &mut out);
        *sizes.entry(out.len() / 100).or_insert(0) += 1;
    }
    assert_eq!(out.capacity(), capacity);
    assert!(sizes.len() > 3, "body sizes vary: {sizes:?}");
}

#[test]
fn the_metadata_pool_covers_the_largest_generated_count() {
    assert!(data::METADATA_POOL.len() >= 16);
    for (key, values) in data::METADATA_POOL {
        assert_eq!(spec::check_metadata_key(key), Ok(()));
        assert!(!values.is_empty());
    }
}

#[test]
fn every_mutation_breaks_a_valid_body_in_its_named_way() {
    let g = generator("", 9);
    for mutation in crate::spec::Mutation::all() {
        for index in 0..50 {
            let mut body = Vec::new();
            g.write_valid(index, 1_700_000_000_000, &mut body);
            assert!(spec::validate_bytes(&body, RuleSet::Strict).is_ok());
            mutation.apply(&mut body);
            assert_eq!(
                spec::validate_bytes(&body, RuleSet::Documented).is_err(),
                mutation.rejected_by(RuleSet::Documented),
                "{} under documented",
                mutation.name()
            );
            let violation =
                spec::validate_bytes(&body, RuleSet::Strict).expect_err(mutation.name());
            let name = mutation.name();
            // The rule broken is the one the name says.
            let expected = match name.split(':').next().unwrap() {
                "missing" if name.starts_with("missing:params.") => "missing_param",
                "missing" => "missing_member",
                "wrong_type" | "float" | "not_integer" => "wrong_type",
                "wrong_event_type" => "wrong_event_type",
                "downloaded_true" => "downloaded_true",
                "unknown_key" if name.ends_with("params") => "unknown_param",
                "unknown_key" if name.ends_with("qoeData") => "unknown_qoe_key",
                "unknown_key" => "unknown_member",
                "bad_key" => "bad_custom_metadata_key",
                "not_string" => "custom_metadata_not_string",
                "not_json" | "empty_body" => "not_json",
                other => panic!("no expectation for {other}"),
            };
            assert!(
                violation.rule.code().starts_with(expected),
                "{name}: broke {} at {:?}",
                violation.rule.code(),
                violation.field
            );
        }
    }
}

#[test]
fn the_invalid_share_and_weights_choose_the_mutations() {
    let all = generator("[body]\ninvalid_share = 1.0\n", 4);
    let mut seen = std::collections::BTreeSet::new();
    for index in 0..20_000 {
        let mut body = Vec::new();
        match all.write(index, 1, &mut body) {
            BodyKind::Valid => panic!("body {index} is valid at share 1"),
            BodyKind::Invalid(m) => {
                assert!(
                    spec::validate_bytes(&body, RuleSet::Strict).is_err(),
                    "{}",
                    m.name()
                );
                seen.insert(m);
            }
        }
    }
    assert_eq!(
        seen.len(),
        crate::spec::MUTATIONS.len(),
        "every mutation appears"
    );

    let quarter = generator("[body]\ninvalid_share = 0.25\n", 4);
    let invalid = (0..40_000)
        .filter(|&i| quarter.kind(i) != BodyKind::Valid)
        .count();
    assert!((9_500..10_500).contains(&invalid), "{invalid} of 40000");

    let weighted = generator(
        "[body]\ninvalid_share = 1.0\n[body.mutations]\n\"missing:params.media.id\" = 3\n\"empty_body\" = 1\n",
        4,
    );
    let missing_id = (0..8_000)
        .filter(|&i| weighted.kind(i).name() == "missing:params.media.id")
        .count();
    assert!((5_700..6_300).contains(&missing_id), "{missing_id} of 8000");
    assert!((0..8_000).all(|i| matches!(
        weighted.kind(i).name(),
        "missing:params.media.id" | "empty_body"
    )));
}

#[test]
fn a_valid_body_is_the_same_at_any_invalid_share() {
    let none = generator("[body]\n", 5);
    let some = generator("[body]\ninvalid_share = 0.5\n", 5);
    for index in 0..2_000 {
        if some.kind(index) == BodyKind::Valid {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            none.write(index, 1, &mut a);
            some.write(index, 1, &mut b);
            assert_eq!(a, b, "body {index}");
        }
    }
}

/// Weights of 1e308 sum past `f64::MAX`: each choice still gets its share,
/// for a param's `one_of` and for the mutations alike.
#[test]
fn weights_near_the_largest_float_still_pick_every_choice() {
    let g = generator(
        "[body]\ninvalid_share = 0.5\n[body.mutations]\n\"missing:params.media.id\" = 1e308\n\"empty_body\" = 1e308\n\
         [body.params]\n\"media.contentType\" = { one_of = [\"vod\", \"live\"], weights = [1e308, 1e308] }\n",
        6,
    );
    let (mut vod, mut empty) = (0, 0);
    for index in 0..4_000 {
        match g.kind(index) {
            BodyKind::Valid => {
                vod += usize::from(body(&g, index)["params"]["media.contentType"] == "vod");
            }
            kind => empty += usize::from(kind.name() == "empty_body"),
        }
    }
    assert!((800..1_200).contains(&vod), "{vod} vod of ~2000 valid");
    assert!(
        (800..1_200).contains(&empty),
        "{empty} empty of ~2000 invalid"
    );
}
