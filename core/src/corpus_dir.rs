//! Where the corpus is when no folder is given: one search, for the
//! commands and the tests alike.
//!
//! In order: the folder named by `$PIANOLA_CORPUS` (set, it is the only
//! place looked at), `midi_songs/` if it holds MIDI files (the user's own
//! folder, or the reference corpus `scripts/setup` fetched there), then
//! `../shared/midi_songs` (the team's reference corpus beside a checkout).

use std::fs;
use std::path::{Path, PathBuf};

use crate::corpus::is_midi_path;

/// The environment variable naming the default corpus folder.
pub const CORPUS_ENV: &str = "PIANOLA_CORPUS";

/// No corpus where one was looked for. Its message is one line that says
/// how to get one.
#[derive(Debug, thiserror::Error)]
pub enum CorpusNotFound {
    /// `$PIANOLA_CORPUS` names a folder without MIDI files.
    #[error(
        "{CORPUS_ENV}={} holds no MIDI files: set {CORPUS_ENV} to the folder of the 92 reference \
         songs, or unset it and run scripts/setup to fetch them into midi_songs/",
        .0.display()
    )]
    EnvironmentFolder(PathBuf),
    /// None of the default places holds MIDI files.
    #[error(
        "no corpus found (looked in {}): run scripts/setup to fetch the 92 reference songs into \
         midi_songs/, or set {CORPUS_ENV} to their folder",
        looked_in(.0)
    )]
    Nowhere(Vec<PathBuf>),
}

fn looked_in(places: &[PathBuf]) -> String {
    places
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `dir` holds at least one MIDI file.
fn holds_midi(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|entry| is_midi_path(&entry.path()))
    })
}

/// The corpus folder the search finds from `base` (see the module
/// documentation).
pub fn find_corpus(base: &Path) -> Result<PathBuf, CorpusNotFound> {
    if let Some(dir) = std::env::var_os(CORPUS_ENV).filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        return if holds_midi(&dir) {
            Ok(dir)
        } else {
            Err(CorpusNotFound::EnvironmentFolder(dir))
        };
    }
    let places = [base.join("midi_songs"), base.join("../shared/midi_songs")];
    match places.iter().find(|dir| holds_midi(dir)) {
        Some(dir) => Ok(dir.clone()),
        None => Err(CorpusNotFound::Nowhere(places.to_vec())),
    }
}

/// The corpus folder a command uses when none is given: the search from
/// the current folder (paths relative to it).
pub fn default_corpus_dir() -> Result<PathBuf, CorpusNotFound> {
    find_corpus(Path::new(""))
}

/// The reference corpus, for tests and benchmarks: the search from the
/// workspace this crate was built in.
///
/// # Panics
///
/// When there is none, with [`CorpusNotFound`]'s one line: a test that
/// needs the corpus fails saying how to get it.
pub fn reference_corpus_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    find_corpus(&workspace).unwrap_or_else(|missing| panic!("{missing}"))
}

/// The folder's name as a weights file records it: its last component
/// (`midi_songs`), never the path on the machine that trained.
pub fn folder_name(dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .components()
        .rfind(|c| matches!(c, std::path::Component::Normal(_)))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A digest of the songs `names` in `dir`: SHA-256 over each file's name
/// and the SHA-256 of its bytes, in the order given, as hex. The same files
/// give the same digest in any folder on any machine.
pub fn songs_digest<'a>(
    dir: &Path,
    names: impl IntoIterator<Item = &'a str>,
) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut all = Sha256::new();
    for name in names {
        let bytes = fs::read(dir.join(name))?;
        all.update(name.as_bytes());
        all.update([0]);
        all.update(Sha256::digest(&bytes));
    }
    Ok(crate::weights::hex(&all.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_named_by_its_last_component() {
        assert_eq!(
            folder_name(Path::new("/work/shared/midi_songs")),
            "midi_songs"
        );
        assert_eq!(
            folder_name(Path::new("../shared/midi_songs/")),
            "midi_songs"
        );
        assert!(!folder_name(Path::new(".")).contains('/'));
    }

    #[test]
    fn the_digest_depends_on_the_files_not_the_folder() {
        let root = std::env::temp_dir().join(format!("pianola-digest-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        for dir in [&a, &b] {
            fs::create_dir_all(dir).unwrap();
            fs::write(dir.join("x.mid"), b"one").unwrap();
        }
        let digest = |dir: &Path| songs_digest(dir, ["x.mid"]).unwrap();
        assert_eq!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
        fs::write(b.join("x.mid"), b"two").unwrap();
        assert_ne!(digest(&a), digest(&b));
        fs::remove_dir_all(&root).unwrap();
    }
}
