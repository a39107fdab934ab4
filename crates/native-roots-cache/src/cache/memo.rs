//! The read path: [`RootsCache::native_roots`] and [`RootsCache::borrow_roots`], and the
//! per-thread memo that makes a cached read cost about one `Arc` clone (each thread remembers the
//! outcome it read last, under the epoch it was published at).

use std::cell::RefCell;
use std::sync::Arc;

use rustls::RootCertStore;

use crate::cache::RootsCache;
use crate::load::error::NativeRootsError;
use crate::source::TrustSource;
use crate::sync::Ordering;

#[cfg(not(loom))]
std::thread_local! {
    /// The last outcome this thread read from any cache, under its epoch.
    pub(super) static LAST_READ: RefCell<Option<LastRead>> = const { RefCell::new(None) };
}

#[cfg(loom)]
loom::thread_local! {
    pub(super) static LAST_READ: RefCell<Option<LastRead>> = RefCell::new(None);
}

/// Epochs are drawn from one process-wide counter, so that a stamp never matches an outcome of
/// another cache (even one later built at the same address). Only uniqueness matters here, so it
/// is std's atomic even under loom.
#[allow(clippy::disallowed_types)]
pub(super) static NEXT_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub(super) struct LastRead {
    pub(super) epoch: u64,
    pub(super) roots: Result<Arc<RootCertStore>, NativeRootsError>,
}

impl<S: TrustSource> RootsCache<S> {
    /// The cached store, loading it on the first call.
    ///
    /// Concurrent first callers wait on one load; every later call is a lock-free read and an
    /// `Arc` clone of the same store, or a clone of the same error, without touching the OS.
    ///
    /// # Errors
    /// The cached [`NativeRootsError`] when the load failed: it comes back unchanged on every
    /// call until [`refresh`](Self::refresh) succeeds. Also
    /// [`Reentrant`](crate::NativeRootsErrorKind::Reentrant), uncached, when called from inside this
    /// cache's own source.
    ///
    /// # Caveats
    /// To make a cached call cost about one `Arc` clone, each thread remembers the outcome it read
    /// last: after a refresh, a thread that never calls again keeps the previous store alive.
    pub fn native_roots(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        let epoch = self.epoch.load(Ordering::Acquire);
        if epoch == 0 {
            return self.first_load();
        }
        // `try_with`: during thread teardown the thread-local may be gone; read `current` then.
        let remembered = LAST_READ
            .try_with(|last| match last.try_borrow().as_deref() {
                Ok(Some(last)) if last.epoch == epoch => Some(last.roots.clone()),
                _ => None,
            })
            .ok()
            .flatten();
        if let Some(roots) = remembered {
            return match roots {
                Ok(roots) => Ok(roots),
                Err(err) => self.heal(err),
            };
        }
        let Some(published) = self.current.load_full() else {
            return self.first_load();
        };
        // `current` may be newer than `epoch`; remembering it under the older stamp only costs
        // one more read of `current` on the next call.
        // Skipped when a `borrow_roots` callback on this thread holds the borrow.
        let _ = LAST_READ.try_with(|last| {
            if let Ok(mut last) = last.try_borrow_mut() {
                *last = Some(LastRead {
                    epoch,
                    roots: published.roots.clone(),
                });
            }
        });
        match &published.roots {
            Ok(roots) => Ok(Arc::clone(roots)),
            Err(err) => self.heal(err.clone()),
        }
    }

    /// Run `f` on a borrow of the cached store, without touching its reference count: the read to
    /// use on hot paths shared by many threads. Loads on first use like
    /// [`native_roots`](Self::native_roots).
    pub fn borrow_roots<R>(
        &self,
        f: impl FnOnce(Result<&RootCertStore, &NativeRootsError>) -> R,
    ) -> R {
        let epoch = self.epoch.load(Ordering::Acquire);
        let mut f = Some(f);
        if epoch != 0 {
            // Borrow what this thread remembers; `try_borrow` because `f` may read the cache
            // again (which is fine) while this borrow is held.
            let out = LAST_READ
                .try_with(|last| {
                    let last = last.try_borrow().ok()?;
                    // A cached failure goes through `native_roots`, which may heal it.
                    let last = last
                        .as_ref()
                        .filter(|last| last.epoch == epoch && last.roots.is_ok())?;
                    let f = f.take()?;
                    Some(f(last.roots.as_deref()))
                })
                .ok()
                .flatten();
            if let Some(out) = out {
                return out;
            }
        }
        let f = f.expect("`f` is taken only when it has run");
        // A miss: read through `native_roots`, which also remembers the outcome for next time.
        f(self.native_roots().as_deref())
    }
}
