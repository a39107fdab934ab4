//! Print the load report of this machine's trust store, as the process-wide cache sees it.
//!
//! `cargo run --example trust-store` (honours `SSL_CERT_FILE` and `SSL_CERT_DIR`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let outcome = native_roots_cache::warm_native_roots();
    if let Some(report) = native_roots_cache::RootsCache::global().report() {
        println!("{report}");
        for err in &report.errors {
            println!("  error:   {err}");
        }
        for skipped in &report.skipped {
            println!("  skipped: {skipped}");
        }
        for anchor in &report.non_ca_anchors {
            println!("  warning: {anchor}");
        }
    }
    match outcome {
        Ok(store) => {
            println!(
                "ready: {} trust anchors, generation {}",
                store.len(),
                native_roots_cache::RootsCache::global().generation()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
