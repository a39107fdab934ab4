//! The debounce of live trust: which signature the store in use was read at, which change waits
//! to hold still, and which signature last failed to load. A change is worth a reload only once
//! it held across two looks (a bundle being written is not even read), and a signature that
//! failed is not read again until the files change again.

use crate::source::signature::SourceSignature;

/// The debounce: which signature the store in use was read at, which change is waiting to hold
/// still, and which signature last failed to load (not retried until the files change again).
#[derive(Debug, Default)]
pub(crate) struct Debounce {
    published: Option<SourceSignature>,
    candidate: Option<SourceSignature>,
    failed: Option<SourceSignature>,
}

/// What one look at a source's files found, debounced: the normal outcomes of a check, never
/// errors. A [`ReloadGate`](crate::ReloadGate) answers it to a value of a crate above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
// The three outcomes of a debounce, complete by construction: callers match each one.
#[allow(clippy::exhaustive_enums)]
pub enum Look {
    /// The files look as they did when the value in use (or the last failed read) was read:
    /// nothing to read.
    Unchanged,
    /// The files changed since the last look: the change must hold still until the next look
    /// before it is read.
    Pending,
    /// A change held still across two looks: read it now.
    Changed,
}

impl Debounce {
    pub(crate) const fn new() -> Self {
        Self {
            published: None,
            candidate: None,
            failed: None,
        }
    }

    /// Whether `now` is what the store in use, or the last failed load, was read at: nothing
    /// new to read.
    pub(crate) fn seen(&self, now: &SourceSignature) -> bool {
        self.published.as_ref() == Some(now) || self.failed.as_ref() == Some(now)
    }

    pub(crate) fn observe(&mut self, now: SourceSignature) -> Look {
        if self.seen(&now) {
            self.candidate = None;
            return Look::Unchanged;
        }
        if self.candidate.as_ref() == Some(&now) {
            self.candidate = None;
            return Look::Changed;
        }
        self.candidate = Some(now);
        Look::Pending
    }

    /// The signature of the files whose load failed last, if it failed.
    pub(crate) fn failed(&self) -> Option<&SourceSignature> {
        self.failed.as_ref()
    }

    /// Record a load read at `signature`: the store in use now matches it, or, when the load
    /// failed, it is not retried until the files change again.
    pub(crate) fn loaded(&mut self, signature: Option<SourceSignature>, ok: bool) {
        if ok {
            self.published = signature;
            self.failed = None;
        } else {
            self.failed = signature;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::source::signature::SourceSignature;

    fn sig(name: &str) -> SourceSignature {
        // Distinct signatures from distinct paths, without touching the file system.
        SourceSignature::of_missing(name)
    }

    #[test]
    fn a_change_is_reloaded_only_once_it_held_across_two_looks() {
        let mut debounce = Debounce::default();
        debounce.loaded(Some(sig("/a")), true);
        assert_eq!(debounce.observe(sig("/a")), Look::Unchanged);
        assert_eq!(debounce.observe(sig("/b")), Look::Pending);
        // Still moving: the new look differs from the candidate.
        assert_eq!(debounce.observe(sig("/c")), Look::Pending);
        assert_eq!(debounce.observe(sig("/c")), Look::Changed);
        debounce.loaded(Some(sig("/c")), true);
        assert_eq!(debounce.observe(sig("/c")), Look::Unchanged);
    }

    #[test]
    fn a_failed_signature_is_not_retried_until_the_files_change_again() {
        let mut debounce = Debounce::default();
        debounce.loaded(Some(sig("/good")), true);
        assert_eq!(debounce.observe(sig("/bad")), Look::Pending);
        assert_eq!(debounce.observe(sig("/bad")), Look::Changed);
        debounce.loaded(Some(sig("/bad")), false);
        for _ in 0..5 {
            assert_eq!(debounce.observe(sig("/bad")), Look::Unchanged);
        }
        assert_eq!(debounce.observe(sig("/fixed")), Look::Pending);
        assert_eq!(debounce.observe(sig("/fixed")), Look::Changed);
    }

    #[test]
    fn going_back_to_the_published_files_cancels_a_pending_change() {
        let mut debounce = Debounce::default();
        debounce.loaded(Some(sig("/a")), true);
        assert_eq!(debounce.observe(sig("/b")), Look::Pending);
        assert_eq!(debounce.observe(sig("/a")), Look::Unchanged);
        assert_eq!(debounce.observe(sig("/b")), Look::Pending);
    }
}
