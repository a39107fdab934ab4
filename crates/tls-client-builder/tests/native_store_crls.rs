//! The CRLs the native store holds, as OpenSSL finds them: `X509 CRL` sections in the bundle
//! (`SSL_CERT_FILE`) and `HASH.rN` files in the directory (`SSL_CERT_DIR`), beside the
//! certificates. Its own binary, because its subject is the environment variables: the test
//! runs in a child of its own (`test_pki::alone`), given both variables at its start.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use rustls::CertificateError;
use test_pki::{Ca, ServerOptions, exchange, provider, spawn_server, write_settled};
use tls_client_builder::{ClientConfigCache, CrlSource, Crls, Revocation, Trust, UpstreamTls};

#[test]
fn hash_r0_files_and_crl_sections_of_the_bundle_are_found_in_the_native_store() {
    let test = "hash_r0_files_and_crl_sections_of_the_bundle_are_found_in_the_native_store";
    if !test_pki::alone(test, |dir| {
        vec![
            ("SSL_CERT_FILE", dir.join("bundle.pem").into()),
            ("SSL_CERT_DIR", dir.join("certs").into()),
        ]
    }) {
        return;
    }
    let next = SystemTime::now() + Duration::from_secs(30 * 86_400);
    let in_bundle = Ca::new("bundle CA");
    let in_dir = Ca::new("hashed dir CA");
    let bundle = std::env::var_os("SSL_CERT_FILE").unwrap();
    let dir = std::path::PathBuf::from(std::env::var_os("SSL_CERT_DIR").unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    // The bundle: the CAs, and one CA's CRL among them.
    let pem = [
        in_bundle.pem(),
        in_bundle.crl(1, &[7], next).pem,
        in_dir.pem(),
    ]
    .concat();
    write_settled(bundle.into(), pem);
    // The directory as `openssl rehash` leaves it: `HASH.0` certificates, `HASH.r0` CRLs.
    write_settled(dir.join("1a2b3c4d.0"), in_dir.pem());
    write_settled(dir.join("1a2b3c4d.r0"), in_dir.crl(1, &[8, 9], next).pem);
    // Not a hashed CRL name: not read as one.
    write_settled(dir.join("notes.r0.txt"), "not read");

    let crls = Crls::new(CrlSource::native_store()).unwrap();
    let mut found: Vec<_> = crls
        .crls()
        .into_iter()
        .map(|info| (info.issuer.unwrap(), info.revoked, info.path))
        .collect();
    found.sort();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "CN=bundle CA");
    assert_eq!(found[0].1, 1);
    assert_eq!(found[1].0, "CN=hashed dir CA");
    assert_eq!(found[1].1, 2);
    assert!(found[1].2.ends_with("1a2b3c4d.r0"), "{found:?}");

    // And they apply: the native roots (the same files) with the native store's CRLs.
    let revoked = spawn_server(&in_dir.server_leaf_serial(8), ServerOptions::default());
    let good = spawn_server(&in_dir.server_leaf_serial(10), ServerOptions::default());
    let upstream = UpstreamTls::builder(Trust::Native)
        .revocation(Revocation::new(crls))
        .build();
    let config = ClientConfigCache::with_provider(provider())
        .get(&upstream)
        .unwrap();
    assert_eq!(
        exchange(std::sync::Arc::clone(&config), revoked).unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::Revoked)
    );
    exchange(config, good).unwrap();
}
