//! An `SSL_CERT_FILE` naming an empty file: a clear, sticky error naming the variables, the path
//! and why the file yielded nothing, which heals once the file is fixed.
//! Its own binary: the cache is per process; the test runs in a child (`test_pki::alone`), given
//! its environment at its start.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use native_roots_cache::{NativeRootsErrorKind, RootsCache, native_roots};

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
    let origin = format!("SSL_CERT_FILE={}", bundle.display());
    assert!(
        message.contains(&origin),
        "{origin} missing from: {message}"
    );
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        cause
            .as_ref()
            .is_some_and(|c| c.contains("empty file not read")),
        "{cause:?}"
    );
    for needle in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        let advice = err.advice();
        assert!(advice.contains(needle), "{needle} missing from: {advice}");
    }
    // Sticky: an unchanged failing store is never read again, however often it is asked for.
    for _ in 0..100 {
        assert_eq!(native_roots().unwrap_err(), err);
    }
    assert_eq!(
        (
            RootsCache::global().stats().loads,
            RootsCache::global().generation()
        ),
        (1, 0)
    );

    // Fixing the file heals it, with no watcher and no refresh: the first call past the rate
    // limit (one look at the files a second) sees the change and reads the store again.
    std::fs::write(&bundle, test_pki::ca_pem("CA a")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let healed = native_roots().expect("healed by the call after the fix");
    assert_eq!(healed.len(), 1);
    assert_eq!(
        (
            RootsCache::global().stats().loads,
            RootsCache::global().generation()
        ),
        (2, 1)
    );
    assert!(std::sync::Arc::ptr_eq(&native_roots().unwrap(), &healed));
}
