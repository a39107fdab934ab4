//! Why a handshake failed, in the words an operator needs: what is wrong, with which
//! certificate, and what to do.

use std::io;
use std::time::SystemTime;

use rustls::{AlertDescription, CertificateError};

use crate::date;
use crate::handshake::Failure;
use crate::peer::PeerCertificate;
use crate::revoked::RevokedCertificate;

/// A failure, classified and spelled out.
#[derive(Debug)]
pub(crate) struct Explanation {
    /// A stable word for scripts: `unknown_issuer`, `name_mismatch`, `expired`, …
    pub(crate) kind: &'static str,
    pub(crate) message: String,
}

/// What was known when the handshake failed.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// `HOST:PORT` as given.
    pub(crate) target: &'a str,
    /// The name the certificate was checked against.
    pub(crate) server_name: &'a str,
    /// The server's chain as presented, leaf first (empty when it sent none).
    pub(crate) chain: &'a [PeerCertificate],
    pub(crate) client_certificate_requested: bool,
    pub(crate) client_certificate_offered: bool,
    /// The certificate a CRL revokes and its entry, when the failure is `Revoked` and the CRLs
    /// read back list one.
    pub(crate) revoked: Option<&'a RevokedCertificate>,
}

pub(crate) fn explain(failure: &Failure, cx: &Context<'_>) -> Explanation {
    match failure {
        Failure::Tls(rustls::Error::InvalidCertificate(err)) => certificate(err, cx),
        Failure::Tls(rustls::Error::AlertReceived(alert)) => alert_received(*alert, cx),
        Failure::Tls(
            err @ (rustls::Error::InvalidMessage(_)
            | rustls::Error::InappropriateMessage { .. }
            | rustls::Error::InappropriateHandshakeMessage { .. }),
        ) => Explanation {
            kind: "not_tls",
            message: format!(
                "the server at {} did not answer with a valid TLS handshake ({err}); is this \
                 a TLS port, or does it expect a proxy protocol or plain text first?",
                cx.target
            ),
        },
        Failure::Tls(rustls::Error::NoApplicationProtocol) => Explanation {
            kind: "alpn",
            message: "no ALPN protocol in common: the server chose none of the --alpn \
                      protocols offered"
                .to_owned(),
        },
        Failure::Tls(err @ rustls::Error::PeerIncompatible(_)) => Explanation {
            kind: "incompatible",
            message: format!(
                "the server is incompatible with this client: {err}; try without --tls12 or \
                 --tls13"
            ),
        },
        Failure::Tls(err) => Explanation {
            kind: "tls",
            message: format!("the handshake failed: {err}"),
        },
        Failure::Io(err) => io_error(err, cx),
    }
}

fn certificate(err: &CertificateError, cx: &Context<'_>) -> Explanation {
    let leaf = cx.chain.first();
    match err {
        CertificateError::UnknownIssuer => {
            const TRUST_IT: &str = "If that CA is yours, pass it with --ca FILE (a daemon: add \
                                    it as an extra anchor or to the system store)";
            let message = match cx.chain.last() {
                Some(last) if last.issuer.is_some() && last.issuer == last.certificate.subject => {
                    format!(
                        "unknown issuer: the chain the server sent ends at the self-signed {}, \
                         which is not a trusted anchor. {TRUST_IT}",
                        last.certificate.subject_text()
                    )
                }
                Some(last) => format!(
                    "unknown issuer: the chain the server sent ends at {}, issued by {}, which \
                     is not a trusted anchor. {TRUST_IT}; if it is a public CA, the server may \
                     be missing an intermediate certificate",
                    last.certificate.subject_text(),
                    last.issuer.as_deref().unwrap_or("(an undecodable issuer)")
                ),
                None => format!(
                    "unknown issuer: the server's chain leads to no trusted anchor. {TRUST_IT}"
                ),
            };
            Explanation {
                kind: "unknown_issuer",
                message,
            }
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = leaf.map(|leaf| leaf.names.as_slice()).unwrap_or_default();
            let holds = if names.is_empty() {
                format!(
                    "it holds no DNS or IP subject alternative names (its subject is {})",
                    leaf.map_or("unknown", |leaf| leaf.certificate.subject_text())
                )
            } else {
                format!("it holds {}", names.join(", "))
            };
            Explanation {
                kind: "name_mismatch",
                message: format!(
                    "name mismatch: the certificate is not valid for {}; {holds}. Connect with \
                     --server-name set to one of those, or have the server present a \
                     certificate for {}",
                    cx.server_name, cx.server_name
                ),
            }
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let (now, not_after) = match err {
                CertificateError::ExpiredContext { time, not_after } => {
                    (date::from_unix(*time), Some(date::from_unix(*not_after)))
                }
                _ => (SystemTime::now(), None),
            };
            // The certificate rustls names by its date, else the first one past its date.
            let cert = not_after
                .and_then(|at| culprit(cx.chain, |c| same_second(c.certificate.expires, at)))
                .or_else(|| {
                    culprit(cx.chain, |c| {
                        c.certificate.expires.is_some_and(|at| at < now)
                    })
                });
            let not_after = not_after.or_else(|| cert.and_then(|c| c.certificate.expires));
            let when = not_after.map_or_else(
                || "on an unknown date".to_owned(),
                |at| {
                    format!(
                        "on {} ({} days ago)",
                        date::rfc3339(at),
                        -date::days_from(now, at)
                    )
                },
            );
            Explanation {
                kind: "expired",
                message: format!(
                    "expired: {} expired {when}; the server must renew it (or this machine's \
                     clock is wrong: it says {})",
                    describe(cert, "a certificate in the chain"),
                    date::rfc3339(now)
                ),
            }
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let (now, not_before) = match err {
                CertificateError::NotValidYetContext { time, not_before } => {
                    (date::from_unix(*time), Some(date::from_unix(*not_before)))
                }
                _ => (SystemTime::now(), None),
            };
            Explanation {
                kind: "not_yet_valid",
                message: format!(
                    "not yet valid: a certificate in the chain is valid only from {}; is this \
                     machine's clock right? It says {}",
                    not_before.map_or_else(|| "a later date".to_owned(), date::rfc3339),
                    date::rfc3339(now)
                ),
            }
        }
        CertificateError::BadSignature => Explanation {
            kind: "bad_signature",
            message: "bad signature: a certificate in the chain is not signed by the key of \
                      the issuer it names (a broken chain, or a substituted certificate)"
                .to_owned(),
        },
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            Explanation {
                kind: "wrong_purpose",
                message: format!(
                    "wrong purpose: {} is not for TLS servers (its extended key usage lacks \
                     serverAuth)",
                    describe(leaf, "the certificate")
                ),
            }
        }
        CertificateError::Revoked => Explanation {
            kind: "revoked",
            message: match cx.revoked {
                Some(revoked) => format!(
                    "revoked: the certificate {} (#{} of the chain), serial {}, was revoked on \
                     {} ({}) by the CRL of {} in {}; the server must present a certificate \
                     that is not revoked",
                    revoked
                        .subject
                        .as_deref()
                        .unwrap_or("(subject undecodable)"),
                    revoked.position,
                    revoked.serial,
                    revoked.revocation_date,
                    revoked.reason.map_or_else(
                        || "no reason code".to_owned(),
                        |reason| format!("reason {reason}")
                    ),
                    revoked
                        .crl_issuer
                        .as_deref()
                        .unwrap_or("(an undecodable issuer)"),
                    revoked.crl_file
                ),
                None => "revoked: a certificate in the chain has been revoked".to_owned(),
            },
        },
        CertificateError::BadEncoding => Explanation {
            kind: "bad_encoding",
            message: "a certificate the server sent is not valid DER".to_owned(),
        },
        other => Explanation {
            kind: "certificate",
            message: format!(
                "the server's certificate was rejected: {}",
                rustls::Error::InvalidCertificate(other.clone())
            ),
        },
    }
}

fn alert_received(alert: AlertDescription, cx: &Context<'_>) -> Explanation {
    use AlertDescription as A;
    let about_client_certificate = matches!(
        alert,
        A::CertificateRequired
            | A::HandshakeFailure
            | A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
            | A::DecryptError
    );
    if cx.client_certificate_requested && about_client_certificate {
        return if cx.client_certificate_offered {
            Explanation {
                kind: "client_certificate_rejected",
                message: format!(
                    "the server rejected the client certificate (alert {alert:?}): check that \
                     --client-cert is issued by a CA the server trusts, is valid now, and \
                     matches --client-key"
                ),
            }
        } else {
            Explanation {
                kind: "client_certificate_required",
                message: format!(
                    "the server requires a client certificate (mTLS) and none was given (alert \
                     {alert:?}): pass --client-cert FILE --client-key FILE"
                ),
            }
        };
    }
    let hint = match alert {
        A::ProtocolVersion => "; no protocol version in common: try without --tls12 or --tls13",
        A::NoApplicationProtocol => "; no ALPN protocol in common: check --alpn",
        A::UnrecognisedName => "; the server has no certificate for that name: check --server-name",
        A::HandshakeFailure => {
            "; no cipher suite or signature scheme in common, or the server refused"
        }
        _ => "",
    };
    Explanation {
        kind: "alert",
        message: format!("the server ended the handshake with the alert {alert:?}{hint}"),
    }
}

fn io_error(err: &io::Error, cx: &Context<'_>) -> Explanation {
    let (kind, message) = match err.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => (
            "timeout",
            format!("timed out waiting for {} (see --timeout)", cx.target),
        ),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => (
            "closed",
            format!(
                "{} closed the connection during the handshake ({err}); it may not speak TLS \
                 on this port, or it refused this client",
                cx.target
            ),
        ),
        _ => (
            "io",
            format!("the connection to {} failed: {err}", cx.target),
        ),
    };
    Explanation { kind, message }
}

/// The first certificate of the chain that `is` picks.
fn culprit(
    chain: &[PeerCertificate],
    is: impl Fn(&PeerCertificate) -> bool,
) -> Option<&PeerCertificate> {
    chain.iter().find(|c| is(c))
}

/// `the certificate CN=… (#1 of the chain)`, or `otherwise`.
fn describe(cert: Option<&PeerCertificate>, otherwise: &str) -> String {
    cert.map_or_else(
        || otherwise.to_owned(),
        |c| {
            format!(
                "the certificate {} (#{} of the chain)",
                c.certificate.subject_text(),
                c.position
            )
        },
    )
}

fn same_second(a: Option<SystemTime>, b: SystemTime) -> bool {
    a.is_some_and(|a| date::rfc3339(a) == date::rfc3339(b))
}
