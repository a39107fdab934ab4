//! Ready rustls `ClientConfig`s per upstream-TLS fingerprint, all sharing one cached trust store.
//!
//! A proxy or gateway keeps one `ClientConfig` per upstream: trust settings, ALPN, versions,
//! client identity. The usual way to build one re-reads the system trust store every time
//! (milliseconds and about 100 KiB per config). This crate keys configs by an [`UpstreamTls`]
//! fingerprint and builds each once, from one shared `Arc<RootCertStore>` and one verifier per
//! trust set, with a session store that allocates only when it is first used:
//!
//! ```no_run
//! use tls_client_builder::{ClientConfigCache, Trust, UpstreamTls};
//!
//! # #[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let private_ca_pem = "";
//! let cache = ClientConfigCache::new();
//! let public = UpstreamTls::builder(Trust::Native).alpn(["h2", "http/1.1"]).build();
//! let private = UpstreamTls::builder(Trust::AnchorsOnly)
//!     .extra_anchors_pem(private_ca_pem)?
//!     .build();
//! let config = cache.get(&public)?; // built once, then an Arc clone per call
//! let other = cache.get(&private)?;
//! # Ok(()) }
//! # #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
//! # fn main() {}
//! ```
//!
//! * A hit is a read lock on one of many shards and an `Arc` clone; concurrent misses on one
//!   fingerprint build once; different fingerprints build in parallel.
//! * Fingerprints compare and hash their full value (certificate and key bytes included): two
//!   upstreams share a config only if every setting is equal. The hash is computed once.
//! * After `native_roots_cache::refresh_native_roots()` publishes a changed store, configs built
//!   from the old one are rebuilt on their next lookup.
//! * [`ClientConfigCache::stats`] counts hits, builds, evictions, trust-store loads and
//!   fallbacks.
//!
//! # Crate features
//! | feature | default | effect |
//! | --- | --- | --- |
//! | `ring` | yes | `ClientConfigCache::new()` uses the *ring* crypto provider |
//! | `aws-lc-rs` | no | `ClientConfigCache::new()` uses aws-lc-rs (it wins when both are on) |
//! | `webpki-roots` | no | adds `Trust::WebpkiRoots` and `Trust::NativeWithWebpkiFallback`, backed by the bundled Mozilla roots |
//!
//! Without `ring` and `aws-lc-rs`, build caches with [`ClientConfigCache::with_provider`] or
//! [`ClientConfigCache::with_process_default_provider`].
//!
//! # Environment variables
//! The system store is read by `native_roots_cache`, which honours `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` (either replaces the platform store).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod error;
mod fingerprint;
mod hasher;
mod pem;
mod provider;
mod session;
mod shards;
mod trust;

pub use cache::{BuiltConfig, CacheStats, ClientConfigCache, DEFAULT_MAX_ENTRIES};
pub use error::BuildError;
pub use fingerprint::{SessionResumption, TlsVersions, Trust, UpstreamTls, UpstreamTlsBuilder};
pub use trust::TrustProvenance;
