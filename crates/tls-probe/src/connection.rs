//! What `connect` and `selftest` report about one handshake, as text or JSON.

use std::error::Error;
use std::fmt;

use native_roots_cache::{NativeRootsError, ReportedCertificate};
use rustls::CertificateError;
use serde::Serialize;
use tls_client_builder::{BuildError, CrlError, Crls};

use crate::crl::{CrlFacts, Summary, Unusable};
use crate::explain::{Context, explain};
use crate::facts::CertificateFacts;
use crate::handshake::{Attempt, Failure};
use crate::peer::{PeerCertificate, chain_anchors, describe_chain};
use crate::revoked::{self, RevokedCertificate};

/// One handshake's report.
#[derive(Debug, Serialize)]
pub(crate) struct ConnectionReport {
    /// `HOST:PORT`.
    pub(crate) target: String,
    /// The name the certificate was verified against.
    pub(crate) server_name: String,
    /// Whether the handshake completed and the chain verified.
    pub(crate) ok: bool,
    /// Where the config's anchors came from, as tls-client-builder reports it.
    pub(crate) trust: Option<String>,
    pub(crate) protocol: Option<String>,
    pub(crate) cipher_suite: Option<String>,
    pub(crate) alpn: Option<String>,
    pub(crate) client_certificate_requested: bool,
    pub(crate) client_certificate_sent: bool,
    /// As the server sent it, leaf first, whether or not it verified.
    pub(crate) peer_chain: Vec<PeerCertificate>,
    /// The trusted anchors the chain ends at (see `peer::chain_anchors`).
    pub(crate) anchor: Vec<CertificateFacts>,
    /// The CRLs verification applied (`--crl`, `--crl-from-store`), then the files skipped.
    pub(crate) crls: Vec<CrlFacts>,
    pub(crate) error: Option<ErrorView>,
    /// Why the system store could not be used, when it could not.
    pub(crate) trust_store_error: Option<ErrorView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ErrorView {
    /// A stable word: `unknown_issuer`, `name_mismatch`, `expired`, `not_yet_valid`,
    /// `client_certificate_required`, `connect`, …
    pub(crate) kind: &'static str,
    /// What went wrong and what to do, for people (for a library's error, its one-line
    /// `Display`; its causes and advice follow in `caused_by` and `hint`).
    pub(crate) message: String,
    /// The causes under a library's error (its `source()` chain), outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) caused_by: Vec<String>,
    /// What the library says an operator can do about its error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// The rustls error, as rustls names it, when rustls ended the handshake.
    pub(crate) rustls_error: Option<String>,
    /// For `kind` `revoked`: the certificate and the CRL entry that revokes it, when the CRLs
    /// read back list it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) revoked: Option<Box<RevokedCertificate>>,
}

impl ErrorView {
    /// An error of the probe's own, said in `message`.
    pub(crate) fn new(kind: &'static str, message: String) -> Self {
        Self {
            kind,
            message,
            caused_by: Vec::new(),
            hint: None,
            rustls_error: None,
            revoked: None,
        }
    }

    /// The builder's `err`, after `context` (the flag and file it came from, if any): its
    /// one-line `Display`, its causes and its advice.
    pub(crate) fn build_error(
        kind: &'static str,
        context: Option<String>,
        err: &BuildError,
    ) -> Self {
        let message = match context {
            Some(context) => format!("{context}: {err}"),
            None => err.to_string(),
        };
        Self::library(kind, message, err, err.advice())
    }

    /// CRLs asked for that cannot be applied: kind `argument` for a `--crl` path's (after the
    /// flag and path), `trust_store` for the native store's (after `--crl-from-store`); a
    /// failed read's one-line `Display`, causes and advice.
    pub(crate) fn unusable_crls(unusable: &Unusable) -> Self {
        match unusable {
            Unusable::Read {
                path: Some(path),
                err,
            } => Self::crl_read("argument", &format!("--crl {}", path.display()), err),
            Unusable::Read { path: None, err } => {
                Self::crl_read("trust_store", "--crl-from-store", err)
            }
            Unusable::NoCrl { path, why } => Self::new(
                "argument",
                format!("--crl {}: no CRL in it: {why}", path.display()),
            ),
        }
    }

    /// A read of CRLs that failed, after `context`: its one-line `Display`, its causes and its
    /// advice.
    pub(crate) fn crl_read(kind: &'static str, context: &str, err: &CrlError) -> Self {
        Self::library(kind, format!("{context}: {err}"), err, err.advice())
    }

    /// The trust store's `err` (kind `trust_store`): its one-line `Display`, its causes and its
    /// advice.
    pub(crate) fn roots_error(err: &NativeRootsError) -> Self {
        Self::library("trust_store", err.to_string(), err, &err.advice())
    }

    /// A library's `err`, said in `message`, with its causes and `advice`.
    fn library(
        kind: &'static str,
        message: String,
        err: &(dyn Error + 'static),
        advice: &str,
    ) -> Self {
        Self {
            caused_by: crate::output::causes(err),
            hint: Some(advice.to_owned()),
            ..Self::new(kind, message)
        }
    }

    /// Its message, then its causes and hint, as
    /// [`explained_lines`](crate::output::explained_lines) prints an error.
    pub(crate) fn explained(&self) -> String {
        crate::output::explained_lines(&self.message, &self.caused_by, self.hint.as_deref())
    }

    /// Its causes, hint and rustls error, one labelled line each, under its message.
    fn write_details(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for cause in &self.caused_by {
            writeln!(f, "  caused by      {cause}")?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  hint           {hint}")?;
        }
        if let Some(rustls) = &self.rustls_error {
            writeln!(f, "  rustls error   {rustls}")?;
        }
        Ok(())
    }
}

impl ConnectionReport {
    /// A report with nothing but its target: for failures before any handshake.
    pub(crate) fn new(target: &str, server_name: &str) -> Self {
        Self {
            target: target.to_owned(),
            server_name: server_name.to_owned(),
            ok: false,
            trust: None,
            protocol: None,
            cipher_suite: None,
            alpn: None,
            client_certificate_requested: false,
            client_certificate_sent: false,
            peer_chain: Vec::new(),
            anchor: Vec::new(),
            crls: Vec::new(),
            error: None,
            trust_store_error: None,
        }
    }

    /// The same report, failed before the handshake for this reason.
    pub(crate) fn failed(self, kind: &'static str, message: String) -> Self {
        self.failed_with(ErrorView::new(kind, message))
    }

    /// The same report, failed before the handshake with this error.
    pub(crate) fn failed_with(mut self, error: ErrorView) -> Self {
        self.ok = false;
        self.error = Some(error);
        self
    }

    /// Fill in what `attempt` saw; `anchors` are those the config trusts, `crls` those it
    /// applies.
    pub(crate) fn handshake(
        mut self,
        attempt: &Attempt,
        anchors: &[ReportedCertificate],
        crls: Option<&Crls>,
    ) -> Self {
        self.peer_chain = describe_chain(&attempt.chain);
        self.client_certificate_requested = attempt.client_certificate_requested;
        self.client_certificate_sent =
            attempt.client_certificate_requested && attempt.client_certificate_offered;
        match &attempt.result {
            Ok(negotiated) => {
                self.ok = true;
                self.protocol = Some(negotiated.protocol.clone());
                self.cipher_suite = Some(negotiated.cipher_suite.clone());
                self.alpn = negotiated.alpn.clone();
                self.anchor = chain_anchors(&self.peer_chain, anchors);
            }
            Err(failure) => {
                let revoked = match (failure, crls) {
                    (
                        Failure::Tls(rustls::Error::InvalidCertificate(CertificateError::Revoked)),
                        Some(crls),
                    ) => revoked::find(&attempt.chain, &self.peer_chain, crls),
                    _ => None,
                };
                let explanation = explain(
                    failure,
                    &Context {
                        target: &self.target,
                        server_name: &self.server_name,
                        chain: &self.peer_chain,
                        client_certificate_requested: attempt.client_certificate_requested,
                        client_certificate_offered: attempt.client_certificate_offered,
                        revoked: revoked.as_ref(),
                    },
                );
                self.error = Some(ErrorView {
                    rustls_error: match failure {
                        Failure::Tls(err) => Some(format!("{err:?}")),
                        Failure::Io(_) => None,
                    },
                    revoked: revoked.map(Box::new),
                    ..ErrorView::new(explanation.kind, explanation.message)
                });
            }
        }
        self
    }
}

impl fmt::Display for ConnectionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.ok { "verified" } else { "FAILED" };
        writeln!(f, "{} as {}: {verdict}", self.target, self.server_name)?;
        if let Some(error) = &self.error {
            writeln!(f, "  why            {}", error.message)?;
            error.write_details(f)?;
        }
        if let Some(error) = &self.trust_store_error {
            writeln!(f, "  trust store    FAILED: {}", error.message)?;
            error.write_details(f)?;
        }
        if let Some(trust) = &self.trust {
            writeln!(f, "  trust          {trust}")?;
        }
        if !self.crls.is_empty() {
            writeln!(f, "  CRLs           {}", Summary::of(&self.crls))?;
        }
        for crl in &self.crls {
            let pad = " ".repeat(19);
            match &crl.skipped {
                Some(why) => writeln!(f, "{pad}skipped {}: {why}", crl.file)?,
                None => writeln!(
                    f,
                    "{pad}{} ({}): {} revoked, next update {}{}",
                    crl.issuer.as_deref().unwrap_or("(unnamed)"),
                    crl.file,
                    crl.revoked,
                    crl.next_update.as_deref().unwrap_or("-"),
                    if crl.expired {
                        " (EXPIRED: still applied)"
                    } else {
                        ""
                    }
                )?,
            }
        }
        if let (Some(protocol), Some(suite)) = (&self.protocol, &self.cipher_suite) {
            writeln!(f, "  protocol       {protocol}")?;
            writeln!(f, "  cipher suite   {suite}")?;
            writeln!(
                f,
                "  ALPN           {}",
                self.alpn.as_deref().unwrap_or("(none)")
            )?;
        }
        if self.client_certificate_requested {
            let sent = if self.client_certificate_sent {
                "requested by the server, sent"
            } else {
                "requested by the server, none sent"
            };
            writeln!(f, "  client cert    {sent}")?;
        }
        for cert in &self.peer_chain {
            let label = if cert.position == 0 { "peer chain" } else { "" };
            writeln!(
                f,
                "  {label:<15}#{} {}",
                cert.position,
                cert.certificate.subject_text()
            )?;
            let pad = " ".repeat(20);
            writeln!(f, "{pad}sha256     {}", cert.certificate.sha256)?;
            writeln!(
                f,
                "{pad}valid      {} to {}",
                cert.certificate.not_before.as_deref().unwrap_or("?"),
                cert.certificate.not_after.as_deref().unwrap_or("?")
            )?;
            if !cert.names.is_empty() {
                writeln!(f, "{pad}names      {}", cert.names.join(", "))?;
            }
            writeln!(
                f,
                "{pad}issuer     {}",
                cert.issuer.as_deref().unwrap_or("(undecodable)")
            )?;
        }
        match self.anchor.as_slice() {
            [] if self.ok => writeln!(
                f,
                "  anchor         (not found among the anchors by subject: the verifier knows)"
            )?,
            [] => {}
            [one] => writeln!(
                f,
                "  anchor         {} (sha256 {}, from {})",
                one.subject_text(),
                one.sha256,
                one.location
            )?,
            several => {
                writeln!(
                    f,
                    "  anchor         one of {} anchors with that subject:",
                    several.len()
                )?;
                for anchor in several {
                    writeln!(
                        f,
                        "                   {} (sha256 {}, from {})",
                        anchor.subject_text(),
                        anchor.sha256,
                        anchor.location
                    )?;
                }
            }
        }
        Ok(())
    }
}
