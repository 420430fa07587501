//! Fires the requests: one current-thread tokio runtime per generator
//! thread (like wrk's `-t`), each owning its workers, their keep-alive
//! connections and one recorder. Every request that is scheduled ends in
//! exactly one [`Outcome`], handed to the thread's [`Record`]er; the engine
//! itself measures nothing and prints nothing.

mod http1;
mod outcome;
mod transport;

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use http1::{Connection, ExchangeError, MAX_HEAD_BYTES, Response};
pub use outcome::{Class, Outcome, Record};
pub use transport::{Plain, Tls, TlsSetupError, Transport};

use crate::generate::BodyGenerator;
use crate::scenario::{Scheme, TargetUrl};
use crate::schedule::ClosedPlan;

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

/// Why the target cannot be used; nothing has been sent.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot resolve {host}: {source}")]
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
}

/// Resolves the target, sets up TLS for https, and opens (then closes) one
/// connection to prove the target answers before any load starts.
pub fn connect_target(
    url: &TargetUrl,
    ca_cert: Option<&Path>,
    timeout: Duration,
) -> Result<AnyTransport, TargetError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|source| TargetError::Resolve {
            host: url.host.clone(),
            source,
        })?
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TargetError::Unreachable {
            url: url.to_string(),
            addrs: String::new(),
            reason: format!("cannot start a runtime: {e}"),
        })?;
    let mut last_error = String::from("the host has no addresses");
    for &addr in &addrs {
        let transport = match url.scheme {
            Scheme::Http => AnyTransport::Plain(Plain { addr }),
            Scheme::Https => AnyTransport::Tls(Tls::new(addr, &url.host, ca_cert)?),
        };
        let attempt = runtime.block_on(async {
            let connect = async {
                match &transport {
                    AnyTransport::Plain(t) => t.connect().await.map(drop),
                    AnyTransport::Tls(t) => t.connect().await.map(drop),
                }
            };
            tokio::time::timeout(timeout, connect).await
        });
        match attempt {
            Ok(Ok(())) => return Ok(transport),
            Ok(Err(e)) => last_error = e.to_string(),
            Err(_) => {
                last_error = format!("no answer within {}", humantime::format_duration(timeout))
            }
        }
    }
    Err(TargetError::Unreachable {
        url: url.to_string(),
        addrs: addrs
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        reason: last_error,
    })
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
    pub plan: ClosedPlan,
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
    /// Requests started, counted apart from the recorders: the report
    /// checks that the outcomes add up to this.
    pub scheduled: u64,
    pub started_at: SystemTime,
    pub elapsed: Duration,
}

/// Runs the load and returns one recorder per thread. `make_recorder(t)`
/// builds thread `t`'s recorder on the calling thread.
pub fn run<R, F>(
    config: &Config,
    control: &Arc<Control>,
    make_recorder: F,
) -> std::io::Result<Finished<R>>
where
    R: Record + Send + 'static,
    F: Fn(usize) -> R,
{
    match &config.transport {
        AnyTransport::Plain(t) => run_with(t, config, control, make_recorder),
        AnyTransport::Tls(t) => run_with(t, config, control, make_recorder),
    }
}

fn run_with<T, R, F>(
    transport: &T,
    config: &Config,
    control: &Arc<Control>,
    make_recorder: F,
) -> std::io::Result<Finished<R>>
where
    T: Transport + Send,
    R: Record + Send + 'static,
    F: Fn(usize) -> R,
{
    let started_at = SystemTime::now();
    let started = Instant::now();
    let epoch_ms = started_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    // A duration too long to add to the clock has no deadline in practice.
    let deadline = config.plan.duration.and_then(|d| started.checked_add(d));
    let threads: Vec<_> = config
        .plan
        .threads
        .iter()
        .enumerate()
        .map(|(t, share)| {
            let (base, stride) = config.plan.body_indices(t);
            let ctx = ThreadCtx {
                transport: transport.clone(),
                head: config.head.clone(),
                bodies: config.bodies.clone(),
                timeout: config.timeout,
                deadline,
                started,
                epoch_ms,
                control: control.clone(),
                base,
                stride,
                budget: share.requests,
                taken: Cell::new(0),
                recorder: RefCell::new(make_recorder(t)),
            };
            let workers = share.workers;
            std::thread::Builder::new()
                .name(format!("mcload-gen-{t}"))
                .spawn(move || run_thread(ctx, workers))
        })
        .collect();
    // Join every thread that started, even when another failed, so none is
    // left running behind an error.
    let mut recorders = Vec::with_capacity(threads.len());
    let mut scheduled = 0;
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
            Ok((recorder, taken)) => {
                recorders.push(recorder);
                scheduled += taken;
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
        started_at,
        elapsed: started.elapsed(),
    })
}

/// What the workers of one thread share. Single-threaded, so plain cells.
struct ThreadCtx<T, R> {
    transport: T,
    head: Vec<u8>,
    bodies: BodyGenerator,
    timeout: Duration,
    deadline: Option<Instant>,
    started: Instant,
    epoch_ms: u64,
    control: Arc<Control>,
    /// Body numbering: the k-th request sends body `base + k * stride`.
    base: u64,
    stride: u64,
    /// Requests this thread may send in all.
    budget: Option<u64>,
    taken: Cell<u64>,
    recorder: RefCell<R>,
}

impl<T, R: Record> ThreadCtx<T, R> {
    /// The body index of the next request, or `None` once the thread's
    /// share is used up.
    fn take_index(&self) -> Option<u64> {
        let k = self.taken.get();
        if self.budget.is_some_and(|b| k >= b) {
            return None;
        }
        self.taken.set(k + 1);
        Some(self.base + k * self.stride)
    }

    fn may_start(&self, now: Instant) -> bool {
        !self.control.is_stopped() && self.deadline.is_none_or(|d| now < d)
    }

    fn epoch_ms(&self, now: Instant) -> u64 {
        self.epoch_ms + now.saturating_duration_since(self.started).as_millis() as u64
    }

    fn record(&self, outcome: &Outcome) {
        self.recorder.borrow_mut().record(outcome);
    }
}

/// Runs one thread's workers; its recorder and how many requests it started.
fn run_thread<T: Transport, R: Record + 'static>(
    ctx: ThreadCtx<T, R>,
    workers: u32,
) -> std::io::Result<(R, u64)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ctx = Rc::new(ctx);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let handles: Vec<_> = (0..workers)
            .map(|_| tokio::task::spawn_local(closed_worker(ctx.clone())))
            .collect();
        for handle in handles {
            // A worker's panic is a bug; surface it rather than lose its count.
            if let Err(e) = handle.await {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    });
    drop(local);
    let ctx = Rc::try_unwrap(ctx).unwrap_or_else(|_| unreachable!("every worker has ended"));
    Ok((ctx.recorder.into_inner(), ctx.taken.get()))
}

/// One closed-model worker: a connection, and the next request as soon as
/// the previous one has ended.
async fn closed_worker<T: Transport, R: Record>(ctx: Rc<ThreadCtx<T, R>>) {
    let mut conn: Option<Connection<T::Stream>> = None;
    let mut body = Vec::with_capacity(2048);
    let mut request = Vec::with_capacity(4096);
    let mut now = Instant::now();
    while ctx.may_start(now) {
        let Some(index) = ctx.take_index() else { break };
        body.clear();
        ctx.bodies.write(index, ctx.epoch_ms(now), &mut body);
        request.clear();
        request.extend_from_slice(&ctx.head);
        request.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(&body);

        let intended = Instant::now();
        let mut sent = intended;
        // One deadline for connecting and the exchange together: a request
        // has `timeout` in all to be answered.
        let deadline = tokio::time::Instant::from_std(intended) + ctx.timeout;
        if conn.is_none() {
            match tokio::time::timeout_at(deadline, ctx.transport.connect()).await {
                Ok(Ok(stream)) => {
                    conn = Some(Connection::new(stream));
                    sent = Instant::now();
                }
                // Like wrk and k6, a failed connect is this request's outcome
                // and the next request tries again at once: a dead target
                // ends a counted run quickly, every request accounted for.
                Ok(Err(_)) | Err(_) => {
                    now = Instant::now();
                    ctx.record(&Outcome {
                        intended,
                        sent,
                        done: now,
                        class: Class::Connect,
                    });
                    // Some connect errors (no file descriptors, no local
                    // port) come back without ever waiting; yield so this
                    // worker cannot starve the others on its thread.
                    tokio::task::yield_now().await;
                    continue;
                }
            }
        }
        let connection = conn.as_mut().expect("connected above");
        let result = tokio::time::timeout_at(deadline, connection.exchange(&request)).await;
        now = Instant::now();
        let class = match result {
            Ok(Ok(response)) => {
                if !connection.is_reusable() {
                    conn = None;
                }
                Class::Status(response.status)
            }
            Ok(Err(error)) => {
                conn = None;
                match error {
                    ExchangeError::Io(_) | ExchangeError::Closed => Class::Io,
                    ExchangeError::Protocol(_) => Class::Protocol,
                }
            }
            Err(_) => {
                conn = None;
                Class::Timeout
            }
        };
        ctx.record(&Outcome {
            intended,
            sent,
            done: now,
            class,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
