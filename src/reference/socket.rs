//! The faults that go past hyper to the connection's socket: a reset, bytes
//! that are not HTTP, and an answer trickled a few bytes at a time. The
//! server keeps a duplicate of each connection's descriptor for them (only
//! when one of these faults is on); the handler then ends the connection
//! with [`Ended`], which makes hyper drop it without writing.

use std::io::{self, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Response;

/// What a handler returns to end its connection on purpose, unanswered.
#[derive(Debug, thiserror::Error)]
#[error("the connection was ended on purpose (a fault)")]
pub struct Ended;

/// What the server sends instead of an HTTP answer for `--garbage-share`.
pub const GARBAGE: &[u8] = b"\x00\x17\x03 this is not HTTP \xff\xfe\r\n\r\n";

/// Bytes per piece of a trickled answer.
pub const TRICKLE_PIECE: usize = 8;
/// The pause between pieces of a trickled answer.
pub const TRICKLE_GAP: Duration = Duration::from_millis(5);
/// A socket that takes no byte for this long is given up.
const WRITE_PATIENCE: Duration = Duration::from_secs(5);

/// Makes the connection end with a reset (RST) when it closes: a linger
/// time of zero drops what is unsent and resets instead of the orderly
/// FIN handshake.
pub fn reset_on_close(socket: &TcpStream) -> io::Result<()> {
    rustix::net::sockopt::set_socket_linger(socket.as_fd(), Some(Duration::ZERO))?;
    Ok(())
}

/// Writes `bytes` to the socket in pieces of `piece` bytes, `gap` apart.
/// The socket is non-blocking (tokio's): a full buffer is waited out.
pub async fn write_slowly(
    mut socket: &TcpStream,
    bytes: &[u8],
    piece: usize,
    gap: Duration,
) -> io::Result<()> {
    let mut rest = bytes;
    let mut last_progress = Instant::now();
    while !rest.is_empty() {
        let n = rest.len().min(piece);
        match socket.write(&rest[..n]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => {
                rest = &rest[written..];
                last_progress = Instant::now();
                if !rest.is_empty() && !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if last_progress.elapsed() > WRITE_PATIENCE {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// An answer as HTTP/1.1 bytes, saying `Connection: close` (the
/// connection closes after it).
pub async fn to_bytes(answer: Response<Full<Bytes>>) -> Vec<u8> {
    let (head, body) = answer.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let mut out = Vec::with_capacity(256 + body.len());
    let reason = head.status.canonical_reason().unwrap_or("");
    out.extend_from_slice(format!("HTTP/1.1 {} {reason}\r\n", head.status.as_u16()).as_bytes());
    for (name, value) in &head.headers {
        if name == hyper::header::CONNECTION || name == hyper::header::CONTENT_LENGTH {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_becomes_http_bytes_that_close_the_connection() {
        let answer = Response::builder()
            .status(201)
            .header("location", "/api/v1/sessions/ab")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let text = String::from_utf8(to_bytes(answer).await).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 201 Created\r\nlocation: /api/v1/sessions/ab\r\n\
             content-length: 2\r\nconnection: close\r\n\r\n{}"
        );
    }

    #[tokio::test]
    async fn a_slow_write_arrives_whole() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let text: Vec<u8> = (0..100u8).collect();
        write_slowly(&server, &text, 7, Duration::from_millis(1))
            .await
            .unwrap();
        drop(server);
        let mut got = Vec::new();
        io::Read::read_to_end(&mut &client, &mut got).unwrap();
        assert_eq!(got, text);
    }
}
