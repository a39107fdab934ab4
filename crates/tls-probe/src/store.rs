//! `tls-probe store`: the trust store as the process-wide cache loaded it, certificate by
//! certificate.

use std::fmt;
use std::time::SystemTime;

use native_roots_cache::{LoadReport, RootsCache, native_roots};
use serde::Serialize;
use tls_client_builder::{CrlSource, Crls};

use crate::cli::StoreArgs;
use crate::connection::ErrorView;
use crate::crl::{self, CrlFacts, Summary};
use crate::date;
use crate::facts::CertificateFacts;
use crate::output::{self, count};
use crate::status::Status;
use crate::table::Table;
use crate::trust::TrustModes;

/// Everything `store` reports; `--json` prints it as it is.
#[derive(Debug, Serialize)]
struct StoreView {
    /// Whether the store loaded (a store with skipped certificates or per-file errors can).
    ok: bool,
    /// Why it did not, as `native_roots()` said: its one-line message, causes and hint.
    error: Option<ErrorView>,
    /// Where the certificates came from (`SSL_CERT_FILE=…`, `SSL_CERT_DIR=…`, the platform
    /// store).
    origin: Option<String>,
    generation: u64,
    /// Certificates the source returned, before parsing.
    certificates: usize,
    attempts: u32,
    elapsed_ms: f64,
    expiring_within_days: u64,
    anchors: Vec<CertificateFacts>,
    skipped: Vec<Skipped>,
    non_ca_anchors: Vec<NonCa>,
    /// Anchors expired or expiring within `expiring_within_days`, soonest first.
    expiring: Vec<Expiring>,
    errors: Vec<SourceErrorView>,
    /// What each `connect --trust` mode uses on this OS.
    trust_modes: TrustModes,
    /// The CRLs the store holds as OpenSSL finds them (`X509 CRL` sections in the bundle,
    /// `HASH.rN` files in the directory), then the files skipped with the reason: what
    /// `connect --crl-from-store` applies.
    crls: Vec<CrlFacts>,
    /// Why the store's CRLs could not be read (reported, not fatal).
    crl_error: Option<ErrorView>,
}

#[derive(Debug, Serialize)]
struct Skipped {
    /// Its position among the certificates the source returned.
    index: usize,
    reason: String,
    #[serde(flatten)]
    certificate: CertificateFacts,
}

#[derive(Debug, Serialize)]
struct NonCa {
    index: usize,
    #[serde(flatten)]
    certificate: CertificateFacts,
}

#[derive(Debug, Serialize)]
struct Expiring {
    expired: bool,
    /// Whole days until the not-after date; negative once passed.
    days_left: i64,
    #[serde(flatten)]
    certificate: CertificateFacts,
}

#[derive(Debug, Serialize)]
struct SourceErrorView {
    context: String,
    path: Option<String>,
    message: String,
    transient: bool,
}

/// Load the store, print it; `TrustStore` when it failed to load.
pub(crate) fn run(args: &StoreArgs) -> Status {
    let loaded = native_roots();
    let report = RootsCache::global().report();
    let now = SystemTime::now();
    let mut view = StoreView::new(
        loaded.as_ref().err().map(ErrorView::roots_error),
        report.as_deref(),
        args.expiring_within,
        now,
    );
    match Crls::new(CrlSource::native_store()) {
        Ok(crls) => view.crls = CrlFacts::all(&crls, now),
        Err(err) => {
            let error = ErrorView::crl_read("trust_store", "the store's CRLs", &err);
            view.crl_error = Some(error);
        }
    }
    if args.json {
        output::json(&view);
    } else {
        output::text(&view);
    }
    if loaded.is_ok() {
        Status::Ok
    } else {
        Status::TrustStore
    }
}

impl StoreView {
    fn new(
        error: Option<ErrorView>,
        report: Option<&LoadReport>,
        expiring_within: u64,
        now: SystemTime,
    ) -> Self {
        let mut view = Self {
            ok: error.is_none(),
            error,
            origin: None,
            generation: RootsCache::global().generation(),
            certificates: 0,
            attempts: 0,
            elapsed_ms: 0.0,
            expiring_within_days: expiring_within,
            anchors: Vec::new(),
            skipped: Vec::new(),
            non_ca_anchors: Vec::new(),
            expiring: Vec::new(),
            errors: Vec::new(),
            trust_modes: TrustModes::here(None),
            crls: Vec::new(),
            crl_error: None,
        };
        let Some(report) = report else {
            return view;
        };
        view.origin = Some(report.origin.to_string());
        let facts = |cert| CertificateFacts::from_origin(cert, Some(&report.origin));
        view.certificates = report.certificates;
        view.attempts = report.attempts;
        view.elapsed_ms = report.elapsed.as_secs_f64() * 1e3;
        view.anchors = report.anchor_certificates.iter().map(facts).collect();
        if view.ok {
            view.trust_modes = TrustModes::here(Some(view.anchors.len()));
        }
        view.skipped = report
            .skipped
            .iter()
            .map(|skipped| Skipped {
                index: skipped.index,
                reason: skipped.reason.clone(),
                certificate: facts(&skipped.certificate),
            })
            .collect();
        view.non_ca_anchors = report
            .non_ca_anchors
            .iter()
            .map(|anchor| NonCa {
                index: anchor.index,
                certificate: facts(&anchor.certificate),
            })
            .collect();
        let horizon = date::days_after(now, expiring_within);
        view.expiring = view
            .anchors
            .iter()
            .filter_map(|anchor| {
                let expires = anchor.expires.filter(|&at| at <= horizon)?;
                Some(Expiring {
                    expired: expires < now,
                    days_left: date::days_from(now, expires),
                    certificate: anchor.clone(),
                })
            })
            .collect();
        view.expiring.sort_by_key(|e| e.certificate.expires);
        view.errors = report
            .errors
            .iter()
            .map(|err| SourceErrorView {
                context: err.context.clone(),
                path: err.path.as_ref().map(|p| p.display().to_string()),
                message: err.message.clone(),
                transient: err.is_transient(),
            })
            .collect();
        view
    }
}

impl fmt::Display for StoreView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = self.origin.as_deref().unwrap_or("(no report)");
        match &self.error {
            None => writeln!(
                f,
                "trust store: {} from {origin}, generation {}",
                count(self.anchors.len(), "anchor"),
                self.generation
            )?,
            Some(error) => writeln!(f, "trust store: FAILED to load: {}", error.explained())?,
        }
        writeln!(
            f,
            "  {} read, {} skipped, {} non-CA, {}; {} in {:.1} ms",
            count(self.certificates, "certificate"),
            self.skipped.len(),
            self.non_ca_anchors.len(),
            count(self.errors.len(), "error"),
            count(self.attempts as usize, "attempt"),
            self.elapsed_ms
        )?;

        writeln!(f, "  connect --trust native: {}", self.trust_modes.native)?;
        writeln!(
            f,
            "  connect --trust platform: {}",
            self.trust_modes.platform
        )?;

        writeln!(f)?;
        let one_location = one_location(self.anchors.iter());
        match one_location {
            Some(location) => {
                writeln!(f, "anchors ({}, all from {location}):", self.anchors.len())?
            }
            None => writeln!(f, "anchors ({}):", self.anchors.len())?,
        }
        let mut table = if one_location.is_some() || self.anchors.is_empty() {
            Table::new(&["NOT AFTER", "SHA-256", "SUBJECT"])
        } else {
            Table::new(&["NOT AFTER", "SHA-256", "LOCATION", "SUBJECT"])
        };
        for anchor in &self.anchors {
            let mut row = vec![anchor.expiry_date(), anchor.sha256.clone()];
            if one_location.is_none() {
                row.push(anchor.location.clone());
            }
            row.push(anchor.subject_text().to_owned());
            table.row(row);
        }
        if !self.anchors.is_empty() {
            table.write(f, 2)?;
        }

        writeln!(f)?;
        if self.skipped.is_empty() {
            writeln!(f, "skipped: none")?;
        } else {
            writeln!(
                f,
                "skipped ({}): not usable as trust anchors",
                self.skipped.len()
            )?;
            for skipped in &self.skipped {
                certificate_block(f, skipped.index, &skipped.certificate)?;
                writeln!(f, "        reason     {}", skipped.reason)?;
            }
        }

        writeln!(f)?;
        if self.non_ca_anchors.is_empty() {
            writeln!(f, "non-CA anchors: none")?;
        } else {
            writeln!(
                f,
                "non-CA anchors ({}): trusted, though the certificate says it is not a CA \
                 (basicConstraints CA:FALSE)",
                self.non_ca_anchors.len()
            )?;
            for anchor in &self.non_ca_anchors {
                certificate_block(f, anchor.index, &anchor.certificate)?;
            }
        }

        writeln!(f)?;
        let within = self.expiring_within_days;
        if self.expiring.is_empty() {
            writeln!(f, "expired or expiring within {within} days: none")?;
        } else {
            writeln!(
                f,
                "expired or expiring within {within} days ({}):",
                self.expiring.len()
            )?;
            let mut table = Table::new(&["NOT AFTER", "STATUS", "SHA-256", "SUBJECT"]);
            for expiring in &self.expiring {
                let status = match expiring.days_left {
                    _ if expiring.expired => "EXPIRED".to_owned(),
                    0 => "expires today".to_owned(),
                    1 => "in 1 day".to_owned(),
                    days => format!("in {days} days"),
                };
                table.row(vec![
                    expiring.certificate.expiry_date(),
                    status,
                    expiring.certificate.sha256.clone(),
                    expiring.certificate.subject_text().to_owned(),
                ]);
            }
            table.write(f, 2)?;
        }

        writeln!(f)?;
        if self.errors.is_empty() {
            writeln!(f, "errors: none")?;
        } else {
            writeln!(f, "errors ({}):", self.errors.len())?;
            for err in &self.errors {
                let path = err
                    .path
                    .as_ref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                let transient = if err.transient { " [transient]" } else { "" };
                writeln!(f, "  {}{path}: {}{transient}", err.context, err.message)?;
            }
        }

        writeln!(f)?;
        if let Some(error) = &self.crl_error {
            writeln!(f, "CRLs: FAILED to read: {}", error.explained())?;
        } else if self.crls.is_empty() {
            writeln!(
                f,
                "CRLs: none (no X509 CRL section in the bundle, no HASH.rN file in the directory)"
            )?;
        } else {
            writeln!(
                f,
                "CRLs in the store: {}; connect --crl-from-store applies them",
                Summary::of(&self.crls)
            )?;
            crl::write_list(f, &self.crls, 2)?;
        }
        Ok(())
    }
}

/// `#index  subject`, then its fingerprint, expiry and location, one per line.
fn certificate_block(
    f: &mut fmt::Formatter<'_>,
    index: usize,
    certificate: &CertificateFacts,
) -> fmt::Result {
    let index = format!("#{index}");
    writeln!(f, "  {index:<5} {}", certificate.subject_text())?;
    writeln!(f, "        sha256     {}", certificate.sha256)?;
    writeln!(f, "        not after  {}", certificate.expiry_date())?;
    writeln!(f, "        location   {}", certificate.location)
}

/// The location all of these certificates share, if they share one.
fn one_location<'a>(mut certs: impl Iterator<Item = &'a CertificateFacts>) -> Option<&'a str> {
    let first = certs.next()?.location.as_str();
    certs.all(|c| c.location == first).then_some(first)
}
