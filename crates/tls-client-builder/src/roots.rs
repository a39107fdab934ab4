//! [`NativeRoots`]: the trust store a cache builds `Trust::Native` configs from, injected as a
//! value with the process-wide store as the default (as rustls does with its `CryptoProvider`).
//!
//! Guarantees: every `RootsCache<S>`, and any `&'static` or `Arc` of one, is a `NativeRoots`;
//! [`ProcessRoots`] reads the process-wide cache of `native_roots_cache`. The trait is sealed:
//! another source of anchors is a `native_roots_cache::TrustSource` behind a `RootsCache`.

use std::sync::Arc;

use native_roots_cache::{NativeRootsError, RootsCache, TrustSource};
use rustls::RootCertStore;

/// The trust store a [`ClientConfigCache`](crate::ClientConfigCache) reads for
/// [`Trust::Native`](crate::Trust::Native) and
/// `Trust::NativeWithWebpkiFallback`, with the generation that tells the cache when to rebuild.
///
/// Implemented for [`ProcessRoots`] (the default: the process-wide store of
/// `native_roots_cache::native_roots()`), for every [`RootsCache`], and for `&'static` and `Arc`
/// references to those. Pass a reference to keep calling `refresh()` on a cache you also gave
/// to a `ClientConfigCache`:
///
/// ```
/// use std::sync::Arc;
/// use native_roots_cache::{PemFiles, RootsCache};
/// use tls_client_builder::ClientConfigCache;
///
/// let roots = Arc::new(RootsCache::with_source(
///     PemFiles::new().with_file("/etc/my-app/ca-bundle.pem"),
/// ));
/// # #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
/// let configs = ClientConfigCache::new().with_roots(Arc::clone(&roots));
/// // Later, on the operator's request: configs built from the old anchors are rebuilt on their
/// // next lookup if the anchors changed.
/// let _ = roots.refresh();
/// ```
///
/// This trait is sealed; to read anchors from somewhere else, implement
/// [`TrustSource`] and wrap it in a [`RootsCache`].
pub trait NativeRoots: Send + Sync + sealed::Sealed {
    /// The store, loaded on the first call, then cached (an error too) until a refresh.
    ///
    /// # Errors
    /// The store's [`NativeRootsError`], the same value on every call until a refresh succeeds.
    fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError>;

    /// 0 until a store is published, then advancing each time a refresh publishes a changed
    /// anchor set. The cache reads it before the store, so a config is never tagged newer than
    /// the anchors it was built from.
    fn generation(&self) -> u64;

    /// Look at once whether the store's files changed and read them if so
    /// ([`RootsCache::check_now`]): what a handshake that met an unknown issuer asks for.
    fn check_now(&self);
}

/// The process-wide system store of `native_roots_cache` (`native_roots()`,
/// `RootsCache::global().generation()`, `RootsCache::global().refresh()`): what a
/// [`ClientConfigCache`](crate::ClientConfigCache) builds from unless given other roots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a name for the process-wide store; it will never hold data"
)]
pub struct ProcessRoots;

impl NativeRoots for ProcessRoots {
    fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        native_roots_cache::native_roots()
    }

    fn generation(&self) -> u64 {
        native_roots_cache::RootsCache::global().generation()
    }

    fn check_now(&self) {
        let _ = native_roots_cache::RootsCache::global().check_now();
    }
}

impl<S: TrustSource> NativeRoots for RootsCache<S> {
    fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        self.native_roots()
    }

    fn generation(&self) -> u64 {
        RootsCache::generation(self)
    }

    fn check_now(&self) {
        let _ = RootsCache::check_now(self);
    }
}

impl<T: NativeRoots + ?Sized> NativeRoots for &'static T {
    fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        (**self).roots()
    }

    fn generation(&self) -> u64 {
        (**self).generation()
    }

    fn check_now(&self) {
        (**self).check_now();
    }
}

impl<T: NativeRoots + ?Sized> NativeRoots for Arc<T> {
    fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        (**self).roots()
    }

    fn generation(&self) -> u64 {
        (**self).generation()
    }

    fn check_now(&self) {
        (**self).check_now();
    }
}

/// The generation to tag a new build with, read before the store.
///
/// Before the first load the generation is 0 and would advance as soon as the build loads the
/// store, making everything built first look stale; so the store is loaded (once: the outcome is
/// cached) before the generation is read. A failed load keeps 0, and a later successful refresh
/// then advances it, which rebuilds what was built from the failure.
pub(crate) fn current_generation(roots: &dyn NativeRoots) -> u64 {
    match roots.generation() {
        0 => {
            // A failure surfaces in the build, which reads the same cached outcome.
            let _loaded = roots.roots();
            roots.generation()
        }
        generation => generation,
    }
}

mod sealed {
    use std::sync::Arc;

    use native_roots_cache::{RootsCache, TrustSource};

    pub trait Sealed {
        /// Whether these are the process-wide roots, whose generation a handle then reads
        /// without going through the trait object.
        fn is_process_roots(&self) -> bool {
            false
        }
    }

    impl Sealed for super::ProcessRoots {
        fn is_process_roots(&self) -> bool {
            true
        }
    }
    impl<S: TrustSource> Sealed for RootsCache<S> {}
    impl<T: Sealed + ?Sized> Sealed for &'static T {
        fn is_process_roots(&self) -> bool {
            (**self).is_process_roots()
        }
    }
    impl<T: Sealed + ?Sized> Sealed for Arc<T> {
        fn is_process_roots(&self) -> bool {
            (**self).is_process_roots()
        }
    }
}
