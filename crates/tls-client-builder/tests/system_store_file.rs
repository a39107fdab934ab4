//! The default native roots, `RootsCache::global()`: the process-wide store of `native_roots_cache`, read
//! from `SSL_CERT_FILE` (a bundle holding a test CA). Its own binary, because its subject is the
//! environment variables and the process-wide store, loaded once per process: each test runs
//! in a child of its own (`test_pki::alone`), given its `SSL_CERT_FILE` at its start.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rustls::CertificateError;
use test_pki::{Ca, ServerOptions, exchange, provider, spawn_server};
use tls_client_builder::{ClientConfigCache, Trust, TrustProvenance, UpstreamTls};

/// `true` in the child that runs `test` alone, with `SSL_CERT_FILE` naming a file of its own.
fn alone(test: &str) -> bool {
    test_pki::alone(test, |dir| {
        vec![("SSL_CERT_FILE", dir.join("system-store.pem").into())]
    })
}

/// The CA in the `SSL_CERT_FILE` bundle, written before the test reads the store.
fn system_ca() -> Ca {
    let ca = Ca::new("system store CA");
    std::fs::write(std::env::var_os("SSL_CERT_FILE").unwrap(), ca.pem()).unwrap();
    ca
}

/// A cache on *ring* (available with any feature set), building from the process-wide store.
fn cache() -> ClientConfigCache {
    ClientConfigCache::with_provider(provider())
}

#[test]
fn ca_in_ssl_cert_file_is_trusted_by_native() {
    if !alone("ca_in_ssl_cert_file_is_trusted_by_native") {
        return;
    }
    let ca = system_ca();
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let cache = cache();
    let built = cache
        .get_built(&UpstreamTls::builder(Trust::Native).build())
        .unwrap();
    exchange(Arc::clone(built.config()), addr).unwrap();
    assert!(
        matches!(
            built.provenance(),
            TrustProvenance::Native {
                generation: 1,
                anchors: 1,
                extra_anchors: 0,
                process_roots: true,
                ..
            }
        ),
        "{}",
        built.provenance()
    );
    assert_eq!(
        built.provenance().to_string(),
        "system store generation 1 (1 anchors)"
    );
    assert_eq!(cache.stats().trust_store_loads, 1);
}

#[test]
fn native_plus_extra_anchor_trusts_both() {
    if !alone("native_plus_extra_anchor_trusts_both") {
        return;
    }
    let system = &system_ca();
    let private = Ca::new("private CA");
    let system_addr = spawn_server(&system.server_leaf(), ServerOptions::default());
    let private_addr = spawn_server(&private.server_leaf(), ServerOptions::default());
    let cache = cache();
    let native = UpstreamTls::builder(Trust::Native).build();
    let native_plus = UpstreamTls::builder(Trust::Native)
        .extra_anchor_der(private.der())
        .build();

    let plus = cache.get(&native_plus).unwrap();
    exchange(Arc::clone(&plus), system_addr).unwrap();
    exchange(plus, private_addr).unwrap();

    let err = exchange(cache.get(&native).unwrap(), private_addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    // Two trust sets, each built from the one system store.
    assert_eq!(cache.stats().trust_store_loads, 2);
}

#[test]
fn configs_of_one_trust_set_share_one_verifier() {
    if !alone("configs_of_one_trust_set_share_one_verifier") {
        return;
    }
    system_ca();
    let cache = cache();
    let a = cache
        .get_built(&UpstreamTls::builder(Trust::Native).alpn(["h2"]).build())
        .unwrap();
    let b = cache
        .get_built(
            &UpstreamTls::builder(Trust::Native)
                .alpn(["http/1.1"])
                .build(),
        )
        .unwrap();
    assert!(!Arc::ptr_eq(a.config(), b.config()));
    assert!(Arc::ptr_eq(a.verifier(), b.verifier()));
    assert_eq!(cache.stats().trust_store_loads, 1);
    // The process read the OS store once, whatever the number of caches and tests.
    assert_eq!(native_roots_cache::RootsCache::global().stats().loads, 1);
}

#[test]
fn process_roots_given_explicitly_are_the_default() {
    if !alone("process_roots_given_explicitly_are_the_default") {
        return;
    }
    system_ca();
    let native = UpstreamTls::builder(Trust::Native).build();
    let default = cache().get_built(&native).unwrap();
    let explicit = cache()
        .with_roots(native_roots_cache::RootsCache::global())
        .get_built(&native)
        .unwrap();
    // Two caches, two configs, but built from the one process-wide store.
    assert_eq!(default.provenance(), explicit.provenance());
    assert_eq!(native_roots_cache::RootsCache::global().stats().loads, 1);
}
