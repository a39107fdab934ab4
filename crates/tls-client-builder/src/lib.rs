#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

mod cache;
mod error;
mod fingerprint;
mod hasher;
mod pem;
mod provider;
mod roots;
mod session;
mod settings;
mod shards;
mod trust;

pub use cache::{BuiltConfig, CacheStats, ClientConfigCache, DEFAULT_MAX_ENTRIES};
pub use error::BuildError;
pub use fingerprint::{UpstreamTls, UpstreamTlsBuilder};
pub use roots::{NativeRoots, ProcessRoots};
pub use settings::{SessionResumption, TlsVersions, Trust};
pub use trust::TrustProvenance;
