//! rustls alone: `ClientConnection::new` takes the `Arc<ClientConfig>` itself.

use std::net::TcpStream;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};

use crate::Error;

// recipe
/// A TLS connection to `host:port`, verified with the cache's config for the native roots; the
/// handshake happens on the first read or write.
pub fn connect(
    cache: &ClientConfigCache,
    host: &str,
    port: u16,
) -> Result<StreamOwned<ClientConnection, TcpStream>, Error> {
    let upstream = UpstreamTls::builder(Trust::Native)
        .alpn(["http/1.1"])
        .build();
    let config = cache.get(&upstream)?;
    let name = ServerName::try_from(host.to_owned())?;
    let conn = ClientConnection::new(config, name)?;
    let tcp = TcpStream::connect((host, port))?;
    Ok(StreamOwned::new(conn, tcp))
}
// end recipe
