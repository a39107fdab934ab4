//! [`ReloadGate`]: the trust store's debounce, bounded read and settled file read, offered to a
//! value of a crate above that reloads from files (a rotating client identity), so that it
//! follows the same rules with the same code.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::cache::debounce::{Debounce, Look};
use crate::cache::expiry::ExpiryWarnings;
use crate::cache::throttle::Throttle;
use crate::load::bounded_job::{self, Unread};
use crate::source::read_progress::Progress;
use crate::source::settled;
use crate::source::signature::SourceSignature;

/// What decides when a value is read again from its source, and runs that read, with the trust
/// store's rules: what the value keeps between its checks.
///
/// - the debounce ([`observe`](Self::observe), [`loaded`](Self::loaded)): a change of the
///   files' [`SourceSignature`] is read only once it held still across two looks, and a
///   signature whose read failed is not read again until the files change again;
/// - the bounded read ([`run`](Self::run)): one read at a time on a thread of its own, bounded
///   by a deadline; a read past its deadline is left to finish, and no second one starts while
///   it runs; a panic is an error;
/// - the settled file read ([`read_file`](Self::read_file));
/// - the throttle of looks started for an outside reason ([`try_look`](Self::try_look)) and the
///   stages of expiry warnings ([`expiry_warning`](Self::expiry_warning)), as the trust store
///   keeps them.
///
/// One check at a time: keep it behind the lock that serialises the value's checks.
#[derive(Debug)]
pub struct ReloadGate {
    thread: &'static str,
    debounce: Debounce,
    stuck: Option<Arc<Progress>>,
    looks: Throttle,
    expiry: ExpiryWarnings,
}

/// The least time between two looks started for an outside reason ([`ReloadGate::try_look`]).
const LOOK_INTERVAL: Duration = Duration::from_secs(1);

impl ReloadGate {
    /// Nothing read yet; reads run on threads named `thread`.
    pub const fn new(thread: &'static str) -> Self {
        Self {
            thread,
            debounce: Debounce::new(),
            stuck: None,
            looks: Throttle::new(),
            expiry: ExpiryWarnings::new(),
        }
    }

    /// Whether a look started for an outside reason (a server that refused the value in use)
    /// may run now: at most one a second, as the trust store looks at the files of a cached
    /// failure. `true` counts as the look started.
    pub fn try_look(&mut self) -> bool {
        self.looks.try_start(Instant::now(), LOOK_INTERVAL)
    }

    /// Whether the value in use, valid until `not_after`, is due an expiry warning `window`
    /// ahead, with the trust store's stages: `Some` of the time left once it entered the window,
    /// `Some(Duration::ZERO)` once it expired, each once; `None` otherwise. A value with another
    /// end starts afresh.
    pub fn expiry_warning(&mut self, not_after: SystemTime, window: Duration) -> Option<Duration> {
        self.expiry.due(not_after, SystemTime::now(), window)
    }

    /// What a look at the files (`now`) found: [`Look::Changed`] once a change held still
    /// across two looks (read it now), else [`Look::Unchanged`] or [`Look::Pending`].
    pub fn observe(&mut self, now: SourceSignature) -> Look {
        self.debounce.observe(now)
    }

    /// Whether a look at the files (`now`) finds them as the value in use, or the last failed
    /// read, found them: for a caller with a reason to read a change at once, without waiting
    /// for it to hold still across a second look (such as a server that refused the identity
    /// in use). A file still being written is then caught by the read's own torn-read checks.
    pub fn seen(&self, now: &SourceSignature) -> bool {
        self.debounce.seen(now)
    }

    /// Record a read of the files at `signature` (taken before the read, so that a change
    /// during it shows as a change): the value in use now matches it, or, when the read failed,
    /// it is not read again until the files change again.
    pub fn loaded(&mut self, signature: Option<SourceSignature>, ok: bool) {
        self.debounce.loaded(signature, ok);
    }

    /// Run `read` on a thread of its own and wait for it at most `deadline`.
    ///
    /// # Errors
    /// [`Unread::Deadline`], [`Unread::StillRunning`] (an earlier read still runs past its
    /// deadline: no second one was started), [`Unread::Panicked`] or [`Unread::NotStarted`].
    pub fn run<T: Send + 'static>(
        &mut self,
        deadline: Duration,
        read: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Unread> {
        bounded_job::run(&mut self.stuck, self.thread, deadline, read)
    }

    /// The whole content of the regular file at `path` (through its symlinks), read as the trust
    /// store reads its bundle: a FIFO, socket, device or directory is refused without being
    /// opened (reading it could block), a zero-size file is not opened, a file over 64 MiB is
    /// refused, and a file modified within the last few milliseconds is given that long to hold
    /// still. A torn read (the file changed during the read, or is empty and was modified
    /// within the last 2 s: being rewritten) is not returned.
    ///
    /// # Errors
    /// The operating system's error; [`InvalidInput`](io::ErrorKind::InvalidInput) for a file
    /// that is not a regular one, [`InvalidData`](io::ErrorKind::InvalidData) for one too large,
    /// [`Interrupted`](io::ErrorKind::Interrupted) for a torn read (read it again once it holds
    /// still).
    pub fn read_file(path: &Path) -> io::Result<Vec<u8>> {
        settled::read_settled(path)
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use test_pki::{scratch_dir, settle};

    #[test]
    #[cfg_attr(miri, ignore = "real files: Miri isolates the file system")]
    fn read_file_returns_whole_files_only() {
        let dir = scratch_dir("reload-gate");
        let whole = dir.write("whole.pem", "abc");
        assert_eq!(ReloadGate::read_file(&whole).unwrap(), b"abc");
        let kind = |path: &Path| ReloadGate::read_file(path).unwrap_err().kind();
        // A directory is refused without being opened.
        assert_eq!(kind(&dir), io::ErrorKind::InvalidInput);
        // Emptied just now: a writer that truncates first, not yet done (a torn read).
        let empty = dir.write("empty.pem", "");
        assert_eq!(kind(&empty), io::ErrorKind::Interrupted);
        // Empty for long: what it is.
        settle(&empty);
        assert_eq!(ReloadGate::read_file(&empty).unwrap(), b"");
        assert_eq!(kind(&dir.join("missing.pem")), io::ErrorKind::NotFound);
    }
}
