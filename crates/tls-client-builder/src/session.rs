//! A per-fingerprint session store that allocates only when the first session is stored.
//!
//! rustls' `Resumption::in_memory_sessions(256)` allocates its `ClientSessionMemoryCache` (about
//! 15 KB) when the config is built. A gateway holds thousands of configs, most of them idle, so
//! this store creates rustls' own cache lazily, on the first write, and delegates every call to
//! it. Reads on an empty store answer `None` without allocating.

use std::sync::OnceLock;

use rustls::client::Tls13ClientSessionValue;
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::NamedGroup;

/// A `ClientSessionStore` that creates a `ClientSessionMemoryCache::new(size)` on first write.
#[derive(Debug)]
pub(crate) struct LazySessionStore {
    size: usize,
    cache: OnceLock<ClientSessionMemoryCache>,
}

impl LazySessionStore {
    pub(crate) fn new(size: usize) -> Self {
        Self {
            size,
            cache: OnceLock::new(),
        }
    }

    fn for_write(&self) -> &ClientSessionMemoryCache {
        self.cache
            .get_or_init(|| ClientSessionMemoryCache::new(self.size))
    }

    /// Whether rustls' cache has been created (a session or hint was stored).
    #[cfg(test)]
    fn is_allocated(&self) -> bool {
        self.cache.get().is_some()
    }
}

impl ClientSessionStore for LazySessionStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.for_write().set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.cache.get()?.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.for_write().set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.cache.get()?.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        if let Some(cache) = self.cache.get() {
            cache.remove_tls12_session(server_name);
        }
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.for_write().insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.cache.get()?.take_tls13_ticket(server_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_allocate_and_writes_delegate() {
        let store = LazySessionStore::new(8);
        let name = ServerName::try_from("example.com").expect("valid name");
        assert_eq!(store.kx_hint(&name), None);
        assert!(store.take_tls13_ticket(&name).is_none());
        assert!(store.tls12_session(&name).is_none());
        store.remove_tls12_session(&name);
        assert!(
            !store.is_allocated(),
            "reads and removals must not create the cache"
        );

        store.set_kx_hint(name.clone(), NamedGroup::X25519);
        assert!(store.is_allocated());
        assert_eq!(store.kx_hint(&name), Some(NamedGroup::X25519));
    }
}
