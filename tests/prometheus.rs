//! `run --metrics-listen`: `/metrics` during a run, a port in use, a real
//! Prometheus scraping a run, and the Grafana dashboard's queries.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{CountingServer, http, mcload, repo, scenario, temp_dir};

/// A scenario file named `name`, at 150 requests a second against `target`.
fn scenario_file(name: &str, target: &str) -> PathBuf {
    scenario(
        name,
        &format!(
            "name = \"{name}\"\n[target]\nurl = \"{target}\"\n[load]\nrate = 150\n[body]\nseed = 7\n"
        ),
    )
}

/// `mcload run` started with `--metrics-listen 127.0.0.1:0` and piped
/// stderr, and the address it said it serves `/metrics` on.
fn start_run(target: &str, args: &[&str], report: &Path) -> (Child, SocketAddr) {
    let file = scenario_file("prom", target);
    let mut child = mcload()
        .arg("run")
        .arg(&file)
        .args(["--metrics-listen", "127.0.0.1:0", "--quiet", "--json"])
        .arg(report)
        .args(args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stderr.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("mcload: metrics on http://")
        .and_then(|rest| rest.strip_suffix("/metrics"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    (child, addr)
}

/// The value of the series `name{...labels...}` whose labels include
/// every one of `want`, from a `/metrics` page.
fn series(page: &str, name: &str, want: &[&str]) -> f64 {
    let found: Vec<f64> = page
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| want.iter().all(|w| l.contains(w)))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{name} {want:?} in\n{page}");
    found[0]
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn metrics_answers_during_a_run_and_ends_with_the_reports_counts() {
    let server = CountingServer::start();
    let report = temp_dir("prom-live").join("r.json");
    let (mut child, addr) = start_run(
        &server.url(),
        &["--duration", "1500ms", "--metrics-linger", "10s"],
        &report,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    // Scrape until a request has ended, while the run goes on.
    let during = loop {
        let answer = http(addr, "GET", "/metrics", b"");
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let page = String::from_utf8(answer.body).unwrap();
        // Empty until the load starts, then labelled.
        if !page.is_empty() && series(&page, "mcload_outcomes_total", &[r#"status="201""#]) > 0.0 {
            break page;
        }
        assert!(Instant::now() < deadline, "no answer counted:\n{page}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(series(&during, "mcload_run_ended", &[]), 0.0);
    let labels = format!(r#"{{scenario="prom",target="{}"}}"#, server.url());
    assert!(
        during.contains(&format!("mcload_requests_started_total{labels} ")),
        "the run's labels on every series:\n{during}"
    );
    for line in during.lines().filter(|l| !l.starts_with('#')) {
        let (name_labels, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(
            name_labels.contains(r#"scenario="prom",target=""#),
            "{line}"
        );
    }
    assert_eq!(
        http(addr, "GET", "/other", b"").status,
        404,
        "only /metrics is served"
    );
    // After the run: the final figures, then the endpoint stops (the
    // linger ends with this scrape, long before its 10 s).
    let last = loop {
        let page = String::from_utf8(http(addr, "GET", "/metrics", b"").body).unwrap();
        if series(&page, "mcload_run_ended", &[]) == 1.0 {
            break page;
        }
        assert!(Instant::now() < deadline, "the run never ended:\n{page}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let waited = Instant::now();
    let status = child.wait().unwrap();
    assert!(waited.elapsed() < Duration::from_secs(5), "lingered on");
    assert_eq!(status.code(), Some(1), "the 503s fail the default verdict");
    let json = read_json(&report);
    let count = |pointer: &str| json.pointer(pointer).unwrap().as_u64().unwrap() as f64;
    let outcome = |want: &[&str]| series(&last, "mcload_outcomes_total", want);
    assert_eq!(outcome(&[r#"status="201""#]), count("/status/201"));
    assert_eq!(outcome(&[r#"status="500""#]), count("/status/500"));
    assert_eq!(outcome(&[r#"status="other""#]), count("/status/other/503"));
    assert_eq!(outcome(&[r#"class="timeout""#]), count("/errors/timeout"));
    assert_eq!(outcome(&[r#"class="dropped""#]), count("/dropped"));
    assert_eq!(
        series(&last, "mcload_latency_seconds_count", &[]),
        count("/requests/completed")
    );
    assert_eq!(series(&last, "mcload_in_flight", &[]), 0.0);
    assert_eq!(
        series(&last, "mcload_requests_started_total", &[]),
        server.counts.requests.load(SeqCst) as f64,
        "every request started reached the server"
    );
}

#[test]
fn a_metrics_port_in_use_is_bad_input_before_any_request_is_sent() {
    let server = CountingServer::start();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let file = scenario_file("prom-busy", &server.url());
    let report = temp_dir("prom-busy").join("r.json");
    let output = mcload()
        .arg("run")
        .arg(&file)
        .args(["--requests", "20", "--metrics-listen", &addr, "--json"])
        .arg(&report)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot serve /metrics on {addr} (--metrics-listen)"
        )) && stderr.contains("choose a free port"),
        "names the flag, the address and the fix: {stderr}"
    );
    assert_eq!(server.counts.requests.load(SeqCst), 0, "nothing was sent");
    assert!(!report.exists(), "no report of a run that did not happen");
}

/// Without a scrape of the final figures, the wait after the run ends
/// after `--metrics-linger`, or at once on SIGTERM, with the run's exit code.
#[test]
fn the_wait_for_a_final_scrape_ends_after_the_linger_or_on_a_signal() {
    let server = CountingServer::start();
    let report = temp_dir("prom-linger").join("r.json");
    let started = Instant::now();
    let (mut child, _) = start_run(
        &server.url(),
        &["--requests", "20", "--metrics-linger", "400ms"],
        &report,
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the 500s of the server fail it");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(read_json(&report)["requests"]["scheduled"], 20);

    let report = temp_dir("prom-signal").join("r.json");
    let (mut child, _) = start_run(
        &server.url(),
        &["--requests", "20", "--metrics-linger", "60s"],
        &report,
    );
    // The report is written once the signals of the wait are watched.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !report.exists() {
        assert!(Instant::now() < deadline, "no report");
        std::thread::sleep(Duration::from_millis(20));
    }
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "still waiting"
    );
    assert_eq!(status.code(), Some(1), "the run's exit code");
}

/// The page's outcomes, summed over every class.
fn outcomes(page: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with("mcload_outcomes_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[test]
fn an_interrupted_run_ends_its_page_with_every_request_accounted_for() {
    let server = CountingServer::start();
    let report = temp_dir("prom-interrupt").join("r.json");
    let (mut child, addr) = start_run(
        &server.url(),
        &["--duration", "20s", "--metrics-linger", "10s"],
        &report,
    );
    let scrape = || String::from_utf8(http(addr, "GET", "/metrics", b"").body).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while outcomes(&scrape()) < 50.0 {
        assert!(Instant::now() < deadline, "the load never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let last = loop {
        let page = scrape();
        if series(&page, "mcload_run_ended", &[]) == 1.0 {
            break page;
        }
        assert!(Instant::now() < deadline, "the run never ended:\n{page}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let json = read_json(&report);
    assert_eq!(json["interrupted"], true);
    assert_eq!(
        outcomes(&last),
        json["requests"]["scheduled"].as_u64().unwrap() as f64,
        "one outcome for every request"
    );
    assert_eq!(series(&last, "mcload_in_flight", &[]), 0.0);
}

/// A free port on 127.0.0.1, for a program that needs one named.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Percent-encodes a query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A Prometheus server started for one test, killed on drop.
struct Prometheus {
    addr: SocketAddr,
    child: Child,
    log: PathBuf,
}

impl Prometheus {
    fn start(dir: &Path, scrape: SocketAddr) -> Prometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: mcload\n    static_configs:\n      - targets: ['{scrape}']\n"
            ),
        )
        .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = dir.join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut prometheus = Prometheus { addr, child, log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !prometheus.ready() {
            assert!(
                Instant::now() < deadline,
                "prometheus not ready: {}",
                std::fs::read_to_string(&prometheus.log).unwrap_or_default()
            );
            if let Ok(Some(status)) = prometheus.child.try_wait() {
                panic!(
                    "prometheus exited ({status}): {}",
                    std::fs::read_to_string(&prometheus.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        prometheus
    }

    fn ready(&self) -> bool {
        std::net::TcpStream::connect(self.addr).is_ok()
            && http(self.addr, "GET", "/-/ready", b"").status == 200
    }

    /// The one value an instant query answers, if it answers one.
    fn query(&self, query: &str) -> Option<f64> {
        let path = format!("/api/v1/query?query={}", encode(query));
        let answer = http(self.addr, "GET", &path, b"");
        let json: Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(json["status"], "success", "{query}: {json}");
        let result = json["data"]["result"].as_array()?;
        match result.as_slice() {
            [one] => one["value"][1].as_str()?.parse().ok(),
            [] => None,
            many => panic!("{query} answers {} series: {json}", many.len()),
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The final value Prometheus holds for a counter of the run: the target
/// is gone after the run, so its series are stale now and only a range
/// query still reads them.
fn last(prometheus: &Prometheus, selector: &str) -> f64 {
    prometheus
        .query(&format!("max(max_over_time({selector}[5m]))"))
        .unwrap_or_else(|| panic!("Prometheus holds no {selector}"))
}

#[test]
fn a_real_prometheus_scraping_every_second_holds_the_reports_counts() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("MCLOAD_REQUIRE_PROMETHEUS").is_none(),
            "MCLOAD_REQUIRE_PROMETHEUS is set but `prometheus` is not on PATH"
        );
        eprintln!("skipped: `prometheus` is not on PATH (apt-get install prometheus)");
        return;
    }
    let server = CountingServer::start();
    let dir = temp_dir("prometheus");
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prometheus = Prometheus::start(&dir, metrics);
    let file = scenario_file("prom-real", &server.url());
    let report = dir.join("r.json");
    let started = Instant::now();
    let output = mcload()
        .arg("run")
        .arg(&file)
        .args(["--duration", "2500ms", "--quiet", "--json"])
        .arg(&report)
        .args(["--metrics-listen", &metrics.to_string()])
        .args(["--metrics-linger", "10s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "the 503s fail it: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "a scrape ended the linger"
    );
    // The last scrape is stored just after it was answered.
    let deadline = Instant::now() + Duration::from_secs(10);
    while prometheus
        .query("max_over_time(mcload_run_ended[5m])")
        .is_none_or(|ended| ended < 1.0)
    {
        assert!(
            Instant::now() < deadline,
            "Prometheus never saw the run end"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let json = read_json(&report);
    let count = |pointer: &str| json.pointer(pointer).unwrap().as_u64().unwrap() as f64;
    let outcome = |labels: &str| last(&prometheus, &format!("mcload_outcomes_total{{{labels}}}"));
    assert!(count("/status/201") > 100.0, "{json}");
    assert_eq!(
        outcome(r#"class="status",status="201""#),
        count("/status/201")
    );
    assert_eq!(
        outcome(r#"class="status",status="500""#),
        count("/status/500")
    );
    assert_eq!(
        outcome(r#"class="status",status="other""#),
        count("/status/other/503")
    );
    assert_eq!(outcome(r#"class="timeout""#), count("/errors/timeout"));
    assert_eq!(outcome(r#"class="dropped""#), count("/dropped"));
    assert_eq!(
        prometheus
            .query("sum(max_over_time(mcload_outcomes_total[5m]))")
            .unwrap(),
        count("/requests/scheduled"),
        "every request, in one outcome"
    );
    assert_eq!(
        last(&prometheus, "mcload_latency_seconds_count"),
        count("/requests/completed")
    );
    assert_eq!(
        last(&prometheus, "mcload_requests_started_total"),
        server.counts.requests.load(SeqCst) as f64
    );
    let labelled = prometheus
        .query(&format!(
            r#"count(max_over_time(mcload_requests_started_total{{job="mcload",scenario="prom-real",target="{}"}}[5m]))"#,
            server.url()
        ))
        .unwrap();
    assert_eq!(labelled, 1.0, "the run's labels reach Prometheus");
}

/// Every metric name a PromQL expression uses (`mcload_…`), a histogram's
/// series names cut back to the histogram's.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("mcload_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| b.ends_with("_seconds"))
            .unwrap_or(name);
        names.push(base.to_string());
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_mcload_exports() {
    let path = repo().join("examples/grafana/mcload-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    let panels = dashboard["panels"].as_array().expect("a list of panels");
    let mut titles = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("every panel has a title");
        titles.push(title.to_lowercase());
        let targets = panel["targets"].as_array().expect("every panel queries");
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            let expr = target["expr"].as_str().expect("a PromQL expression");
            let names = metric_names(expr);
            assert!(!names.is_empty(), "{title}: {expr} names no mcload metric");
            for name in names {
                assert!(
                    mcload::report::prometheus::METRIC_NAMES.contains(&name.as_str()),
                    "{title}: {expr} names {name}, which mcload does not export"
                );
            }
        }
    }
    for wanted in ["rate", "outcomes", "in flight", "latency", "errors"] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "no panel on {wanted}: {titles:?}"
        );
    }
    assert!(
        panels.iter().any(|p| p["targets"]
            .to_string()
            .contains("histogram_quantile(0.99, ")),
        "latency quantiles come from the histogram"
    );
    assert_eq!(
        metric_names("rate(mcload_latency_seconds_bucket[1m])"),
        ["mcload_latency_seconds"]
    );
}
