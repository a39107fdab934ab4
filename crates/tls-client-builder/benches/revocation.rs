//! What revocation costs (issue 24), each figure beside its baseline in one run:
//!
//! - `crl_parse`: a CRL of 600,000 serials (generated here, about 22 MB of DER): webpki's own
//!   `OwnedCertRevocationList::from_der` (baseline), against what a `Crls` pays to read it
//!   (`Crls::new`: the settled read and a walk of the DER for its report) and what a trust set
//!   pays to apply it (a config built from a fresh cache: rustls parses the CRL once for the
//!   trust set), and both together. The memory rustls' parse holds per serial is printed.
//! - `crl_handshake`: a full handshake in memory (no sockets) with a config applying a
//!   100,000-serial CRL that does not list the server, against the same trust without CRLs
//!   (baseline).
//! - `crl_poll`: `Crls::check_for_changes` over a directory of 100 unchanged CRL files (a `stat`
//!   each, no read), against a bare `stat` of each file (baseline).
//!
//! `cargo bench -p tls-client-builder --bench revocation`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection};
use test_pki::{Ca, Leaf, provider, scratch_dir, write_settled};
use tls_client_builder::{
    ClientConfigCache, CrlSource, Crls, Revocation, SessionResumption, Trust, UpstreamTls,
};

const PARSE_SERIALS: u64 = 600_000;
const HANDSHAKE_SERIALS: u64 = 100_000;

fn next_month() -> SystemTime {
    SystemTime::now() + Duration::from_secs(30 * 86_400)
}

/// A CRL file of `serials` revoked serials (none of them the server's, serial 1), in `dir`.
fn crl_file(ca: &Ca, dir: &Path, serials: u64) -> PathBuf {
    let revoked: Vec<u64> = (2..serials + 2).collect();
    let crl = ca.crl(1, &revoked, next_month());
    write_settled(dir.join(format!("{serials}.crl")), crl.der.as_ref())
}

fn upstream(ca: &Ca, crls: Option<&Crls>) -> UpstreamTls {
    let builder = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(ca.der())
        .resumption(SessionResumption::Off);
    match crls {
        Some(crls) => builder.revocation(Revocation::new(crls.clone())).build(),
        None => builder.build(),
    }
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn crl_parse(c: &mut Criterion, ca: &Ca, dir: &Path) {
    let file = crl_file(ca, dir, PARSE_SERIALS);
    let der = std::fs::read(&file).unwrap();
    println!(
        "crl_parse: a CRL of {PARSE_SERIALS} serials, {} bytes of DER",
        der.len()
    );
    let before = resident_bytes();
    let held = webpki::OwnedCertRevocationList::from_der(&der).unwrap();
    let after = resident_bytes();
    let memory = format!(
        "{PARSE_SERIALS} serials, {} bytes of DER: about {} bytes per serial ({} MiB resident)\n",
        der.len(),
        after.saturating_sub(before) / PARSE_SERIALS,
        after.saturating_sub(before) >> 20
    );
    print!("crl_parse: {memory}");
    // For `cargo xtask bench`, which reports it beside the figures.
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        let dir = PathBuf::from(home).join("crl_parse");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("memory.txt"), memory);
    }
    drop(held);
    let mut group = c.benchmark_group("crl_parse");
    group.sample_size(10);
    group.bench_function("webpki OwnedCertRevocationList::from_der (baseline)", |b| {
        b.iter(|| webpki::OwnedCertRevocationList::from_der(black_box(&der)).unwrap());
    });
    group.bench_function("Crls::new: settled read and DER walk", |b| {
        b.iter(|| Crls::new(CrlSource::new().with_file(&file)).unwrap());
    });
    let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
    let applying = upstream(ca, Some(&crls));
    group.bench_function("trust set applying it (rustls' parse, one config)", |b| {
        b.iter_batched(
            || ClientConfigCache::with_provider(provider()),
            |cache| cache.get(&applying).unwrap(),
            BatchSize::PerIteration,
        );
    });
    group.bench_function("Crls::new, then a trust set applying it", |b| {
        b.iter_batched(
            || ClientConfigCache::with_provider(provider()),
            |cache| {
                let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
                cache.get(&upstream(ca, Some(&crls))).unwrap()
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// One full handshake between `client` and a server of `leaf`, in memory.
fn handshake(client: &Arc<ClientConfig>, server: &Arc<ServerConfig>) {
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = ClientConnection::new(Arc::clone(client), name).unwrap();
    let mut server = ServerConnection::new(Arc::clone(server)).unwrap();
    let mut buffer = Vec::new();
    while client.is_handshaking() || server.is_handshaking() {
        buffer.clear();
        while client.wants_write() {
            client.write_tls(&mut buffer).unwrap();
        }
        let mut read = buffer.as_slice();
        while !read.is_empty() {
            server.read_tls(&mut read).unwrap();
            server.process_new_packets().unwrap();
        }
        buffer.clear();
        while server.wants_write() {
            server.write_tls(&mut buffer).unwrap();
        }
        let mut read = buffer.as_slice();
        while !read.is_empty() {
            client.read_tls(&mut read).unwrap();
            client.process_new_packets().unwrap();
        }
    }
    client.writer().write_all(b"x").unwrap();
    black_box(server.reader().read(&mut [0; 1]).ok());
}

fn server_config(leaf: &Leaf) -> Arc<ServerConfig> {
    Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(leaf.chain.clone(), leaf.key())
            .unwrap(),
    )
}

fn crl_handshake(c: &mut Criterion, ca: &Ca, dir: &Path) {
    let file = crl_file(ca, dir, HANDSHAKE_SERIALS);
    let crls = Crls::new(CrlSource::new().with_file(&file)).unwrap();
    let server = server_config(&ca.server_leaf_serial(1));
    let cache = ClientConfigCache::with_provider(provider());
    let plain = cache.get(&upstream(ca, None)).unwrap();
    let applying = cache.get(&upstream(ca, Some(&crls))).unwrap();
    let mut group = c.benchmark_group("crl_handshake");
    group.bench_function("full handshake, no CRL (baseline)", |b| {
        b.iter(|| handshake(&plain, &server));
    });
    group.bench_function("full handshake, a 100,000-serial CRL applied", |b| {
        b.iter(|| handshake(&applying, &server));
    });
    group.finish();
}

fn crl_poll(c: &mut Criterion, ca: &Ca, dir: &Path) {
    let crls_dir = dir.join("crls.d");
    std::fs::create_dir(&crls_dir).unwrap();
    let files: Vec<PathBuf> = (0..100)
        .map(|i| {
            let crl = ca.crl(i, &[i + 10], next_month());
            write_settled(crls_dir.join(format!("{i:03}.crl")), crl.pem)
        })
        .collect();
    let crls = Crls::new(CrlSource::new().with_dir(&crls_dir)).unwrap();
    let mut group = c.benchmark_group("crl_poll");
    group.bench_function("a stat of each of 100 files (baseline)", |b| {
        b.iter(|| {
            for file in &files {
                black_box(std::fs::metadata(file).unwrap());
            }
        });
    });
    group.bench_function("Crls::check_for_changes, 100 files unchanged", |b| {
        b.iter(|| black_box(crls.check_for_changes()));
    });
    group.finish();
}

fn main() {
    let ca = Ca::new("revocation bench CA");
    let dir = scratch_dir("revocation-bench");
    let mut c = Criterion::default().configure_from_args();
    crl_parse(&mut c, &ca, &dir);
    crl_handshake(&mut c, &ca, &dir);
    crl_poll(&mut c, &ca, &dir);
    c.final_summary();
}
