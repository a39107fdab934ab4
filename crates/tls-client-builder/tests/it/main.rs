//! The in-process integration tests, one binary with a module per subject (as once_cell's
//! `tests/it/`). Each builds fresh caches; those that trust the native roots give the cache a
//! fresh `RootsCache` over a scripted source (`support::ScriptedSource`), so none reads the
//! machine's store or the environment. The process-wide store read through `SSL_CERT_FILE` is
//! tested in its own binary, `tests/system_store_file.rs`.
#![allow(clippy::unwrap_used)]

use test_pki::logs;
mod support;

mod cache_bounds;
mod errors;
mod fallback;
mod generation;
mod handshake;
mod identity_faults;
mod identity_refused;
mod live_trust;
mod native_failure;
mod revocation;
mod roots;
mod rotation;
mod stats;
mod storm;
mod unknown_issuer;
mod upstream_props;
