//! The verifier of a trust set that checks revocation: webpki over the set's anchors and the
//! CRLs that may apply, with the caller's policies.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{VerifierBuilderError, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use crate::crl::der::CrlFacts;
use crate::crl::signatures::{self, Lease};
use crate::revocation::Revocation;
use crate::upstream::UpstreamTls;

/// A webpki verifier of `roots` applying `revocation`'s CRLs: rustls parses them once, here,
/// and every config of the trust set shares the result; each CRL's signature is verified once
/// for the verifier's life, not at each handshake (see `signatures`).
///
/// A CRL whose issuer is named like an anchor of `roots` but whose signature does not verify
/// with any such anchor's key was signed by another CA: it is skipped, with a `warn`. One that
/// webpki cannot use is skipped too (found only when the build refuses the set, so the happy
/// path parses each CRL once).
pub(crate) fn verifier(
    revocation: &Revocation,
    roots: Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
    upstream: &UpstreamTls,
) -> Result<Arc<dyn ServerCertVerifier>, VerifierBuilderError> {
    let (algorithms, lease) = signatures::lend(provider.signature_verification_algorithms);
    let provider = &Arc::new(CryptoProvider {
        signature_verification_algorithms: algorithms,
        ..CryptoProvider::clone(provider)
    });
    let set = revocation.crls().current();
    let algorithms = provider.signature_verification_algorithms;
    let mut crls = Vec::with_capacity(set.crls.len());
    for crl in &set.crls {
        let Ok(facts) = CrlFacts::parse(&crl.der) else {
            continue; // read only when it parsed: not reached
        };
        let mut named = roots
            .roots
            .iter()
            .filter(|anchor| anchor.subject.as_ref() == facts.issuer)
            .peekable();
        if named.peek().is_some() && !named.any(|anchor| facts.signed_by(anchor, &algorithms)) {
            log::warn!(
                "CRL skipped for {upstream}: {}: its issuer is an anchor of the trust set, but its \
                 signature does not verify with that anchor's key (it was signed by another CA)",
                crl.info
            );
            continue;
        }
        crls.push(crl.der.clone());
    }
    let inner = match build(revocation, &roots, provider, crls.clone()) {
        Err(VerifierBuilderError::InvalidCrl(_)) => {
            let usable = crls
                .into_iter()
                .filter(
                    |der| match webpki::BorrowedCertRevocationList::from_der(der) {
                        Ok(_) => true,
                        Err(err) => {
                            log::warn!("CRL skipped for {upstream}: webpki cannot use it ({err})");
                            false
                        }
                    },
                )
                .collect();
            build(revocation, &roots, provider, usable)
        }
        built => built,
    }?;
    Ok(Arc::new(CrlVerifier {
        inner,
        _lease: lease,
    }))
}

/// webpki's verifier of a trust set that applies CRLs, holding the lease of its remembering
/// signature algorithms for as long as it lives.
#[derive(Debug)]
struct CrlVerifier {
    inner: Arc<WebPkiServerVerifier>,
    _lease: Lease,
}

impl ServerCertVerifier for CrlVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}

fn build(
    revocation: &Revocation,
    roots: &Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
    crls: Vec<CertificateRevocationListDer<'static>>,
) -> Result<Arc<WebPkiServerVerifier>, VerifierBuilderError> {
    let mut builder =
        WebPkiServerVerifier::builder_with_provider(Arc::clone(roots), Arc::clone(provider))
            .with_crls(crls);
    if revocation.checks_end_entity_only() {
        builder = builder.only_check_end_entity_revocation();
    }
    if !revocation.denies_unknown() {
        builder = builder.allow_unknown_revocation_status();
    }
    if revocation.enforces_expiry() {
        builder = builder.enforce_revocation_expiration();
    }
    builder.build()
}
