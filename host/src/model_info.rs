//! `pianola info` and `pianola eval`: what a weights file is, and how well it
//! predicts the songs it was not trained on.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::weights::ModelFile;
use pianola_trainer::data::encode_song;
use pianola_trainer::device;
use pianola_trainer::train::evaluate_params;
use serde_json::json;

/// Arguments of `pianola info`.
#[derive(Args)]
pub struct InfoArgs {
    /// The weights file.
    #[arg(long)]
    model: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `pianola eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// The weights file.
    #[arg(long)]
    model: PathBuf,
    /// Folder holding the model's held-out songs [default: as `stats`]
    #[arg(long)]
    corpus: Option<PathBuf>,
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
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn load(path: &Path) -> anyhow::Result<ModelFile> {
    ModelFile::load(path).with_context(|| format!("loading {}", path.display()))
}

/// Runs `pianola info`.
pub fn info(args: &InfoArgs) -> anyhow::Result<()> {
    let file = load(&args.model)?;
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
    println!(
        "corpus:       {} ({} songs, {} tokens, {} held out)",
        c.path,
        c.songs,
        c.tokens,
        c.validation_songs.len()
    );
    println!(
        "training:     {} epochs, {} steps, {} lr {}, batch {}, dropout {}, {:.0} s",
        t.epochs, t.steps, t.optimizer, t.learning_rate, t.batch, t.dropout, t.wall_seconds
    );
    if let (Some(loss), Some(acc), Some(top5)) =
        (t.validation_loss, t.validation_accuracy, t.validation_top5)
    {
        println!(
            "validation:   {loss:.4} nats/token, top-1 {:.1} %, top-5 {:.1} %",
            100.0 * acc,
            100.0 * top5
        );
    }
    println!("trained:      {}", t.date);
    println!("command:      {}", t.command);
    Ok(())
}

/// Runs `pianola eval`.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    let file = load(&args.model)?;
    let dir = args.corpus.clone().unwrap_or_else(default_corpus_dir);
    let corpus = Corpus::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
    let held_out = &file.info.corpus.validation_songs;
    let mut songs = Vec::new();
    for name in held_out {
        let Some(song) = corpus.songs.iter().find(|s| &s.name == name) else {
            bail!("held-out song {name} is not in {}", dir.display());
        };
        songs.push(encode_song(&song.tokens, &file.vocab).0);
    }
    if songs.is_empty() {
        bail!("the model records no held-out songs");
    }
    // SAFETY: `pianola eval` starts no threads before this.
    unsafe { device::set_threads(args.threads) };
    let device = device::open(&args.device)?;
    let slices: Vec<&[u32]> = songs.iter().map(Vec::as_slice).collect();
    let stats = evaluate_params(&file.params, &slices, args.stride, &device)?;
    if stats.count == 0 {
        bail!("the held-out songs are shorter than the window");
    }
    if args.json {
        let value = json!({
            "songs": held_out,
            "positions": stats.count,
            "cross_entropy": stats.loss(),
            "perplexity": stats.loss().exp(),
            "top1": stats.accuracy(),
            "top5": stats.top5_accuracy(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("held-out songs: {}", held_out.join(", "));
        println!(
            "positions:      {} (next token after {} tokens, every {})",
            stats.count, file.params.config.window, args.stride
        );
        println!("cross-entropy:  {:.4} nats/token", stats.loss());
        println!("perplexity:     {:.2}", stats.loss().exp());
        println!("top-1 accuracy: {:.1} %", 100.0 * stats.accuracy());
        println!("top-5 accuracy: {:.1} %", 100.0 * stats.top5_accuracy());
    }
    Ok(())
}
