//! What a valid `sessionStart` body is: the parameter catalogue and the
//! validity rules of the Media Collection API (digest §1, §2, §9).
//!
//! This is the one source of truth that the generator and the reference
//! server share. It does no I/O and knows nothing of HTTP or randomness.

mod catalogue;
mod mutations;
mod rules;
mod validate;

pub use catalogue::{
    Audience, Constraint, EVENT_TYPE, MetadataKeyProblem, PARAMS, PLAYER_TIME_MEMBERS, Param,
    QOE_KEYS, QoeKey, REQUIRED_COUNT, SHOW_TYPES, STREAM_TYPES, TOP_LEVEL_MEMBERS, ValueType,
    check_metadata_key, param, param_index, qoe_key,
};
pub use mutations::{BodyKind, MUTATIONS, Mutation, MutationDef, Strength};
pub use rules::RuleSet;
pub use validate::{Rule, Violation, validate, validate_bytes};

/// The sessions endpoint's path.
pub const ENDPOINT_PATH: &str = "/api/v1/sessions";
/// The most extra request headers a scenario may set; the reference server
/// accepts this many beyond the ones a client always sends.
pub const MAX_HEADERS: usize = 64;
