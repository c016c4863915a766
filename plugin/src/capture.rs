//! Capture: the last bars of the player's and Pianola's notes as a MIDI
//! file (two tracks, the host's tempo and time signature), named by date and
//! time, in a folder the user chooses.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use pianola_core::atomic_file;
use pianola_core::midi_file::{
    NoteMessage, NoteTrack, TICKS_PER_QUARTER, ticks_of_beats, write_tracks_in_meter,
};

use crate::activity::{NoteRecord, Position, Source};

/// Bars a capture holds unless the user says otherwise.
pub const DEFAULT_BARS: u32 = 8;

/// A note this little before a capture's start (half a tick) rounds to
/// its first tick: it belongs to the capture.
pub const START_SLACK_BEATS: f64 = 0.5 / TICKS_PER_QUARTER as f64;

/// Why a capture was not written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The folder cannot be made or written to.
    #[error("cannot write to {folder}: {source}")]
    NotWritable {
        /// The chosen folder.
        folder: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// Writing the file failed.
    #[error("could not write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// The beat a capture of `bars` bars starts at: the bars that end with the
/// bar `position` is in (which counts even if it has only begun).
pub fn start_beat(position: &Position, bars: u32) -> f64 {
    let bar = position.meter.quarters_per_bar();
    // The small slack keeps a position just past a bar line (host
    // rounding) from opening a new bar.
    let current = ((position.beat - 1e-6) / bar).floor() + 1.0;
    ((current - f64::from(bars.max(1))) * bar).max(0.0)
}

/// The player's track and Pianola's track of `notes` from `start` on,
/// ticks counted from `start`.
pub fn tracks(notes: &[NoteRecord], start: f64) -> [NoteTrack; 2] {
    let pick = |source: Source, name: &str| NoteTrack {
        name: Some(name.to_string()),
        program: None,
        notes: notes
            .iter()
            .filter(|n| n.source == source && n.beat >= start - START_SLACK_BEATS)
            .map(|n| NoteMessage {
                tick: ticks_of_beats(n.beat - start),
                channel: n.channel,
                key: n.key,
                velocity: n.velocity,
            })
            .collect(),
    };
    [
        pick(Source::Player, "Player"),
        pick(Source::Pianola, "Pianola"),
    ]
}

/// The file name for a capture made at `time`: `pianola-YYYY-MM-DD-HHMMSS.mid` (UTC).
pub fn file_name(time: SystemTime) -> String {
    let stamp = humantime::format_rfc3339_seconds(time).to_string();
    // 2025-06-01T12:34:56Z
    let (date, clock) = stamp.split_once('T').unwrap_or((&stamp, ""));
    let clock: String = clock.chars().filter(char::is_ascii_digit).collect();
    format!("pianola-{date}-{clock}.mid")
}

/// Writes the last `bars` bars of `notes` into `folder` (made if missing)
/// as a file named for `time`. Returns the file's path.
pub fn write(
    notes: &[NoteRecord],
    position: &Position,
    bars: u32,
    folder: &Path,
    time: SystemTime,
) -> Result<PathBuf, CaptureError> {
    let not_writable = |source| CaptureError::NotWritable {
        folder: folder.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(folder).map_err(not_writable)?;
    let path = folder.join(file_name(time));
    atomic_file::check_writable(&path).map_err(not_writable)?;
    let start = start_beat(position, bars);
    let bytes = write_tracks_in_meter(&tracks(notes, start), position.bpm, Some(position.meter));
    atomic_file::write(&path, &bytes).map_err(|source| CaptureError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The user's music folder (`XDG_MUSIC_DIR`, else `~/Music`) with
/// `Pianola/` under it; the temporary folder's `Pianola/` without a home.
pub fn default_folder() -> PathBuf {
    music_folder()
        .unwrap_or_else(std::env::temp_dir)
        .join("Pianola")
}

fn music_folder() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_MUSIC_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let home = PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?);
    // The desktop's own setting, as xdg-user-dirs writes it.
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".config"));
    if let Ok(text) = std::fs::read_to_string(config.join("user-dirs.dirs")) {
        for line in text.lines() {
            if let Some(value) = line.trim().strip_prefix("XDG_MUSIC_DIR=") {
                let value = value.trim_matches('"');
                let dir = match value.strip_prefix("$HOME") {
                    Some(rest) => home.join(rest.trim_start_matches('/')),
                    None => PathBuf::from(value),
                };
                return Some(dir);
            }
        }
    }
    Some(home.join("Music"))
}

/// Opens `folder` in the desktop's file manager.
pub fn show(folder: &Path) -> io::Result<()> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(folder)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pianola_core::midi_file::TimeSignature;

    fn at(beat: f64) -> Position {
        Position {
            beat,
            bpm: 120.0,
            meter: TimeSignature {
                numerator: 3,
                denominator: 4,
            },
            playing: true,
        }
    }

    #[test]
    fn a_capture_ends_with_the_current_bar() {
        assert_eq!(start_beat(&at(30.5), 2), 27.0);
        assert_eq!(start_beat(&at(30.0), 2), 24.0, "30 ends bar 10");
        assert_eq!(start_beat(&at(2.0), 8), 0.0);
    }

    #[test]
    fn names_sort_by_time() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_750_000_000);
        assert_eq!(file_name(time), "pianola-2025-06-15-150640.mid");
    }
}
