//! The CA file a scenario names (`target.ca_cert`, `--ca-cert`): checked
//! by the validation step whatever the target's scheme, so a file that is
//! missing or holds no certificate is refused before anything runs (and by
//! `mcload validate`).

/// Whether a CA file can be read and holds PEM certificates that parse,
/// read as the TLS setup will read it (so a file `validate` accepts is one
/// the run can use).
pub(super) fn check(path: &std::path::Path) -> Result<(), String> {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    // A device named by mistake must not hang the check: only regular
    // files (or links to them) are read.
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read certificates from {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::scenario::{FlagSettings, Scenario};

    /// A folder of its own for a test's files.
    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mcload-scenario-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        dir
    }

    /// A CA file that is missing or holds no certificate is refused whatever
    /// the target's scheme (or with no target at all), in the file as by flag.
    #[test]
    fn a_ca_file_that_cannot_be_read_is_refused_whatever_the_scheme() {
        let dir = temp_dir("ca-missing");
        std::fs::write(dir.join("certs/empty.pem"), "no certificate here").unwrap();
        for target in [
            "",
            "url = \"http://127.0.0.1:8080\"\n",
            "url = \"https://127.0.0.1\"\n",
        ] {
            let e = Scenario::parse(
                &format!("[target]\n{target}ca_cert = \"missing.pem\""),
                "s.toml",
                Some(&dir),
            )
            .unwrap_err();
            let text = e.to_string();
            assert!(text.contains("target.ca_cert"), "{text}");
            assert!(
                text.contains(&format!(
                    "cannot read {}",
                    dir.join("missing.pem").display()
                )),
                "{text}"
            );
            let e = Scenario::parse(
                &format!("[target]\n{target}ca_cert = \"certs/empty.pem\""),
                "s.toml",
                Some(&dir),
            )
            .unwrap_err();
            assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
        }
        let flags = FlagSettings {
            ca_cert: Some("no/such/ca.pem".into()),
            ..FlagSettings::default()
        };
        let e = Scenario::resolve_text(
            "[target]\nurl = \"http://127.0.0.1:1\"\n",
            "s.toml",
            None,
            &flags,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("--ca-cert: cannot read no/such/ca.pem"),
            "{e}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
