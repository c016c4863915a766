//! Writing a file so that it is either complete or absent.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The suffix of the temporary files [`write`] makes.
const TEMPORARY_SUFFIX: &str = ".partial";

/// Writes `bytes` to `path` through a temporary file beside it (named for
/// this process, so two processes writing the same path do not collide)
/// that is renamed into place: a failure never leaves a half-written `path`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}{TEMPORARY_SUFFIX}", std::process::id()));
    let temp = PathBuf::from(temp);
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
