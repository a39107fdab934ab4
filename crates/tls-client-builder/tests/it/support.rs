//! The workspace's test helpers (`test-pki`), and caches on *ring* built over them.
#![allow(dead_code)]

use std::sync::Arc;

use native_roots_cache::RootsCache;
pub(crate) use test_pki::*;
use tls_client_builder::ClientConfigCache;

/// A cache on *ring* (available with any feature set), building from the process-wide store.
pub(crate) fn cache() -> ClientConfigCache {
    ClientConfigCache::with_provider(provider())
}

/// A cache on *ring* whose native roots are a fresh `RootsCache` over `source`, also returned so
/// that the test can refresh it and read its counters.
pub(crate) fn cache_over(
    source: &ScriptedSource,
) -> (ClientConfigCache, Arc<RootsCache<ScriptedSource>>) {
    let roots = Arc::new(RootsCache::with_source(source.clone()));
    (cache().with_roots(Arc::clone(&roots)), roots)
}
