//! A pass-through hasher for keys that carry their own precomputed hash.
//!
//! [`UpstreamTls`](crate::UpstreamTls) hashes its full value once, with keyed SipHash, when it is
//! built, and its `Hash` impl writes just that `u64`. Hashing it again on every lookup would be
//! wasted work, so maps keyed by it use this hasher, which returns the written `u64` as is.

use std::hash::{BuildHasherDefault, Hasher};

/// Returns the last `u64` written; anything else is folded in with FNV-1a so that a key without
/// a precomputed hash still works (only more slowly).
#[derive(Default)]
pub(crate) struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }

    fn write(&mut self, bytes: &[u8]) {
        const PRIME: u64 = 0x0100_0000_01b3;
        let mut hash = self.0 ^ 0xcbf2_9ce4_8422_2325;
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
        }
        self.0 = hash;
    }
}

/// The `BuildHasher` of maps keyed by prehashed values.
pub(crate) type BuildPrehashed = BuildHasherDefault<PrehashedHasher>;

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, Hash};

    use super::*;

    struct Prehashed(u64);

    impl Hash for Prehashed {
        fn hash<H: Hasher>(&self, state: &mut H) {
            state.write_u64(self.0);
        }
    }

    #[test]
    fn passes_the_hash_through() {
        assert_eq!(
            BuildPrehashed::default().hash_one(Prehashed(0xdead_beef)),
            0xdead_beef
        );
    }

    #[test]
    fn other_keys_still_spread() {
        let build = BuildPrehashed::default();
        assert_ne!(build.hash_one("a"), build.hash_one("b"));
    }
}
