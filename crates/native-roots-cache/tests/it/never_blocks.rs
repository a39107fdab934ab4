//! Reads that are known to block are never started: procfs files report size 0 and may never end
//! (`/proc/kmsg` waits for kernel messages), so the reader answers at once instead of leaving a
//! loader thread stuck until the deadline.
#![cfg(target_os = "linux")]

use std::time::Duration;

use native_roots_cache::{LoadPolicy, NativeRootsErrorKind, PemFiles, RootsCache};

fn load(files: PemFiles) -> native_roots_cache::NativeRootsError {
    // A deadline far beyond what the load needs: reaching it would mean a read blocked.
    let policy = LoadPolicy::DEFAULT.with_deadline(Duration::from_secs(20));
    RootsCache::with_source(files)
        .with_policy(policy)
        .native_roots()
        .unwrap_err()
}

#[test]
fn a_procfs_bundle_is_not_read() {
    let err = load(PemFiles::new().with_file("/proc/kmsg"));
    assert_ne!(err.kind(), NativeRootsErrorKind::Deadline, "{err}");
    assert!(err.to_string().contains("/proc/kmsg"), "{err}");
}

#[test]
fn a_procfs_directory_is_scanned_without_blocking() {
    // /proc holds kmsg (size 0, blocks), kcore (a size far beyond any bundle) and entries that
    // come and go with processes.
    let err = load(PemFiles::new().with_dir("/proc"));
    assert_ne!(err.kind(), NativeRootsErrorKind::Deadline, "{err}");
    assert!(
        matches!(
            err.kind(),
            NativeRootsErrorKind::NoAnchors | NativeRootsErrorKind::TransientExhausted
        ),
        "{err}"
    );
}
