//! Writing a file so that it is either complete or absent.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The suffix of the temporary files [`write`] makes.
const TEMPORARY_SUFFIX: &str = ".partial";

/// The temporary file [`write`] uses for `path` in this process.
fn temporary_for(path: &Path) -> PathBuf {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}{TEMPORARY_SUFFIX}", std::process::id()));
    PathBuf::from(temp)
}

/// Whether [`write`] could write `path` now: makes its temporary file and
/// removes it again, leaving `path` as it was.
pub fn check_writable(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    let temp = temporary_for(path);
    fs::File::create(&temp)?;
    fs::remove_file(&temp)
}

/// Writes `bytes` to `path` through a temporary file beside it (named for
/// this process, so two processes writing the same path do not collide)
/// that is renamed into place: a failure never leaves a half-written `path`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = temporary_for(path);
    let result = fs::File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The temporary files of [`write`] in `dir` (left only by a process that
/// died while writing).
pub fn temporary_files_in(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.to_string_lossy().ends_with(TEMPORARY_SUFFIX) {
            found.push(path);
        }
    }
    Ok(found)
}
