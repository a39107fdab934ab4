//! hyper-rustls 0.27: the config goes, by value and **without ALPN**, to
//! `HttpsConnectorBuilder::with_tls_config`, which panics on a config that has ALPN protocols
//! ("ALPN protocols should not be pre-defined"); it sets them from the HTTP versions enabled
//! (none for HTTP/1 alone).

use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use tls_client_builder::{BuildError, ClientConfigCache, Trust, UpstreamTls};

/// The hyper client of the recipe.
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

// recipe
/// A hyper client whose TLS is the cache's config for the native roots.
pub fn client(cache: &ClientConfigCache) -> Result<HttpsClient, BuildError> {
    // No ALPN in the upstream key: hyper-rustls sets it from the HTTP versions enabled below.
    let upstream = UpstreamTls::builder(Trust::Native).build();
    let config = cache.get(&upstream)?;
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(ClientConfig::clone(&config))
        .https_only()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}
// end recipe
