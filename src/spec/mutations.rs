//! Named mutations: each turns a valid sessionStart body into one the API
//! must answer with 400, in one documented way (digest §8, with the choices
//! of §9). A run sends them in a share the scenario sets, and the report
//! checks that each got the status it expects.
//!
//! Invalid bodies are a small share of a run, so a mutation parses the
//! valid body into a JSON tree, changes it and writes it back; valid
//! bodies never take this path.

use serde_json::{Map, Value};

use super::RuleSet;

/// How sure the documents are that a mutation gets 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// Documented by the API.
    Strong,
    /// Inferred from the 2018 schema; mcload's reference server enforces it.
    Weaker,
}

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
    op: Op,
}

const fn strong(name: &'static str, op: Op) -> MutationDef {
    MutationDef {
        name,
        strength: Strength::Strong,
        op,
    }
}

const fn weaker(name: &'static str, op: Op) -> MutationDef {
    MutationDef {
        name,
        strength: Strength::Weaker,
        op,
    }
}

/// Every mutation, in report order.
pub const MUTATIONS: &[MutationDef] = &[
    strong("missing:playerTime", Op::Remove(&["playerTime"])),
    strong("missing:eventType", Op::Remove(&["eventType"])),
    strong("missing:params", Op::Remove(&["params"])),
    strong(
        "missing:params.analytics.trackingServer",
        Op::Remove(&["params", "analytics.trackingServer"]),
    ),
    strong(
        "missing:params.analytics.reportSuite",
        Op::Remove(&["params", "analytics.reportSuite"]),
    ),
    strong(
        "missing:params.visitor.marketingCloudOrgId",
        Op::Remove(&["params", "visitor.marketingCloudOrgId"]),
    ),
    strong(
        "missing:params.media.playerName",
        Op::Remove(&["params", "media.playerName"]),
    ),
    strong(
        "missing:params.media.id",
        Op::Remove(&["params", "media.id"]),
    ),
    strong(
        "missing:params.media.length",
        Op::Remove(&["params", "media.length"]),
    ),
    strong(
        "missing:params.media.contentType",
        Op::Remove(&["params", "media.contentType"]),
    ),
    strong(
        "missing:params.media.channel",
        Op::Remove(&["params", "media.channel"]),
    ),
    strong(
        "wrong_type:params.media.length",
        Op::Set(&["params", "media.length"], Put::Str("3600")),
    ),
    strong(
        "wrong_type:params.analytics.enableSSL",
        Op::Set(&["params", "analytics.enableSSL"], Put::Str("true")),
    ),
    strong(
        "wrong_type:playerTime.ts",
        Op::Set(&["playerTime", "ts"], Put::Str("1700000000000")),
    ),
    strong(
        "wrong_type:playerTime.playhead",
        Op::Set(&["playerTime", "playhead"], Put::Str("0")),
    ),
    strong(
        "wrong_event_type",
        Op::Set(&["eventType"], Put::Str("play")),
    ),
    strong(
        "downloaded_true",
        Op::Set(&["params", "media.downloaded"], Put::Bool(true)),
    ),
    weaker("unknown_key:body", Op::Set(&["debug"], Put::Bool(true))),
    weaker(
        "unknown_key:playerTime",
        Op::Set(&["playerTime", "offset"], Put::Int(0)),
    ),
    weaker(
        "unknown_key:params",
        Op::Set(&["params", "media.colour"], Put::Str("red")),
    ),
    weaker(
        "unknown_key:qoeData",
        Op::Set(&["qoeData", "media.qoe.jitter"], Put::Int(3)),
    ),
    weaker(
        "bad_key:customMetadata",
        Op::Set(&["customMetadata", "ad break-id"], Put::Str("7")),
    ),
    weaker(
        "not_string:customMetadata",
        Op::Set(&["customMetadata", "tier"], Put::Int(3)),
    ),
    weaker(
        "not_integer:qoeData",
        Op::Set(&["qoeData", "media.qoe.bitrate"], Put::Float(1500.5)),
    ),
    weaker(
        "float:playerTime.ts",
        Op::Set(&["playerTime", "ts"], Put::Float(1_700_000_000_000.5)),
    ),
    weaker("not_json", Op::Replace(b"{\"eventType\":\"sessionStart\",")),
    weaker("empty_body", Op::Replace(b"")),
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
        match (self.def().strength, rules) {
            (Strength::Strong, _) => true,
            (Strength::Weaker, RuleSet::Strict) => true,
            (Strength::Weaker, RuleSet::Documented) => false,
        }
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
