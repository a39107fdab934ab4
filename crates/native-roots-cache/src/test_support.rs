//! The unit tests' and the loom model's helpers: those of the workspace's `test-pki` crate, and
//! the scripted [`Fake`] source made of its [`Script`] here. `test-pki` sees the library as a
//! dependency, another copy than the one under test here, whose `TrustSource` is another trait:
//! so the unit tests implement this copy's trait for it themselves.
#![allow(unused_imports, unreachable_pub)]

use test_pki::Script;
pub use test_pki::*;

use crate::source::{SourceOutput, TrustOrigin, TrustSource};

/// A source that answers call `n` (from 1) with `script(n)` and counts its calls.
pub type Fake = Script<SourceOutput>;

impl TrustSource for Fake {
    fn load(&self) -> SourceOutput {
        self.answer()
    }

    fn origin(&self) -> TrustOrigin {
        TrustOrigin::Custom("the fake source".into())
    }
}
