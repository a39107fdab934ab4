//! A server that refuses the client identity in use: the caller reports the failed handshake,
//! and the identity's files are looked at once, at once (no watcher, no second look), and read
//! if they changed; a storm of reports costs about one look a second.

use std::time::{Duration, Instant};

use rustls::{AlertDescription, CertificateError, Error};
use tls_client_builder::{IdentitySource, RotatingIdentity, SessionResumption, Trust, UpstreamTls};

use crate::rotation::{MtlsServer, identity_files, write_identity};
use crate::support::{Ca, cache, exchange, provider};

#[test]
fn a_refused_identity_is_read_again_at_once_when_its_files_changed() {
    let client_ca = Ca::new("refused client CA");
    let (old, new) = (client_ca.client_leaf(), client_ca.client_leaf());
    let server = MtlsServer::start(&client_ca, &old);
    let (chain, key) = identity_files("refused", &old);
    let identity =
        RotatingIdentity::with_provider("refused", IdentitySource::files(&chain, &key), provider())
            .unwrap();
    // Without resumption: a resumed session presents no certificate to refuse.
    let upstream = UpstreamTls::builder(Trust::AnchorsOnly)
        .extra_anchor_der(server.server_ca.der())
        .rotating_client_identity(identity.clone())
        .resumption(SessionResumption::Off)
        .build();
    let cache = cache();
    exchange(cache.get(&upstream).unwrap(), server.addr).unwrap();

    // The renewed pair lands on disk and the server moves to it; no watcher runs.
    write_identity(&chain, &key, &new);
    server.verifier.pin(&new);
    let refused = exchange(cache.get(&upstream).unwrap(), server.addr).unwrap_err();
    assert_eq!(
        refused,
        Error::AlertReceived(AlertDescription::CertificateRevoked)
    );
    assert!(identity.handshake_failed(&refused), "a look started");

    // Retries every 100 ms: the rotation lands without a second look at the files.
    let mut tries = 0;
    loop {
        tries += 1;
        match exchange(cache.get(&upstream).unwrap(), server.addr) {
            Ok(_) => break,
            Err(err) => {
                assert!(tries < 20, "still refused after {tries} tries: {err}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    assert_eq!(server.last_leaf(), new.chain[0]);
    assert_eq!(identity.rotations(), 1);
    assert_eq!(identity.stats().refusal_checks, 1);
}

#[test]
fn only_a_refusal_of_the_certificate_starts_a_look_and_a_storm_costs_one_a_second() {
    let client_ca = Ca::new("refusal storm CA");
    let (chain, key) = identity_files("refusal-storm", &client_ca.client_leaf());
    let identity =
        RotatingIdentity::with_provider("storm", IdentitySource::files(&chain, &key), provider())
            .unwrap();
    for not_about_us in [
        Error::InvalidCertificate(CertificateError::UnknownIssuer),
        Error::AlertReceived(AlertDescription::HandshakeFailure),
        Error::General("connection reset".into()),
    ] {
        assert!(!identity.handshake_failed(&not_about_us), "{not_about_us}");
    }
    assert_eq!(identity.stats().refusal_checks, 0);

    let refused = Error::AlertReceived(AlertDescription::BadCertificate);
    let started = Instant::now();
    let looks = (0..1_000)
        .filter(|_| identity.handshake_failed(&refused))
        .count() as u64;
    let bound = 1 + started.elapsed().as_secs();
    assert!(
        looks >= 1 && looks <= bound,
        "{looks} looks in {:?}",
        started.elapsed()
    );
    assert_eq!(identity.stats().refusal_checks, looks);
    // Nothing changed on disk: the looks read nothing, and nothing rotated.
    assert_eq!(identity.rotations(), 0);
}
