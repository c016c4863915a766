//! Reading the reference corpus: the whole folder, from disk to tokens.
//!
//! Corpus: `$PIANOLA_CORPUS`, else `../shared/midi_songs` beside the workspace.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use pianola_core::Corpus;

fn corpus_dir() -> PathBuf {
    match std::env::var_os(pianola_core::corpus::CORPUS_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/midi_songs"),
    }
}

fn read_corpus(c: &mut Criterion) {
    let dir = corpus_dir();
    let corpus = Corpus::read_dir(&dir).expect("the reference corpus is readable");
    assert!(!corpus.songs.is_empty(), "no songs in {}", dir.display());
    c.bench_function("read_corpus", |b| {
        b.iter(|| Corpus::read_dir(black_box(&dir)).unwrap())
    });
}

criterion_group!(benches, read_corpus);
criterion_main!(benches);
