//! The process-wide cache of the operating system's trust store and the free functions over it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;

use crate::{
    ChangeCheck, FirstLoad, LoadReport, NativeRootsError, Refresh, RootsCache, WatchHandle, Watcher,
};

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

/// Start following the process-wide store: a [`Watcher`] thread polls `SSL_CERT_FILE`,
/// `SSL_CERT_DIR` or the system CA files by signature (every 5 s by default), or reloads the macOS
/// and Windows stores in full (every 5 minutes), and publishes each change. Dropping the handle
/// stops it. Nothing of this runs in a process that does not call it.
///
/// # Errors
/// The operating system's error when the thread cannot be started.
pub fn watch_native_roots(watcher: Watcher) -> std::io::Result<WatchHandle> {
    watcher.start(&GLOBAL)
}

/// One poll of the process-wide store, for callers with a scheduler of their own. See
/// [`RootsCache::check_for_changes`].
pub fn check_native_roots() -> ChangeCheck {
    GLOBAL.check_for_changes()
}

/// Block until the process-wide store publishes a generation newer than `seen`, at most
/// `timeout`; the new generation, or `None` on timeout.
pub fn wait_for_native_roots_generation(seen: u64, timeout: Duration) -> Option<u64> {
    GLOBAL.wait_for_generation(seen, timeout)
}

/// The process-wide store for async code: the first load runs on a thread of its own (started
/// here if no load has started yet), so no executor thread blocks on it; later calls resolve at
/// once with the cached outcome.
///
/// # Errors
/// As [`native_roots`], when the future resolves.
pub fn native_roots_async() -> FirstLoad<'static, crate::PlatformSource> {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if !GLOBAL.has_outcome() && !STARTED.swap(true, Ordering::AcqRel) {
        let spawned = std::thread::Builder::new()
            .name("native-roots-load".into())
            .spawn(|| drop(GLOBAL.native_roots()));
        if let Err(err) = spawned {
            // Load on this thread rather than never: a blocked executor beats a future that
            // never resolves.
            log::warn!(
                "could not start a thread for the first trust-store load ({err}); loading inline"
            );
            let _ = GLOBAL.native_roots();
        }
    }
    GLOBAL.loaded()
}
