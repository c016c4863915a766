//! Writing a file so that it is either complete or absent.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file beside it (named for
/// this process, so two processes writing the same path do not collide)
/// that is renamed into place: a failure never leaves a half-written `path`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".{}.partial", std::process::id()));
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
