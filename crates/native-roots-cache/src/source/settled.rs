//! The settled read of one file: the torn-read rules every reader of the crate follows (the
//! trust store's bundle and directories, a client identity's files through the reload gate). A
//! file is read whole only when it holds still: same identity, size and mtime before and after
//! the read, and not modified within the last few milliseconds; an empty file just written is
//! taken for one being rewritten. FIFOs, sockets and devices are never opened.

use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::source::SourceError;
use crate::source::os_error::io_error;
use crate::source::read_progress;
use crate::source::signature::file_id;

/// A file modified this recently may still be being written: file systems with coarse timestamps
/// give a rewrite within one clock tick (4–10 ms on Linux) the mtime of the version before it,
/// so an unchanged mtime proves nothing until the file is older than a couple of ticks (git's
/// "racily clean" entries).
pub(crate) const RACY_WINDOW: Duration = Duration::from_millis(20);

/// An empty file, or one whose last section has no END line, modified this recently is taken for
/// one being rewritten (`cp`, `cat >` and most configuration tools truncate first, then write):
/// a torn read. Older, it is taken for what it is, an operator's empty or cut-short file: a
/// permanent error that costs that file, not the whole store.
pub(super) const WRITER_WINDOW: Duration = Duration::from_secs(2);

/// A CA bundle is well under a megabyte; a file this large is not one, and is not read whole.
pub(super) const MAX_FILE_SIZE: u64 = 64 << 20;

/// What [`read_whole`] found in a file that holds still.
pub(super) enum FileRead {
    /// Its bytes, and its metadata, unchanged across the read.
    Whole(Vec<u8>, fs::Metadata),
    /// Its size is 0, and it was not just emptied by a writer: not opened.
    Empty,
}

/// Why [`read_whole`] read no bytes; each reader words it its own way.
pub(super) enum Unsettled {
    Io(io::Error),
    /// A torn read: read again once the file is quiet at `settles_at`.
    Torn {
        why: String,
        settles_at: SystemTime,
    },
    TooLarge(u64),
}

impl Unsettled {
    /// The kind a signature records for this look.
    pub(super) fn kind(&self) -> io::ErrorKind {
        match self {
            Self::Io(err) => err.kind(),
            Self::Torn { .. } | Self::TooLarge(_) => io::ErrorKind::Other,
        }
    }

    pub(super) fn source_error(self, context: &str, path: &Path) -> SourceError {
        match self {
            Self::Io(err) => io_error(context, &err, path),
            Self::Torn { why, settles_at } => SourceError::torn(path, &why, settles_at),
            Self::TooLarge(len) => SourceError::permanent(
                "file too large for a CA bundle",
                format!(
                    "it is {len} bytes; a CA bundle is well under {MAX_FILE_SIZE} bytes, so it is \
                     not read"
                ),
            )
            .with_path(path),
        }
    }

    pub(super) fn io_error(self) -> io::Error {
        match self {
            Self::Io(err) => err,
            Self::Torn { why, .. } => io::Error::new(io::ErrorKind::Interrupted, why),
            Self::TooLarge(len) => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("it is {len} bytes, more than the {MAX_FILE_SIZE} read"),
            ),
        }
    }
}

/// The whole content of the regular file `path`, read only when its metadata (`known`, just
/// taken by the caller) says it holds something and is not being rewritten.
pub(super) fn read_whole(path: &Path, known: fs::Metadata) -> Result<FileRead, Unsettled> {
    let before = settled_metadata(path, Ok(known))?;
    if before.len() == 0 {
        if let Some(settles_at) = young(&before, WRITER_WINDOW) {
            return Err(Unsettled::Torn {
                why: "it is empty and was modified just now: being rewritten (truncated first)?"
                    .to_owned(),
                settles_at,
            });
        }
        return Ok(FileRead::Empty);
    }
    if before.len() > MAX_FILE_SIZE {
        return Err(Unsettled::TooLarge(before.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(before.len()).unwrap_or(0));
    // The look after the read is taken of the open file, not of the path: it costs no second
    // path walk, and it still tells whether the bytes read are those of the file looked at
    // before (same identity) and whether it changed during the read. A file renamed over the
    // path after the open leaves the one read whole; the next signature notices the rename.
    // Only the size looked at is read: that look, unchanged, says nothing follows (a file that
    // grew has another size), so no read is spent to meet the end of the file (each system call
    // costs about 3 µs on the virtual machines we run on, a store has hundreds of files).
    let after = fs::File::open(path)
        .and_then(|mut file| {
            (&mut file).take(before.len()).read_to_end(&mut bytes)?;
            file.metadata()
        })
        .map_err(Unsettled::Io)?;
    let torn = |why: String| Unsettled::Torn {
        why,
        settles_at: SystemTime::now() + RACY_WINDOW,
    };
    if let Some(change) = changed(&before, &after) {
        return Err(torn(format!("it changed while it was read ({change})")));
    }
    if bytes.len() as u64 != after.len() {
        return Err(torn(format!(
            "{} bytes were read from a file of {} bytes",
            bytes.len(),
            after.len()
        )));
    }
    Ok(FileRead::Whole(bytes, after))
}

/// The bytes of the regular file `path`, read by [`read_whole`]'s rules, for a reader of
/// another crate (see [`ReloadGate::read_file`](crate::ReloadGate::read_file)).
pub(crate) fn read_settled(path: &Path) -> io::Result<Vec<u8>> {
    read_progress::reading(path);
    let metadata = fs::metadata(path)?;
    if !metadata.is_file() {
        let what = special_kind(&metadata.file_type()).unwrap_or("a directory");
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a regular file: it is {what}"),
        ));
    }
    match read_whole(path, metadata) {
        Ok(FileRead::Whole(bytes, _)) => Ok(bytes),
        Ok(FileRead::Empty) => Ok(Vec::new()),
        Err(unsettled) => Err(unsettled.io_error()),
    }
}

/// The metadata of `path` (`first`, a look through its symlinks) once it is older than
/// [`RACY_WINDOW`]: a path modified just now is given that long once, so that a file written
/// right before the load still loads in the first attempt; one that changes again meanwhile is a
/// torn read.
pub(super) fn settled_metadata(
    path: &Path,
    first: io::Result<fs::Metadata>,
) -> Result<fs::Metadata, Unsettled> {
    let metadata = first.map_err(Unsettled::Io)?;
    let Some(age) = age(&metadata).filter(|age| *age < RACY_WINDOW) else {
        return Ok(metadata);
    };
    // Not an injected sleep: it bounds how long a fresh file is trusted to be whole, and it runs
    // only when the file was modified within the last few milliseconds.
    std::thread::sleep(RACY_WINDOW - age);
    let settled = fs::metadata(path).map_err(Unsettled::Io)?;
    if changed(&metadata, &settled).is_some() || age_below(&settled, RACY_WINDOW) {
        return Err(Unsettled::Torn {
            why: "it is being written: it changed again within the last few milliseconds"
                .to_owned(),
            settles_at: young(&settled, RACY_WINDOW).unwrap_or_else(SystemTime::now),
        });
    }
    Ok(settled)
}

/// How long ago `metadata` was modified; `None` when its mtime is unknown or in the future by
/// more than the racy window (a skewed clock, not a writer).
pub(super) fn age(metadata: &fs::Metadata) -> Option<Duration> {
    let modified = metadata.modified().ok()?;
    match SystemTime::now().duration_since(modified) {
        Ok(age) => Some(age),
        Err(ahead) if ahead.duration() < RACY_WINDOW => Some(Duration::ZERO),
        Err(_) => None,
    }
}

pub(super) fn age_below(metadata: &fs::Metadata, window: Duration) -> bool {
    age(metadata).is_some_and(|age| age < window)
}

/// When a file modified less than `window` ago will have been quiet for `window` (measured from
/// its mtime); `None` when it already has.
pub(super) fn young(metadata: &fs::Metadata, window: Duration) -> Option<SystemTime> {
    let age = age(metadata).filter(|age| *age < window)?;
    Some(SystemTime::now() + (window - age))
}

/// What differs between two looks at one path: identity, size or modification time.
pub(super) fn changed(before: &fs::Metadata, after: &fs::Metadata) -> Option<String> {
    if file_id(before) != file_id(after) {
        return Some("replaced by another file".to_owned());
    }
    if before.len() != after.len() {
        return Some(format!("size {} then {}", before.len(), after.len()));
    }
    if before.modified().ok() != after.modified().ok() {
        return Some("modified".to_owned());
    }
    None
}

/// How a FIFO, socket or device is named in the refusal; `None` for anything else.
#[cfg(unix)]
pub(super) fn special_kind(kind: &fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        Some("a FIFO, which is not opened because reading it could block forever")
    } else if kind.is_socket() {
        Some("a socket, which is not opened because reading it could block forever")
    } else if kind.is_char_device() || kind.is_block_device() {
        Some("a device, which is not opened because reading it could block forever")
    } else {
        None
    }
}

#[cfg(not(unix))]
pub(super) fn special_kind(_kind: &fs::FileType) -> Option<&'static str> {
    None
}
