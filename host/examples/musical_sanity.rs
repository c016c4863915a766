//! Musical figures of `pianola generate`'s music against the model's
//! held-out songs: 10 seeds × 500 events at the default settings, each
//! primed with a random window of the corpus.
//!
//! - rhythm: Jensen–Shannon divergence (bits) of the inter-onset (`when`)
//!   and length (`hold`) histograms to the held-out songs', and the share of
//!   events that start together with the previous one;
//! - voicing: the share of chords, and of octave tokens, whose lowest key
//!   lies below middle C;
//! - key: the share of notes in each piece's best-fitting major or minor key
//!   (Krumhansl–Schmuckler), and the pitch-class entropy;
//! - repetition: the longest run of one token, the share of 8-token
//!   sequences found verbatim in the corpus, and the share of distinct
//!   8-grams in a piece.
//!
//! `cargo run --release -p pianola-host --example musical_sanity -- [--model FILE] [--corpus DIR] [--rhythm grid] [--temperature T] [--rhythm-temperature T]`

use std::collections::HashSet;
use std::sync::Arc;

use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::event::{Event, EventClasses, classes};
use pianola_core::key::{estimate, pitch_class_counts};
use pianola_core::sample::{Rhythm, continue_events};
use pianola_core::token::Token;
use pianola_core::weights::ModelFile;
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, default_model};
use pianola_host::generate::random_primer;

const EVENTS: usize = 500;
const SEEDS: u64 = 10;
const GRAM: usize = 8;

/// The figures of one piece (or of the held-out songs taken together).
#[derive(Default, Clone)]
struct Figures {
    when: Vec<f64>,
    hold: Vec<f64>,
    together: f64,
    chords_low: (usize, usize),
    octaves_low: (usize, usize),
    in_key: f64,
    entropy_bits: f64,
    longest_run: usize,
    copied: f64,
    distinct: f64,
}

fn histogram(values: impl Iterator<Item = u32>) -> Vec<f64> {
    let mut counts = vec![0.0; classes::TIME_CLASSES];
    for v in values {
        counts[classes::time_class(v)] += 1.0;
    }
    counts
}

fn normalised(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum::<f64>().max(1e-12);
    counts.iter().map(|c| c / total).collect()
}

/// Jensen–Shannon divergence in bits.
fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (p, q) = (normalised(p), normalised(q));
    let kl = |a: &[f64], m: &[f64]| -> f64 {
        a.iter()
            .zip(m)
            .filter(|(a, _)| **a > 0.0)
            .map(|(a, m)| a * (a / m).log2())
            .sum()
    };
    let m: Vec<f64> = p.iter().zip(&q).map(|(a, b)| (a + b) / 2.0).collect();
    (kl(&p, &m) + kl(&q, &m)) / 2.0
}

fn figures(events: &[Event], corpus_grams: &HashSet<Vec<Token>>) -> Figures {
    let tokens: Vec<Token> = events.iter().map(|e| e.what).collect();
    let rest = &events[1.min(events.len())..];
    let mut f = Figures {
        when: histogram(rest.iter().map(|e| e.when)),
        hold: histogram(events.iter().map(|e| e.hold)),
        together: rest.iter().filter(|e| e.when == 0).count() as f64 / rest.len().max(1) as f64,
        ..Figures::default()
    };
    for e in events {
        if let Token::Chord(set) = e.what {
            let low = usize::from(e.lowest < 60);
            if set.len() == 1 {
                f.octaves_low.0 += low;
                f.octaves_low.1 += 1;
            } else {
                f.chords_low.0 += low;
                f.chords_low.1 += 1;
            }
        }
    }
    let counts = pitch_class_counts(&tokens);
    let total: f32 = counts.iter().sum();
    if let Some(key) = estimate(&counts) {
        let scale = key.scale();
        let inside: f32 = (0..12u8)
            .filter(|&pc| scale.contains(pc))
            .map(|pc| counts[usize::from(pc)])
            .sum();
        f.in_key = f64::from(inside / total);
    }
    f.entropy_bits = counts
        .iter()
        .filter(|&&c| c > 0.0)
        .map(|&c| {
            let p = f64::from(c / total);
            -p * p.log2()
        })
        .sum();
    let mut run = 1;
    f.longest_run = 1;
    for pair in tokens.windows(2) {
        run = if pair[0] == pair[1] { run + 1 } else { 1 };
        f.longest_run = f.longest_run.max(run);
    }
    let grams: Vec<&[Token]> = tokens.windows(GRAM).collect();
    let n = grams.len().max(1) as f64;
    f.copied = grams
        .iter()
        .filter(|g| corpus_grams.contains(&g.to_vec()))
        .count() as f64
        / n;
    f.distinct = grams.iter().collect::<HashSet<_>>().len() as f64 / n;
    f
}

fn share((low, all): (usize, usize)) -> f64 {
    low as f64 / all.max(1) as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut model_path, mut dir, mut rhythm) = (None, default_corpus_dir(), Rhythm::Model);
    let mut settings = SamplerSettings::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model" => model_path = args.next(),
            "--corpus" => dir = args.next().expect("--corpus DIR").into(),
            "--temperature" => {
                settings.temperature = args.next().and_then(|t| t.parse().ok()).expect("a number")
            }
            "--rhythm-temperature" => {
                settings.rhythm_temperature =
                    args.next().and_then(|t| t.parse().ok()).expect("a number")
            }
            "--rhythm" if args.next().as_deref() == Some("grid") => {
                rhythm = Rhythm::Grid {
                    step: 6,
                    velocity: 80,
                }
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let model = match &model_path {
        Some(path) => ModelFile::load(std::path::Path::new(path)).expect("a weights file"),
        None => default_model::load().unwrap(),
    };
    let corpus = Corpus::read_dir(&dir).expect("a corpus");
    let vocab = &model.vocab;
    let window = model.params.config.window;
    let mut corpus_grams = HashSet::new();
    for song in &corpus.songs {
        corpus_grams.extend(song.tokens.windows(GRAM).map(<[Token]>::to_vec));
    }

    // The held-out songs, each whole, and all of them together.
    let held_out: Vec<&pianola_core::Song> = corpus
        .songs
        .iter()
        .filter(|s| model.info.corpus.validation_songs.contains(&s.name))
        .collect();
    let reference: Vec<Figures> = held_out
        .iter()
        .map(|s| figures(&s.events, &HashSet::new()))
        .collect();
    let pooled = pool(&reference);
    println!(
        "held-out songs ({}): together {:.1} %, chords below C4 {:.1} %, octaves below C4 {:.1} %, in key {:.3}, pitch-class entropy {:.2} bits, distinct 8-grams {:.2}",
        held_out.len(),
        100.0 * pooled.together,
        100.0 * share(pooled.chords_low),
        100.0 * share(pooled.octaves_low),
        pooled.in_key,
        pooled.entropy_bits,
        pooled.distinct,
    );

    let network = Arc::new(Network::new(&model).unwrap());
    let mut predictor = Predictor::new(network);
    let mut pieces = Vec::new();
    println!(
        "seed | JS when, JS hold (bits) | together | chords, octaves below C4 | in key | entropy | longest run | copied 8-grams | distinct 8-grams"
    );
    for seed in 0..SEEDS {
        let primer = random_primer(&corpus, vocab, window, seed).unwrap();
        let primer: Vec<EventClasses> = primer
            .iter()
            .filter_map(|e| EventClasses::of(e, vocab))
            .collect();
        let mut sampler = Sampler::new(settings, vocab, seed);
        let events = continue_events(&mut predictor, &mut sampler, &primer, EVENTS, rhythm);
        let f = figures(&events, &corpus_grams);
        print_row(&seed.to_string(), &f, &pooled);
        pieces.push(f);
    }
    print_row("all", &pool(&pieces), &pooled);
}

/// One line of the table: `f` against the held-out songs' figures.
fn print_row(label: &str, f: &Figures, reference: &Figures) {
    println!(
        "{label:>4} | {:.3} {:.3} | {:>5.1} % | {:>5.1} % {:>5.1} % | {:.3} | {:.2} | {:>2} | {:>4.1} % | {:.2}",
        jensen_shannon(&f.when, &reference.when),
        jensen_shannon(&f.hold, &reference.hold),
        100.0 * f.together,
        100.0 * share(f.chords_low),
        100.0 * share(f.octaves_low),
        f.in_key,
        f.entropy_bits,
        f.longest_run,
        100.0 * f.copied,
        f.distinct
    );
}

/// Histograms and counts summed, shares and entropies averaged, the
/// longest run the longest.
fn pool(pieces: &[Figures]) -> Figures {
    let n = pieces.len().max(1) as f64;
    let mut f = Figures {
        when: vec![0.0; classes::TIME_CLASSES],
        hold: vec![0.0; classes::TIME_CLASSES],
        ..Figures::default()
    };
    for p in pieces {
        for (a, b) in f.when.iter_mut().zip(&p.when) {
            *a += b;
        }
        for (a, b) in f.hold.iter_mut().zip(&p.hold) {
            *a += b;
        }
        f.together += p.together / n;
        f.chords_low.0 += p.chords_low.0;
        f.chords_low.1 += p.chords_low.1;
        f.octaves_low.0 += p.octaves_low.0;
        f.octaves_low.1 += p.octaves_low.1;
        f.in_key += p.in_key / n;
        f.entropy_bits += p.entropy_bits / n;
        f.longest_run = f.longest_run.max(p.longest_run);
        f.copied += p.copied / n;
        f.distinct += p.distinct / n;
    }
    f
}
