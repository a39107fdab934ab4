//! The machine's real trust store, with `SSL_CERT_FILE`/`SSL_CERT_DIR` cleared. Ignored by
//! default (it depends on the machine); CI runs it on Linux, macOS and Windows with `--ignored`.
//! On macOS the second test is the bug this crate exists for: several processes reading the
//! keychain at once, as a test runner starting many binaries does. Under Wine (the `windows` step
//! of `cargo xtask ci`) they read Wine's implementation of the Windows store.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};

use native_roots_cache::{RootsCache, TrustOrigin, native_roots};
use rustls::RootCertStore;

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

/// A trust anchor's subject, public key and name constraints.
type Anchor = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

/// The anchors of a store, sorted: subject, public key and name constraints, what a verifier
/// uses. Two certificates can give the same anchor (a CA re-issued with the same key), so this is
/// a list, not a set.
fn anchors(store: &RootCertStore) -> Vec<Anchor> {
    let mut anchors: Vec<_> = (store.roots.iter())
        .map(|a| {
            let constraints = a.name_constraints.as_ref().map(|c| c.to_vec());
            (
                a.subject.to_vec(),
                a.subject_public_key_info.to_vec(),
                constraints,
            )
        })
        .collect();
    anchors.sort();
    anchors
}

/// The cache holds what rustls-native-certs reads from the same store (in a child without
/// `SSL_CERT_FILE`/`SSL_CERT_DIR`): the same anchors, as many of each, and its report names the
/// store.
#[test]
#[ignore = "reads this machine's real trust store; run with --ignored"]
fn real_store_holds_what_rustls_native_certs_reads() {
    if !test_pki::alone("real_store_holds_what_rustls_native_certs_reads", |_| {
        Vec::new()
    }) {
        return;
    }
    let ours = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    let loaded = rustls_native_certs::load_native_certs();
    for err in &loaded.errors {
        println!("rustls-native-certs: {err}");
    }
    let mut theirs = RootCertStore::empty();
    let (added, unparsable) = theirs.add_parsable_certificates(loaded.certs);
    println!("{report}");
    println!("rustls-native-certs: {added} anchors ({unparsable} unparsable)");
    assert!(!ours.is_empty());
    assert_eq!(anchors(&ours), anchors(&theirs));
    assert_eq!(report.skipped.len(), unparsable, "{report:#?}");
    // The report names the store it read.
    assert_eq!(report.origin, TrustOrigin::PlatformStore);
    let shown = report.to_string();
    assert!(
        shown.contains(&TrustOrigin::PlatformStore.to_string()),
        "{shown}"
    );
    if cfg!(windows) {
        assert!(
            shown.contains("the Windows certificate store (ROOT)"),
            "{shown}"
        );
    }
}

/// 64 threads released at once on a fresh process's first call: one load, one shared store.
#[test]
#[ignore = "reads this machine's real trust store; run with --ignored"]
fn real_store_first_call_race_loads_once() {
    const THREADS: usize = 64;
    if !test_pki::alone("real_store_first_call_race_loads_once", |_| Vec::new()) {
        return;
    }
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                native_roots().unwrap_or_else(|err| panic!("{err}"))
            })
        })
        .collect();
    let stores: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(!stores[0].is_empty());
    assert!(stores.iter().all(|s| Arc::ptr_eq(s, &stores[0])));
    let stats = RootsCache::global().stats();
    assert_eq!(stats.loads, 1, "{stats:?}");
    println!(
        "{THREADS} threads, {} loads, {} anchors",
        stats.loads,
        stores[0].len()
    );
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
