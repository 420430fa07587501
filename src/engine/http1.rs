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
    /// The bytes received and not yet consumed are `buf[start..end]`.
    /// Consuming moves `start`, so nothing is copied per step; the buffer
    /// is compacted only when it is full.
    start: usize,
    end: usize,
    reusable: bool,
    /// The last answer's `Location` value, copied out of the head.
    location: Vec<u8>,
    has_location: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S) -> Self {
        Connection {
            stream,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            end: 0,
            reusable: true,
            location: Vec::with_capacity(128),
            has_location: false,
        }
    }

    /// The `Location` header of the last answer, if it had one.
    pub fn location(&self) -> Option<&[u8]> {
        self.has_location.then_some(self.location.as_slice())
    }

    /// The stream the connection runs on.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Whether another request may follow on this connection.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Sends one complete request and reads its answer.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<Response, ExchangeError> {
        self.stream.write_all(request).await?;
        // A no-op on TCP; TLS may hold encrypted bytes until flushed.
        self.stream.flush().await?;
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
            if self.start < self.end {
                self.reusable = false;
            }
            return Ok(Response { status });
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more bytes; makes room by compacting, then by growing up to
    /// [`MAX_HEAD_BYTES`] for what must be held whole (a head or a line).
    async fn fill(&mut self) -> Result<usize, ExchangeError> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else if self.buf.len() >= MAX_HEAD_BYTES {
                return Err(ExchangeError::Protocol("response head or line too large"));
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }

    async fn read_head(&mut self) -> Result<(u16, usize, Framing), ExchangeError> {
        // How far the pending bytes are known to hold no empty line, so a
        // head arriving in pieces is scanned once and parsed once; `None`
        // before the first try. The first try parses the first bytes read
        // at once, since a head mostly arrives whole and the parser finds
        // its end faster than a scan. Only its success counts: anything
        // else sends the bytes through the scan from the start, so an
        // answer is judged the same however it was split. (A head that
        // starts with its status line ends at its first empty line for
        // the parser as for the scan; leading empty lines go to the scan.)
        let mut scanned: Option<usize> = None;
        loop {
            // Borrowing the buffer field alone leaves the others free to set.
            let pending = &self.buf[self.start..self.end];
            let first_try = scanned.is_none();
            let head = match scanned {
                None => pending
                    .first()
                    .is_some_and(|b| !matches!(b, b'\r' | b'\n'))
                    .then_some(pending),
                Some(scanned) => find_empty_line(pending, scanned).map(|at| &pending[..at]),
            };
            if let Some(head) = head {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(head) {
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
                        self.has_location = false;
                        if let Some(h) = response
                            .headers
                            .iter()
                            .find(|h| h.name.eq_ignore_ascii_case("location"))
                        {
                            self.location.clear();
                            self.location.extend_from_slice(h.value);
                            self.has_location = true;
                        }
                        return Ok((status, head_len, framing));
                    }
                    _ if first_try => {}
                    Ok(httparse::Status::Partial) => {
                        return Err(ExchangeError::Protocol("malformed response head"));
                    }
                    Err(httparse::Error::TooManyHeaders) => {
                        return Err(ExchangeError::Protocol("too many response headers"));
                    }
                    Err(_) => return Err(ExchangeError::Protocol("malformed response head")),
                }
            }
            if first_try && !pending.is_empty() {
                scanned = Some(0);
                continue;
            }
            if scanned.is_some() {
                scanned = Some(pending.len());
            }
            if self.fill().await? == 0 {
                return Err(ExchangeError::Closed);
            }
        }
    }

    async fn skip_exact(&mut self, mut remaining: u64) -> Result<(), ExchangeError> {
        loop {
            let take = remaining.min(self.pending().len() as u64) as usize;
            self.consume(take);
            remaining -= take as u64;
            if remaining == 0 {
                return Ok(());
            }
            // Nothing is pending here: read straight into the whole buffer.
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return Err(ExchangeError::Closed);
            }
            self.start = 0;
            self.end = n;
        }
    }

    async fn skip_to_close(&mut self) -> Result<(), ExchangeError> {
        self.start = 0;
        self.end = 0;
        loop {
            match self.stream.read(&mut self.buf).await {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                // A TLS peer that closes TCP without close_notify still ended
                // a close-delimited body.
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits until the pending bytes hold a whole line; its length with CRLF.
    async fn line(&mut self) -> Result<usize, ExchangeError> {
        let mut scanned: usize = 0;
        loop {
            let pending = self.pending();
            let from = scanned.saturating_sub(1);
            if let Some(i) = pending[from..].windows(2).position(|w| w == b"\r\n") {
                return Ok(from + i + 2);
            }
            scanned = pending.len();
            if self.fill().await? == 0 {
                return Err(ExchangeError::Closed);
            }
        }
    }

    async fn skip_chunked(&mut self) -> Result<(), ExchangeError> {
        loop {
            let len = self.line().await?;
            let line = &self.pending()[..len];
            // httparse reads an empty size as 0, which would end the body.
            if !line.first().is_some_and(u8::is_ascii_hexdigit) {
                return Err(ExchangeError::Protocol("bad chunk size"));
            }
            let size = match httparse::parse_chunk_size(line) {
                Ok(httparse::Status::Complete((_, size))) => size,
                _ => return Err(ExchangeError::Protocol("bad chunk size")),
            };
            self.consume(len);
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

/// The end of the first empty line in `bytes` (the end of a head), looking
/// only at bytes from `scanned` on (with a little overlap for a line break
/// split between reads). Accepts CRLF and bare LF line ends.
fn find_empty_line(bytes: &[u8], scanned: usize) -> Option<usize> {
    let from = scanned.saturating_sub(3);
    let mut i = from;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'\n') {
        let nl = i + offset;
        match bytes.get(nl + 1) {
            Some(b'\n') => return Some(nl + 2),
            Some(b'\r') if bytes.get(nl + 2) == Some(&b'\n') => return Some(nl + 3),
            _ => i = nl + 1,
        }
    }
    None
}

/// Reads the framing headers: how the body ends, and whether the server
/// closes the connection after this answer.
fn framing(
    version: u8,
    headers: &[httparse::Header<'_>],
) -> Result<(Framing, bool), ExchangeError> {
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut close = false;
    let mut keep_alive = false;
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
                close |= token.eq_ignore_ascii_case(b"close");
                keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        }
    }
    // "close" wins over "keep-alive"; HTTP/1.0 closes unless it keeps alive.
    let close = close || (version == 0 && !keep_alive);
    if version == 0 && chunked {
        // RFC 9112 §6.1: chunked framing in a 1.0 message is faulty.
        return Err(ExchangeError::Protocol("chunked in an HTTP/1.0 answer"));
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
            // An empty or digit-less size line is not the last chunk.
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n\r\n\r\n",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n\r\n",
            // Chunked framing is HTTP/1.1 only.
            b"HTTP/1.0 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
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
    async fn an_answer_is_judged_the_same_however_it_is_split() {
        for (answer, closed) in [
            // A bad header line, then the server hangs up.
            (&b"HTTP/1.1 200 OK\r\nBad Header\r\n"[..], true),
            // Empty lines before the status line.
            (
                b"\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
                false,
            ),
            (b"HTTP/1.1 201 Created\r\nBad Header\r\n\r\n", false),
        ] {
            let mut seen = Vec::new();
            for piece in [1, 2, 4, answer.len()] {
                let (r, _) = exchange_with(answer, piece, true).await;
                seen.push(match r {
                    Ok(r) => format!("status {}", r.status),
                    Err(ExchangeError::Closed) => "closed".to_string(),
                    Err(ExchangeError::Protocol(_)) => "protocol".to_string(),
                    Err(ExchangeError::Io(e)) => format!("io {e}"),
                });
            }
            let expected = if closed { "closed" } else { "protocol" };
            assert!(
                seen.iter().all(|s| s == expected),
                "{:?}: {seen:?}",
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
    async fn close_wins_over_keep_alive() {
        for answer in [
            &b"HTTP/1.0 201 Created\r\nConnection: close, keep-alive\r\nContent-Length: 0\r\n\r\n"[..],
            b"HTTP/1.1 201 Created\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        ] {
            let (r, reusable) = exchange_with(answer, 64, false).await;
            assert_eq!(status(&r), 201);
            assert!(!reusable, "{}", String::from_utf8_lossy(answer));
        }
    }

    #[tokio::test]
    async fn heads_with_bare_line_feeds_are_read() {
        let (r, reusable) =
            exchange_with(b"HTTP/1.1 201 Created\nContent-Length: 2\n\nok", 1, false).await;
        assert_eq!(status(&r), 201);
        assert!(reusable);
    }

    #[tokio::test]
    async fn the_request_is_flushed_through_a_buffering_stream() {
        // TLS holds written bytes like a BufWriter does; without a flush the
        // request would never leave and the exchange would hang.
        let (client, mut server) = duplex(1 << 16);
        let peer = tokio::spawn(async move {
            let mut request = vec![0u8; 5];
            server.read_exact(&mut request).await.unwrap();
            server
                .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            let mut rest = Vec::new();
            let _ = server.read_to_end(&mut rest).await;
        });
        let mut conn = Connection::new(tokio::io::BufWriter::new(client));
        let answer =
            tokio::time::timeout(std::time::Duration::from_secs(5), conn.exchange(b"HELLO"))
                .await
                .expect("the request reached the peer");
        assert_eq!(status(&answer), 201);
        drop(conn);
        peer.await.unwrap();
    }

    #[tokio::test]
    async fn a_long_chunked_body_in_small_chunks_reuses_the_buffer() {
        let mut answer = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..20_000 {
            answer.extend_from_slice(b"1\r\nx\r\n");
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        let (r, reusable) = exchange_with(&answer, 4096, false).await;
        assert_eq!(status(&r), 201);
        assert!(reusable);
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

#[cfg(test)]
#[path = "http1_props.rs"]
mod props;
