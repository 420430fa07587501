//! What a valid `sessionStart` body is: the parameter catalogue and the
//! validity rules of the Media Collection API (digest §1, §2, §9).
//!
//! This is the one source of truth that the generator and the reference
//! server share. It does no I/O and knows nothing of HTTP or randomness.

mod catalogue;
mod validate;

pub use catalogue::{
    Audience, Constraint, EVENT_TYPE, MetadataKeyProblem, PARAMS, PLAYER_TIME_MEMBERS, Param,
    QOE_KEYS, QoeKey, REQUIRED_COUNT, SHOW_TYPES, STREAM_TYPES, TOP_LEVEL_MEMBERS, ValueType,
    check_metadata_key, param, param_index, qoe_key,
};
pub use validate::{Rule, Violation, validate, validate_bytes};
