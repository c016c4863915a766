//! Musical sanity of `pianola generate` on the built-in model: for 10 seeds,
//! 500 notes each at the default settings and at temperature 0 (the seed's
//! argmax), the longest run of one repeated token, the entropy of the pitch
//! classes played, and the share of 8-token sequences found verbatim in the
//! corpus.
//!
//! `cargo run --release -p pianola-host --example musical_sanity [CORPUS]`

use std::collections::HashSet;
use std::sync::Arc;

use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::sample::continue_sequence;
use pianola_core::token::SEED_CHORD_OCTAVE;
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, default_model};
use pianola_host::generate::random_primer;

const NOTES: usize = 500;
const GRAM: usize = 8;

struct Figures {
    longest_run: usize,
    entropy_bits: f64,
    copied_share: f64,
}

fn figures(
    tokens: &[usize],
    vocab: &pianola_core::Vocab,
    corpus_grams: &HashSet<Vec<usize>>,
) -> Figures {
    let mut longest_run = 1;
    let mut run = 1;
    for pair in tokens.windows(2) {
        run = if pair[0] == pair[1] { run + 1 } else { 1 };
        longest_run = longest_run.max(run);
    }
    let mut counts = [0usize; 12];
    for &t in tokens {
        for pitch in vocab.token(t).unwrap().pitches(SEED_CHORD_OCTAVE).iter() {
            counts[usize::from(pitch % 12)] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    let entropy_bits = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total as f64;
            -p * p.log2()
        })
        .sum();
    let grams: Vec<&[usize]> = tokens.windows(GRAM).collect();
    let copied = grams
        .iter()
        .filter(|g| corpus_grams.contains(&g.to_vec()))
        .count();
    Figures {
        longest_run,
        entropy_bits,
        copied_share: copied as f64 / grams.len() as f64,
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(Into::into)
        .unwrap_or_else(default_corpus_dir);
    let corpus = Corpus::read_dir(&dir).expect("a corpus");
    let model = default_model::load().unwrap();
    let vocab = &model.vocab;
    let window = model.params.config.window;
    let mut corpus_grams = HashSet::new();
    for song in &corpus.songs {
        let indices: Vec<usize> = song
            .tokens
            .iter()
            .filter_map(|t| vocab.index_of(*t))
            .collect();
        corpus_grams.extend(indices.windows(GRAM).map(<[usize]>::to_vec));
    }
    // The metric's own check: a corpus song is copied from the corpus throughout.
    let song: Vec<usize> = corpus.songs[0]
        .tokens
        .iter()
        .filter_map(|t| vocab.index_of(*t))
        .collect();
    let check = figures(&song, vocab, &corpus_grams);
    println!(
        "check: {} against the corpus: {:.1} % copied 8-grams",
        corpus.songs[0].name,
        100.0 * check.copied_share
    );
    let network = Arc::new(Network::new(&model).unwrap());
    let mut predictor = Predictor::new(network);
    let argmax = SamplerSettings {
        temperature: 0.0,
        ..SamplerSettings::default()
    };
    println!(
        "seed | default: longest run, pitch-class entropy (bits), copied 8-grams | argmax: the same"
    );
    let mut sums = [0.0f64; 6];
    for seed in 0..10u64 {
        let primer = random_primer(&corpus, vocab, window, seed).unwrap();
        let mut row = Vec::new();
        for settings in [SamplerSettings::default(), argmax] {
            let mut sampler = Sampler::new(settings, vocab, seed);
            let tokens = continue_sequence(&mut predictor, &mut sampler, &primer, NOTES);
            let f = figures(&tokens, vocab, &corpus_grams);
            row.extend([f.longest_run as f64, f.entropy_bits, f.copied_share]);
        }
        for (s, v) in sums.iter_mut().zip(&row) {
            *s += v;
        }
        println!(
            "{seed:>4} | {:>3} {:.2} {:>5.1} % | {:>3} {:.2} {:>5.1} %",
            row[0],
            row[1],
            100.0 * row[2],
            row[3],
            row[4],
            100.0 * row[5]
        );
    }
    println!(
        "mean | {:>5.1} {:.2} {:>5.1} % | {:>5.1} {:.2} {:>5.1} %",
        sums[0] / 10.0,
        sums[1] / 10.0,
        10.0 * sums[2],
        sums[3] / 10.0,
        sums[4] / 10.0,
        10.0 * sums[5]
    );
}
