//! The machine's real trust store, with `SSL_CERT_FILE`/`SSL_CERT_DIR` cleared. Ignored by
//! default (it depends on the machine); CI runs it on Linux, macOS and Windows with `--ignored`.
//! On macOS the second test is the bug this crate exists for: several processes reading the
//! keychain at once, as a test runner starting many binaries does.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

use native_roots_cache::{RootsCache, TrustOrigin, native_roots};

/// Set in the children of `real_store_from_many_processes_at_once`.
const CHILD: &str = "NATIVE_ROOTS_REAL_STORE_CHILD";
const PROCESSES: usize = 8;

#[test]
#[ignore = "reads this machine's real trust store; run with --ignored"]
fn real_store_loads_from_the_platform() {
    // In a child without `SSL_CERT_FILE`/`SSL_CERT_DIR`.
    if !test_pki::alone("real_store_loads_from_the_platform", |_| Vec::new()) {
        return;
    }
    let store = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    println!("{report}");
    assert!(!store.is_empty());
    assert_eq!(report.origin, TrustOrigin::PlatformStore);
    assert_eq!(report.anchors, store.len());
}

#[test]
#[ignore = "reads this machine's real trust store; run with --ignored"]
fn real_store_from_many_processes_at_once() {
    if std::env::var_os(CHILD).is_some() {
        // A child: one load, as a freshly started binary does; stdout says how it went.
        let outcome = native_roots();
        let report = RootsCache::global().report().unwrap();
        match outcome {
            Ok(store) => println!(
                "child ok {} anchors after {} attempts",
                store.len(),
                report.attempts
            ),
            Err(err) => println!("child failed: {err}"),
        }
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--ignored",
                    "--exact",
                    "real_store_from_many_processes_at_once",
                    "--nocapture",
                ])
                .env(CHILD, "1")
                .env_remove("SSL_CERT_FILE")
                .env_remove("SSL_CERT_DIR")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        let line = stdout
            .lines()
            .find(|l| l.starts_with("child "))
            .unwrap_or("no report");
        println!("{line}");
        assert!(
            line.starts_with("child ok"),
            "a process failed to load the store: {line}"
        );
    }
}
