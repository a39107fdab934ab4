//! Resident memory per `ClientConfig`, for each way a daemon can hold one config per upstream.
//!
//! `cargo run --release --example config-memory [-- --configs N]` runs every way in its own
//! process (so that no way inherits another's freed memory), reads `VmRSS` from
//! `/proc/self/status` before and after building and holding N configs (default 10,000;
//! at most 1,000 for the way that also runs a handshake per config), and prints one
//! `memory <way> <configs> <bytes per config>` line per way, then a table. Linux only: elsewhere
//! it says so and exits. The platform store is used (`SSL_CERT_*` are removed for the children).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::thread;

use native_roots_cache::native_roots;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

/// Every way, in the order of the table: what users do today first.
const WAYS: [(&str, &str); 7] = [
    (
        "reload",
        "reload the store per config (hyper-rustls, reqwest default)",
    ),
    ("deep-clone", "deep clone of a cached store"),
    (
        "shared-store",
        "shared Arc<RootCertStore>, a verifier per config",
    ),
    (
        "shared-verifier",
        "shared verifier, rustls' default session cache",
    ),
    ("cache-idle", "ClientConfigCache, idle configs"),
    (
        "cache-platform",
        "ClientConfigCache, idle configs, Trust::Platform",
    ),
    (
        "cache-sessions",
        "ClientConfigCache, one stored session each",
    ),
];
const SESSIONS_MAX: usize = 1_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone());
    let configs = match value("--configs").map(|n| n.parse::<usize>()) {
        None => 10_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("error: --configs takes a positive number");
            return ExitCode::from(2);
        }
    };
    if resident_bytes().is_none() {
        println!(
            "config-memory: /proc/self/status has no VmRSS on this platform; nothing measured"
        );
        return ExitCode::SUCCESS;
    }
    match value("--way") {
        Some(way) => child(&way, configs),
        None => parent(configs),
    }
}

/// Run each way in a fresh process and print the table.
fn parent(configs: usize) -> ExitCode {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("error: cannot find this program's own path to run the ways");
        return ExitCode::FAILURE;
    };
    let mut rows = Vec::new();
    for (way, what) in WAYS {
        let output = Command::new(&exe)
            .args(["--way", way, "--configs", &configs.to_string()])
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .output();
        let line = match &output {
            Ok(out) if out.status.success() => {
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
            Ok(out) => {
                eprintln!(
                    "error: way {way} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return ExitCode::FAILURE;
            }
            Err(err) => {
                eprintln!("error: could not start way {way}: {err}");
                return ExitCode::FAILURE;
            }
        };
        println!("{line}");
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [_, _, n, bytes] = fields[..] {
            rows.push((what, n.to_owned(), bytes.parse::<f64>().unwrap_or(f64::NAN)));
        }
    }
    println!("\n| way | configs | resident per config |\n| --- | ---: | ---: |");
    for (what, n, bytes) in rows {
        println!("| {what} | {n} | {:.1} KiB |", bytes / 1024.0);
    }
    ExitCode::SUCCESS
}

/// Build and hold `configs` configs one way; print `memory <way> <configs> <bytes per config>`.
fn child(way: &str, configs: usize) -> ExitCode {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match native_roots() {
        Ok(roots) => roots,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::clone(&roots), Arc::clone(&provider))
            .build()
            .expect("a verifier over the system store");
    let cache = ClientConfigCache::with_provider(Arc::clone(&provider)).max_entries(configs);
    let loopback = (way == "cache-sessions").then(Loopback::start);
    let configs = if loopback.is_some() {
        configs.min(SESSIONS_MAX)
    } else {
        configs
    };
    // Everything shared is built before the first reading; only per-config memory is counted.
    let upstreams: Vec<UpstreamTls> = (0..configs)
        .map(|i| {
            let trust = if way == "cache-platform" {
                Trust::Platform
            } else {
                Trust::Native
            };
            let builder = UpstreamTls::builder(trust).alpn([format!("upstream-{i}")]);
            match &loopback {
                Some(lb) => builder.extra_anchor_der(lb.ca.clone()).build(),
                None => builder.build(),
            }
        })
        .collect();
    let mut held: Vec<Arc<ClientConfig>> = Vec::with_capacity(configs);
    let before = resident_bytes().unwrap_or(0);
    for upstream in &upstreams {
        let config = match way {
            "reload" => {
                let mut store = RootCertStore::empty();
                store.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                Arc::new(with_roots(&provider, store))
            }
            "deep-clone" => Arc::new(with_roots(&provider, (*roots).clone())),
            "shared-store" => Arc::new(with_roots(&provider, Arc::clone(&roots))),
            "shared-verifier" => Arc::new(
                ClientConfig::builder_with_provider(Arc::clone(&provider))
                    .with_safe_default_protocol_versions()
                    .expect("default versions")
                    .with_webpki_verifier(Arc::clone(&verifier))
                    .with_no_client_auth(),
            ),
            "cache-idle" | "cache-platform" | "cache-sessions" => match cache.get(upstream) {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::FAILURE;
                }
            },
            other => {
                eprintln!("error: no way named {other}");
                return ExitCode::from(2);
            }
        };
        if let Some(lb) = &loopback {
            if let Err(err) = lb.handshake(Arc::clone(&config)) {
                eprintln!("error: loopback handshake: {err}");
                return ExitCode::FAILURE;
            }
        }
        held.push(config);
    }
    let after = resident_bytes().unwrap_or(0);
    let per_config = after.saturating_sub(before) as f64 / configs as f64;
    println!("memory {way} {configs} {per_config:.0}");
    drop(held);
    ExitCode::SUCCESS
}

fn with_roots(
    provider: &Arc<CryptoProvider>,
    roots: impl Into<Arc<RootCertStore>>,
) -> ClientConfig {
    ClientConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .expect("default versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A rustls server on 127.0.0.1 that serves any number of connections, one after another, and
/// the CA its certificate chains to.
struct Loopback {
    ca: CertificateDer<'static>,
    addr: std::net::SocketAddr,
}

impl Loopback {
    fn start() -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().expect("CA key");
        let ca = ca_params.self_signed(&ca_key).expect("CA");
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .expect("leaf params")
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("default versions")
                .with_no_client_auth()
                .with_single_cert(vec![leaf.der().clone()], key)
                .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        thread::spawn(move || {
            for mut tcp in listener.incoming().flatten() {
                let Ok(mut conn) = ServerConnection::new(Arc::clone(&config)) else {
                    continue;
                };
                // Handshake, answer the client's one byte, then close.
                while conn.is_handshaking() && conn.complete_io(&mut tcp).is_ok() {}
                let mut byte = [0u8; 1];
                let _ = conn.complete_io(&mut tcp);
                if conn.reader().read_exact(&mut byte).is_ok() {
                    let _ = conn.writer().write_all(&byte);
                }
                conn.send_close_notify();
                let _ = conn.complete_io(&mut tcp);
            }
        });
        Self {
            ca: ca.der().clone(),
            addr,
        }
    }

    /// One full handshake and a one-byte echo, so that the server's session ticket is stored.
    fn handshake(&self, config: Arc<ClientConfig>) -> Result<(), String> {
        let name = "localhost".try_into().map_err(|e| format!("{e}"))?;
        let mut conn = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
        let mut tcp = TcpStream::connect(self.addr).map_err(|e| e.to_string())?;
        let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
        stream.write_all(b"x").map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).map_err(|e| e.to_string())?;
        Ok(())
    }
}
