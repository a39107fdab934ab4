//! [`Watched`]: what a [`Watcher`](crate::Watcher) follows. The trust store's cache is one; a
//! value of a crate above (a rotating client identity) is another, so that one watcher thread,
//! with one stop-on-drop handle, serves them all.

use std::sync::Arc;

/// A value read from a source that can look whether the source changed and read it again: what
/// a [`Watcher`](crate::Watcher) follows on its thread.
///
/// [`RootsCache`](crate::RootsCache) implements it (a poll is its `check_for_changes`), and so
/// does `tls_client_builder::RotatingIdentity`. A value of your own that reloads from files can
/// keep its debounce and its bounded read in a [`ReloadGate`](crate::ReloadGate).
pub trait Watched: Send + Sync {
    /// What one poll found and did: the trust store's [`ChangeCheck`](crate::ChangeCheck), an
    /// identity's `IdentityCheck`. A watcher started with
    /// [`Watcher::start_with`](crate::Watcher::start_with) hands each to its callback.
    type Check: Send + 'static;

    /// Whether a poll is a cheap look first (a `stat` of files, a
    /// [`SourceSignature`](crate::SourceSignature)): the watcher then polls every poll interval.
    /// Otherwise each poll reads the source in full, and runs every reload interval.
    fn has_signature(&self) -> bool;

    /// Run once on the watcher's thread before the first interval (the trust store loads here if
    /// nobody has yet). Nothing by default.
    fn begin_watching(&self) {}

    /// Look for a change and act on it (read again, swap in, log its own failures), and say
    /// what it found.
    fn poll(&self) -> Self::Check;
}

/// A shared reference to a watched value is watched (`&'static RootsCache`, `Arc<RootsCache>`).
macro_rules! through_pointer {
    ($($pointer:ty),*) => {$(
        impl<T: Watched + ?Sized> Watched for $pointer {
            type Check = T::Check;

            fn has_signature(&self) -> bool {
                (**self).has_signature()
            }

            fn begin_watching(&self) {
                (**self).begin_watching();
            }

            fn poll(&self) -> T::Check {
                (**self).poll()
            }
        }
    )*};
}

through_pointer!(&T, Arc<T>);
