//! [`RootsCache`]: the load-once, publish-atomically state machine behind the global functions.
//!
//! Guarantees: at most one load runs per cache at a time (concurrent first callers wait on it);
//! after the first load every read is a lock-free `arc-swap` load plus an `Arc` clone; an outcome
//! is replaced only by [`RootsCache::refresh`]; a load that panics or outlives its deadline
//! becomes a cached error instead of a retry storm or a hang.

use std::cell::RefCell;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use rustls::RootCertStore;

use crate::certificate::{CertificateLocation, ReportedCertificate};
use crate::debounce::{Debounce, Decision};
use crate::error::{NativeRootsError, NativeRootsErrorKind};
use crate::notify::Notifier;
use crate::platform::PlatformSource;
use crate::policy::{LoadPolicy, Sleeper};
use crate::report::LoadReport;
use crate::source::{IncompleteFile, TrustSource};
use crate::sync::{AtomicU64, Mutex, Ordering, Slot};
use crate::wait::{FirstLoad, NextGeneration};
use crate::watch::ChangeCheck;
use crate::worker;

/// A cache of one trust store: loaded on first use, shared as `Arc<RootCertStore>`, replaced only
/// by an explicit [`refresh`](RootsCache::refresh).
///
/// The crate's free functions ([`native_roots`](crate::native_roots) and friends) use one global
/// `RootsCache<PlatformSource>`. Build your own to choose a [`LoadPolicy`], or to read another
/// [`TrustSource`], such as [`PemFiles`](crate::PemFiles) for trust paths from your own
/// configuration (tests inject scripted sources). It is `const`-constructible, so it can live in a
/// `static`:
///
/// ```
/// use std::time::{Duration, Instant};
/// use native_roots_cache::{LoadPolicy, RootsCache};
///
/// static ROOTS: RootsCache = RootsCache::new()
///     .with_policy(LoadPolicy::DEFAULT.with_deadline(Duration::from_secs(5)));
///
/// # std::env::remove_var("SSL_CERT_DIR");
/// # std::env::remove_var("SSL_CERT_FILE");
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
    stuck: worker::StuckLoader,
    loads: AtomicU64,
    /// A process-unique stamp of `current` (0: nothing published), written after it, that lets
    /// each thread reuse the result it read last without touching `current`.
    epoch: AtomicU64,
    /// The generation of `current`, written after it (under `load_lock`), so that the hot
    /// generation check of derived caches is one atomic load and never runs ahead of the store.
    generation: AtomicU64,
    /// Callers waiting for a publish (blocking or as futures).
    notifier: Notifier,
    /// Whether a watcher (or a caller of `check_for_changes`) follows this cache, so that loads
    /// take the source's signature; off, a load pays nothing for live trust.
    watching: std::sync::atomic::AtomicBool,
    /// Which signature the store in use was read at, and which change waits to hold still.
    debounce: std::sync::Mutex<Debounce>,
    /// When a cached failure last compared its files with what it read (rate-limits the
    /// failure's stat pass to one per [`HEAL_INTERVAL`]); held while that check runs.
    heal_checked: std::sync::Mutex<Option<Instant>>,
}

/// How often a call that meets a cached failure may look whether its files changed since.
const HEAL_INTERVAL: Duration = Duration::from_secs(1);

/// The outcome callers see, swapped in as one unit so that a store and its report always agree.
struct Published {
    roots: Result<Arc<RootCertStore>, NativeRootsError>,
    report: Arc<LoadReport>,
}

/// The result of a successful [`RootsCache::refresh`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Refresh {
    /// The store now published.
    pub roots: Arc<RootCertStore>,
    /// Whether the anchor set differed from the one published before (if unchanged, `roots` is
    /// the very same `Arc` as before and the generation did not move).
    pub changed: bool,
    /// The generation now published.
    pub generation: u64,
    /// The anchors' certificates the new store has and the previous one had not (empty when
    /// unchanged, or when the previous outcome was an error).
    pub added: Vec<ReportedCertificate>,
    /// The anchors' certificates the previous store had and the new one has not.
    pub removed: Vec<ReportedCertificate>,
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
                    loads: AtomicU64::new(0),
                    epoch: AtomicU64::new(0),
                    generation: AtomicU64::new(0),
                    notifier: Notifier::new(),
                    watching: std::sync::atomic::AtomicBool::new(false),
                    debounce: std::sync::Mutex::new(Debounce::new()),
                    heal_checked: std::sync::Mutex::new(None),
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
        // Skipped when a `with_roots` callback on this thread holds the borrow.
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

    /// A cached failure, or the outcome of one more load when the files it read have changed
    /// since it failed: a sticky failure heals when its files are fixed, with or without a
    /// watcher. At most one caller a second pays the stat pass of that look (the others get the
    /// cached error at once), and an unchanged failing store is never read again. Sources
    /// without a signature (the macOS and Windows stores) and failures that read nothing (a
    /// deadline, a panic) stay cached until a refresh.
    #[cold]
    fn heal(&self, cached: NativeRootsError) -> Result<Arc<RootCertStore>, NativeRootsError> {
        let Ok(mut checked) = self.heal_checked.try_lock() else {
            return Err(cached);
        };
        let now = Instant::now();
        if checked.is_some_and(|at| now.duration_since(at) < HEAL_INTERVAL) {
            return Err(cached);
        }
        *checked = Some(now);
        let Some(failed) = self.lock_debounce().failed().cloned() else {
            return Err(cached);
        };
        if self.source.signature().is_none_or(|now| now == failed) {
            return Err(cached);
        }
        log::info!("the trust store's files changed since its load failed; reading them again");
        match self.refresh() {
            Ok(refresh) => Ok(refresh.roots),
            Err(err) => Err(err),
        }
    }

    /// The same as [`native_roots`](Self::native_roots), named for a daemon's boot path.
    ///
    /// # Errors
    /// As [`native_roots`](Self::native_roots).
    pub fn warm(&self) -> Result<Arc<RootCertStore>, NativeRootsError> {
        self.native_roots()
    }

    /// Run `f` on a borrow of the cached store, without touching its reference count: the read to
    /// use on hot paths shared by many threads. Loads on first use like
    /// [`native_roots`](Self::native_roots).
    pub fn with_roots<R>(
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
        let mut loaded = self.run_load();
        let previous = self.current.load_full();
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
        self.record_signature(&loaded);
        match loaded.roots {
            Ok(new) => {
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
                if previous_roots.is_some() {
                    log::warn!(
                        "trust store refresh failed, keeping the previous store: {}",
                        err.explained()
                    );
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
            None => Decision::Reload,
        };
        match decision {
            Decision::Unchanged => ChangeCheck::Unchanged,
            Decision::Pending => ChangeCheck::Pending,
            Decision::Reload => match self.refresh() {
                Ok(refresh) => ChangeCheck::Reloaded(refresh),
                Err(err) => ChangeCheck::Failed(err),
            },
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
    pub fn next_generation(&self, seen: u64) -> NextGeneration<'_, S> {
        NextGeneration::new(self, seen)
    }

    /// A future of the first load's outcome, for async code that must not block a runtime
    /// thread on the load. It does not start the load: a [`Watcher`](crate::Watcher) does, on its
    /// own thread (the process-wide [`native_roots_async`](crate::native_roots_async) starts one
    /// for you).
    pub fn loaded(&self) -> FirstLoad<'_, S> {
        FirstLoad::new(self)
    }

    /// The outcome published now, if any (no load is started).
    pub(crate) fn published_roots(&self) -> Option<Result<Arc<RootCertStore>, NativeRootsError>> {
        self.current.load_full().map(|p| p.roots.clone())
    }

    /// Whether anything has been published.
    pub(crate) fn has_outcome(&self) -> bool {
        self.epoch.load(Ordering::Acquire) != 0
    }

    pub(crate) fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// From now on, loads take the source's signature.
    pub(crate) fn start_watching(&self) {
        self.watching
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the source has a cheap signature (files) or must be reloaded on a timer.
    pub(crate) fn has_signature(&self) -> bool {
        self.source.signature().is_some()
    }

    fn lock_debounce(&self) -> std::sync::MutexGuard<'_, Debounce> {
        self.debounce.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remember which files the outcome of `loaded` was read from: a watcher started later
    /// compares against them (an unchanged store is not read again), and so does a cached
    /// failure waiting for its files to change.
    fn record_signature(&self, loaded: &worker::Loaded) {
        self.lock_debounce()
            .loaded(loaded.signature.clone(), loaded.roots.is_ok());
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

    /// How many times this cache has read its trust source (first load plus refreshes; retries
    /// within one load count once).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
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
        let loaded = self.run_load();
        self.record_signature(&loaded);
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
        if !worker::is_loading(self.id()) {
            return Ok(());
        }
        Err(NativeRootsError::reentrant(&self.source.origin()))
    }

    /// Read the source once (with retries), on a worker thread bounded by the deadline.
    fn run_load(&self) -> worker::Loaded {
        self.loads.fetch_add(1, Ordering::Relaxed);
        worker::run(
            &self.source,
            &self.sleep,
            &self.policy,
            self.id(),
            &self.stuck,
            self.watching.load(std::sync::atomic::Ordering::Relaxed),
        )
    }
}

/// The anchors' certificates in `new` and not in `old`, and in `old` and not in `new`.
fn anchor_changes(
    old: &LoadReport,
    new: &LoadReport,
) -> (Vec<ReportedCertificate>, Vec<ReportedCertificate>) {
    use std::collections::HashSet;
    let ders = |report: &LoadReport| -> HashSet<Vec<u8>> {
        report
            .anchor_certificates
            .iter()
            .map(|c| c.der.as_ref().to_vec())
            .collect()
    };
    let (old_ders, new_ders) = (ders(old), ders(new));
    let only = |report: &LoadReport, other: &HashSet<Vec<u8>>| {
        report
            .anchor_certificates
            .iter()
            .filter(|c| !other.contains(c.der.as_ref()))
            .cloned()
            .collect()
    };
    (only(new, &old_ders), only(old, &new_ders))
}

/// `; added: A, B; removed: C` by subject, for the log line of a published change.
fn describe_changes(added: &[ReportedCertificate], removed: &[ReportedCertificate]) -> String {
    let subjects = |certs: &[ReportedCertificate]| {
        certs
            .iter()
            .map(|c| {
                c.subject()
                    .unwrap_or_else(|| format!("SHA-256 {}", c.sha256_hex()))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut text = String::new();
    if !added.is_empty() {
        text.push_str(&format!("; added {}: {}", added.len(), subjects(added)));
    }
    if !removed.is_empty() {
        text.push_str(&format!(
            "; removed {}: {}",
            removed.len(),
            subjects(removed)
        ));
    }
    text
}

/// The first file of a reload that must not replace the store `previous` describes: one cut
/// short (at any age: past the writer window a first load settles on what is whole, but a good
/// store is better than that), or one emptied where `previous` read anchors from.
fn held_back<'a>(
    previous: &LoadReport,
    incomplete: &'a [IncompleteFile],
) -> Option<&'a IncompleteFile> {
    if incomplete.is_empty() {
        return None;
    }
    let anchor_files: std::collections::HashSet<&std::path::Path> = previous
        .anchor_certificates
        .iter()
        .filter_map(|c| match &c.location {
            CertificateLocation::File(path) => Some(path.as_path()),
            _ => None,
        })
        .collect();
    incomplete.iter().find(|file| match file {
        IncompleteFile::CutShort(_) => true,
        IncompleteFile::Empty(path) => anchor_files.contains(path.as_path()),
    })
}

/// Whether two stores hold the same set of anchors, whatever their order.
fn same_anchors(a: &RootCertStore, b: &RootCertStore) -> bool {
    /// An anchor's identity: subject, public key and name constraints.
    type AnchorKey<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);
    fn set(store: &RootCertStore) -> Vec<AnchorKey<'_>> {
        let mut anchors: Vec<_> = store
            .roots
            .iter()
            .map(|anchor| {
                (
                    anchor.subject.as_ref(),
                    anchor.subject_public_key_info.as_ref(),
                    anchor.name_constraints.as_ref().map(|nc| nc.as_ref()),
                )
            })
            .collect();
        anchors.sort_unstable();
        anchors.dedup();
        anchors
    }
    set(a) == set(b)
}

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;
