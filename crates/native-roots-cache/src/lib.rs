#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(clippy::exhaustive_enums, clippy::exhaustive_structs)]

mod bounded;
mod cache;
mod certificate;
mod constraints;
mod debounce;
mod error;
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
mod sync;
#[cfg(test)]
mod test_support;
mod wait;
mod watch;
mod watched;
mod worker;

pub use bounded::Unread;
pub use cache::{Refresh, RootsCache};
pub use certificate::{CertificateLocation, ReportedCertificate};
pub use error::{NativeRootsError, NativeRootsErrorKind};
pub use files::PemFiles;
#[cfg(not(loom))]
pub use global::{
    check_native_roots, native_roots, native_roots_async, native_roots_generation,
    native_roots_loads, native_roots_report, refresh_native_roots,
    wait_for_native_roots_generation, warm_native_roots, watch_native_roots, with_native_roots,
};
pub use platform::PlatformSource;
pub use policy::LoadPolicy;
pub use reload_gate::ReloadGate;
pub use report::{LoadReport, NonCaAnchor, SkippedCertificate};
pub use signature::SourceSignature;
pub use source::{SourceError, SourceOutput, Transience, TrustOrigin, TrustSource};
pub use wait::{FirstLoad, NextGeneration};
pub use watch::{ChangeCheck, WatchHandle, Watcher};
pub use watched::Watched;
