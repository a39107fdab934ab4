//! A sharded map from upstream key to entry, tuned for hits from many threads.
//!
//! A power-of-two number of shards, each an `RwLock<HashMap>` on its own cache lines with its own
//! hit counter, so threads that hit different upstream keys touch different lines. The shard is
//! chosen from bits 40..48 of the upstream key's precomputed hash: hashbrown places buckets by the
//! low bits and tags them with the top seven, so using either for the shard would leave each
//! shard's table with fewer distinct positions or tags.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::hasher::BuildPrehashed;
use crate::upstream::UpstreamTls;

const SHARD_SHIFT: u32 = 40;
const MAX_SHARDS: usize = 256;

/// Two cache lines (adjacent-line prefetch pairs them on x86), so shards never share one.
#[repr(align(128))]
struct Shard<V> {
    map: RwLock<HashMap<UpstreamTls, V, BuildPrehashed>>,
    hits: AtomicU64,
}

pub(crate) struct Shards<V> {
    shards: Box<[Shard<V>]>,
    mask: usize,
}

impl<V> Shards<V> {
    /// Four shards per available core, rounded to a power of two, between 8 and 256.
    pub(crate) fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        let count = (cores * 4).next_power_of_two().clamp(8, MAX_SHARDS);
        let shards = (0..count)
            .map(|_| Shard {
                map: RwLock::default(),
                hits: AtomicU64::new(0),
            })
            .collect();
        Self {
            shards,
            mask: count - 1,
        }
    }

    fn shard(&self, key: &UpstreamTls) -> &Shard<V> {
        // Truncation is intended: the mask keeps at most eight bits.
        let index = (key.hash_value() >> SHARD_SHIFT) as usize & self.mask;
        &self.shards[index]
    }

    /// Run `f` on the entry of `key` under its shard's read lock.
    pub(crate) fn read<R>(&self, key: &UpstreamTls, f: impl FnOnce(Option<&V>) -> R) -> R {
        let map = self
            .shard(key)
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f(map.get(key))
    }

    /// Run `f` on the entry of `key` under its shard's write lock.
    pub(crate) fn write<R>(
        &self,
        key: &UpstreamTls,
        f: impl FnOnce(&mut HashMap<UpstreamTls, V, BuildPrehashed>) -> R,
    ) -> R {
        let mut map = self
            .shard(key)
            .map
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut map)
    }

    /// Count a hit on `key`'s shard (its line is already in this core's cache from the lock).
    pub(crate) fn count_hit(&self, key: &UpstreamTls) {
        self.shard(key).hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn hits(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.hits.load(Ordering::Relaxed))
            .sum()
    }

    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.map.read().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Keep the entries for which `keep` returns true, one shard at a time; returns what was
    /// removed.
    pub(crate) fn retain(
        &self,
        mut keep: impl FnMut(&UpstreamTls, &V) -> bool,
    ) -> Vec<(UpstreamTls, V)> {
        let mut removed = Vec::new();
        for shard in self.shards.iter() {
            let mut map = shard.map.write().unwrap_or_else(PoisonError::into_inner);
            let doomed: Vec<UpstreamTls> = map
                .iter()
                .filter(|(key, value)| !keep(key, value))
                .map(|(key, _)| key.clone())
                .collect();
            removed.extend(doomed.into_iter().filter_map(|key| map.remove_entry(&key)));
        }
        removed
    }
}
