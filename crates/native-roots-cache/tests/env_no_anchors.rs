//! An `SSL_CERT_FILE` naming an empty file: a clear, sticky error naming the variables, the path
//! and why the file yielded nothing.
//! Its own binary: the cache is per process; the test runs in a child (`test_pki::alone`), given
//! its environment at its start.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use native_roots_cache::{
    native_roots, native_roots_generation, native_roots_loads, NativeRootsErrorKind,
};

#[test]
fn an_empty_bundle_is_a_clear_sticky_error() {
    let test = "an_empty_bundle_is_a_clear_sticky_error";
    if !test_pki::alone(test, |dir| {
        vec![("SSL_CERT_FILE", dir.join("empty.pem").into())]
    }) {
        return;
    }
    let bundle = PathBuf::from(std::env::var_os("SSL_CERT_FILE").unwrap());
    std::fs::write(&bundle, "").unwrap();
    // Empty for an hour: not one being rewritten.
    test_pki::settle(&bundle);

    let err = native_roots().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::NoAnchors);
    assert_eq!(err.attempts(), 1);
    let message = err.to_string();
    for needle in [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        &bundle.display().to_string(),
        "empty file not read",
    ] {
        assert!(message.contains(needle), "{needle} missing from: {message}");
    }
    // Fixing the file does not help until a refresh: the error is sticky.
    std::fs::write(&bundle, test_pki::ca_pem("CA a")).unwrap();
    for _ in 0..100 {
        assert_eq!(native_roots().unwrap_err(), err);
    }
    assert_eq!((native_roots_loads(), native_roots_generation()), (1, 0));
}
