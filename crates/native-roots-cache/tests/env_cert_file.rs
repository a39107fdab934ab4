//! The process-wide store read from `SSL_CERT_FILE`, then refreshed as the file changes.
//! Its own binary: the cache is per process; the test runs in a child (`test_pki::alone`), given
//! its environment at its start.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use native_roots_cache::{
    NativeRootsErrorKind, RootsCache, TrustOrigin, native_roots, warm_native_roots,
};

#[test]
fn ssl_cert_file_is_loaded_once_then_refreshed_on_request() {
    let test = "ssl_cert_file_is_loaded_once_then_refreshed_on_request";
    if !test_pki::alone(test, |dir| {
        vec![("SSL_CERT_FILE", dir.join("bundle.pem").into())]
    }) {
        return;
    }
    let bundle = PathBuf::from(std::env::var_os("SSL_CERT_FILE").unwrap());
    let (a, b, c) = (
        test_pki::ca_pem("CA a"),
        test_pki::ca_pem("CA b"),
        test_pki::ca_pem("CA c"),
    );
    std::fs::write(&bundle, format!("{a}{}{b}", test_pki::UNPARSABLE_CERT_PEM)).unwrap();

    assert!(RootsCache::global().report().is_none());
    let warmed = warm_native_roots().unwrap();
    assert_eq!(
        warmed.len(),
        2,
        "two good CAs; the unparsable one is skipped, not fatal"
    );
    let again = native_roots().unwrap();
    assert!(Arc::ptr_eq(&warmed, &again));
    assert_eq!(
        RootsCache::global().borrow_roots(|roots| roots.unwrap().len()),
        2
    );
    assert_eq!(
        (
            RootsCache::global().stats().loads,
            RootsCache::global().generation()
        ),
        (1, 1)
    );

    let report = RootsCache::global().report().unwrap();
    assert_eq!(
        report.origin,
        TrustOrigin::Environment {
            file: Some(bundle.clone()),
            dirs: vec![]
        }
    );
    assert_eq!(
        (report.certificates, report.anchors, report.skipped.len()),
        (3, 2, 1)
    );
    assert_eq!(report.attempts, 1);

    // Changing the file changes nothing until an operator asks.
    std::fs::write(&bundle, format!("{a}{b}{c}")).unwrap();
    assert!(Arc::ptr_eq(&native_roots().unwrap(), &warmed));
    let refresh = RootsCache::global().refresh().unwrap();
    assert!(refresh.changed);
    assert_eq!(
        (refresh.roots.len(), RootsCache::global().generation()),
        (3, 2)
    );
    assert!(Arc::ptr_eq(&native_roots().unwrap(), &refresh.roots));

    // The same anchors again: same Arc, same generation, so derived caches rebuild nothing.
    let unchanged = RootsCache::global().refresh().unwrap();
    assert!(!unchanged.changed);
    assert!(Arc::ptr_eq(&unchanged.roots, &refresh.roots));
    assert_eq!(RootsCache::global().generation(), 2);

    // A broken refresh keeps the store in use. Emptied a moment ago, the bundle is taken for one
    // being rewritten (truncated first): the refresh waits for it to settle, then finds it still
    // empty where the store in use read its anchors, and keeps that store.
    std::fs::write(&bundle, "").unwrap();
    let err = RootsCache::global().refresh().unwrap_err();
    assert_eq!(err.kind(), NativeRootsErrorKind::IncompleteFile);
    assert!(err.attempts() >= 2, "read again once settled: {err}");
    assert!(
        err.to_string().contains(&bundle.display().to_string()),
        "{err}"
    );
    assert!(Arc::ptr_eq(&native_roots().unwrap(), &refresh.roots));
    // Empty for an hour, it is still no reason to drop the anchors in use.
    test_pki::settle(&bundle);
    let err = RootsCache::global().refresh().unwrap_err();
    assert_eq!(
        (err.kind(), err.attempts()),
        (NativeRootsErrorKind::IncompleteFile, 1)
    );
    assert!(
        err.to_string().contains(&bundle.display().to_string()),
        "{err}"
    );
    assert!(Arc::ptr_eq(&native_roots().unwrap(), &refresh.roots));
    assert_eq!(
        (
            RootsCache::global().generation(),
            RootsCache::global().stats().loads
        ),
        (2, 5)
    );
}
