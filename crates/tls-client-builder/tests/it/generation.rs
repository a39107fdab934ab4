//! A refresh that changes the native roots rebuilds configs on their next lookup; an unchanged
//! refresh rebuilds nothing.

use std::sync::Arc;

use rustls::CertificateError;
use tls_client_builder::{Trust, TrustProvenance, UpstreamTls};

use crate::support::{Ca, ScriptedSource, ServerOptions, cache_over, exchange, spawn_server};

#[test]
fn a_changed_store_rebuilds_configs_on_next_get() {
    let old_ca = Ca::new("old CA");
    let new_ca = Ca::new("new CA");
    let source = ScriptedSource::trusting(&[&old_ca]);
    let addr = spawn_server(&new_ca.server_leaf(), ServerOptions::default());

    let (cache, roots) = cache_over(&source);
    let native = UpstreamTls::builder(Trust::Native).build();
    let anchors_only = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(new_ca.der())
        .build();
    let before = cache.get(&native).unwrap();
    let untouched = cache.get(&anchors_only).unwrap();
    // Loaded before the generation was read, so the first build is tagged 1, not 0.
    assert_eq!(roots.generation(), 1);
    let err = exchange(Arc::clone(&before), addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );

    // A refresh with unchanged anchors keeps the generation: nothing is rebuilt.
    assert!(!roots.refresh().unwrap().changed);
    assert!(Arc::ptr_eq(&before, &cache.get(&native).unwrap()));

    source.now_trusting(&[&new_ca]);
    let refresh = roots.refresh().unwrap();
    assert!(refresh.changed);
    assert_eq!(refresh.generation, 2);

    let after = cache.get_built(&native).unwrap();
    assert!(
        !Arc::ptr_eq(&before, after.config()),
        "the config was not rebuilt"
    );
    assert!(matches!(
        after.provenance(),
        TrustProvenance::Native { generation: 2, .. }
    ));
    exchange(Arc::clone(after.config()), addr).unwrap();
    // Later lookups hit the rebuilt entry.
    assert!(Arc::ptr_eq(after.config(), &cache.get(&native).unwrap()));
    // An upstream key that does not use the native roots is not rebuilt.
    assert!(Arc::ptr_eq(&untouched, &cache.get(&anchors_only).unwrap()));

    let stats = cache.stats();
    assert_eq!(stats.builds, 3, "native twice, anchors-only once");
    assert_eq!(stats.trust_store_loads, 2, "one per generation");
    assert_eq!(cache.len(), 2);
    // The first load and two refreshes.
    assert_eq!(source.loads(), 3);
}

#[test]
fn each_cache_follows_its_own_roots() {
    let ca = Ca::new("first CA");
    let other = Ca::new("second CA");
    let second_source = ScriptedSource::trusting(&[&ca]);
    let (first, first_roots) = cache_over(&ScriptedSource::trusting(&[&ca]));
    let (second, second_roots) = cache_over(&second_source);
    let native = UpstreamTls::builder(Trust::Native).build();
    let from_first = first.get(&native).unwrap();
    let from_second = second.get(&native).unwrap();

    second_source.now_trusting(&[&other]);
    assert!(second_roots.refresh().unwrap().changed);
    // The second cache rebuilds from its changed roots; the first, over roots that did not
    // change, keeps its config.
    assert!(!Arc::ptr_eq(&from_second, &second.get(&native).unwrap()));
    assert!(Arc::ptr_eq(&from_first, &first.get(&native).unwrap()));
    assert_eq!(first_roots.generation(), 1);
}
