//! **Layer 3, the cache's state machine**: load once, publish atomically, heal a cached failure,
//! count, and the rules it applies (debounce, changes, expiry, failure streaks, waits), plus the
//! process-wide cache. It uses `load/` and `source/`.
//!
//! [`RootsCache`]: the load-once, publish-atomically state machine behind [`native_roots`] and
//! [`RootsCache::global`].
//!
//! Guarantees: at most one load runs per cache at a time (concurrent first callers wait on it);
//! after the first load every read is a lock-free `arc-swap` load plus an `Arc` clone; an outcome
//! is replaced only by a refresh (the caller's, or one a door of a cached failure opens); a load
//! that panics or outlives its deadline becomes a cached error instead of a retry storm or a hang.
//!
//! [`native_roots`]: crate::native_roots

pub(crate) mod changes;
pub(crate) mod debounce;
pub(crate) mod expiry;
#[cfg(not(loom))]
pub(crate) mod global;
pub(crate) mod notify;
pub(crate) mod stats;
pub(crate) mod streak;

use std::cell::RefCell;
use std::future::Future;
use std::sync::{Arc, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use rustls::RootCertStore;

use crate::cache::changes::{
    ChangeCheck, Refresh, anchor_changes, describe_changes, held_back, same_anchors,
};
use crate::cache::debounce::{Debounce, Look};
use crate::cache::expiry::ExpiryWatch;
use crate::cache::notify::Notifier;
use crate::cache::stats::{Counters, RootsStats};
use crate::cache::streak::Streak;
use crate::load::error::{NativeRootsError, NativeRootsErrorKind};
use crate::load::policy::{LoadPolicy, Sleeper};
use crate::load::report::LoadReport;
use crate::load::run;
use crate::source::platform::PlatformSource;
use crate::source::{IncompleteFile, TrustSource};
use crate::sync::{AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering, Slot};

/// A cache of one trust store: loaded on first use, shared as `Arc<RootCertStore>`, replaced only
/// by an explicit [`refresh`](RootsCache::refresh).
///
/// [`native_roots`](crate::native_roots) and [`RootsCache::global`] are one process-wide
/// `RootsCache<PlatformSource>`. Build your own to choose a [`LoadPolicy`], or to read another
/// [`TrustSource`], such as [`PemFiles`](crate::PemFiles) for trust paths from your own
/// configuration (tests inject scripted sources). It is `const`-constructible, so it can live in a
/// `static`:
///
/// ```
/// use std::time::Duration;
/// use native_roots_cache::{LoadPolicy, RootsCache};
///
/// static ROOTS: RootsCache = RootsCache::new()
///     .with_policy(LoadPolicy::DEFAULT.with_deadline(Duration::from_secs(5)));
///
/// if let Ok(store) = ROOTS.native_roots() {
///     println!("{} anchors", store.len());
/// }
/// ```
pub struct RootsCache<S = PlatformSource> {
    source: S,
    sleep: Sleeper,
    policy: LoadPolicy,
    current: Slot<Published>,
    load_lock: Mutex<()>,
    /// A load that missed its deadline and may still be running, so that no second one starts.
    stuck: run::StuckLoader,
    /// Loads, changes and failures, counted (and published through `metrics` with its feature).
    counters: Counters,
    /// A process-unique stamp of `current` (0: nothing published), written after it, that lets
    /// each thread reuse the result it read last without touching `current`.
    epoch: AtomicU64,
    /// The generation of `current`, written after it (under `load_lock`), so that the hot
    /// generation check of derived caches is one atomic load and never runs ahead of the store.
    generation: AtomicU64,
    /// Callers waiting for a publish (blocking or as futures).
    notifier: Notifier,
    /// Whether [`load_async`](Self::load_async) started a loader thread.
    loading_started: AtomicBool,
    /// Whether a watcher (or a caller of `check_for_changes`) follows this cache, so that loads
    /// take the source's signature; off, a load pays nothing for live trust.
    watching: AtomicBool,
    /// Which signature the store in use was read at, and which change waits to hold still.
    debounce: Mutex<Debounce>,
    /// Whether reloads keep failing (the store in use stays good), so that a failure that
    /// repeats is logged once, and once more when it clears.
    streak: Mutex<Streak>,
    /// The anchors' ends of validity and the expiry warnings given.
    expiry: Mutex<ExpiryWatch>,
    /// How a cached failure may heal; held while one caller checks (the others return the
    /// cached error at once).
    healing: Mutex<Healing>,
}

/// The two doors a call may open for a cached failure, besides an explicit refresh.
#[derive(Debug)]
struct Healing {
    /// When the failure's files were last compared with what it read (at most once per
    /// [`HEAL_INTERVAL`]).
    checked: Option<Instant>,
    /// Timed reads of a failure that met only transient errors, since the last success.
    timed: u32,
}

/// How often a call that meets a cached failure may look whether its files changed since.
const HEAL_INTERVAL: Duration = Duration::from_secs(1);

/// How long after a failure that met only transient errors (whose causes pass: keychain
/// contention, descriptors or memory exhausted, a writer slower than the deadline) a call reads
/// the store again: 2 s, doubling with each such read that fails again, at most 5 minutes.
fn transient_retry_after(timed: u32) -> Duration {
    Duration::from_secs(2)
        .saturating_mul(1 << timed.min(8))
        .min(Duration::from_secs(300))
}

/// The outcome callers see, swapped in as one unit so that a store and its report always agree.
struct Published {
    roots: Result<Arc<RootCertStore>, NativeRootsError>,
    report: Arc<LoadReport>,
    /// When it was published.
    at: Instant,
}

#[cfg(not(loom))]
std::thread_local! {
    /// The last outcome this thread read from any cache, under its epoch.
    static LAST_READ: RefCell<Option<LastRead>> = const { RefCell::new(None) };
}

#[cfg(loom)]
loom::thread_local! {
    static LAST_READ: RefCell<Option<LastRead>> = RefCell::new(None);
}

/// Epochs are drawn from one process-wide counter, so that a stamp never matches an outcome of
/// another cache (even one later built at the same address). Only uniqueness matters here, so it
/// is std's atomic even under loom.
#[allow(clippy::disallowed_types)]
static NEXT_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

struct LastRead {
    epoch: u64,
    roots: Result<Arc<RootCertStore>, NativeRootsError>,
}

/// The constructors, `const` except under loom, whose primitives cannot be built in a constant.
macro_rules! constructors {
    ($($const:tt)?) => {
        impl RootsCache<PlatformSource> {
            /// A cache of the operating system's trust store with the default [`LoadPolicy`].
            pub $($const)? fn new() -> Self {
                Self::with_source(PlatformSource)
            }
        }

        impl<S: TrustSource> RootsCache<S> {
            /// A cache reading `source`, with the default [`LoadPolicy`].
            pub $($const)? fn with_source(source: S) -> Self {
                Self {
                    source,
                    sleep: Sleeper::Thread,
                    policy: LoadPolicy::DEFAULT,
                    current: Slot::const_empty(),
                    load_lock: Mutex::new(()),
                    stuck: Mutex::new(None),
                    counters: Counters::new(),
                    epoch: AtomicU64::new(0),
                    generation: AtomicU64::new(0),
                    notifier: Notifier::new(),
                    loading_started: AtomicBool::new(false),
                    watching: AtomicBool::new(false),
                    debounce: Mutex::new(Debounce::new()),
                    streak: Mutex::new(Streak::new()),
                    expiry: Mutex::new(ExpiryWatch::new()),
                    healing: Mutex::new(Healing {
                        checked: None,
                        timed: 0,
                    }),
                }
            }
        }
    };
}

#[cfg(not(loom))]
constructors!(const);
#[cfg(loom)]
constructors!();

impl Default for RootsCache<PlatformSource> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: TrustSource> RootsCache<S> {
    /// The same cache with another policy. Call it before the first load.
    pub const fn with_policy(mut self, policy: LoadPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The same cache waiting with `sleep` between attempts (unit tests record the waits).
    #[cfg(test)]
    #[cfg_attr(loom, allow(dead_code))]
    pub(crate) fn with_sleeper(mut self, sleep: impl Into<Sleeper>) -> Self {
        self.sleep = sleep.into();
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &LoadPolicy {
        &self.policy
    }

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

    /// A cached failure, or the outcome of one more load when a door reopened it. Two doors open
    /// from the call path, with or without a watcher:
    /// - the failure's files changed since it read them (a sticky failure heals once its files
    ///   are fixed): at most one caller a second pays the stat pass of that look, and an
    ///   unchanged failing store is never read again; sources without a signature (the macOS and
    ///   Windows stores) and failures that read nothing (a deadline, a panic) do not have it;
    /// - the failure met only transient errors (`TransientExhausted`): it is read again
    ///   [`transient_retry_after`] it was published, 2 s at first, doubling while it fails.
    ///
    /// The other callers get the cached error at once while one of them checks.
    #[cold]
    fn heal(&self, cached: NativeRootsError) -> Result<Arc<RootCertStore>, NativeRootsError> {
        let Ok(mut healing) = self.healing.try_lock() else {
            return Err(cached);
        };
        let now = Instant::now();
        let due = self.current.load_full().is_some_and(|published| {
            now.duration_since(published.at) >= transient_retry_after(healing.timed)
        });
        if cached.kind() == NativeRootsErrorKind::TransientExhausted && due {
            healing.timed += 1;
            log::info!("the trust store's last load met only transient errors; reading it again");
            return self.reopen(&mut healing);
        }
        if healing
            .checked
            .is_some_and(|at| now.duration_since(at) < HEAL_INTERVAL)
        {
            return Err(cached);
        }
        healing.checked = Some(now);
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
    fn reopen(&self, healing: &mut Healing) -> Result<Arc<RootCertStore>, NativeRootsError> {
        let roots = self.refresh().map(|refresh| refresh.roots);
        if roots.is_ok() {
            healing.timed = 0;
        }
        roots
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

    /// Read the trust store again and publish it if its anchors changed.
    ///
    /// This is the only way a cached outcome is ever replaced. On success with an unchanged anchor
    /// set, the published `Arc` and generation stay; with a changed one, the new store is
    /// published atomically and the generation advances. On failure a previously published store
    /// stays in place (and the error is returned); a previously cached error is replaced.
    ///
    /// # Errors
    /// The new load's [`NativeRootsError`], or [`Reentrant`](crate::NativeRootsErrorKind::Reentrant) when
    /// called from inside this cache's own source.
    pub fn refresh(&self) -> Result<Refresh, NativeRootsError> {
        self.reject_reentry()?;
        let _serialised = self
            .load_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let previous = self.current.load_full();
        // With a good store in use, a file being written is waited for the reload wait only: the
        // caller hears at once which file it is, and the store in use stays.
        let serving = previous.as_ref().is_some_and(|p| p.roots.is_ok());
        let mut loaded = self.run_load(serving);
        // Publishes are serialised by `load_lock`, so the mirror is exact here.
        let previous_generation = self.generation.load(Ordering::Acquire);
        let previous_roots = previous.as_ref().and_then(|p| p.roots.as_ref().ok());
        // A reload that found a file incomplete does not replace a good store, whether the cut
        // cost it some anchors or all of them.
        let replaceable = match &loaded.roots {
            Ok(_) => true,
            Err(err) => err.kind() == NativeRootsErrorKind::NoAnchors,
        };
        let good = previous.as_ref().filter(|_| previous_roots.is_some());
        if let (Some(previous), true) = (good, replaceable) {
            if let Some(file) = held_back(&previous.report, &loaded.incomplete) {
                let what = match file {
                    IncompleteFile::CutShort(_) => "is cut short: its last section has no END line",
                    IncompleteFile::Empty(_) => {
                        "is empty, though the store in use has anchors from it"
                    }
                };
                loaded.roots = Err(NativeRootsError::incomplete_file(
                    &loaded.report.origin,
                    loaded.report.attempts,
                    file.path(),
                    what,
                ));
            }
        }
        self.record_signature(&mut loaded);
        match loaded.roots {
            Ok(new) => {
                if let Some(failed) = self.lock_streak().succeeded() {
                    log::info!(
                        "trust store reloads recovered after {failed} failed polls: {}",
                        loaded.report
                    );
                }
                if let Some(old) = previous_roots.filter(|old| same_anchors(old, &new)) {
                    log::info!(
                        "trust store refreshed, anchors unchanged: {}",
                        loaded.report
                    );
                    self.publish(Ok(Arc::clone(old)), loaded.report, previous_generation);
                    return Ok(Refresh {
                        roots: Arc::clone(old),
                        changed: false,
                        generation: previous_generation,
                        added: Vec::new(),
                        removed: Vec::new(),
                    });
                }
                let generation = previous_generation + 1;
                let (added, removed) = match previous.as_ref().filter(|p| p.roots.is_ok()) {
                    Some(previous) => anchor_changes(&previous.report, &loaded.report),
                    None => (Vec::new(), Vec::new()),
                };
                log::info!(
                    "trust store changed, generation {generation}: {}{}",
                    loaded.report,
                    describe_changes(&added, &removed)
                );
                // After a failed first load, the first store published is not a change.
                self.counters
                    .published(&loaded.report.origin, previous_roots.is_some());
                self.publish(Ok(Arc::clone(&new)), loaded.report, generation);
                Ok(Refresh {
                    roots: new,
                    changed: true,
                    generation,
                    added,
                    removed,
                })
            }
            Err(err) => {
                self.counters.rejected(&loaded.report.origin, err.kind());
                let err = match previous_roots {
                    Some(_) => err.kept_store(),
                    None => err,
                };
                if previous_roots.is_some() {
                    if self.lock_streak().failed(&err) {
                        log::warn!(
                            "trust store refresh failed, keeping the previous store (reported \
                             once while it repeats): {}",
                            err.explained()
                        );
                    } else {
                        log::debug!("trust store refresh failed again: {err}");
                    }
                } else {
                    self.publish(Err(err.clone()), loaded.report, previous_generation);
                }
                Err(err)
            }
        }
    }

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
    fn warn_of_expiry(&self) {
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
        let days = self.policy.expiry_warning().as_secs() / 86_400;
        let anchors = |n: usize| match n {
            1 => "1 anchor".to_owned(),
            n => format!("{n} anchors"),
        };
        if !entered.expired.is_empty() {
            log::warn!(
                "trust store: {} in use from {} expired: {}; servers that chain only to it fail \
                 verification (remove or renew it)",
                anchors(entered.expired.len()),
                report.origin,
                entered.expired.join(", ")
            );
        }
        if !entered.window.is_empty() {
            log::warn!(
                "trust store: {} in use from {} expire within {days} days: {}",
                anchors(entered.window.len()),
                report.origin,
                entered.window.join(", ")
            );
        }
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
    fn has_outcome(&self) -> bool {
        self.epoch.load(Ordering::Acquire) != 0
    }

    /// From now on, loads take the source's signature.
    pub(crate) fn start_watching(&self) {
        self.watching.store(true, Ordering::Relaxed);
    }

    /// Whether the source has a cheap signature (files) or must be reloaded on a timer.
    pub(crate) fn has_signature(&self) -> bool {
        self.source.signature().is_some()
    }

    fn lock_debounce(&self) -> MutexGuard<'_, Debounce> {
        self.debounce.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_streak(&self) -> MutexGuard<'_, Streak> {
        self.streak.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remember which files the outcome of `loaded` was read from: a watcher started later
    /// compares against them (an unchanged store is not read again), and so does a cached
    /// failure waiting for its files to change.
    fn record_signature(&self, loaded: &mut run::Loaded) {
        let ok = loaded.roots.is_ok();
        self.lock_debounce().loaded(loaded.signature.take(), ok);
    }

    /// How many stores have been published: 0 before the first successful load, then advancing
    /// by one each time a load or refresh publishes a different anchor set.
    ///
    /// Caches of derived objects (such as `ClientConfig`s) compare it to know when to rebuild.
    /// Read the generation *before* the store, so that a store is never tagged newer than it is.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The report of the outcome now cached, or `None` before the first load.
    pub fn report(&self) -> Option<Arc<LoadReport>> {
        self.current.load_full().map(|p| Arc::clone(&p.report))
    }

    /// How many times this cache has read its trust source: [`RootsStats::loads`], for the
    /// crate's unit and loom tests.
    #[cfg(test)]
    pub(crate) fn loads(&self) -> u64 {
        self.counters.loads()
    }

    /// What this cache has done and the store in use, counted: loads, changes, failed loads by
    /// reason, when the store in use was published, its anchors, how many have expired and when
    /// the next one does. With the `metrics` feature, each call also sets the gauges of the
    /// facade (the counters move at each event); a [`Watcher`](crate::Watcher) sets them at
    /// each poll.
    ///
    /// Reads atomics, plus, once per published store, the anchors' dates (decoded on this
    /// thread, never on the load's path).
    pub fn stats(&self) -> RootsStats {
        // The generation first, so that the expiry list is never tagged newer than its store.
        let generation = self.generation();
        let mut stats = self.counters.snapshot();
        let Some(published) = self.current.load_full() else {
            return stats;
        };
        if let Ok(roots) = &published.roots {
            stats.anchors = roots.len();
            let mut expiry = self.expiry.lock().unwrap_or_else(PoisonError::into_inner);
            expiry.track(generation, &published.report);
            (stats.expired_anchors, stats.next_expiry) = expiry.census(SystemTime::now());
        }
        stats::set_gauges(&published.report.origin, &stats);
        stats
    }

    #[cold]
    fn first_load(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        self.reject_reentry()?;
        let _serialised = self
            .load_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Another caller may have finished the load while this one waited for the lock.
        if let Some(published) = self.current.load_full() {
            return published.roots.clone();
        }
        let mut loaded = self.run_load(false);
        self.record_signature(&mut loaded);
        match &loaded.roots {
            Ok(_) => self.counters.published(&loaded.report.origin, false),
            Err(err) => self.counters.rejected(&loaded.report.origin, err.kind()),
        }
        let generation = u64::from(loaded.roots.is_ok());
        self.publish(loaded.roots.clone(), loaded.report, generation);
        loaded.roots
    }

    fn publish(
        &self,
        roots: Result<Arc<RootCertStore>, NativeRootsError>,
        report: LoadReport,
        generation: u64,
    ) {
        self.current.store(Some(Arc::new(Published {
            roots,
            report: Arc::new(report),
            at: Instant::now(),
        })));
        self.epoch.store(
            NEXT_EPOCH.fetch_add(1, Ordering::Relaxed),
            Ordering::Release,
        );
        self.generation.store(generation, Ordering::Release);
        self.notifier.notify();
    }

    fn id(&self) -> usize {
        self as *const Self as usize
    }

    fn reject_reentry(&self) -> Result<(), NativeRootsError> {
        if !run::is_loading(self.id()) {
            return Ok(());
        }
        Err(NativeRootsError::reentrant(&self.source.origin()))
    }

    /// Read the source once (with retries), on a worker thread bounded by the deadline; with a
    /// good store `serving`, files being written are waited for the policy's reload wait only.
    fn run_load(&self, serving: bool) -> run::Loaded {
        let settle_for = if serving {
            self.policy.reload_wait()
        } else {
            self.policy.deadline()
        };
        self.counters.load_started();
        let loaded = run::run(
            &self.source,
            &self.sleep,
            &self.policy,
            self.id(),
            &self.stuck,
            self.watching.load(Ordering::Relaxed),
            settle_for,
        );
        self.counters.load_finished(&loaded.report.origin);
        loaded
    }
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
