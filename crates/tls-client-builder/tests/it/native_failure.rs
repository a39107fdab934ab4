//! The native roots fail to load: an upstream key that trusts them gets their error back
//! unchanged, cached; once a refresh publishes a store, the failed entry is rebuilt.

use std::error::Error as _;
use std::sync::Arc;

use native_roots_cache::{NativeRootsError, NativeRootsErrorKind};
use tls_client_builder::{BuildError, Trust, UpstreamTls};

use crate::support::{Ca, ScriptedSource, ServerOptions, cache_over, exchange, spawn_server};

#[test]
fn native_error_comes_back_unchanged() {
    let (cache, roots) = cache_over(&ScriptedSource::failing());
    let upstream = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
    let err = cache.get(&upstream).unwrap_err();
    let native = roots.native_roots().unwrap_err();
    assert_eq!(native.kind(), NativeRootsErrorKind::NoAnchors);
    assert_eq!(err, BuildError::NativeRoots(native.clone()));
    assert_eq!(err.native_roots_error(), Some(&native));
    // Display is short; the native error is the source, typed.
    assert_eq!(err.to_string(), "the trust store failed to load");
    let source = err
        .source()
        .and_then(|s| s.downcast_ref::<NativeRootsError>());
    assert_eq!(source, Some(&native));
    // Cached: the same error without another build.
    assert_eq!(cache.get(&upstream).unwrap_err(), err);
    assert_eq!(cache.stats().builds, 1);
    assert_eq!(cache.stats().trust_store_loads, 0);
    assert_eq!(cache.stats().fallbacks, 0);
    assert_eq!(roots.stats().loads, 1);
}

#[test]
fn anchors_only_does_not_need_the_native_roots() {
    let source = ScriptedSource::failing();
    let (cache, _roots) = cache_over(&source);
    let ca = Ca::new("private CA");
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .build();
    assert!(cache.get(&upstream).is_ok());
    assert_eq!(source.loads(), 0);
}

#[test]
fn a_refresh_that_publishes_a_store_rebuilds_what_failed() {
    let ca = Ca::new("recovered CA");
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let source = ScriptedSource::failing();
    let (cache, roots) = cache_over(&source);
    let upstream = UpstreamTls::builder(Trust::Native).build();
    assert!(cache.get(&upstream).is_err());
    // A failed load publishes no store: the generation stays 0.
    assert_eq!(roots.generation(), 0);

    source.now_trusting(&[&ca]);
    assert_eq!(roots.refresh().unwrap().generation, 1);
    let config = cache.get(&upstream).unwrap();
    exchange(Arc::clone(&config), addr).unwrap();
    assert_eq!(cache.stats().builds, 2);
    assert!(Arc::ptr_eq(&config, &cache.get(&upstream).unwrap()));
}
