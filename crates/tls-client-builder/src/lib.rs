#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

mod cache;
mod crl;
mod error;
mod handle;
mod hasher;
mod identity;
mod identity_error;
mod identity_source;
mod identity_stats;
mod issuer_check;
mod meter;
mod opaque;
mod pem;
#[cfg(feature = "platform-verifier")]
mod platform;
mod provider;
mod revocation;
mod roots;
mod session;
mod settings;
mod trust;
mod upstream;
mod utc;

pub use cache::{BuiltConfig, CacheStats, ClientConfigCache, DEFAULT_MAX_ENTRIES};
pub use crl::{CrlCheck, CrlError, CrlInfo, CrlSource, CrlStats, Crls};
pub use error::BuildError;
pub use handle::ConfigHandle;
pub use identity::{IdentityCheck, RotatingIdentity};
pub use identity_error::IdentityError;
pub use identity_source::{IdentityMaterial, IdentitySource};
pub use identity_stats::IdentityStats;
pub use revocation::Revocation;
pub use roots::NativeRoots;
pub use settings::{SessionResumption, TlsVersions, Trust};
pub use trust::TrustProvenance;
pub use upstream::{UpstreamTls, UpstreamTlsBuilder};
