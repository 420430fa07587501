//! The transport seam: how a worker gets a connected byte stream. Plain TCP
//! and TLS (rustls) implement it; the HTTP/1.1 exchange runs over either.

mod stamp;
mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use rustix::net::{RecvFlags, SendFlags};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

pub use tls::{Tls, TlsSetupError, describe_tls_error, tls_failure_text};

/// Opens connections to the target.
pub trait Transport: Clone + 'static {
    type Stream: AsyncRead + AsyncWrite + Arrival + Unpin + 'static;

    /// This transport, with streams that stamp arrivals where it can. The
    /// open model asks for it: its send lag counts from when an answer
    /// freed the connection, and its batched pacing reads answers only on
    /// its grid. The closed model does not: its next request waits for the
    /// answer to be read anyway, and the stamps would cost it a few
    /// percent of its requests per CPU-second (`recvmsg` and its control
    /// message, and a wall-clock reading per answer).
    fn stamping_arrivals(self) -> Self {
        self
    }

    /// Connects (and for TLS, completes the handshake).
    fn connect(&self) -> impl Future<Output = io::Result<Self::Stream>>;
}

/// When the bytes a stream read last reached this host.
pub trait Arrival {
    /// The kernel's receive time of the last bytes read, as an instant
    /// placed against the moment of reading given, when the stream asked
    /// for it and the kernel gave it; `None` otherwise, and then the moment
    /// of reading is all there is.
    fn arrived(&self, _read_at: Instant) -> Option<Instant> {
        None
    }
}

async fn tcp(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    // Requests are written whole; Nagle would only delay them.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Plain TCP.
#[derive(Clone, Debug)]
pub struct Plain {
    pub addr: SocketAddr,
    stamp_arrivals: bool,
}

impl Plain {
    pub fn new(addr: SocketAddr) -> Plain {
        Plain {
            addr,
            stamp_arrivals: false,
        }
    }
}

impl Transport for Plain {
    type Stream = RawTcp;

    fn stamping_arrivals(self) -> Plain {
        Plain {
            stamp_arrivals: stamp::SUPPORTED,
            ..self
        }
    }

    async fn connect(&self) -> io::Result<RawTcp> {
        let stream = tcp(self.addr).await?;
        // Linux has had it since 2.6.22; should a sandbox refuse it, the
        // stream reads without stamps, and its answers end when read.
        let stamps = self.stamp_arrivals && stamp::enable(&stream).is_ok();
        Ok(RawTcp {
            stream,
            stamps,
            last: None,
        })
    }
}

/// A tokio TCP stream whose reads and writes are direct system calls
/// (rustix, or a raw `recvmsg`) rather than libc's `recv` and `send`, which
/// are thread cancellation points and wrap every call in two more.
/// Readiness is tokio's, exactly as for its own stream. When asked
/// ([`Transport::stamping_arrivals`]), each read also takes the kernel's
/// receive time of its bytes ([`Arrival`]).
pub struct RawTcp {
    stream: TcpStream,
    /// Whether reads take the receive time (`recvmsg`, dearer than `recv`).
    stamps: bool,
    /// The receive stamp of the last read since the last write, if it
    /// had one.
    last: Option<stamp::Stamp>,
}

impl Arrival for RawTcp {
    fn arrived(&self, now: Instant) -> Option<Instant> {
        self.last.and_then(|stamp| stamp::to_instant(stamp, now))
    }
}

impl AsyncRead for RawTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let stream = &this.stream;
        loop {
            ready!(stream.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            // `try_io` clears the readiness when the kernel says WouldBlock.
            let read = stream.try_io(Interest::READABLE, || {
                if this.stamps {
                    let (n, stamp) = stamp::recv(stream, unfilled)?;
                    if n > 0 {
                        this.last = stamp;
                    }
                    return Ok(n);
                }
                rustix::net::recv(stream, &mut *unfilled, RecvFlags::empty())
                    .map(|(n, _)| n)
                    .map_err(io::Error::from)
            });
            match read {
                Ok(n) => {
                    // Like tokio's own stream: a read that did not fill the
                    // buffer has drained the socket, so the next read waits
                    // for epoll instead of first trying a `recv` that can
                    // only say EAGAIN (one system call less per request).
                    // Nothing is missed: no readiness event can be handled
                    // between the read and this, and bytes or a FIN that
                    // arrive later bring a new one.
                    if n > 0 && n < unfilled.len() {
                        let _ = stream.try_io(Interest::READABLE, || {
                            Err::<(), _>(io::ErrorKind::WouldBlock.into())
                        });
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for RawTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // What is read from now on answers what is sent now.
        this.last = None;
        let stream = &this.stream;
        loop {
            ready!(stream.poll_write_ready(cx))?;
            // No SIGPIPE for a peer that has gone: the error is enough.
            let written = stream.try_io(Interest::WRITABLE, || {
                rustix::net::send(stream, buf, SendFlags::NOSIGNAL).map_err(io::Error::from)
            });
            match written {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
