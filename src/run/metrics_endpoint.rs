//! `run --metrics-listen`: serves [`LiveMetrics`] as `/metrics` over HTTP
//! on a thread of its own while the run lasts, and a little after it, so
//! a Prometheus scraping it sees the final figures.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::{LiveView, Watch};
use crate::report::prometheus::{CONTENT_TYPE, LiveMetrics, RunLabels};

/// The address given to `--metrics-listen` cannot be listened on.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot serve /metrics on {addr} (--metrics-listen): {source}; choose a free port, or port 0 for any"
)]
pub struct ListenError {
    pub addr: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// A bound `/metrics` listener, not serving yet: binding first makes a
/// port in use a bad-input error before any request is sent.
#[derive(Debug)]
pub struct MetricsEndpoint {
    listener: std::net::TcpListener,
    /// Where it listens (the actual port when 0 was asked).
    pub addr: SocketAddr,
}

impl MetricsEndpoint {
    pub fn bind(addr: SocketAddr) -> Result<MetricsEndpoint, ListenError> {
        let fail = |source| ListenError { addr, source };
        let listener = std::net::TcpListener::bind(addr).map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        let addr = listener.local_addr().map_err(fail)?;
        Ok(MetricsEndpoint { listener, addr })
    }

    /// Serves `metrics` on a new thread until [`Serving::linger`] ends or it is dropped.
    pub fn serve(self, metrics: Arc<LiveMetrics>) -> std::io::Result<Serving> {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = self.listener;
        let thread = std::thread::Builder::new()
            .name("mcload-metrics".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => accept(listener, metrics, rx).await,
                        Err(e) => crate::output::eprintln(format_args!(
                            "mcload: /metrics could not be served: {e}"
                        )),
                    }
                });
            })?;
        Ok(Serving {
            shutdown: Some(tx),
            thread: Some(thread),
            signals: None,
        })
    }
}

async fn accept(
    listener: TcpListener,
    metrics: Arc<LiveMetrics>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                // A failed accept (a descriptor limit) only costs a scrape.
                let Ok((stream, _)) = accepted else { continue };
                let metrics = metrics.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(req, metrics.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

async fn answer(
    req: Request<Incoming>,
    metrics: Arc<LiveMetrics>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => Response::builder()
            .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Full::new(Bytes::from(metrics.render()))),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(
                b"mcload serves GET /metrics only\n",
            ))),
    };
    Ok(response.expect("a fixed status and header are valid"))
}

/// The `/metrics` server while it runs.
pub struct Serving {
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Ctrl-C and SIGTERM, watched from [`Serving::watch_signals`] on.
    signals: Option<LingerSignals>,
}

/// A runtime with Ctrl-C and SIGTERM streams registered on it: each keeps
/// a signal that comes before it is awaited.
struct LingerSignals {
    runtime: tokio::runtime::Runtime,
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl LingerSignals {
    fn new() -> std::io::Result<LingerSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (interrupt, terminate) = runtime.block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })?;
        Ok(LingerSignals {
            runtime,
            interrupt,
            terminate,
        })
    }
}

/// How a [`Serving::linger`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LingerEnd {
    /// A scrape read the final figures.
    Scraped,
    /// No scrape came within the time.
    TimedOut,
    /// Ctrl-C or SIGTERM.
    Signal,
}

impl Serving {
    /// Watches Ctrl-C and SIGTERM from now on, for [`Serving::linger`]:
    /// called when the run has ended, while the run's own signal watch is
    /// still there, so no signal falls between the two.
    pub fn watch_signals(&mut self) {
        if self.signals.is_none() {
            self.signals = LingerSignals::new().ok();
        }
    }

    /// Keeps serving until a scrape has read the final figures (see
    /// [`LiveMetrics::finish`]), `linger` has passed, or Ctrl-C or SIGTERM
    /// comes (since [`Serving::watch_signals`]); then stops.
    pub fn linger(mut self, metrics: &LiveMetrics, linger: Duration) -> LingerEnd {
        self.watch_signals();
        let Some(mut signals) = self.signals.take() else {
            // No runtime for the wait: stop at once rather than hang.
            return LingerEnd::TimedOut;
        };
        let LingerSignals {
            runtime,
            interrupt,
            terminate,
        } = &mut signals;
        runtime.block_on(async {
            tokio::select! {
                () = metrics.final_scrape() => LingerEnd::Scraped,
                () = tokio::time::sleep(linger) => LingerEnd::TimedOut,
                _ = interrupt.recv() => LingerEnd::Signal,
                _ = terminate.recv() => LingerEnd::Signal,
            }
        })
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Hands the run's labels and live counters to the page when the load
/// starts.
pub struct MetricsWatch(pub Arc<LiveMetrics>);

impl Watch for MetricsWatch {
    fn start(&mut self, view: LiveView) {
        let labels = RunLabels {
            scenario: view.header.scenario.clone(),
            target: view.header.target.clone(),
            shard: None,
        };
        self.0.start(
            labels,
            Box::new(move || {
                // Outcomes first: a request counted ended was counted
                // started before, so in flight is never negative.
                let counts = view.counts();
                (view.started(), counts)
            }),
        );
    }

    fn stop(&mut self) {}
}

/// Several watches, each told in turn.
impl Watch for Vec<Box<dyn Watch>> {
    fn start(&mut self, view: LiveView) {
        for watch in self.iter_mut() {
            watch.start(view.clone());
        }
    }

    fn stop(&mut self) {
        for watch in self.iter_mut() {
            watch.stop();
        }
    }
}
