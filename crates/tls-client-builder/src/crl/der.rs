//! What a CRL says of itself, read by walking its DER once without keeping a parsed copy: its
//! issuer, this and next update, how many serials it revokes, and the parts its signature covers,
//! so that a report costs a walk over the bytes and the signature can be checked against an
//! anchor before the CRL is used. webpki parses the CRL for use (rustls does, once per trust set).

use std::time::SystemTime;

use der::Decode;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::TrustAnchor;

/// Why bytes are not a CRL.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotACrl {
    /// The outer structure says more bytes follow than there are: a file cut short, or being
    /// written.
    CutShort,
    /// Anything else, in words.
    Malformed(&'static str),
}

/// The facts of one CRL, borrowed from its DER.
#[derive(Debug)]
pub(crate) struct CrlFacts<'a> {
    /// The DER of the issuer's name, without its outer SEQUENCE (as webpki's anchors hold their
    /// subjects).
    pub(crate) issuer: &'a [u8],
    /// The issuer's name in words (RFC 4514).
    pub(crate) issuer_name: String,
    pub(crate) this_update: SystemTime,
    pub(crate) next_update: Option<SystemTime>,
    /// How many certificates it revokes.
    pub(crate) revoked: usize,
    /// The signed part, as signed (tag and length included).
    tbs: &'a [u8],
    /// The signature algorithm's identifier, without its outer SEQUENCE.
    algorithm: &'a [u8],
    /// The signature's bytes.
    signature: &'a [u8],
}

impl<'a> CrlFacts<'a> {
    /// Walk `der`, a `CertificateList` (RFC 5280 §5.1).
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self, NotACrl> {
        if der.first() != Some(&SEQUENCE) {
            return Err(NotACrl::Malformed("it does not start with a SEQUENCE"));
        }
        let mut input = der;
        let list = tlv(&mut input)?;
        if list.tag != SEQUENCE {
            return Err(NotACrl::Malformed("it does not start with a SEQUENCE"));
        }
        if !input.is_empty() {
            return Err(NotACrl::Malformed("bytes follow the CRL"));
        }
        let mut list = list.value;
        let tbs = expect(&mut list, SEQUENCE, "no TBSCertList")?;
        let algorithm = expect(&mut list, SEQUENCE, "no signature algorithm")?;
        let signature = expect(&mut list, BIT_STRING, "no signature")?;
        let Some((0, signature)) = signature.value.split_first() else {
            return Err(NotACrl::Malformed("a signature with unused bits"));
        };

        let mut fields = tbs.value;
        if fields.first() == Some(&INTEGER) {
            expect(&mut fields, INTEGER, "no version")?;
        }
        expect(
            &mut fields,
            SEQUENCE,
            "no signature algorithm in the TBSCertList",
        )?;
        let issuer = expect(&mut fields, SEQUENCE, "no issuer")?;
        let this_update = time(&mut fields)?.ok_or(NotACrl::Malformed("no thisUpdate"))?;
        let next_update = time(&mut fields)?;
        let mut revoked = 0;
        if fields.first() == Some(&SEQUENCE) {
            let mut entries = expect(&mut fields, SEQUENCE, "no revoked certificates")?.value;
            while !entries.is_empty() {
                expect(
                    &mut entries,
                    SEQUENCE,
                    "a revoked entry that is not a SEQUENCE",
                )?;
                revoked += 1;
            }
        }
        let issuer_name = x509_cert::name::Name::from_der(issuer.whole).map_or_else(
            |_| "an undecodable name".to_owned(),
            |name| name.to_string(),
        );
        Ok(Self {
            issuer: issuer.value,
            issuer_name,
            this_update,
            next_update,
            revoked,
            tbs: tbs.whole,
            algorithm: algorithm.value,
            signature,
        })
    }

    /// Whether the CRL's signature verifies with `anchor`'s key, by one of `algorithms`.
    pub(crate) fn signed_by(
        &self,
        anchor: &TrustAnchor<'_>,
        algorithms: &WebPkiSupportedAlgorithms,
    ) -> bool {
        let mut spki = anchor.subject_public_key_info.as_ref();
        let (Ok(key_algorithm), Ok(key)) = (tlv(&mut spki), tlv(&mut spki)) else {
            return false;
        };
        let Some((0, key)) = key.value.split_first() else {
            return false;
        };
        algorithms.all.iter().any(|algorithm| {
            algorithm.public_key_alg_id().as_ref() == key_algorithm.value
                && algorithm.signature_alg_id().as_ref() == self.algorithm
                && algorithm
                    .verify_signature(key, self.tbs, self.signature)
                    .is_ok()
        })
    }
}

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const SEQUENCE: u8 = 0x30;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// One DER element: its tag, its contents, and the whole of it.
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    whole: &'a [u8],
}

/// The next element of `input`, which moves past it.
fn tlv<'a>(input: &mut &'a [u8]) -> Result<Tlv<'a>, NotACrl> {
    let all = *input;
    let (&tag, rest) = all.split_first().ok_or(NotACrl::CutShort)?;
    let (&first, mut rest) = rest.split_first().ok_or(NotACrl::CutShort)?;
    let length = match first {
        0..=0x7f => usize::from(first),
        0x81..=0x84 => {
            let count = usize::from(first & 0x7f);
            if rest.len() < count {
                return Err(NotACrl::CutShort);
            }
            let (bytes, after) = rest.split_at(count);
            rest = after;
            bytes
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte))
        }
        _ => return Err(NotACrl::Malformed("a length DER does not allow")),
    };
    if rest.len() < length {
        return Err(NotACrl::CutShort);
    }
    let header = all.len() - rest.len();
    let (value, after) = rest.split_at(length);
    *input = after;
    Ok(Tlv {
        tag,
        value,
        whole: &all[..header + length],
    })
}

/// The next element, which must have `tag`.
fn expect<'a>(input: &mut &'a [u8], tag: u8, missing: &'static str) -> Result<Tlv<'a>, NotACrl> {
    match input.first() {
        Some(&found) if found == tag => tlv(input),
        _ => Err(NotACrl::Malformed(missing)),
    }
}

/// The next element if it is a time, decoded.
fn time(input: &mut &[u8]) -> Result<Option<SystemTime>, NotACrl> {
    let decoded = match input.first() {
        Some(&UTC_TIME) => {
            der::asn1::UtcTime::from_der(tlv(input)?.whole).map(|time| time.to_system_time())
        }
        Some(&GENERALIZED_TIME) => der::asn1::GeneralizedTime::from_der(tlv(input)?.whole)
            .map(|time| time.to_system_time()),
        _ => return Ok(None),
    };
    decoded
        .map(Some)
        .map_err(|_| NotACrl::Malformed("an undecodable time"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cut_is_told_from_garbage() {
        assert!(matches!(
            CrlFacts::parse(&[]).unwrap_err(),
            NotACrl::Malformed(_)
        ));
        assert_eq!(
            CrlFacts::parse(&[0x30, 0x82, 0x01]).unwrap_err(),
            NotACrl::CutShort
        );
        assert!(matches!(
            CrlFacts::parse(b"not a CRL at all").unwrap_err(),
            NotACrl::Malformed(_)
        ));
    }
}
