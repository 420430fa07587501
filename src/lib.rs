//! mcload: a load-testing harness for the Media Collection API's session
//! endpoint (`POST {uri}/api/v1/sessions` with a `sessionStart` body).
//!
//! # Layout
//!
//! Each module owns one thing and uses only the ones listed above it:
//!
//! - [`spec`]: the sessionStart param catalogue and validity rules, shared by
//!   the generator and the reference server.
//! - [`scenario`]: the TOML scenario format, its defaults and its errors.
//! - [`generate`]: seeded, randomized, valid bodies written into a reused buffer.
//! - [`schedule`]: when requests start (the closed model's arithmetic).
//! - [`engine`]: threads, runtimes, connections, the HTTP/1.1 driver; every
//!   request ends in one [`engine::Outcome`] handed to a [`engine::Record`]er.
//! - [`metrics`]: per-thread HdrHistograms and counters, merged losslessly.
//! - [`report`]: the text summary and the JSON report.
//! - [`target`]: the embedded reference server (`mcload serve`).
//! - [`commands`]: what each command does, wiring the modules above.
//! - [`cli`]: flags in, exit codes out.

pub mod cli;
pub mod commands;
pub mod engine;
pub mod generate;
pub mod metrics;
pub mod reference;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod spec;
