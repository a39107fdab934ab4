//! `tls-probe`: the workspace's main job.
//!
//! ```text
//! cargo run --release --example tls-probe [--json]
//! cargo run --release --example tls-probe -- --connect HOST:PORT [--server-name NAME]
//!     [--alpn PROTO]... [--ca FILE]... [--json]
//! ```
//!
//! Without `--connect`: prints this machine's trust-store report, runs a reload storm (many
//! threads building configs for many fingerprints at once) and prints what it cost, then completes
//! a handshake with an in-process loopback server whose CA is an extra anchor. No network.
//!
//! With `--connect`: verifies a real server with the rules a rustls daemon applies (the system
//! store, plus any `--ca` anchors), prints protocol, cipher suite, ALPN and the peer chain, and
//! exits 1 with the rustls error spelled out when verification fails.
//!
//! Exit status: 0 on success, 1 when a handshake failed, 2 for bad arguments, 3 when the system
//! trust store failed to load (the rest still runs, on extra anchors only).

use std::process::ExitCode;

use native_roots_cache::{native_roots, native_roots_generation, native_roots_report};
use tls_client_builder::ClientConfigCache;

#[path = "tls-probe/args.rs"]
mod args;
#[path = "tls-probe/handshake.rs"]
mod handshake;
#[path = "tls-probe/json.rs"]
mod json;
#[path = "tls-probe/loopback.rs"]
mod loopback;
#[path = "tls-probe/storm.rs"]
mod storm;

use args::{Args, Mode};
use json::Object;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("tls-probe: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    if args.help {
        println!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }

    let mut out = Object::new();
    let store_ok = trust_store(&args, &mut out);
    let cache = new_cache();
    let handshake_ok = match &args.mode {
        Mode::Local => {
            let report = storm::run(&cache, store_ok);
            if !args.json {
                report.print();
            }
            out.object("storm", report.to_json());
            loopback::probe(&cache, store_ok, args.json, &mut out)
        }
        Mode::Connect(target) => handshake::connect(&cache, target, args.json, &mut out),
    };

    if args.json {
        println!("{}", out.finish());
    }
    if !handshake_ok {
        ExitCode::from(1)
    } else if !store_ok {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

/// A cache on the crate's feature provider, or *ring* when built without provider features.
fn new_cache() -> ClientConfigCache {
    #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
    let cache = ClientConfigCache::new();
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let cache = ClientConfigCache::with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ));
    cache.max_entries(storm::FINGERPRINTS)
}

/// Load the system store, print its report; whether it loaded.
fn trust_store(args: &Args, out: &mut Object) -> bool {
    let loaded = native_roots();
    let report = native_roots_report();
    let mut json = Object::new();
    json.bool("ok", loaded.is_ok());
    json.num("generation", native_roots_generation());
    if let Some(report) = &report {
        json.str("source", &report.origin.to_string());
        json.num("anchors", report.anchors as u64);
        json.num("certificates", report.certificates as u64);
        json.strs("skipped", report.skipped.iter().map(ToString::to_string));
        json.strs("errors", report.errors.iter().map(ToString::to_string));
        json.strs(
            "non_ca_anchors",
            report.non_ca_anchors.iter().map(|a| a.subject.clone()),
        );
        json.num("attempts", u64::from(report.attempts));
        json.float("elapsed_ms", report.elapsed.as_secs_f64() * 1e3);
    }
    match &loaded {
        Ok(_) => json.null("error"),
        Err(err) => json.str("error", &err.to_string()),
    }
    out.object("trust_store", json);

    if !args.json {
        match (&loaded, &report) {
            (Ok(_), Some(report)) => println!("trust store: {report}"),
            (Ok(store), None) => println!("trust store: {} anchors", store.len()),
            (Err(err), _) => {
                println!("trust store: FAILED to load: {err}");
                println!(
                    "  fingerprints that trust the system store cannot be built; what follows \
                     uses extra anchors only"
                );
            }
        }
        if let Some(report) = &report {
            for skipped in &report.skipped {
                println!("  skipped {skipped}");
            }
            for anchor in &report.non_ca_anchors {
                println!("  warning {anchor}");
            }
            for error in &report.errors {
                println!("  error: {error}");
            }
        }
    }
    // The store is cached for the process: later native_roots() calls cost an Arc clone.
    loaded.map(|_| ()).is_ok()
}
