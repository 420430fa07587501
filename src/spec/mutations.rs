//! Named mutations: each turns a valid sessionStart body into an invalid
//! one, in one named way, and states which rule sets answer it with 400
//! (`docs/contract.md`, "Mutations"). A run sends them in a share the
//! scenario sets, and the report checks that each got the status the
//! target's rule set expects.
//!
//! Invalid bodies are a small share of a run, so a mutation parses the
//! valid body into a JSON tree, changes it and writes it back; valid
//! bodies never take this path.

use serde_json::{Map, Value};

use super::RuleSet;

/// How sure the documents are that a real endpoint answers a mutation
/// with 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// A 400 the API's documentation states.
    Strong,
    /// Inferred (from the 2018 schema, or from the body not being JSON,
    /// whose status the documents leave open).
    Weaker,
}

/// Rejected under both rule sets.
const BOTH: &[RuleSet] = &[RuleSet::Strict, RuleSet::Documented];
/// Rejected only under the strict rules.
const STRICT: &[RuleSet] = &[RuleSet::Strict];

/// A value a mutation writes.
#[derive(Clone, Copy, Debug)]
enum Put {
    Str(&'static str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Put {
    fn value(self) -> Value {
        match self {
            Put::Str(s) => Value::from(s),
            Put::Int(n) => Value::from(n),
            Put::Float(x) => Value::from(x),
            Put::Bool(b) => Value::from(b),
        }
    }
}

/// What a mutation does to the body.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// Removes the member at the path.
    Remove(&'static [&'static str]),
    /// Sets the member at the path, creating the objects on the way.
    Set(&'static [&'static str], Put),
    /// Replaces the whole body with these bytes.
    Replace(&'static [u8]),
}

/// One named mutation.
#[derive(Clone, Copy, Debug)]
pub struct MutationDef {
    pub name: &'static str,
    pub strength: Strength,
    /// The rule sets that answer this mutation with 400; under any other
    /// the mutated body is accepted (201).
    pub rejected_by: &'static [RuleSet],
    op: Op,
}

const fn strong(name: &'static str, rejected_by: &'static [RuleSet], op: Op) -> MutationDef {
    MutationDef {
        name,
        strength: Strength::Strong,
        rejected_by,
        op,
    }
}

const fn weaker(name: &'static str, rejected_by: &'static [RuleSet], op: Op) -> MutationDef {
    MutationDef {
        name,
        strength: Strength::Weaker,
        rejected_by,
        op,
    }
}

/// Every mutation, in report order, with the rule sets that reject it:
/// what the documents state is rejected under both; what only the 2018
/// schema implies (closed key sets, key pattern, value types of
/// `customMetadata` and `qoeData`, an integer `ts`) only under `strict`.
pub const MUTATIONS: &[MutationDef] = &[
    strong("missing:playerTime", BOTH, Op::Remove(&["playerTime"])),
    strong("missing:eventType", BOTH, Op::Remove(&["eventType"])),
    strong("missing:params", BOTH, Op::Remove(&["params"])),
    strong(
        "missing:params.analytics.trackingServer",
        BOTH,
        Op::Remove(&["params", "analytics.trackingServer"]),
    ),
    strong(
        "missing:params.analytics.reportSuite",
        BOTH,
        Op::Remove(&["params", "analytics.reportSuite"]),
    ),
    strong(
        "missing:params.visitor.marketingCloudOrgId",
        BOTH,
        Op::Remove(&["params", "visitor.marketingCloudOrgId"]),
    ),
    strong(
        "missing:params.media.playerName",
        BOTH,
        Op::Remove(&["params", "media.playerName"]),
    ),
    strong(
        "missing:params.media.id",
        BOTH,
        Op::Remove(&["params", "media.id"]),
    ),
    strong(
        "missing:params.media.length",
        BOTH,
        Op::Remove(&["params", "media.length"]),
    ),
    strong(
        "missing:params.media.contentType",
        BOTH,
        Op::Remove(&["params", "media.contentType"]),
    ),
    strong(
        "missing:params.media.channel",
        BOTH,
        Op::Remove(&["params", "media.channel"]),
    ),
    strong(
        "wrong_type:params.media.length",
        BOTH,
        Op::Set(&["params", "media.length"], Put::Str("3600")),
    ),
    strong(
        "wrong_type:params.analytics.enableSSL",
        BOTH,
        Op::Set(&["params", "analytics.enableSSL"], Put::Str("true")),
    ),
    strong(
        "wrong_type:playerTime.ts",
        BOTH,
        Op::Set(&["playerTime", "ts"], Put::Str("1700000000000")),
    ),
    strong(
        "wrong_type:playerTime.playhead",
        BOTH,
        Op::Set(&["playerTime", "playhead"], Put::Str("0")),
    ),
    strong(
        "wrong_event_type",
        BOTH,
        Op::Set(&["eventType"], Put::Str("play")),
    ),
    strong(
        "downloaded_true",
        BOTH,
        Op::Set(&["params", "media.downloaded"], Put::Bool(true)),
    ),
    weaker(
        "unknown_key:body",
        STRICT,
        Op::Set(&["debug"], Put::Bool(true)),
    ),
    weaker(
        "unknown_key:playerTime",
        STRICT,
        Op::Set(&["playerTime", "offset"], Put::Int(0)),
    ),
    weaker(
        "unknown_key:params",
        STRICT,
        Op::Set(&["params", "media.colour"], Put::Str("red")),
    ),
    weaker(
        "unknown_key:qoeData",
        STRICT,
        Op::Set(&["qoeData", "media.qoe.jitter"], Put::Int(3)),
    ),
    weaker(
        "bad_key:customMetadata",
        STRICT,
        Op::Set(&["customMetadata", "ad break-id"], Put::Str("7")),
    ),
    weaker(
        "not_string:customMetadata",
        STRICT,
        Op::Set(&["customMetadata", "tier"], Put::Int(3)),
    ),
    weaker(
        "not_integer:qoeData",
        STRICT,
        Op::Set(&["qoeData", "media.qoe.bitrate"], Put::Float(1500.5)),
    ),
    weaker(
        "float:playerTime.ts",
        STRICT,
        Op::Set(&["playerTime", "ts"], Put::Float(1_700_000_000_000.5)),
    ),
    weaker(
        "not_json",
        BOTH,
        Op::Replace(b"{\"eventType\":\"sessionStart\","),
    ),
    weaker("empty_body", BOTH, Op::Replace(b"")),
];

/// A mutation, by its place in [`MUTATIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mutation(u8);

impl Mutation {
    pub fn all() -> impl Iterator<Item = Mutation> {
        (0..MUTATIONS.len()).map(|i| Mutation(i as u8))
    }

    pub fn by_name(name: &str) -> Option<Mutation> {
        MUTATIONS
            .iter()
            .position(|m| m.name == name)
            .map(|i| Mutation(i as u8))
    }

    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    pub fn def(self) -> &'static MutationDef {
        &MUTATIONS[self.index()]
    }

    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Whether an endpoint applying `rules` answers this mutation with 400.
    pub fn rejected_by(self, rules: RuleSet) -> bool {
        self.def().rejected_by.contains(&rules)
    }

    /// The status an endpoint applying `rules` should answer.
    pub fn expected_status(self, rules: RuleSet) -> u16 {
        if self.rejected_by(rules) { 400 } else { 201 }
    }

    /// Replaces the valid body in `body` with its mutated form.
    pub fn apply(self, body: &mut Vec<u8>) {
        match self.def().op {
            Op::Replace(bytes) => {
                body.clear();
                body.extend_from_slice(bytes);
            }
            Op::Remove(path) => edit(body, |root| {
                if let Some((last, parents)) = path.split_last()
                    && let Some(parent) = walk(root, parents)
                {
                    parent.shift_remove(*last);
                }
            }),
            Op::Set(path, put) => edit(body, |root| {
                if let Some((last, parents)) = path.split_last()
                    && let Some(parent) = walk(root, parents)
                {
                    parent.insert((*last).to_string(), put.value());
                }
            }),
        }
    }
}

/// What a body is: valid, or made invalid by a mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyKind {
    Valid,
    Invalid(Mutation),
}

impl BodyKind {
    /// The status an endpoint applying `rules` should answer.
    pub fn expected_status(self, rules: RuleSet) -> u16 {
        match self {
            BodyKind::Valid => 201,
            BodyKind::Invalid(m) => m.expected_status(rules),
        }
    }

    /// `valid`, or the mutation's name.
    pub fn name(self) -> &'static str {
        match self {
            BodyKind::Valid => "valid",
            BodyKind::Invalid(m) => m.name(),
        }
    }
}

/// Parses the body, lets `change` edit it, and writes it back in place.
fn edit(body: &mut Vec<u8>, change: impl FnOnce(&mut Map<String, Value>)) {
    let Ok(Value::Object(mut root)) = serde_json::from_slice::<Value>(body) else {
        // The generator only writes JSON objects; anything else is left as is.
        return;
    };
    change(&mut root);
    body.clear();
    serde_json::to_writer(&mut *body, &root).expect("writing JSON into memory cannot fail");
}

/// The object at `path` under `root`, made on the way where missing.
fn walk<'a>(root: &'a mut Map<String, Value>, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut node = root;
    for key in path {
        node = node
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()?;
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::validate_bytes;

    /// A body valid under both rule sets, with every member a mutation touches.
    const VALID: &str = r#"{"playerTime":{"playhead":12.5,"ts":1700000000000},"eventType":"sessionStart","params":{"analytics.trackingServer":"acme.sc.omtrdc.net","analytics.reportSuite":"acme-prod","visitor.marketingCloudOrgId":"1A2B3C4D5E6F7A8B9C0D1E2F@AdobeOrg","media.id":"vod-12345678","media.length":3600.5,"media.contentType":"vod","media.playerName":"html5-player","media.channel":"main","analytics.enableSSL":true},"customMetadata":{"cms.category":"news"},"qoeData":{"media.qoe.bitrate":3000000}}"#;

    #[test]
    fn each_mutation_is_rejected_exactly_by_the_rule_sets_it_names() {
        for rules in RuleSet::ALL {
            assert_eq!(validate_bytes(VALID.as_bytes(), rules), Ok(()));
        }
        for mutation in Mutation::all() {
            let mut body = VALID.as_bytes().to_vec();
            mutation.apply(&mut body);
            for rules in RuleSet::ALL {
                let rejected = validate_bytes(&body, rules).is_err();
                assert_eq!(
                    rejected,
                    mutation.rejected_by(rules),
                    "{} under {rules}: {}",
                    mutation.name(),
                    String::from_utf8_lossy(&body)
                );
                let status = BodyKind::Invalid(mutation).expected_status(rules);
                assert_eq!(status, if rejected { 400 } else { 201 });
            }
        }
    }

    #[test]
    fn strict_rejects_every_mutation_and_documented_every_strong_one() {
        for m in MUTATIONS {
            assert!(m.rejected_by.contains(&RuleSet::Strict), "{}", m.name);
            if m.strength == Strength::Strong {
                assert!(m.rejected_by.contains(&RuleSet::Documented), "{}", m.name);
            }
        }
        // A body that is not JSON is refused whatever the rules.
        for name in ["not_json", "empty_body"] {
            let m = Mutation::by_name(name).unwrap();
            assert!(m.rejected_by(RuleSet::Documented), "{name}");
        }
        for name in [
            "unknown_key:qoeData",
            "unknown_key:params",
            "unknown_key:body",
        ] {
            let m = Mutation::by_name(name).unwrap();
            assert!(!m.rejected_by(RuleSet::Documented), "{name}");
        }
        assert_eq!(BodyKind::Valid.expected_status(RuleSet::Documented), 201);
    }

    #[test]
    fn the_contract_document_lists_every_mutation_with_its_rule_sets() {
        let doc = include_str!("../../docs/contract.md");
        for m in MUTATIONS {
            let start = format!("| `{}` |", m.name);
            let row = doc
                .lines()
                .find(|line| line.starts_with(&start))
                .unwrap_or_else(|| panic!("docs/contract.md has no row for {}", m.name));
            let status = |rules: RuleSet| {
                if m.rejected_by.contains(&rules) {
                    "400"
                } else {
                    "201"
                }
            };
            let end = format!(
                "| {} | {} |",
                status(RuleSet::Strict),
                status(RuleSet::Documented)
            );
            assert!(row.ends_with(&end), "{row}\nshould end with {end}");
        }
    }
}
