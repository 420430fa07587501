//! Command-line parsing and exit codes, and nothing else: flags become the
//! commands' arguments, and results become mcload's exit codes here. Flags
//! are parsed for syntax only; the scenario's validation step checks their
//! ranges and how they combine, with the file's messages.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::commands::{self, run::JsonDest};
use crate::engine::Pacing;

mod help;
mod merge;
mod report;
use crate::reference::{Faults, Latency, Stall};
use crate::scenario::{
    self, FlagSettings, Ramp, ShardFlag, TargetUrl, parse_duration, parse_header, parse_number,
    parse_shard, parse_stages,
};

#[derive(Debug, Parser)]
#[command(
    name = "mcload",
    version,
    about = "Load tests for the Media Collection API's session endpoint (POST /api/v1/sessions)",
    after_help = "Examples:
  mcload run scenarios/smoke.toml                      run against the embedded reference server
  mcload run scenarios/smoke.toml --target http://127.0.0.1:8080 --json report.json
  mcload sample scenarios/reference.toml --count 3     print the bodies a run would send
  mcload report report.json --csv series.csv          show a saved run again; its per-second series
  mcload validate scenarios/*.toml                     check scenario files
  mcload serve --listen 127.0.0.1:8080                 start the reference endpoint

Exit codes: 0 ran and the verdict passed · 1 a threshold or check failed · 2 bad usage or input ·
3 target unreachable at start · 4 a report file could not be written after the run (the summary
still printed) · 130 interrupted (the report is still written)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process, so the size of the largest variant is no cost.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and report counts per outcome and latency.
    #[command(after_help = "Examples:
  mcload run scenarios/smoke.toml
  mcload run scenarios/smoke.toml --requests 10000 --concurrency 32 --json -
  mcload run scenarios/constant-rate.toml --rate 2000 --duration 30s --hlog run.hlog
  mcload run scenarios/ramp.toml --stages 100,10s:5000 --warmup 2s
  mcload run my.toml --target https://acme.hb-api.omtrdc.net --ca-cert ca.pem --duration 1m
  mcload run my.toml --target https://127.0.0.1:8443 --insecure   self-signed test server, unverified
  mcload run scenarios/smoke.toml --threshold \"latency.p99 < 250ms\" --threshold \"status.201 >= 99.5%\"
  mcload run scenarios/constant-rate.toml --junit junit.xml --json report.json
  mcload run scenarios/constant-rate.toml --html report.html   charts, opens offline
  mcload run my.toml --header 'Authorization: Bearer ${API_TOKEN}' --header 'X-Run: ci'
  mcload run scenarios/constant-rate.toml --duration 10m --metrics-listen 127.0.0.1:9464
  mcload run plan.toml --seed 42 --shard 1/3 --start-at 2026-11-30T17:00:00Z --json shard-1.json

Flags override the scenario file. --duration or --requests replaces the file's
stop rule as a whole. --concurrency chooses the closed model; --rate or --stages
the open model, where latency counts from each request's intended start. Without a target in the file or flags, mcload starts its
embedded reference server on 127.0.0.1 and checks its counts against mcload's.
The run exits 1 when a threshold fails; unless a threshold is on `unexpected`
(or the file says `[thresholds] defaults = false`), \"unexpected <= 1%\" applies.
The header prints when the load starts; in a log that is not a terminal, a
progress line follows every --progress-every. Under GitHub Actions, failed
thresholds are also ::error annotations, and the thresholds and verdict are
appended to $GITHUB_STEP_SUMMARY.

Report files (--json, --hlog, --junit, --html) are written to a temporary
file beside their destination and renamed into place when complete: a run
that fails leaves an earlier report as it was. Exit codes: 0 passed · 1 a
threshold or check failed · 2 bad input, nothing sent · 3 target unreachable
at start · 4 a report file could not be written after the run (the summary
still printed) · 130 interrupted.")]
    Run(RunFlags),
    /// Print the bodies `run` would send, one JSON document per line.
    #[command(after_help = "Examples:
  mcload sample scenarios/reference.toml
  mcload sample scenarios/smoke.toml --count 1000 --seed 7 | jq -c .params
  mcload sample scenarios/smoke.toml --invalid-share 1 --label --count 30 | cut -f1")]
    Sample(SampleFlags),
    /// Check scenario files; every problem names file, line, column and key.
    #[command(after_help = "Examples:
  mcload validate scenarios/*.toml")]
    Validate(ValidateFlags),
    /// Serve the reference sessions endpoint, for demos, tests and CI.
    #[command(after_help = help::SERVE)]
    Serve(ServeFlags),
    /// Compare two sets of saved runs (JSON reports); exit 1 on a regression.
    #[command(after_help = help::COMPARE)]
    Compare(CompareFlags),
    /// Show a saved run again (a JSON report): its summary, CSV, JSON, JUnit, HTML; judged again with --threshold.
    #[command(after_help = report::AFTER_HELP)]
    Report(report::ReportFlags),
    /// Merge the reports of every shard of a `run --shard K/N` into the whole's, judged on the whole.
    #[command(after_help = merge::AFTER_HELP)]
    Merge(merge::MergeFlags),
    /// Print the JSON Schema of the JSON report or of scenario files.
    #[command(after_help = "Examples:
  mcload schema report > report.schema.json
  mcload schema report | jq '.properties | keys'
  mcload schema scenario > schema/scenario.schema.json

The schema (JSON Schema draft 2020-12) describes the report `mcload run --json`
writes (`mcload.report/v1`): every key, which are always there, which may be
null. Later versions add keys and never rename these; the schema allows keys it
does not know, so an older copy still accepts a newer report.

`mcload schema scenario` prints the schema of scenario files (TOML read as
JSON): every key with its description and default; unknown keys are refused.
Editors with TOML support (Taplo, Even Better TOML) use it to complete and
check keys: see the README.")]
    Schema(SchemaFlags),
    /// Print a shell completion script for mcload.
    #[command(after_help = "Examples:
  mcload completions bash > ~/.local/share/bash-completion/completions/mcload
  mcload completions zsh > ~/.zfunc/_mcload        (with ~/.zfunc in $fpath)
  mcload completions fish > ~/.config/fish/completions/mcload.fish
  mcload completions powershell >> $PROFILE")]
    Completions(CompletionsFlags),
    /// Print mcload's man page (roff), every subcommand included.
    #[command(after_help = "Examples:
  mcload man > ~/.local/share/man/man1/mcload.1
  mcload man | man -l -")]
    Man,
}

#[derive(Debug, Args)]
struct RunFlags {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// Target base URL, e.g. http://127.0.0.1:8080 (requests go to URL + /api/v1/sessions).
    #[arg(long, value_name = "URL", value_parser = parse_target)]
    target: Option<TargetUrl>,
    /// Closed model: concurrent workers, each with its own connection.
    #[arg(long, value_name = "C", allow_negative_numbers = true,
        help = format!("Closed model: concurrent workers, each with its own connection [default: {}]", scenario::DEFAULT_CONCURRENCY))]
    concurrency: Option<i64>,
    /// Open model: start R requests per second, whatever the target does.
    #[arg(long, value_name = "R", value_parser = parse_number, allow_negative_numbers = true)]
    rate: Option<f64>,
    /// Open model, ramping: [START,]DURATION:RATE,... e.g. 100,5s:1000,10s:1000.
    #[arg(long, value_name = "SPEC", value_parser = parse_stages)]
    stages: Option<Ramp>,
    /// Open model: connections on the wire at most (default 64).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    connections: Option<i64>,
    /// Open model: requests waiting or on the wire at most; beyond it they are dropped (default 10000).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    max_in_flight: Option<i64>,
    /// Send for this long before measuring; those requests are reported apart.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    warmup: Option<Duration>,
    /// How long to send, e.g. 500ms, 30s, 2m.
    #[arg(long, value_name = "D", value_parser = parse_duration,
        help = format!("How long to send, e.g. 500ms, 30s, 2m [default: {} when neither the file nor --requests bounds the run]", humantime::format_duration(scenario::DEFAULT_DURATION)))]
    duration: Option<Duration>,
    /// Send exactly this many requests.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    requests: Option<i64>,
    /// Generator threads (default: one per core).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    threads: Option<i64>,
    /// Time one request may take before it counts as a timeout.
    #[arg(long, value_name = "D", value_parser = parse_duration,
        help = format!("Time one request may take before it counts as a timeout [default: {}]; the start probe waits at most {} for a connection", humantime::format_duration(scenario::DEFAULT_TIMEOUT), humantime::format_duration(crate::engine::PROBE_TIMEOUT)))]
    timeout: Option<Duration>,
    /// After the first Ctrl-C, how long requests on the wire may still take (at most the timeout) before they count as cancelled; a second Ctrl-C cancels them at once (default 5s).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    grace: Option<Duration>,
    /// Open model: how the scheduler wakes for its starts. `exact` wakes for every start (least send lag, most CPU); `batched:D` groups the starts due within a step D (each late by less than D) once a thread has at least two per step (default batched:200us).
    #[arg(long, value_name = "exact|batched[:D]", value_parser = str::parse::<Pacing>)]
    pacing: Option<Pacing>,
    /// Seed of the body generator: the same seed sends the same bodies.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// PEM file of extra CA certificates to trust for https targets (a
    /// server's own self-signed certificate given here is trusted as is).
    #[arg(long, value_name = "PATH")]
    ca_cert: Option<PathBuf>,
    /// Skip verifying the https target's certificate, on purpose (said in
    /// the header, the summary and the report).
    #[arg(long)]
    insecure: bool,
    /// Write the JSON report to PATH ('-' for stdout; the text summary then goes to stderr).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Share of bodies made invalid on purpose (0 to 1), each by a named mutation expecting 400.
    #[arg(long, value_name = "X", value_parser = parse_number, allow_negative_numbers = true)]
    invalid_share: Option<f64>,
    /// Write the per-second latency histograms as an HdrHistogram interval log.
    #[arg(long, value_name = "PATH")]
    hlog: Option<PathBuf>,
    /// A threshold the run must meet, besides the file's (repeatable):
    /// METRIC [over D] OP VALUE, e.g. "latency.p99 < 250ms", "status.201 >= 99.5%",
    /// "latency.p99 over 10s < 400ms", "rate > 500/s". Unless one is on `unexpected`,
    /// "unexpected <= 1%" applies too.
    #[arg(long = "threshold", value_name = "EXPR")]
    thresholds: Vec<String>,
    /// Write a JUnit XML report: one test case per threshold and per check.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write a self-contained HTML report with charts (no script, no
    /// network): verdict, summary, percentile spectra, per-second charts.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
    /// A request header, adding to or replacing the file's `[http.headers]`
    /// (repeatable): "Name: value". `${VAR}` in the value is read from the
    /// environment (`$${` writes a literal `${`). The values of credential
    /// headers (Authorization, Cookie, names with token/key/secret) are never shown.
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = HeaderParser)]
    headers: Vec<(String, String)>,
    /// When stderr is not a terminal (a CI log), print a progress line this often (0: none).
    #[arg(long, value_name = "D", default_value = "10s", value_parser = parse_duration)]
    progress_every: Duration,
    /// No progress line and no text summary.
    #[arg(long, short)]
    quiet: bool,
    /// Serve live metrics for Prometheus at http://ADDR/metrics while the run
    /// lasts (e.g. 127.0.0.1:9464; port 0 picks a free one, said on stderr).
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
    /// After the run, keep /metrics up until a scrape has read the final
    /// figures, at most this long (0s: stop at once).
    #[arg(long, value_name = "D", default_value = "15s", value_parser = parse_duration, requires = "metrics_listen")]
    metrics_linger: Duration,
    /// Send shard K of N of the plan (the requests i with i mod N = K; needs a
    /// seed); `auto` reads K from JOB_COMPLETION_INDEX and N from --shards.
    #[arg(long, value_name = "K/N|auto", value_parser = parse_shard)]
    shard: Option<ShardFlag>,
    /// The number of shards, for --shard auto.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    shards: Option<i64>,
    /// Start the plan at this instant: UTC RFC 3339 (2026-11-30T17:00:00Z) or +D from now (+30s).
    #[arg(long, value_name = "TIME", value_parser = |t: &str| crate::run::parse_start_at(t, std::time::SystemTime::now()))]
    start_at: Option<std::time::SystemTime>,
    /// With --start-at: how late this process may start before it exits 3 without sending.
    #[arg(long, value_name = "D", default_value = "1s", value_parser = parse_duration)]
    start_tolerance: Duration,
}

/// `--header`'s form; a mistake is said without repeating the value,
/// which may hold a secret (clap's own message would quote it).
#[derive(Clone)]
struct HeaderParser;

impl clap::builder::TypedValueParser for HeaderParser {
    type Value = (String, String);

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let fail = |message: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("--header: {message}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| fail("the header is not valid UTF-8".into()))?;
        parse_header(text).map_err(fail)
    }
}

impl RunFlags {
    /// The flags that override the scenario file.
    fn settings(&self) -> FlagSettings {
        FlagSettings {
            target: self.target.clone(),
            concurrency: self.concurrency,
            rate: self.rate,
            stages: self.stages.clone(),
            connections: self.connections,
            max_in_flight: self.max_in_flight,
            warmup: self.warmup,
            duration: self.duration,
            requests: self.requests,
            threads: self.threads,
            grace: self.grace,
            pacing: self.pacing,
            timeout: self.timeout,
            seed: self.seed,
            ca_cert: self.ca_cert.clone(),
            insecure: self.insecure,
            invalid_share: self.invalid_share,
            thresholds: self.thresholds.clone(),
            headers: self.headers.clone(),
            shard: self.shard,
            shards: self.shards,
        }
    }
}

#[derive(Debug, Args)]
struct SampleFlags {
    /// The scenario file (TOML).
    scenario: PathBuf,
    /// How many bodies to print.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 10)]
    count: u64,
    /// Seed of the body generator (default: the scenario's, else random).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Share of bodies made invalid on purpose (0 to 1), as `run --invalid-share`.
    #[arg(long, value_name = "X", value_parser = parse_number, allow_negative_numbers = true)]
    invalid_share: Option<f64>,
    /// Print `KIND<TAB>BODY` lines: `valid` or the mutation that broke the body.
    #[arg(long)]
    label: bool,
}

#[derive(Debug, Args)]
struct ValidateFlags {
    /// Scenario files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeFlags {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The rules bodies are judged by: `strict` enforces every rule (what
    /// Adobe's documentation states, the 2018 JSON schema's closed key sets
    /// and types, and mcload's value rules); `documented` only what the
    /// documentation states, so unknown keys pass and the "Sessions request"
    /// page's own sample body gets 201. docs/contract.md lists each rule.
    #[arg(
        long,
        value_name = "RULES",
        default_value = "strict",
        value_parser = clap::builder::TypedValueParser::try_map(
            clap::builder::PossibleValuesParser::new(["strict", "documented"]),
            |name| name.parse::<crate::spec::RuleSet>(),
        )
    )]
    rules: crate::spec::RuleSet,
    /// Share of valid requests answered 500 (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    error_rate: f64,
    /// Delay before every answer: fixed (20ms), uniform (uniform:5ms..50ms)
    /// or log-normal with a median and σ (lognormal:20ms,0.5; draws cut at 60s).
    #[arg(long, value_name = "DIST", value_parser = Latency::parse)]
    latency: Option<Latency>,
    /// Share of valid bodies wrongly answered 400 (a fault for mcload's checks).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    reject_valid: f64,
    /// Share of invalid bodies wrongly answered 201.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    accept_invalid: f64,
    /// Share of 201 answers whose Location names no session.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    bad_location: f64,
    /// Share of 201 answers that repeat a session id already given out.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    repeat_id: f64,
    /// Freeze every answer for LENGTH at the start of every PERIOD, e.g.
    /// 2s/10s (the first stall comes one period after the start).
    #[arg(long, value_name = "LENGTH/PERIOD", value_parser = Stall::parse)]
    stall: Option<Stall>,
    /// Share of requests answered by resetting the connection (TCP RST).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    reset_share: f64,
    /// Share of requests answered with bytes that are not HTTP, then a close.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    garbage_share: f64,
    /// Share of answers sent 8 bytes every 5ms (head and body), then a close.
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = parse_share)]
    trickle_share: f64,
    /// Say `Connection: close` on every answer and close the connection.
    #[arg(long)]
    close: bool,
    /// Server threads (default: one per core).
    #[arg(long, value_name = "T", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

#[derive(Debug, Args)]
struct CompareFlags {
    /// The base runs' JSON reports (`mcload run --json`).
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    base: Vec<PathBuf>,
    /// The candidate runs' JSON reports.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    cand: Vec<PathBuf>,
    /// A change smaller than this is no regression (`5%` or `0.05`).
    #[arg(long, value_name = "T", default_value = "5%", value_parser = parse_tolerance)]
    tolerance: f64,
    /// Compare only this metric (repeatable); default: latency p50/p90/p99/p999,
    /// service_time p50/p99, rate, unexpected and each check.
    #[arg(long = "metric", value_name = "NAME")]
    metrics: Vec<String>,
    /// The chance of any false regression across the table.
    #[arg(long, value_name = "A", default_value_t = 0.05, value_parser = parse_alpha)]
    alpha: f64,
    /// Exit 2 when the sides ran different scenarios, targets, models or versions.
    #[arg(long)]
    strict: bool,
    /// Inconclusive rows fail the comparison too (exit 1).
    #[arg(long)]
    fail_on_inconclusive: bool,
    /// Write the comparison as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write the comparison as a Markdown table to PATH.
    #[arg(long, value_name = "PATH")]
    markdown: Option<PathBuf>,
    /// Write a JUnit XML report to PATH: one test case per metric.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write a self-contained HTML page to PATH: the rows and the spectra
    /// of base and candidate overlaid.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SchemaFlags {
    /// The document whose schema to print.
    #[arg(value_enum, value_name = "DOCUMENT")]
    document: SchemaDocument,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum SchemaDocument {
    /// The JSON report of `mcload run --json` (`mcload.report/v1`).
    Report,
    /// Scenario files (TOML), for editors that check TOML against a schema.
    Scenario,
}

#[derive(Debug, Args)]
struct CompletionsFlags {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    shell: clap_complete::Shell,
}

fn parse_tolerance(text: &str) -> Result<f64, String> {
    let bad = || format!("{text:?} is not a tolerance: write a share such as 5% or 0.05");
    let value = match text.trim().strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => match text.trim().parse::<f64>() {
            Ok(x) if x <= 1.0 => x,
            _ => return Err(bad()),
        },
    };
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(bad())
    }
}

fn parse_alpha(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(a) if a > 0.0 && a < 1.0 => Ok(a),
        _ => Err(format!(
            "{text:?} is not a level between 0 and 1 (e.g. 0.05)"
        )),
    }
}

fn parse_target(text: &str) -> Result<TargetUrl, String> {
    TargetUrl::parse(text).map_err(|e| e.reason)
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{text:?} is not a share from 0 to 1 (0.01 means 1%)"
        )),
    }
}

/// Parses `args` and runs the command; the process exit code.
pub fn main_with(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's own exit codes: 0 for --help and --version, 2 for usage errors.
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    let result = match cli.command {
        Command::Run(f) => commands::run::run(&commands::run::RunArgs {
            flags: f.settings(),
            scenario: f.scenario,
            json: f.json.map(|p| {
                if p.as_os_str() == "-" {
                    JsonDest::Stdout
                } else {
                    JsonDest::File(p)
                }
            }),
            hlog: f.hlog,
            junit: f.junit,
            html: f.html,
            progress_every: f.progress_every,
            quiet: f.quiet,
            metrics_listen: f.metrics_listen,
            metrics_linger: f.metrics_linger,
            start_at: f.start_at.map(|at| crate::run::StartAt {
                at,
                tolerance: f.start_tolerance,
            }),
        }),
        Command::Sample(f) => commands::sample::sample(
            &commands::sample::SampleArgs {
                scenario: f.scenario,
                count: f.count,
                flags: FlagSettings {
                    seed: f.seed,
                    invalid_share: f.invalid_share,
                    ..FlagSettings::default()
                },
                label: f.label,
            },
            &mut std::io::stdout().lock(),
        ),
        Command::Validate(f) => commands::validate::validate(
            &f.files,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        ),
        Command::Serve(f) => commands::serve::serve(&commands::serve::ServeArgs {
            listen: f.listen,
            rules: f.rules,
            faults: Faults {
                error_rate: f.error_rate,
                latency: f.latency,
                reject_valid: f.reject_valid,
                accept_invalid: f.accept_invalid,
                bad_location: f.bad_location,
                repeat_id: f.repeat_id,
                stall: f.stall,
                reset_share: f.reset_share,
                garbage_share: f.garbage_share,
                trickle_share: f.trickle_share,
                close: f.close,
            },
            threads: f.threads.map(usize::from),
        }),
        Command::Compare(f) => commands::compare::compare(
            &commands::compare::CompareArgs {
                base: f.base,
                cand: f.cand,
                settings: crate::verdict::compare::Settings {
                    tolerance: f.tolerance,
                    alpha: f.alpha,
                },
                metrics: f.metrics,
                strict: f.strict,
                fail_on_inconclusive: f.fail_on_inconclusive,
                json: f.json,
                markdown: f.markdown,
                junit: f.junit,
                html: f.html,
            },
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        ),
        Command::Report(f) => commands::report::report(
            &f.args(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        ),
        Command::Merge(f) => commands::merge::merge(
            &f.args(),
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        ),
        Command::Schema(f) => commands::schema::schema(
            match f.document {
                SchemaDocument::Report => commands::schema::Document::Report,
                SchemaDocument::Scenario => commands::schema::Document::Scenario,
            },
            &mut std::io::stdout().lock(),
        ),
        Command::Completions(f) => commands::completions::completions(
            f.shell,
            <Cli as clap::CommandFactory>::command(),
            &mut std::io::stdout().lock(),
        ),
        Command::Man => commands::completions::man(
            <Cli as clap::CommandFactory>::command(),
            &mut std::io::stdout().lock(),
        ),
    };
    let exit = match result {
        Ok(exit) => exit,
        Err(failure) => {
            crate::output::eprintln(format_args!("mcload: {:#}", failure.error));
            failure.exit
        }
    };
    ExitCode::from(exit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The flags whose value falls back to the scenario's defaults show
    /// them, from the scenario's own constants.
    #[test]
    fn run_help_shows_the_scenario_defaults() {
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("run")
            .unwrap()
            .render_help()
            .to_string();
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in [
            format!("[default: {}]", scenario::DEFAULT_CONCURRENCY),
            format!(
                "[default: {} when",
                humantime::format_duration(scenario::DEFAULT_DURATION)
            ),
            format!(
                "timeout [default: {}]",
                humantime::format_duration(scenario::DEFAULT_TIMEOUT)
            ),
            "--insecure".to_string(),
            "4 a report file could not be written".to_string(),
        ] {
            assert!(flat.contains(&expected), "{expected}: {help}");
        }
    }

    #[test]
    fn flags_with_bad_syntax_are_refused_by_the_parser() {
        for args in [
            vec!["mcload", "run", "s.toml", "--duration", "soon"],
            vec!["mcload", "run", "s.toml", "--target", "ftp://x"],
            vec!["mcload", "run", "s.toml", "--rate", "fast"],
            vec!["mcload", "run", "s.toml", "--concurrency", "4.5"],
            vec!["mcload", "run", "s.toml", "--stages", "5s"],
            vec!["mcload", "serve", "--error-rate", "2"],
            vec!["mcload", "validate"],
        ] {
            let err = Cli::try_parse_from(&args).expect_err(&args.join(" "));
            assert_eq!(err.exit_code(), 2, "{}", args.join(" "));
        }
    }

    /// Values that parse but break a limit or a rule are refused by the
    /// scenario's validation step, naming the flag (and the command exits 2
    /// as for any bad scenario).
    #[test]
    fn flags_that_break_a_rule_are_refused_naming_the_flag() {
        for (args, flag) in [
            (vec!["--concurrency", "0"], "--concurrency"),
            (vec!["--concurrency", "-3"], "--concurrency"),
            (vec!["--requests", "0"], "--requests"),
            (vec!["--rate", "0"], "--rate"),
            (vec!["--rate", "10", "--concurrency", "4"], "--rate"),
            (vec!["--stages", "1s:10", "--duration", "1s"], "--duration"),
            (vec!["--threads", "5000"], "--threads"),
            (vec!["--invalid-share", "2"], "--invalid-share"),
        ] {
            let line = args.join(" ");
            let cli = Cli::try_parse_from(["mcload", "run", "s.toml"].into_iter().chain(args))
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            let Command::Run(f) = cli.command else {
                panic!("{line}: not a run")
            };
            let err = crate::scenario::Scenario::resolve_text("", "s.toml", None, &f.settings())
                .expect_err(&line);
            let flags: Vec<_> = err.problems().iter().map(|p| p.flag()).collect();
            assert_eq!(flags, [Some(flag)], "{line}: {err}");
            assert!(err.to_string().starts_with(&format!("{flag}: ")), "{err}");
        }
    }
}
