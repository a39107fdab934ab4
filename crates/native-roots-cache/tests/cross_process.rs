//! Many processes starting together: 32 copies of this test binary released at once, each loading
//! the trust store through the real `native_roots()` (from an `SSL_CERT_FILE` bundle holding a
//! test CA) and completing a TLS handshake and a request with a loopback server whose leaf that CA
//! signed.
//! Ten rounds, all must succeed. The wall time is printed, not asserted.
//!
//! The children re-execute this binary running only [`client_runner`]; each blocks on its stdin
//! until the parent has started all 32 and closes their stdins, so that the loads overlap.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use native_roots_cache::{RootsCache, native_roots};
use rustls::ClientConfig;
use test_pki::{Ca, ServerOptions, provider};

const PROCESSES: usize = 32;
const ROUNDS: usize = 10;
/// Set only in a child: the server's address.
const ADDR_VAR: &str = "NRC_SERVER_ADDR";
/// How long one child may take before it counts as a hang.
const CHILD_LIMIT: Duration = Duration::from_secs(30);

/// Run in a child process only (when `NRC_SERVER_ADDR` is set): wait for the parent's release,
/// load the process-wide store, shake hands with the server and send it a request, print one `NRC`
/// line.
#[test]
fn client_runner() {
    let Some(addr) = std::env::var_os(ADDR_VAR) else {
        return;
    };
    let addr: SocketAddr = addr.to_str().unwrap().parse().unwrap();
    // Released when the parent closes our stdin (EOF).
    let _ = std::io::stdin().read(&mut [0_u8; 1]);

    let roots = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = RootsCache::global().report().unwrap();
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let negotiated = test_pki::exchange(Arc::new(config), addr).unwrap();
    println!(
        "NRC\tok\t{}\t{}\t{:?}\t{:?}",
        report.anchors,
        negotiated.body,
        negotiated.protocol,
        negotiated.suite.suite(),
    );
}

#[test]
fn thirty_two_processes_load_and_shake_hands_ten_times() {
    let dir = test_pki::scratch_dir("cross-process");
    let ca = Ca::new("cross-process CA");
    let bundle = dir.join("bundle.pem");
    std::fs::write(
        &bundle,
        format!("{}{}", ca.pem(), test_pki::ca_pem("unrelated CA")),
    )
    .unwrap();

    // `served` counts the requests answered, each before its reply, so that a child that has
    // exited with its reply is always counted.
    let served = Arc::new(AtomicUsize::new(0));
    let options = ServerOptions {
        requests: Some(Arc::clone(&served)),
        ..ServerOptions::default()
    };
    let addr = test_pki::spawn_server(&ca.server_leaf(), options).to_string();

    let env = [
        ("SSL_CERT_FILE", bundle.as_os_str()),
        (ADDR_VAR, std::ffi::OsStr::new(&addr)),
    ];
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for round in 0..ROUNDS {
        let round_started = Instant::now();
        let mut children: Vec<_> = (0..PROCESSES)
            .map(|_| test_pki::spawn_runner("client_runner", &env, true))
            .collect();
        // All started: release them together.
        for child in &mut children {
            drop(child.stdin.take());
        }
        let mut lines = Vec::new();
        for (i, child) in children.into_iter().enumerate() {
            let run = test_pki::wait_bounded(child, CHILD_LIMIT)
                .unwrap_or_else(|hang| panic!("round {round}, child {i}: {hang}"));
            assert!(
                run.status.success(),
                "round {round}, child {i} failed ({}):\n{}\n{}",
                run.status,
                run.stdout,
                run.stderr
            );
            let line = run
                .stdout
                .lines()
                .find_map(|l| l.strip_prefix("NRC\tok\t"))
                .unwrap_or_else(|| panic!("round {round}, child {i}: no result:\n{}", run.stdout))
                .to_owned();
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(
                fields[..2],
                ["2", "alpn=none"],
                "round {round}, child {i}: both CAs of the bundle are anchors and the server answered"
            );
            lines.push(line);
        }
        assert_eq!(served.load(Ordering::SeqCst), PROCESSES * (round + 1));
        slowest = slowest.max(round_started.elapsed());
        if round == 0 {
            println!("first child: {}", lines[0]);
        }
    }
    let total = started.elapsed();
    println!(
        "{PROCESSES} processes x {ROUNDS} rounds: {} loads and handshakes in {total:.2?} \
         ({:.2?} per round on average, slowest round {slowest:.2?})",
        PROCESSES * ROUNDS,
        total / ROUNDS as u32,
    );
}
