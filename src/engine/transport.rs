//! The transport seam: how a worker gets a connected byte stream. Plain TCP
//! and TLS (rustls) implement it; the HTTP/1.1 exchange runs over either.

mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use rustix::net::{RecvFlags, SendFlags};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

pub use tls::{Tls, TlsSetupError, describe_tls_error, tls_failure_text};

/// Opens connections to the target.
pub trait Transport: Clone + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + 'static;

    /// Connects (and for TLS, completes the handshake).
    fn connect(&self) -> impl Future<Output = io::Result<Self::Stream>>;
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
}

impl Transport for Plain {
    type Stream = RawTcp;

    async fn connect(&self) -> io::Result<RawTcp> {
        tcp(self.addr).await.map(RawTcp)
    }
}

/// A tokio TCP stream whose reads and writes are direct system calls
/// (rustix) rather than libc's `recv` and `send`, which are thread
/// cancellation points and wrap every call in two more. Readiness is
/// tokio's, exactly as for its own stream.
pub struct RawTcp(TcpStream);

impl AsyncRead for RawTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let stream = &self.0;
        loop {
            ready!(stream.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            // `try_io` clears the readiness when the kernel says WouldBlock.
            let read = stream.try_io(Interest::READABLE, || {
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
        let stream = &self.0;
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
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
