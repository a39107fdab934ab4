//! No file descriptor left (`EMFILE`) is a transient error that says so, not "install a CA
//! bundle", and it is not what the cache keeps once descriptors are free again.
//! Its own binary: it takes every descriptor of the process.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use native_roots_cache::{LoadPolicy, NativeRootsErrorKind, PemFiles, RootsCache};

#[test]
fn running_out_of_descriptors_is_transient_and_named() {
    let dir = test_pki::scratch_dir("descriptors");
    for name in ["a", "b"] {
        std::fs::write(dir.join(format!("{name}.pem")), test_pki::ca_pem(name)).unwrap();
        test_pki::settle(&dir.join(format!("{name}.pem")));
    }
    let policy =
        LoadPolicy::DEFAULT.with_backoff(Duration::from_millis(1), Duration::from_millis(2));
    let cache = RootsCache::with_source(PemFiles::new().with_dir(&*dir)).with_policy(policy);

    // Take every descriptor the process may open.
    let mut held = Vec::new();
    let exhausted = loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) => held.push(file),
            Err(err) => break err,
        }
    };
    let code = exhausted.raw_os_error();
    assert!(
        matches!(code, Some(23 | 24)),
        "EMFILE or ENFILE, got {exhausted}"
    );

    let err = cache.native_roots().unwrap_err();
    drop(held);
    assert_eq!(
        (err.kind(), err.attempts()),
        (NativeRootsErrorKind::TransientExhausted, 3)
    );
    // The cause is the descriptor error of the last attempt, named; the advice is not the
    // missing-store one.
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    let cause = cause.unwrap_or_default();
    assert!(
        cause.contains("EMFILE") || cause.contains("ENFILE"),
        "{cause}"
    );
    assert!(cause.contains("not a missing trust store"), "{cause}");
    assert!(
        !err.advice().contains("install"),
        "no advice to install a CA bundle: {}",
        err.advice()
    );

    // With descriptors free again, the operator's refresh loads the store.
    assert_eq!(cache.refresh().unwrap().roots.len(), 2);
}
