//! The process-wide cache of the operating system's trust store and the free functions over it.

use std::sync::Arc;

use rustls::RootCertStore;

use crate::{LoadReport, NativeRootsError, Refresh, RootsCache};

static GLOBAL: RootsCache = RootsCache::new();

/// Return the process-wide system trust store, loading it on the first call.
///
/// Pass the `Arc` straight to `ClientConfig::builder().with_root_certificates(store)`: every config
/// then shares the same anchors instead of holding a deep copy.
///
/// # Errors
/// The cached [`NativeRootsError`] when the load failed (see the crate docs for the decision
/// table); the same value comes back on every call until [`refresh_native_roots`] succeeds.
///
/// # Caveats
/// The first call reads the OS store (milliseconds on Linux, hundreds of ms on macOS) and may
/// retry with backoff; later calls cost about one `Arc` clone. The store is *not* re-read when the
/// OS store changes: call [`refresh_native_roots`] for that.
///
/// # Environment variables
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` replace the platform store (see the
/// [crate docs](crate#environment-variables)). They are read once, by the first load (and by each
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
    GLOBAL.warm()
}

/// Run `f` on a borrow of the process-wide store without touching its reference count: a read
/// that stays flat however many threads do it at once. Loads on first use.
pub fn with_native_roots<R>(f: impl FnOnce(Result<&RootCertStore, &NativeRootsError>) -> R) -> R {
    GLOBAL.with_roots(f)
}

/// Re-read the OS trust store on an operator's request and publish it if its anchors changed.
///
/// The only way the cached outcome is ever replaced: nothing retries implicitly. See
/// [`RootsCache::refresh`].
///
/// # Errors
/// The new load's error; a previously loaded store stays in place.
pub fn refresh_native_roots() -> Result<Refresh, NativeRootsError> {
    GLOBAL.refresh()
}

/// The generation of the process-wide store: 0 until a store is published, then advancing on
/// every published change. See [`RootsCache::generation`].
pub fn native_roots_generation() -> u64 {
    GLOBAL.generation()
}

/// The [`LoadReport`] of the outcome now cached, or `None` before the first load.
pub fn native_roots_report() -> Option<Arc<LoadReport>> {
    GLOBAL.report()
}

/// How many times this process has read the OS trust store (the first load plus refreshes).
pub fn native_roots_loads() -> u64 {
    GLOBAL.loads()
}
