//! The builder's counters and gauges through the `metrics` facade (with the `metrics` feature;
//! without it, every function here is empty). Each event describes the names it uses, then
//! records: events are rare (a build, a rotation, a look), and a recorder installed late, or on
//! one thread only, still hears them. The README's table lists the names.

#[cfg(feature = "metrics")]
mod facade {
    use std::time::SystemTime;

    use metrics::{counter, describe_counter, describe_gauge, gauge};

    const BUILT: &str = "tls_client_configs_built_total";
    const REBUILT: &str = "tls_client_configs_rebuilt_total";
    const EVICTED: &str = "tls_client_configs_evicted_total";
    const ISSUER_CHECKS: &str = "tls_client_unknown_issuer_checks_total";
    const ROTATIONS: &str = "tls_client_identity_rotations_total";
    const REJECTED: &str = "tls_client_identity_rejected_reloads_total";
    const EXPIRY: &str = "tls_client_identity_expiry_days";
    const CRLS: &str = "tls_client_crls";
    const CRLS_EXPIRED: &str = "tls_client_crls_expired";
    const CRL_REJECTED: &str = "tls_client_crl_rejected_reloads_total";

    /// A config was built: a first build, or a rebuild after the native roots changed.
    pub(crate) fn built(rebuild: bool) {
        describe_counter!(
            BUILT,
            "configs built, first builds and rebuilds, failed ones included"
        );
        describe_counter!(REBUILT, "of those, rebuilds after the native roots changed");
        counter!(BUILT).increment(1);
        counter!(REBUILT).increment(u64::from(rebuild));
    }

    pub(crate) fn evicted() {
        describe_counter!(EVICTED, "entries dropped to stay within the bound");
        counter!(EVICTED).increment(1);
    }

    pub(crate) fn unknown_issuer_check() {
        describe_counter!(
            ISSUER_CHECKS,
            "looks at the trust store started by unknown issuers"
        );
        counter!(ISSUER_CHECKS).increment(1);
    }

    pub(crate) fn identity_rotated(identity: &str) {
        describe_counter!(ROTATIONS, "client identities swapped in");
        counter!(ROTATIONS, "identity" => identity.to_owned()).increment(1);
    }

    pub(crate) fn identity_rejected(identity: &str, reason: &'static str) {
        describe_counter!(REJECTED, "client identity reloads refused, by reason");
        counter!(REJECTED, "identity" => identity.to_owned(), "reason" => reason).increment(1);
    }

    pub(crate) fn identity_expiry(identity: &str, not_after: SystemTime) {
        describe_gauge!(EXPIRY, "days until the client identity in use expires");
        let days = match not_after.duration_since(SystemTime::now()) {
            Ok(left) => left.as_secs_f64(),
            Err(past) => -past.duration().as_secs_f64(),
        } / 86_400.0;
        gauge!(EXPIRY, "identity" => identity.to_owned()).set(days);
    }

    /// The CRLs in use from `source` and how many are past their next update.
    pub(crate) fn crls(source: &str, crls: usize, expired: usize) {
        describe_gauge!(CRLS, "CRLs in use");
        describe_gauge!(CRLS_EXPIRED, "CRLs in use past their next update");
        #[allow(clippy::cast_precision_loss)]
        {
            gauge!(CRLS, "source" => source.to_owned()).set(crls as f64);
            gauge!(CRLS_EXPIRED, "source" => source.to_owned()).set(expired as f64);
        }
    }

    pub(crate) fn crl_rejected(source: &str) {
        describe_counter!(CRL_REJECTED, "CRL reloads refused (the last good set kept)");
        counter!(CRL_REJECTED, "source" => source.to_owned()).increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
mod facade {
    use std::time::SystemTime;

    pub(crate) fn built(_: bool) {}
    pub(crate) fn evicted() {}
    pub(crate) fn unknown_issuer_check() {}
    pub(crate) fn identity_rotated(_: &str) {}
    pub(crate) fn identity_rejected(_: &str, _: &'static str) {}
    pub(crate) fn identity_expiry(_: &str, _: SystemTime) {}
    pub(crate) fn crls(_: &str, _: usize, _: usize) {}
    pub(crate) fn crl_rejected(_: &str) {}
}

pub(crate) use facade::*;
