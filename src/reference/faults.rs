//! Faults the reference server injects on request.

use std::time::Duration;

/// What the server does wrong on purpose.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Share of valid requests answered 500 instead of 201, from 0 to 1.
    pub error_rate: f64,
    /// Delay before every answer to the sessions endpoint.
    pub latency: Option<Duration>,
    /// Share of valid requests wrongly answered 400.
    pub reject_valid: f64,
    /// Share of invalid requests wrongly answered 201.
    pub accept_invalid: f64,
    /// Share of 201 answers whose `Location` names no session.
    pub bad_location: f64,
    /// Share of 201 answers that repeat a session id already given out.
    pub repeat_id: f64,
}
