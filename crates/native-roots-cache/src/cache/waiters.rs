//! Waiting for a cache to publish: a blocking wait with a timeout, and futures built on std's
//! `Waker` alone (no runtime), woken by every publish.
//!
//! The condition a waiter waits for is read from the cache's atomics; the notifier's lock only
//! orders "check, then sleep" against "publish, then wake", so no wake-up is lost.

// std's primitives, not the loom shim's: the blocking wait has a timeout, which loom does not
// model, and the lock only orders wake-ups; what waiters wait for is read from the cache's
// atomics, which loom does model.
#![allow(clippy::disallowed_types)]

use std::sync::{Condvar, Mutex, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant};

/// The waiters of one cache.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    wakers: Mutex<Vec<Waker>>,
    published: Condvar,
}

impl Notifier {
    pub(crate) const fn new() -> Self {
        Self {
            wakers: Mutex::new(Vec::new()),
            published: Condvar::new(),
        }
    }

    /// Wake every waiter: called after each publish.
    pub(crate) fn notify(&self) {
        let wakers =
            std::mem::take(&mut *self.wakers.lock().unwrap_or_else(PoisonError::into_inner));
        self.published.notify_all();
        for waker in wakers {
            waker.wake();
        }
    }

    /// Block until `ready()` holds or `timeout` passes; whether it holds.
    pub(crate) fn wait_until(&self, timeout: Duration, ready: impl Fn() -> bool) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut guard = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if ready() {
                return true;
            }
            let left = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return false,
                },
                // A timeout too large to add to now: wait in long steps.
                None => Duration::from_secs(3600),
            };
            guard = self
                .published
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Register `waker` unless `ready()` already holds (checked again under the lock, so that a
    /// publish between the caller's check and this registration is not missed); whether it holds.
    pub(crate) fn register(&self, waker: &Waker, ready: impl Fn() -> bool) -> bool {
        let mut wakers = self.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        if ready() {
            return true;
        }
        // One entry per task: a future polled again, or recreated in a select loop, does not grow
        // the list.
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "Miri gives each vtable a fresh address, so Waker::will_wake never matches"
    )]
    fn a_registered_waker_is_woken_once_per_publish_and_not_duplicated() {
        let notifier = Notifier::new();
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        for _ in 0..10 {
            assert!(!notifier.register(&waker, || false));
        }
        assert_eq!(notifier.wakers.lock().unwrap().len(), 1);
        notifier.notify();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        notifier.notify();
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            1,
            "woken wakers are forgotten"
        );
        assert!(
            notifier.register(&waker, || true),
            "ready: nothing registered"
        );
        assert!(notifier.wakers.lock().unwrap().is_empty());
    }

    #[test]
    fn a_blocking_wait_ends_on_publish_or_timeout() {
        let notifier = Arc::new(Notifier::new());
        let flag = Arc::new(AtomicBool::new(false));
        assert!(!notifier.wait_until(Duration::from_millis(10), || flag.load(Ordering::SeqCst)));
        let publisher = {
            let (notifier, flag) = (Arc::clone(&notifier), Arc::clone(&flag));
            std::thread::spawn(move || {
                flag.store(true, Ordering::SeqCst);
                notifier.notify();
            })
        };
        assert!(notifier.wait_until(Duration::from_secs(60), || flag.load(Ordering::SeqCst)));
        publisher.join().unwrap();
    }
}
