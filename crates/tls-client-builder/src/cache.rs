//! [`ClientConfigCache`]: one ready `ClientConfig` per upstream key, built once, shared as `Arc`.
//!
//! Guarantees: a hit takes no lock and writes no line another thread writes (this thread's recent
//! slots, else a lock-free read of `scc::HashIndex`; the `Arc` clone; a count on this thread's
//! line); concurrent misses on one
//! upstream key build once (they wait on the entry's `OnceLock`, outside any map lock) while
//! different upstream keys build in parallel; configs of one trust set share one verifier and one
//! root store; each config has its own session store; an entry built from the cache's native
//! roots before their generation advanced is rebuilt on its next lookup; the number of entries is
//! bounded, oldest inserted evicted first. A [`ConfigHandle`](crate::ConfigHandle) shares the
//! cache's internals and rebuilds through them, so its configs are the cache's.

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use scc::HashIndex;
use scc::hash_index::Entry;

use crate::error::BuildError;
use crate::hasher::BuildPrehashed;
use crate::meter::{self, Hits};
use crate::provider;
use crate::roots::{NativeRoots, upstream_generation};
use crate::session::LazySessionStore;
use crate::settings::{SessionResumption, TlsVersions};
use crate::trust::{TrustProvenance, TrustSets};
use crate::upstream::{Follows, IdentityRef, UpstreamTls};

/// A built config with the facts behind it: which upstream key, and where its trust came from.
#[derive(Debug)]
pub struct BuiltConfig {
    config: Arc<ClientConfig>,
    provenance: TrustProvenance,
    upstream: UpstreamTls,
    verifier: Arc<dyn ServerCertVerifier>,
    /// The native roots' generation it was built for (0 when its trust does not use them).
    generation: u64,
    /// The config's session store, which rustls does not show.
    #[cfg(test)]
    sessions: Option<Arc<LazySessionStore>>,
}

impl BuiltConfig {
    /// The config, ready for `rustls::ClientConnection::new`.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// Where the trust anchors came from, including a webpki-roots fallback.
    pub fn provenance(&self) -> &TrustProvenance {
        &self.provenance
    }

    /// The upstream key the config was built for.
    pub fn upstream(&self) -> &UpstreamTls {
        &self.upstream
    }

    /// The server-certificate verifier, shared by every config of the same trust set (and
    /// native-roots generation): webpki's, which for the native roots also starts a look at
    /// their files on an unknown issuer (see
    /// [`reload_on_unknown_issuer`](ClientConfigCache::reload_on_unknown_issuer)).
    pub fn verifier(&self) -> &Arc<dyn ServerCertVerifier> {
        &self.verifier
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }
}

/// `<upstream key>; trust: <provenance>`, for logs and status pages.
impl fmt::Display for BuiltConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; trust: {}", self.upstream, self.provenance)
    }
}

/// Counters of a [`ClientConfigCache`], each monotonic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups answered with an entry already built (or being built by another thread). Counted
    /// per thread and summed when read: exact once the threads that looked up are done.
    pub hits: u64,
    /// Configs built (first builds and rebuilds after a change of the native roots), failed
    /// builds included.
    pub builds: u64,
    /// Of `builds`, the rebuilds: an entry built for an older generation of the native roots,
    /// built again for the new one.
    pub rebuilds: u64,
    /// Entries dropped to stay within the bound.
    pub evictions: u64,
    /// Times this cache obtained a store from its native roots to build a verifier: once per
    /// trust set per generation of the roots.
    pub trust_store_loads: u64,
    /// Trust sets built from webpki-roots because the native roots failed.
    pub fallbacks: u64,
    /// Looks at the native roots' files started by handshakes that met an unknown issuer (at
    /// most one a second).
    pub unknown_issuer_checks: u64,
}

/// One upstream key's config, built by the first thread to ask; tagged with the native roots'
/// generation it was built for (0 when its trust does not use them).
///
/// A hit on a recent slot reads `cache`, `key`, `generation` and `removed`: first, and on a line
/// of their own (`repr(C, align(64))`), never written after the slot is made but for `removed`.
#[repr(C, align(64))]
struct Slot {
    /// The cache's [`Shared::id`] and the upstream key, which this thread's recent slots are
    /// told apart by.
    cache: u64,
    key: UpstreamTls,
    generation: u64,
    /// Set when the slot leaves the map (evicted, dropped by `retain`, or replaced by a rebuild):
    /// recent slots are answered only while it is not.
    removed: AtomicBool,
    /// Survives rebuilds, so that the eviction queue still recognises the entry.
    id: u64,
    /// Whether it replaced an entry built for an older generation.
    rebuild: bool,
    outcome: OnceLock<Result<Ready, BuildError>>,
}

/// A built config, and its `ClientConfig` again beside the slot's generation, so that a hit
/// reaches the `Arc` it clones in one step from the slot.
struct Ready {
    config: Arc<ClientConfig>,
    built: Arc<BuiltConfig>,
}

/// The default bound on entries.
pub const DEFAULT_MAX_ENTRIES: usize = 4096;

/// Sets of this thread's recent slots, two slots each (512 in all, 8 KiB).
const RECENT_SETS: usize = 256;

std::thread_local! {
    /// The slots this thread found in a cache's map lately, of every cache, by upstream key:
    /// answered without the map's epoch guard and probe while their slot is still the map's
    /// ([`Slot::removed`]) and current. Allocated on the first hit.
    static RECENT: RefCell<Vec<[Option<Recent>; 2]>> = const { RefCell::new(Vec::new()) };
}

/// A slot this thread found in a map, with its config: a hit on it loads the config's `Arc`
/// from here while it checks the slot.
#[derive(Clone)]
struct Recent {
    slot: Arc<Slot>,
    config: Arc<ClientConfig>,
}

impl Recent {
    /// Whether this is the slot of `upstream` in the cache `cache`.
    #[inline]
    fn is_for(&self, cache: u64, upstream: &UpstreamTls) -> bool {
        self.slot.cache == cache
            && (self.slot.key.is_clone_of(upstream) || self.slot.key == *upstream)
    }
}

/// The set of `upstream`'s recent slots (bits of its precomputed hash that the map's bucket and
/// tag do not use alone).
#[inline]
fn recent_set(upstream: &UpstreamTls) -> usize {
    // The mask keeps eight bits: no truncation.
    (upstream.hash_value() >> 24) as usize & (RECENT_SETS - 1)
}

/// Remember `recent` on this thread: in place of an older slot of its key, else as the newer of
/// its set's two, dropping the older.
#[inline(never)]
fn remember(recent: Recent) {
    let displaced = RECENT.try_with(|lines| {
        let mut lines = lines.try_borrow_mut().ok()?;
        if lines.is_empty() {
            *lines = vec![[None, None]; RECENT_SETS];
        }
        let set = &mut lines[recent_set(&recent.slot.key)];
        let same = |way: &Option<Recent>| {
            way.as_ref()
                .is_some_and(|old| old.is_for(recent.slot.cache, &recent.slot.key))
        };
        if same(&set[0]) {
            set[0].replace(recent)
        } else if same(&set[1]) {
            set[1].replace(recent)
        } else {
            let older = set[1].take();
            set[1] = set[0].replace(recent);
            older
        }
    });
    // Dropped outside the borrow: the last reference to a config runs its resolver's drop.
    drop(displaced);
}

/// Ready rustls `ClientConfig`s, one per [`UpstreamTls`] upstream key.
///
/// ```no_run
/// use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};
///
/// # #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
/// # fn main() -> Result<(), tls_client_builder::BuildError> {
/// let cache = ClientConfigCache::new().max_entries(10_000);
/// let upstream = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
/// let config = cache.get(&upstream)?; // Arc<ClientConfig>; the next get is an Arc clone
/// # Ok(()) }
/// # #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
/// # fn main() {}
/// ```
///
/// One cache uses one crypto provider and one [`NativeRoots`] for every config it builds: the
/// process-wide system store unless [`with_roots`](Self::with_roots) gives it others.
///
/// # Caveats
/// To make a hit cost about two `Arc` clones, each thread remembers the entries it found last
/// (up to 512, of all caches, by upstream key; 8 KiB per thread that hits): an entry evicted,
/// dropped by [`retain`](Self::retain), rebuilt, or left behind by a dropped cache is never
/// answered again, but a thread that does not look up an upstream key of the same slot again
/// keeps its config alive (as [`ConfigHandle`](crate::ConfigHandle) threads do).
pub struct ClientConfigCache {
    /// Shared with the [`ConfigHandle`]s made from this cache, which rebuild through it.
    shared: Arc<Shared>,
}

/// The cache itself; [`ClientConfigCache`] and its handles hold it.
pub(crate) struct Shared {
    /// Process-unique, for this thread's recent slots (see [`RECENT`]).
    id: u64,
    /// Read without a lock; written (a miss, an eviction, `retain`) under a bucket's lock.
    entries: HashIndex<UpstreamTls, Arc<Slot>, BuildPrehashed>,
    /// Insertion order for eviction: (upstream key, slot id), one per entry.
    order: Mutex<VecDeque<(UpstreamTls, u64)>>,
    hits: Hits,
    /// Whether the native roots are the process-wide ones, whose generation a hit then reads
    /// without a call through the trait object.
    process_roots: bool,
    max_entries: AtomicUsize,
    trust: TrustSets,
    next_id: AtomicU64,
    builds: AtomicU64,
    rebuilds: AtomicU64,
    evictions: AtomicU64,
    /// The configs builds start from, one per `TlsVersions` (see [`template`](Self::template)).
    templates: [OnceLock<Result<ClientConfig, BuildError>>; 3],
}

impl ClientConfigCache {
    /// A cache using the crypto provider of the crate features (`aws-lc-rs` if enabled, else
    /// `ring`) and the process-wide system store (`RootsCache::global()`), bounded to
    /// [`DEFAULT_MAX_ENTRIES`].
    #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "ring", feature = "aws-lc-rs"))))]
    pub fn new() -> Self {
        Self::with_provider(provider::feature_provider())
    }

    /// A cache whose configs all use `provider`, building from the process-wide system store
    /// (`RootsCache::global()`).
    pub fn with_provider(provider: Arc<CryptoProvider>) -> Self {
        Self {
            shared: Arc::new(Shared::new(
                provider,
                Arc::new(native_roots_cache::RootsCache::global()),
                DEFAULT_MAX_ENTRIES,
            )),
        }
    }

    /// A cache using the process-wide default provider (`CryptoProvider::install_default`).
    ///
    /// # Errors
    /// [`BuildError::NoProvider`] when none is installed.
    pub fn with_process_default_provider() -> Result<Self, BuildError> {
        provider::process_default()
            .map(Self::with_provider)
            .ok_or_else(BuildError::no_provider)
    }

    /// Build `Trust::Native` (and `Trust::NativeWithWebpkiFallback`) configs from `roots`
    /// instead of the process-wide system store: a `native_roots_cache::RootsCache` of your own
    /// (its `PemFiles` source reads trust paths from your configuration), or an `Arc` or
    /// `&'static` reference to one, so that you can still call its `refresh()`. A refresh that
    /// publishes changed anchors advances their generation, and configs built from the old
    /// anchors are rebuilt on their next lookup.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use native_roots_cache::{PemFiles, RootsCache};
    /// use tls_client_builder::ClientConfigCache;
    ///
    /// static ROOTS: RootsCache = RootsCache::new(); // the system store, with your own policy
    /// # #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    /// # {
    /// let system = ClientConfigCache::new().with_roots(&ROOTS);
    /// let private = Arc::new(RootsCache::with_source(PemFiles::new().with_dir("/etc/my-app/ca.d")));
    /// let from_files = ClientConfigCache::new().with_roots(Arc::clone(&private));
    /// # }
    /// ```
    ///
    /// Set it before the first lookup: entries already built are dropped, and handles made
    /// before keep following the roots they were made with.
    #[must_use]
    pub fn with_roots(mut self, roots: impl NativeRoots + 'static) -> Self {
        let roots: Arc<dyn NativeRoots> = Arc::new(roots);
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => {
                if !shared.entries.is_empty() {
                    shared.retain(|_| false);
                }
                shared.process_roots = roots.is_process_roots();
                shared.trust.set_roots(roots);
            }
            None => {
                let provider = Arc::clone(self.provider());
                let max = self.shared.max_entries.load(Ordering::Relaxed);
                self.shared = Arc::new(Shared::new(provider, roots, max));
            }
        }
        self
    }

    /// Whether a handshake that fails with an unknown issuer, under a config that trusts the
    /// native roots, has their files looked at once for a change (on by default).
    ///
    /// The failure is the signal that a CA may have been rolled out since the store was read:
    /// the look ([`RootsCache::check_now`](native_roots_cache::RootsCache::check_now)) runs on a
    /// thread of its own, so the failing handshake is not delayed and fails as it would have; a
    /// changed signature is read at once (with the torn-read rules), and if the anchors changed,
    /// the next [`get`](Self::get) or [`ConfigHandle::config`](crate::ConfigHandle::config)
    /// returns the rebuilt config. At most one look starts a second per cache, however many
    /// handshakes fail ([`CacheStats::unknown_issuer_checks`] counts them); an unchanged store
    /// costs a `stat` pass. Stores without a cheap signature (macOS, Windows) are not read.
    #[must_use]
    pub fn reload_on_unknown_issuer(self, enabled: bool) -> Self {
        self.shared.trust.issuer_check().set_enabled(enabled);
        self
    }

    /// Bound the cache to `max` entries (at least 1); beyond it the oldest inserted entry is
    /// dropped. Set it before the first lookup.
    #[must_use]
    pub fn max_entries(self, max: usize) -> Self {
        self.shared.max_entries.store(max.max(1), Ordering::Relaxed);
        self
    }

    /// The crypto provider of every config this cache builds.
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        self.shared.trust.provider()
    }

    /// The config for `upstream`, built on the first call and shared afterwards.
    ///
    /// # Errors
    /// The [`BuildError`] of the build, cached like a config: the native roots' error
    /// ([`BuildError::NativeRoots`], unchanged), an unusable extra anchor, a client identity
    /// rustls rejects, versions the provider cannot do. An entry that failed because the native
    /// roots failed is rebuilt once a refresh publishes a store.
    #[inline]
    pub fn get(&self, upstream: &UpstreamTls) -> Result<Arc<ClientConfig>, BuildError> {
        // Inlined into the caller, so that a hit's `Arc` comes back in a register, and the
        // `Result`, with its error's room, is built where it is used.
        match self.shared.hit_config(upstream) {
            Ok(config) => Ok(config),
            Err(generation) => self
                .shared
                .lookup_at(upstream, generation, |built| Arc::clone(&built.config)),
        }
    }

    /// The config for `upstream` with where its trust came from (see [`BuiltConfig`]).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    #[inline]
    pub fn get_built(&self, upstream: &UpstreamTls) -> Result<Arc<BuiltConfig>, BuildError> {
        match self.shared.hit_built(upstream) {
            Ok(built) => Ok(built),
            Err(generation) => self.shared.lookup_at(upstream, generation, Arc::clone),
        }
    }

    /// Keep only the entries whose upstream key `keep` accepts (for a daemon's reload), and forget
    /// trust sets no remaining config uses. Handles keep their configs, and rebuild through the
    /// cache when they must.
    pub fn retain(&self, keep: impl FnMut(&UpstreamTls) -> bool) {
        self.shared.retain(keep);
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The internals, which handles share (see [`handle`](Self::handle), in `handle.rs`).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        let shared = &*self.shared;
        CacheStats {
            hits: shared.hits.get(),
            builds: shared.builds.load(Ordering::Relaxed),
            rebuilds: shared.rebuilds.load(Ordering::Relaxed),
            evictions: shared.evictions.load(Ordering::Relaxed),
            trust_store_loads: shared.trust.store_loads(),
            fallbacks: shared.trust.fallbacks(),
            unknown_issuer_checks: shared.trust.issuer_check().started(),
        }
    }
}

impl Shared {
    fn new(provider: Arc<CryptoProvider>, roots: Arc<dyn NativeRoots>, max_entries: usize) -> Self {
        static NEXT_CACHE: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_CACHE.fetch_add(1, Ordering::Relaxed),
            entries: HashIndex::with_hasher(BuildPrehashed::default()),
            order: Mutex::default(),
            hits: Hits::new(),
            process_roots: roots.is_process_roots(),
            max_entries: AtomicUsize::new(max_entries),
            trust: TrustSets::new(provider, roots),
            next_id: AtomicU64::new(0),
            builds: AtomicU64::new(0),
            rebuilds: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
            templates: Default::default(),
        }
    }

    /// The native roots, for handles to watch their generation.
    pub(crate) fn roots(&self) -> &Arc<dyn NativeRoots> {
        self.trust.roots_arc()
    }

    /// The entries: each has one place in the eviction order (the map's own count may include
    /// entries of a table being resized).
    fn len(&self) -> usize {
        self.order
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn retain(&self, mut keep: impl FnMut(&UpstreamTls) -> bool) {
        let mut removed = HashSet::new();
        // Removed entries are dropped once no reader can see them, outside the bucket's lock.
        self.entries.retain_sync(|upstream, slot| {
            let kept = keep(upstream);
            if !kept {
                slot.removed.store(true, Ordering::Release);
                removed.insert(slot.id);
            }
            kept
        });
        if !removed.is_empty() {
            self.order
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|(_, id)| !removed.contains(id));
        }
        self.trust.prune();
    }

    /// The config of a built, current entry of `upstream` (see [`hit`](Self::hit)).
    fn hit_config(&self, upstream: &UpstreamTls) -> Result<Arc<ClientConfig>, u64> {
        self.hit(
            upstream,
            |recent| Some(Arc::clone(&recent.config)),
            |ready| Arc::clone(&ready.config),
        )
    }

    /// The built, current entry of `upstream` (see [`hit`](Self::hit)).
    fn hit_built(&self, upstream: &UpstreamTls) -> Result<Arc<BuiltConfig>, u64> {
        self.hit(
            upstream,
            |recent| match recent.slot.outcome.get() {
                Some(Ok(ready)) => Some(Arc::clone(&ready.built)),
                _ => None,
            },
            |ready| Arc::clone(&ready.built),
        )
    }

    /// The answer of a built, current entry of `upstream`, counted as a hit: from this thread's
    /// recent slots (`from_recent`), else read from the map without a lock (`from_map`, and then
    /// remembered). Anything else is the native roots' generation it read, for
    /// [`lookup_at`](Self::lookup_at) to answer at.
    #[inline]
    fn hit<R>(
        &self,
        upstream: &UpstreamTls,
        from_recent: impl FnOnce(&Recent) -> Option<R>,
        from_map: impl FnOnce(&Ready) -> R,
    ) -> Result<R, u64> {
        // Read before the entry: an entry built before a change of the trust is not answered.
        let generation = self.generation(upstream);
        let recent = RECENT
            .try_with(|recent| {
                let recent = recent.try_borrow().ok()?;
                let set = recent.get(recent_set(upstream))?;
                let recent = set.iter().flatten().find(|r| r.is_for(self.id, upstream))?;
                // Acquire: a slot seen in the map after it was removed is not answered.
                let current = !recent.slot.removed.load(Ordering::Acquire)
                    && recent.slot.generation >= generation;
                if current { from_recent(recent) } else { None }
            })
            .ok()
            .flatten();
        if let Some(answered) = recent {
            self.hits.add_one();
            return Ok(answered);
        }
        self.hit_in_map(upstream, generation, from_map)
            .ok_or(generation)
    }

    /// [`hit`](Self::hit) from the map.
    #[inline]
    fn hit_in_map<R>(
        &self,
        upstream: &UpstreamTls,
        generation: u64,
        answer: impl FnOnce(&Ready) -> R,
    ) -> Option<R> {
        let (answered, recent) = self
            .entries
            .peek_with(upstream, |_, slot| match slot.outcome.get() {
                Some(Ok(ready)) if slot.generation >= generation => {
                    let recent = Recent {
                        slot: Arc::clone(slot),
                        config: Arc::clone(&ready.config),
                    };
                    Some((answer(ready), recent))
                }
                _ => None,
            })
            .flatten()?;
        self.hits.add_one();
        remember(recent);
        Some(answered)
    }

    /// The entry of `upstream`, current at the native roots' generation, built if need be: a
    /// miss, a stale entry, an entry another thread is building, or a cached error.
    #[cold]
    pub(crate) fn lookup<R>(
        &self,
        upstream: &UpstreamTls,
        answer: impl Fn(&Arc<BuiltConfig>) -> R,
    ) -> Result<R, BuildError> {
        self.lookup_at(upstream, self.generation(upstream), answer)
    }

    /// [`lookup`](Self::lookup) at the native roots' `generation`, read by the caller.
    #[cold]
    fn lookup_at<R>(
        &self,
        upstream: &UpstreamTls,
        generation: u64,
        answer: impl Fn(&Arc<BuiltConfig>) -> R,
    ) -> Result<R, BuildError> {
        let slot = match self.entries.peek_with(upstream, |_, slot| Arc::clone(slot)) {
            Some(slot) if slot.generation >= generation => slot,
            _ => self.slot_for(upstream, generation),
        };
        let mut built_here = false;
        let outcome = slot.outcome.get_or_init(|| {
            built_here = true;
            self.build(upstream, slot.generation, slot.rebuild)
                .map(|built| Ready {
                    config: Arc::clone(&built.config),
                    built,
                })
        });
        if !built_here {
            self.hits.add_one();
        }
        outcome
            .as_ref()
            .map(|ready| answer(&ready.built))
            .map_err(Clone::clone)
    }

    /// [`upstream_generation`], with the process-wide roots' generation read directly once they
    /// are loaded.
    #[inline]
    fn generation(&self, upstream: &UpstreamTls) -> u64 {
        match upstream.follows() {
            Follows::Nothing => 0,
            Follows::NativeRoots if self.process_roots => {
                match native_roots_cache::RootsCache::global().generation() {
                    // Not loaded yet: loaded there first.
                    0 => upstream_generation(upstream, self.trust.roots()),
                    generation => generation,
                }
            }
            Follows::NativeRoots | Follows::Crls => {
                upstream_generation(upstream, self.trust.roots())
            }
        }
    }

    /// The entry of `upstream` current at `generation`: the one in the map, or a new empty one
    /// put there (replacing a stale one, which keeps its place in the eviction order).
    fn slot_for(&self, upstream: &UpstreamTls, generation: u64) -> Arc<Slot> {
        let (slot, inserted) = match self.entries.entry_sync(upstream.clone()) {
            Entry::Occupied(current) if current.get().generation >= generation => {
                (Arc::clone(current.get()), false)
            }
            Entry::Occupied(mut stale) => {
                let slot = Arc::new(Slot {
                    id: stale.get().id,
                    cache: self.id,
                    key: upstream.clone(),
                    removed: AtomicBool::new(false),
                    generation,
                    rebuild: true,
                    outcome: OnceLock::new(),
                });
                // Readers that already hold the stale one finish with it.
                stale.get().removed.store(true, Ordering::Release);
                stale.update(Arc::clone(&slot));
                (slot, false)
            }
            Entry::Vacant(vacant) => {
                let slot = Arc::new(Slot {
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                    cache: self.id,
                    key: upstream.clone(),
                    removed: AtomicBool::new(false),
                    generation,
                    rebuild: false,
                    outcome: OnceLock::new(),
                });
                vacant.insert_entry(Arc::clone(&slot));
                (slot, true)
            }
        };
        if inserted {
            self.enqueue(upstream.clone(), slot.id);
        }
        slot
    }

    /// Record an insertion and evict the oldest entries beyond the bound. A bucket's lock is
    /// taken while the order's is held, never the other way round.
    fn enqueue(&self, upstream: UpstreamTls, id: u64) {
        let mut order = self.order.lock().unwrap_or_else(PoisonError::into_inner);
        order.push_back((upstream, id));
        let max_entries = self.max_entries.load(Ordering::Relaxed);
        while order.len() > max_entries {
            let Some((oldest, oldest_id)) = order.pop_front() else {
                break;
            };
            if self.entries.remove_if_sync(&oldest, |slot| {
                let doomed = slot.id == oldest_id;
                if doomed {
                    slot.removed.store(true, Ordering::Release);
                }
                doomed
            }) {
                self.evictions.fetch_add(1, Ordering::Relaxed);
                meter::evicted();
            }
        }
    }

    /// The config every build without a fixed client identity starts from, for `versions`: what
    /// `ClientConfig::builder_with_provider(..).with_protocol_versions(..)..with_no_client_auth()`
    /// makes, made once. A clone is a few `Arc` clones, where the builder checks the versions
    /// against the provider again and allocates a default session store that every config of
    /// ours replaces. Its verifier refuses everything, and each build replaces it too.
    fn template(&self, versions: TlsVersions) -> Result<&ClientConfig, BuildError> {
        let index = match versions {
            TlsVersions::Tls12And13 => 0,
            TlsVersions::Tls13Only => 1,
            TlsVersions::Tls12Only => 2,
        };
        self.templates[index]
            .get_or_init(|| {
                Ok(
                    ClientConfig::builder_with_provider(Arc::clone(self.trust.provider()))
                        .with_protocol_versions(versions.rustls())
                        .map_err(|err| BuildError::versions(versions, err))?
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(Unset))
                        .with_no_client_auth(),
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build(
        &self,
        upstream: &UpstreamTls,
        generation: u64,
        rebuild: bool,
    ) -> Result<Arc<BuiltConfig>, BuildError> {
        self.builds.fetch_add(1, Ordering::Relaxed);
        if rebuild {
            self.rebuilds.fetch_add(1, Ordering::Relaxed);
        }
        meter::built(rebuild);
        let trust = self.trust.get(upstream, generation)?;
        let versions = upstream.versions();
        let mut config = match upstream.client_identity() {
            // The builder checks that the key matches the certificate.
            Some(IdentityRef::Fixed(fixed)) => {
                ClientConfig::builder_with_provider(Arc::clone(self.trust.provider()))
                    .with_protocol_versions(versions.rustls())
                    .map_err(|err| BuildError::versions(versions, err))?
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::clone(&trust.verifier))
                    .with_client_auth_cert(fixed.chain.clone(), fixed.key.clone_key())
                    .map_err(BuildError::client_identity)?
            }
            identity => {
                let mut config = self.template(versions)?.clone();
                if let Some(IdentityRef::Rotating(rotating)) = identity {
                    config.client_auth_cert_resolver = rotating.resolver();
                }
                config
            }
        };
        // webpki's verifier, wrapped for the native roots to notice an unknown issuer.
        config
            .dangerous()
            .set_certificate_verifier(Arc::clone(&trust.verifier));
        config.alpn_protocols = upstream.alpn().to_vec();
        config.enable_sni = upstream.sni();
        // A new store per build: a config rebuilt after a trust change never resumes a session
        // made under the old trust.
        let sessions = match upstream.resumption() {
            SessionResumption::InMemory { sessions } => {
                let rotating = upstream.rotating_identity().cloned();
                Some(Arc::new(LazySessionStore::new(sessions, rotating)))
            }
            SessionResumption::Off => None,
        };
        config.resumption = match &sessions {
            Some(store) => Resumption::store(Arc::clone(store) as _),
            None => Resumption::disabled(),
        };
        Ok(Arc::new(BuiltConfig {
            config: Arc::new(config),
            provenance: trust.provenance.clone(),
            upstream: upstream.clone(),
            verifier: Arc::clone(&trust.verifier),
            generation,
            #[cfg(test)]
            sessions,
        }))
    }
}

/// The verifier of the templates, replaced in every config built from them: it refuses every
/// certificate and signature, should one ever be asked.
#[derive(Debug)]
struct Unset;

impl ServerCertVerifier for Unset {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(unset())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(unset())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(unset())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        Vec::new()
    }
}

fn unset() -> rustls::Error {
    rustls::Error::General("a template config's verifier, never meant to verify".into())
}

#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "ring", feature = "aws-lc-rs"))))]
impl Default for ClientConfigCache {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ClientConfigCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigCache")
            .field("entries", &self.len())
            .field(
                "max_entries",
                &self.shared.max_entries.load(Ordering::Relaxed),
            )
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex, PoisonError};

    use native_roots_cache::{RootsCache, SourceOutput, TrustOrigin, TrustSource};
    use rustls::pki_types::CertificateDer;

    use super::*;
    use crate::settings::Trust;

    /// Anchors the test sets, one self-signed CA at a time.
    #[derive(Clone, Default)]
    struct Anchors(Arc<Mutex<Vec<CertificateDer<'static>>>>);

    impl Anchors {
        fn trust_a_new_ca(&self) {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).unwrap();
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = vec![cert.der().clone()];
        }
    }

    impl TrustSource for Anchors {
        fn load(&self) -> SourceOutput {
            let certs = self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            SourceOutput::new(certs, Vec::new())
        }

        fn origin(&self) -> TrustOrigin {
            TrustOrigin::Custom("the unit test's anchors".into())
        }
    }

    fn sessions(built: &BuiltConfig) -> &Arc<LazySessionStore> {
        built.sessions.as_ref().unwrap()
    }

    /// rustls 0.23.27 (at least; 0.23.46 is locked) refuses on its own to resume a session made
    /// under another verifier, so the loopback tests (tests/it/live_trust.rs) pass even if
    /// rebuilt configs shared a store; rustls 0.23.20, the oldest this crate accepts, resumes it. This checks the
    /// store itself.
    #[test]
    fn a_rebuilt_config_has_a_session_store_of_its_own() {
        let anchors = Anchors::default();
        anchors.trust_a_new_ca();
        let roots = Arc::new(RootsCache::with_source(anchors.clone()));
        let cache =
            ClientConfigCache::with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_roots(Arc::clone(&roots));
        let upstream = UpstreamTls::builder(Trust::Native).build();
        let handle = cache.handle(&upstream).unwrap();
        let before = cache.get_built(&upstream).unwrap();

        anchors.trust_a_new_ca();
        assert!(roots.refresh().unwrap().changed);
        let through_handle = handle.built();
        let after = cache.get_built(&upstream).unwrap();
        assert!(Arc::ptr_eq(&through_handle, &after));
        assert!(!Arc::ptr_eq(sessions(&before), sessions(&after)));
    }
    /// Configs cloned from a template get the upstream key's versions, ALPN, SNI and a session
    /// store of their own, as built ones did.
    #[test]
    fn configs_from_the_templates_keep_their_own_settings() {
        let anchors = Anchors::default();
        anchors.trust_a_new_ca();
        let cache =
            ClientConfigCache::with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_roots(RootsCache::with_source(anchors));
        let key = |versions, alpn: &str, sni| {
            UpstreamTls::builder(Trust::Native)
                .versions(versions)
                .alpn([alpn])
                .sni(sni)
                .build()
        };
        let tls13 = cache
            .get_built(&key(TlsVersions::Tls13Only, "a", true))
            .unwrap();
        let tls12 = cache
            .get_built(&key(TlsVersions::Tls12Only, "b", false))
            .unwrap();
        let both = cache
            .get_built(&key(TlsVersions::Tls12And13, "c", true))
            .unwrap();
        let other = cache
            .get_built(&key(TlsVersions::Tls13Only, "d", true))
            .unwrap();
        // rustls shows the versions a config enables only in its `Debug`.
        let versions = |built: &BuiltConfig| {
            let shown = format!("{:?}", built.config());
            let start = shown.find("versions: [").unwrap();
            shown[start..start + shown[start..].find(']').unwrap() + 1].to_owned()
        };
        assert_eq!(versions(&tls13), "versions: [TLSv1_3]");
        assert_eq!(versions(&tls12), "versions: [TLSv1_2]");
        assert_eq!(versions(&both), "versions: [TLSv1_2, TLSv1_3]");
        assert_eq!(tls13.config().alpn_protocols, [b"a".to_vec()]);
        assert_eq!(other.config().alpn_protocols, [b"d".to_vec()]);
        assert!(tls13.config().enable_sni);
        assert!(!tls12.config().enable_sni);
        assert!(!Arc::ptr_eq(sessions(&tls13), sessions(&other)));
        // One trust set, one verifier, whatever the template.
        assert!(Arc::ptr_eq(tls13.verifier(), tls12.verifier()));
    }
    /// A thread's recent slots answer only what the map still holds: an entry hit (and so
    /// remembered), then evicted or dropped by `retain`, is built again on this thread.
    #[test]
    fn a_remembered_entry_leaves_with_its_map_entry() {
        let anchors = Anchors::default();
        anchors.trust_a_new_ca();
        let cache =
            ClientConfigCache::with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_roots(RootsCache::with_source(anchors))
                .max_entries(2);
        let key = |alpn: &str| UpstreamTls::builder(Trust::Native).alpn([alpn]).build();
        let (a, b, c) = (key("a"), key("b"), key("c"));
        let first = cache.get(&a).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get(&a).unwrap()));
        assert!(Arc::ptr_eq(&first, &cache.get(&a).unwrap()));
        assert_eq!(cache.stats().hits, 2);
        cache.get(&b).unwrap();
        cache.get(&c).unwrap(); // evicts `a`
        assert_eq!(cache.stats().evictions, 1);
        let again = cache.get(&a).unwrap();
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(cache.stats().builds, 4);

        assert!(Arc::ptr_eq(&again, &cache.get(&a).unwrap()));
        cache.retain(|upstream| upstream != &a);
        assert!(!Arc::ptr_eq(&again, &cache.get(&a).unwrap()));
        assert_eq!(cache.stats().builds, 5);
        assert_eq!(cache.stats().hits, 3);
    }
}
