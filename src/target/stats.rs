//! The reference server's own counts, served at `GET /stats`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Counters shared by all connections. Relaxed atomics: they are only read
/// after the load has ended or as a rough live view.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    created: AtomicU64,
    bad_request: AtomicU64,
    server_error: AtomicU64,
    other: AtomicU64,
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
}

impl StatsSnapshot {
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

    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Relaxed),
            created: self.created.load(Relaxed),
            bad_request: self.bad_request.load(Relaxed),
            server_error: self.server_error.load(Relaxed),
            other: self.other.load(Relaxed),
        }
    }
}
