//! tonic 0.14: the cache's config reaches a `Channel` through `Endpoint::connect_with_connector`,
//! as hyper-rustls' `HttpsConnector` (tonic's own TLS features stay off: with them,
//! `Endpoint::tls_config` reads the native roots again for every endpoint, grpc-rust#2424). The
//! connector costs one `Arc` clone per connection; a channel multiplexes its calls over one.

use hyper_util::client::legacy::connect::HttpConnector;
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};
use tonic::transport::{Channel, Endpoint};

use crate::Error;

// recipe
/// A tonic 0.14 channel to `uri` (`https://host:port`) whose TLS is the cache's config.
pub async fn channel(cache: &ClientConfigCache, uri: &str) -> Result<Channel, Error> {
    // gRPC runs over HTTP/2: the config must offer `h2`.
    let upstream = UpstreamTls::builder(Trust::Platform).alpn(["h2"]).build();
    let config = cache.get(&upstream)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false); // the scheme is https; the connector below brings the TLS
    let https = hyper_rustls::HttpsConnector::from((http, config));
    let channel = Endpoint::from_shared(uri.to_owned())?
        .connect_with_connector(https)
        .await?;
    Ok(channel)
}
// end recipe
