//! [`NativeRoots`]: the trust store a cache builds `Trust::Native` configs from, injected as a
//! value with the process-wide store as the default (as rustls does with its `CryptoProvider`).
//!
//! Guarantees: every `RootsCache<S>`, and any `&'static` or `Arc` of one, is a `NativeRoots`;
//! `RootsCache::global()` is the process-wide cache of `native_roots_cache`, recognised by its
//! address. The trait is sealed and its methods are the crate's own: a store is read one way,
//! through `RootsCache` (`native_roots()` for the process-wide one); another source of anchors
//! is a `native_roots_cache::TrustSource` behind a `RootsCache`.

use std::sync::Arc;

use native_roots_cache::{NativeRootsError, RootsCache, TrustSource};
use rustls::RootCertStore;

/// The trust store a [`ClientConfigCache`](crate::ClientConfigCache) reads for
/// [`Trust::Native`](crate::Trust::Native) and `Trust::NativeWithWebpkiFallback`: a
/// [`RootsCache`] (the process-wide `RootsCache::global()` by default), or a `&'static` or `Arc`
/// reference to one. Pass a reference to keep calling `refresh()` on a cache you also gave to a
/// `ClientConfigCache`:
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
/// This trait is sealed, and what the cache calls on it is not for callers (read the store
/// through the `RootsCache`); to read anchors from somewhere else, implement [`TrustSource`] and
/// wrap it in a [`RootsCache`].
pub trait NativeRoots: Send + Sync + sealed::Sealed {}

impl<T: sealed::Sealed + ?Sized> NativeRoots for T {}

/// The generation of `upstream`'s inputs that change while the process runs, read before them:
/// the native roots' (when its trust reads them) plus its CRLs' (when it checks revocation).
/// Both only advance, so their sum advances exactly when either does.
pub(crate) fn upstream_generation(upstream: &crate::UpstreamTls, roots: &dyn NativeRoots) -> u64 {
    let native = if upstream.trust().uses_native() {
        current_generation(roots)
    } else {
        0
    };
    native
        + upstream
            .revocation()
            .map_or(0, |revocation| revocation.crls().generation())
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

pub(crate) mod sealed {
    use super::{Arc, NativeRootsError, RootCertStore, RootsCache, TrustSource};

    /// What the cache reads of its [`NativeRoots`](super::NativeRoots).
    pub trait Sealed: Send + Sync {
        /// The store, loaded on the first call, then cached (an error too) until a refresh.
        fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError>;

        /// 0 until a store is published, then advancing each time a refresh publishes a
        /// changed anchor set. Read before the store, so a config is never tagged newer than
        /// the anchors it was built from.
        fn generation(&self) -> u64;

        /// Look at once whether the store's files changed and read them if so
        /// (`RootsCache::check_now`): what a handshake that met an unknown issuer asks for.
        fn check_now(&self);

        /// Whether these are the process-wide roots, whose generation a handle then reads
        /// without going through the trait object.
        fn is_process_roots(&self) -> bool;
    }

    impl<S: TrustSource> Sealed for RootsCache<S> {
        fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
            self.native_roots()
        }

        fn generation(&self) -> u64 {
            RootsCache::generation(self)
        }

        fn check_now(&self) {
            let _ = RootsCache::check_now(self);
        }

        fn is_process_roots(&self) -> bool {
            std::ptr::addr_eq(
                self as *const Self,
                RootsCache::global() as *const RootsCache,
            )
        }
    }

    impl<T: Sealed + ?Sized> Sealed for &'static T {
        fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
            (**self).roots()
        }

        fn generation(&self) -> u64 {
            (**self).generation()
        }

        fn check_now(&self) {
            (**self).check_now();
        }

        fn is_process_roots(&self) -> bool {
            (**self).is_process_roots()
        }
    }

    impl<T: Sealed + ?Sized> Sealed for Arc<T> {
        fn roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
            (**self).roots()
        }

        fn generation(&self) -> u64 {
            (**self).generation()
        }

        fn check_now(&self) {
            (**self).check_now();
        }

        fn is_process_roots(&self) -> bool {
            (**self).is_process_roots()
        }
    }
}
