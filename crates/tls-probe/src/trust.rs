//! The trust a probe handshake starts from: the system store as the process-wide cache loaded
//! it, or nothing but extra anchors when it failed (as a daemon configured with them would still
//! verify).

use native_roots_cache::{ReportedCertificate, RootsCache, native_roots};
use tls_client_builder::Trust;

use crate::connection::ErrorView;
use crate::status::Status;

pub(crate) struct SystemTrust {
    /// `Trust::Native`, or `Trust::AnchorsOnly` when the store failed.
    pub(crate) trust: Trust,
    /// `Status::TrustStore` when the store failed.
    pub(crate) status: Status,
    /// The store's anchors, for naming the one a chain ends at.
    pub(crate) anchors: Vec<ReportedCertificate>,
    /// Why the store failed.
    pub(crate) error: Option<ErrorView>,
}

pub(crate) fn system_trust() -> SystemTrust {
    match native_roots() {
        Ok(_) => SystemTrust {
            trust: Trust::Native,
            status: Status::Ok,
            anchors: RootsCache::global()
                .report()
                .map(|report| report.anchor_certificates.clone())
                .unwrap_or_default(),
            error: None,
        },
        Err(err) => SystemTrust {
            trust: Trust::AnchorsOnly,
            status: Status::TrustStore,
            anchors: Vec::new(),
            error: Some(ErrorView::roots_error(&err)),
        },
    }
}

/// What each `connect --trust` mode uses on this OS, given the store's anchors (`None` when it
/// failed to load).
#[derive(Debug, serde::Serialize)]
pub(crate) struct TrustModes {
    pub(crate) native: String,
    pub(crate) platform: String,
}

impl TrustModes {
    pub(crate) fn here(anchors: Option<usize>) -> Self {
        let store = match anchors {
            Some(1) => "the 1 anchor listed".to_owned(),
            Some(n) => format!("the {n} anchors listed"),
            None => "the store, which failed to load (extra anchors alone)".to_owned(),
        };
        let platform = if Trust::Platform.uses_native() {
            format!(
                "the platform verifier's rules (rustls-platform-verifier reads the same files \
                 here) over {store}"
            )
        } else {
            "the platform verifier: the operating system evaluates each handshake with its own \
             trust settings, not the anchors listed"
                .to_owned()
        };
        Self {
            native: format!("webpki over {store}"),
            platform,
        }
    }
}
