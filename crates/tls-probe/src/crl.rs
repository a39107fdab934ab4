//! CRLs as the probe reads and shows them: the library's [`Crls`] read from `--crl` paths and
//! from the native store (`--crl-from-store`, `store`), and what each CRL says of itself,
//! rendered once for text and JSON.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use native_roots_cache::PlatformSource;
use serde::Serialize;
use tls_client_builder::{CrlError, CrlInfo, CrlSource, CrlStats, Crls};

use crate::date;
use crate::output::count;
use crate::status::Status;
use crate::table::Table;

/// What the probe says about one CRL, or about a file that gave none.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CrlFacts {
    /// Its issuer (RFC 4514); `None` for a skipped file.
    pub(crate) issuer: Option<String>,
    /// The file it was read from.
    pub(crate) file: String,
    /// When it was issued, RFC 3339 (UTC).
    pub(crate) this_update: Option<String>,
    /// When its issuer promised the next one, RFC 3339 (UTC).
    pub(crate) next_update: Option<String>,
    /// How many certificates it revokes.
    pub(crate) revoked: usize,
    /// Whether its next update has passed: it still revokes what it lists (the library does not
    /// enforce expiry by default), but its issuer has a newer one.
    pub(crate) expired: bool,
    /// Why the file gave no CRL; absent for a CRL in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) skipped: Option<String>,
}

impl CrlFacts {
    pub(crate) fn of(info: &CrlInfo, now: SystemTime) -> Self {
        Self {
            issuer: info.issuer.clone(),
            file: info.path.display().to_string(),
            this_update: info.this_update.map(date::rfc3339),
            next_update: info.next_update.map(date::rfc3339),
            revoked: info.revoked,
            expired: info.expired_at(now),
            skipped: info.skipped.clone(),
        }
    }

    /// The CRLs `crls` holds now, then the files it skipped. The native store's bundle is not
    /// listed as skipped: it is a bundle of certificates, for which holding no CRL is the usual
    /// state (its unreadable sections are the trust store's to report).
    pub(crate) fn all(crls: &Crls, now: SystemTime) -> Vec<Self> {
        let bundle = crls
            .source()
            .reads_native_store()
            .then(|| PlatformSource::new().files())
            .flatten()
            .and_then(|files| files.file().map(Path::to_owned));
        crls.crls()
            .iter()
            .filter(|info| info.skipped.is_none() || Some(&info.path) != bundle.as_ref())
            .map(|info| Self::of(info, now))
            .collect()
    }
}

/// `2 CRLs revoking 3 certificates, 1 file skipped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Summary {
    /// CRLs in use.
    pub(crate) crls: usize,
    /// Serials they revoke, summed.
    pub(crate) revoked: usize,
    /// Files that gave no CRL.
    pub(crate) skipped: usize,
}

impl Summary {
    pub(crate) fn of(facts: &[CrlFacts]) -> Self {
        let (in_use, skipped): (Vec<&CrlFacts>, Vec<&CrlFacts>) =
            facts.iter().partition(|crl| crl.skipped.is_none());
        Self {
            crls: in_use.len(),
            revoked: in_use.iter().map(|crl| crl.revoked).sum(),
            skipped: skipped.len(),
        }
    }
}

/// The library's count of a set in use.
impl From<&CrlStats> for Summary {
    fn from(stats: &CrlStats) -> Self {
        Self {
            crls: stats.crls,
            revoked: stats.revoked,
            skipped: stats.skipped,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} revoking {}",
            count(self.crls, "CRL"),
            count(self.revoked, "certificate")
        )?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", count(self.skipped, "file"))?;
        }
        Ok(())
    }
}

/// A table of the CRLs among `facts` (the issuer last, as it may run on), then a line per
/// skipped file with the reason; each line indented by `indent` spaces.
pub(crate) fn write_list(
    f: &mut fmt::Formatter<'_>,
    facts: &[CrlFacts],
    indent: usize,
) -> fmt::Result {
    let mut table = Table::new(&[
        "THIS UPDATE",
        "NEXT UPDATE",
        "STATUS",
        "REVOKED",
        "FILE",
        "ISSUER",
    ]);
    let in_use: Vec<&CrlFacts> = facts.iter().filter(|c| c.skipped.is_none()).collect();
    for crl in &in_use {
        table.row(vec![
            crl.this_update.clone().unwrap_or_else(|| "-".to_owned()),
            crl.next_update.clone().unwrap_or_else(|| "-".to_owned()),
            if crl.expired { "EXPIRED" } else { "current" }.to_owned(),
            crl.revoked.to_string(),
            crl.file.clone(),
            crl.issuer.clone().unwrap_or_else(|| "(unnamed)".to_owned()),
        ]);
    }
    if !in_use.is_empty() {
        table.write(f, indent)?;
    }
    let pad = " ".repeat(indent);
    for crl in facts {
        if let Some(why) = &crl.skipped {
            writeln!(f, "{pad}skipped {}: {why}", crl.file)?;
        }
    }
    Ok(())
}

/// Where `--crl PATH…` (each a directory or a file) and `--crl-from-store` read CRLs.
fn source(paths: &[PathBuf], from_store: bool) -> CrlSource {
    let mut source = CrlSource::new();
    for path in paths {
        source = if path.is_dir() {
            source.with_dir(path)
        } else {
            source.with_file(path)
        };
    }
    if from_store {
        source = source.with_native_store();
    }
    source
}

/// Why the CRLs asked for cannot be applied.
#[derive(Debug)]
pub(crate) enum Unusable {
    /// A read failed, of a `--crl` path (`Some`) or of the native store's CRLs (`None`).
    Read {
        path: Option<PathBuf>,
        err: CrlError,
    },
    /// A `--crl` file holds no CRL, for this reason.
    NoCrl { path: PathBuf, why: String },
}

impl Unusable {
    /// A bad argument (a `--crl` path's), or the trust store's failure.
    pub(crate) fn status(&self) -> Status {
        match self {
            Self::Read { path: None, .. } => Status::TrustStore,
            Self::Read { .. } | Self::NoCrl { .. } => Status::BadArguments,
        }
    }
}

/// Read the CRLs of the `--crl` `paths` and, with `from_store`, the native store's; `None` when
/// neither asks for any.
///
/// # Errors
/// A `--crl` path that cannot be read or a `--crl` file that holds no CRL (a directory may hold
/// other files: they are listed as skipped), or native store's CRLs that cannot be read.
pub(crate) fn load(paths: &[PathBuf], from_store: bool) -> Result<Option<Crls>, Unusable> {
    if paths.is_empty() && !from_store {
        return Ok(None);
    }
    let crls = Crls::new(source(paths, from_store)).map_err(|err| Unusable::Read {
        path: given(&err, paths, from_store).cloned(),
        err,
    })?;
    let infos = crls.crls();
    for path in paths.iter().filter(|path| !path.is_dir()) {
        let from_it = || infos.iter().filter(|info| &info.path == path);
        if from_it().all(|info| info.skipped.is_some()) {
            let why = from_it()
                .find_map(|info| info.skipped.clone())
                .unwrap_or_else(|| "it holds none".to_owned());
            return Err(Unusable::NoCrl {
                path: path.clone(),
                why,
            });
        }
    }
    Ok(Some(crls))
}

/// The `--crl` path whose CRLs `err` is about; `None` for the native store's.
fn given<'a>(err: &CrlError, paths: &'a [PathBuf], from_store: bool) -> Option<&'a PathBuf> {
    let failed = match err {
        CrlError::Read { path, .. } | CrlError::CutShort { path, .. } => Some(path),
        _ => None,
    };
    match failed {
        Some(failed) => paths.iter().find(|path| failed.starts_with(path)),
        // A read that did not finish is the store's when it was read, else the paths'.
        None if from_store => None,
        None => paths.first(),
    }
}
