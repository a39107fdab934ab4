//! Helpers shared by the integration tests: certificates from rcgen, bundles on disk, a clean
//! environment.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::path::PathBuf;

/// A self-signed CA certificate named `name`, as PEM.
pub fn ca_pem(name: &str) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.self_signed(&key).unwrap().pem()
}

/// A well-formed PEM block whose DER (`SEQUENCE { INTEGER 0 }`) is not a certificate.
pub const UNPARSABLE_CERT_PEM: &str =
    "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

/// A fresh, empty directory private to this test process.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("native-roots-cache-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Forget the machine's `SSL_CERT_FILE`/`SSL_CERT_DIR`: each test sets exactly what it means.
/// Call it first, before any other thread exists in the test binary.
pub fn clear_cert_env() {
    std::env::remove_var("SSL_CERT_FILE");
    std::env::remove_var("SSL_CERT_DIR");
}
