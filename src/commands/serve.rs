//! `mcload serve`: the reference endpoint, standing alone.

use std::net::SocketAddr;

use anyhow::Context as _;

use super::{CommandResult, Exit, Failure};
use crate::output;
use crate::reference::{self, Faults, ServerState};

/// The arguments of `mcload serve`.
#[derive(Clone, Debug)]
pub struct ServeArgs {
    pub listen: SocketAddr,
    /// The rules bodies are judged by.
    pub rules: crate::spec::RuleSet,
    pub faults: Faults,
    /// Runtime worker threads; `None` means one per core.
    pub threads: Option<usize>,
}

/// Serves until Ctrl-C or SIGTERM, then prints its counts.
pub fn serve(args: &ServeArgs) -> CommandResult {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads);
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the runtime")
        .map_err(Failure::unreachable)?;
    let state = ServerState::new(args.rules, args.faults.clone());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.listen))
        .with_context(|| format!("cannot listen on {}", args.listen))
        .map_err(Failure::unreachable)?;
    let addr = listener.local_addr().map_err(Failure::unreachable)?;
    // A closed stdout (`mcload serve | head -1`) must not stop the server:
    // what it prints is for people, and write errors are let go.
    output::println(format_args!(
        "mcload serve: listening on http://{addr}\n  \
         POST http://{addr}/api/v1/sessions   GET http://{addr}/stats\n  \
         rules: {} ({})",
        args.rules,
        args.rules.summary()
    ));
    if let Some(faults) = args.faults.describe() {
        output::println(format_args!("  faults: {faults}"));
    }
    let served = state.clone();
    runtime
        .block_on(async move {
            let mut terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            let shutdown = async move {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            };
            reference::serve(listener, served, shutdown).await;
            Ok::<_, std::io::Error>(())
        })
        .context("cannot watch signals")
        .map_err(Failure::unreachable)?;
    output::println(format_args!(
        "mcload serve: stopped; counts {}",
        state.stats.snapshot().to_json()
    ));
    Ok(Exit::Ok)
}
