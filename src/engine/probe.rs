//! The start probe: before any load, resolve the target, set up TLS for
//! https, and open (then close) one connection, so a target that cannot be
//! reached is said at once, with nothing sent.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use super::{AnyTransport, Control, Endpoint, Plain, TargetError, Tls, Transport};

/// How often the start probe looks whether the run was stopped.
const PROBE_STOP_POLL: Duration = Duration::from_millis(20);

/// The longest the start probe waits for a connection (and its TLS
/// handshake) to one address: a target that accepts and never answers is
/// found out in seconds, not after a long request timeout.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves the target, sets up TLS for https (any certificate accepted
/// with `insecure`), and opens (then closes) one connection to prove the
/// target answers before any load starts, waiting at most `timeout` or
/// [`PROBE_TIMEOUT`], whichever is shorter. A stop through `control`
/// (Ctrl-C) ends the wait at once, the TLS handshake included.
pub fn connect_target(
    url: &Endpoint,
    ca_cert: Option<&Path>,
    insecure: bool,
    timeout: Duration,
    control: &Control,
) -> Result<AnyTransport, TargetError> {
    let timeout = timeout.min(PROBE_TIMEOUT);
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
        let transport = if url.tls {
            AnyTransport::Tls(Tls::new(addr, &url.host, ca_cert, insecure)?)
        } else {
            AnyTransport::Plain(Plain::new(addr))
        };
        if control.is_stopped() {
            return Err(TargetError::Stopped);
        }
        let attempt = runtime.block_on(async {
            let connect = async {
                match &transport {
                    AnyTransport::Plain(t) => t.connect().await.map(drop),
                    AnyTransport::Tls(t) => t.connect().await.map(drop),
                }
            };
            let stopped = async {
                while !control.is_stopped() {
                    tokio::time::sleep(PROBE_STOP_POLL).await;
                }
            };
            tokio::select! {
                attempt = tokio::time::timeout(timeout, connect) => Some(attempt),
                () = stopped => None,
            }
        });
        let Some(attempt) = attempt else {
            return Err(TargetError::Stopped);
        };
        match attempt {
            Ok(Ok(())) => return Ok(transport),
            Ok(Err(e)) => last_error = super::outcome::ConnectFailure(&e).to_string(),
            Err(_) => {
                last_error = format!(
                    "no answer within {} to a connection{} (the start probe waits --timeout or {}, whichever is shorter)",
                    humantime::format_duration(timeout),
                    if url.tls {
                        " and its TLS handshake"
                    } else {
                        ""
                    },
                    humantime::format_duration(PROBE_TIMEOUT),
                )
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
