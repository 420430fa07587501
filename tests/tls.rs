use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

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
    let (ca_file, leaf, leaf_key) = signed_by_a_ca(&["localhost", "127.0.0.1"]);
    let (port, state, runtime) = serve_tls(leaf, leaf_key);
    (port, ca_file, state, runtime)
}

/// A certificate for `names` signed by a CA made here: the CA's PEM file,
/// the certificate and its key.
fn signed_by_a_ca(names: &[&str]) -> (std::path::PathBuf, CertificateDer<'static>, KeyPair) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mcload test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf = CertificateParams::new(names)
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();

    let ca_file = temp_dir("tls").join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    (ca_file, leaf.der().clone(), leaf_key)
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, marked as a
/// CA or not (`openssl req -x509` marks it as one): its PEM file, the
/// certificate and its key.
fn self_signed(is_ca: bool) -> (std::path::PathBuf, CertificateDer<'static>, KeyPair) {
    let mut params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "mcload self-signed test server");
    if is_ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let file = temp_dir("tls-self").join("server.pem");
    std::fs::write(&file, cert.pem()).unwrap();
    (file, cert.der().clone(), key)
}

/// The reference server over TLS with `cert`, on 127.0.0.1: its port, its
/// state and the runtime it runs on.
fn serve_tls(
    cert: CertificateDer<'static>,
    key: KeyPair,
) -> (
    u16,
    Arc<mcload::reference::ServerState>,
    tokio::runtime::Runtime,
) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
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
    (port, state, runtime)
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

fn run_binary(args: &[&str]) -> (Option<i32>, String, String) {
    let out = crate::util::mcload()
        .arg("run")
        .args(args)
        .current_dir(crate::util::repo())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A self-signed certificate (marked as a CA, as `openssl req -x509`
/// makes it, or not) is named as such, with what to do, and nothing is
/// sent; a report from before is left as it was.
#[test]
fn a_self_signed_certificate_is_named_with_the_advice_and_exits_3() {
    for is_ca in [true, false] {
        let (_, cert, key) = self_signed(is_ca);
        let (port, state, _runtime) = serve_tls(cert, key);
        let report = temp_dir("tls-self-report").join("p.json");
        std::fs::write(&report, "earlier").unwrap();
        let target = format!("https://127.0.0.1:{port}");
        let (code, stdout, stderr) = run_binary(&[
            "scenarios/smoke.toml",
            "--target",
            &target,
            "--json",
            report.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(3), "{stderr}");
        assert!(
            stderr.contains("the server's certificate is self-signed"),
            "is_ca {is_ca}: {stderr}"
        );
        assert!(stderr.contains("--ca-cert PATH"), "{stderr}");
        assert!(stderr.contains("--insecure"), "{stderr}");
        assert!(!stderr.contains("CaUsedAsEndEntity"), "{stderr}");
        assert!(stdout.is_empty(), "nothing ran: {stdout}");
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "earlier");
        assert_eq!(state.stats.snapshot().requests, 0);
    }
}

/// `--insecure` runs against a self-signed server, and says so in the
/// header, the summary and the report; `target.insecure` does the same.
#[test]
fn insecure_runs_against_a_self_signed_server_and_says_so() {
    let (_, cert, key) = self_signed(true);
    let (port, state, _runtime) = serve_tls(cert, key);
    let target = format!("https://127.0.0.1:{port}");
    let (code, stdout, stderr) = run_binary(&[
        "scenarios/smoke.toml",
        "--target",
        &target,
        "--requests",
        "20",
        "--insecure",
        "--json",
        "-",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    crate::util::assert_valid_report(&json);
    assert_eq!(json["insecure"], true);
    assert_eq!(json["status"]["201"], 20);
    assert!(
        stderr.contains("(certificate NOT verified: --insecure)"),
        "header: {stderr}"
    );
    assert!(stderr.contains("INSECURE: "), "summary: {stderr}");
    assert_eq!(state.stats.snapshot().created, 20);

    let run = execute(&format!(
        "[target]\nurl = \"{target}\"\ninsecure = true\n[load]\nconcurrency = 2\nrequests = 10\n"
    ));
    assert_eq!(run.code(), 0, "{}", run.stderr());
    assert_eq!(run.json["insecure"], true);
    assert!(run.stdout().contains("INSECURE: "), "{}", run.stdout());
}

/// The server's own self-signed certificate given as `--ca-cert` is
/// trusted (rustls alone refuses it as a CA used as an end entity), its
/// host names still checked.
#[test]
fn the_servers_own_certificate_given_as_ca_is_trusted_for_its_names() {
    let (file, cert, key) = self_signed(true);
    let (port, state, _runtime) = serve_tls(cert, key);
    for host in ["127.0.0.1", "localhost"] {
        let run = execute(&format!(
            "[target]\nurl = \"https://{host}:{port}\"\nca_cert = {:?}\n[load]\nconcurrency = 2\nrequests = 10\n",
            file.to_str().unwrap()
        ));
        assert_eq!(run.code(), 0, "{host}: {}", run.stderr());
        assert_eq!(run.json["insecure"], false);
    }
    assert_eq!(state.stats.snapshot().created, 20);
}

/// A certificate for other names: the error names both sides.
#[test]
fn a_certificate_for_another_host_name_names_the_names() {
    let (ca_file, leaf, key) = signed_by_a_ca(&["localhost"]);
    let (port, state, _runtime) = serve_tls(leaf, key);
    let target = format!("https://127.0.0.1:{port}");
    let (code, _, stderr) = run_binary(&[
        "scenarios/smoke.toml",
        "--target",
        &target,
        "--ca-cert",
        ca_file.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains("the server's certificate is for localhost, not for 127.0.0.1"),
        "{stderr}"
    );
    assert!(stderr.contains("--insecure"), "{stderr}");
    assert_eq!(state.stats.snapshot().requests, 0);
}

/// A `--ca-cert` that does not exist is bad input (2) whatever the
/// target's scheme, and `validate` refuses it in a file.
#[test]
fn a_missing_ca_file_exits_2_even_for_an_http_target() {
    let server = crate::util::CountingServer::start();
    let (code, stdout, stderr) = run_binary(&[
        "scenarios/smoke.toml",
        "--target",
        &server.url(),
        "--ca-cert",
        "no/such/ca.pem",
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--ca-cert: cannot read no/such/ca.pem"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
    let file = scenario("tls-missing-ca", "[target]\nca_cert = \"missing.pem\"\n");
    let out = crate::util::mcload()
        .arg("validate")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.pem"), "{stderr}");
}

/// A listener that accepts connections and never answers: the TLS
/// handshake waits forever. Returns the port; the thread lives on.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// An https target that accepts and never answers fails the start probe
/// within its own short limit, not the request timeout.
#[test]
fn a_silent_https_target_fails_the_start_probe_within_5s() {
    let port = silent_server();
    let started = std::time::Instant::now();
    let (code, _, stderr) = run_binary(&[
        "scenarios/smoke.toml",
        "--target",
        &format!("https://127.0.0.1:{port}"),
        "--timeout",
        "60s",
    ]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert!(stderr.contains("no answer within 5s"), "{stderr}");
}

/// Ctrl-C while the start probe waits on a silent https target ends the
/// command at once with 130: signals are watched from the start.
#[test]
fn ctrl_c_during_the_https_start_probe_exits_130_promptly() {
    let port = silent_server();
    let child = crate::util::mcload()
        .args(["run", "scenarios/smoke.toml", "--target"])
        .arg(format!("https://127.0.0.1:{port}"))
        .current_dir(crate::util::repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let sent = std::time::Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(2),
        "promptly"
    );
    assert!(stderr.contains("nothing was sent"), "{stderr}");
}
