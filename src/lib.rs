//! mcload: a load-testing harness for the Media Collection API's session
//! endpoint (`POST {uri}/api/v1/sessions` with a `sessionStart` body).
//!
//! # Layout
//!
//! Each module owns one thing and uses only the ones listed above it:
//!
//! - [`spec`]: the API contract: the sessionStart param catalogue, the
//!   validity rules and rule sets, the mutation table, the endpoint path,
//!   the names of the outcome classes and of the contract's checks.
//! - [`threshold`]: the threshold grammar and the metrics it names, which
//!   [`scenario`] reads `[thresholds]` and `--threshold` with.
//! - [`scenario`]: the TOML scenario format, its defaults and its errors.
//! - [`generate`]: seeded, randomized bodies written into a reused buffer.
//! - [`schedule`]: when requests start (closed and open models).
//! - [`engine`]: threads, runtimes, connections, the HTTP/1.1 driver; every
//!   request ends in one [`engine::Outcome`] handed to a [`engine::Record`]er.
//!   It knows its target as an [`engine::Endpoint`], not as scenario settings.
//! - [`metrics`]: per-thread HdrHistograms, outcome counts and the
//!   per-second series, merged losslessly; it records, never judges or writes.
//! - [`checks`]: the response contract (status per body kind, `Location`,
//!   unique session ids), fed through the same recording trait.
//! - [`verdict`]: thresholds judged over the run or every window, the early
//!   stop, the causes that fail a run, and `compare`'s statistics over saved
//!   runs; it judges, never prints.
//! - [`report`]: every output: the text summary, the JSON report, the
//!   interval log, the progress line.
//! - [`reference`](mod@reference): the embedded reference server (`mcload serve`).
//! - [`run`]: a whole run as a library call returning a structured result;
//!   [`signals`] and [`progress`] watch it from outside.
//! - [`output`](mod@output): prints to stdout and stderr that never panic
//!   (a closed pipe ends a command quietly).
//! - [`commands`]: what each command does, wiring the modules above.
//! - [`cli`]: flags in, exit codes out.

pub mod checks;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod generate;
pub mod metrics;
pub mod output;
pub mod progress;
pub mod reference;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schedule;
pub mod signals;
pub mod spec;
pub mod threshold;
pub mod verdict;
