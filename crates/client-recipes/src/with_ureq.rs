//! ureq 3: it takes no rustls `ClientConfig` (its maintainer's answer to ureq#1084, #1087, #1105
//! and #994 is "write your own Connector"), so the recipe is that connector: ureq's TCP, then TLS
//! with the cache's config. It costs one `Arc` clone per connection, nothing per request on a
//! pooled connection.

use std::fmt;
use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, TcpConnector,
    Transport, TransportAdapter,
};

use crate::Error;

// recipe
/// A ureq 3 agent whose TLS is the cache's config for the platform verifier's trust.
pub fn agent(cache: &ClientConfigCache) -> Result<ureq::Agent, Error> {
    let upstream = UpstreamTls::builder(Trust::Platform)
        .alpn(["http/1.1"])
        .build();
    let tls = CachedTls(cache.get(&upstream)?);
    // ureq's own chain, with our TLS in place of its rustls connector (build ureq without its
    // `rustls` feature: `default-features = false`).
    let connector = TcpConnector::default().chain(tls);
    let config = ureq::config::Config::default();
    Ok(ureq::Agent::with_parts(
        config,
        connector,
        DefaultResolver::default(),
    ))
}

/// The TLS step of ureq's connector chain, with a config from the cache.
#[derive(Debug)]
pub struct CachedTls(pub Arc<ClientConfig>);

impl<In: Transport> Connector<In> for CachedTls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().ok_or(ureq::Error::Tls("no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ureq::Error::Tls("the host is not a DNS name or an IP address"))?;
        let conn = ClientConnection::new(Arc::clone(&self.0), name)
            .map_err(|err| ureq::Error::Io(std::io::Error::other(err)))?;
        let mut sock = TransportAdapter::new(transport.boxed(), Arc::clone(&details.current_time));
        sock.set_timeout(details.timeout);
        let mut stream = StreamOwned::new(conn, sock);
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        let config = details.config;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream })))
    }
}

/// A TLS connection as ureq reads and writes it.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        self.stream.write_all(&self.buffers.output()[..amount])?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let read = self.stream.read(self.buffers.input_append_buf())?;
        self.buffers.input_appended(read);
        Ok(read > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.sock.get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}
// end recipe
