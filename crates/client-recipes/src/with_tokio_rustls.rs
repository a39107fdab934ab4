//! tokio-rustls 0.26: `TlsConnector::from` takes the `Arc<ClientConfig>` itself.

use std::io;

use rustls::pki_types::ServerName;
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

// recipe
/// A TLS connection to `host:port`, verified with the cache's config for the native roots.
pub async fn connect(
    cache: &ClientConfigCache,
    host: &str,
    port: u16,
) -> io::Result<TlsStream<TcpStream>> {
    let upstream = UpstreamTls::builder(Trust::Native)
        .alpn(["http/1.1"])
        .build();
    // Asked per connection: an Arc clone, and a refreshed trust store is picked up at once.
    let config = cache.get(&upstream).map_err(io::Error::other)?;
    let connector = TlsConnector::from(config);
    let name = ServerName::try_from(host.to_owned()).map_err(io::Error::other)?;
    let tcp = TcpStream::connect((host, port)).await?;
    connector.connect(name, tcp).await
}
// end recipe
