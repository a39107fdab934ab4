#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

// The layers, bottom to top; each folder's `mod.rs` says what it owns and what it may use.
mod cache;
mod live;
mod load;
mod source;
mod sync;
#[cfg(test)]
mod test_support;

pub use cache::RootsCache;
pub use cache::changes::{ChangeCheck, Refresh};
pub use cache::debounce::Look;
#[cfg(not(loom))]
pub use cache::global::{native_roots, warm_native_roots};
pub use cache::stats::RootsStats;
pub use live::reload_gate::ReloadGate;
pub use live::watched::Watched;
pub use live::watcher::{WatchHandle, Watcher};
pub use load::bounded_job::Unread;
pub use load::error::{NativeRootsError, NativeRootsErrorKind};
pub use load::policy::LoadPolicy;
pub use load::report::{LoadReport, NotedCertificate};
pub use source::certificate::{CertificateLocation, ReportedCertificate};
pub use source::files::PemFiles;
pub use source::platform::PlatformSource;
pub use source::signature::SourceSignature;
pub use source::{SourceError, SourceOutput, TrustOrigin, TrustSource};
