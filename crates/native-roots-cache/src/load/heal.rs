//! How a failed load heals once it is cached: the one decision, read by the cache (which doors a
//! call may open) and by the error's advice (what it tells the operator), so the two cannot
//! disagree.

use std::time::Duration;

use crate::load::error::NativeRootsErrorKind;
use crate::source::TrustOrigin;

/// The doors that reopen a cached failure besides an explicit refresh (always open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Doors {
    /// A change of the failure's files reopens it: looked at by a call at most once per
    /// [`LOOK_INTERVAL`].
    pub(crate) files: bool,
    /// Time reopens it: a call reads the store again [`retry_after`] the failure.
    pub(crate) timed: bool,
}

/// How a failure of `kind`, from a load that read `origin`, heals once cached; `None` for the
/// kinds that are never cached (returned to one call only).
///
/// - A failure of files is read again once they change: only a load that read them has their
///   signature (a panic or a deadline read nothing), and only file origins have files (on Linux
///   and the BSDs the platform store is openssl-probe's files).
/// - A failure that met only transient errors is read again after a while: its causes pass
///   (keychain contention, descriptors or memory exhausted, a writer slower than the deadline).
pub(crate) fn doors(kind: NativeRootsErrorKind, origin: &TrustOrigin) -> Option<Doors> {
    use NativeRootsErrorKind as Kind;
    let of_files = match origin {
        TrustOrigin::Environment { .. } | TrustOrigin::PemFiles { .. } => true,
        TrustOrigin::PlatformStore => cfg!(all(unix, not(target_os = "macos"))),
        TrustOrigin::Custom(_) => false,
    };
    match kind {
        Kind::TransientExhausted => Some(Doors {
            files: of_files,
            timed: true,
        }),
        Kind::NoAnchors | Kind::Strict => Some(Doors {
            files: of_files,
            timed: false,
        }),
        Kind::Panicked | Kind::Deadline => Some(Doors {
            files: false,
            timed: false,
        }),
        Kind::LoaderStuck | Kind::IncompleteFile | Kind::Reentrant => None,
    }
}

/// How often a call that meets a cached failure may look whether its files changed since.
pub(crate) const LOOK_INTERVAL: Duration = Duration::from_secs(1);

/// How long after a timed door's failure (the `timed`-th such read since the last success) a
/// call reads the store again: 2 s, doubling with each read that fails again, at most 5 minutes.
pub(crate) fn retry_after(timed: u32) -> Duration {
    Duration::from_secs(2)
        .saturating_mul(1 << timed.min(8))
        .min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_cached_kind_has_its_doors_and_the_others_none() {
        let files = TrustOrigin::PemFiles {
            file: Some("/etc/app/ca.pem".into()),
            dirs: Vec::new(),
        };
        let custom = TrustOrigin::Custom("a vault".into());
        use NativeRootsErrorKind as Kind;
        let transient = doors(Kind::TransientExhausted, &files).unwrap();
        assert!(transient.files && transient.timed);
        assert!(!doors(Kind::TransientExhausted, &custom).unwrap().files);
        let empty = doors(Kind::NoAnchors, &files).unwrap();
        assert!(empty.files && !empty.timed);
        // A panic or a deadline read nothing: no signature to compare, no file door.
        assert_eq!(
            doors(Kind::Panicked, &files),
            Some(Doors {
                files: false,
                timed: false
            })
        );
        assert_eq!(doors(Kind::Reentrant, &files), None);
        assert_eq!(doors(Kind::IncompleteFile, &files), None);
    }

    #[test]
    fn the_timed_door_doubles_from_2_s_to_5_minutes() {
        assert_eq!(retry_after(0), Duration::from_secs(2));
        assert_eq!(retry_after(1), Duration::from_secs(4));
        assert_eq!(retry_after(20), Duration::from_secs(300));
    }
}
