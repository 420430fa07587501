//! mcload's integration tests: one binary, one module per area. Tests of a
//! run's numbers call the library (`mcload::run::execute`) in-process;
//! tests of the command-line surface (flags, exit codes, output, signals)
//! drive the `mcload` binary as a user would. Any server a test needs runs
//! on 127.0.0.1 with an ephemeral port.

/// Running `mcload compare`.
mod compare_util;
/// Running the binary, scenario files, and test servers.
mod util;

/// Invalid bodies by mutation, and the response checks against servers
/// that misbehave on purpose.
mod checks;
/// Output in CI logs: header at start, plain progress, GitHub Actions.
mod ci_output;
/// `mcload compare`: saved runs judged against each other.
mod compare;
/// `mcload completions SHELL` and `mcload man`.
mod completions;
/// Exit codes and messages for bad input and unreachable targets.
mod errors;
/// Honest figures: the measured window, the warm-up's own, no made-up latency.
mod figures;
/// `--header`, `${VAR}` in header values, and credentials kept out of the output.
mod headers;
/// Targets that misbehave or die: every request still accounted for.
mod hostile;
/// Hostile input to mcload itself: huge or binary scenario files, long
/// lines, closed pipes.
mod hostile_input;
/// `--html`: the report rendered by headless Chromium, charts drawn, offline.
mod html_report;
/// Ctrl-C and SIGTERM (and the library's interrupt): exit 130 with a
/// complete report.
mod interrupt;
/// File-descriptor limits: refused before sending, or raised.
mod limits;
/// The open model: rates, ramps, coordinated omission, warm-up, series, hlog.
mod open_model;
/// Report files: written whole or not at all, and exit 4 when one cannot be.
mod outputs;
/// `run --metrics-listen`: `/metrics` during a run, a real Prometheus
/// scraping it, and the Grafana dashboard's queries.
mod prometheus;
/// Property tests: hostile input never panics and errors say where.
mod properties;
/// `mcload report`: saved reports read back, judged again, and written as
/// text, JSON, JUnit and CSV.
mod report_command;
/// Runs against the embedded reference server: the README's first command.
mod run_embedded;
/// Runs against servers the tests start, that are not the reference one.
mod run_external;
/// `mcload sample` and `mcload validate`.
mod sample_validate;
/// The scenario files' JSON Schema: the checked-in copy, the shipped
/// scenarios valid against it, editors wired to it.
mod scenario_schema;
/// The report's JSON Schema: the checked-in copy, and what it accepts.
mod schema;
/// `mcload serve`: the reference endpoint's answers, faults and counts.
mod serve;
/// `mcload serve`'s faults of the connection: latency, stalls, resets,
/// garbage, trickled answers, `Connection: close`.
mod serve_faults;
/// Sharded runs: `--shard K/N`, a shared `--start-at`, the plan's keys.
mod shard;
/// Thresholds and the default verdict: judged, shown, and mistakes refused.
mod thresholds;
/// https targets with a certificate made in the test.
mod tls;
