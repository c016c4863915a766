//! `pianola stats`: what a corpus folder holds, in the token language, and
//! the histograms of its events' `when`, `hold`, `velocity` and chord
//! register.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::event::{Event, GRID_PER_BEAT};
use pianola_core::token::Token;
use serde::Serialize;

/// Arguments of `pianola stats`.
#[derive(Args)]
pub struct StatsArgs {
    /// Folder of `.mid` files [default: $PIANOLA_CORPUS, else midi_songs/ if
    /// it holds files, else ../shared/midi_songs]
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    corpus: String,
    songs_read: usize,
    songs_skipped: usize,
    total_tokens: usize,
    vocab_size: usize,
    histograms: Histograms,
    songs: Vec<SongReport>,
    skipped: Vec<SkippedReport>,
}

/// Counts of each value over every event of the corpus.
#[derive(Serialize)]
struct Histograms {
    /// Twelfths of a beat since the previous onset.
    when: BTreeMap<u32, usize>,
    /// Twelfths of a beat an event sounds.
    hold: BTreeMap<u32, usize>,
    /// MIDI velocity of an event's first note.
    velocity: BTreeMap<u8, usize>,
    /// MIDI octave (C4 = middle C is octave 4) of a chord's lowest key.
    chord_register: BTreeMap<i8, usize>,
}

impl Histograms {
    fn of<'a>(events: impl Iterator<Item = &'a Event>) -> Self {
        let mut histograms = Histograms {
            when: BTreeMap::new(),
            hold: BTreeMap::new(),
            velocity: BTreeMap::new(),
            chord_register: BTreeMap::new(),
        };
        for event in events {
            *histograms.when.entry(event.when).or_default() += 1;
            *histograms.hold.entry(event.hold).or_default() += 1;
            *histograms.velocity.entry(event.velocity).or_default() += 1;
            if matches!(event.what, Token::Chord(_)) {
                let octave = (i16::from(event.lowest) / 12 - 1) as i8;
                *histograms.chord_register.entry(octave).or_default() += 1;
            }
        }
        histograms
    }
}

#[derive(Serialize)]
struct SongReport {
    name: String,
    tokens: usize,
}

#[derive(Serialize)]
struct SkippedReport {
    name: String,
    reason: String,
}

/// Runs `pianola stats`.
pub fn run(args: &StatsArgs) -> anyhow::Result<()> {
    let dir = args.corpus.clone().map_or_else(default_corpus_dir, Ok)?;
    let corpus = Corpus::read_dir(&dir)
        .with_context(|| format!("reading the corpus folder {}", dir.display()))?;
    let report = Report {
        corpus: dir.display().to_string(),
        songs_read: corpus.songs.len(),
        songs_skipped: corpus.skipped.len(),
        total_tokens: corpus.total_tokens(),
        vocab_size: corpus.vocab().len(),
        histograms: Histograms::of(corpus.songs.iter().flat_map(|song| &song.events)),
        songs: corpus
            .songs
            .iter()
            .map(|song| SongReport {
                name: song.name.clone(),
                tokens: song.tokens.len(),
            })
            .collect(),
        skipped: corpus
            .skipped
            .iter()
            .map(|skipped| SkippedReport {
                name: skipped.name.clone(),
                reason: skipped.reason_text(),
            })
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

/// The 12 most common values of `histogram` with their shares, then the
/// share of all the others.
fn print_histogram<K: Ord>(
    title: &str,
    histogram: &BTreeMap<K, usize>,
    name: impl Fn(&K) -> String,
) {
    let total: usize = histogram.values().sum();
    let mut common: Vec<(&K, &usize)> = histogram.iter().collect();
    common.sort_by(|a, b| b.1.cmp(a.1));
    let share = |count: usize| 100.0 * count as f64 / total.max(1) as f64;
    let shown: Vec<String> = common
        .iter()
        .take(12)
        .map(|&(value, &count)| format!("{} {:.1}%", name(value), share(count)))
        .collect();
    let rest: usize = common.iter().skip(12).map(|&(_, &count)| count).sum();
    println!(
        "{title}: {}; {} other values {:.1}%",
        shown.join(", "),
        common.len().saturating_sub(12),
        share(rest)
    );
}

fn print_text(report: &Report) {
    println!("corpus:        {}", report.corpus);
    println!("songs read:    {}", report.songs_read);
    println!("songs skipped: {}", report.songs_skipped);
    println!("total tokens:  {}", report.total_tokens);
    println!("vocabulary:    {}", report.vocab_size);
    println!();
    let grid = |value: &u32| format!("{value}/{GRID_PER_BEAT}");
    print_histogram(
        "when (beats since the previous onset)",
        &report.histograms.when,
        grid,
    );
    print_histogram("hold (beats it sounds)", &report.histograms.hold, grid);
    print_histogram("velocity", &report.histograms.velocity, u8::to_string);
    print_histogram(
        "chord register (octave of the lowest key, middle C = 4)",
        &report.histograms.chord_register,
        i8::to_string,
    );
    println!();
    println!("{:>7}  song", "tokens");
    for song in &report.songs {
        println!("{:>7}  {}", song.tokens, song.name);
    }
    for skipped in &report.skipped {
        println!("skipped  {}: {}", skipped.name, skipped.reason);
    }
}
