//! Process-wide cache for the system trust store, for rustls.
//!
//! `rustls_native_certs::load_native_certs` reaches into the OS trust store (the Security framework
//! on macOS, the OpenSSL/NSS bundle and directory on Linux, the Windows store). It is slow
//! (milliseconds on Linux, hundreds of milliseconds on macOS) and on macOS the underlying `Sec*`
//! calls are not safe under concurrency: parallel callers get `errSecIO` (-36). Daemons that build
//! one rustls `ClientConfig` per upstream hit both whenever a reload brings several at once.
//!
//! This crate reads the store **once per process** and shares it as `Arc<RootCertStore>`:
//!
//! ```no_run
//! use rustls::ClientConfig;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let roots = native_roots_cache::native_roots()?; // Arc<RootCertStore>, loaded once
//! let config = ClientConfig::builder()
//!     .with_root_certificates(roots) // shares the Arc: no deep copy
//!     .with_no_client_auth();
//! # Ok(()) }
//! ```
//!
//! Concurrent first callers wait on one load; every later call is a lock-free read and an `Arc`
//! clone. [`with_native_roots`] borrows without even that.
//!
//! # What one load decides
//! | attempt outcome | result |
//! | --- | --- |
//! | a transient error: macOS `errSecIO` (-36) and the few OS codes documented as temporary; no file descriptor or memory left (`EMFILE`, `ENFILE`, `ENOMEM`); I/O `Interrupted`, `WouldBlock`, `TimedOut`; a torn read of a file being rewritten | retry after backoff while attempts remain; then a sticky error, even if some anchors loaded (a half-read store must not pass silently) |
//! | a permanent OS error (any other code, e.g. -25262, corrupted trust settings on one keychain domain or certificate) | recorded in the `LoadReport` with the domain it concerns and what to do; the anchors that loaded are kept |
//! | no transient error, at least one anchor | success; unreadable files, bad PEM and unparsable certificates are recorded in the `LoadReport` and logged, not fatal |
//! | no transient error, zero anchors | sticky error naming `SSL_CERT_FILE`/`SSL_CERT_DIR` and the sources tried; not retried |
//! | the source panicked | sticky error (no re-run by the next caller) |
//! | the load ran past its deadline (default 30 s) | sticky error naming the file it was stuck in, instead of blocking every caller; no second loader starts while that one is stuck |
//! | strict mode (opt-in) and any error or skipped certificate | sticky error |
//!
//! Retries: 3 attempts, backoff 50 ms then 100 ms plus up to 25 % jitter; the happy path never
//! sleeps ([`LoadPolicy`]). A cached error is **sticky**: [`native_roots`] returns the same
//! [`NativeRootsError`] on every call, so an unhappy OS API sees no retry storm. The one door is
//! [`refresh_native_roots`], which only the caller opens; it publishes a new store only when the
//! anchor set changed and advances [`native_roots_generation`].
//!
//! # Environment variables
//! | variable | effect |
//! | --- | --- |
//! | `SSL_CERT_FILE` | a PEM bundle read *instead of* the platform store |
//! | `SSL_CERT_DIR` | `:`-separated directories of PEM files read *instead of* the platform store |
//!
//! # Logging
//! Through the `log` facade: one `info` line per load, a `warn` per retry and per skipped file or
//! certificate, an `error` when a load fails.
//!
//! # Your own cache
//! [`RootsCache`] is the instance type behind the global: `const`-constructible with your own
//! [`LoadPolicy`] and [`TrustSource`] (such as [`PemFiles`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod certificate;
mod constraints;
mod error;
mod files;
#[cfg(not(loom))]
mod global;
mod load;
mod os_error;
mod platform;
mod policy;
mod progress;
mod report;
mod source;
mod sync;
#[cfg(test)]
mod test_support;
// The shared test support names the crate by its public name, as integration tests do.
#[cfg(test)]
extern crate self as native_roots_cache;
mod worker;

pub use cache::{Refresh, RootsCache};
pub use certificate::{CertificateLocation, ReportedCertificate};
pub use error::{NativeRootsError, NativeRootsErrorKind};
pub use files::PemFiles;
#[cfg(not(loom))]
pub use global::{
    native_roots, native_roots_generation, native_roots_loads, native_roots_report,
    refresh_native_roots, warm_native_roots, with_native_roots,
};
pub use platform::PlatformSource;
pub use policy::LoadPolicy;
pub use report::{LoadReport, NonCaAnchor, SkippedCertificate};
pub use source::{SourceError, SourceOutput, Transience, TrustOrigin, TrustSource};
