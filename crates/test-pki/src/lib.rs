//! The test helpers of the workspace, written once (as rustls keeps its in `rustls-test`): a test
//! PKI from rcgen, loopback rustls servers and a client for them, scripted trust sources, scratch
//! files, and a test binary re-run as a child with an environment of its own. Not published; a
//! dev-dependency of every crate whose tests need it, and a dependency of `client-recipes`.
//!
//! A helper that cannot do its job panics: the test it serves fails there, with the reason.
#![allow(clippy::unwrap_used)]

mod ca;
mod child;
mod files;
pub mod logs;
pub mod metrics;
mod server;
mod source;

pub use ca::{Ca, Crl, Leaf};
pub use child::{ChildRun, alone, rerun_without_cert_variables, spawn_runner, wait_bounded};
pub use files::{ScratchDir, fresh_dir, replace_file, scratch_dir, settle, write_settled};
pub use server::{
    ClientLeaves, Negotiated, PinnedClientVerifier, ServerOptions, exchange, http_get, provider,
    spawn_server,
};
pub use source::{Fake, Script, ScriptedSource, UNPARSABLE_CERT_PEM, ca_pem, garbage, root};

/// `err`'s `Display`, then each [`source`](std::error::Error::source) under it after `: `: what
/// a test searches for a fragment of the cause (each `Display` alone is one short line).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(err), |&err| err.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
