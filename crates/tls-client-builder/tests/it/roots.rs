//! `ClientConfigCache::with_roots`: the native roots come from the value the cache is given, in
//! any of the forms a caller holds it.

use std::sync::Arc;

use native_roots_cache::RootsCache;
use tls_client_builder::{NativeRoots, Trust, TrustProvenance, UpstreamTls};

use crate::support::{
    Ca, ScriptedSource, ServerOptions, cache, cache_over, exchange, spawn_server,
};

#[test]
fn roots_given_by_value_static_reference_arc_or_trait_object() {
    let ca = Ca::new("injected CA");
    let addr = spawn_server(&ca.server_leaf(), ServerOptions::default());
    let native = UpstreamTls::builder(Trust::Native).build();
    let source = ScriptedSource::trusting(&[&ca]);

    let by_value = cache().with_roots(RootsCache::with_source(source.clone()));
    let leaked: &'static RootsCache<ScriptedSource> =
        Box::leak(Box::new(RootsCache::with_source(source.clone())));
    let by_static_ref = cache().with_roots(leaked);
    let by_arc = cache().with_roots(Arc::new(RootsCache::with_source(source.clone())));
    let object: Arc<dyn NativeRoots> = Arc::new(RootsCache::with_source(source.clone()));
    let by_object = cache().with_roots(object);

    for configs in [by_value, by_static_ref, by_arc, by_object] {
        let built = configs.get_built(&native).unwrap();
        assert!(
            matches!(
                built.provenance(),
                TrustProvenance::Native {
                    generation: 1,
                    anchors: 1,
                    extra_anchors: 0,
                    process_roots: false,
                    ..
                }
            ),
            "{}",
            built.provenance()
        );
        // Roots of the caller's are not called the system store.
        assert_eq!(
            built.provenance().to_string(),
            "native roots generation 1 (1 anchors)"
        );
        exchange(Arc::clone(built.config()), addr).unwrap();
    }
    // Four RootsCaches, one load each.
    assert_eq!(source.loads(), 4);
}

#[test]
fn roots_set_after_a_lookup_drop_what_was_built_before() {
    let first = Ca::new("first CA");
    let second = Ca::new("second CA");
    let addr = spawn_server(&second.server_leaf(), ServerOptions::default());
    let native = UpstreamTls::builder(Trust::Native).build();
    let (configs, _roots) = cache_over(&ScriptedSource::trusting(&[&first]));
    let before = configs.get(&native).unwrap();
    assert_eq!(configs.len(), 1);

    let configs = configs.with_roots(RootsCache::with_source(ScriptedSource::trusting(&[
        &second,
    ])));
    assert!(configs.is_empty());
    let after = configs.get(&native).unwrap();
    assert!(!Arc::ptr_eq(&before, &after));
    exchange(after, addr).unwrap();
}
