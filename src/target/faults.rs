//! Faults the reference server injects on request.

use std::time::Duration;

/// What the server does wrong on purpose.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Share of valid requests answered 500 instead of 201, from 0 to 1.
    pub error_rate: f64,
    /// Delay before every answer to the sessions endpoint.
    pub latency: Option<Duration>,
}
