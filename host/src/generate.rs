//! `pianola generate`: write a whole piece into a MIDI file, as the seed's
//! `predict.py` did, with sampling instead of its argmax loops.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use clap::ValueEnum;
use pianola_core::corpus::{Corpus, Song, default_corpus_dir, read_events};
use pianola_core::event::{Event, GRID_PER_BEAT};
use pianola_core::key::{KeyMode, parse_scale};
use pianola_core::midi_file::write_events;
use pianola_core::nearest::map_to_known;
use pianola_core::sample::Rhythm;
use pianola_core::takes::{DEFAULT_TAKES, best_take};
use pianola_core::weights::ModelFile;
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, Vocab, atomic_file};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{piano_roll, primers, render};

/// Arguments of `pianola generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// A weights file, or `builtin` [default: the model built into
    /// pianola]
    #[arg(long, value_name = "FILE|builtin")]
    model: Option<PathBuf>,
    /// How many events (notes or chords) to write.
    #[arg(long, default_value_t = 500)]
    notes: usize,
    /// Where timing, lengths, velocities and chord voicing come from: the
    /// model's heads, or one event per --step at --velocity (the seed's way).
    #[arg(long, value_enum, default_value = "model")]
    rhythm: RhythmArg,
    /// Prime with a random window of the corpus (the default when no other
    /// primer is given; without a corpus, a built-in opening the seed
    /// chooses).
    #[arg(long, conflicts_with_all = ["prime", "prime_tokens", "prime_builtin"])]
    prime_random: bool,
    /// Prime with a built-in opening: waltz (G major, 3/4), nocturne (E
    /// minor), march (C major), blues (F, swung), chorale (D major), gigue
    /// (A minor, 6/8).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["prime", "prime_tokens"])]
    prime_builtin: Option<String>,
    /// Prime with the last tokens of a MIDI file.
    #[arg(long, conflicts_with = "prime_tokens")]
    prime: Option<PathBuf>,
    /// Prime with events, e.g. "C5 E5@1/4~1 0.4.7_3@0:96": a token, then
    /// optionally `_OCTAVE` (a chord's lowest octave), `@WHEN` (beats since
    /// the previous onset, default --step), `~HOLD` (beats it sounds) and
    /// `:VELOCITY`. A token the model does not know plays as the nearest
    /// one it knows.
    #[arg(long)]
    prime_tokens: Option<String>,
    /// Corpus for --prime-random [default: as `stats`]
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Sampling temperature of the notes; 0 is the seed's argmax.
    #[arg(long, default_value_t = SamplerSettings::default().temperature)]
    temperature: f32,
    /// Sampling temperature of the timing, lengths, velocities and voicing
    /// (no top-k cut; a top-p of their own: 0.9 for the timing and lengths,
    /// 0.98 for the velocities and voicing)
    /// [default: 1, or 0 with --temperature 0].
    #[arg(long)]
    rhythm_temperature: Option<f32>,
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
    /// Lower the score of tokens outside the key of the last 100 events by
    /// this much (0: off; a soft pull, where --key forbids).
    #[arg(long, default_value_t = SamplerSettings::default().key_guide)]
    key_guide: f32,
    /// Keep to a scale, e.g. "C major", "A minor", "D dorian".
    #[arg(long)]
    key: Option<String>,
    /// How much the session memory leads (0..=1; 0: the network alone):
    /// the primer and the piece so far are the session, and phrases heard
    /// in it come back.
    #[arg(long, default_value_t = SamplerSettings::default().memory, value_parser = crate::memory_amount)]
    memory: f32,
    /// How far it follows the texture of the primer and of the piece so
    /// far, as the primer's player (0..=1; 0: the model's own).
    #[arg(long, default_value_t = SamplerSettings::default().texture, value_parser = crate::texture_amount)]
    texture: f32,
    /// Play the continuation this many times and keep the take most in the
    /// primer's character: its span of keys, mean pitch, notes sounding at
    /// once and struck together, pitch classes and key (1: the first take).
    #[arg(long, default_value_t = DEFAULT_TAKES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    takes: usize,
    /// Seed of the random choices (the same seed writes the same file).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Beats from one event to the next with --rhythm grid, and of primer
    /// tokens typed without a time (a multiple of 1/12 beat).
    #[arg(long, default_value_t = 0.5)]
    step: f64,
    /// Tempo.
    #[arg(long, default_value_t = pianola_core::tempo::DEFAULT_BPM)]
    bpm: f64,
    /// Note velocity with --rhythm grid (1..127).
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
    #[command(flatten)]
    level: render::LevelArgs,
}

/// Loads `--model`: the model built into the binary when it is not given
/// or is `builtin` (the name `train --from` takes too).
pub fn load_model(path: Option<&Path>) -> anyhow::Result<ModelFile> {
    match path.filter(|path| !is_builtin(path)) {
        Some(path) => ModelFile::load(path).with_context(|| format!("loading {}", path.display())),
        None => pianola_core::default_model::load().context("loading the built-in model"),
    }
}

/// Whether `path` names the built-in model (`builtin` or `built-in`)
/// rather than a file.
pub fn is_builtin(path: &Path) -> bool {
    path == Path::new("builtin") || path == Path::new("built-in")
}

/// Where `pianola generate` takes an event's timing from.
#[derive(Clone, Copy, ValueEnum)]
pub enum RhythmArg {
    /// The model's predicted timing, lengths, velocities and voicing.
    Model,
    /// One event per --step at --velocity, chords in octave 4.
    Grid,
}

/// Runs `pianola generate`.
pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    if args.notes == 0 {
        bail!("--notes must be at least 1");
    }
    if !(1..=127).contains(&args.velocity) {
        bail!("--velocity must be within 1..127");
    }
    let step = step_twelfths(args.step)?;
    pianola_core::tempo::checked_bpm(args.bpm).context("--bpm")?;
    for (name, value) in [
        ("--temperature", Some(args.temperature)),
        ("--rhythm-temperature", args.rhythm_temperature),
    ] {
        if value.is_some_and(|t| !(t >= 0.0 && t.is_finite())) {
            bail!("{name} must be 0 or more");
        }
    }
    if !(args.top_p > 0.0 && args.top_p <= 1.0) {
        bail!("--top-p must be within (0, 1]");
    }
    let key = match args.key.as_deref().map(parse_scale).transpose()? {
        Some(scale) => KeyMode::Scale(scale),
        None => KeyMode::Free,
    };
    let level = args.level.level()?;
    if args.wav.is_some() {
        // Refuse a missing or broken SoundFont before writing anything.
        render::load_soundfont(args.soundfont.as_deref())?;
    }
    let model = load_model(args.model.as_deref())?;
    let vocab = model.vocab.clone();
    let window = model.params.config.window;
    let (primer, primer_name) = primer(args, &vocab, window, step)?;

    let network = Arc::new(Network::new(&model)?);
    let mut predictor = Predictor::new(network);
    let settings = SamplerSettings {
        temperature: args.temperature,
        rhythm_temperature: args
            .rhythm_temperature
            .unwrap_or(if args.temperature == 0.0 { 0.0 } else { 1.0 }),
        top_k: args.top_k,
        top_p: args.top_p,
        repetition_penalty: args.repetition_penalty,
        key_guide: args.key_guide,
        key,
        memory: args.memory,
        texture: args.texture,
        ..SamplerSettings::default()
    };
    let rhythm = match args.rhythm {
        RhythmArg::Model => Rhythm::Model,
        RhythmArg::Grid => Rhythm::Grid {
            step,
            velocity: args.velocity,
        },
    };
    let mut sampler = Sampler::new(settings, &vocab, args.seed);
    let events = best_take(
        &mut predictor,
        &mut sampler,
        &primer,
        args.notes,
        rhythm,
        args.takes,
    );

    let bytes = write_events(&events, args.bpm);
    atomic_file::write(&args.out, &bytes)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote {} events to {}", events.len(), args.out.display());

    if let Some(png) = &args.png {
        let model_name = args
            .model
            .as_deref()
            .and_then(Path::file_name)
            .map_or("the built-in model".into(), |n| n.to_string_lossy());
        let title = format!(
            "{model_name}, seed {}, temperature {}: {primer_name} (grey), then Pianola (blue)",
            args.seed, args.temperature
        );
        piano_roll::draw(&primer, &events, &title, png)?;
        println!("drew the piano roll to {}", png.display());
    }
    if let Some(wav) = &args.wav {
        render::render_file(
            &args.out,
            wav,
            args.soundfont.as_deref(),
            render::DEFAULT_SAMPLE_RATE,
            level,
        )?;
    }
    Ok(())
}

/// `--step` in twelfths of a beat; refused off the grid or out of range.
fn step_twelfths(beats: f64) -> anyhow::Result<u32> {
    let twelfths = beats * f64::from(GRID_PER_BEAT);
    if !(1.0..=16.0 * f64::from(GRID_PER_BEAT)).contains(&twelfths)
        || (twelfths - twelfths.round()).abs() > 1e-6
    {
        bail!("--step must be a multiple of 1/12 beat within 1/12 and 16 beats");
    }
    Ok(twelfths.round() as u32)
}

/// The primer's events (at most one window) and what they are.
fn primer(
    args: &GenerateArgs,
    vocab: &Vocab,
    window: usize,
    step: u32,
) -> anyhow::Result<(Vec<Event>, String)> {
    let (events, name): (Vec<Event>, String) = if let Some(text) = &args.prime_tokens {
        let events = text
            .split_whitespace()
            .map(|word| {
                Event::parse_with_step(word, step).with_context(|| "--prime-tokens".to_string())
            })
            .collect::<anyhow::Result<_>>()?;
        (events, "--prime-tokens".into())
    } else if let Some(path) = &args.prime {
        let events =
            read_events(path).with_context(|| format!("reading the primer {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        (events, name)
    } else if let Some(name) = &args.prime_builtin {
        let primer = primers::by_name(name).with_context(|| {
            format!(
                "--prime-builtin {name}: there is no such opening (there are {})",
                primers::list()
            )
        })?;
        (primer.events()?, primer.title.to_string())
    } else if args.prime_random {
        return random_window(args, vocab, window);
    } else {
        match random_window(args, vocab, window) {
            Ok(primer) => return Ok(primer),
            Err(error) => {
                let primer = primers::for_seed(args.seed);
                eprintln!(
                    "{error:#}.\nPriming with {} (built-in opening \"{}\"; --prime-builtin NAME \
                     picks another).",
                    primer.title, primer.name
                );
                (primer.events()?, primer.title.to_string())
            }
        }
    };
    if events.is_empty() {
        bail!("the primer holds no notes");
    }
    let start = events.len().saturating_sub(window);
    let (events, mapped) = map_to_known(vocab, &events[start..]);
    if mapped > 0 {
        eprintln!(
            "the primer's last {} events hold {mapped} tokens the model does not know: each \
             plays as the nearest one it knows",
            events.len()
        );
    }
    Ok((events, name))
}

/// A random window of the corpus, chosen by the seed, as the seed's
/// `predict.py` did.
fn random_window(
    args: &GenerateArgs,
    vocab: &Vocab,
    window: usize,
) -> anyhow::Result<(Vec<Event>, String)> {
    let dir = args.corpus.clone().map_or_else(default_corpus_dir, Ok)?;
    let corpus = Corpus::read_dir(&dir).with_context(|| {
        format!(
            "reading the corpus {} for a random primer (or give --prime FILE.mid or --prime-tokens)",
            dir.display()
        )
    })?;
    let (song, events) =
        random_primer(&corpus.songs, vocab, window, args.seed).with_context(|| {
            format!(
                "{} holds no songs to prime from: give --prime FILE.mid or --prime-tokens",
                dir.display()
            )
        })?;
    Ok((events, format!("a window of {song}")))
}

/// Up to `window` consecutive events of `songs` whose tokens `vocab`
/// knows, chosen by `seed` among all such windows alike (as the seed
/// network's script chose its start anywhere in the whole corpus: a long
/// song primes more often than a short one), and the song's name; `None`
/// without songs.
pub fn random_primer<'a>(
    songs: impl IntoIterator<Item = &'a Song>,
    vocab: &Vocab,
    window: usize,
    seed: u64,
) -> Option<(String, Vec<Event>)> {
    let songs: Vec<(&str, Vec<Event>)> = songs
        .into_iter()
        .map(|s| {
            let known = s
                .events
                .iter()
                .filter(|e| vocab.index_of(e.what).is_some())
                .copied()
                .collect::<Vec<_>>();
            (s.name.as_str(), known)
        })
        .filter(|(_, s)| !s.is_empty())
        .collect();
    let starts = |song: &Vec<Event>| song.len().saturating_sub(window) + 1;
    let total: usize = songs.iter().map(|(_, song)| starts(song)).sum();
    if total == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut start = rng.random_range(0..total);
    for (name, song) in &songs {
        if start < starts(song) {
            let events = song[start..(start + window).min(song.len())].to_vec();
            return Some((name.to_string(), events));
        }
        start -= starts(song);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn song(name: &str, notes: &[&str], events: usize) -> Song {
        let events: Vec<Event> = (0..events)
            .map(|i| notes[i % notes.len()].parse().unwrap())
            .collect();
        Song {
            name: name.into(),
            tokens: events.iter().map(|e| e.what).collect(),
            events,
        }
    }

    #[test]
    fn a_random_primer_is_any_window_alike_so_long_songs_prime_more_often() {
        // 901 windows of 100 events in the long song, 2 in the short one:
        // drawn song by song, half the primers would be the short song's.
        let long = song("long", &["C4", "E4", "G4"], 1_000);
        let short = song("short", &["D4", "F4"], 101);
        let vocab = Vocab::from_tokens(long.tokens.iter().chain(&short.tokens).copied());
        let d4: Event = "D4".parse().unwrap();
        let f4: Event = "F4".parse().unwrap();
        let mut from_short = 0;
        for seed in 0..300 {
            let (_, primer) = random_primer([&long, &short], &vocab, 100, seed).unwrap();
            assert_eq!(primer.len(), 100);
            from_short += usize::from(primer[0].what == d4.what || primer[0].what == f4.what);
        }
        assert!(
            from_short <= 5,
            "{from_short} of 300 primers from the short song"
        );
    }
}
