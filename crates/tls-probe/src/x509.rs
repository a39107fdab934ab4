//! The two things the probe decodes itself: a certificate's issuer and its subject alternative
//! names. Everything else about a certificate comes from `native_roots_cache::ReportedCertificate`.

use std::net::IpAddr;

use x509_cert::der::Decode;
use x509_cert::der::oid::AssociatedOid;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

/// The issuer and names of one certificate.
#[derive(Debug, Default)]
pub(crate) struct IssuerAndNames {
    /// The issuer, as an RFC 4514 string; `None` if the certificate does not decode.
    pub(crate) issuer: Option<String>,
    /// The subject alternative names, as `DNS:example.com`, `IP:192.0.2.1`, `email:…`, `URI:…`.
    pub(crate) names: Vec<String>,
}

/// Decode `der`'s issuer and subject alternative names.
pub(crate) fn issuer_and_names(der: &[u8]) -> IssuerAndNames {
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return IssuerAndNames::default();
    };
    let tbs = cert.tbs_certificate;
    let names = tbs
        .extensions
        .iter()
        .flatten()
        .filter(|ext| ext.extn_id == SubjectAltName::OID)
        .filter_map(|ext| SubjectAltName::from_der(ext.extn_value.as_bytes()).ok())
        .flat_map(|san| san.0)
        .filter_map(|name| describe(&name))
        .collect();
    IssuerAndNames {
        issuer: Some(tbs.issuer.to_string()),
        names,
    }
}

fn describe(name: &GeneralName) -> Option<String> {
    Some(match name {
        GeneralName::DnsName(dns) => format!("DNS:{}", dns.as_str()),
        GeneralName::IpAddress(ip) => match ip.as_bytes() {
            &[a, b, c, d] => format!("IP:{}", IpAddr::from([a, b, c, d])),
            bytes => match <[u8; 16]>::try_from(bytes) {
                Ok(v6) => format!("IP:{}", IpAddr::from(v6)),
                Err(_) => format!("IP:(malformed, {} bytes)", bytes.len()),
            },
        },
        GeneralName::Rfc822Name(email) => format!("email:{}", email.as_str()),
        GeneralName::UniformResourceIdentifier(uri) => format!("URI:{}", uri.as_str()),
        GeneralName::DirectoryName(dn) => format!("DirName:{dn}"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dns_and_ip_names_and_the_issuer() {
        let mut params = rcgen::CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .expect("valid names");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "issuer of itself");
        let key = rcgen::KeyPair::generate().expect("a key");
        let cert = params.self_signed(&key).expect("a certificate");
        let decoded = issuer_and_names(cert.der());
        assert_eq!(decoded.issuer.as_deref(), Some("CN=issuer of itself"));
        assert_eq!(decoded.names, ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]);
    }

    #[test]
    fn garbage_decodes_to_nothing() {
        let decoded = issuer_and_names(b"not a certificate");
        assert!(decoded.issuer.is_none() && decoded.names.is_empty());
    }
}
