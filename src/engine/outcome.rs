//! What happened to one request, and the seam through which the engine
//! hands it to whoever measures.

use std::fmt;
use std::time::{Duration, Instant};

use crate::spec::BodyKind;

/// The one outcome every scheduled request ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// An HTTP answer with this status.
    Status(u16),
    /// The connection could not be set up: refused, unreachable, or no
    /// answer to the TCP handshake in time.
    Connect,
    /// The TLS handshake failed (a certificate not trusted, a protocol
    /// alert): the target's TLS setup, not its reachability.
    Tls,
    /// The machine running mcload ran out of something (file descriptors,
    /// local ports, buffers, memory): never the target's fault, and a run
    /// with any is invalid.
    Local,
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
    /// On the wire when the run was cut short: a second Ctrl-C, or the end
    /// of the grace period after the first. Its answer was never awaited.
    Cancelled,
}

impl Class {
    /// A failure to set up the connection, after which a closed-model
    /// worker backs off before it tries again.
    pub fn is_connect_failure(self) -> bool {
        matches!(self, Class::Connect | Class::Tls | Class::Local)
    }

    /// The class of an error from connecting: a TLS failure (tokio-rustls
    /// carries rustls's error inside the `io::Error`), a local resource
    /// running out, or else the target's side.
    pub fn of_connect_error(e: &std::io::Error) -> Class {
        if e.get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
        {
            Class::Tls
        } else if is_local(e) {
            Class::Local
        } else {
            Class::Connect
        }
    }
}

/// Whether an I/O error says the machine running mcload ran out of a
/// resource, rather than anything about the target.
pub fn is_local(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    // EADDRNOTAVAIL from connect: every ephemeral port is in use.
    const LOCAL: [Errno; 5] = [
        Errno::MFILE,
        Errno::NFILE,
        Errno::NOBUFS,
        Errno::NOMEM,
        Errno::ADDRNOTAVAIL,
    ];
    e.raw_os_error()
        .is_some_and(|code| LOCAL.contains(&Errno::from_raw_os_error(code)))
}

/// One request's fate and its instants.
#[derive(Clone, Copy, Debug)]
pub struct Outcome<'a> {
    /// When the request was meant to start; latency counts from here.
    pub intended: Instant,
    /// When its first byte was written (or the connect began, for connect errors).
    pub sent: Instant,
    /// When its outcome was known: for an answer, when its last bytes
    /// arrived where the stream stamps them (the open model over plain
    /// TCP on Linux), else when it was read.
    pub done: Instant,
    /// The generator's own lateness in sending it: from the later of its
    /// intended start and the moment a connection was free for it, to the
    /// moment the request was built and handed to the connection. Waiting
    /// for a busy connection is the target's doing and is left out;
    /// connecting is too. `None` for a request never sent (dropped, timed
    /// out waiting, cancelled).
    pub send_lag: Option<Duration>,
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

    /// A request is about to be recorded in the failure `class` for this
    /// reason (a refused connect, a certificate, a reset, what was not
    /// HTTP). Only called for failures, so it is off the answers' path.
    fn failed(&mut self, _class: Class, _reason: &dyn fmt::Display) {}
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

    fn failed(&mut self, class: Class, reason: &dyn fmt::Display) {
        self.0.failed(class, reason);
        self.1.failed(class, reason);
    }
}

/// Why a connect failed, as a person reads it: a TLS failure in plain
/// words with what to do, any other error as the system says it.
pub(super) struct ConnectFailure<'a>(pub &'a std::io::Error);

impl fmt::Display for ConnectFailure<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match super::tls_failure_text(self.0) {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn a_failed_connect_is_classed_as_tls_local_or_the_targets() {
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(Class::of_connect_error(&tls), Class::Tls);
        for errno in [
            rustix::io::Errno::MFILE,
            rustix::io::Errno::NFILE,
            rustix::io::Errno::NOBUFS,
            rustix::io::Errno::NOMEM,
            rustix::io::Errno::ADDRNOTAVAIL,
        ] {
            let e = io::Error::from_raw_os_error(errno.raw_os_error());
            assert_eq!(Class::of_connect_error(&e), Class::Local, "{e}");
        }
        for target in [
            io::Error::from(io::ErrorKind::ConnectionRefused),
            io::Error::from_raw_os_error(rustix::io::Errno::CONNREFUSED.raw_os_error()),
            io::Error::from_raw_os_error(rustix::io::Errno::HOSTUNREACH.raw_os_error()),
            io::Error::other("something else"),
        ] {
            assert_eq!(Class::of_connect_error(&target), Class::Connect, "{target}");
        }
        assert!(Class::Local.is_connect_failure() && Class::Tls.is_connect_failure());
        // The reason kept for a TLS failure is the plain-words one.
        let reason = ConnectFailure(&tls).to_string();
        assert!(reason.contains("--ca-cert"), "{reason}");
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(ConnectFailure(&refused).to_string(), refused.to_string());
        assert!(!Class::Timeout.is_connect_failure() && !Class::Cancelled.is_connect_failure());
    }
}
