//! Property: upstream keys that differ in any one field are unequal and never share a config;
//! equal ones always do. Trust is anchors-only so that the machine's store is not involved.

use std::sync::{Arc, OnceLock};

use crate::support::{Ca, Leaf};
use proptest::prelude::*;
use tls_client_builder::{ClientConfigCache, SessionResumption, TlsVersions, Trust, UpstreamTls};

struct Pki {
    anchors: Vec<Ca>,
    identities: Vec<Leaf>,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let anchors: Vec<Ca> = (0..3).map(|i| Ca::new(&format!("prop CA {i}"))).collect();
        let identities = (0..2).map(|_| anchors[0].client_leaf()).collect();
        Pki {
            anchors,
            identities,
        }
    })
}

/// The fields of an upstream key, as indices into small value sets.
#[derive(Clone, Debug, PartialEq)]
struct Fields {
    /// Non-empty subset (as a bit mask) and order of the test CAs.
    anchors: Vec<usize>,
    alpn: Vec<String>,
    versions: u8,
    identity: Option<usize>,
    sni: bool,
    resumption: Option<usize>,
}

const FIELD_COUNT: usize = 6;

impl Fields {
    fn with_field_of(&self, other: &Self, field: usize) -> Self {
        let mut out = self.clone();
        match field {
            0 => out.anchors = other.anchors.clone(),
            1 => out.alpn = other.alpn.clone(),
            2 => out.versions = other.versions,
            3 => out.identity = other.identity,
            4 => out.sni = other.sni,
            _ => out.resumption = other.resumption,
        }
        out
    }

    fn build(&self) -> UpstreamTls {
        let pki = pki();
        let mut builder = UpstreamTls::builder(Trust::AnchorsOnly)
            .alpn(&self.alpn)
            .versions(match self.versions {
                0 => TlsVersions::Tls12And13,
                1 => TlsVersions::Tls13Only,
                _ => TlsVersions::Tls12Only,
            })
            .sni(self.sni)
            .resumption(match self.resumption {
                None => SessionResumption::Off,
                Some(sessions) => SessionResumption::InMemory { sessions },
            });
        for &anchor in &self.anchors {
            builder = builder.extra_anchor_der(pki.anchors[anchor].der());
        }
        if let Some(identity) = self.identity {
            let leaf = &pki.identities[identity];
            builder = builder.client_identity_der(leaf.chain.clone(), leaf.key());
        }
        builder.build()
    }
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        proptest::sample::subsequence(vec![0usize, 1, 2], 1..=3).prop_shuffle(),
        proptest::collection::vec("[a-c]{1,2}", 0..3),
        0u8..3,
        proptest::option::of(0usize..2),
        any::<bool>(),
        proptest::option::of(prop_oneof![Just(256usize), 1usize..64]),
    )
        .prop_map(
            |(anchors, alpn, versions, identity, sni, resumption)| Fields {
                anchors,
                alpn,
                versions,
                identity,
                sni,
                resumption,
            },
        )
}

fn cache() -> &'static ClientConfigCache {
    static CACHE: OnceLock<ClientConfigCache> = OnceLock::new();
    CACHE.get_or_init(|| crate::support::cache().max_entries(100_000))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn one_field_apart_never_shares_a_config(
        base in fields(),
        other in fields(),
        field in 0..FIELD_COUNT,
    ) {
        let changed = base.with_field_of(&other, field);
        prop_assume!(changed != base);
        let (a, b) = (base.build(), changed.build());
        prop_assert_ne!(&a, &b);
        let (config_a, config_b) = (cache().get(&a).unwrap(), cache().get(&b).unwrap());
        prop_assert!(!Arc::ptr_eq(&config_a, &config_b));
    }

    #[test]
    fn equal_fields_share_one_config(fields in fields()) {
        // Two separately built, equal upstream keys: equal, and the second lookup is a hit.
        let (a, b) = (fields.build(), fields.build());
        prop_assert_eq!(&a, &b);
        prop_assert!(Arc::ptr_eq(&cache().get(&a).unwrap(), &cache().get(&b).unwrap()));
    }
}
