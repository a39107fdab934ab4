//! A per-config session store that allocates only when the first session is stored, and that
//! forgets its sessions when the config's rotating client identity rotates.
//!
//! rustls' `Resumption::in_memory_sessions(256)` allocates its `ClientSessionMemoryCache` (about
//! 15 KB) when the config is built. A gateway holds thousands of configs, most of them idle, so
//! this store creates rustls' own cache lazily, on the first write, and delegates every call to
//! it. Reads on an empty store answer `None` without allocating.
//!
//! rustls does not verify certificates again when a session resumes, in either direction: a
//! session resumed after a rotation would present the old client identity. So the cache is
//! tagged with the identity's rotation count when it is created; once the count moves on, reads
//! ignore it and the next write replaces it with an empty one. (A config built after a change of
//! trust gets a new store, so sessions never cross trust changes either.)

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use rustls::NamedGroup;
use rustls::client::Tls13ClientSessionValue;
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue};
use rustls::pki_types::ServerName;

use crate::identity::RotatingIdentity;

/// A `ClientSessionStore` that creates a `ClientSessionMemoryCache::new(size)` on first write,
/// and a new one after its identity rotates.
#[derive(Debug)]
pub(crate) struct LazySessionStore {
    size: usize,
    identity: Option<RotatingIdentity>,
    cache: ArcSwapOption<Tagged>,
}

/// rustls' cache, with the rotation count of the identity when it was created.
#[derive(Debug)]
struct Tagged {
    rotations: u64,
    cache: ClientSessionMemoryCache,
}

impl LazySessionStore {
    /// A store of `size` sessions; with `identity`, emptied whenever it rotates.
    pub(crate) fn new(size: usize, identity: Option<RotatingIdentity>) -> Self {
        Self {
            size,
            identity,
            cache: ArcSwapOption::const_empty(),
        }
    }

    fn rotations(&self) -> u64 {
        self.identity
            .as_ref()
            .map_or(0, RotatingIdentity::rotations)
    }

    /// The cache, if one was created since the identity last rotated.
    fn for_read(&self) -> Option<Arc<Tagged>> {
        self.cache
            .load_full()
            .filter(|tagged| tagged.rotations == self.rotations())
    }

    /// The cache of the current rotation, created (or replaced) if need be.
    fn for_write(&self) -> Arc<Tagged> {
        let rotations = self.rotations();
        loop {
            let current = self.cache.load_full();
            if let Some(tagged) = current.as_ref().filter(|t| t.rotations >= rotations) {
                return Arc::clone(tagged);
            }
            let fresh = Arc::new(Tagged {
                rotations,
                cache: ClientSessionMemoryCache::new(self.size),
            });
            let previous = self
                .cache
                .compare_and_swap(&current, Some(Arc::clone(&fresh)));
            let swapped = match (&*previous, &current) {
                (Some(previous), Some(current)) => Arc::ptr_eq(previous, current),
                (None, None) => true,
                _ => false,
            };
            if swapped {
                return fresh;
            }
        }
    }

    /// Whether rustls' cache has been created (a session or hint was stored).
    #[cfg(test)]
    fn is_allocated(&self) -> bool {
        self.cache.load().is_some()
    }
}

impl ClientSessionStore for LazySessionStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.for_write().cache.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.for_read()?.cache.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.for_write().cache.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.for_read()?.cache.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        if let Some(tagged) = self.for_read() {
            tagged.cache.remove_tls12_session(server_name);
        }
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.for_write()
            .cache
            .insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.for_read()?.cache.take_tls13_ticket(server_name)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_allocate_and_writes_delegate() {
        let store = LazySessionStore::new(8, None);
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
