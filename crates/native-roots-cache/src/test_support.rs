//! A scripted trust source and a recording sleep, shared by the unit tests and the loom model.
#![allow(clippy::unwrap_used)]
// The loom model uses only part of it.
#![cfg_attr(loom, allow(dead_code))]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::{Sleep, SourceOutput, TrustOrigin, TrustSource};

const ROOT_DER: [&[u8]; 3] = [
    include_bytes!("../testdata/root1.der"),
    include_bytes!("../testdata/root2.der"),
    include_bytes!("../testdata/root3.der"),
];

pub(crate) fn root(i: usize) -> CertificateDer<'static> {
    CertificateDer::from(ROOT_DER[i])
}

/// A DER SEQUENCE that is not a certificate.
pub(crate) fn garbage() -> CertificateDer<'static> {
    CertificateDer::from(&b"\x30\x03\x02\x01\x00"[..])
}

type Script = dyn Fn(u32) -> SourceOutput + Send + Sync;

/// A source that answers call `n` (from 1) with `script(n)` and counts its calls.
#[derive(Clone)]
pub(crate) struct Fake {
    calls: Arc<AtomicU32>,
    script: Arc<Script>,
}

impl Fake {
    pub(crate) fn new(script: impl Fn(u32) -> SourceOutput + Send + Sync + 'static) -> Self {
        Self {
            calls: Arc::new(AtomicU32::new(0)),
            script: Arc::new(script),
        }
    }

    pub(crate) fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl TrustSource for Fake {
    fn load(&self) -> SourceOutput {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        (self.script)(n)
    }

    fn origin(&self) -> TrustOrigin {
        TrustOrigin::Custom("the fake source".into())
    }
}

/// A sleep that records what it was asked to wait and returns at once.
#[derive(Clone, Default)]
pub(crate) struct RecordedSleep(Arc<Mutex<Vec<Duration>>>);

impl RecordedSleep {
    pub(crate) fn recorded(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl Sleep for RecordedSleep {
    fn sleep(&self, duration: Duration) {
        self.0.lock().unwrap().push(duration);
    }
}
