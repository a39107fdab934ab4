//! CRL signatures verified once per verifier instead of at every handshake.
//!
//! webpki checks a CRL's signature each time it consults the CRL (rustls/webpki#81): for a
//! 100,000-serial CRL that is a SHA-256 of 3.6 MB in every handshake that meets the CRL's
//! issuer, several times the cost of the handshake itself. The verifier of a trust set that
//! applies CRLs is therefore given signature algorithms that remember the CRL signatures they
//! verified: the same bytes, at the same address, under the same key and signature, are not
//! verified twice.
//!
//! Why remembering by address is sound here: only a CRL's signed data is larger than
//! [`LARGER_THAN_ANY_CERTIFICATE`] (webpki reads no certificate that large), and a CRL's signed
//! data is owned by the verifier, immutable and at a fixed address for as long as the verifier
//! lives. The remembering algorithms are lent to one verifier at a time ([`Lease`]) and forget
//! everything when it drops, before they are lent again; nothing else reaches them. rustls wants
//! `'static` algorithms, so each set is leaked once and reused: as many sets exist as
//! CRL-applying verifiers ever lived at once.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Larger than any certificate webpki reads (its outer SEQUENCE has a two-byte length): a signed
/// message this large is a CRL's.
const LARGER_THAN_ANY_CERTIFICATE: usize = 0x1_0000;

/// One verification that succeeded.
#[derive(PartialEq, Eq)]
struct Verified {
    /// The message's address and length.
    message: (usize, usize),
    key: Vec<u8>,
    signature: Vec<u8>,
}

/// An algorithm of the provider that remembers the large messages it verified.
struct Remembering {
    inner: &'static dyn SignatureVerificationAlgorithm,
    verified: Mutex<Vec<Verified>>,
}

impl fmt::Debug for Remembering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Remembering")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl SignatureVerificationAlgorithm for Remembering {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        if message.len() < LARGER_THAN_ANY_CERTIFICATE {
            return self.inner.verify_signature(public_key, message, signature);
        }
        let seen = Verified {
            message: (message.as_ptr().addr(), message.len()),
            key: public_key.to_vec(),
            signature: signature.to_vec(),
        };
        let remembered = |verified: &Mutex<Vec<Verified>>| {
            verified
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&seen)
        };
        if remembered(&self.verified) {
            return Ok(());
        }
        self.inner
            .verify_signature(public_key, message, signature)?;
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if !verified.contains(&seen) {
            verified.push(seen);
        }
        Ok(())
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.inner.fips()
    }
}

/// The remembering algorithms of one provider's set, leaked once.
struct Set {
    /// The provider's own `all`, which this set wraps.
    of: &'static [&'static dyn SignatureVerificationAlgorithm],
    remembering: &'static [Remembering],
    all: &'static [&'static dyn SignatureVerificationAlgorithm],
    lent: bool,
}

/// Every set ever made; a set not lent is free to lend again.
static SETS: Mutex<Vec<Set>> = Mutex::new(Vec::new());

/// A set lent to one verifier: it forgets what it remembered, and is free again, on drop.
pub(crate) struct Lease {
    all: &'static [&'static dyn SignatureVerificationAlgorithm],
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lease").finish_non_exhaustive()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut sets = SETS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = sets.iter_mut().find(|set| std::ptr::eq(set.all, self.all)) {
            for algorithm in set.remembering {
                algorithm
                    .verified
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear();
            }
            set.lent = false;
        }
    }
}

/// `algorithms` with remembering ones for certificates and CRLs (the TLS signature mapping is
/// kept: its messages are small), lent until the returned [`Lease`] drops.
pub(crate) fn lend(algorithms: WebPkiSupportedAlgorithms) -> (WebPkiSupportedAlgorithms, Lease) {
    let mut sets = SETS.lock().unwrap_or_else(PoisonError::into_inner);
    let index = match sets
        .iter()
        .position(|set| !set.lent && std::ptr::eq(set.of, algorithms.all))
    {
        Some(free) => free,
        None => {
            let remembering: &'static [Remembering] = Vec::leak(
                algorithms
                    .all
                    .iter()
                    .map(|inner| Remembering {
                        inner: *inner,
                        verified: Mutex::new(Vec::new()),
                    })
                    .collect(),
            );
            let all: &'static [&'static dyn SignatureVerificationAlgorithm] = Vec::leak(
                remembering
                    .iter()
                    .map(|algorithm| algorithm as &'static dyn SignatureVerificationAlgorithm)
                    .collect(),
            );
            sets.push(Set {
                of: algorithms.all,
                remembering,
                all,
                lent: false,
            });
            sets.len() - 1
        }
    };
    let set = &mut sets[index];
    set.lent = true;
    let lent = WebPkiSupportedAlgorithms {
        all: set.all,
        mapping: algorithms.mapping,
    };
    (lent, Lease { all: set.all })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts its verifications; accepts a signature equal to the key.
    #[derive(Debug)]
    struct Counting(AtomicUsize);

    impl SignatureVerificationAlgorithm for Counting {
        fn verify_signature(
            &self,
            key: &[u8],
            _: &[u8],
            sig: &[u8],
        ) -> Result<(), InvalidSignature> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if key == sig {
                Ok(())
            } else {
                Err(InvalidSignature)
            }
        }
        fn public_key_alg_id(&self) -> AlgorithmIdentifier {
            AlgorithmIdentifier::from_slice(&[1])
        }
        fn signature_alg_id(&self) -> AlgorithmIdentifier {
            AlgorithmIdentifier::from_slice(&[2])
        }
    }

    static COUNTING: Counting = Counting(AtomicUsize::new(0));
    static ALL: [&dyn SignatureVerificationAlgorithm; 1] = [&COUNTING];

    fn calls() -> usize {
        COUNTING.0.load(Ordering::SeqCst)
    }

    #[test]
    fn a_large_message_is_verified_once_per_lease_and_small_ones_always() {
        let algorithms = WebPkiSupportedAlgorithms {
            all: &ALL,
            mapping: &[],
        };
        let (lent, lease) = lend(algorithms);
        let crl = vec![7u8; LARGER_THAN_ANY_CERTIFICATE];
        let copy = crl.clone();
        let start = calls();
        for _ in 0..3 {
            lent.all[0].verify_signature(b"k", &crl, b"k").unwrap();
        }
        assert_eq!(
            calls() - start,
            1,
            "one verification for the same CRL bytes"
        );
        // Other bytes (another address), another key or a bad signature: verified each time.
        lent.all[0].verify_signature(b"k", &copy, b"k").unwrap();
        lent.all[0].verify_signature(b"k", &crl, b"x").unwrap_err();
        lent.all[0].verify_signature(b"k", &crl, b"x").unwrap_err();
        assert_eq!(calls() - start, 4);
        // Small messages are never remembered.
        lent.all[0].verify_signature(b"k", b"cert", b"k").unwrap();
        lent.all[0].verify_signature(b"k", b"cert", b"k").unwrap();
        assert_eq!(calls() - start, 6);
        // The lease ends: the set forgets, and is lent again rather than leaked anew.
        drop(lease);
        let (again, _lease) = lend(algorithms);
        assert!(std::ptr::eq(again.all, lent.all));
        again.all[0].verify_signature(b"k", &crl, b"k").unwrap();
        assert_eq!(calls() - start, 7);
    }
}
