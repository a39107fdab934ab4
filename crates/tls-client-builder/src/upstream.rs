//! [`UpstreamTls`], the upstream key: every setting that shapes a `ClientConfig`, as one immutable
//! value.
//!
//! Guarantees: two upstream keys are equal exactly when every field is equal (certificate and key
//! bytes included; a rotating identity by its stable key, the same `RotatingIdentity`), so a
//! cache keyed by them never hands one upstream another's trust settings or identity.
//! The hash is computed once, when the upstream key is built (a keyed SipHash over the full value,
//! keys random per process); lookups hash eight bytes and compare the full value only when the
//! hashes match. Clones share one allocation.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::BuildError;
use crate::identity::RotatingIdentity;
use crate::pem::{self, OtherHalf};
use crate::revocation::Revocation;
use crate::settings::{SessionResumption, TlsVersions, Trust};

/// A client identity for mTLS: fixed bytes, or a [`RotatingIdentity`] named by its stable key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ClientIdentity {
    Fixed(FixedIdentity),
    Rotating(RotatingIdentity),
}

/// A client certificate chain and its private key, compared by their bytes.
pub(crate) struct FixedIdentity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
}

impl FixedIdentity {
    fn key_tag(&self) -> u8 {
        match self.key {
            PrivateKeyDer::Pkcs1(_) => 1,
            PrivateKeyDer::Sec1(_) => 2,
            PrivateKeyDer::Pkcs8(_) => 3,
            _ => 0,
        }
    }
}

impl Clone for FixedIdentity {
    fn clone(&self) -> Self {
        Self {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl PartialEq for FixedIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.chain == other.chain
            && self.key_tag() == other.key_tag()
            && self.key.secret_der() == other.key.secret_der()
    }
}

impl Eq for FixedIdentity {}

impl Hash for FixedIdentity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.chain.hash(state);
        self.key_tag().hash(state);
        self.key.secret_der().hash(state);
    }
}

impl fmt::Debug for FixedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedIdentity")
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// How a config presents the upstream key's client identity.
pub(crate) enum IdentityRef<'a> {
    Fixed(&'a FixedIdentity),
    Rotating(&'a RotatingIdentity),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Fields {
    trust: Trust,
    extra_anchors: Arc<[CertificateDer<'static>]>,
    alpn: Vec<Vec<u8>>,
    versions: TlsVersions,
    identity: Option<ClientIdentity>,
    sni: bool,
    resumption: SessionResumption,
    revocation: Option<Revocation>,
}

/// The fields, with what a lookup asks of every key decided once, on the line it reads first
/// (`repr(C)` keeps `follows` beside `hash`, where a hit has already brought the line in).
#[derive(Debug)]
#[repr(C)]
struct Inner {
    hash: u64,
    follows: Follows,
    trust_hash: u64,
    fields: Fields,
}

/// The inputs that change while the process runs which a key's configs follow, and so whose
/// generation a hit compares (see `roots::upstream_generation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follows {
    /// Neither the native roots nor CRLs: a built config stays current.
    Nothing,
    /// The native roots and nothing else.
    NativeRoots,
    /// CRLs (and perhaps the native roots too).
    Crls,
}

/// The upstream key: every setting that shapes a rustls `ClientConfig`.
///
/// Built with [`UpstreamTls::builder`]; immutable afterwards; cheap to clone (one `Arc`).
/// Equality and hashing cover the full value (see the module docs), so it is the key of a
/// [`ClientConfigCache`](crate::ClientConfigCache).
///
/// ```
/// use tls_client_builder::{Trust, TlsVersions, UpstreamTls};
///
/// let upstream = UpstreamTls::builder(Trust::Native)
///     .alpn(["h2", "http/1.1"])
///     .versions(TlsVersions::Tls13Only)
///     .build();
/// assert_eq!(upstream.alpn(), [b"h2".to_vec(), b"http/1.1".to_vec()]);
/// ```
#[derive(Clone)]
pub struct UpstreamTls {
    inner: Arc<Inner>,
}

impl UpstreamTls {
    /// Start an upstream key that trusts `trust`: no extra anchors, no ALPN, TLS 1.2 and 1.3, no
    /// client identity, SNI on, in-memory resumption of 256 sessions.
    pub fn builder(trust: Trust) -> UpstreamTlsBuilder {
        UpstreamTlsBuilder {
            fields: Fields {
                trust,
                extra_anchors: Arc::new([]),
                alpn: Vec::new(),
                versions: TlsVersions::default(),
                identity: None,
                sni: true,
                resumption: SessionResumption::default(),
                revocation: None,
            },
            extra_anchors: Vec::new(),
        }
    }

    /// The trust choice.
    pub fn trust(&self) -> Trust {
        self.inner.fields.trust
    }

    /// The extra trust anchors (DER), in the order given.
    pub fn extra_anchors(&self) -> &[CertificateDer<'static>] {
        &self.inner.fields.extra_anchors
    }

    /// The ALPN protocols offered, in preference order.
    pub fn alpn(&self) -> &[Vec<u8>] {
        &self.inner.fields.alpn
    }

    /// The protocol versions offered.
    pub fn versions(&self) -> TlsVersions {
        self.inner.fields.versions
    }

    /// The client certificate chain for mTLS, if the upstream key has a fixed identity. The key
    /// is not exposed. `None` for a rotating identity: see
    /// [`rotating_identity`](Self::rotating_identity).
    pub fn client_chain(&self) -> Option<&[CertificateDer<'static>]> {
        match self.inner.fields.identity.as_ref()? {
            ClientIdentity::Fixed(fixed) => Some(&fixed.chain),
            ClientIdentity::Rotating(_) => None,
        }
    }

    /// The rotating client identity for mTLS, if the upstream key has one.
    pub fn rotating_identity(&self) -> Option<&RotatingIdentity> {
        match self.inner.fields.identity.as_ref()? {
            ClientIdentity::Rotating(rotating) => Some(rotating),
            ClientIdentity::Fixed(_) => None,
        }
    }

    /// Whether the server name is sent (SNI).
    pub fn sni(&self) -> bool {
        self.inner.fields.sni
    }

    /// The session-resumption setting.
    pub fn resumption(&self) -> SessionResumption {
        self.inner.fields.resumption
    }

    pub(crate) fn client_identity(&self) -> Option<IdentityRef<'_>> {
        Some(match self.inner.fields.identity.as_ref()? {
            ClientIdentity::Fixed(fixed) => IdentityRef::Fixed(fixed),
            ClientIdentity::Rotating(rotating) => IdentityRef::Rotating(rotating),
        })
    }

    /// The revocation checking of its trust set, if any.
    pub fn revocation(&self) -> Option<&Revocation> {
        self.inner.fields.revocation.as_ref()
    }

    /// Whether its configs follow a changing input (the native roots, or CRLs), and so carry a
    /// generation to compare.
    pub(crate) fn follows_changes(&self) -> bool {
        self.inner.follows != Follows::Nothing
    }

    /// Which changing inputs its configs follow.
    #[inline]
    pub(crate) fn follows(&self) -> Follows {
        self.inner.follows
    }

    pub(crate) fn extra_anchors_arc(&self) -> &Arc<[CertificateDer<'static>]> {
        &self.inner.fields.extra_anchors
    }

    /// The precomputed hash of the whole value.
    pub(crate) fn hash_value(&self) -> u64 {
        self.inner.hash
    }

    /// Whether `other` is a clone of this very value (equal without comparing).
    #[inline]
    pub(crate) fn is_clone_of(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The precomputed hash of the trust set (trust choice and extra anchors).
    pub(crate) fn trust_hash(&self) -> u64 {
        self.inner.trust_hash
    }
}

impl PartialEq for UpstreamTls {
    fn eq(&self, other: &Self) -> bool {
        self.inner.hash == other.inner.hash
            && (Arc::ptr_eq(&self.inner, &other.inner) || self.inner.fields == other.inner.fields)
    }
}

impl Eq for UpstreamTls {}

impl Hash for UpstreamTls {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.inner.hash);
    }
}

impl fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = &self.inner.fields;
        f.debug_struct("UpstreamTls")
            .field("trust", &fields.trust)
            .field("extra_anchors", &fields.extra_anchors.len())
            .field("alpn", &AlpnList(&fields.alpn))
            .field("versions", &fields.versions)
            .field("identity", &fields.identity)
            .field("sni", &fields.sni)
            .field("resumption", &fields.resumption)
            .field("revocation", &fields.revocation)
            .finish()
    }
}

/// A one-line summary for logs: `trust=…, alpn=[…], versions=…, client-auth=…, sni=…,
/// resumption=…`. Key bytes are never printed.
impl fmt::Display for UpstreamTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = &self.inner.fields;
        write!(f, "trust={}", fields.trust)?;
        if !fields.extra_anchors.is_empty() {
            write!(f, " + {} extra anchor(s)", fields.extra_anchors.len())?;
        }
        write!(
            f,
            ", alpn={:?}, versions={}",
            AlpnList(&fields.alpn),
            fields.versions
        )?;
        match &fields.identity {
            Some(ClientIdentity::Fixed(fixed)) => {
                write!(f, ", client-auth=chain of {}", fixed.chain.len())?;
            }
            Some(ClientIdentity::Rotating(rotating)) => {
                write!(f, ", client-auth=rotating `{}`", rotating.name())?;
            }
            None => f.write_str(", client-auth=none")?,
        }
        write!(f, ", sni={}", if fields.sni { "on" } else { "off" })?;
        match fields.resumption {
            SessionResumption::InMemory { sessions } => write!(f, ", resumption={sessions}")?,
            SessionResumption::Off => f.write_str(", resumption=off")?,
        }
        if let Some(revocation) = &fields.revocation {
            write!(f, ", crls={}", revocation.crls().source())?;
        }
        Ok(())
    }
}

/// ALPN protocol names shown as text where they are text.
struct AlpnList<'a>(&'a [Vec<u8>]);

impl fmt::Debug for AlpnList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| String::from_utf8_lossy(p)))
            .finish()
    }
}

/// Builds an [`UpstreamTls`]. Methods that parse PEM return `Result` so that a bad argument is
/// reported where it was given.
#[derive(Debug)]
#[must_use]
pub struct UpstreamTlsBuilder {
    fields: Fields,
    extra_anchors: Vec<CertificateDer<'static>>,
}

impl UpstreamTlsBuilder {
    /// Add every certificate in `pem` as an extra trust anchor.
    ///
    /// # Errors
    /// [`BuildError::Pem`] naming `extra_anchors_pem` when the text holds no certificate, a
    /// truncated or undecodable section, or a block that is not a certificate (such as a key).
    pub fn extra_anchors_pem(mut self, pem: impl AsRef<[u8]>) -> Result<Self, BuildError> {
        let certs = pem::certificates(pem.as_ref(), OtherHalf::Refused)
            .map_err(|problem| problem.in_argument("extra_anchors_pem"))?;
        self.extra_anchors.extend(certs);
        Ok(self)
    }

    /// Add one DER certificate as an extra trust anchor. It is checked when a config is built
    /// ([`BuildError::ExtraAnchor`]).
    pub fn extra_anchor_der(mut self, der: impl Into<CertificateDer<'static>>) -> Self {
        self.extra_anchors.push(der.into());
        self
    }

    /// The ALPN protocols to offer, in preference order (replacing any given before).
    pub fn alpn<P: AsRef<[u8]>>(mut self, protocols: impl IntoIterator<Item = P>) -> Self {
        self.fields.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// The protocol versions to offer.
    pub fn versions(mut self, versions: TlsVersions) -> Self {
        self.fields.versions = versions;
        self
    }

    /// Authenticate to the upstream (mTLS) with the certificate chain in `chain_pem` (leaf first)
    /// and the private key in `key_pem` (PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    /// [`BuildError::Pem`] naming `client_identity_pem chain` or `client_identity_pem key` when a
    /// text holds no usable item of its kind, a truncated or undecodable section, or a block of
    /// the wrong kind. Whether the key matches the chain is checked when a config is built
    /// ([`BuildError::ClientIdentity`]).
    pub fn client_identity_pem(
        self,
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self, BuildError> {
        let chain = pem::certificates(chain_pem.as_ref(), OtherHalf::Refused)
            .map_err(|problem| problem.in_argument("client_identity_pem chain"))?;
        let key = pem::private_key(key_pem.as_ref(), OtherHalf::Refused)
            .map_err(|problem| problem.in_argument("client_identity_pem key"))?;
        Ok(self.client_identity_der(chain, key))
    }

    /// Authenticate to the upstream (mTLS) with a DER chain (leaf first) and key.
    pub fn client_identity_der(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.fields.identity = Some(ClientIdentity::Fixed(FixedIdentity { chain, key }));
        self
    }

    /// Authenticate to the upstream (mTLS) with `identity`, which may rotate: the upstream key
    /// names it by its stable key (clones of one `RotatingIdentity` are equal), so a rotation
    /// changes neither the upstream key nor its config, whose client-certificate resolver reads
    /// the identity in use at each handshake. Replaces any identity given before.
    pub fn rotating_client_identity(mut self, identity: RotatingIdentity) -> Self {
        self.fields.identity = Some(ClientIdentity::Rotating(identity));
        self
    }

    /// Whether to send the server name (SNI); on by default.
    pub fn sni(mut self, enabled: bool) -> Self {
        self.fields.sni = enabled;
        self
    }

    /// The session-resumption setting; in-memory with 256 sessions by default.
    pub fn resumption(mut self, resumption: SessionResumption) -> Self {
        self.fields.resumption = resumption;
        self
    }

    /// Check revocation with `revocation`'s CRLs and policies (see [`Revocation`]).
    pub fn revocation(mut self, revocation: Revocation) -> Self {
        self.fields.revocation = Some(revocation);
        self
    }

    /// The upstream key, with its hashes computed once.
    pub fn build(self) -> UpstreamTls {
        let mut fields = self.fields;
        fields.extra_anchors = self.extra_anchors.into();
        let hash = keyed_hash(&fields);
        let trust_hash = keyed_hash(&(fields.trust, &fields.extra_anchors, &fields.revocation));
        let follows = match (&fields.revocation, fields.trust.uses_native()) {
            (Some(_), _) => Follows::Crls,
            (None, true) => Follows::NativeRoots,
            (None, false) => Follows::Nothing,
        };
        UpstreamTls {
            inner: Arc::new(Inner {
                hash,
                follows,
                trust_hash,
                fields,
            }),
        }
    }
}

/// SipHash with keys chosen once per process, so that no one can precompute colliding
/// upstream keys.
fn keyed_hash(value: &impl Hash) -> u64 {
    static KEYS: OnceLock<RandomState> = OnceLock::new();
    KEYS.get_or_init(RandomState::new).hash_one(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_from_separate_builds_are_equal() {
        let a = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
        let b = UpstreamTls::builder(Trust::Native).alpn(["h2"]).build();
        assert_eq!(a, b);
        assert_eq!(a.hash_value(), b.hash_value());
        assert_ne!(a, UpstreamTls::builder(Trust::Native).alpn(["h3"]).build());
    }

    #[test]
    fn debug_redacts_the_key() {
        let key = PrivateKeyDer::Pkcs8(vec![0x42; 16].into());
        let fp = UpstreamTls::builder(Trust::AnchorsOnly)
            .client_identity_der(vec![CertificateDer::from(vec![1, 2, 3])], key)
            .build();
        let text = format!("{fp:?} {fp}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(!text.contains("66"), "key bytes leaked: {text}");
    }

    /// (Keys with CRLs are `Follows::Crls`: tests/it/revocation.rs rebuilds them on a change.)
    #[test]
    fn what_a_key_follows_is_decided_when_it_is_built() {
        let follows = |trust| UpstreamTls::builder(trust).build().follows();
        assert_eq!(follows(Trust::Native), Follows::NativeRoots);
        assert_eq!(follows(Trust::AnchorsOnly), Follows::Nothing);
        assert!(
            !UpstreamTls::builder(Trust::AnchorsOnly)
                .build()
                .follows_changes()
        );
    }

    #[test]
    fn key_encoding_is_part_of_identity() {
        let chain = vec![CertificateDer::from(vec![1, 2, 3])];
        let a = UpstreamTls::builder(Trust::Native)
            .client_identity_der(chain.clone(), PrivateKeyDer::Pkcs8(vec![7; 8].into()))
            .build();
        let b = UpstreamTls::builder(Trust::Native)
            .client_identity_der(chain, PrivateKeyDer::Sec1(vec![7; 8].into()))
            .build();
        assert_ne!(a, b);
    }
}
