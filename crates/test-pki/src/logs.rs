//! A logger that keeps every record, so that tests can check what an operator would read. It is
//! installed once for the whole test binary; tests find their own lines by a path or name that
//! only they use.

use std::sync::{Mutex, OnceLock, PoisonError};

struct Kept(Mutex<Vec<(log::Level, String)>>);

impl log::Log for Kept {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((record.level(), record.args().to_string()));
    }

    fn flush(&self) {}
}

fn kept() -> &'static Kept {
    static KEPT: OnceLock<&'static Kept> = OnceLock::new();
    KEPT.get_or_init(|| {
        let kept: &'static Kept = Box::leak(Box::new(Kept(Mutex::new(Vec::new()))));
        // Another logger installed first would make `lines` see nothing: fail loudly instead.
        log::set_logger(kept).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        kept
    })
}

/// Start keeping log records (idempotent).
pub fn install() {
    kept();
}

/// The messages logged at `level` that contain `needle`.
pub fn lines(level: log::Level, needle: &str) -> Vec<String> {
    kept()
        .0
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|(at, message)| *at == level && message.contains(needle))
        .map(|(_, message)| message.clone())
        .collect()
}
