//! Operator-supplied PEM into an `UpstreamTls`: never a panic, errors that name their argument,
//! an upstream key that holds what was given, and a key that no `Debug` or `Display` shows.
//!
//! The input is up to four parts separated by NUL bytes (PEM text never holds one, so the seeds
//! stay readable):
//!
//! ```text
//! extra_anchors_pem \0 client_identity_pem chain \0 client_identity_pem key \0 extra_anchor_der
//! ```
//!
//! Missing parts are empty. Only the upstream key is built: checking anchors and keys needs a
//! crypto provider and a `ClientConfigCache`, which the tests cover.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use tls_client_builder::{BuildError, Trust, UpstreamTls};

struct Parts<'a> {
    anchors_pem: &'a [u8],
    chain_pem: &'a [u8],
    key_pem: &'a [u8],
    anchor_der: &'a [u8],
}

impl<'a> Parts<'a> {
    fn split(data: &'a [u8]) -> Self {
        let mut parts = data.splitn(4, |&b| b == 0);
        let mut next = || parts.next().unwrap_or_default();
        Self {
            anchors_pem: next(),
            chain_pem: next(),
            key_pem: next(),
            anchor_der: next(),
        }
    }
}

/// The upstream key, and whether the extra anchors and the identity were accepted.
fn parse(parts: &Parts<'_>) -> (UpstreamTls, bool, bool) {
    let builder = UpstreamTls::builder(Trust::AnchorsOnly);
    // A failed call consumes the builder, so start again without that setting, as a caller
    // that logs the error and carries on would.
    let (builder, anchors_ok) = match builder.extra_anchors_pem(parts.anchors_pem) {
        Ok(builder) => (builder, true),
        Err(err) => {
            check_pem_error(&err, &["extra_anchors_pem"]);
            (UpstreamTls::builder(Trust::AnchorsOnly), false)
        }
    };
    // Keep the anchors accepted above: rebuild them when the identity fails.
    let (builder, identity_ok) = match builder.client_identity_pem(parts.chain_pem, parts.key_pem) {
        Ok(builder) => (builder, true),
        Err(err) => {
            check_pem_error(
                &err,
                &["client_identity_pem chain", "client_identity_pem key"],
            );
            let fresh = UpstreamTls::builder(Trust::AnchorsOnly);
            let fresh = if anchors_ok {
                fresh
                    .extra_anchors_pem(parts.anchors_pem)
                    .expect("the same PEM was accepted a moment ago")
            } else {
                fresh
            };
            (fresh, false)
        }
    };
    let upstream = builder.extra_anchor_der(parts.anchor_der.to_vec()).build();
    (upstream, anchors_ok, identity_ok)
}

/// A PEM error names one of the builder's arguments, and formats without panicking.
fn check_pem_error(err: &BuildError, arguments: &[&str]) {
    let text = err.to_string();
    match err {
        BuildError::Pem { argument, .. } => {
            assert!(arguments.contains(argument), "wrong argument: {err:?}");
            assert!(
                text.contains(argument),
                "message does not name {argument}: {text}"
            );
        }
        other => panic!("PEM parsing returned a non-PEM error: {other:?}"),
    }
}

/// Neither `Debug` nor `Display` shows the key, in any of the forms a leak would take.
fn check_redacted(upstream: &UpstreamTls, key_pem: &[u8]) {
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .expect("client_identity_pem accepted a key that the PEM reader does not find");
    let der = key.secret_der();
    // Shorter keys could match counts and words of the fixed-shape output by chance.
    if der.len() < 8 {
        return;
    }
    let text = format!("{upstream:?}\n{upstream:#?}\n{upstream}");
    let lower: String = der.iter().map(|b| format!("{b:02x}")).collect();
    let upper = lower.to_uppercase();
    let list = format!("{der:?}");
    assert!(!text.contains(&lower), "key bytes (hex) leaked: {text}");
    assert!(!text.contains(&upper), "key bytes (HEX) leaked: {text}");
    assert!(!text.contains(&list), "key bytes (list) leaked: {text}");
    // A key of printable ASCII could spell words of the output; any other byte cannot.
    let printable = der.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\n');
    if !printable {
        assert!(
            !text.as_bytes().windows(der.len()).any(|w| w == der),
            "raw key bytes leaked: {text}"
        );
    }
    // The key's base64 lines. The output's longest run of base64 characters is 14
    // (`resumption=256`), so a line of 16 or more can only be there if it leaked.
    for line in key_pem.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let base64 = line
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if base64 && line.len() >= 16 {
            assert!(
                !text.as_bytes().windows(line.len()).any(|w| w == line),
                "key PEM leaked: {text}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let parts = Parts::split(data);
    let (upstream, anchors_ok, identity_ok) = parse(&parts);

    // The upstream key holds what was accepted: at least one certificate from accepted PEM
    // (a bundle without one is an error), then the DER anchor, unchanged and last.
    let anchors = upstream.extra_anchors();
    let from_pem = anchors.len() - 1;
    assert_eq!(
        anchors_ok,
        from_pem >= 1,
        "{anchors_ok} but {from_pem} PEM anchors"
    );
    assert_eq!(anchors.last().map(|c| c.as_ref()), Some(parts.anchor_der));
    match upstream.client_chain() {
        Some(chain) => assert!(identity_ok && !chain.is_empty(), "chain of {}", chain.len()),
        None => assert!(
            !identity_ok,
            "identity accepted but not in the upstream key"
        ),
    }

    if identity_ok {
        check_redacted(&upstream, parts.key_pem);
    } else {
        // Formatting never panics, identity or not.
        let _ = format!("{upstream:?} {upstream}");
    }

    // The cache key is a function of the input: the same input builds an equal upstream key.
    let (again, _, _) = parse(&parts);
    assert_eq!(upstream, again, "same input, different upstream keys");
});
