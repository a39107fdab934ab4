//! Many processes starting together: 32 copies of this test binary released at once, each loading
//! the trust store through the real `native_roots()` (from an `SSL_CERT_FILE` bundle holding a
//! test CA) and completing a TLS handshake with a loopback server whose leaf that CA signed.
//! Ten rounds, all must succeed. The wall time is printed, not asserted.
//!
//! The children re-execute this binary running only [`client_runner`]; each blocks on its stdin
//! until the parent has started all 32 and closes their stdins, so that the loads overlap.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use native_roots_cache::{native_roots, native_roots_report};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};

const PROCESSES: usize = 32;
const ROUNDS: usize = 10;
/// Set only in a child: the server's address.
const ADDR_VAR: &str = "NRC_SERVER_ADDR";
/// How long one child may take before it counts as a hang.
const CHILD_LIMIT: Duration = Duration::from_secs(30);
/// A socket read that takes longer than this has hung (a bound, not a timing).
const IO_LIMIT: Duration = Duration::from_secs(20);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Run in a child process only (when `NRC_SERVER_ADDR` is set): wait for the parent's release,
/// load the process-wide store, shake hands with the server, print one `NRC` line.
#[test]
fn client_runner() {
    let Some(addr) = std::env::var_os(ADDR_VAR) else {
        return;
    };
    let addr: SocketAddr = addr.to_str().unwrap().parse().unwrap();
    // Released when the parent closes our stdin (EOF).
    let _ = std::io::stdin().read(&mut [0_u8; 1]);

    let roots = native_roots().unwrap_or_else(|err| panic!("{err}"));
    let report = native_roots_report().unwrap();
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let mut tls = StreamOwned::new(conn, tcp);
    tls.write_all(b"ping\n").unwrap();
    tls.flush().unwrap();
    let mut reply = String::new();
    tls.read_to_string(&mut reply).unwrap();
    println!(
        "NRC\tok\t{}\t{}\t{:?}\t{:?}",
        report.anchors,
        reply.trim(),
        tls.conn.protocol_version().unwrap(),
        tls.conn.negotiated_cipher_suite().unwrap().suite(),
    );
}

/// The loopback server: one thread per connection; `served` counts handshakes that completed and
/// delivered the client's request, counted before the reply so that a child that has exited
/// with its reply is always counted.
fn serve(listener: TcpListener, config: Arc<ServerConfig>, served: Arc<AtomicUsize>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (config, served) = (Arc::clone(&config), Arc::clone(&served));
        thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(IO_LIMIT));
            let conn = ServerConnection::new(config).unwrap();
            let mut tls = BufReader::new(StreamOwned::new(conn, stream));
            let mut request = String::new();
            if tls.read_line(&mut request).is_ok() && request == "ping\n" {
                served.fetch_add(1, Ordering::SeqCst);
                let tls = tls.get_mut();
                let _ = tls.write_all(b"pong\n");
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
    }
}

#[test]
fn thirty_two_processes_load_and_shake_hands_ten_times() {
    let dir = common::scratch_dir("cross-process");
    let ca = common::TestCa::new("cross-process CA");
    let (leaf, leaf_key) = ca.issue(&["localhost"]);
    let bundle = dir.join("bundle.pem");
    std::fs::write(
        &bundle,
        format!("{}{}", ca.cert.pem(), common::ca_pem("unrelated CA")),
    )
    .unwrap();

    let server_config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let served = Arc::new(AtomicUsize::new(0));
    {
        let served = Arc::clone(&served);
        thread::spawn(move || serve(listener, Arc::new(server_config), served));
    }

    let env = [
        ("SSL_CERT_FILE", bundle.as_os_str()),
        (ADDR_VAR, std::ffi::OsStr::new(&addr)),
    ];
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for round in 0..ROUNDS {
        let round_started = Instant::now();
        let mut children: Vec<_> = (0..PROCESSES)
            .map(|_| common::spawn_runner("client_runner", &env, true))
            .collect();
        // All started: release them together.
        for child in &mut children {
            drop(child.stdin.take());
        }
        let mut lines = Vec::new();
        for (i, child) in children.into_iter().enumerate() {
            let run = common::wait_bounded(child, CHILD_LIMIT)
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
                ["2", "pong"],
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
