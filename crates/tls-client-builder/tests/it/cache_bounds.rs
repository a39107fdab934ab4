//! Bounded size, eviction order, `retain`, counters and build errors. Anchors-only trust: the
//! machine's store is not involved.

use std::sync::Arc;

use crate::support::{Ca, cache};
use tls_client_builder::{BuildError, CacheStats, Trust, UpstreamTls};

fn upstream(ca: &Ca, alpn: &str) -> UpstreamTls {
    UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .alpn([alpn])
        .build()
}

#[test]
fn oldest_entries_are_evicted_beyond_the_bound() {
    let ca = Ca::new("bounds CA");
    let cache = cache().max_entries(3);
    let fps: Vec<_> = (0..5).map(|i| upstream(&ca, &format!("p{i}"))).collect();
    let first = cache.get(&fps[0]).unwrap();
    for fp in &fps[1..] {
        cache.get(fp).unwrap();
    }
    assert_eq!(cache.len(), 3);
    let stats = cache.stats();
    assert_eq!((stats.builds, stats.evictions, stats.hits), (5, 2, 0));

    // The newest three are still there: hits, no builds.
    for fp in &fps[2..] {
        cache.get(fp).unwrap();
    }
    assert_eq!(cache.stats().hits, 3);
    assert_eq!(cache.stats().builds, 5);

    // The oldest was evicted: asking again builds a new config (and evicts the next oldest).
    let again = cache.get(&fps[0]).unwrap();
    assert!(!Arc::ptr_eq(&first, &again));
    assert_eq!(cache.stats().builds, 6);
    assert_eq!(cache.stats().evictions, 3);
    assert_eq!(cache.len(), 3);
}

#[test]
fn retain_keeps_what_the_predicate_accepts() {
    let ca = Ca::new("retain CA");
    let cache = cache();
    let keep = upstream(&ca, "keep");
    let drop_a = upstream(&ca, "drop-a");
    let drop_b = upstream(&ca, "drop-b");
    let kept = cache.get(&keep).unwrap();
    cache.get(&drop_a).unwrap();
    cache.get(&drop_b).unwrap();

    cache.retain(|fp| fp.alpn() == [b"keep".to_vec()]);
    assert_eq!(cache.len(), 1);
    assert!(Arc::ptr_eq(&kept, &cache.get(&keep).unwrap()));
    cache.get(&drop_a).unwrap();
    assert_eq!(cache.stats().builds, 4);
    // Retained entries do not count as evictions.
    assert_eq!(cache.stats().evictions, 0);

    cache.retain(|_| false);
    assert!(cache.is_empty());
}

#[test]
fn retain_then_refill_respects_the_bound() {
    let ca = Ca::new("refill CA");
    let cache = cache().max_entries(2);
    let fps: Vec<_> = (0..4).map(|i| upstream(&ca, &format!("r{i}"))).collect();
    cache.get(&fps[0]).unwrap();
    cache.get(&fps[1]).unwrap();
    cache.retain(|fp| fp == &fps[1]);
    cache.get(&fps[2]).unwrap();
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.stats().evictions, 0);
    cache.get(&fps[3]).unwrap();
    // fps[1] was the oldest left.
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.stats().evictions, 1);
    let builds = cache.stats().builds;
    cache.get(&fps[2]).unwrap();
    cache.get(&fps[3]).unwrap();
    assert_eq!(cache.stats().builds, builds);
}

#[test]
fn counters_start_at_zero() {
    assert_eq!(cache().stats(), CacheStats::default());
}

#[test]
fn anchors_only_without_anchors_is_refused() {
    let err = cache()
        .get(&UpstreamTls::builder(Trust::AnchorsOnly).build())
        .unwrap_err();
    assert_eq!(err, BuildError::NoAnchors);
    assert!(err.to_string().contains("AnchorsOnly"), "{err}");
}

#[test]
fn an_unusable_der_anchor_is_named_by_index() {
    let ca = Ca::new("good CA");
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .extra_anchor_der(vec![0x30, 0x03, 0x02, 0x01, 0x00])
        .build();
    let err = cache().get(&upstream).unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::ExtraAnchor {
                index: 1,
                der_len: 5,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn bad_pem_is_reported_where_it_was_given() {
    let ca = Ca::new("pem CA");
    let leaf = ca.client_leaf();
    let err = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem("not pem at all")
        .unwrap_err();
    assert!(err.to_string().contains("extra_anchors_pem"), "{err}");

    let truncated = &ca.pem()[..ca.pem().len() / 2];
    let err = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchors_pem(truncated)
        .unwrap_err();
    assert!(
        matches!(err, BuildError::Pem { item: Some(0), .. }),
        "{err:?}"
    );

    // The chain where the key should be, and the other way round.
    let err = UpstreamTls::builder(Trust::AnchorsOnly)
        .client_identity_pem(&leaf.chain_pem, &leaf.chain_pem)
        .unwrap_err();
    assert!(err.to_string().contains("client_identity_pem key"), "{err}");
    let err = UpstreamTls::builder(Trust::AnchorsOnly)
        .client_identity_pem(&leaf.key_pem, &leaf.key_pem)
        .unwrap_err();
    assert!(
        err.to_string().contains("client_identity_pem chain"),
        "{err}"
    );
}

#[cfg(feature = "ring")]
#[test]
fn default_cache_uses_the_feature_provider() {
    let ca = Ca::new("feature CA");
    let cache = tls_client_builder::ClientConfigCache::new();
    assert!(cache.get(&upstream(&ca, "x")).is_ok());
}
