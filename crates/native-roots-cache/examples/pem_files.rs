//! Trust anchors from paths in your own configuration, not from the environment:
//!
//! ```text
//! cargo run -p native-roots-cache --example pem_files -- /etc/my-app/ca-bundle.pem /etc/my-app/ca.d
//! ```
//!
//! Each argument that is a directory is read as a directory of PEM files; the others as bundles
//! (the last bundle named wins). Prints the anchors and what the load skipped or met.

use std::path::PathBuf;
use std::process::ExitCode;

use native_roots_cache::{PemFiles, RootsCache};

fn main() -> ExitCode {
    if std::env::args_os().len() < 2 {
        println!(
            "usage: pem_files BUNDLE_OR_DIR...\n\nReads the PEM bundles and directories named, \
             the way a RootsCache over PemFiles does, and prints each anchor and what was skipped."
        );
        return ExitCode::SUCCESS;
    }
    let files =
        std::env::args_os()
            .skip(1)
            .map(PathBuf::from)
            .fold(PemFiles::new(), |files, path| {
                if path.is_dir() {
                    files.with_dir(path)
                } else {
                    files.with_file(path)
                }
            });
    let cache = RootsCache::with_source(files);
    let loaded = cache.native_roots();
    if let Some(report) = cache.report() {
        println!("{report}");
        for anchor in &report.anchor_certificates {
            println!("  anchor  {anchor}");
        }
        for skipped in &report.skipped {
            println!("  skipped {skipped}");
        }
        for error in &report.errors {
            println!("  error   {error}");
        }
    }
    match loaded {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
