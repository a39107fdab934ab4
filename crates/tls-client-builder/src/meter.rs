//! The builder's counters and gauges through the `metrics` facade (with the `metrics` feature;
//! without it, every function here is empty). Each event describes the names it uses, then
//! records: events are rare (a build, a rotation, a look), and a recorder installed late, or on
//! one thread only, still hears them. The README's table lists the names.
//!
//! Also [`Hits`], the cache's hit count, which is not published (it is in `CacheStats`) and is
//! kept per thread, so that counting a hit writes no line another core writes.

#[cfg(feature = "metrics")]
mod facade {
    use std::time::SystemTime;

    use metrics::{counter, describe_counter, describe_gauge, gauge};

    const BUILT: &str = "tls_client_configs_built_total";
    const REBUILT: &str = "tls_client_configs_rebuilt_total";
    const EVICTED: &str = "tls_client_configs_evicted_total";
    const ISSUER_CHECKS: &str = "tls_client_unknown_issuer_checks_total";
    const ROTATIONS: &str = "tls_client_identity_rotations_total";
    const REJECTED: &str = "tls_client_identity_rejected_reloads_total";
    const EXPIRY: &str = "tls_client_identity_expiry_days";
    const CRLS: &str = "tls_client_crls";
    const CRLS_EXPIRED: &str = "tls_client_crls_expired";
    const CRL_REJECTED: &str = "tls_client_crl_rejected_reloads_total";

    /// A config was built: a first build, or a rebuild after the native roots changed.
    pub(crate) fn built(rebuild: bool) {
        describe_counter!(
            BUILT,
            "configs built, first builds and rebuilds, failed ones included"
        );
        describe_counter!(REBUILT, "of those, rebuilds after the native roots changed");
        counter!(BUILT).increment(1);
        counter!(REBUILT).increment(u64::from(rebuild));
    }

    pub(crate) fn evicted() {
        describe_counter!(EVICTED, "entries dropped to stay within the bound");
        counter!(EVICTED).increment(1);
    }

    pub(crate) fn unknown_issuer_check() {
        describe_counter!(
            ISSUER_CHECKS,
            "looks at the trust store started by unknown issuers"
        );
        counter!(ISSUER_CHECKS).increment(1);
    }

    pub(crate) fn identity_rotated(identity: &str) {
        describe_counter!(ROTATIONS, "client identities swapped in");
        counter!(ROTATIONS, "identity" => identity.to_owned()).increment(1);
    }

    pub(crate) fn identity_rejected(identity: &str, reason: &'static str) {
        describe_counter!(REJECTED, "client identity reloads refused, by reason");
        counter!(REJECTED, "identity" => identity.to_owned(), "reason" => reason).increment(1);
    }

    pub(crate) fn identity_expiry(identity: &str, not_after: SystemTime) {
        describe_gauge!(EXPIRY, "days until the client identity in use expires");
        let days = match not_after.duration_since(SystemTime::now()) {
            Ok(left) => left.as_secs_f64(),
            Err(past) => -past.duration().as_secs_f64(),
        } / 86_400.0;
        gauge!(EXPIRY, "identity" => identity.to_owned()).set(days);
    }

    /// The CRLs in use from `source` and how many are past their next update.
    pub(crate) fn crls(source: &str, crls: usize, expired: usize) {
        describe_gauge!(CRLS, "CRLs in use");
        describe_gauge!(CRLS_EXPIRED, "CRLs in use past their next update");
        #[allow(clippy::cast_precision_loss)]
        {
            gauge!(CRLS, "source" => source.to_owned()).set(crls as f64);
            gauge!(CRLS_EXPIRED, "source" => source.to_owned()).set(expired as f64);
        }
    }

    pub(crate) fn crl_rejected(source: &str) {
        describe_counter!(CRL_REJECTED, "CRL reloads refused (the last good set kept)");
        counter!(CRL_REJECTED, "source" => source.to_owned()).increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
mod facade {
    use std::time::SystemTime;

    pub(crate) fn built(_: bool) {}
    pub(crate) fn evicted() {}
    pub(crate) fn unknown_issuer_check() {}
    pub(crate) fn identity_rotated(_: &str) {}
    pub(crate) fn identity_rejected(_: &str, _: &'static str) {}
    pub(crate) fn identity_expiry(_: &str, _: SystemTime) {}
    pub(crate) fn crls(_: &str, _: usize, _: usize) {}
    pub(crate) fn crl_rejected(_: &str) {}
}

pub(crate) use facade::*;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// A count that threads add to without a read-modify-write on a shared line: each thread owns
/// one line of every counter (by a process-wide thread index, taken on its first count and
/// given back when it exits), adds with a plain load and store, and a read sums the lines.
///
/// Exact once the counting threads are done (a join orders their stores before the read); a
/// read while they count sees some of their latest counts, as any counter read would. Threads
/// beyond the lines (while more threads than lines hold an index), and a thread counting from a
/// thread-local destructor after its index was given back, add to one shared atomic instead.
pub(crate) struct Hits {
    lines: Box<[Line]>,
    shared: AtomicU64,
}

/// Two cache lines (adjacent-line prefetch pairs them on x86), so threads never share one.
#[repr(align(128))]
struct Line(AtomicU64);

impl Hits {
    /// Four lines per available core, between 16 and 256.
    pub(crate) fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(4, |n| n.get());
        let lines = (cores * 4).clamp(16, 256);
        Self {
            lines: (0..lines).map(|_| Line(AtomicU64::new(0))).collect(),
            shared: AtomicU64::new(0),
        }
    }

    /// Add one.
    #[inline]
    pub(crate) fn add_one(&self) {
        match THREAD_INDEX.try_with(|index| self.lines.get(index.0)) {
            // Only this thread writes this line while it holds the index: no update is lost.
            Ok(Some(line)) => line
                .0
                .store(line.0.load(Ordering::Relaxed) + 1, Ordering::Relaxed),
            _ => {
                self.shared.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn get(&self) -> u64 {
        let lines: u64 = self
            .lines
            .iter()
            .map(|line| line.0.load(Ordering::Relaxed))
            .sum();
        lines + self.shared.load(Ordering::Relaxed)
    }
}

/// Indices given back by threads that exited, for the next threads to take (lowest first is not
/// needed: any free index below the lines is as good).
static FREE_INDICES: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static NEXT_INDEX: AtomicUsize = AtomicUsize::new(0);

/// This thread's index, held until it exits. The mutex orders the last store of the thread that
/// gave an index back before the first load of the thread that takes it.
struct ThreadIndex(usize);

impl ThreadIndex {
    fn take() -> Self {
        let free = FREE_INDICES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        Self(free.unwrap_or_else(|| NEXT_INDEX.fetch_add(1, Ordering::Relaxed)))
    }
}

impl Drop for ThreadIndex {
    fn drop(&mut self) {
        FREE_INDICES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.0);
    }
}

std::thread_local! {
    static THREAD_INDEX: ThreadIndex = ThreadIndex::take();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn counts_from_many_threads_add_up() {
        let hits = Hits::new();
        // More threads than lines, some at once: every count lands.
        std::thread::scope(|s| {
            for _ in 0..(hits.lines.len() + 8) {
                s.spawn(|| {
                    for _ in 0..1000 {
                        hits.add_one();
                    }
                });
            }
        });
        assert_eq!(hits.get(), (hits.lines.len() as u64 + 8) * 1000);
    }

    #[test]
    fn a_thread_keeps_its_line_and_gives_it_back() {
        let hits = Hits::new();
        hits.add_one();
        hits.add_one();
        let mine = THREAD_INDEX.with(|index| index.0);
        std::thread::spawn(|| ()).join().unwrap();
        assert_eq!(THREAD_INDEX.with(|index| index.0), mine);
        assert_eq!(hits.get(), 2);
    }
}
