//! The plan's fingerprint: one 64-bit hash of everything that decides which
//! requests a run sends, when, and with which bodies, so that the reports
//! of the shards of one plan can be told from those of another.

use super::{Model, Scenario};

/// FNV-1a, 64 bits: fixed by its definition, so the fingerprint is the
/// same on every machine and in every build that reads the plan the same.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Scenario {
    /// The fingerprint of the plan this scenario sends with body seed
    /// `seed`: the model and its rate or concurrency, the stop rule, the
    /// warm-up, the seed and body settings (invalid share included), the
    /// endpoint path, the rule set and the number of shards. Not the shard
    /// index, the target's host, the threads, connections, timeouts,
    /// headers or outputs, which shards of one plan may set apart.
    pub fn plan_fingerprint(&self, seed: u64) -> u64 {
        let load = &self.load;
        let model = match &load.model {
            Model::Closed { concurrency } => format!("closed concurrency={concurrency}"),
            Model::Open(open) => format!("open rate={:?}", open.rate),
        };
        let mut body = self.body.clone();
        body.seed = None;
        let text = format!(
            "mcload plan 1\nmodel {model}\nstop {:?}\nwarmup {:?}\nseed {seed}\nbody {body:?}\npath {}\nrules {:?}\nshards {}\n",
            load.stop_rule(),
            load.warmup,
            self.target.path,
            self.target.rules,
            load.shard.map_or(1, |s| s.count),
        );
        fnv1a(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{FlagSettings, Shard};

    fn plan(source: &str, flags: FlagSettings) -> Scenario {
        Scenario::resolve_text(source, "plan.toml", None, &flags).unwrap()
    }

    const FILE: &str = "[load]\nrate = 100\nduration = \"2s\"\n[body]\nseed = 7\n";

    #[test]
    fn fnv1a_is_the_published_function() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_fingerprint_ignores_what_shards_may_set_apart() {
        let base = plan(FILE, FlagSettings::default());
        let fp = base.plan_fingerprint(7);
        let mut other = base.clone();
        other.load.threads = Some(5);
        other.target.url = Some(crate::scenario::TargetUrl::parse("http://10.0.0.9:8080").unwrap());
        if let Model::Open(open) = &mut other.load.model {
            open.connections = 3;
            open.max_in_flight = 9;
        }
        other.http.timeout = std::time::Duration::from_secs(1);
        assert_eq!(other.plan_fingerprint(7), fp);
        let mut a = base.clone();
        a.load.shard = Some(Shard { index: 0, count: 3 });
        let mut b = base.clone();
        b.load.shard = Some(Shard { index: 2, count: 3 });
        assert_eq!(a.plan_fingerprint(7), b.plan_fingerprint(7));
    }

    #[test]
    fn the_fingerprint_follows_what_defines_the_plan() {
        let fp = plan(FILE, FlagSettings::default()).plan_fingerprint(7);
        let changed = |flags: FlagSettings| plan(FILE, flags).plan_fingerprint(7);
        assert_ne!(plan(FILE, FlagSettings::default()).plan_fingerprint(8), fp);
        for flags in [
            FlagSettings {
                rate: Some(101.0),
                ..FlagSettings::default()
            },
            FlagSettings {
                duration: Some(std::time::Duration::from_secs(3)),
                ..FlagSettings::default()
            },
            FlagSettings {
                invalid_share: Some(0.1),
                ..FlagSettings::default()
            },
            FlagSettings {
                warmup: Some(std::time::Duration::from_secs(1)),
                ..FlagSettings::default()
            },
        ] {
            assert_ne!(changed(flags.clone()), fp, "{flags:?}");
        }
        let param = "[load]\nrate = 100\nduration = \"2s\"\n[body]\nseed = 7\n[body.params]\n\"media.show\" = \"x\"\n";
        assert_ne!(plan(param, FlagSettings::default()).plan_fingerprint(7), fp);
    }
}
