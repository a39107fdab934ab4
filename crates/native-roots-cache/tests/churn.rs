//! 10,000 published changes in a row cost no file descriptor and no memory that stays. Its own
//! binary: it measures the whole process (`/proc/self/fd`, resident memory), which tests running
//! beside it would disturb.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use native_roots_cache::{ChangeCheck, RootsCache, SourceOutput};
use test_pki::Fake;

/// 10,000 published changes in a row: no growth in file descriptors or resident memory.
#[test]
fn ten_thousand_changes_leak_nothing() {
    fn open_fds() -> usize {
        std::fs::read_dir("/proc/self/fd").unwrap().count()
    }
    fn resident_kib() -> u64 {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4
    }
    // Each call alternates between two anchor sets: every reload is a published change.
    let fake = Fake::new(|n| SourceOutput::new(vec![test_pki::root((n % 2) as usize)], vec![]));
    let cache = RootsCache::with_source(fake);
    cache.native_roots().unwrap();
    let changes = 10_000;
    // Warm up allocator pools and thread stacks before measuring.
    for _ in 0..200 {
        let _ = cache.check_for_changes();
    }
    let (fds, rss) = (open_fds(), resident_kib());
    let generation = cache.generation();
    for _ in 0..changes {
        assert!(matches!(cache.check_for_changes(), ChangeCheck::Reloaded(r) if r.changed));
    }
    assert_eq!(cache.generation(), generation + changes);
    assert!(
        open_fds() <= fds,
        "descriptors grew: {fds} -> {}",
        open_fds()
    );
    let grown = resident_kib().saturating_sub(rss);
    // One store and report are a few KiB; a leak of one per change would be tens of MiB.
    assert!(
        grown < 4 * 1024,
        "resident memory grew by {grown} KiB over {changes} changes"
    );
}
