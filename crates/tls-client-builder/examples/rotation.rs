//! A handle per upstream and a client identity that rotates under it.
//!
//! `cargo run -p tls-client-builder --example rotation -- client.crt client.key`, then replace
//! the two files (as cert-manager or a vault agent would): the identity rotates, the config stays.

use std::time::Duration;

use native_roots_cache::Watcher;
use tls_client_builder::{ClientConfigCache, IdentitySource, RotatingIdentity, Trust, UpstreamTls};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(chain), Some(key)) = (args.next(), args.next()) else {
        // Run without arguments (as `cargo xtask ci` runs every example), it only says how to use it.
        println!("usage: rotation CHAIN.pem KEY.pem");
        return Ok(());
    };
    let identity = RotatingIdentity::new("example", IdentitySource::files(chain, key))?;
    // The trust store's watcher follows the identity too; it stops when dropped.
    let _watching = Watcher::new()
        .with_poll_interval(Duration::from_secs(1))
        .start(identity.clone())?;

    let cache = ClientConfigCache::new();
    let upstream = UpstreamTls::builder(Trust::Native)
        .rotating_client_identity(identity.clone())
        .build();
    let handle = cache.handle(&upstream)?; // keep one per upstream
    let config = handle.config(); // per connection: about one Arc clone

    for _ in 0..30 {
        std::thread::sleep(Duration::from_secs(1));
        let same = std::sync::Arc::ptr_eq(&config, &handle.config());
        println!(
            "rotations: {}, valid until {:?}, same config: {same}, last error: {:?}",
            identity.rotations(),
            identity.not_after(),
            identity.last_error().map(|err| err.to_string()),
        );
    }
    Ok(())
}
