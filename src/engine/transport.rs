//! The transport seam: how a worker gets a connected byte stream. Plain TCP
//! and TLS (rustls) implement it; the HTTP/1.1 exchange runs over either.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustix::net::{RecvFlags, SendFlags};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

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

/// TLS over TCP, verified against the system's roots plus any extra CA.
#[derive(Clone)]
pub struct Tls {
    pub addr: SocketAddr,
    pub connector: tokio_rustls::TlsConnector,
    pub server_name: ServerName<'static>,
}

impl Transport for Tls {
    type Stream = tokio_rustls::client::TlsStream<TcpStream>;

    async fn connect(&self) -> io::Result<Self::Stream> {
        let stream = tcp(self.addr).await?;
        self.connector
            .connect(self.server_name.clone(), stream)
            .await
    }
}

/// Why a TLS client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot read CA certificates from {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("{path} holds no PEM certificate")]
    CaEmpty { path: String },
    #[error("{host:?} is not a valid TLS server name")]
    ServerName { host: String },
    #[error("no trusted root certificates: the system store is empty and no --ca-cert was given")]
    NoRoots,
}

impl Tls {
    /// A TLS transport for `host` at `addr`, trusting the system's roots and
    /// the certificates in `ca_cert` (PEM), if given.
    pub fn new(addr: SocketAddr, host: &str, ca_cert: Option<&Path>) -> Result<Tls, TlsSetupError> {
        let mut roots = rustls::RootCertStore::empty();
        // Missing or unreadable system certificates are not fatal when a
        // private CA is given; they are when nothing at all can be trusted.
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        if let Some(path) = ca_cert {
            let display = path.display().to_string();
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<_, _>>())
                .map_err(|e| TlsSetupError::CaFile {
                    path: display.clone(),
                    reason: e.to_string(),
                })?;
            if certs.is_empty() {
                return Err(TlsSetupError::CaEmpty { path: display });
            }
            for cert in certs {
                roots.add(cert).map_err(|e| TlsSetupError::CaFile {
                    path: display.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        if roots.is_empty() {
            return Err(TlsSetupError::NoRoots);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let server_name =
            ServerName::try_from(host.to_string()).map_err(|_| TlsSetupError::ServerName {
                host: host.to_string(),
            })?;
        Ok(Tls {
            addr,
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name,
        })
    }
}
