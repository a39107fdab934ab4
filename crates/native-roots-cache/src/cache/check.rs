//! The looks of live trust: [`RootsCache::check_for_changes`] (one poll of a watcher, through
//! the debounce), [`RootsCache::check_now`] (a caller's reason to look at once), and the expiry
//! warnings of the store in use at each look.

use std::sync::{Arc, PoisonError};
use std::time::SystemTime;

use crate::cache::RootsCache;
use crate::cache::changes::ChangeCheck;
use crate::cache::debounce::Look;
use crate::source::TrustSource;
use crate::sync::Ordering;

impl<S: TrustSource> RootsCache<S> {
    /// Look whether the trust source changed, and reload it if so: one poll of what a
    /// [`Watcher`](crate::Watcher) does on its timer, for callers with a scheduler of their own.
    ///
    /// For a source with a [`signature`](TrustSource::signature) (files), this costs a `stat`
    /// pass; a change is read only once it held across two calls (a bundle being written is not
    /// read half-way), and a signature that failed to load is not retried until the files change
    /// again. A source without one (the macOS and Windows stores) is reloaded at every call, as
    /// [`refresh`](Self::refresh) does. Loads the store first if nobody has yet.
    ///
    /// A published change advances the [`generation`](Self::generation), is logged at `info` with
    /// the anchors added and removed, and wakes every waiter; a failed reload is logged at `warn`
    /// and keeps the store in use.
    pub fn check_for_changes(&self) -> ChangeCheck {
        self.start_watching();
        if self.epoch.load(Ordering::Acquire) == 0 {
            let _ = self.native_roots();
        }
        let decision = match self.source.signature() {
            Some(now) => self.lock_debounce().observe(now),
            None => Look::Changed,
        };
        if !matches!(decision, Look::Changed) {
            self.lock_streak().polled();
        }
        let check = match decision {
            Look::Unchanged => ChangeCheck::Unchanged,
            Look::Pending => ChangeCheck::Pending,
            Look::Changed => match self.refresh() {
                Ok(refresh) => ChangeCheck::Reloaded(refresh),
                Err(err) => ChangeCheck::Failed(err),
            },
        };
        self.warn_of_expiry();
        // The gauges of the facade, at each poll.
        #[cfg(feature = "metrics")]
        let _ = self.stats();
        check
    }

    /// Log the anchors of the store in use that entered the expiry warning window, or expired,
    /// since the last look (see [`LoadPolicy::with_expiry_warning`]).
    pub(super) fn warn_of_expiry(&self) {
        let generation = self.generation();
        // The store in use, read as published: no load, no healing door.
        let published = self.current.load_full();
        let Some(report) = published
            .filter(|published| published.roots.is_ok())
            .map(|published| Arc::clone(&published.report))
        else {
            return;
        };
        let mut expiry = self.expiry.lock().unwrap_or_else(PoisonError::into_inner);
        expiry.track(generation, &report);
        let entered = expiry.look(SystemTime::now(), self.policy.expiry_warning());
        drop(expiry);
        entered.log(&report.origin, self.policy.expiry_warning());
    }

    /// Look at once whether the trust source's files changed since the store in use (or the last
    /// failed load) was read, and read them now if so, without waiting for the change to hold
    /// across a second look: for a caller with a reason to think the store is out of date, such
    /// as a handshake that failed with an unknown issuer (`tls-client-builder` calls it then).
    /// The read follows the torn-read rules, so a file still being written is waited out or
    /// refused, never published half-way.
    ///
    /// Costs a `stat` pass when nothing changed. A source without a
    /// [`signature`](TrustSource::signature) (the macOS and Windows stores) has no cheap look,
    /// so this returns [`ChangeCheck::Unchanged`] without reading it: the operating system
    /// decides those stores' changes, and a [`Watcher`](crate::Watcher) reloads them on its timer.
    pub fn check_now(&self) -> ChangeCheck {
        self.start_watching();
        if self.epoch.load(Ordering::Acquire) == 0 {
            let _ = self.native_roots();
        }
        match self.source.signature() {
            Some(now) if !self.lock_debounce().seen(&now) => match self.refresh() {
                Ok(refresh) => ChangeCheck::Reloaded(refresh),
                Err(err) => ChangeCheck::Failed(err),
            },
            _ => ChangeCheck::Unchanged,
        }
    }

    /// From now on, loads take the source's signature.
    pub(crate) fn start_watching(&self) {
        self.watching.store(true, Ordering::Relaxed);
    }

    /// Whether the source has a cheap signature (files) or must be reloaded on a timer.
    pub(crate) fn has_signature(&self) -> bool {
        self.source.signature().is_some()
    }
}
