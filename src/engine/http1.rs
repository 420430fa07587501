//! A lean HTTP/1.1 client connection: the request goes out in one write
//! from the caller's buffer, the answer is parsed with `httparse` in a
//! reused buffer, and the body is skipped by its framing (Content-Length,
//! chunked, or close-delimited). No allocation per request once warm.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most bytes a response head may take.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
const INITIAL_BUFFER: usize = 8 * 1024;
const MAX_HEADERS: usize = 64;

/// Why an exchange failed.
#[derive(Debug)]
pub enum ExchangeError {
    /// Reset, broken pipe, or another I/O error.
    Io(std::io::Error),
    /// The peer closed the connection before the answer was complete.
    Closed,
    /// The answer is not HTTP/1.x or its framing is broken.
    Protocol(&'static str),
}

impl From<std::io::Error> for ExchangeError {
    fn from(e: std::io::Error) -> Self {
        ExchangeError::Io(e)
    }
}

/// What mcload keeps of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
}

/// How the body of an answer ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

/// One keep-alive connection.
pub struct Connection<S> {
    stream: S,
    buf: Vec<u8>,
    /// Bytes of `buf` holding data not yet consumed.
    filled: usize,
    reusable: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S) -> Self {
        Connection {
            stream,
            buf: vec![0; INITIAL_BUFFER],
            filled: 0,
            reusable: true,
        }
    }

    /// Whether another request may follow on this connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Sends one complete request and reads its answer.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Response, ExchangeError> {
        self.stream.write_all(request).await?;
        loop {
            let (status, head_len, framing) = self.read_head().await?;
            self.consume(head_len);
            // Interim answers (100 Continue, 103 Early Hints) precede the real one.
            if (100..200).contains(&status) {
                if status == 101 {
                    return Err(ExchangeError::Protocol(
                        "unexpected 101 Switching Protocols",
                    ));
                }
                continue;
            }
            let framing = match status {
                204 | 304 => Framing::Length(0),
                _ => framing,
            };
            match framing {
                Framing::Length(n) => self.skip_exact(n).await?,
                Framing::Chunked => self.skip_chunked().await?,
                Framing::UntilClose => {
                    self.reusable = false;
                    self.skip_to_close().await?;
                }
            }
            // Bytes after the answer were never asked for: the stream can no
            // longer be trusted to line up with requests.
            if self.filled > 0 {
                self.reusable = false;
            }
            return Ok(Response { status });
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
    }

    /// Reads more bytes into the buffer, growing it for a long head.
    async fn fill(&mut self) -> Result<usize, ExchangeError> {
        if self.filled == self.buf.len() {
            if self.buf.len() >= MAX_HEAD_BYTES {
                return Err(ExchangeError::Protocol("response head too large"));
            }
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.stream.read(&mut self.buf[self.filled..]).await?;
        self.filled += n;
        Ok(n)
    }

    async fn read_head(&mut self) -> Result<(u16, usize, Framing), ExchangeError> {
        loop {
            if self.filled > 0 {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&self.buf[..self.filled]) {
                    Ok(httparse::Status::Complete(head_len)) => {
                        let status = response.code.unwrap_or(0);
                        if !(100..=599).contains(&status) {
                            return Err(ExchangeError::Protocol("status code out of range"));
                        }
                        let version = response.version.unwrap_or(1);
                        let (framing, close) = framing(version, response.headers)?;
                        if close {
                            self.reusable = false;
                        }
                        return Ok((status, head_len, framing));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => {
                        return Err(ExchangeError::Protocol("too many response headers"));
                    }
                    Err(_) => return Err(ExchangeError::Protocol("malformed response head")),
                }
            }
            if self.fill().await? == 0 {
                return Err(ExchangeError::Closed);
            }
        }
    }

    async fn skip_exact(&mut self, mut remaining: u64) -> Result<(), ExchangeError> {
        loop {
            let take = remaining.min(self.filled as u64) as usize;
            self.consume(take);
            remaining -= take as u64;
            if remaining == 0 {
                return Ok(());
            }
            // The buffer is empty here: read straight into it.
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return Err(ExchangeError::Closed);
            }
            self.filled = n;
        }
    }

    async fn skip_to_close(&mut self) -> Result<(), ExchangeError> {
        self.filled = 0;
        while self.stream.read(&mut self.buf).await? > 0 {}
        Ok(())
    }

    /// Reads bytes until the buffer holds a complete line ending in CRLF;
    /// returns the line's length with the CRLF.
    async fn line(&mut self) -> Result<usize, ExchangeError> {
        loop {
            if let Some(i) = self.buf[..self.filled]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                return Ok(i + 2);
            }
            if self.fill().await? == 0 {
                return Err(ExchangeError::Closed);
            }
        }
    }

    async fn skip_chunked(&mut self) -> Result<(), ExchangeError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.buf[..self.filled]) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.consume(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) => {
                        if self.fill().await? == 0 {
                            return Err(ExchangeError::Closed);
                        }
                    }
                    Err(_) => return Err(ExchangeError::Protocol("bad chunk size")),
                }
            };
            if size == 0 {
                // Trailer fields, then the empty line that ends the message.
                loop {
                    let len = self.line().await?;
                    self.consume(len);
                    if len == 2 {
                        return Ok(());
                    }
                }
            }
            self.skip_exact(size).await?;
            let len = self.line().await?;
            if len != 2 {
                return Err(ExchangeError::Protocol("chunk data longer than its size"));
            }
            self.consume(2);
        }
    }
}

/// Reads the framing headers: how the body ends, and whether the server
/// closes the connection after this answer.
fn framing(
    version: u8,
    headers: &[httparse::Header<'_>],
) -> Result<(Framing, bool), ExchangeError> {
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut close = version == 0;
    for h in headers {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .map(str::trim)
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(ExchangeError::Protocol("invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(ExchangeError::Protocol(
                    "conflicting Content-Length headers",
                ));
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only "chunked" as the final coding frames the body.
            let last = h.value.rsplit(|&b| b == b',').next().unwrap_or_default();
            if last.trim_ascii().eq_ignore_ascii_case(b"chunked") {
                chunked = true;
            } else {
                return Err(ExchangeError::Protocol("unsupported Transfer-Encoding"));
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            for token in h.value.split(|&b| b == b',') {
                let token = token.trim_ascii();
                if token.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && version == 0 {
                    close = false;
                }
            }
        }
    }
    let framing = match (chunked, length) {
        // Chunked wins over a Content-Length, which must then be ignored
        // (RFC 9112 §6.3); such a server cannot be trusted to keep the
        // connection in step.
        (true, Some(_)) => return Err(ExchangeError::Protocol("both Content-Length and chunked")),
        (true, None) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::UntilClose,
    };
    Ok((framing, close))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    /// Runs one exchange against a peer that answers `answer` (written in
    /// pieces of `piece` bytes) and then keeps or closes the stream.
    async fn exchange_with(
        answer: &[u8],
        piece: usize,
        close_after: bool,
    ) -> (Result<Response, ExchangeError>, bool) {
        let (client, mut server) = duplex(1 << 16);
        let answer = answer.to_vec();
        let peer = tokio::spawn(async move {
            let mut request = vec![0u8; 5];
            server.read_exact(&mut request).await.unwrap();
            assert_eq!(&request, b"HELLO");
            for chunk in answer.chunks(piece) {
                // The client may rightly give up before the answer ends.
                if server.write_all(chunk).await.is_err() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            if !close_after {
                // Hold the stream open until the client is done.
                let mut rest = Vec::new();
                let _ = server.read_to_end(&mut rest).await;
            }
        });
        let mut conn = Connection::new(client);
        let result = conn.exchange(b"HELLO").await;
        let reusable = conn.is_reusable();
        drop(conn);
        peer.await.unwrap();
        (result, reusable)
    }

    fn status(r: &Result<Response, ExchangeError>) -> u16 {
        r.as_ref()
            .map(|r| r.status)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[tokio::test]
    async fn reads_a_content_length_answer_in_any_pieces() {
        let answer = b"HTTP/1.1 201 Created\r\nLocation: /api/v1/sessions/ab\r\nContent-Length: 5\r\n\r\nhello";
        for piece in [1, 3, 7, answer.len()] {
            let (r, reusable) = exchange_with(answer, piece, false).await;
            assert_eq!(status(&r), 201);
            assert!(reusable, "piece {piece}");
        }
    }

    #[tokio::test]
    async fn reads_chunked_bodies_with_extensions_and_trailers() {
        let answer = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\n";
        for piece in [1, 4, answer.len()] {
            let (r, reusable) = exchange_with(answer, piece, false).await;
            assert_eq!(status(&r), 400);
            assert!(reusable);
        }
    }

    #[tokio::test]
    async fn skips_interim_answers() {
        let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
        let (r, reusable) = exchange_with(answer, answer.len(), false).await;
        assert_eq!(status(&r), 500);
        assert!(reusable);
    }

    #[tokio::test]
    async fn a_body_without_framing_ends_at_close_and_ends_the_connection() {
        let answer = b"HTTP/1.1 201 Created\r\n\r\nsome body";
        let (r, reusable) = exchange_with(answer, 4, true).await;
        assert_eq!(status(&r), 201);
        assert!(!reusable);
    }

    #[tokio::test]
    async fn connection_close_and_http10_end_the_connection() {
        let (r, reusable) = exchange_with(
            b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            64,
            false,
        )
        .await;
        assert_eq!(status(&r), 201);
        assert!(!reusable);
        let (r, reusable) = exchange_with(
            b"HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n",
            64,
            false,
        )
        .await;
        assert_eq!(status(&r), 201);
        assert!(!reusable);
        let (r, reusable) = exchange_with(
            b"HTTP/1.0 201 Created\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            64,
            false,
        )
        .await;
        assert_eq!(status(&r), 201);
        assert!(reusable);
    }

    #[tokio::test]
    async fn extra_bytes_after_an_answer_end_the_connection() {
        let (r, reusable) = exchange_with(
            b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nGARBAGE",
            64,
            false,
        )
        .await;
        assert_eq!(status(&r), 201);
        assert!(!reusable);
    }

    #[tokio::test]
    async fn early_close_is_reported_as_closed() {
        for answer in [
            &b""[..],
            b"HTTP/1.1 201 Cre",
            b"HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\nabc",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ] {
            let (r, _) = exchange_with(answer, 64, true).await;
            assert!(matches!(r, Err(ExchangeError::Closed)), "{answer:?}: {r:?}");
        }
    }

    #[tokio::test]
    async fn broken_answers_are_protocol_errors() {
        for answer in [
            &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
            b"HTTP/1.1 20x OK\r\n\r\n",
            b"HTTP/1.1 999 Nope\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        ] {
            let (r, _) = exchange_with(answer, 64, true).await;
            assert!(
                matches!(r, Err(ExchangeError::Protocol(_))),
                "{:?}: {r:?}",
                String::from_utf8_lossy(answer)
            );
        }
    }

    #[tokio::test]
    async fn an_endless_head_is_refused_at_the_limit() {
        let mut answer = b"HTTP/1.1 201 Created\r\n".to_vec();
        while answer.len() < MAX_HEAD_BYTES + 100 {
            answer.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let (r, _) = exchange_with(&answer, 4096, true).await;
        assert!(matches!(r, Err(ExchangeError::Protocol(_))), "{r:?}");
    }

    #[tokio::test]
    async fn many_exchanges_reuse_one_connection() {
        let (client, mut server) = duplex(1 << 16);
        let peer = tokio::spawn(async move {
            let mut request = [0u8; 2];
            for i in 0..100u32 {
                server.read_exact(&mut request).await.unwrap();
                let answer = if i % 2 == 0 {
                    "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabc".to_string()
                } else {
                    "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n".to_string()
                };
                server.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let mut conn = Connection::new(client);
        for i in 0..100 {
            let r = conn.exchange(b"GO").await.unwrap();
            assert_eq!(r.status, if i % 2 == 0 { 201 } else { 400 });
            assert!(conn.is_reusable());
        }
        peer.await.unwrap();
    }
}
