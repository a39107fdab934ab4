//! reqwest 0.13: the config goes, by value, to `ClientBuilder::tls_backend_preconfigured`
//! (`use_preconfigured_tls` is its older name).

use rustls::ClientConfig;
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

use crate::Error;

// recipe
/// A reqwest 0.13 client whose TLS is the cache's config with reqwest's default trust, the
/// platform verifier's (`Trust::Platform`), built once rather than at every `build()`.
pub fn client(cache: &ClientConfigCache) -> Result<reqwest::Client, Error> {
    // reqwest sends the config's ALPN as it is: offer what this reqwest speaks
    // (["h2", "http/1.1"] with its `http2` feature).
    let upstream = UpstreamTls::builder(Trust::Platform)
        .alpn(["http/1.1"])
        .build();
    let config = cache.get(&upstream)?;
    // reqwest takes a `ClientConfig` by value: given the `Arc`, `build()` fails with "unknown TLS
    // backend". The clone shares the verifier, the anchors and the session store.
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(ClientConfig::clone(&config))
        .build()?;
    Ok(client)
}
// end recipe
