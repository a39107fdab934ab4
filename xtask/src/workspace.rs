//! Where the workspace is (from this crate's own path) and where cargo puts its output. The bottom
//! of the xtask: it imports nothing of the crate, so that [`crate::cmd`] can run every command at
//! the root and [`crate::packages`] can ask cargo about the members.

use std::path::{Path, PathBuf};

/// The workspace root: the parent of this crate's directory.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
}

/// Where cargo puts its output (`CARGO_TARGET_DIR`, else `target/`).
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// `path` as a command line shows it: relative to the root (where every command runs) if it is
/// inside it.
pub(crate) fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
