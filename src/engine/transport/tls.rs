//! TLS (rustls): how the server's certificate is judged, and what a failed
//! handshake means in plain words.
//!
//! Verification is webpki's, against the system's roots and any `--ca-cert`
//! certificates, with two additions: a `--ca-cert` certificate that *is*
//! the server's own (a self-signed one, which webpki refuses as an end
//! entity, `CaUsedAsEndEntity`) is trusted as given, its host names still
//! checked; and `--insecure` accepts any certificate on purpose, still
//! checking that the handshake is signed by the certificate's key.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use tokio::net::TcpStream;

use super::{Arrival, Transport, tcp};

/// TLS over TCP.
#[derive(Clone)]
pub struct Tls {
    pub addr: SocketAddr,
    pub connector: tokio_rustls::TlsConnector,
    pub server_name: ServerName<'static>,
}

/// Records arrive decrypted, through rustls: only the moment of reading is
/// known.
impl Arrival for tokio_rustls::client::TlsStream<TcpStream> {}

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
    #[error(
        "no trusted root certificates: the system store is empty and no --ca-cert was given (give one, or --insecure to skip verification)"
    )]
    NoRoots,
}

impl Tls {
    /// A TLS transport for `host` at `addr`, trusting the system's roots and
    /// the certificates in `ca_cert` (PEM), if given; or, with `insecure`,
    /// any certificate.
    pub fn new(
        addr: SocketAddr,
        host: &str,
        ca_cert: Option<&Path>,
        insecure: bool,
    ) -> Result<Tls, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algorithms = provider.signature_verification_algorithms;
        let verifier: Arc<dyn ServerCertVerifier> = if insecure {
            Arc::new(AnyCertificate { algorithms })
        } else {
            let (roots, pinned) = roots(ca_cert)?;
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|_| TlsSetupError::NoRoots)?;
            Arc::new(Verified { webpki, pinned })
        };
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
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

/// The trusted roots (the system's and `ca_cert`'s) and `ca_cert`'s own
/// certificates.
type Roots = (Arc<rustls::RootCertStore>, Vec<CertificateDer<'static>>);

fn roots(ca_cert: Option<&Path>) -> Result<Roots, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    // Missing or unreadable system certificates are not fatal when a
    // private CA is given; they are when nothing at all can be trusted.
    let native = rustls_native_certs::load_native_certs();
    let _ = roots.add_parsable_certificates(native.certs);
    let mut pinned = Vec::new();
    if let Some(path) = ca_cert {
        let display = path.display().to_string();
        pinned = CertificateDer::pem_file_iter(path)
            .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsSetupError::CaFile {
                path: display.clone(),
                reason: e.to_string(),
            })?;
        if pinned.is_empty() {
            return Err(TlsSetupError::CaEmpty { path: display });
        }
        for cert in &pinned {
            roots.add(cert.clone()).map_err(|e| TlsSetupError::CaFile {
                path: display.clone(),
                reason: e.to_string(),
            })?;
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    Ok((Arc::new(roots), pinned))
}

/// webpki's verification, knowing the `--ca-cert` certificates themselves
/// and naming a self-signed certificate as such.
#[derive(Debug)]
struct Verified {
    webpki: Arc<WebPkiServerVerifier>,
    /// The `--ca-cert` file's certificates.
    pinned: Vec<CertificateDer<'static>>,
}

/// Marks a certificate that failed verification and is its own issuer.
#[derive(Debug, thiserror::Error)]
#[error("the certificate is self-signed")]
struct SelfSigned;

impl ServerCertVerifier for Verified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The very certificate the user gave to trust: webpki would refuse
        // a self-signed one as an end entity, so it is taken as given, its
        // names still checked.
        if self
            .pinned
            .iter()
            .any(|c| c.as_ref() == end_entity.as_ref())
        {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_name(&parsed, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map_err(|e| {
                let trust = matches!(
                    e,
                    rustls::Error::InvalidCertificate(
                        CertificateError::UnknownIssuer
                            | CertificateError::BadSignature
                            | CertificateError::Other(_)
                    )
                );
                if trust && intermediates.is_empty() && self_issued(end_entity) {
                    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(
                        Arc::new(SelfSigned),
                    )))
                } else {
                    e
                }
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `--insecure`: any certificate is accepted, on purpose. The handshake's
/// signatures are still checked against the certificate's key, so the
/// connection is at least with whoever holds that key.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// One DER element.
struct Element<'a> {
    tag: u8,
    contents: &'a [u8],
    /// The element, tag and length included.
    whole: &'a [u8],
    /// What follows it.
    rest: &'a [u8],
}

/// The DER element at the start of `input`.
fn der(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some(Element {
        tag,
        contents: &rest[..len],
        whole: &input[..header + len],
        rest: &rest[len..],
    })
}

/// Whether a certificate names itself as its issuer (X.509: the issuer
/// and subject of `tbsCertificate` are equal): a self-signed certificate.
fn self_issued(cert: &[u8]) -> bool {
    const SEQUENCE: u8 = 0x30;
    const VERSION: u8 = 0xa0;
    let sequence = |input| der(input).filter(|e| e.tag == SEQUENCE);
    let Some(tbs) = sequence(cert).and_then(|c| sequence(c.contents)) else {
        return false;
    };
    let mut fields = Vec::with_capacity(5);
    let mut rest = tbs.contents;
    while fields.len() < 5 {
        let Some(e) = der(rest) else {
            return false;
        };
        if !(fields.is_empty() && e.tag == VERSION) {
            fields.push(e.whole);
        }
        rest = e.rest;
    }
    // serialNumber, signature, issuer, validity, subject.
    fields[2] == fields[4]
}

/// A name as webpki presents it (`DnsName("localhost")`), bare.
fn bare_name(presented: &str) -> &str {
    presented
        .split_once('(')
        .and_then(|(_, inner)| inner.strip_suffix(')'))
        .map_or(presented, |inner| inner.trim_matches('"'))
}

/// What to do about a certificate that is not trusted.
const TRUST_ADVICE: &str =
    "give the CA that signed it with --ca-cert PATH, or skip verification with --insecure";

/// A TLS failure in plain words, with what to do about it; `None` when
/// `e` is not a TLS failure (a refused connection, a reset, a timeout).
/// For the start probe's message and for classing failures during a run.
pub fn tls_failure_text(e: &io::Error) -> Option<String> {
    let inner = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(describe_tls_error(inner))
}

/// A rustls error in plain words, with what to do about it.
pub fn describe_tls_error(e: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(cert) = e else {
        return match e {
            rustls::Error::InvalidMessage(_) => format!(
                "the TLS handshake failed ({e}): does the target speak https on this port, or is it http?"
            ),
            _ => format!("the TLS handshake failed: {e}"),
        };
    };
    let date = |t: &UnixTime| {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t.as_secs()))
    };
    match cert {
        CertificateError::Other(OtherError(other)) if other.is::<SelfSigned>() => {
            "the server's certificate is self-signed: give that certificate with --ca-cert PATH to trust it, or skip verification with --insecure".into()
        }
        CertificateError::UnknownIssuer => format!(
            "the server's certificate is signed by an unknown issuer (no trusted CA vouches for it): {TRUST_ADVICE}"
        ),
        CertificateError::BadSignature => format!(
            "the server's certificate has a bad signature (it is not signed by the CA it names): {TRUST_ADVICE}"
        ),
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "the server's certificate is for {}, not for {}: aim the target at one of its names, or skip verification with --insecure",
            if presented.is_empty() {
                "no host name".to_string()
            } else {
                presented.iter().map(|n| bare_name(n)).collect::<Vec<_>>().join(", ")
            },
            expected.to_str()
        ),
        CertificateError::NotValidForName => "the server's certificate is not for this host name: aim the target at one of its names, or skip verification with --insecure".into(),
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "the server's certificate expired on {}: renew it, or skip verification with --insecure",
            date(not_after)
        ),
        CertificateError::Expired => "the server's certificate has expired: renew it, or skip verification with --insecure".into(),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "the server's certificate is not valid until {} (is this machine's clock right?): skip verification with --insecure if it is",
            date(not_before)
        ),
        CertificateError::NotValidYet => "the server's certificate is not valid yet (is this machine's clock right?): skip verification with --insecure if it is".into(),
        _ => format!("the server's certificate is refused ({e}): {TRUST_ADVICE}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    #[test]
    fn a_certificate_is_self_issued_when_its_issuer_is_its_subject() {
        let key = KeyPair::generate().unwrap();
        let own = CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert!(self_issued(own.der()));
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "a test CA");
        let ca = ca.self_signed(&key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &key)
            .unwrap();
        assert!(!self_issued(leaf.der()));
        for broken in [&[][..], &[0x30, 0x82, 0xff], &own.der()[..40]] {
            assert!(!self_issued(broken));
        }
    }

    /// Each way a certificate is refused reads as what is wrong and what
    /// to do about it.
    #[test]
    fn certificate_failures_say_what_is_wrong_and_what_to_do() {
        let cert = |e| describe_tls_error(&rustls::Error::InvalidCertificate(e));
        let self_signed = cert(CertificateError::Other(OtherError(Arc::new(SelfSigned))));
        assert!(self_signed.contains("self-signed"), "{self_signed}");
        let unknown = cert(CertificateError::UnknownIssuer);
        assert!(unknown.contains("unknown issuer"), "{unknown}");
        let name = cert(CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("api.example.com").unwrap(),
            presented: vec!["DnsName(\"localhost\")".into(), "127.0.0.1".into()],
        });
        assert!(
            name.contains("is for localhost, 127.0.0.1, not for api.example.com"),
            "{name}"
        );
        let expired = cert(CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000)),
        });
        assert!(
            expired.contains("expired on 2023-11-14T22:13:20Z"),
            "{expired}"
        );
        let early = cert(CertificateError::NotValidYet);
        assert!(early.contains("not valid yet"), "{early}");
        for text in [&self_signed, &unknown, &name, &expired, &early] {
            assert!(text.contains("--insecure"), "{text}");
        }
        for text in [&self_signed, &unknown] {
            assert!(text.contains("--ca-cert PATH"), "{text}");
        }
        let other = describe_tls_error(&rustls::Error::General("odd".into()));
        assert!(other.contains("odd"), "rustls's own words: {other}");
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert_eq!(tls_failure_text(&wrapped), Some(unknown));
        assert_eq!(
            tls_failure_text(&io::ErrorKind::ConnectionReset.into()),
            None
        );
    }
}
