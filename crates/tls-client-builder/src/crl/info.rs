//! [`CrlInfo`]: what one CRL says of itself, or why a file gave none.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::crl::der::CrlFacts;
use crate::utc::Utc;

/// One CRL as a read found it (its file, issuer, dates and how many certificates it revokes),
/// or a file skipped with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CrlInfo {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its issuer's name (RFC 4514), or `None` for a skipped file.
    pub issuer: Option<String>,
    /// When it was issued.
    pub this_update: Option<SystemTime>,
    /// When its issuer promised the next one; webpki refuses a CRL without it.
    pub next_update: Option<SystemTime>,
    /// How many certificates it revokes.
    pub revoked: usize,
    /// Why the file gave no CRL (`None`: it is in use).
    pub skipped: Option<String>,
}

impl CrlInfo {
    pub(crate) fn of(path: &Path, facts: &CrlFacts<'_>) -> Self {
        Self {
            path: path.to_owned(),
            issuer: Some(facts.issuer_name.clone()),
            this_update: Some(facts.this_update),
            next_update: facts.next_update,
            revoked: facts.revoked,
            skipped: None,
        }
    }

    pub(crate) fn skipped(path: &Path, why: String) -> Self {
        Self {
            path: path.to_owned(),
            issuer: None,
            this_update: None,
            next_update: None,
            revoked: 0,
            skipped: Some(why),
        }
    }

    /// Whether its next update has passed at `now`: its issuer has (or should have) published a
    /// newer one. It still revokes what it lists unless the revocation settings enforce expiry.
    pub fn expired_at(&self, now: SystemTime) -> bool {
        self.next_update.is_some_and(|next| next <= now)
    }
}

/// `issuer (path): N revoked, next update DATE`, or `path: skipped: why`.
impl fmt::Display for CrlInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = &self.skipped {
            return write!(f, "{}: skipped: {why}", self.path.display());
        }
        write!(
            f,
            "{} ({}): {} revoked",
            self.issuer.as_deref().unwrap_or("an unnamed issuer"),
            self.path.display(),
            self.revoked
        )?;
        match self.next_update {
            Some(next) => write!(f, ", next update {}", Utc(next)),
            None => f.write_str(", no next update"),
        }
    }
}
