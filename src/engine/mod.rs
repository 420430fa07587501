//! Fires the requests: one current-thread tokio runtime per generator
//! thread (like wrk's `-t`), each owning its tasks, their keep-alive
//! connections and one recorder. The closed model runs workers that send
//! back to back; the open model runs a scheduler that starts requests at
//! their planned instants and connection tasks that carry them. Every
//! request that is scheduled ends in exactly one [`Outcome`], handed to the
//! thread's [`Record`]er; the engine itself measures nothing and prints
//! nothing. How a run stops (and cancels what is on the wire) is in
//! [`stop`]; how a closed-model worker waits after a failed connect, in
//! [`backoff`].

pub mod backoff;
mod closed;
mod http1;
mod open;
mod outcome;
mod pacer;
mod probe;
pub mod stop;
mod threads;
mod transport;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

pub use http1::{Connection, ExchangeError, MAX_HEAD_BYTES, Response};
pub use outcome::{Class, Outcome, Record, is_local};
pub use pacer::Pacing;
pub use probe::{PROBE_TIMEOUT, connect_target};
pub use stop::{Control, Phase};
pub use threads::run;
pub use transport::{
    Arrival, Plain, Tls, TlsSetupError, Transport, describe_tls_error, tls_failure_text,
};

use crate::generate::BodyGenerator;
use crate::schedule::Schedule;
use crate::spec::BodyKind;

/// A transport chosen at run time; each run is monomorphized over one.
#[derive(Clone)]
pub enum AnyTransport {
    Plain(Plain),
    Tls(Tls),
}

impl AnyTransport {
    pub fn addr(&self) -> SocketAddr {
        match self {
            AnyTransport::Plain(t) => t.addr,
            AnyTransport::Tls(t) => t.addr,
        }
    }
}

/// Where the load goes: a host and port, over TLS or not. The engine's own
/// address type; whoever configures a run turns its settings into one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    /// Host name or IP literal, without brackets for IPv6.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    fn default_port(&self) -> u16 {
        if self.tls { 443 } else { 80 }
    }

    /// The `Host` header value: the port is left out when it is the
    /// scheme's default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// `http://host[:port]` or `https://host[:port]`.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}", self.host_header())
    }
}

/// Why the target cannot be used; nothing has been sent.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot resolve {host}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to {url} ({addrs}): {reason}")]
    Unreachable {
        url: String,
        addrs: String,
        reason: String,
    },
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// Stopped (Ctrl-C) while the target was being checked; nothing was sent.
    #[error("stopped before the load started, while checking the target; nothing was sent")]
    Stopped,
}

/// The request head up to the Content-Length value: method, path, Host,
/// the default headers and the scenario's own (which replace defaults of
/// the same name).
pub fn request_head(path: &str, host: &str, headers: &[(String, String)]) -> Vec<u8> {
    let defaults = [
        ("Host", host),
        ("User-Agent", concat!("mcload/", env!("CARGO_PKG_VERSION"))),
        ("Content-Type", "application/json"),
    ];
    let mut head = format!("POST {path} HTTP/1.1\r\n").into_bytes();
    for (name, value) in defaults {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
    }
    for (name, value) in headers {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"Content-Length: ");
    head
}

/// Everything a run needs.
#[derive(Clone)]
pub struct Config {
    pub transport: AnyTransport,
    /// From [`request_head`].
    pub head: Vec<u8>,
    pub schedule: Schedule,
    pub timeout: Duration,
    pub bodies: BodyGenerator,
    /// After [`Control::interrupt`], how long the requests on the wire may
    /// still take before they are cancelled.
    pub grace: Duration,
    /// How the open model wakes for its starts.
    pub pacing: Pacing,
}

/// The recorders of a finished run and when it ran.
pub struct Finished<R> {
    pub recorders: Vec<R>,
    /// Requests scheduled (warm-up included), counted apart from the
    /// recorders: the report checks that the outcomes add up to this.
    pub scheduled: u64,
    pub started_at: SystemTime,
    pub elapsed: Duration,
    /// When the last request was started, from the start: the sending
    /// window, without the wait for the last answers.
    pub sending: Duration,
    /// Time closed-model workers spent waiting after failed connects
    /// (see [`backoff`]), summed over workers.
    pub backoff: Duration,
    /// Why the engine failed part-way (a thread that could not start, or
    /// panicked), when it did: the recorders hold what the other threads
    /// counted.
    pub failure: Option<std::io::Error>,
}

/// The instant a run starts, as the recorders need it.
#[derive(Clone, Copy, Debug)]
pub struct RunStart {
    pub instant: Instant,
    pub wall: SystemTime,
}

impl RunStart {
    pub fn now() -> RunStart {
        RunStart {
            instant: Instant::now(),
            wall: SystemTime::now(),
        }
    }
}

/// What the tasks of one thread share. Single-threaded, so plain cells.
struct ThreadCtx<T, R> {
    transport: T,
    head: Vec<u8>,
    bodies: BodyGenerator,
    timeout: Duration,
    grace: Duration,
    started: Instant,
    epoch_ms: u64,
    control: Arc<Control>,
    /// Whether an answer on this thread has come with its receive time:
    /// only then may the open model nap ([`pacer::nap`]), since an answer
    /// read late without one would end late.
    stamps_seen: Cell<bool>,
    /// Requests scheduled by this thread, warm-up included.
    taken: Cell<u64>,
    /// When this thread last started a request.
    last_start: Cell<Instant>,
    /// Time this thread's workers spent backing off.
    backoff: Cell<Duration>,
    /// The request each lane has on the wire, to count it as cancelled
    /// when the run is cut short.
    slots: stop::Slots,
    recorder: RefCell<R>,
}

impl<T: Transport, R: Record> ThreadCtx<T, R> {
    fn epoch_ms(&self, now: Instant) -> u64 {
        self.epoch_ms + now.saturating_duration_since(self.started).as_millis() as u64
    }

    /// Counts a request as scheduled and tells the recorder it starts.
    fn start_request(&self, now: Instant, warmup: bool) {
        self.taken.set(self.taken.get() + 1);
        self.last_start.set(now);
        self.recorder.borrow_mut().started(now, warmup);
    }

    fn record(&self, outcome: &Outcome<'_>) {
        self.recorder.borrow_mut().record(outcome);
    }

    /// Tells the recorder why a request is about to fail in `class`.
    fn failed(&self, class: Class, reason: &dyn std::fmt::Display) {
        self.recorder.borrow_mut().failed(class, reason);
    }

    /// The request `lane` is about to send: on the wire until
    /// [`ThreadCtx::record_lane`].
    #[inline]
    fn occupy(&self, lane: usize, request: stop::InFlight) {
        self.slots.occupy(lane, request);
    }

    /// Records the outcome of `lane`'s request, which is no longer on the
    /// wire. No await comes between the two, so a cancel sees the request
    /// either on the wire or recorded, never both.
    #[inline]
    fn record_lane(&self, lane: usize, outcome: &Outcome<'_>) {
        self.slots.free(lane);
        self.record(outcome);
    }

    /// Counts every request on the wire as cancelled: the run is cut short
    /// and its tasks end without being polled again.
    fn cancel_in_flight(&self) {
        let now = Instant::now();
        for r in self.slots.take_all() {
            self.record(&Outcome {
                intended: r.intended,
                sent: r.sent,
                done: now,
                send_lag: None,
                class: Class::Cancelled,
                warmup: r.warmup,
                kind: r.kind,
                location: None,
            });
        }
    }

    /// Adds a backoff wait to the thread's sum.
    fn backed_off(&self, wait: Duration) {
        self.backoff.set(self.backoff.get() + wait);
    }

    /// Writes the request for body `index` into the reused `request` and
    /// returns where it starts, and what kind of body it is. The body is
    /// generated in place after room for the head, and the head is written
    /// into that room once the body's length is known: the body is never
    /// copied.
    fn build_request(&self, index: u64, now: Instant, request: &mut Vec<u8>) -> (usize, BodyKind) {
        // Head, Content-Length digits (a u64 has at most 20) and the blank line.
        let room = self.head.len() + 20 + 4;
        if request.len() < room {
            request.resize(room, 0);
        }
        request.truncate(room);
        let kind = self.bodies.write(index, self.epoch_ms(now), request);
        let mut digits = itoa::Buffer::new();
        let length = digits.format(request.len() - room).as_bytes();
        let start = room - (self.head.len() + length.len() + 4);
        let head_end = start + self.head.len();
        request[start..head_end].copy_from_slice(&self.head);
        request[head_end..head_end + length.len()].copy_from_slice(length);
        request[room - 4..room].copy_from_slice(b"\r\n\r\n");
        (start, kind)
    }

    /// Sends the request in `lane.request[start..]` on the lane's
    /// connection, connecting first when there is none, and waits for the
    /// answer until `deadline`. Returns the outcome class, when the request
    /// went out (`ready` when the connection was already open), whether
    /// the answer had a `Location`, which is copied into `lane.location`,
    /// and when it ended: when the answer's last bytes arrived, where the
    /// stream knows ([`transport::Arrival`]), or else when it was read. A
    /// connection that cannot carry another request is dropped.
    async fn send(
        &self,
        lane: &mut Lane<T::Stream>,
        start: usize,
        deadline: tokio::time::Instant,
        ready: Instant,
    ) -> (Class, Instant, bool, Instant) {
        let Lane {
            conn,
            request,
            location,
            timer,
        } = lane;
        location.clear();
        // Moving a pending timer later only updates it (tokio files it
        // again when the earlier instant comes), so no request pays for a
        // timer-wheel insert and removal.
        timer.as_mut().reset(deadline);
        let mut sent = ready;
        if conn.is_none() {
            // A connect completes at the thread's next wait for events,
            // which a nap would put off: none while it is under way.
            let _connecting = pacer::Connecting::new();
            let connected = within(timer.as_mut(), self.transport.connect()).await;
            match connected {
                Some(Ok(stream)) => {
                    *conn = Some(Connection::new(stream));
                    sent = Instant::now();
                }
                Some(Err(e)) => {
                    let class = Class::of_connect_error(&e);
                    self.failed(class, &outcome::ConnectFailure(&e));
                    return (class, sent, false, Instant::now());
                }
                None => {
                    self.failed(
                        Class::Connect,
                        &"no connection within the request's timeout",
                    );
                    return (Class::Connect, sent, false, Instant::now());
                }
            }
        }
        let connection = conn.as_mut().expect("connected above");
        let result = within(timer.as_mut(), connection.exchange(&request[start..])).await;
        let now = Instant::now();
        let mut has_location = false;
        let mut arrived = None;
        let class = match result {
            Some(Ok(response)) => {
                arrived = connection.stream().arrived(now);
                if arrived.is_some() {
                    self.stamps_seen.set(true);
                }
                if let Some(l) = connection.location() {
                    location.extend_from_slice(l);
                    has_location = true;
                }
                if !connection.is_reusable() {
                    *conn = None;
                }
                Class::Status(response.status)
            }
            Some(Err(error)) => {
                *conn = None;
                let class = match &error {
                    // Out of buffers or memory while sending: mcload's side.
                    ExchangeError::Io(e) if is_local(e) => Class::Local,
                    ExchangeError::Io(_) | ExchangeError::Closed => Class::Io,
                    ExchangeError::Protocol(_) => Class::Protocol,
                };
                match &error {
                    ExchangeError::Io(e) => self.failed(class, e),
                    ExchangeError::Closed => self.failed(
                        class,
                        &"the target closed the connection before the answer was complete",
                    ),
                    ExchangeError::Protocol(what) => self.failed(class, what),
                }
                class
            }
            None => {
                *conn = None;
                Class::Timeout
            }
        };
        // A stamp from before the send, or a wall clock set forward since,
        // would not be this answer's end: then the moment of reading is.
        let done = arrived
            .filter(|&at| at >= sent)
            .map_or(now, |at| at.min(now));
        (class, sent, has_location, done)
    }
}

/// Runs `work` until it ends, or gives `None` once `timer` fires. The
/// timer is polled outside tokio's cooperative budget: an exchange whose
/// reads are always ready (an endless body from a fast server) can use up
/// the budget in every poll, and a timer polled under it would then never
/// see its deadline. `tokio::time::timeout` guards against the same.
async fn within<F: std::future::Future>(
    timer: Pin<&mut tokio::time::Sleep>,
    work: F,
) -> Option<F::Output> {
    tokio::select! {
        biased;
        output = work => Some(output),
        () = tokio::task::unconstrained(timer) => None,
    }
}

/// What a worker (closed model) or a connection task (open model) keeps
/// from one request to the next: its connection, its buffers and one timer.
struct Lane<S> {
    conn: Option<Connection<S>>,
    /// The request, built in place (see [`ThreadCtx::build_request`]).
    request: Vec<u8>,
    /// The last answer's `Location`.
    location: Vec<u8>,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl<S> Lane<S> {
    fn new() -> Lane<S> {
        Lane {
            conn: None,
            request: Vec::with_capacity(4096),
            location: Vec::with_capacity(128),
            // Reset to each request's deadline before it is polled.
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    fn location(&self, has_location: bool) -> Option<&[u8]> {
        has_location.then_some(self.location.as_slice())
    }
}

/// Awaits every task; a task's panic is a bug, surfaced rather than
/// losing its counts.
async fn join_all(handles: Vec<tokio::task::JoinHandle<()>>) {
    for handle in handles {
        if let Err(e) = handle.await {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_timer_fires_even_when_the_work_is_always_ready() {
        use tokio::io::AsyncReadExt;
        // Reads that are always ready use up tokio's budget in each poll.
        let endless = async {
            let mut source = tokio::io::repeat(b'x');
            let mut buf = [0u8; 64];
            loop {
                let _ = source.read(&mut buf).await;
            }
        };
        let mut timer = Box::pin(tokio::time::sleep(Duration::from_millis(50)));
        // The outer timeout only bounds the test if the timer never fires.
        let outcome =
            tokio::time::timeout(Duration::from_secs(5), within(timer.as_mut(), endless)).await;
        assert_eq!(outcome, Ok(None), "the timer must end the work");
    }

    #[test]
    fn an_endpoint_names_its_port_only_when_it_is_not_the_schemes_own() {
        let at = |tls, host: &str, port| Endpoint {
            tls,
            host: host.into(),
            port,
        };
        assert_eq!(at(false, "127.0.0.1", 80).to_string(), "http://127.0.0.1");
        assert_eq!(
            at(false, "localhost", 8080).to_string(),
            "http://localhost:8080"
        );
        assert_eq!(at(true, "::1", 443).to_string(), "https://[::1]");
        assert_eq!(at(true, "::1", 80).host_header(), "[::1]:80");
    }

    #[test]
    fn the_request_head_has_defaults_that_scenario_headers_replace() {
        let head = request_head(
            "/api/v1/sessions",
            "127.0.0.1:8080",
            &[
                (
                    "content-type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                ("X-Run".into(), "7".into()),
            ],
        );
        let text = String::from_utf8(head).unwrap();
        assert!(text.starts_with(
            "POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: mcload/"
        ));
        assert!(!text.contains("Content-Type: application/json\r\n"));
        assert!(text.contains("content-type: application/json; charset=utf-8\r\nX-Run: 7\r\n"));
        assert!(text.ends_with("\r\nContent-Length: "));
    }
}
