//! The client recipes of `tls-client-builder`'s README, compiled and tested: how a config from
//! `ClientConfigCache::get` reaches reqwest (0.13 and 0.12), ureq 3, hyper-rustls, tokio-rustls and a bare
//! `rustls::ClientConnection`.
//!
//! Each `with_*` module is one recipe; its function is the README's snippet, verbatim
//! (`tests/readme.rs` checks). `tests/recipes.rs` runs each against a loopback HTTPS server, and
//! each example (`cargo run -p client-recipes --example reqwest`) does the same and prints the
//! response. Not published: it exists so that the recipes cannot rot.
#![forbid(unsafe_code)]

pub mod grpc;
pub mod loopback;
pub mod with_hyper_rustls;
pub mod with_reqwest;
pub mod with_reqwest_0_12;
pub mod with_rustls;
pub mod with_tokio_rustls;
pub mod with_tonic;
pub mod with_ureq;

/// The error of the recipes that mix libraries.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
