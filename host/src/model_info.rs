//! `pianola info` and `pianola eval`: what a weights file is, and how well it
//! predicts the songs it was not trained on.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::model::Head;
use pianola_core::nearest::map_to_known;
use pianola_trainer::data::{Step, encode_song};
use pianola_trainer::device;
use pianola_trainer::session_eval::evaluate_params_with_memory;
use serde_json::json;

use crate::generate::load_model;

/// Arguments of `pianola info`.
#[derive(Args)]
pub struct InfoArgs {
    /// A weights file, or `builtin` [default: the model built into
    /// pianola]
    #[arg(long, value_name = "FILE|builtin")]
    model: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pianola eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// A weights file, or `builtin` [default: the model built into
    /// pianola]
    #[arg(long, value_name = "FILE|builtin")]
    model: Option<PathBuf>,
    /// Folder holding the model's held-out songs [default: as `stats`]
    #[arg(long, conflicts_with = "songs")]
    corpus: Option<PathBuf>,
    /// Score every readable MIDI file of this folder instead of the model's
    /// held-out songs.
    #[arg(long)]
    songs: Option<PathBuf>,
    /// Score the token after every window starting this many tokens apart.
    #[arg(long, default_value_t = 1)]
    stride: usize,
    /// Threads for the matrix products on the CPU [default:
    /// $RAYON_NUM_THREADS, else all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// The device that evaluates: cpu, or cuda[:N] in a build with
    /// `--features cuda`.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Mix the session memory in at this Memory (0..=1): each song is one
    /// session, scored left to right with a memory of its own earlier
    /// events only.
    #[arg(long, default_value_t = 0.0, value_parser = crate::memory_amount)]
    memory: f32,
    /// Score the model's validation part instead of its test part (what
    /// chooses a default; not a test figure).
    #[arg(long, conflicts_with = "songs")]
    validation: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `pianola info`.
pub fn info(args: &InfoArgs) -> anyhow::Result<()> {
    let file = load_model(args.model.as_deref())?;
    let config = &file.params.config;
    if args.json {
        let value = json!({
            "config": config,
            "parameters": config.parameter_count(),
            "vocab": file.vocab,
            "info": file.info,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let t = &file.info.training;
    let c = &file.info.corpus;
    println!(
        "network:      {:?}, embedding {}, LSTM {} × {}, dense {}",
        config.arch, config.embed, config.layers, config.hidden, config.dense
    );
    println!("parameters:   {}", config.parameter_count());
    println!("vocabulary:   {} tokens", config.vocab_size);
    println!("window:       {} tokens", config.window);
    if config.repeats {
        use pianola_core::repeats::{BINS, FEWEST, TENSOR};
        let scores = file.params.get(TENSOR);
        let row = |of: &[f32]| -> String {
            let bins: Vec<String> = FEWEST
                .iter()
                .zip(of)
                .map(|(times, score)| format!("{times}+ {score:+.2}"))
                .collect();
            bins.join(", ")
        };
        println!(
            "repeat prior: the notes' scores by times in the context: {}; by times right after \
             the last token: {}",
            row(&scores[..BINS]),
            row(&scores[BINS..])
        );
    }
    println!(
        "corpus:       {} ({} songs, {} tokens)",
        c.name, c.songs, c.tokens
    );
    println!(
        "split:        {} songs trained on; validation (chose the checkpoint): {}; test (chose \
         nothing): {}",
        c.songs - c.validation_songs.len() - c.test_songs.len(),
        c.validation_songs.join(", "),
        if c.test_songs.is_empty() {
            "none recorded".to_string()
        } else {
            c.test_songs.join(", ")
        }
    );
    println!(
        "training:     {} epochs, {} steps, {} lr {}, batch {}, dropout {}, {:.0} s",
        t.epochs, t.steps, t.optimizer, t.learning_rate, t.batch, t.dropout, t.wall_seconds
    );
    if let (Some(loss), Some(acc), Some(top5)) =
        (t.validation_loss, t.validation_accuracy, t.validation_top5)
    {
        let per = if t.validation_heads.is_empty() {
            "nats/token"
        } else {
            "nats/event (all heads)"
        };
        println!(
            "validation:   {loss:.4} {per}, top-1 {:.1} %, top-5 {:.1} %",
            100.0 * acc,
            100.0 * top5
        );
    }
    if !t.validation_heads.is_empty() {
        let heads: Vec<String> = t
            .validation_heads
            .iter()
            .map(|(name, loss)| format!("{name} {loss:.3}"))
            .collect();
        println!("per head:     {}", heads.join(", "));
    }
    println!("trained:      {}", t.date);
    println!("command:      {}", t.command);
    Ok(())
}

/// Runs `pianola eval`.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let file = load_model(args.model.as_deref())?;
    // The model's test part, which chose nothing; a file without one has
    // only its validation songs, which chose its checkpoint.
    let corpus_info = &file.info.corpus;
    let (dir, names, part) = match &args.songs {
        Some(dir) => (dir.clone(), None, "the songs of --songs"),
        None if args.validation => (
            args.corpus.clone().map_or_else(default_corpus_dir, Ok)?,
            Some(&corpus_info.validation_songs),
            "the validation part (asked for: it chooses, it is not a test figure)",
        ),
        None if !corpus_info.test_songs.is_empty() => (
            args.corpus.clone().map_or_else(default_corpus_dir, Ok)?,
            Some(&corpus_info.test_songs),
            "the test part (it chose nothing)",
        ),
        None => (
            args.corpus.clone().map_or_else(default_corpus_dir, Ok)?,
            Some(&corpus_info.validation_songs),
            "the validation part (it chose the checkpoint: not a test figure; the model records \
             no test part)",
        ),
    };
    let corpus = Corpus::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
    for skipped in &corpus.skipped {
        eprintln!("skipped {}", skipped.reason_text());
    }
    let chosen: Vec<&pianola_core::Song> = match names {
        Some(names) => names
            .iter()
            .map(|name| {
                corpus
                    .songs
                    .iter()
                    .find(|s| &s.name == name)
                    .with_context(|| format!("held-out song {name} is not in {}", dir.display()))
            })
            .collect::<anyhow::Result<_>>()?,
        None => corpus.songs.iter().collect(),
    };
    if chosen.is_empty() {
        bail!(
            "no songs to score (the model records no held-out songs, or the folder has no MIDI files)"
        );
    }
    // Tokens the model does not know are scored as the nearest ones it
    // knows (the rule `generate` and the performer play them by).
    let (mut songs, mut events, mut mapped_total) = (Vec::new(), 0, 0);
    for song in &chosen {
        let (known, mapped) = map_to_known(&file.vocab, &song.events);
        let (steps, _) = encode_song(&known, &file.vocab);
        events += song.events.len();
        mapped_total += mapped;
        songs.push(steps);
    }
    let mapped_share = mapped_total as f64 / events.max(1) as f64;
    // SAFETY: `pianola eval` starts no threads before this.
    unsafe { device::set_threads(args.threads) };
    let device = device::open(&args.device)?;
    let slices: Vec<&[Step]> = songs.iter().map(Vec::as_slice).collect();
    let stats =
        evaluate_params_with_memory(&file.params, &slices, args.stride, &device, args.memory)?;
    if stats.count == 0 {
        bail!("the songs are shorter than the window");
    }
    let heads = file.params.config.arch.heads();
    let names: Vec<&str> = chosen.iter().map(|s| s.name.as_str()).collect();
    if args.json {
        let per_head: serde_json::Map<String, serde_json::Value> = heads
            .iter()
            .map(|&h| (h.name().to_string(), json!(stats.head_loss(h))))
            .collect();
        let value = json!({
            "songs": names,
            "part": part,
            "positions": stats.count,
            "cross_entropy": stats.loss(),
            "what_cross_entropy": stats.head_loss(Head::What),
            "heads": per_head,
            "perplexity": stats.head_loss(Head::What).exp(),
            "top1": stats.accuracy(),
            "top5": stats.top5_accuracy(),
            "events": events,
            "mapped_tokens": mapped_total,
            "mapped_share": mapped_share,
            "memory": args.memory,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("scored:         {part}");
        println!("memory:         {}", args.memory);
        println!("songs:          {}", names.join(", "));
        println!(
            "positions:      {} (next event after {} events, every {})",
            stats.count, file.params.config.window, args.stride
        );
        println!(
            "mapped tokens:  {mapped_total} of {events} events ({:.2} %) the model does not know, \
             scored as the nearest ones it knows",
            100.0 * mapped_share
        );
        if heads.len() > 1 {
            println!("cross-entropy:  {:.4} nats/event (all heads)", stats.loss());
            for &head in heads {
                println!("  {:<9}     {:.4}", head.name(), stats.head_loss(head));
            }
        } else {
            println!("cross-entropy:  {:.4} nats/token", stats.loss());
        }
        println!(
            "perplexity:     {:.2} (what)",
            stats.head_loss(Head::What).exp()
        );
        println!("top-1 accuracy: {:.1} %", 100.0 * stats.accuracy());
        println!("top-5 accuracy: {:.1} %", 100.0 * stats.top5_accuracy());
    }
    Ok(())
}
