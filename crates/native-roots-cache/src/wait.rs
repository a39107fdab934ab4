//! Futures of a cache's next publish, built on std's `Waker` alone: they run on any executor
//! (tokio, async-std, smol, a hand-written `block_on`) and never block the thread that polls them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::RootCertStore;

use crate::cache::RootsCache;
use crate::error::NativeRootsError;
use crate::source::TrustSource;

/// The future of [`RootsCache::next_generation`]: the first generation newer than the one seen.
#[must_use = "futures do nothing unless polled"]
pub struct NextGeneration<'a, S> {
    cache: &'a RootsCache<S>,
    seen: u64,
}

impl<'a, S: TrustSource> NextGeneration<'a, S> {
    pub(crate) fn new(cache: &'a RootsCache<S>, seen: u64) -> Self {
        Self { cache, seen }
    }
}

impl<S: TrustSource> Future for NextGeneration<'_, S> {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let (cache, seen) = (self.cache, self.seen);
        if cache
            .notifier()
            .register(cx.waker(), || cache.generation() > seen)
        {
            Poll::Ready(cache.generation())
        } else {
            Poll::Pending
        }
    }
}

impl<S> fmt::Debug for NextGeneration<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextGeneration")
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// The future of [`RootsCache::loaded`]: the first load's outcome, once it is published.
#[must_use = "futures do nothing unless polled"]
pub struct FirstLoad<'a, S> {
    cache: &'a RootsCache<S>,
}

impl<'a, S: TrustSource> FirstLoad<'a, S> {
    pub(crate) fn new(cache: &'a RootsCache<S>) -> Self {
        Self { cache }
    }
}

impl<S: TrustSource> Future for FirstLoad<'_, S> {
    type Output = Result<Arc<RootCertStore>, NativeRootsError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let cache = self.cache;
        if !cache
            .notifier()
            .register(cx.waker(), || cache.has_outcome())
        {
            return Poll::Pending;
        }
        match cache.published_roots() {
            Some(outcome) => Poll::Ready(outcome),
            // Published between the check and the read: impossible, since outcomes are never
            // withdrawn; wait for the next publish rather than panic.
            None => Poll::Pending,
        }
    }
}

impl<S> fmt::Debug for FirstLoad<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstLoad").finish_non_exhaustive()
    }
}
