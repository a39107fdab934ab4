//! The workspace's packages as `cargo metadata` describes them (targets with their required
//! features, `rust-version`, whether they are published), so that no step reads a manifest by
//! hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cmd::Cmd;

/// The part of `cargo metadata --format-version 1` that the steps use.
#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
}

/// A package: a workspace member, or with [`locked_versions`] any package in the lock.
#[derive(Deserialize)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) manifest_path: PathBuf,
    /// `rust-version`, inherited from `[workspace.package]` or its own; `None` if it has none.
    pub(crate) rust_version: Option<String>,
    /// The registries it may be published to: `None` is any, an empty list is `publish = false`.
    publish: Option<Vec<String>>,
    targets: Vec<Target>,
}

/// A build target of a package: its library, a binary, an example, a test or a bench.
#[derive(Deserialize)]
pub(crate) struct Target {
    pub(crate) name: String,
    kind: Vec<String>,
    /// `required-features`: cargo skips the target unless these are on.
    #[serde(rename = "required-features", default)]
    pub(crate) required_features: Vec<String>,
}

impl Package {
    /// Whether `cargo publish` may upload it (its `publish` is not `false` or `[]`).
    pub(crate) fn is_published(&self) -> bool {
        self.publish
            .as_ref()
            .is_none_or(|registries| !registries.is_empty())
    }

    /// The directory that holds its `Cargo.toml`.
    pub(crate) fn dir(&self) -> &Path {
        self.manifest_path
            .parent()
            .unwrap_or_else(|| Path::new("."))
    }

    /// Its targets of one kind (`"example"`, `"bin"`, ...), wherever `[[example]] path` puts them.
    pub(crate) fn targets(&self, kind: &'static str) -> impl Iterator<Item = &Target> + '_ {
        self.targets
            .iter()
            .filter(move |target| target.kind.iter().any(|k| k == kind))
    }
}

/// The workspace's members, in the order `cargo metadata` lists them.
pub(crate) fn members() -> Result<Vec<Package>, String> {
    metadata(&["--no-deps"]).map(|metadata| metadata.packages)
}

/// The members that `cargo publish` may upload.
pub(crate) fn published() -> Result<Vec<Package>, String> {
    let mut members = members()?;
    members.retain(Package::is_published);
    Ok(members)
}

/// The version(s) of each package in `Cargo.lock` (several when the lock holds several).
pub(crate) fn locked_versions() -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in metadata(&[])?.packages {
        versions
            .entry(package.name)
            .or_default()
            .push(package.version);
    }
    Ok(versions)
}

fn metadata(extra: &[&str]) -> Result<Metadata, String> {
    let command = Cmd::cargo()
        .args(&["metadata", "--format-version", "1", "--locked"])
        .args(extra);
    parse(&command.read()?)
        .map_err(|err| format!("could not read the output of `{command}`: {err}"))
}

fn parse(json: &str) -> Result<Metadata, serde_json::Error> {
    serde_json::from_str(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_cargo_metadata_says() {
        // Trimmed from real output: a library with an example that needs a feature, and a tool.
        let json = r#"{"packages": [
            {"name": "lib", "version": "0.1.0", "manifest_path": "/w/crates/lib/Cargo.toml",
             "rust_version": "1.85", "publish": null, "targets": [
                {"kind": ["lib"], "name": "lib", "src_path": "/w/crates/lib/src/lib.rs"},
                {"kind": ["example"], "name": "demo", "required-features": ["extra"]}]},
            {"name": "xtask", "version": "0.0.0", "manifest_path": "/w/xtask/Cargo.toml",
             "rust_version": null, "publish": [], "targets": [
                {"kind": ["bin"], "name": "xtask"}]}],
            "workspace_root": "/w"}"#;
        let metadata = parse(json).expect("valid metadata");
        let [lib, xtask] = &metadata.packages[..] else {
            panic!("two packages")
        };
        assert!(lib.is_published());
        assert!(!xtask.is_published(), "`publish = false` is an empty list");
        assert_eq!(lib.rust_version.as_deref(), Some("1.85"));
        assert_eq!(lib.dir(), Path::new("/w/crates/lib"));
        let examples: Vec<_> = lib.targets("example").collect();
        assert_eq!(examples.len(), 1);
        assert_eq!(examples[0].name, "demo");
        assert_eq!(examples[0].required_features, ["extra"]);
        assert_eq!(xtask.targets("bin").count(), 1);
        assert_eq!(xtask.targets("example").count(), 0);
    }

    #[test]
    fn the_workspace_has_published_packages_with_an_msrv() {
        let published = published().expect("cargo metadata runs");
        assert!(!published.is_empty());
        assert!(published.iter().all(|p| p.rust_version.is_some()));
    }
}
