//! The one outcome-count type: how many requests ended in each kind of
//! outcome. The totals, each second of the series, the live counters and a
//! server's own counts are all [`Counts`]; the split of a [`Class`] into
//! those kinds is written once, in [`Kind::of`].

use std::ops::AddAssign;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::engine::Class;

/// What an outcome counts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `201 Created`.
    Created,
    /// `400 Bad Request`.
    BadRequest,
    /// `500 Internal Server Error`.
    ServerError,
    /// Any other status.
    OtherStatus,
    Connect,
    /// No complete answer within the timeout, on the wire.
    Timeout,
    /// Waited its whole timeout for a connection, never sent.
    TimeoutNeverSent,
    Io,
    Protocol,
    /// Open model: never started.
    Dropped,
    /// The TLS handshake failed.
    Tls,
    /// The generator's own resources ran out (descriptors, ports, buffers).
    Local,
    /// On the wire when the run was cut short.
    Cancelled,
}

pub(super) const KINDS: usize = 13;

impl Kind {
    pub const ALL: [Kind; KINDS] = [
        Kind::Created,
        Kind::BadRequest,
        Kind::ServerError,
        Kind::OtherStatus,
        Kind::Connect,
        Kind::Timeout,
        Kind::TimeoutNeverSent,
        Kind::Io,
        Kind::Protocol,
        Kind::Dropped,
        Kind::Tls,
        Kind::Local,
        Kind::Cancelled,
    ];

    /// The kind of an outcome class: the only place the statuses are split
    /// into 201, 400, 500 and other.
    #[inline]
    pub fn of(class: Class) -> Kind {
        match class {
            Class::Status(201) => Kind::Created,
            Class::Status(400) => Kind::BadRequest,
            Class::Status(500) => Kind::ServerError,
            Class::Status(_) => Kind::OtherStatus,
            Class::Connect => Kind::Connect,
            Class::Timeout => Kind::Timeout,
            Class::TimeoutNeverSent => Kind::TimeoutNeverSent,
            Class::Io => Kind::Io,
            Class::Protocol => Kind::Protocol,
            Class::Dropped => Kind::Dropped,
            Class::Tls => Kind::Tls,
            Class::Local => Kind::Local,
            Class::Cancelled => Kind::Cancelled,
        }
    }
}

/// How many requests ended in each [`Kind`] of outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts([u64; KINDS]);

impl Counts {
    /// Counts from `(kind, n)` pairs, the other kinds zero: how a count
    /// kept elsewhere (a server's) becomes this type.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Kind, u64)>) -> Counts {
        let mut c = Counts::default();
        for (kind, n) in pairs {
            c.0[kind as usize] += n;
        }
        c
    }

    #[inline]
    pub fn add(&mut self, class: Class) {
        self.add_kind(Kind::of(class));
    }

    #[inline]
    pub fn add_kind(&mut self, kind: Kind) {
        self.0[kind as usize] += 1;
    }

    pub fn get(&self, kind: Kind) -> u64 {
        self.0[kind as usize]
    }

    pub fn created(&self) -> u64 {
        self.get(Kind::Created)
    }

    pub fn bad_request(&self) -> u64 {
        self.get(Kind::BadRequest)
    }

    pub fn server_error(&self) -> u64 {
        self.get(Kind::ServerError)
    }

    /// Answers with a status other than 201, 400 and 500.
    pub fn other(&self) -> u64 {
        self.get(Kind::OtherStatus)
    }

    pub fn connect(&self) -> u64 {
        self.get(Kind::Connect)
    }

    /// Timeouts on the wire only (see [`Counts::timeouts`]).
    pub fn timeout(&self) -> u64 {
        self.get(Kind::Timeout)
    }

    pub fn timeouts_never_sent(&self) -> u64 {
        self.get(Kind::TimeoutNeverSent)
    }

    pub fn io(&self) -> u64 {
        self.get(Kind::Io)
    }

    pub fn protocol(&self) -> u64 {
        self.get(Kind::Protocol)
    }

    pub fn dropped(&self) -> u64 {
        self.get(Kind::Dropped)
    }

    pub fn tls(&self) -> u64 {
        self.get(Kind::Tls)
    }

    /// Failures of the generator's own resources: a run with any is invalid.
    pub fn local(&self) -> u64 {
        self.get(Kind::Local)
    }

    /// Sent, and on the wire when the run was cut short.
    pub fn cancelled(&self) -> u64 {
        self.get(Kind::Cancelled)
    }

    /// Requests that got an HTTP answer.
    pub fn completed(&self) -> u64 {
        self.created() + self.bad_request() + self.server_error() + self.other()
    }

    /// Every timeout: on the wire, or waiting for a connection.
    pub fn timeouts(&self) -> u64 {
        self.timeout() + self.timeouts_never_sent()
    }

    /// Requests that ended in an error instead of an answer (neither
    /// dropped nor cancelled, which are counted apart).
    pub fn errors(&self) -> u64 {
        self.connect() + self.tls() + self.local() + self.timeouts() + self.io() + self.protocol()
    }

    /// Requests that were sent (or whose connect was tried) and ended:
    /// answered, failed or cancelled, neither dropped nor left waiting for
    /// a connection.
    pub fn sent(&self) -> u64 {
        self.total() - self.dropped() - self.timeouts_never_sent()
    }

    /// Every request that ended in an outcome, dropped ones included.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl AddAssign<&Counts> for Counts {
    fn add_assign(&mut self, other: &Counts) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine += theirs;
        }
    }
}

/// [`Counts`] another thread can read while a run goes on (the live
/// progress line, `/metrics`), and the requests started. One per generator
/// thread, written only by its thread, on cache lines of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct LiveCounts([AtomicU64; KINDS], AtomicU64);

impl LiveCounts {
    #[inline]
    pub fn add_kind(&self, kind: Kind) {
        // Only the owning thread writes, so a relaxed load and store is
        // enough and cheaper than an atomic add.
        let counter = &self.0[kind as usize];
        counter.store(counter.load(Relaxed) + 1, Relaxed);
    }

    /// A request starts (it was not dropped at the `max_in_flight` gate).
    #[inline]
    pub fn add_started(&self) {
        self.1.store(self.1.load(Relaxed) + 1, Relaxed);
    }

    pub fn snapshot(&self) -> Counts {
        Counts(std::array::from_fn(|i| self.0[i].load(Relaxed)))
    }

    /// Requests started so far.
    pub fn started(&self) -> u64 {
        self.1.load(Relaxed)
    }
}

/// The sum of the threads' live counters at one moment.
pub fn live_total(lives: &[Arc<LiveCounts>]) -> Counts {
    lives.iter().fold(Counts::default(), |mut total, live| {
        total += &live.snapshot();
        total
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_lands_in_its_kind_and_the_sums_follow() {
        let classes = [
            Class::Status(201),
            Class::Status(400),
            Class::Status(500),
            Class::Status(404),
            Class::Connect,
            Class::Timeout,
            Class::TimeoutNeverSent,
            Class::Io,
            Class::Protocol,
            Class::Dropped,
            Class::Tls,
            Class::Local,
            Class::Cancelled,
        ];
        let mut counts = Counts::default();
        let live = LiveCounts::default();
        for (i, &class) in classes.iter().enumerate() {
            for _ in 0..=i {
                counts.add(class);
                live.add_kind(Kind::of(class));
            }
        }
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(counts.get(kind), i as u64 + 1, "{kind:?}");
            assert_eq!(Kind::of(classes[i]), kind);
        }
        assert_eq!(counts.completed(), 1 + 2 + 3 + 4);
        assert_eq!(counts.timeouts(), 6 + 7);
        assert_eq!(
            (counts.tls(), counts.local(), counts.cancelled()),
            (11, 12, 13)
        );
        assert_eq!(counts.errors(), 5 + 6 + 7 + 8 + 9 + 11 + 12);
        assert_eq!(counts.sent(), 91 - 10 - 7);
        assert_eq!(counts.total(), 91);
        assert_eq!(live.snapshot(), counts, "the live view counts alike");
        live.add_started();
        live.add_started();
        assert_eq!(live.started(), 2);
        assert_eq!(live.snapshot(), counts, "starts are no outcome");
        let mut doubled = counts;
        doubled += &counts;
        assert_eq!(doubled.total(), 182);
        assert_eq!(
            Counts::from_pairs([(Kind::Created, 3), (Kind::OtherStatus, 1)]).completed(),
            4
        );
    }
}
