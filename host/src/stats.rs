//! `pianola stats`: what a corpus folder holds, in the token language.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pianola_core::corpus::{Corpus, default_corpus_dir};
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
    songs: Vec<SongReport>,
    skipped: Vec<SkippedReport>,
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
    let dir = args.corpus.clone().unwrap_or_else(default_corpus_dir);
    let corpus = Corpus::read_dir(&dir)
        .with_context(|| format!("reading the corpus folder {}", dir.display()))?;
    let report = Report {
        corpus: dir.display().to_string(),
        songs_read: corpus.songs.len(),
        songs_skipped: corpus.skipped.len(),
        total_tokens: corpus.total_tokens(),
        vocab_size: corpus.vocab().len(),
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

fn print_text(report: &Report) {
    println!("corpus:        {}", report.corpus);
    println!("songs read:    {}", report.songs_read);
    println!("songs skipped: {}", report.songs_skipped);
    println!("total tokens:  {}", report.total_tokens);
    println!("vocabulary:    {}", report.vocab_size);
    println!();
    println!("{:>7}  song", "tokens");
    for song in &report.songs {
        println!("{:>7}  {}", song.tokens, song.name);
    }
    for skipped in &report.skipped {
        println!("skipped  {}: {}", skipped.name, skipped.reason);
    }
}
