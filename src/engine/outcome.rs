//! What happened to one request, and the seam through which the engine
//! hands it to whoever measures.

use std::time::Instant;

use crate::spec::BodyKind;

/// The one outcome every scheduled request ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// An HTTP answer with this status.
    Status(u16),
    /// The connection (TCP or TLS) could not be set up.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// Open model: waited its whole timeout for a free connection, so it
    /// was never sent (reported with the timeouts).
    TimeoutNeverSent,
    /// Reset, broken pipe, or the peer closed mid-answer.
    Io,
    /// The answer was not HTTP/1.x or was badly framed.
    Protocol,
    /// Open model: never started, because `max_in_flight` requests were
    /// already waiting or on the wire (or the run was interrupted first).
    Dropped,
}

/// One request's fate and its instants.
#[derive(Clone, Copy, Debug)]
pub struct Outcome<'a> {
    /// When the request was meant to start; latency counts from here.
    pub intended: Instant,
    /// When its first byte was written (or the connect began, for connect errors).
    pub sent: Instant,
    /// When its outcome was known.
    pub done: Instant,
    pub class: Class,
    /// Sent during the warm-up: accounted for, kept out of the figures.
    pub warmup: bool,
    /// The body sent: valid, or which mutation broke it.
    pub kind: BodyKind,
    /// The answer's `Location` header, when it had one.
    pub location: Option<&'a [u8]>,
}

/// Receives outcomes. Each generator thread owns one recorder, so
/// recording takes no lock.
pub trait Record {
    fn record(&mut self, outcome: &Outcome<'_>);

    /// A request starts now (before its outcome is known): for the
    /// per-second count of requests started.
    fn started(&mut self, _now: Instant, _warmup: bool) {}

    /// Called about once a second by the thread that owns the recorder,
    /// so time-based measurement can move on when no outcome arrives.
    fn tick(&mut self, _now: Instant) {}
}

/// Two recorders fed the same outcomes, first `A` then `B`: one per
/// concern (measuring, checking), composed without a box or a lock.
impl<A: Record, B: Record> Record for (A, B) {
    #[inline]
    fn record(&mut self, outcome: &Outcome<'_>) {
        self.0.record(outcome);
        self.1.record(outcome);
    }

    #[inline]
    fn started(&mut self, now: Instant, warmup: bool) {
        self.0.started(now, warmup);
        self.1.started(now, warmup);
    }

    fn tick(&mut self, now: Instant) {
        self.0.tick(now);
        self.1.tick(now);
    }
}
