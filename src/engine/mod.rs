//! Fires the requests: one current-thread tokio runtime per generator
//! thread (like wrk's `-t`), each owning its tasks, their keep-alive
//! connections and one recorder. The closed model runs workers that send
//! back to back; the open model runs a scheduler that starts requests at
//! their planned instants and connection tasks that carry them. Every
//! request that is scheduled ends in exactly one [`Outcome`], handed to the
//! thread's [`Record`]er; the engine itself measures nothing and prints
//! nothing.

mod closed;
mod http1;
mod open;
mod outcome;
mod pacer;
mod probe;
mod transport;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use http1::{Connection, ExchangeError, MAX_HEAD_BYTES, Response};
pub use outcome::{Class, Outcome, Record};
pub use probe::{PROBE_TIMEOUT, connect_target};
pub use transport::{Plain, Tls, TlsSetupError, Transport, describe_tls_error, tls_failure_text};

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
}

/// Lets another thread stop a run: no new request starts once it is set;
/// requests on the wire finish or time out and are counted.
#[derive(Debug, Default)]
pub struct Control {
    stop: AtomicBool,
}

impl Control {
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
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

/// Runs the load from `start` and returns one recorder per thread, each
/// built by `make_recorder(t)` on the calling thread.
pub fn run<R, F>(
    config: &Config,
    control: &Arc<Control>,
    start: RunStart,
    make_recorder: F,
) -> std::io::Result<Finished<R>>
where
    R: Record + Send + 'static,
    F: FnMut(usize) -> R,
{
    match &config.transport {
        AnyTransport::Plain(t) => run_with(t, config, control, start, make_recorder),
        AnyTransport::Tls(t) => run_with(t, config, control, start, make_recorder),
    }
}

fn run_with<T, R, F>(
    transport: &T,
    config: &Config,
    control: &Arc<Control>,
    start: RunStart,
    mut make_recorder: F,
) -> std::io::Result<Finished<R>>
where
    T: Transport + Send,
    R: Record + Send + 'static,
    F: FnMut(usize) -> R,
{
    let epoch_ms = start
        .wall
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let threads: Vec<_> = (0..config.schedule.threads())
        .map(|t| {
            let ctx = ThreadCtx {
                transport: transport.clone(),
                head: config.head.clone(),
                bodies: config.bodies.clone(),
                timeout: config.timeout,
                started: start.instant,
                epoch_ms,
                control: control.clone(),
                taken: Cell::new(0),
                last_start: Cell::new(start.instant),
                recorder: RefCell::new(make_recorder(t)),
            };
            let work = ThreadWork::of(&config.schedule, t, start.instant);
            std::thread::Builder::new()
                .name(format!("mcload-gen-{t}"))
                .spawn(move || run_thread(ctx, work))
        })
        .collect();
    // A thread that could not start stops the others at once, rather than
    // after they have sent their share at a skewed rate.
    if threads.iter().any(Result::is_err) {
        control.stop();
    }
    // Join every thread that started, even when another failed, so none is
    // left running behind an error.
    let mut recorders = Vec::with_capacity(threads.len());
    let mut scheduled = 0;
    let mut last_start = start.instant;
    let mut failure = None;
    for thread in threads {
        let result = match thread {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a generator thread panicked"))),
            Err(e) => {
                control.stop();
                Err(e)
            }
        };
        match result {
            Ok((recorder, taken, stopped)) => {
                recorders.push(recorder);
                scheduled += taken;
                last_start = last_start.max(stopped);
            }
            Err(e) => {
                control.stop();
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Finished {
        recorders,
        scheduled,
        started_at: start.wall,
        elapsed: start.instant.elapsed(),
        sending: last_start.duration_since(start.instant),
    })
}

/// What one thread does: its share of the schedule.
enum ThreadWork {
    Closed(closed::ClosedWork),
    Open(Box<open::OpenWork>),
}

impl ThreadWork {
    fn of(schedule: &Schedule, thread: usize, started: Instant) -> ThreadWork {
        match schedule {
            Schedule::Closed(p) => ThreadWork::Closed(closed::ClosedWork::new(p, thread, started)),
            Schedule::Open(p) => ThreadWork::Open(Box::new(open::OpenWork::new(p, thread))),
        }
    }
}

/// What the tasks of one thread share. Single-threaded, so plain cells.
struct ThreadCtx<T, R> {
    transport: T,
    head: Vec<u8>,
    bodies: BodyGenerator,
    timeout: Duration,
    started: Instant,
    epoch_ms: u64,
    control: Arc<Control>,
    /// Requests scheduled by this thread, warm-up included.
    taken: Cell<u64>,
    /// When this thread last started a request.
    last_start: Cell<Instant>,
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
    /// went out (`ready` when the connection was already open) and whether
    /// the answer had a `Location`, which is copied into `lane.location`. A
    /// connection that cannot carry another request is dropped.
    async fn send(
        &self,
        lane: &mut Lane<T::Stream>,
        start: usize,
        deadline: tokio::time::Instant,
        ready: Instant,
    ) -> (Class, Instant, bool) {
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
            let connected = within(timer.as_mut(), self.transport.connect()).await;
            match connected {
                Some(Ok(stream)) => {
                    *conn = Some(Connection::new(stream));
                    sent = Instant::now();
                }
                Some(Err(_)) | None => return (Class::Connect, sent, false),
            }
        }
        let connection = conn.as_mut().expect("connected above");
        let result = within(timer.as_mut(), connection.exchange(&request[start..])).await;
        let mut has_location = false;
        let class = match result {
            Some(Ok(response)) => {
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
                match error {
                    ExchangeError::Io(_) | ExchangeError::Closed => Class::Io,
                    ExchangeError::Protocol(_) => Class::Protocol,
                }
            }
            None => {
                *conn = None;
                Class::Timeout
            }
        };
        (class, sent, has_location)
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

/// Runs one thread's share; its recorder and how many requests it scheduled.
fn run_thread<T: Transport, R: Record + 'static>(
    ctx: ThreadCtx<T, R>,
    work: ThreadWork,
) -> std::io::Result<(R, u64, Instant)> {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            ctx.control.stop();
            return Err(e);
        }
    };
    let ctx = Rc::new(ctx);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let ticker = tokio::task::spawn_local(tick_every_second(ctx.clone()));
        match work {
            ThreadWork::Closed(work) => closed::run(ctx.clone(), work).await,
            ThreadWork::Open(work) => open::run(ctx.clone(), *work).await,
        }
        ticker.abort();
    });
    drop(local);
    let ctx = Rc::try_unwrap(ctx).unwrap_or_else(|_| unreachable!("every task has ended"));
    Ok((
        ctx.recorder.into_inner(),
        ctx.taken.get(),
        ctx.last_start.get(),
    ))
}

/// Lets the recorder close each second even when no outcome arrives.
async fn tick_every_second<T: Transport, R: Record>(ctx: Rc<ThreadCtx<T, R>>) {
    // Just after each second's end, so outcomes of that second come first.
    let first = tokio::time::Instant::from_std(ctx.started) + Duration::from_millis(1_002);
    let mut ticks = tokio::time::interval_at(first, Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        ctx.recorder.borrow_mut().tick(Instant::now());
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
