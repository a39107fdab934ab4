//! reqwest 0.12: the config goes, by value, to `ClientBuilder::use_preconfigured_tls`.

use reqwest_0_12 as reqwest;
use rustls::ClientConfig;
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

use crate::Error;

// recipe
/// A reqwest 0.12 client whose TLS is the cache's config for the native roots.
pub fn client(cache: &ClientConfigCache) -> Result<reqwest::Client, Error> {
    let upstream = UpstreamTls::builder(Trust::Native)
        .alpn(["http/1.1"])
        .build();
    let config = cache.get(&upstream)?;
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(ClientConfig::clone(&config))
        .build()?;
    Ok(client)
}
// end recipe
