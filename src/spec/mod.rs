//! The API contract: what a valid `sessionStart` body is (the parameter
//! catalogue and the validity rules, under the `strict` or `documented`
//! rule set), the named mutations that break a body, the endpoint path and
//! the header limit. `docs/contract.md` describes every rule, where it
//! comes from and which rule set enforces it.
//!
//! This is the one source of truth of the generator, the reference server
//! and the response checks. It does no I/O, knows nothing of HTTP or
//! randomness, and imports no other module of the crate.

mod catalogue;
mod mutations;
mod outcomes;
mod rules;
mod validate;

pub use catalogue::{
    Audience, Constraint, EVENT_TYPE, MetadataKeyProblem, PARAMS, PLAYER_TIME_MEMBERS, Param,
    QOE_KEYS, QoeKey, REQUIRED_COUNT, SHOW_TYPES, STREAM_TYPES, TOP_LEVEL_MEMBERS, ValueType,
    check_metadata_key, param, param_index, qoe_key,
};
pub use mutations::{BodyKind, MUTATIONS, Mutation, MutationDef, Strength};
pub use outcomes::{Bucket, Check};
pub use rules::{RuleSet, UnknownRuleSet};
pub use validate::{Rule, Violation, validate, validate_bytes};

/// The sessions endpoint's path.
pub const ENDPOINT_PATH: &str = "/api/v1/sessions";
/// The most extra request headers a scenario may set; the reference server
/// accepts this many beyond the ones a client always sends.
pub const MAX_HEADERS: usize = 64;
