//! Reading the reference corpus: the whole folder, from disk to tokens.
//!
//! Corpus: the reference corpus, found as the tests find it.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use pianola_core::Corpus;

fn corpus_dir() -> PathBuf {
    pianola_core::corpus::reference_corpus_dir()
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
