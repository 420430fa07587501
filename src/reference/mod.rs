//! The embedded reference server (`mcload serve`): a Media Collection
//! sessions endpoint that validates bodies with [`crate::spec`] under the
//! rule set it is given (`strict` or `documented`), answers as the API
//! documents, injects faults on request, and counts what it saw.
//!
//! It is built on hyper's server, not on mcload's own client code, so that
//! it stays an independent witness: a test can check that the harness's
//! counts equal the server's.

mod faults;
mod socket;
mod stats;

use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::{Rng, SeedableRng, rngs::SmallRng};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

pub use faults::{Faults, Latency, MAX_LATENCY, Stall};
use socket::Ended;
pub use stats::{Fault, FaultCounts, Stats, StatsSnapshot};

use crate::spec;
use crate::spec::{ENDPOINT_PATH, RuleSet};

/// Bodies above this size are refused with 400 (the API documents no limit;
/// a sessionStart is about 1 KiB).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What every connection of one server shares.
#[derive(Debug)]
pub struct ServerState {
    /// The rules bodies are judged by.
    pub rules: RuleSet,
    pub faults: Faults,
    pub stats: Stats,
    /// The last session id given out, for `--repeat-id`.
    last_id: std::sync::Mutex<Option<[u64; 4]>>,
    /// When the server started, from which stalls are timed.
    started: Instant,
}

impl ServerState {
    pub fn new(rules: RuleSet, faults: Faults) -> Arc<ServerState> {
        Arc::new(ServerState {
            rules,
            faults,
            stats: Stats::default(),
            last_id: std::sync::Mutex::new(None),
            started: Instant::now(),
        })
    }
}

/// Accepts connections on an already bound listener until `shutdown`
/// completes.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>, shutdown: impl Future) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    // A second descriptor of the socket, for the faults
                    // that reset it or write to it past hyper.
                    let socket = state
                        .faults
                        .need_socket()
                        .then(|| stream.as_fd().try_clone_to_owned().ok())
                        .flatten()
                        .map(|fd| Arc::new(std::net::TcpStream::from(fd)));
                    tokio::spawn(serve_with_socket(stream, state.clone(), socket));
                }
                // Running out of file descriptors or a connection reset
                // before accept must not end the server; back off briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            },
        }
    }
}

/// Serves one connection (plain TCP, or TLS in tests) until it closes.
/// Resets, garbage and trickled answers need the socket itself: here they
/// end the connection without an answer.
pub async fn serve_connection<IO>(io: IO, state: Arc<ServerState>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_with_socket(io, state, None).await;
}

async fn serve_with_socket<IO>(
    io: IO,
    state: Arc<ServerState>,
    socket: Option<Arc<std::net::TcpStream>>,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let rng = std::cell::RefCell::new(SmallRng::from_rng(&mut rand::rng()));
    let service = service_fn(move |req| {
        // Each request draws its random numbers up front, so the future
        // holds no borrow of the connection's generator.
        let draws = {
            let mut rng = rng.borrow_mut();
            Draws {
                fault: rng.random(),
                verdict: rng.random(),
                location: rng.random(),
                repeat: rng.random(),
                session_id: rng.random(),
                latency: (rng.random(), rng.random()),
                broken: rng.random(),
                trickle: rng.random(),
            }
        };
        handle(req, state.clone(), socket.clone(), draws)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        // Room for every extra header a scenario may set
        // (`spec::MAX_HEADERS`) beyond the ones a client always sends, so
        // hyper never refuses a request before the handler counts it.
        .max_headers(crate::spec::MAX_HEADERS + 16)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

struct Draws {
    fault: f64,
    verdict: f64,
    location: f64,
    repeat: f64,
    session_id: [u64; 4],
    latency: (f64, f64),
    /// Whether the request is reset, answered with garbage, or answered.
    broken: f64,
    trickle: f64,
}

type Answer = Response<Full<Bytes>>;

async fn handle(
    req: Request<Incoming>,
    state: Arc<ServerState>,
    socket: Option<Arc<std::net::TcpStream>>,
    draws: Draws,
) -> Result<Answer, Ended> {
    if req.method() == Method::GET && req.uri().path() == "/stats" {
        return Ok(json(StatusCode::OK, state.stats.snapshot().to_json()));
    }
    state.stats.received();
    let faults = &state.faults;
    let session_post = req.method() == Method::POST && req.uri().path() == ENDPOINT_PATH;
    let mut answer = match (req.method(), req.uri().path()) {
        (&Method::POST, ENDPOINT_PATH) => session(req, &state, &socket, &draws).await?,
        (&Method::OPTIONS, ENDPOINT_PATH) => {
            with_cors(Response::builder().status(StatusCode::NO_CONTENT))
                .body(Full::default())
                .expect("static response")
        }
        (_, ENDPOINT_PATH) => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "",
            "use POST",
        ),
        _ => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "",
            "the endpoint is POST /api/v1/sessions",
        ),
    };
    state.stats.answered(answer.status().as_u16());
    if let Some(socket) = socket.as_deref().filter(|_| session_post)
        && draws.trickle < faults.trickle_share
    {
        state.stats.committed(Fault::Trickled);
        let bytes = socket::to_bytes(answer).await;
        let _ =
            socket::write_slowly(socket, &bytes, socket::TRICKLE_PIECE, socket::TRICKLE_GAP).await;
        return Err(Ended);
    }
    if faults.close {
        state.stats.committed(Fault::Closed);
        answer
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok(answer)
}

/// The answer to a session POST, after the latency and any stall; `Ended`
/// when a fault answers it by ending the connection instead.
async fn session(
    req: Request<Incoming>,
    state: &ServerState,
    socket: &Option<Arc<std::net::TcpStream>>,
    draws: &Draws,
) -> Result<Answer, Ended> {
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(error(
                StatusCode::BAD_REQUEST,
                "body_unreadable",
                "",
                "the body could not be read or is larger than 1 MiB",
            ));
        }
    };
    let faults = &state.faults;
    if let Some(latency) = faults.latency {
        let (u1, u2) = draws.latency;
        tokio::time::sleep(latency.sample(u1, u2)).await;
    }
    if let Some(stall) = faults.stall {
        let wait = stall.wait(state.started.elapsed());
        if !wait.is_zero() {
            state.stats.committed(Fault::Stalled);
            tokio::time::sleep(wait).await;
        }
    }
    if let Some(socket) = socket {
        // One draw for both, so their shares add up (0.1 + 0.1: a fifth
        // of the requests is broken, none twice).
        if draws.broken < faults.reset_share {
            state.stats.committed(Fault::Reset);
            // Without the linger setting the close is an orderly FIN.
            let _ = socket::reset_on_close(socket);
            return Err(Ended);
        }
        if draws.broken < faults.reset_share + faults.garbage_share {
            state.stats.committed(Fault::Garbage);
            let _ =
                socket::write_slowly(socket, socket::GARBAGE, usize::MAX, Default::default()).await;
            return Err(Ended);
        }
    }
    Ok(answer_session(&body, state, draws))
}

fn answer_session(body: &[u8], state: &ServerState, draws: &Draws) -> Answer {
    let faults = &state.faults;
    match spec::validate_bytes(body, state.rules) {
        Err(_) if draws.verdict < faults.accept_invalid => {
            state.stats.committed(Fault::AcceptedInvalid);
            return created(state, draws.session_id);
        }
        Err(violation) => {
            return error(
                StatusCode::BAD_REQUEST,
                violation.rule.code(),
                &violation.field,
                &violation.to_string(),
            );
        }
        Ok(()) if draws.verdict < faults.reject_valid => {
            state.stats.committed(Fault::RejectedValid);
            return error(
                StatusCode::BAD_REQUEST,
                "injected_rejection",
                "",
                "a valid body rejected by --reject-valid",
            );
        }
        Ok(()) => {}
    }
    if draws.fault < faults.error_rate {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected_fault",
            "",
            "an error injected by --error-rate",
        );
    }
    if draws.location < faults.bad_location {
        state.stats.committed(Fault::BadLocation);
        // The endpoint without a session id: no session can be named by it.
        return with_cors(Response::builder().status(StatusCode::CREATED))
            .header(header::LOCATION, format!("{ENDPOINT_PATH}/"))
            .body(Full::default())
            .expect("valid response");
    }
    let mut id = draws.session_id;
    if draws.repeat < faults.repeat_id {
        let last = *state.last_id.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = last {
            state.stats.committed(Fault::RepeatedId);
            id = last;
        }
    }
    created(state, id)
}

/// A 201 naming session `id`, remembered as the last one given out.
fn created(state: &ServerState, id: [u64; 4]) -> Answer {
    if state.faults.repeat_id > 0.0 {
        *state.last_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(id);
    }
    let mut location = Vec::with_capacity(ENDPOINT_PATH.len() + 65);
    location.extend_from_slice(ENDPOINT_PATH.as_bytes());
    location.push(b'/');
    for word in id {
        location.extend_from_slice(format!("{word:016x}").as_bytes());
    }
    with_cors(Response::builder().status(StatusCode::CREATED))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(
            header::LOCATION,
            HeaderValue::from_bytes(&location).expect("hex is a valid header value"),
        )
        .body(Full::default())
        .expect("valid response")
}

/// The CORS headers the documented sample answer carries.
fn with_cors(builder: hyper::http::response::Builder) -> hyper::http::response::Builder {
    builder
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "OPTIONS,POST,PUT")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "Content-Type")
        .header(header::ACCESS_CONTROL_EXPOSE_HEADERS, "Location")
}

fn json(status: StatusCode, body: String) -> Answer {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

/// A short JSON error naming the rule broken.
fn error(status: StatusCode, code: &str, field: &str, message: &str) -> Answer {
    let body = serde_json::json!({ "error": code, "field": field, "message": message });
    json(status, body.to_string())
}

/// A reference server running on its own thread, for `mcload run` without
/// a target and for tests.
pub struct Embedded {
    pub addr: SocketAddr,
    pub state: Arc<ServerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Embedded {
    /// Binds 127.0.0.1 on an ephemeral port and serves on a new thread.
    pub fn start(rules: RuleSet, faults: Faults) -> std::io::Result<Embedded> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = ServerState::new(rules, faults);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name("mcload-target".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => serve(listener, thread_state, rx).await,
                        Err(e) => crate::output::eprintln(format_args!(
                            "mcload: the embedded server could not start: {e}"
                        )),
                    }
                });
            })?;
        Ok(Embedded {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
