//! [`ConfigHandle`]: one upstream's current config, kept by a proxy per upstream and read without
//! a map lookup or a shared lock.
//!
//! Guarantees: a call to [`ConfigHandle::config`] that starts after the cache's native roots
//! published a new generation returns a config built from that generation or a newer one (it
//! rebuilds through the cache, one caller at a time, when it is the first to notice); the
//! returned `Arc` is the cache's own (`Arc::ptr_eq` with `ClientConfigCache::get`); upstream keys
//! that do not read the native roots never rebuild.
//!
//! The hot path is one atomic load of the roots' generation, one of the handle's stamp, a look at
//! a per-thread remembered (stamp, config) pair, and the `Arc` clone the caller asked for. Why not
//! arc-swap alone: its `load_full` costs two more atomic read-modify-writes than a bare clone
//! (one to take a debt slot, one to pay it back), about twice the cost of the clone on one
//! thread. The pair is what the core's `RootsCache::native_roots` does, with one slot per handle
//! (16 per thread, chosen by the handle's first stamp); a rebuild gives the handle a new stamp,
//! so a thread's remembered pair simply stops matching. The arc-swap holds the truth and serves
//! the first call of each thread after a rebuild.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use rustls::ClientConfig;

use crate::cache::{BuiltConfig, ClientConfigCache, Shared};
use crate::crl::Crls;
use crate::error::{BuildError, Chain};
use crate::roots::NativeRoots;
use crate::upstream::UpstreamTls;

/// Remembered pairs per thread; a handle uses one, chosen by its first stamp.
const SLOTS: usize = 16;

type Remembered = [Option<(u64, Arc<ClientConfig>)>; SLOTS];

std::thread_local! {
    /// The config each handle (by slot) last answered on this thread, under the handle's stamp.
    static REMEMBERED: RefCell<Remembered> = const { RefCell::new([const { None }; SLOTS]) };
}

/// Stamps are process-unique, so that a remembered pair never matches another handle (even one
/// sharing its slot, or built later at the same address).
static NEXT_STAMP: AtomicU64 = AtomicU64::new(1);

fn next_stamp() -> u64 {
    NEXT_STAMP.fetch_add(1, Ordering::Relaxed)
}

/// One upstream's config, from [`ClientConfigCache::handle`](crate::ClientConfigCache::handle):
/// what a proxy keeps per upstream instead of looking the upstream key up on each connection.
///
/// [`config`](Self::config) costs about one `Arc` clone: no hashing, no map, no lock shared with
/// other threads. After the cache's native roots publish a change, the next call rebuilds the
/// config through the cache (with a fresh session store: no session made under the old trust
/// resumes under the new). A rotating client identity rotates inside the config, which stays the
/// same.
///
/// ```no_run
/// use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};
///
/// # #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
/// # fn main() -> Result<(), tls_client_builder::BuildError> {
/// let cache = ClientConfigCache::new();
/// let upstream = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
/// let handle = cache.handle(&upstream)?; // keep it with the upstream
/// // Per connection:
/// let config = handle.config(); // Arc<ClientConfig>, current for the trust store
/// # Ok(()) }
/// # #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
/// # fn main() {}
/// ```
///
/// # Caveats
/// To make a call cost about one `Arc` clone, each thread remembers the config it returned last
/// for up to 16 handles: after a rebuild, or after the handle is dropped, a thread that does not
/// call again keeps that config alive (as the core's `native_roots` does with the store).
pub struct ConfigHandle {
    /// The native roots whose generation decides a rebuild.
    roots: Roots,
    /// The CRLs whose generation decides a rebuild too, when the trust set checks revocation.
    crls: Option<Crls>,
    /// The roots' generation `current` was built for.
    generation: AtomicU64,
    /// Changes with `current`; the key of the remembered pairs.
    stamp: AtomicU64,
    slot: usize,
    current: ArcSwap<BuiltConfig>,
    upstream: UpstreamTls,
    shared: Arc<Shared>,
    rebuilding: Mutex<()>,
}

impl ClientConfigCache {
    /// A handle on the config for `upstream`, for a proxy to keep per upstream: its
    /// [`config`](ConfigHandle::config) returns the current config without a map lookup or a
    /// shared lock, rebuilt (through this cache) after a change of the native roots. Building
    /// the config now, it reports a failure here rather than on each call.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn handle(&self, upstream: &UpstreamTls) -> Result<ConfigHandle, BuildError> {
        let shared = self.shared();
        let built = shared.lookup(upstream, Arc::clone)?;
        Ok(ConfigHandle::new(Arc::clone(shared), built))
    }
}

/// Where a handle reads the native roots' generation.
enum Roots {
    /// The trust does not read the native roots: never stale.
    Unused,
    /// The process-wide roots, read directly (no trait object on the hot path).
    Process,
    /// The roots given to the cache.
    Given(Arc<dyn NativeRoots>),
}

impl Roots {
    #[inline]
    fn generation(&self) -> Option<u64> {
        match self {
            Self::Unused => None,
            Self::Process => Some(native_roots_cache::RootsCache::global().generation()),
            Self::Given(roots) => Some(roots.generation()),
        }
    }
}

impl ConfigHandle {
    fn new(shared: Arc<Shared>, built: Arc<BuiltConfig>) -> Self {
        let upstream = built.upstream().clone();
        let roots = if !upstream.trust().uses_native() {
            Roots::Unused
        } else if shared.roots().is_process_roots() {
            Roots::Process
        } else {
            Roots::Given(Arc::clone(shared.roots()))
        };
        let crls = upstream
            .revocation()
            .map(|revocation| revocation.crls().clone());
        let stamp = next_stamp();
        Self {
            roots,
            crls,
            generation: AtomicU64::new(built.generation()),
            stamp: AtomicU64::new(stamp),
            // The remainder is below `SLOTS`: no truncation.
            slot: (stamp % SLOTS as u64) as usize,
            current: ArcSwap::new(built),
            upstream,
            shared,
            rebuilding: Mutex::new(()),
        }
    }

    /// The current config: the one built for the native roots' current generation (rebuilt now
    /// if this is the first call to notice a change), ready for `rustls::ClientConnection::new`.
    ///
    /// A rebuild cannot fail for an upstream key that built once, since the roots publish only
    /// stores that load; should one fail all the same, the handle keeps the config it has and
    /// logs the error.
    #[inline]
    pub fn config(&self) -> Arc<ClientConfig> {
        if self.is_stale() {
            return self.rebuild();
        }
        let stamp = self.stamp.load(Ordering::Acquire);
        // `try_with`: during thread teardown the thread-local may be gone; read `current` then.
        let remembered = REMEMBERED
            .try_with(|slots| {
                let slots = slots.try_borrow().ok()?;
                // The mask lets the compiler drop the bounds check.
                match &slots[self.slot & (SLOTS - 1)] {
                    Some((seen, config)) if *seen == stamp => Some(Arc::clone(config)),
                    _ => None,
                }
            })
            .ok()
            .flatten();
        match remembered {
            Some(config) => config,
            None => self.remember(stamp),
        }
    }

    /// The current config with where its trust came from (see [`BuiltConfig`]).
    pub fn built(&self) -> Arc<BuiltConfig> {
        if self.is_stale() {
            self.rebuild();
        }
        self.current.load_full()
    }

    /// The upstream key the handle was made for.
    pub fn upstream(&self) -> &UpstreamTls {
        &self.upstream
    }

    #[inline]
    fn is_stale(&self) -> bool {
        self.inputs_generation()
            .is_some_and(|now| now > self.generation.load(Ordering::Acquire))
    }

    /// The generation of what the config is built from and may change: the native roots' plus
    /// the CRLs' (as the cache adds them); `None` when neither is read.
    #[inline]
    fn inputs_generation(&self) -> Option<u64> {
        match (self.roots.generation(), &self.crls) {
            (native, None) => native,
            (native, Some(crls)) => Some(native.unwrap_or(0) + crls.generation()),
        }
    }

    /// Read `current` and remember it on this thread under `stamp` (read before it, so that
    /// `current` is at least as new as the stamp it is remembered under).
    #[cold]
    fn remember(&self, stamp: u64) -> Arc<ClientConfig> {
        let config = Arc::clone(self.current.load().config());
        let _ = REMEMBERED.try_with(|slots| {
            let replaced = slots.try_borrow_mut().ok().and_then(|mut slots| {
                slots[self.slot & (SLOTS - 1)].replace((stamp, Arc::clone(&config)))
            });
            // Dropped outside the borrow: a config's drop runs arbitrary code (its resolver's).
            drop(replaced);
        });
        config
    }

    #[cold]
    fn rebuild(&self) -> Arc<ClientConfig> {
        let _one_at_a_time = self
            .rebuilding
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.is_stale() {
            match self.shared.lookup(&self.upstream, Arc::clone) {
                Ok(built) => self.publish(built),
                Err(err) => self.keep_after_failure(&err),
            }
        }
        Arc::clone(self.current.load().config())
    }

    fn publish(&self, built: Arc<BuiltConfig>) {
        let generation = built.generation();
        self.current.store(built);
        // The stamp before the generation: a reader that sees the new generation sees the new
        // stamp, so it never answers from a pair remembered before the rebuild.
        self.stamp.store(next_stamp(), Ordering::Release);
        self.generation.store(generation, Ordering::Release);
    }

    /// The one place a failed rebuild is logged: no caller sees its error, since `config()`
    /// answers with the config it has. Logged with its causes and advice, which the error holds.
    #[cold]
    fn keep_after_failure(&self, err: &BuildError) {
        let Some(generation) = self.inputs_generation() else {
            return;
        };
        log::error!(
            "the config for {} could not be rebuilt for trust generation {generation}; \
             keeping the one built for generation {}: {}; {}",
            self.upstream,
            self.generation.load(Ordering::Relaxed),
            Chain(err),
            err.advice(),
        );
        // Not retried on every call: the next change of the roots tries again.
        self.generation.store(generation, Ordering::Release);
    }
}

impl fmt::Debug for ConfigHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigHandle")
            .field("upstream key", &self.upstream)
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
