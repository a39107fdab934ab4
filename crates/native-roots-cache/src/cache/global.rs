//! The process-wide cache of the operating system's trust store: [`RootsCache::global`], and the
//! two free functions the crate was first asked for.

use std::sync::Arc;

use rustls::RootCertStore;

use crate::cache::RootsCache;
use crate::load::error::NativeRootsError;

static GLOBAL: RootsCache = RootsCache::new();

impl RootsCache {
    /// The process-wide cache of the operating system's trust store (or of the files
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` name), with the default [`LoadPolicy`]: the one
    /// [`native_roots`] and [`warm_native_roots`] read. Its methods are the rest of what a
    /// process does with that store: [`refresh`](Self::refresh) it,
    /// [`check_for_changes`](Self::check_for_changes), read its
    /// [`generation`](Self::generation) and [`report`](Self::report), wait for its next change
    /// ([`wait_for_generation`](Self::wait_for_generation),
    /// [`next_generation`](Self::next_generation)), load it without blocking an executor
    /// ([`load_async`](Self::load_async)), or follow it with a [`Watcher`](crate::Watcher).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use native_roots_cache::{RootsCache, Watcher};
    ///
    /// let roots = RootsCache::global();
    /// let _watching = Watcher::new().start(roots)?; // stops when dropped
    /// let seen = roots.generation();
    /// if let Some(generation) = roots.wait_for_generation(seen, Duration::from_secs(60)) {
    ///     println!("trust store generation {generation}");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// [`LoadPolicy`]: crate::LoadPolicy
    pub fn global() -> &'static RootsCache {
        &GLOBAL
    }
}

/// Return the process-wide system trust store, loading it on the first call.
///
/// Pass the `Arc` straight to `ClientConfig::builder().with_root_certificates(store)`: every config
/// then shares the same anchors instead of holding a deep copy. The same as
/// `RootsCache::global().native_roots()` (see [`RootsCache::global`] for the rest).
///
/// # Errors
/// The cached [`NativeRootsError`] when the load failed (see the crate docs for the decision
/// table); the same value comes back on every call until a door reopens it: a
/// [`refresh`](RootsCache::refresh), a change of the store's files, or time for a failure that
/// met only transient errors.
///
/// # Caveats
/// The first call reads the OS store (milliseconds on Linux, hundreds of ms on macOS) and may
/// retry with backoff; later calls cost about one `Arc` clone. The store is *not* re-read when the
/// OS store changes: [`refresh`](RootsCache::refresh) it, or follow it with a
/// [`Watcher`](crate::Watcher).
///
/// # Environment variables
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` replace the platform store (see the
/// [crate docs](crate#environment-variables)). They are read by the first load (and by each
/// refresh).
pub fn native_roots() -> Result<Arc<RootCertStore>, NativeRootsError> {
    GLOBAL.native_roots()
}

/// Eagerly trigger the first load, for a daemon's boot path that wants to know the trust store's
/// status before any TLS code runs. Idempotent: later calls return the cached outcome without
/// touching the OS.
///
/// # Errors
/// As [`native_roots`].
pub fn warm_native_roots() -> Result<Arc<RootCertStore>, NativeRootsError> {
    GLOBAL.native_roots()
}
