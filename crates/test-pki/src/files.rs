//! Scratch files: directories private to a test process, files replaced as a secrets agent or
//! `mv` does, and files dated back to look settled.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A fresh, empty directory private to this test process (and tag), kept when the test ends.
pub fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("test-pki-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory (see [`fresh_dir`]) removed with everything in it when dropped.
pub struct ScratchDir(PathBuf);

/// A fresh, empty directory private to this test process, removed when the value is dropped.
pub fn scratch_dir(tag: &str) -> ScratchDir {
    ScratchDir(fresh_dir(tag))
}

impl ScratchDir {
    /// Write `contents` to `name` in the directory by a rename (see [`replace_file`]).
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        replace_file(&path, contents);
        path
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<OsStr> for ScratchDir {
    fn as_ref(&self) -> &OsStr {
        self.0.as_os_str()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Replace `path` with `contents` as `mv` does: written in full beside it (a hidden file, which a
/// directory reader passes over), then renamed over it, so that a reader sees the old file or the
/// new one, never half of it.
pub fn replace_file(path: &Path, contents: impl AsRef<[u8]>) {
    let name = path.file_name().unwrap().to_string_lossy();
    let partial = path.with_file_name(format!(".{name}.partial"));
    let mut file = std::fs::File::create(&partial).unwrap();
    file.write_all(contents.as_ref()).unwrap();
    file.sync_all().unwrap();
    std::fs::rename(&partial, path).unwrap();
}

/// Date `path`'s modification an hour back: a file nobody is writing, as opposed to one written
/// a moment ago (which the reader takes for one that may still be being rewritten).
pub fn settle(path: &Path) {
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(hour_ago))
        .unwrap();
}

/// Write `contents` to `path`, dated an hour back (see [`settle`]); returns the path.
pub fn write_settled(path: PathBuf, contents: impl AsRef<[u8]>) -> PathBuf {
    std::fs::write(&path, contents).unwrap();
    settle(&path);
    path
}
