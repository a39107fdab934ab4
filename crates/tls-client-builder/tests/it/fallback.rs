//! With the `webpki-roots` feature: the native roots fail to load, and
//! `Trust::NativeWithWebpkiFallback` builds from the bundled roots, saying so.
#![cfg(feature = "webpki-roots")]

use std::sync::Arc;

use tls_client_builder::{BuildError, Trust, TrustProvenance, UpstreamTls};

use crate::support::{ScriptedSource, cache_over};

#[test]
fn fallback_builds_from_webpki_roots_and_says_so() {
    let (cache, roots) = cache_over(&ScriptedSource::failing());
    let upstream = UpstreamTls::builder(Trust::NativeWithWebpkiFallback).build();
    let built = cache.get_built(&upstream).unwrap();
    let native = roots.native_roots().unwrap_err();
    match built.provenance() {
        TrustProvenance::WebpkiFallback {
            native_error,
            anchors,
            ..
        } => {
            assert_eq!(native_error, &native);
            assert_eq!(*anchors, webpki_roots::TLS_SERVER_ROOTS.len());
        }
        other => panic!("expected a fallback, got {other}"),
    }
    assert!(built.provenance().is_fallback());
    let description = built.to_string();
    assert!(
        description.contains("webpki-roots FALLBACK"),
        "{description}"
    );
    assert!(description.contains(&native.to_string()), "{description}");

    // A second upstream key of the same trust set reuses the fallback verifier: one fallback.
    let h2 = cache
        .get_built(
            &UpstreamTls::builder(Trust::NativeWithWebpkiFallback)
                .alpn(["h2"])
                .build(),
        )
        .unwrap();
    assert!(Arc::ptr_eq(built.verifier(), h2.verifier()));
    assert_eq!(cache.stats().fallbacks, 1);
    assert_eq!(cache.stats().trust_store_loads, 0);
}

#[test]
fn native_without_fallback_still_fails_with_the_native_error() {
    let (cache, roots) = cache_over(&ScriptedSource::failing());
    let err = cache
        .get(&UpstreamTls::builder(Trust::Native).build())
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::NativeRoots(roots.native_roots().unwrap_err())
    );
}

#[test]
fn webpki_roots_trust_is_not_a_fallback() {
    let (cache, roots) = cache_over(&ScriptedSource::failing());
    let built = cache
        .get_built(&UpstreamTls::builder(Trust::WebpkiRoots).build())
        .unwrap();
    assert!(matches!(
        built.provenance(),
        TrustProvenance::WebpkiRoots { .. }
    ));
    assert_eq!(cache.stats().fallbacks, 0);
    // Trust that does not use the native roots never loads them.
    assert_eq!(roots.stats().loads, 0);
}
