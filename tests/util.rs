//! Helpers shared by the integration tests: running a scenario in-process
//! through the library or through the binary, writing scenario files, and
//! servers the tests start themselves on 127.0.0.1.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use mcload::run::{RunOptions, RunResult};
use mcload::scenario::Scenario;
use serde_json::Value;

/// The mcload binary under test.
pub fn mcload() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mcload"))
}

/// The repository root, where `scenarios/` lives.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a scenario file and returns its path.
pub fn scenario(name: &str, text: &str) -> PathBuf {
    let path = temp_dir(name).join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The report's JSON Schema as checked in under `schema/`, compiled once.
fn report_schema() -> &'static (boon::Schemas, boon::SchemaIndex) {
    static SCHEMA: OnceLock<(boon::Schemas, boon::SchemaIndex)> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = repo().join("schema/report.schema.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let location = path.to_str().unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        let message =
            |e: boon::CompileError| format!("{} is not a valid schema: {e}", path.display());
        if let Err(e) = compiler.add_resource(location, schema) {
            panic!("{}", message(e));
        }
        let index = compiler
            .compile(location, &mut schemas)
            .unwrap_or_else(|e| panic!("{}", message(e)));
        (schemas, index)
    })
}

/// Every way a report breaks the checked-in schema, one line each
/// (`/pointer: reason`); empty when it validates.
pub fn schema_errors(report: &Value) -> Vec<String> {
    let (schemas, index) = report_schema();
    let Err(error) = schemas.validate(report, *index) else {
        return Vec::new();
    };
    // The basic output: a flat list of the failing keywords.
    let output = serde_json::to_value(error.basic_output()).unwrap();
    output["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let at = e["instanceLocation"].as_str().unwrap_or_default();
            format!("{at}: {}", e["error"].as_str().unwrap_or_default())
        })
        .collect()
}

/// Fails unless `report` validates against `schema/report.schema.json`.
/// Every report a test reads goes through here.
pub fn assert_valid_report(report: &Value) {
    let errors = schema_errors(report);
    assert!(
        errors.is_empty(),
        "the report does not match schema/report.schema.json:\n{}\n{report}",
        errors.join("\n")
    );
}

/// The result of one run with a JSON report: made by the binary, or
/// in-process through the library and shown as the binary would show it.
pub struct Run {
    /// The exit code (`mcload run`'s, or the one the verdict calls for).
    pub code: i32,
    /// The text summary (in-process: only the summary).
    pub stdout: String,
    /// What went to stderr (in-process: the verdict's message, if any).
    pub stderr: String,
    pub json: Value,
}

impl Run {
    /// A run of the binary and the report it wrote, which must validate
    /// against the report's schema.
    pub fn from_output(output: Output, json: Value) -> Run {
        assert_valid_report(&json);
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            json,
        }
    }

    /// Shows a library run's result as `mcload run` would.
    pub fn from_result(result: &RunResult) -> Run {
        let mut stderr = Vec::new();
        let code = mcload::commands::run::exit_code(result, &mut stderr) as i32;
        let mut stdout = Vec::new();
        mcload::report::write_text(&result.report, &mut stdout).unwrap();
        Run {
            code,
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
            json: report_json(result),
        }
    }

    pub fn code(&self) -> i32 {
        self.code
    }

    pub fn stdout(&self) -> String {
        self.stdout.clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.clone()
    }

    pub fn count(&self, pointer: &str) -> u64 {
        self.json
            .pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("no count at {pointer} in {}", self.json))
    }
}

/// A library run's JSON report, as `--json` writes it; it must validate
/// against the report's schema.
pub fn report_json(result: &RunResult) -> Value {
    let json = mcload::report::to_json(&result.report);
    assert_valid_report(&json);
    json
}

/// Runs `mcload run SCENARIO ARGS... --json FILE` and reads the report.
pub fn run(scenario: &Path, args: &[&str]) -> Run {
    let report = temp_dir("report").join("report.json");
    let output = mcload()
        .arg("run")
        .arg(scenario)
        .args(args)
        .arg("--json")
        .arg(&report)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap_or_else(|_| {
        panic!(
            "no report written; exit {:?}\nstdout: {}\nstderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    Run::from_output(output, serde_json::from_str(&text).unwrap())
}

/// A scenario from its TOML text, as `mcload run` would read it from a file.
pub fn parse(text: &str) -> Scenario {
    Scenario::parse(text, "test.toml", None).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A scenario's text aimed at `url`.
pub fn aimed(url: &str, text: &str) -> String {
    format!("[target]\nurl = \"{url}\"\n{text}")
}

/// Runs the scenario `text` in this process through the library.
pub fn execute(text: &str) -> Run {
    execute_with(text, RunOptions::default())
}

/// Runs the scenario `text` in this process with `options`.
pub fn execute_with(text: &str, options: RunOptions) -> Run {
    let result = mcload::run::execute(&parse(text), options).expect("the run starts");
    Run::from_result(&result)
}

/// A run whose traffic went wrong beyond the default verdict's 1%
/// (errors, or answers off the expected status): it exits 1 naming
/// `unexpected`, however well every request was accounted for.
pub fn assert_fails_unexpected(run: &Run) {
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr()
            .contains("mcload: threshold failed: unexpected <= 1% (measured "),
        "{}",
        run.stderr()
    );
    assert_eq!(run.json["verdict"]["pass"], false);
}

/// Checks the accounting identity: every scheduled request has exactly one
/// outcome.
pub fn assert_accounted(run: &Run) {
    let j = &run.json;
    let other: u64 = j["status"]["other"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let errors: u64 = j["errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let answered =
        run.count("/status/201") + run.count("/status/400") + run.count("/status/500") + other;
    assert_eq!(
        run.count("/requests/scheduled"),
        answered + errors + run.count("/dropped") + run.count("/cancelled"),
        "scheduled = 201 + 400 + 500 + other + errors + dropped + cancelled\n{}",
        j
    );
    assert_eq!(run.count("/requests/completed"), answered);
}

/// Counts kept by a test server.
#[derive(Debug, Default)]
pub struct Counts {
    pub requests: AtomicU64,
    pub created: AtomicU64,
    pub bad_request: AtomicU64,
    pub server_error: AtomicU64,
    pub other: AtomicU64,
    pub connections: AtomicU64,
    /// Answers are held until this instant (see [`CountingServer::freeze`]).
    pub frozen_until: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Counts {
    fn answered(&self, status: u16) {
        let c = match status {
            201 => &self.created,
            400 => &self.bad_request,
            500 => &self.server_error,
            _ => &self.other,
        };
        c.fetch_add(1, SeqCst);
    }
}

/// A server that is not mcload's reference server: hyper with its own
/// rules. Request number n (from 0) is answered 500 when n % 10 == 3, 503
/// when n % 50 == 11, and otherwise 201 for a JSON body whose eventType is
/// sessionStart and 400 for anything else. It counts everything.
pub struct CountingServer {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    _runtime: tokio::runtime::Runtime,
}

impl CountingServer {
    pub fn start() -> CountingServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let counts = Arc::new(Counts::default());
        let server_counts = counts.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                server_counts.connections.fetch_add(1, SeqCst);
                let counts = server_counts.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let counts = counts.clone();
                        async move { Ok::<_, Infallible>(answer(req, &counts).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        CountingServer {
            addr,
            counts,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Holds every answer, of requests on the wire and of those that
    /// arrive meanwhile, until `how_long` from now: a stalled target.
    pub fn freeze(&self, how_long: Duration) {
        *self.counts.frozen_until.lock().unwrap() = Some(std::time::Instant::now() + how_long);
    }
}

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    counts: &Counts,
) -> hyper::Response<http_body_util::Full<bytes::Bytes>> {
    use http_body_util::BodyExt;
    let n = counts.requests.fetch_add(1, SeqCst);
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let frozen_until = *counts.frozen_until.lock().unwrap();
    if let Some(until) = frozen_until {
        tokio::time::sleep_until(until.into()).await;
    }
    let is_session_start = body
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|v| v["eventType"] == "sessionStart");
    let status = if n % 10 == 3 {
        500
    } else if n % 50 == 11 {
        503
    } else if is_session_start {
        201
    } else {
        400
    };
    counts.answered(status);
    hyper::Response::builder()
        .status(status)
        .header("Location", format!("/api/v1/sessions/{n:064x}"))
        .body(http_body_util::Full::default())
        .unwrap()
}

/// Reads one HTTP/1.1 request (head and Content-Length body) from a
/// blocking stream; false at end of stream.
pub fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(head)) = request.parse(buf) {
            let length: usize = request
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse().ok())
                .unwrap_or(0);
            if buf.len() >= head + length {
                buf.drain(..head + length);
                return true;
            }
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// How a raw test server treats each request.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Answers something that is not HTTP.
    Garbage,
    /// Closes the connection without answering.
    Hangup,
    /// Never answers, keeping the connection open.
    Stall,
    /// Answers 201 to the first N requests it gets, then stops answering
    /// and closes every connection and its listener: the target dies.
    DieAfter(u64),
    /// Answers 201 to the first N requests it gets, then never answers,
    /// keeping the connections open.
    StallAfter(u64),
}

/// A raw TCP server that misbehaves on purpose, one thread per connection.
pub struct RawServer {
    pub addr: SocketAddr,
    /// Requests read in full.
    pub requests: Arc<AtomicU64>,
    /// 201 answers written in full.
    pub answered: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(how: Misbehaviour) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, a, s) = (requests.clone(), answered.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(SeqCst) {
                    // Dead: the listener goes away with this thread.
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (r, a, s) = (r.clone(), a.clone(), s.clone());
                std::thread::spawn(move || serve_raw(stream, how, &r, &a, &s));
            }
        });
        RawServer {
            addr,
            requests,
            answered,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve_raw(
    mut stream: TcpStream,
    how: Misbehaviour,
    requests: &AtomicU64,
    answered: &AtomicU64,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buf = Vec::new();
    while read_request(&mut stream, &mut buf) {
        let n = requests.fetch_add(1, SeqCst);
        match how {
            Misbehaviour::Garbage => {
                let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
            }
            Misbehaviour::Hangup => return,
            Misbehaviour::Stall => std::thread::sleep(Duration::from_secs(30)),
            Misbehaviour::DieAfter(limit) | Misbehaviour::StallAfter(limit) => {
                if let Misbehaviour::StallAfter(_) = how
                    && n >= limit
                {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                if n >= limit || stop.load(SeqCst) {
                    stop.store(true, SeqCst);
                    return;
                }
                let answer = format!(
                    "HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/{n:016x}\r\nContent-Length: 0\r\n\r\n"
                );
                if stream.write_all(answer.as_bytes()).is_ok() {
                    answered.fetch_add(1, SeqCst);
                }
            }
        }
    }
}

/// An answer read by [`http`].
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection, read to the end of its
/// Content-Length body.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed before answering");
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let Ok(httparse::Status::Complete(head_len)) = response.parse(&buf) {
            let headers: Vec<(String, String)> = response
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().unwrap());
            if buf.len() >= head_len + length {
                return Answer {
                    status: response.code.unwrap(),
                    headers,
                    body: buf[head_len..head_len + length].to_vec(),
                };
            }
        }
    }
}

/// `mcload serve` running as a child process on an ephemeral port.
pub struct Serve {
    pub addr: SocketAddr,
    child: std::process::Child,
}

impl Serve {
    pub fn start(flags: &[&str]) -> Serve {
        use std::io::BufRead;
        let mut child = mcload()
            .args(["serve", "--listen", "127.0.0.1:0", "--threads", "1"])
            .args(flags)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Serve { addr, child }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stats(&self) -> Value {
        serde_json::from_slice(&http(self.addr, "GET", "/stats", b"").body).unwrap()
    }

    /// Sends SIGTERM and returns the exit code and what it printed last.
    pub fn stop(mut self) -> (Option<i32>, String) {
        std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let mut rest = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut rest)
            .unwrap();
        (self.child.wait().unwrap().code(), rest)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server that answers every request 201 (with a fresh session id) and
/// records the head of each request it reads, to show what went on the
/// wire. It counts requests; heads beyond the first 100 are not kept.
pub struct HeadServer {
    pub addr: SocketAddr,
    pub heads: Arc<std::sync::Mutex<Vec<String>>>,
    pub requests: Arc<AtomicU64>,
}

impl HeadServer {
    pub fn start() -> HeadServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests = Arc::new(AtomicU64::new(0));
        let (h, r) = (heads.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (h, r) = (h.clone(), r.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                    let mut buf = Vec::new();
                    loop {
                        // The head as it arrived, before the request is consumed.
                        let head = loop {
                            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break Some(String::from_utf8_lossy(&buf[..end]).into_owned());
                            }
                            let mut chunk = [0u8; 4096];
                            match stream.read(&mut chunk) {
                                Ok(0) | Err(_) => break None,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let Some(head) = head else { return };
                        if !read_request(&mut stream, &mut buf) {
                            return;
                        }
                        let n = r.fetch_add(1, SeqCst);
                        let mut kept = h.lock().unwrap();
                        if kept.len() < 100 {
                            kept.push(head);
                        }
                        drop(kept);
                        let answer = format!(
                            "HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/{n:064x}\r\nContent-Length: 0\r\n\r\n"
                        );
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        HeadServer {
            addr,
            heads,
            requests,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The heads recorded so far.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}
