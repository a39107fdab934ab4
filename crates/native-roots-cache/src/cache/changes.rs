//! What a reload changed: the [`Refresh`] a caller gets, the [`ChangeCheck`] of one poll, and the
//! rules that compare two loads (which anchors came and went, whether the set changed, and which
//! incomplete file forbids publishing at all). Pure: no I/O, no state.

use std::sync::Arc;

use rustls::RootCertStore;

use crate::load::error::NativeRootsError;
use crate::load::report::LoadReport;
use crate::source::IncompleteFile;
use crate::source::certificate::{CertificateLocation, ReportedCertificate};

/// The result of a successful [`RootsCache::refresh`](crate::RootsCache::refresh).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Refresh {
    /// The store now published.
    pub roots: Arc<RootCertStore>,
    /// Whether the anchor set differed from the one published before (if unchanged, `roots` is
    /// the very same `Arc` as before and the generation did not move).
    pub changed: bool,
    /// The generation now published.
    pub generation: u64,
    /// The anchors' certificates the new store has and the previous one had not (empty when
    /// unchanged, or when the previous outcome was an error).
    pub added: Vec<ReportedCertificate>,
    /// The anchors' certificates the previous store had and the new one has not.
    pub removed: Vec<ReportedCertificate>,
}

/// What one [`RootsCache::check_for_changes`](crate::RootsCache::check_for_changes) found and did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ChangeCheck {
    /// The source's files look as they did when the store in use was read: nothing to do.
    Unchanged,
    /// The files changed since the last look: the change must hold still until the next check
    /// before it is read (a bundle being written is not read half-way).
    Pending,
    /// The source was read again: [`Refresh::changed`] says whether a new store was published.
    Reloaded(Refresh),
    /// The source was read again and failed; the last good store stays in use.
    Failed(NativeRootsError),
}

/// The anchors' certificates in `new` and not in `old`, and in `old` and not in `new`.
pub(crate) fn anchor_changes(
    old: &LoadReport,
    new: &LoadReport,
) -> (Vec<ReportedCertificate>, Vec<ReportedCertificate>) {
    use std::collections::HashSet;
    let ders = |report: &LoadReport| -> HashSet<Vec<u8>> {
        report
            .anchor_certificates
            .iter()
            .map(|c| c.der.as_ref().to_vec())
            .collect()
    };
    let (old_ders, new_ders) = (ders(old), ders(new));
    let only = |report: &LoadReport, other: &HashSet<Vec<u8>>| {
        report
            .anchor_certificates
            .iter()
            .filter(|c| !other.contains(c.der.as_ref()))
            .cloned()
            .collect()
    };
    (only(new, &old_ders), only(old, &new_ders))
}

/// `; added: A, B; removed: C` by subject, for the log line of a published change.
pub(crate) fn describe_changes(
    added: &[ReportedCertificate],
    removed: &[ReportedCertificate],
) -> String {
    let subjects = |certs: &[ReportedCertificate]| {
        certs
            .iter()
            .map(|c| {
                c.subject()
                    .unwrap_or_else(|| format!("SHA-256 {}", c.sha256_hex()))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut text = String::new();
    if !added.is_empty() {
        text.push_str(&format!("; added {}: {}", added.len(), subjects(added)));
    }
    if !removed.is_empty() {
        text.push_str(&format!(
            "; removed {}: {}",
            removed.len(),
            subjects(removed)
        ));
    }
    text
}

/// The first file of a reload that must not replace the store `previous` describes: one cut
/// short (at any age: past the writer window a first load settles on what is whole, but a good
/// store is better than that), or one emptied where `previous` read anchors from.
pub(crate) fn held_back<'a>(
    previous: &LoadReport,
    incomplete: &'a [IncompleteFile],
) -> Option<&'a IncompleteFile> {
    if incomplete.is_empty() {
        return None;
    }
    let anchor_files: std::collections::HashSet<&std::path::Path> = previous
        .anchor_certificates
        .iter()
        .filter_map(|c| match &c.location {
            CertificateLocation::File(path) => Some(path.as_path()),
            _ => None,
        })
        .collect();
    incomplete.iter().find(|file| match file {
        IncompleteFile::CutShort(_) => true,
        IncompleteFile::Empty(path) => anchor_files.contains(path.as_path()),
    })
}

/// Whether two stores hold the same set of anchors, whatever their order.
pub(crate) fn same_anchors(a: &RootCertStore, b: &RootCertStore) -> bool {
    /// An anchor's identity: subject, public key and name constraints.
    type AnchorKey<'a> = (&'a [u8], &'a [u8], Option<&'a [u8]>);
    fn set(store: &RootCertStore) -> Vec<AnchorKey<'_>> {
        let mut anchors: Vec<_> = store
            .roots
            .iter()
            .map(|anchor| {
                (
                    anchor.subject.as_ref(),
                    anchor.subject_public_key_info.as_ref(),
                    anchor.name_constraints.as_ref().map(|nc| nc.as_ref()),
                )
            })
            .collect();
        anchors.sort_unstable();
        anchors.dedup();
        anchors
    }
    set(a) == set(b)
}
