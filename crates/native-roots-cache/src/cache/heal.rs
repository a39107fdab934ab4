//! Healing a cached failure from the call path: the doors [`load::heal::doors`] opens for its
//! kind (a change of its files, looked at once a second; time, for a failure that met only
//! transient errors), opened by one caller while the others get the cached error at once.
//!
//! [`load::heal::doors`]: crate::load::heal::doors

use std::sync::Arc;
use std::time::Instant;

use rustls::RootCertStore;

use crate::cache::{Healing, RootsCache};
use crate::load::error::NativeRootsError;
use crate::load::heal::{LOOK_INTERVAL, retry_after};
use crate::source::TrustSource;

impl<S: TrustSource> RootsCache<S> {
    /// A cached failure, or the outcome of one more load when a door its kind has
    /// ([`NativeRootsError::doors`], the decision its advice also reads) reopened it. Two doors
    /// open from the call path, with or without a watcher:
    /// - the failure's files changed since it read them (a sticky failure heals once its files
    ///   are fixed): at most one caller a second pays the stat pass of that look, and an
    ///   unchanged failing store is never read again; sources without a signature (the macOS and
    ///   Windows stores) never find a change;
    /// - time: it is read again [`retry_after`] it was published, 2 s at first, doubling while it
    ///   fails.
    ///
    /// The other callers get the cached error at once while one of them checks.
    #[cold]
    pub(super) fn heal(
        &self,
        cached: NativeRootsError,
    ) -> Result<Arc<RootCertStore>, NativeRootsError> {
        let Some(doors) = cached.doors() else {
            return Err(cached);
        };
        let Ok(mut healing) = self.healing.try_lock() else {
            return Err(cached);
        };
        let now = Instant::now();
        let due = self.current.load_full().is_some_and(|published| {
            now.duration_since(published.at) >= retry_after(healing.timed)
        });
        if doors.timed && due {
            healing.timed += 1;
            log::info!("the trust store's last load met only transient errors; reading it again");
            return self.reopen(&mut healing);
        }
        if !doors.files || !healing.looks.try_start(now, LOOK_INTERVAL) {
            return Err(cached);
        }
        let Some(failed) = self.lock_debounce().failed().cloned() else {
            return Err(cached);
        };
        if self.source.signature().is_none_or(|now| now == failed) {
            return Err(cached);
        }
        log::info!("the trust store's files changed since its load failed; reading them again");
        self.reopen(&mut healing)
    }

    /// Read the store again for [`heal`](Self::heal).
    pub(super) fn reopen(
        &self,
        healing: &mut Healing,
    ) -> Result<Arc<RootCertStore>, NativeRootsError> {
        let roots = self.refresh().map(|refresh| refresh.roots);
        if roots.is_ok() {
            healing.timed = 0;
        }
        roots
    }
}
