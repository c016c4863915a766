//! `pianola generate`: write a whole piece into a MIDI file, as the seed's
//! `predict.py` did, with sampling instead of its argmax loops.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use pianola_core::corpus::{Corpus, default_corpus_dir, read_file};
use pianola_core::midi_file::{MidiWriteSettings, write_tokens};
use pianola_core::sample::{continue_sequence, parse_scale};
use pianola_core::weights::ModelFile;
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, Token, Vocab, atomic_file};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{piano_roll, render};

/// Arguments of `pianola generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// A weights file [default: the model built into pianola]
    #[arg(long)]
    model: Option<PathBuf>,
    /// How many tokens to write.
    #[arg(long, default_value_t = 500)]
    notes: usize,
    /// Prime with a random window of the corpus (the default when no other
    /// primer is given; without a corpus, a C major arpeggio).
    #[arg(long, conflicts_with_all = ["prime", "prime_tokens"])]
    prime_random: bool,
    /// Prime with the last tokens of a MIDI file.
    #[arg(long, conflicts_with = "prime_tokens")]
    prime: Option<PathBuf>,
    /// Prime with tokens, e.g. "C5 E5 4.9". A token the model does not know
    /// is refused, with the list of unknown tokens.
    #[arg(long)]
    prime_tokens: Option<String>,
    /// Corpus for --prime-random [default: as `stats`]
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Sampling temperature; 0 is the seed's argmax.
    #[arg(long, default_value_t = SamplerSettings::default().temperature)]
    temperature: f32,
    /// Sample from the K most likely tokens only (0: all).
    #[arg(long, default_value_t = SamplerSettings::default().top_k)]
    top_k: usize,
    /// Sample from the most likely tokens holding this much probability.
    #[arg(long, default_value_t = SamplerSettings::default().top_p)]
    top_p: f32,
    /// Penalty on tokens repeated in the last 8 steps (0: off; always off at
    /// temperature 0).
    #[arg(long, default_value_t = SamplerSettings::default().repetition_penalty)]
    repetition_penalty: f32,
    /// Keep to a scale, e.g. "C major", "A minor", "D dorian".
    #[arg(long)]
    key: Option<String>,
    /// Seed of the random choices (the same seed writes the same file).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Beats from one token to the next.
    #[arg(long, default_value_t = 0.5)]
    step: f64,
    /// Tempo.
    #[arg(long, default_value_t = pianola_core::tempo::DEFAULT_BPM)]
    bpm: f64,
    /// Note velocity (1..127).
    #[arg(long, default_value_t = 80)]
    velocity: u8,
    /// The MIDI file to write.
    #[arg(long, default_value = "pianola.mid")]
    out: PathBuf,
    /// Also render the piece to this WAV file.
    #[arg(long)]
    wav: Option<PathBuf>,
    /// SoundFont for --wav [default: the first found in /usr/share/sounds/sf2, /usr/share/soundfonts]
    #[arg(long)]
    soundfont: Option<PathBuf>,
    /// Also draw a piano roll (primer and continuation) to this PNG file.
    #[arg(long)]
    png: Option<PathBuf>,
}

/// Loads `--model`, or the model built into the binary.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<ModelFile> {
    match path {
        Some(path) => ModelFile::load(path).with_context(|| format!("loading {}", path.display())),
        None => pianola_core::default_model::load().context("loading the built-in model"),
    }
}

/// Runs `pianola generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    if args.notes == 0 {
        bail!("--notes must be at least 1");
    }
    if !(1..=127).contains(&args.velocity) {
        bail!("--velocity must be within 1..127");
    }
    if !(args.step >= 1.0 / 8.0 && args.step <= 16.0) {
        bail!("--step must be within 1/8 and 16 beats");
    }
    pianola_core::tempo::checked_bpm(args.bpm).context("--bpm")?;
    if !(args.temperature >= 0.0 && args.temperature.is_finite()) {
        bail!("--temperature must be 0 or more");
    }
    if !(args.top_p > 0.0 && args.top_p <= 1.0) {
        bail!("--top-p must be within (0, 1]");
    }
    let scale = args.key.as_deref().map(parse_scale).transpose()?;
    if args.wav.is_some() {
        // Refuse a missing or broken SoundFont before writing anything.
        render::load_soundfont(args.soundfont.as_deref())?;
    }
    let model = load_model(args.model.as_deref())?;
    let vocab = model.vocab.clone();
    let window = model.params.config.window;
    let primer = primer(args, &vocab, window)?;

    let network = Arc::new(Network::new(&model)?);
    let mut predictor = Predictor::new(network);
    let settings = SamplerSettings {
        temperature: args.temperature,
        top_k: args.top_k,
        top_p: args.top_p,
        repetition_penalty: args.repetition_penalty,
        scale,
        ..SamplerSettings::default()
    };
    let mut sampler = Sampler::new(settings, &vocab, args.seed);
    let generated = continue_sequence(&mut predictor, &mut sampler, &primer, args.notes);
    let tokens: Vec<Token> = generated.iter().filter_map(|&i| vocab.token(i)).collect();

    let settings = MidiWriteSettings {
        step_beats: args.step,
        bpm: args.bpm,
        velocity: args.velocity,
        ..MidiWriteSettings::default()
    };
    let bytes = write_tokens(&tokens, &settings);
    atomic_file::write(&args.out, &bytes)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote {} tokens to {}", tokens.len(), args.out.display());

    if let Some(png) = &args.png {
        let primer_tokens: Vec<Token> = primer.iter().filter_map(|&i| vocab.token(i)).collect();
        piano_roll::draw(&primer_tokens, &tokens, png)?;
        println!("drew the piano roll to {}", png.display());
    }
    if let Some(wav) = &args.wav {
        render::render_file(
            &args.out,
            wav,
            args.soundfont.as_deref(),
            render::DEFAULT_SAMPLE_RATE,
        )?;
    }
    Ok(())
}

/// The primer when no corpus is at hand.
const FALLBACK_PRIMER: &str = "C4 E4 G4 C5 E5 G5 C5 G4 E4 0.4.7";

/// The primer as vocabulary indices (at most one window).
fn primer(args: &GenerateArgs, vocab: &Vocab, window: usize) -> anyhow::Result<Vec<usize>> {
    let tokens: Vec<Token> = if let Some(text) = &args.prime_tokens {
        let mut tokens = Vec::new();
        for word in text.split_whitespace() {
            tokens.push(
                word.parse::<Token>()
                    .with_context(|| format!("--prime-tokens: `{word}`"))?,
            );
        }
        tokens
    } else if let Some(path) = &args.prime {
        read_file(path).with_context(|| format!("reading the primer {}", path.display()))?
    } else if args.prime_random {
        return random_window(args, vocab, window);
    } else {
        match random_window(args, vocab, window) {
            Ok(primer) => return Ok(primer),
            Err(error) => {
                eprintln!("{error:#}; priming with a C major arpeggio instead");
                FALLBACK_PRIMER
                    .split_whitespace()
                    .filter_map(|t| t.parse().ok())
                    .collect()
            }
        }
    };
    if tokens.is_empty() {
        bail!("the primer holds no notes");
    }
    let unknown: Vec<String> = tokens
        .iter()
        .filter(|t| vocab.index_of(**t).is_none())
        .map(Token::to_string)
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the model does not know these primer tokens: {} (its vocabulary has {} tokens; `pianola info --json` lists them)",
            unknown.join(" "),
            vocab.len()
        );
    }
    let start = tokens.len().saturating_sub(window);
    Ok(tokens[start..]
        .iter()
        .filter_map(|t| vocab.index_of(*t))
        .collect())
}

/// A random window of the corpus, chosen by the seed, as the seed's
/// `predict.py` did.
fn random_window(args: &GenerateArgs, vocab: &Vocab, window: usize) -> anyhow::Result<Vec<usize>> {
    let dir = args.corpus.clone().unwrap_or_else(default_corpus_dir);
    let corpus = Corpus::read_dir(&dir).with_context(|| {
        format!(
            "reading the corpus {} for a random primer (or give --prime FILE.mid or --prime-tokens)",
            dir.display()
        )
    })?;
    random_primer(&corpus, vocab, window, args.seed).with_context(|| {
        format!(
            "{} holds no songs to prime from: give --prime FILE.mid or --prime-tokens",
            dir.display()
        )
    })
}

/// Up to `window` consecutive tokens of a song of `corpus` (as indices of
/// `vocab`), the song and the start chosen by `seed`; `None` without songs.
pub fn random_primer(
    corpus: &Corpus,
    vocab: &Vocab,
    window: usize,
    seed: u64,
) -> Option<Vec<usize>> {
    let songs: Vec<Vec<usize>> = corpus
        .songs
        .iter()
        .map(|s| {
            s.tokens
                .iter()
                .filter_map(|t| vocab.index_of(*t))
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    if songs.is_empty() {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let song = &songs[rng.random_range(0..songs.len())];
    let start = rng.random_range(0..=song.len().saturating_sub(window));
    Some(song[start..(start + window).min(song.len())].to_vec())
}
