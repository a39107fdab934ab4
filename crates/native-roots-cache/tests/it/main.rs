//! The in-process integration tests, one binary with a module per subject (as once_cell's
//! `tests/it/`): each builds fresh `RootsCache` instances over scripted sources or `PemFiles`, so
//! none needs the environment or a process of its own. Tests about the process-wide cache and the
//! environment variables stay in their own binaries next to this directory.
#![allow(clippy::unwrap_used)]

// The workspace's test helpers, under the name the modules use.
use test_pki as common;

mod errors;
mod faults;
mod live_trust;
mod never_blocks;
mod reader;
mod stats;
mod torn_reads;
mod writers;
