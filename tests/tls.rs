use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::util::{assert_accounted, execute, scenario, temp_dir};

/// An HTTPS reference server on 127.0.0.1 with a certificate for
/// `localhost` and `127.0.0.1`, signed by a CA made here. Returns its port,
/// the CA's PEM file and the server's state.
fn https_server() -> (
    u16,
    std::path::PathBuf,
    Arc<mcload::reference::ServerState>,
    tokio::runtime::Runtime,
) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mcload test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();

    let ca_file = temp_dir("tls").join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = mcload::reference::ServerState::new(
        mcload::spec::RuleSet::Strict,
        mcload::reference::Faults::default(),
    );
    let served = state.clone();
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, state) = (acceptor.clone(), served.clone());
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake.
                if let Ok(tls) = acceptor.accept(stream).await {
                    mcload::reference::serve_connection(tls, state).await;
                }
            });
        }
    });
    (port, ca_file, state, runtime)
}

#[test]
fn an_https_target_is_verified_against_the_given_ca() {
    let (port, ca_file, state, _runtime) = https_server();
    for host in ["127.0.0.1", "localhost"] {
        let before = state.stats.snapshot();
        let run = execute(&format!(
            "[target]\nurl = \"https://{host}:{port}\"\nca_cert = {:?}\n\
             [load]\nconcurrency = 4\nrequests = 400\n",
            ca_file.to_str().unwrap()
        ));
        assert_eq!(run.code(), 0, "{}", run.stderr());
        assert_accounted(&run);
        assert_eq!(run.count("/status/201"), 400);
        let after = state.stats.snapshot();
        assert_eq!(
            after.created - before.created,
            400,
            "the server saw every request over TLS"
        );
        assert!(run.json["target"].as_str().unwrap().starts_with("https://"));
    }
}

#[test]
fn an_untrusted_certificate_exits_3_before_any_load() {
    let (port, _ca_file, state, _runtime) = https_server();
    let s = scenario("tls-untrusted", "");
    let out = crate::util::mcload()
        .args([
            "run",
            s.to_str().unwrap(),
            "--target",
            &format!("https://127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert_eq!(state.stats.snapshot().requests, 0);
}
