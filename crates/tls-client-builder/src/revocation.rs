//! [`Revocation`]: which CRLs a trust set applies, and rustls' revocation policies, chosen by the
//! caller with defaults argued here.

use crate::crl::Crls;

/// Revocation checking for an upstream key: the [`Crls`] its trust set applies, and how.
///
/// Opt-in, as in OpenSSL (which loads the store's CRLs but checks them only when asked). Every
/// config of a trust set shares one verifier holding one parsed copy of the CRLs; nothing is
/// cloned per handshake. When the CRLs change, the trust set is rebuilt and its configs with
/// it (with fresh session stores: no session resumes across a CRL change).
///
/// The defaults, and why:
/// - **the whole chain is checked** (rustls' default) where a CRL has authority: a revoked
///   intermediate revokes everything under it. [`end_entity_only`](Self::end_entity_only)
///   checks the server's certificate alone.
/// - **an unknown status is allowed**: a certificate no CRL of the set covers passes. A proxy
///   reaches many upstreams, and a CRL for one private CA must not break every other one (the
///   public ones, whose CRLs are not in the set). [`deny_unknown_status`](Self::deny_unknown_status)
///   makes a missing CRL fail the handshake, for a private PKI whose every CRL you hold.
/// - **an expired CRL is applied, not enforced**: a CRL past its next update still revokes what
///   it lists, and is warned of once; failing every handshake because a CRL fetcher fell behind
///   would be an outage at 3 a.m. [`enforce_expiry`](Self::enforce_expiry) makes it fail them.
///
/// On macOS, Windows, iOS and Android the operating system checks revocation itself for
/// `Trust::Platform`: asking for CRLs there is a [`BuildError`](crate::BuildError). Everywhere
/// else (`Trust::Native`, `AnchorsOnly`, the webpki-roots trusts, `Trust::Platform` on Linux
/// and the BSDs) the CRLs apply.
///
/// A CRL whose issuer has the name of an anchor of the trust set but whose signature does not
/// verify with that anchor's key is skipped (logged at `warn` when the trust set is built): it
/// was signed by another CA. A CRL of an intermediate CA is applied as webpki applies it, its
/// signature verified against the intermediate in the chain at each handshake.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Revocation {
    crls: Crls,
    end_entity_only: bool,
    deny_unknown: bool,
    enforce_expiry: bool,
}

impl Revocation {
    /// Apply `crls` with the defaults above.
    pub fn new(crls: Crls) -> Self {
        Self {
            crls,
            end_entity_only: false,
            deny_unknown: false,
            enforce_expiry: false,
        }
    }

    /// Check the server's certificate only, not the intermediates above it.
    #[must_use]
    pub fn end_entity_only(mut self) -> Self {
        self.end_entity_only = true;
        self
    }

    /// Fail a handshake when no CRL of the set covers a certificate that is checked.
    #[must_use]
    pub fn deny_unknown_status(mut self) -> Self {
        self.deny_unknown = true;
        self
    }

    /// Fail a handshake when the CRL that covers a certificate is past its next update.
    #[must_use]
    pub fn enforce_expiry(mut self) -> Self {
        self.enforce_expiry = true;
        self
    }

    /// The CRLs applied.
    pub fn crls(&self) -> &Crls {
        &self.crls
    }

    pub(crate) fn checks_end_entity_only(&self) -> bool {
        self.end_entity_only
    }

    pub(crate) fn denies_unknown(&self) -> bool {
        self.deny_unknown
    }

    pub(crate) fn enforces_expiry(&self) -> bool {
        self.enforce_expiry
    }
}
