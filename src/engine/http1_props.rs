//! Property tests of the HTTP/1.1 answer parser: any bytes, in any
//! pieces, end in an answer or an error (never a panic, never a wait on a
//! peer that has closed), and the verdict does not depend on how the bytes
//! were split. Test-only; `.ci/run` runs them with `PROPTEST_CASES=4096`.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use proptest::prelude::*;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Connection, ExchangeError};

/// A peer that takes the request and answers with `pieces`, one read
/// each, then closes.
struct Pieces(VecDeque<Vec<u8>>);

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(mut piece) = self.0.pop_front() {
            let n = piece.len().min(buf.remaining());
            buf.put_slice(&piece[..n]);
            if n < piece.len() {
                self.0.push_front(piece.split_off(n));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Pieces {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The verdict on `answer` cut at `cuts`, as one comparable word. (Whether
/// the connection stays reusable may rightly differ: bytes after the answer
/// end it only when they came in the same read.)
fn verdict(answer: &[u8], cuts: &[usize]) -> String {
    let mut pieces = VecDeque::new();
    let mut start = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (answer.len() + 1)).collect();
    cuts.sort_unstable();
    for cut in cuts.into_iter().chain([answer.len()]) {
        if cut > start {
            pieces.push_back(answer[start..cut].to_vec());
            start = cut;
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut conn = Connection::new(Pieces(pieces));
        match conn.exchange(b"GET / HTTP/1.1\r\n\r\n").await {
            Ok(r) => format!("status {}", r.status),
            Err(ExchangeError::Closed) => "closed".into(),
            Err(ExchangeError::Protocol(why)) => format!("protocol: {why}"),
            Err(ExchangeError::Io(e)) => format!("io: {e}"),
        }
    })
}

fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// Answers that are nearly HTTP: a status line, headers from a list that
/// decides the framing (some broken), and a body that may or may not fit.
fn http_ish() -> impl Strategy<Value = Vec<u8>> {
    let status_line = prop_oneof![
        prop::sample::select(
            &[
                "HTTP/1.1 201 Created",
                "HTTP/1.1 200 OK",
                "HTTP/1.0 500 Internal Server Error",
                "HTTP/1.1 100 Continue",
                "HTTP/1.1 103 Early Hints",
                "HTTP/1.1 101 Switching Protocols",
                "HTTP/1.1 204 No Content",
                "HTTP/1.1 304 Not Modified",
                "HTTP/2 200",
                "HTTP/1.1 999 What",
                "HTTP/1.1 20 Short",
                "",
            ][..]
        )
        .prop_map(String::from),
        "HTTP/1\\.[01] [0-9]{1,4}[ a-zA-Z]{0,8}",
    ];
    let header = prop_oneof![
        (0u64..200).prop_map(|n| format!("Content-Length: {n}")),
        any::<u64>().prop_map(|n| format!("Content-Length: {n}")),
        prop::sample::select(
            &[
                "Content-Length: -1",
                "Content-Length: 1, 2",
                "Content-Length: ",
                "Content-Length: 99999999999999999999999",
                "Transfer-Encoding: chunked",
                "Transfer-Encoding: gzip, chunked",
                "Transfer-Encoding: gzip",
                "Connection: close",
                "Connection: keep-alive",
                "Location: /api/v1/sessions/abc",
                "Location: ",
                "Bad Header",
                " folded: line",
                "X: \u{7f}",
            ][..]
        )
        .prop_map(String::from),
        "[A-Za-z-]{1,10}: [ -~]{0,20}",
    ];
    let chunk = prop_oneof![
        (0usize..40).prop_map(|n| format!("{n:x}\r\n{}\r\n", "a".repeat(n))),
        "[0-9a-fA-F;= xz]{0,10}\r\n".prop_map(String::from),
        Just("0\r\n\r\n".to_string()),
        Just("0\r\nTrailer: x\r\n\r\n".to_string()),
        Just("ffffffffffffffffff\r\n".to_string()),
    ];
    let line_end = prop::sample::select(&["\r\n", "\n", "\r"][..]);
    (
        status_line,
        prop::collection::vec(header, 0..6),
        line_end,
        prop_oneof![
            "[a-z]{0,60}".prop_map(String::from),
            prop::collection::vec(chunk, 0..5).prop_map(|c| c.concat()),
        ],
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(|(status, headers, end, body, tail)| {
            let mut out = status.into_bytes();
            out.extend_from_slice(end.as_bytes());
            for h in headers {
                out.extend_from_slice(h.as_bytes());
                out.extend_from_slice(end.as_bytes());
            }
            out.extend_from_slice(end.as_bytes());
            out.extend_from_slice(body.as_bytes());
            out.extend_from_slice(&tail);
            out
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_bytes_in_any_pieces_end_in_one_verdict(
        answer in prop::collection::vec(any::<u8>(), 0..300),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = verdict(&answer, &[]);
        prop_assert_eq!(verdict(&answer, &cuts), whole);
    }

    #[test]
    fn nearly_http_answers_in_any_pieces_end_in_one_verdict(
        answer in http_ish(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = verdict(&answer, &[]);
        let split = verdict(&answer, &cuts);
        prop_assert_eq!(&split, &whole, "{:?}", String::from_utf8_lossy(&answer));
        let bytewise: Vec<usize> = (0..answer.len()).collect();
        prop_assert_eq!(verdict(&answer, &bytewise), whole);
    }
}
