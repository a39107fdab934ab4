//! An `SSL_CERT_FILE` naming an empty file: a clear, sticky error naming the variables, the path
//! and why the file yielded nothing.
//! Its own binary: the cache is per process and the environment is set once, first.
#![allow(clippy::unwrap_used)]

mod common;

use native_roots_cache::{
    native_roots, native_roots_generation, native_roots_loads, NativeRootsErrorKind,
};

#[test]
fn an_empty_bundle_is_a_clear_sticky_error() {
    common::clear_cert_env();
    let dir = common::fresh_dir("no-anchors");
    let bundle = dir.join("empty.pem");
    std::fs::write(&bundle, "").unwrap();
    // Empty for an hour: not one being rewritten.
    common::settle(&bundle);
    std::env::set_var("SSL_CERT_FILE", &bundle);

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
    // Sticky: an unchanged failing store is never read again, however often it is asked for.
    for _ in 0..100 {
        assert_eq!(native_roots().unwrap_err(), err);
    }
    assert_eq!((native_roots_loads(), native_roots_generation()), (1, 0));

    // Fixing the file heals it, with no watcher and no refresh: the first call past the rate
    // limit (one look at the files a second) sees the change and reads the store again.
    std::fs::write(&bundle, common::ca_pem("CA a")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let healed = native_roots().expect("healed by the call after the fix");
    assert_eq!(healed.len(), 1);
    assert_eq!((native_roots_loads(), native_roots_generation()), (2, 1));
    assert!(std::sync::Arc::ptr_eq(&native_roots().unwrap(), &healed));
}
