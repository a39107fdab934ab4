//! A refresh that changes the system store rebuilds configs on their next lookup. Its own binary:
//! it rewrites the `SSL_CERT_FILE` bundle and refreshes the process-wide store.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{cache, exchange, spawn_server, temp_file, Ca, ServerOptions};
use native_roots_cache::{native_roots_generation, refresh_native_roots};
use rustls::CertificateError;
use tls_client_builder::{Trust, TrustProvenance, UpstreamTls};

#[test]
fn a_changed_store_rebuilds_configs_on_next_get() {
    let old_ca = Ca::new("old CA");
    let new_ca = Ca::new("new CA");
    let bundle = temp_file("generation", &old_ca.pem());
    std::env::set_var("SSL_CERT_FILE", &bundle);
    std::env::remove_var("SSL_CERT_DIR");
    let addr = spawn_server(&new_ca.server_leaf(), ServerOptions::default());

    let cache = cache();
    let native = UpstreamTls::builder(Trust::Native).build();
    let anchors_only = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(new_ca.der())
        .build();
    let before = cache.get(&native).unwrap();
    let untouched = cache.get(&anchors_only).unwrap();
    assert_eq!(native_roots_generation(), 1);
    let err = exchange(Arc::clone(&before), addr).unwrap_err();
    assert_eq!(
        err,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );

    // A refresh with an unchanged bundle keeps the generation: nothing is rebuilt.
    assert!(!refresh_native_roots().unwrap().changed);
    assert!(Arc::ptr_eq(&before, &cache.get(&native).unwrap()));

    std::fs::write(&bundle, new_ca.pem()).unwrap();
    let refresh = refresh_native_roots().unwrap();
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
    // A fingerprint that does not use the system store is not rebuilt.
    assert!(Arc::ptr_eq(&untouched, &cache.get(&anchors_only).unwrap()));

    let stats = cache.stats();
    assert_eq!(stats.builds, 3, "native twice, anchors-only once");
    assert_eq!(stats.trust_store_loads, 2, "one per generation");
    assert_eq!(cache.len(), 2);
}
