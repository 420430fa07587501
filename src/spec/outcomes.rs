//! The names of what the endpoint's answers are judged by: the outcome
//! classes that reports and thresholds name, and the response contract's
//! checks. Names only: `metrics` sorts outcomes into these classes and
//! `checks` counts the checks.

/// The outcome classes that get their own latency histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bucket {
    Created,
    BadRequest,
    ServerError,
    OtherStatus,
    Error,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [
        Bucket::Created,
        Bucket::BadRequest,
        Bucket::ServerError,
        Bucket::OtherStatus,
        Bucket::Error,
    ];

    /// The name used in reports (`status.201`, `errors`).
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Created => "status.201",
            Bucket::BadRequest => "status.400",
            Bucket::ServerError => "status.500",
            Bucket::OtherStatus => "status.other",
            Bucket::Error => "errors",
        }
    }
}

/// The checks, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// A valid body answered 400.
    ValidRejected,
    /// An invalid body answered 2xx.
    InvalidAccepted,
    /// Any other status than the one expected.
    UnexpectedStatus,
    /// A 201 without a `Location` of the form `[scheme://host]PATH/<id>`.
    LocationInvalid,
    /// A 201 whose session id was already given out in this run.
    DuplicateSessionId,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Check::ValidRejected,
        Check::InvalidAccepted,
        Check::UnexpectedStatus,
        Check::LocationInvalid,
        Check::DuplicateSessionId,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::ValidRejected => "valid_rejected",
            Check::InvalidAccepted => "invalid_accepted",
            Check::UnexpectedStatus => "unexpected_status",
            Check::LocationInvalid => "location_invalid",
            Check::DuplicateSessionId => "duplicate_session_ids",
        }
    }
}
