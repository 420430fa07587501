//! `--shard`, `--shards` and the rules between them and the plan.

use super::raw::{Located, RawShard};
use super::*;

fn resolve(text: &str, flags: &FlagSettings) -> Result<Scenario, String> {
    Scenario::resolve_text(text, "test.toml", None, flags).map_err(|e| format!("{e:#}"))
}

fn fixed(index: u64, count: u64) -> FlagSettings {
    FlagSettings {
        shard: Some(ShardFlag::Fixed { index, count }),
        seed: Some(7),
        ..FlagSettings::default()
    }
}

/// The settings of `--shard auto` with `JOB_COMPLETION_INDEX` as given,
/// validated (the flag layer reads the variable itself).
fn auto(index: Option<&str>, shards: Option<i64>) -> Result<Scenario, String> {
    let mut raw = FlagSettings {
        seed: Some(7),
        shards,
        ..FlagSettings::default()
    }
    .raw();
    raw.load.shard = Some(Located::flag(
        RawShard::Auto {
            index: index.map(str::to_owned),
        },
        "--shard",
    ));
    validate::validate(&raw, "test.toml").map_err(|errors| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn the_shard_flag_reads_k_of_n_and_auto() {
    assert_eq!(
        parse_shard("2/3"),
        Ok(ShardFlag::Fixed { index: 2, count: 3 })
    );
    assert_eq!(parse_shard("auto"), Ok(ShardFlag::Auto));
    let bad = parse_shard("2of3").unwrap_err();
    assert!(
        bad.contains("K/N") && bad.contains(SHARD_INDEX_VAR),
        "{bad}"
    );
}

#[test]
fn a_shard_that_does_not_exist_is_refused_naming_the_flag() {
    for (k, n) in [(3, 3), (0, 0), (5, 2)] {
        let message = resolve("", &fixed(k, n)).unwrap_err();
        assert!(
            message.contains("--shard") && message.contains(&format!("{k}/{n} does not exist")),
            "{message}"
        );
    }
    let ok = resolve("", &fixed(2, 3)).unwrap();
    assert_eq!(ok.load.shard, Some(Shard { index: 2, count: 3 }));
}

#[test]
fn shards_need_a_shared_seed_and_a_worker_each() {
    let no_seed = FlagSettings {
        seed: None,
        ..fixed(0, 2)
    };
    let message = resolve("", &no_seed).unwrap_err();
    assert!(message.contains("--seed"), "{message}");
    assert!(resolve("[body]\nseed = 3\n", &no_seed).is_ok());
    let message = resolve("[load]\nconcurrency = 2\n", &fixed(0, 3)).unwrap_err();
    assert!(
        message.contains("at least 3 closed-model workers"),
        "{message}"
    );
}

#[test]
fn auto_takes_the_index_from_the_environment_and_the_count_from_shards() {
    let shard = auto(Some("1"), Some(4)).unwrap().load.shard;
    assert_eq!(shard, Some(Shard { index: 1, count: 4 }));
    let unset = auto(None, Some(4)).unwrap_err();
    assert!(
        unset.contains(SHARD_INDEX_VAR) && unset.contains("not set"),
        "{unset}"
    );
    let no_count = auto(Some("1"), None).unwrap_err();
    assert!(no_count.contains("--shards"), "{no_count}");
    let garbage = auto(Some("x"), Some(4)).unwrap_err();
    assert!(garbage.contains("\"x\""), "{garbage}");
    let beyond = auto(Some("4"), Some(4)).unwrap_err();
    assert!(beyond.contains("4/4 does not exist"), "{beyond}");
}

#[test]
fn shards_without_auto_is_refused() {
    let flags = FlagSettings {
        shards: Some(3),
        ..FlagSettings::default()
    };
    let message = resolve("", &flags).unwrap_err();
    assert!(message.contains("--shard auto"), "{message}");
}
