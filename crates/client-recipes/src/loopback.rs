//! The loopback HTTPS server the recipes run against: the workspace's test helpers (`test-pki`: an
//! rcgen CA, a scripted trust source, a rustls server on 127.0.0.1 that answers
//! `alpn=<negotiated protocol>`), plus [`Loopback`], which puts them together for a recipe.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use native_roots_cache::RootsCache;
pub use test_pki::http_get;
use test_pki::{Ca, ScriptedSource, ServerOptions, spawn_server};
use tls_client_builder::ClientConfigCache;

/// A CA, a server on 127.0.0.1 it certified for `localhost` (accepting `http/1.1`), and caches
/// whose native roots trust that CA, as the system store would trust a public one.
pub struct Loopback {
    addr: SocketAddr,
    source: ScriptedSource,
}

impl Loopback {
    /// Start the server; it runs until the process exits.
    pub fn start() -> Self {
        Self::serving(|ca| {
            spawn_server(
                &ca.server_leaf(),
                ServerOptions {
                    alpn: vec![b"http/1.1".to_vec()],
                    ..ServerOptions::default()
                },
            )
        })
    }

    /// Start the server that `serve` makes for a loopback CA of its own: [`start`](Self::start)
    /// here, `start_grpc` in `grpc.rs`.
    pub(crate) fn serving(serve: impl FnOnce(&Ca) -> SocketAddr) -> Self {
        // A name of its own: a server certified by another loopback CA is then of an unknown
        // issuer, not a bad signature from a namesake.
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let ca = Ca::new(&format!("client-recipes loopback CA {n}"));
        Self {
            addr: serve(&ca),
            source: ScriptedSource::trusting(&[&ca]),
        }
    }

    /// A cache on the crate features' provider whose native roots hold the loopback CA.
    pub fn cache(&self) -> ClientConfigCache {
        ClientConfigCache::new().with_roots(RootsCache::with_source(self.source.clone()))
    }

    /// The host name the server's certificate is for.
    pub fn host(&self) -> &'static str {
        "localhost"
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `https://localhost:<port>/`.
    pub fn url(&self) -> String {
        format!("https://{}:{}/", self.host(), self.port())
    }
}

/// A current-thread tokio runtime with I/O and timers, for the async recipes.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
