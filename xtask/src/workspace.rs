//! Facts read from the workspace itself: where it is, its declared MSRV, its examples.

use std::fs;
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

/// `rust-version` from `[workspace.package]` in the root `Cargo.toml`.
pub(crate) fn rust_version() -> Result<String, String> {
    let manifest = read(&root().join("Cargo.toml"))?;
    table_value(&manifest, "workspace.package", "rust-version")
        .ok_or_else(|| "no `rust-version` in `[workspace.package]` of Cargo.toml".to_owned())
}

/// An example target: the package it belongs to and its name.
pub(crate) struct Example {
    pub(crate) package: String,
    pub(crate) name: String,
}

/// Every example under `crates/*/examples/`, found the way cargo finds them: `NAME.rs` or
/// `NAME/main.rs`.
pub(crate) fn examples() -> Result<Vec<Example>, String> {
    let mut examples = Vec::new();
    for crate_dir in entries(&root().join("crates"))? {
        let Ok(manifest) = read(&crate_dir.join("Cargo.toml")) else {
            continue;
        };
        let Some(package) = table_value(&manifest, "package", "name") else {
            continue;
        };
        let dir = crate_dir.join("examples");
        if !dir.is_dir() {
            continue;
        }
        for path in entries(&dir)? {
            let name = if path.extension().is_some_and(|ext| ext == "rs") {
                path.file_stem()
            } else if path.join("main.rs").is_file() {
                path.file_name()
            } else {
                None
            };
            if let Some(name) = name {
                examples.push(Example {
                    package: package.clone(),
                    name: name.to_string_lossy().into_owned(),
                });
            }
        }
    }
    Ok(examples)
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let listing =
        fs::read_dir(dir).map_err(|err| format!("could not list {}: {err}", dir.display()))?;
    let mut paths: Vec<PathBuf> = listing
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    Ok(paths)
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("could not read {}: {err}", path.display()))
}

/// `key = "value"` inside `[table]`: enough TOML for our own manifests, without a TOML parser.
fn table_value(manifest: &str, table: &str, key: &str) -> Option<String> {
    let header = format!("[{table}]");
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == header;
        } else if in_table {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if name.trim() == key {
                return Some(value.trim().trim_matches('"').to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_value_from_its_own_table_only() {
        let manifest =
            "[package]\nrust-version = \"1.70\"\n\n[workspace.package]\nrust-version = \"1.83\"\n";
        assert_eq!(
            table_value(manifest, "workspace.package", "rust-version").as_deref(),
            Some("1.83")
        );
        assert_eq!(table_value(manifest, "workspace", "rust-version"), None);
    }

    #[test]
    fn the_workspace_declares_its_msrv() {
        assert!(rust_version().is_ok());
    }
}
