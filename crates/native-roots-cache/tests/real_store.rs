//! The machine's real trust store, with `SSL_CERT_FILE`/`SSL_CERT_DIR` cleared. Ignored by
//! default (it depends on the machine); CI runs it on Linux, macOS and Windows with `--ignored`.
#![allow(clippy::unwrap_used)]

mod common;

use native_roots_cache::{native_roots, native_roots_report, TrustOrigin};

#[test]
#[ignore = "reads this machine's real trust store; run with --ignored"]
fn real_store_loads_from_the_platform() {
    common::clear_cert_env();
    let store = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = native_roots_report().unwrap();
    println!("{report}");
    assert!(!store.is_empty());
    assert_eq!(report.origin, TrustOrigin::PlatformStore);
    assert_eq!(report.anchors, store.len());
}
