#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

mod bounded;
mod cache;
mod certificate;
mod changes;
mod constraints;
mod debounce;
mod error;
mod expiry;
mod files;
#[cfg(not(loom))]
mod global;
mod load;
mod notify;
mod os_error;
mod platform;
mod policy;
mod progress;
mod reload_gate;
mod report;
mod signature;
mod source;
mod stats;
mod streak;
mod sync;
#[cfg(test)]
mod test_support;
mod watch;
mod watched;
mod worker;

pub use bounded::Unread;
pub use cache::RootsCache;
pub use certificate::{CertificateLocation, ReportedCertificate};
pub use changes::{ChangeCheck, Refresh};
pub use debounce::Look;
pub use error::{NativeRootsError, NativeRootsErrorKind};
pub use files::PemFiles;
#[cfg(not(loom))]
pub use global::{native_roots, warm_native_roots};
pub use platform::PlatformSource;
pub use policy::LoadPolicy;
pub use reload_gate::ReloadGate;
pub use report::{LoadReport, NotedCertificate};
pub use signature::SourceSignature;
pub use source::{SourceError, SourceOutput, TrustOrigin, TrustSource};
pub use stats::RootsStats;
pub use watch::{WatchHandle, Watcher};
pub use watched::Watched;
