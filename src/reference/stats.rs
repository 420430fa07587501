//! The reference server's own counts, served at `GET /stats`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Counters all connections add to. Relaxed atomics: they are only read
/// after the load has ended or as a rough live view.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    created: AtomicU64,
    bad_request: AtomicU64,
    server_error: AtomicU64,
    other: AtomicU64,
    rejected_valid: AtomicU64,
    accepted_invalid: AtomicU64,
    bad_location: AtomicU64,
    repeated_id: AtomicU64,
    reset: AtomicU64,
    garbage: AtomicU64,
    trickled: AtomicU64,
    stalled: AtomicU64,
    closed: AtomicU64,
}

/// A fault the server committed on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    RejectedValid,
    AcceptedInvalid,
    BadLocation,
    RepeatedId,
    /// A request answered by resetting the connection.
    Reset,
    /// A request answered with bytes that are not HTTP.
    Garbage,
    /// An answer sent a few bytes at a time.
    Trickled,
    /// An answer held back by a stall.
    Stalled,
    /// An answer that closed its connection (`--close`).
    Closed,
}

/// How many times each fault was committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FaultCounts {
    pub rejected_valid: u64,
    pub accepted_invalid: u64,
    pub bad_location: u64,
    pub repeated_id: u64,
    /// Requests received and answered by a reset: counted in `requests`,
    /// not among the answers.
    #[serde(default)]
    pub reset: u64,
    /// Requests received and answered with bytes that are not HTTP: in
    /// `requests`, not among the answers.
    #[serde(default)]
    pub garbage: u64,
    /// Answers trickled (each also counted under its status).
    #[serde(default)]
    pub trickled: u64,
    /// Answers held back by a stall (each also counted under its status,
    /// or as a reset or garbage).
    #[serde(default)]
    pub stalled: u64,
    /// Answers that closed their connection (each also counted under its
    /// status).
    #[serde(default)]
    pub closed: u64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    /// Requests received (every request except `GET /stats`).
    pub requests: u64,
    /// Answers by status.
    #[serde(rename = "201")]
    pub created: u64,
    #[serde(rename = "400")]
    pub bad_request: u64,
    #[serde(rename = "500")]
    pub server_error: u64,
    pub other: u64,
    /// Wrong answers given on purpose (`mcload serve` fault flags).
    pub faults: FaultCounts,
}

impl StatsSnapshot {
    /// Requests that got no HTTP answer on purpose: resets and garbage.
    pub fn unanswered(&self) -> u64 {
        self.faults.reset + self.faults.garbage
    }

    /// Answers of every status.
    pub fn answered(&self) -> u64 {
        self.created + self.bad_request + self.server_error + self.other
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("counters always serialize")
    }
}

impl Stats {
    pub fn received(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    pub fn answered(&self, status: u16) {
        let counter = match status {
            201 => &self.created,
            400 => &self.bad_request,
            500 => &self.server_error,
            _ => &self.other,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub fn committed(&self, fault: Fault) {
        let counter = match fault {
            Fault::RejectedValid => &self.rejected_valid,
            Fault::AcceptedInvalid => &self.accepted_invalid,
            Fault::BadLocation => &self.bad_location,
            Fault::RepeatedId => &self.repeated_id,
            Fault::Reset => &self.reset,
            Fault::Garbage => &self.garbage,
            Fault::Trickled => &self.trickled,
            Fault::Stalled => &self.stalled,
            Fault::Closed => &self.closed,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Relaxed),
            created: self.created.load(Relaxed),
            bad_request: self.bad_request.load(Relaxed),
            server_error: self.server_error.load(Relaxed),
            other: self.other.load(Relaxed),
            faults: FaultCounts {
                rejected_valid: self.rejected_valid.load(Relaxed),
                accepted_invalid: self.accepted_invalid.load(Relaxed),
                bad_location: self.bad_location.load(Relaxed),
                repeated_id: self.repeated_id.load(Relaxed),
                reset: self.reset.load(Relaxed),
                garbage: self.garbage.load(Relaxed),
                trickled: self.trickled.load(Relaxed),
                stalled: self.stalled.load(Relaxed),
                closed: self.closed.load(Relaxed),
            },
        }
    }
}
