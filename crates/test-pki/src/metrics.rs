//! A `metrics` recorder that keeps every counter and gauge in memory, for tests that check which
//! names move: install it on the test's thread with [`Recorded::run`] (the facade's local
//! recorder), then read the values back by name and labels.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString,
    Unit,
};

/// One counter's value, or one gauge's as `f64` bits.
#[derive(Debug, Default)]
struct Cell(AtomicU64);

impl CounterFn for Cell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::SeqCst);
    }

    fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::SeqCst);
    }
}

impl GaugeFn for Cell {
    fn increment(&self, value: f64) {
        self.set(f64::from_bits(self.0.load(Ordering::SeqCst)) + value);
    }

    fn decrement(&self, value: f64) {
        self.set(f64::from_bits(self.0.load(Ordering::SeqCst)) - value);
    }

    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::SeqCst);
    }
}

/// A name with its labels, sorted.
type Series = (String, Vec<(String, String)>);

/// The counters and gauges recorded so far.
#[derive(Debug, Default)]
pub struct Recorded {
    counters: Mutex<HashMap<Series, Arc<Cell>>>,
    gauges: Mutex<HashMap<Series, Arc<Cell>>>,
    /// The unit each name was described with.
    units: Mutex<HashMap<String, Option<Unit>>>,
}

fn series(key: &Key) -> Series {
    let mut labels: Vec<(String, String)> = key
        .labels()
        .map(|label| (label.key().to_owned(), label.value().to_owned()))
        .collect();
    labels.sort();
    (key.name().to_owned(), labels)
}

fn matches(series: &Series, name: &str, labels: &[(&str, &str)]) -> bool {
    series.0 == name
        && labels
            .iter()
            .all(|(k, v)| series.1.iter().any(|(sk, sv)| sk == k && sv == v))
}

impl Recorded {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Run `f` with this recorder installed on the current thread.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self, f)
    }

    /// The sum of the counters named `name` that carry every label of `labels` (0 if none).
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(series, _)| matches(series, name, labels))
            .map(|(_, cell)| cell.0.load(Ordering::SeqCst))
            .sum()
    }

    /// The gauge named `name` with every label of `labels`, if one was registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.gauges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(series, _)| matches(series, name, labels))
            .map(|(_, cell)| f64::from_bits(cell.0.load(Ordering::SeqCst)))
    }

    /// The labels of every series named `name`, counters and gauges.
    pub fn labels(&self, name: &str) -> Vec<Vec<(String, String)>> {
        let counters = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        let gauges = self.gauges.lock().unwrap_or_else(PoisonError::into_inner);
        counters
            .keys()
            .chain(gauges.keys())
            .filter(|series| series.0 == name)
            .map(|series| series.1.clone())
            .collect()
    }

    /// The unit `name` was described with: `None` if it was never described, `Some(None)` if
    /// it was described without one.
    pub fn unit(&self, name: &str) -> Option<Option<Unit>> {
        self.units
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .copied()
    }

    fn describe(&self, key: KeyName, unit: Option<Unit>) {
        self.units
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.as_str().to_owned(), unit);
    }

    fn cell(map: &Mutex<HashMap<Series, Arc<Cell>>>, key: &Key) -> Arc<Cell> {
        let mut map = map.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(series(key)).or_default())
    }
}

impl Recorder for Recorded {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, _: SharedString) {
        self.describe(key, unit);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, _: SharedString) {
        self.describe(key, unit);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, _: SharedString) {
        self.describe(key, unit);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Self::cell(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Self::cell(&self.gauges, key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}
