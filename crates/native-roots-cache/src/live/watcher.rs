//! Live trust, opt-in: a [`Watcher`] thread that follows trust-store changes (stopped when its
//! [`WatchHandle`] drops), and the debounce that decides when a change is worth a reload.
//!
//! File sources are polled by [`SourceSignature`]: a reload runs only when the signature changed
//! and then held still across two polls, so a bundle being written is not even read. Sources
//! without a signature (the macOS and Windows stores) are reloaded in full on a longer timer;
//! either way a reload publishes only a changed anchor set, and a failed one keeps the last good
//! store. A process that starts no watcher has no thread and no timer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::cache::RootsCache;
use crate::cache::changes::ChangeCheck;
use crate::live::watched::Watched;
use crate::load::bounded_job::panic_message;
use crate::source::TrustSource;

/// Starts a thread that follows a [`RootsCache`]'s trust source and publishes its changes.
///
/// ```no_run
/// use std::time::Duration;
/// use native_roots_cache::{RootsCache, Watcher};
///
/// // The process-wide store: polled every 5 s (files) or reloaded every 5 min (macOS, Windows).
/// let roots = RootsCache::global();
/// let watching = Watcher::new().start(roots)?;
/// // ... later, wait for the next published change:
/// let seen = roots.generation();
/// if let Some(generation) = roots.wait_for_generation(seen, Duration::from_secs(60)) {
///     println!("trust store generation {generation}");
/// }
/// drop(watching); // stops the thread
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watcher {
    poll_interval: Duration,
    reload_interval: Duration,
}

impl Default for Watcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Watcher {
    /// Poll file sources every 5 s; reload sources without a signature every 5 minutes (the
    /// period .NET uses and the rustls-platform-verifier maintainers suggest).
    pub const fn new() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            reload_interval: Duration::from_secs(300),
        }
    }

    /// How often the signature of a file source is taken (a `stat` pass, no parse). A change is
    /// published at most one interval plus one more (the debounce) after it is made.
    pub const fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How often a source without a signature (the macOS and Windows stores) is read in full.
    pub const fn with_reload_interval(mut self, interval: Duration) -> Self {
        self.reload_interval = interval;
        self
    }

    /// Start following `watched` (an `Arc<RootsCache<S>>`, a `&'static RootsCache<S>`, or any
    /// other [`Watched`] value, such as a rotating client identity) on a thread of its own,
    /// which first loads the store if nobody has yet. The thread stops when the returned handle
    /// is dropped.
    ///
    /// # Errors
    /// The operating system's error when the thread cannot be started.
    pub fn start<W: Watched + 'static>(self, watched: W) -> std::io::Result<WatchHandle> {
        self.start_with(watched, |_| {})
    }

    /// [`start`](Self::start), handing what each poll found to `on_poll` on the watcher's
    /// thread: for the trust store a [`ChangeCheck`], so that a caller sees each published change
    /// (`Reloaded` with [`Refresh::changed`](crate::Refresh::changed)) and each failed reload
    /// (`Failed`, the store in use staying), not only the log. Keep `on_poll` short (send to a
    /// channel): the next poll waits for it.
    ///
    /// ```no_run
    /// use std::sync::mpsc;
    /// use native_roots_cache::{ChangeCheck, RootsCache, Watcher};
    ///
    /// let (events, received) = mpsc::channel();
    /// let _watching = Watcher::new().start_with(RootsCache::global(), move |check| {
    ///     if matches!(check, ChangeCheck::Reloaded(_) | ChangeCheck::Failed(_)) {
    ///         let _ = events.send(check);
    ///     }
    /// })?;
    /// for check in received {
    ///     match check {
    ///         ChangeCheck::Failed(err) => eprintln!("reload failed: {err}; {}", err.advice()),
    ///         ChangeCheck::Reloaded(refresh) if refresh.changed => {
    ///             println!("generation {}", refresh.generation)
    ///         }
    ///         _ => {}
    ///     }
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// The operating system's error when the thread cannot be started.
    pub fn start_with<W: Watched + 'static>(
        self,
        watched: W,
        mut on_poll: impl FnMut(W::Check) + Send + 'static,
    ) -> std::io::Result<WatchHandle> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("native-roots-watch".into())
            .spawn(move || self.run(&watched, &mut on_poll, &stopped))?;
        Ok(WatchHandle {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn run<W: Watched + ?Sized>(
        self,
        watched: &W,
        on_poll: &mut dyn FnMut(W::Check),
        stopped: &mpsc::Receiver<()>,
    ) {
        let checked = catch_unwind(AssertUnwindSafe(|| {
            watched.begin_watching();
            let interval = if watched.has_signature() {
                self.poll_interval
            } else {
                self.reload_interval
            };
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                on_poll(watched.poll());
            }
        }));
        if let Err(panic) = checked {
            log::error!(
                "a watcher panicked and stopped ({}); the value in use stays in use, but changes \
                 are no longer followed: start a new watcher",
                panic_message(panic.as_ref())
            );
        }
    }
}

/// The trust store as a watcher follows it.
impl<S: TrustSource> Watched for RootsCache<S> {
    type Check = ChangeCheck;

    fn has_signature(&self) -> bool {
        RootsCache::has_signature(self)
    }

    fn begin_watching(&self) {
        self.start_watching();
        // The first load, on this thread rather than a caller's; its outcome is cached.
        let _ = self.native_roots();
    }

    /// [`check_for_changes`](RootsCache::check_for_changes), which logs a failed reload once
    /// while it repeats.
    fn poll(&self) -> ChangeCheck {
        self.check_for_changes()
    }
}

/// A running [`Watcher`]: dropping it stops the thread (without waiting for it).
#[derive(Debug)]
pub struct WatchHandle {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl WatchHandle {
    /// Whether the watcher thread still runs (it ends when stopped, or if it panicked).
    pub fn is_running(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }

    /// Stop the watcher and wait for its thread to end (at most one check in progress, itself
    /// bounded by the cache's deadline).
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread's wait with `Disconnected`.
        self.stop.take();
    }
}
