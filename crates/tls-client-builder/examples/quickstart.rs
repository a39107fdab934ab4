//! The calls a daemon makes: a config per upstream, an operator-triggered reload, and where a
//! config's trust came from.
//!
//! `cargo run -p tls-client-builder --example quickstart` (honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR`). For a report of the store itself, install `tls-probe`.

use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cache = ClientConfigCache::new();
    let upstream = UpstreamTls::builder(Trust::Native)
        .alpn(["h2", "http/1.1"])
        .build();

    // The first lookup builds the config from the system store, loaded once per process; the
    // second is an Arc clone of the same config.
    let config = cache.get(&upstream)?;
    let again = cache.get(&upstream)?;
    assert!(std::sync::Arc::ptr_eq(&config, &again));

    // What a daemon does on SIGHUP: re-read the store. Only a changed anchor set advances the
    // generation, and only then are configs rebuilt on their next lookup.
    let refresh = native_roots_cache::RootsCache::global().refresh()?;
    println!(
        "refresh: {} anchors, generation {}, changed: {}",
        refresh.roots.len(),
        refresh.generation,
        refresh.changed
    );

    // get_built says where the config's anchors came from.
    let built = cache.get_built(&upstream)?;
    println!("trust: {}", built.provenance());
    println!("{:?}", cache.stats());
    Ok(())
}
