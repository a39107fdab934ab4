//! A test PKI: CAs made on the spot and the leaves they issue, as DER and as PEM.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names of a loopback server's certificate (the first is also its common name).
const LOCALHOST: [&str; 2] = ["localhost", "127.0.0.1"];

/// A CA that can issue server and client certificates.
pub struct Ca {
    /// The self-signed CA certificate.
    pub cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    /// A fresh CA named `name` (its common name).
    pub fn new(name: &str) -> Self {
        Self::with(name, |_| {})
    }

    /// A fresh CA named `name`, its parameters changed by `adjust` before it signs itself.
    pub fn with(name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self { cert, key }
    }

    /// A fresh CA named `name`, valid from 1990 until `not_after` (expired if past).
    pub fn valid_until(name: &str, not_after: std::time::SystemTime) -> Self {
        Self::with(name, |params| {
            params.not_before = rcgen::date_time_ymd(1990, 1, 1);
            params.not_after = not_after.into();
        })
    }

    /// The CA certificate as PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate as DER.
    pub fn der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    pub fn server_leaf(&self) -> Leaf {
        self.issue(&LOCALHOST, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (for mTLS) for `localhost` and 127.0.0.1.
    pub fn client_leaf(&self) -> Leaf {
        self.issue(&LOCALHOST, ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// A client certificate valid from 1990 until the first of January of `year` (expired if
    /// past).
    pub fn client_leaf_until(&self, year: i32) -> Leaf {
        self.issue_with(&LOCALHOST, ExtendedKeyUsagePurpose::ClientAuth, |params| {
            params.not_before = rcgen::date_time_ymd(1990, 1, 1);
            params.not_after = rcgen::date_time_ymd(year, 1, 1);
        })
    }

    /// A client certificate valid from 1990 until `not_after` (to the second).
    pub fn client_leaf_valid_until(&self, not_after: std::time::SystemTime) -> Leaf {
        self.issue_with(&LOCALHOST, ExtendedKeyUsagePurpose::ClientAuth, |params| {
            params.not_before = rcgen::date_time_ymd(1990, 1, 1);
            params.not_after = not_after.into();
        })
    }

    /// A server certificate for `localhost` and 127.0.0.1 with the serial number `serial`, the
    /// number a CRL of this CA revokes it by.
    pub fn server_leaf_serial(&self, serial: u64) -> Leaf {
        self.issue_with(&LOCALHOST, ExtendedKeyUsagePurpose::ServerAuth, |params| {
            params.serial_number = Some(serial.into());
        })
    }

    /// A CRL of this CA revoking `revoked` (serial numbers, for key compromise), issued an hour
    /// ago, its next update at `next_update`, numbered `number`.
    pub fn crl(&self, number: u64, revoked: &[u64], next_update: std::time::SystemTime) -> Crl {
        let now = std::time::SystemTime::now();
        let this_update = now - std::time::Duration::from_secs(3600);
        let params = rcgen::CertificateRevocationListParams {
            this_update: this_update.into(),
            next_update: next_update.into(),
            crl_number: number.into(),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|serial| rcgen::RevokedCertParams {
                    serial_number: (*serial).into(),
                    revocation_time: this_update.into(),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.cert, &self.key).unwrap();
        Crl {
            pem: crl.pem().unwrap(),
            der: crl.der().clone(),
        }
    }

    /// A certificate for `names` (the first is its common name) with the given purpose.
    pub fn issue(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Leaf {
        self.issue_with(names, purpose, |_| {})
    }

    /// As [`Ca::issue`], its parameters changed by `adjust` before the CA signs it.
    pub fn issue_with(
        &self,
        names: &[&str],
        purpose: ExtendedKeyUsagePurpose,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].as_str());
        params.extended_key_usages = vec![purpose];
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        Leaf {
            chain: vec![cert.der().clone()],
            chain_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }
}

/// A certificate revocation list, as DER and as PEM (an `X509 CRL` section).
#[derive(Clone)]
pub struct Crl {
    /// The CRL as DER.
    pub der: rustls::pki_types::CertificateRevocationListDer<'static>,
    /// The CRL as PEM.
    pub pem: String,
}

/// A certificate chain and its key.
#[derive(Clone)]
pub struct Leaf {
    /// The chain (DER), leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The chain as PEM.
    pub chain_pem: String,
    /// The key as PKCS#8 PEM.
    pub key_pem: String,
    /// The key as PKCS#8 DER.
    pub key_der: Vec<u8>,
}

impl Leaf {
    /// The key, for rustls.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}
