//! Waiting for the store: for the next generation (blocking or as a future) and for the first
//! load without blocking an executor.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use rustls::RootCertStore;

use crate::cache::RootsCache;
use crate::load::error::NativeRootsError;
use crate::source::TrustSource;
use crate::sync::Ordering;

impl<S: TrustSource> RootsCache<S> {
    /// Block until a generation newer than `seen` is published, at most `timeout`; the new
    /// generation, or `None` on timeout. Pass the [`generation`](Self::generation) you built from.
    pub fn wait_for_generation(&self, seen: u64, timeout: Duration) -> Option<u64> {
        self.notifier
            .wait_until(timeout, || self.generation() > seen)
            .then(|| self.generation())
    }

    /// A future of the first generation newer than `seen`: [`wait_for_generation`] for async
    /// code, built on std's `Waker` alone, so it runs on any executor and blocks none.
    ///
    /// [`wait_for_generation`]: Self::wait_for_generation
    pub fn next_generation(&self, seen: u64) -> impl Future<Output = u64> + Send + '_ {
        std::future::poll_fn(move |cx| {
            if self
                .notifier
                .register(cx.waker(), || self.generation() > seen)
            {
                Poll::Ready(self.generation())
            } else {
                Poll::Pending
            }
        })
    }

    /// A future of the first load's outcome, for async code that must not block a runtime
    /// thread on the load. It does not start the load: [`load_async`](Self::load_async) or a
    /// [`Watcher`](crate::Watcher) does, on a thread of its own.
    pub fn loaded(
        &self,
    ) -> impl Future<Output = Result<Arc<RootCertStore>, NativeRootsError>> + Send + '_ {
        std::future::poll_fn(move |cx| {
            if !self.notifier.register(cx.waker(), || self.has_outcome()) {
                return Poll::Pending;
            }
            // Outcomes are never withdrawn once published.
            match self.current.load_full() {
                Some(published) => Poll::Ready(published.roots.clone()),
                None => Poll::Pending,
            }
        })
    }

    /// The store for async code: the first load runs on a thread of its own (started here if no
    /// load has started yet), so no executor thread blocks on it; once loaded, the future
    /// resolves at once with the cached outcome.
    ///
    /// # Errors
    /// As [`native_roots`](Self::native_roots), when the future resolves.
    pub fn load_async(
        &'static self,
    ) -> impl Future<Output = Result<Arc<RootCertStore>, NativeRootsError>> + Send + 'static {
        if !self.has_outcome() && !self.loading_started.swap(true, Ordering::AcqRel) {
            let spawned = std::thread::Builder::new()
                .name("native-roots-load".into())
                .spawn(|| drop(self.native_roots()));
            if let Err(err) = spawned {
                // Load on this thread rather than never: a blocked executor beats a future that
                // never resolves.
                log::warn!(
                    "could not start a thread for the first trust-store load ({err}); loading \
                     inline"
                );
                let _ = self.native_roots();
            }
        }
        self.loaded()
    }

    /// Whether anything has been published.
    pub(super) fn has_outcome(&self) -> bool {
        self.epoch.load(Ordering::Acquire) != 0
    }
}
