//! The debounce of live trust: which signature the store in use was read at, which change waits
//! to hold still, and which signature last failed to load. A change is worth a reload only once
//! it held across two looks (a bundle being written is not even read), and a signature that
//! failed is not read again until the files change again.

use crate::signature::SourceSignature;

/// The debounce: which signature the store in use was read at, which change is waiting to hold
/// still, and which signature last failed to load (not retried until the files change again).
#[derive(Debug, Default)]
pub(crate) struct Debounce {
    published: Option<SourceSignature>,
    candidate: Option<SourceSignature>,
    failed: Option<SourceSignature>,
}

/// What the debounce decided about one look at the files.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Unchanged,
    Pending,
    Reload,
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

    pub(crate) fn observe(&mut self, now: SourceSignature) -> Decision {
        if self.seen(&now) {
            self.candidate = None;
            return Decision::Unchanged;
        }
        if self.candidate.as_ref() == Some(&now) {
            self.candidate = None;
            return Decision::Reload;
        }
        self.candidate = Some(now);
        Decision::Pending
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
    use crate::signature::SourceSignature;

    fn sig(name: &str) -> SourceSignature {
        // Distinct signatures from distinct paths, without touching the file system.
        SourceSignature::of_missing(name)
    }

    #[test]
    fn a_change_is_reloaded_only_once_it_held_across_two_looks() {
        let mut debounce = Debounce::default();
        debounce.loaded(Some(sig("/a")), true);
        assert_eq!(debounce.observe(sig("/a")), Decision::Unchanged);
        assert_eq!(debounce.observe(sig("/b")), Decision::Pending);
        // Still moving: the new look differs from the candidate.
        assert_eq!(debounce.observe(sig("/c")), Decision::Pending);
        assert_eq!(debounce.observe(sig("/c")), Decision::Reload);
        debounce.loaded(Some(sig("/c")), true);
        assert_eq!(debounce.observe(sig("/c")), Decision::Unchanged);
    }

    #[test]
    fn a_failed_signature_is_not_retried_until_the_files_change_again() {
        let mut debounce = Debounce::default();
        debounce.loaded(Some(sig("/good")), true);
        assert_eq!(debounce.observe(sig("/bad")), Decision::Pending);
        assert_eq!(debounce.observe(sig("/bad")), Decision::Reload);
        debounce.loaded(Some(sig("/bad")), false);
        for _ in 0..5 {
            assert_eq!(debounce.observe(sig("/bad")), Decision::Unchanged);
        }
        assert_eq!(debounce.observe(sig("/fixed")), Decision::Pending);
        assert_eq!(debounce.observe(sig("/fixed")), Decision::Reload);
    }

    #[test]
    fn going_back_to_the_published_files_cancels_a_pending_change() {
        let mut debounce = Debounce::default();
        debounce.loaded(Some(sig("/a")), true);
        assert_eq!(debounce.observe(sig("/b")), Decision::Pending);
        assert_eq!(debounce.observe(sig("/a")), Decision::Unchanged);
        assert_eq!(debounce.observe(sig("/b")), Decision::Pending);
    }
}
