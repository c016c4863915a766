//! Musical figures of `pianola generate`'s music against the model's
//! held-out songs: 10 seeds (`--seeds N`) × 500 events at the default
//! settings, each primed with a random window of a held-out song
//! (`--primers corpus`: of any song of the corpus).
//!
//! The primers come from the songs the music is held against because a
//! continuation keeps its primer's pace, register and texture: primed
//! from the whole corpus, the figures measured the training songs' habits
//! against the held-out songs' (these have sixteenths in 24 % of their
//! onset gaps, the corpus in 12 %).
//!
//! The figures are [`pianola_core::figures`]'s: rhythm, voicing, key and
//! repetition.
//!
//! `cargo run --release -p pianola-host --example musical_sanity -- [--model FILE] [--seeds 10] [--first-seed 0] [--corpus DIR] [--primers held-out|corpus] [--rhythm grid] [--temperature T] [--top-k K] [--top-p P] [--key-guide G] [--rhythm-temperature T] [--repetition-penalty P] [--memory M] [--texture T] [--takes N]`
//!
//! Each piece is the take `pianola generate` keeps ([`best_take`], `--takes`
//! as its own, default [`DEFAULT_TAKES`]).

use std::collections::HashSet;
use std::sync::Arc;

use pianola_core::corpus::{Corpus, Song, default_corpus_dir};
use pianola_core::figures::{self, Figures, GRAM, as_one_stream, pool};
use pianola_core::sample::Rhythm;
use pianola_core::takes::{DEFAULT_TAKES, best_take};
use pianola_core::token::Token;
use pianola_core::{Network, Predictor, Sampler, SamplerSettings};
use pianola_host::generate::{load_model, random_primer};

const EVENTS: usize = 500;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut model_path, mut dir, mut rhythm) =
        (None, default_corpus_dir().expect("a corpus"), Rhythm::Model);
    let (mut seeds, mut first_seed) = (10u64, 0u64);
    let mut primers_from_corpus = false;
    let mut takes = DEFAULT_TAKES;
    let mut settings = SamplerSettings::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--model" => model_path = args.next(),
            "--seeds" => seeds = args.next().and_then(|n| n.parse().ok()).expect("a number"),
            "--first-seed" => {
                first_seed = args.next().and_then(|n| n.parse().ok()).expect("a number")
            }
            "--corpus" => dir = args.next().expect("--corpus DIR").into(),
            "--primers" => {
                primers_from_corpus = match args.next().as_deref() {
                    Some("corpus") => true,
                    Some("held-out") => false,
                    other => panic!("--primers held-out|corpus, not {other:?}"),
                }
            }
            "--temperature" => {
                settings.temperature = args.next().and_then(|t| t.parse().ok()).expect("a number")
            }
            "--key-guide" => {
                settings.key_guide = args.next().and_then(|g| g.parse().ok()).expect("a number")
            }
            "--top-k" => {
                settings.top_k = args.next().and_then(|k| k.parse().ok()).expect("a number")
            }
            "--top-p" => {
                settings.top_p = args.next().and_then(|p| p.parse().ok()).expect("a number")
            }
            "--repetition-penalty" => {
                settings.repetition_penalty =
                    args.next().and_then(|t| t.parse().ok()).expect("a number")
            }
            "--takes" => takes = args.next().and_then(|n| n.parse().ok()).expect("a number"),
            "--memory" => {
                settings.memory = args.next().and_then(|m| m.parse().ok()).expect("a number")
            }
            "--texture" => {
                settings.texture = args.next().and_then(|t| t.parse().ok()).expect("a number")
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
    let model = load_model(model_path.as_deref().map(std::path::Path::new)).expect("a model");
    let corpus = Corpus::read_dir(&dir).expect("a corpus");
    let vocab = &model.vocab;
    let window = model.params.config.window;
    let mut corpus_grams = HashSet::new();
    for song in &corpus.songs {
        corpus_grams.extend(song.tokens.windows(GRAM).map(<[Token]>::to_vec));
    }

    // The held-out songs, each whole, and all of them together.
    let held_out = figures::held_out_songs(&corpus, &model, 0);
    let reference: Vec<Figures> = held_out
        .iter()
        .map(|s| figures::figures(&s.events, &HashSet::new()))
        .collect();
    let pooled = pool(&reference);
    println!("held-out songs ({}), against themselves:", held_out.len());
    println!("     | {}", figures::TABLE_HEADER);
    println!("songs | {}", pooled.row(&pooled));

    let primer_songs: Vec<&Song> = if primers_from_corpus {
        corpus.songs.iter().collect()
    } else {
        held_out.clone()
    };

    let network = Arc::new(Network::new(&model).unwrap());
    let mut predictor = Predictor::new(network);
    let mut pieces = Vec::new();
    let mut streams = Vec::new();
    println!("seed | {}", figures::TABLE_HEADER);
    for seed in first_seed..first_seed + seeds {
        let (_, primer) = random_primer(primer_songs.iter().copied(), vocab, window, seed).unwrap();
        let mut sampler = Sampler::new(settings, vocab, seed);
        let events = best_take(&mut predictor, &mut sampler, &primer, EVENTS, rhythm, takes);
        let f = figures::figures(&events, &corpus_grams);
        println!("{:>4} | {}", seed, f.row(&pooled));
        pieces.push(f);
        streams.push(figures::figures(&as_one_stream(&events), &corpus_grams));
    }
    println!(" all | {}", pool(&pieces).row(&pooled));
    // As one note output shows them (what the live measurement sees).
    let stream_reference = figures::one_stream_reference(&held_out);
    println!("one stream | {}", pool(&streams).row(&stream_reference));
}
