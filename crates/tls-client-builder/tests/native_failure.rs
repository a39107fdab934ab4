//! The system store fails to load (`SSL_CERT_FILE` is an empty file): a fingerprint that trusts
//! it gets the native error back unchanged. Its own binary: the failure is cached per process.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::{cache, temp_file, Ca};
use native_roots_cache::{native_roots, NativeRootsErrorKind};
use tls_client_builder::{BuildError, Trust, UpstreamTls};

fn empty_store() {
    static SET: OnceLock<()> = OnceLock::new();
    SET.get_or_init(|| {
        // Holds no certificate: a permanent error (an empty file just written would be taken
        // for one being rewritten, a transient one).
        std::env::set_var("SSL_CERT_FILE", temp_file("empty", "no certificate here\n"));
        std::env::remove_var("SSL_CERT_DIR");
    });
}

#[test]
fn native_error_comes_back_unchanged() {
    empty_store();
    let cache = cache();
    let fingerprint = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
    let err = cache.get(&fingerprint).unwrap_err();
    let native = native_roots().unwrap_err();
    assert_eq!(native.kind(), NativeRootsErrorKind::NoAnchors);
    assert_eq!(err, BuildError::NativeRoots(native.clone()));
    assert_eq!(err.native_roots_error(), Some(&native));
    assert!(err.to_string().contains(native.message()), "{err}");
    // Cached: the same error without another build.
    assert_eq!(cache.get(&fingerprint).unwrap_err(), err);
    assert_eq!(cache.stats().builds, 1);
    assert_eq!(cache.stats().trust_store_loads, 0);
    assert_eq!(cache.stats().fallbacks, 0);
}

#[test]
fn anchors_only_does_not_need_the_system_store() {
    empty_store();
    let ca = Ca::new("private CA");
    let fingerprint = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .build();
    assert!(cache().get(&fingerprint).is_ok());
}
