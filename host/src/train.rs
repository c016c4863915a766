//! `pianola train`: train the LSTM on a corpus folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use pianola_core::corpus::default_corpus_dir;
use pianola_core::model::{Arch, Head};
use pianola_core::weights::StoredDtype;
use pianola_trainer::device;
use pianola_trainer::layers::LstmImpl;
use pianola_trainer::optim::OptimizerKind;
use pianola_trainer::train::{EpochRecord, Progress, StartFrom, TrainOptions, csv_path, train};

/// Which network to train.
#[derive(Clone, Copy, ValueEnum)]
pub enum ArchArg {
    /// Whole events: when, what, hold, velocity and register, a head each.
    Events,
    /// Tokens only: embedding input, loss at every position.
    Pianola,
    /// The seed's network, for comparison: scalar input, loss at the last position.
    Seed,
}

/// The update rule.
#[derive(Clone, Copy, ValueEnum)]
pub enum OptimizerArg {
    /// RMSprop, as the seed.
    Rmsprop,
    /// AdamW.
    Adamw,
}

/// How the LSTM layers train.
#[derive(Clone, Copy, ValueEnum)]
pub enum LstmArg {
    /// The whole sequence as one op with its own backward pass (CPU).
    Fused,
    /// Step by step, every gradient from candle's autograd (for comparison).
    Autograd,
}

/// Arguments of `pianola train`.
#[derive(Args)]
pub struct TrainArgs {
    /// Folder of `.mid` files [default: $PIANOLA_CORPUS, else midi_songs/ if
    /// it holds files, else ../shared/midi_songs]
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// The weights file to write (the checkpoint with the best validation loss).
    #[arg(long, default_value = "pianola.safetensors")]
    out: PathBuf,
    /// Which network.
    #[arg(long, value_enum, default_value = "events")]
    arch: ArchArg,
    /// Passes over the training songs.
    #[arg(long, default_value_t = 50)]
    epochs: usize,
    /// Stop after this many minutes (the best checkpoint is kept).
    #[arg(long)]
    minutes: Option<f64>,
    /// Width of the token embedding.
    #[arg(long, default_value_t = 64)]
    embed: usize,
    /// Units per LSTM layer [default: 256, as the built-in model; 512 with
    /// --seed-size].
    #[arg(long)]
    hidden: Option<usize>,
    /// Stacked LSTM layers [default: 2; 3 with --seed-size].
    #[arg(long)]
    layers: Option<usize>,
    /// The seed project's size and recipe instead of the built-in model's:
    /// 3 × LSTM 512, batch 64, RMSprop, dropout 0.3 (each still set by its
    /// own option).
    #[arg(long)]
    seed_size: bool,
    /// Fine-tune: start from `builtin` (the model built into pianola) or a
    /// weights file, with its sizes and vocabulary, and adapt it to
    /// --corpus; --val-songs of that folder (at least one song) is held out
    /// to choose the checkpoint, and the starting model is the first.
    #[arg(long, value_name = "builtin|FILE", conflicts_with_all = ["resume", "init_from"])]
    from: Option<String>,
    /// Units of the dense layer before the output.
    #[arg(long, default_value_t = 256)]
    dense: usize,
    /// Context length in tokens.
    #[arg(long, default_value_t = 100)]
    window: usize,
    /// Windows per batch [default: 16; 64 with --seed-size].
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    /// Lower the learning rate along half a cosine, from --lr to 0 at the
    /// end of the run (its --minutes, or its --epochs when sooner).
    #[arg(long)]
    decay: bool,
    /// From this share of the run on (0 to 1), validate and keep the
    /// running mean of the weights since then instead of the latest ones
    /// (stochastic weight averaging).
    #[arg(long)]
    average_from: Option<f64>,
    /// Update rule [default: adamw; rmsprop with --seed-size].
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerArg>,
    /// Dropout between layers [default: 0.5; 0.3 with --seed-size].
    #[arg(long)]
    dropout: Option<f32>,
    /// Transpose training windows by up to ± this many semitones, so the
    /// model knows every key [default: 6 for pianola, 0 for seed]
    #[arg(long)]
    transpose: Option<i32>,
    /// How many times the notes' cross-entropy counts in the event
    /// network's loss (the other heads count once) [default: 1; 4 with
    /// --from, as the built-in model's last stage].
    #[arg(long)]
    what_weight: Option<f64>,
    /// Share of transposed training windows played at half or double pace
    /// (0: the songs' own pace only; by default each pace as often).
    #[arg(long, default_value_t = 2.0 / 3.0)]
    pace_change: f64,
    /// Share of songs held out for validation (they choose the checkpoint).
    #[arg(long, default_value_t = 0.1)]
    val_songs: f64,
    /// Share of songs held out as the test part: never trained on, never
    /// choosing anything; `pianola eval` reports them [default: 0.1; 0 with
    /// --from].
    #[arg(long)]
    test_songs: Option<f64>,
    /// Seed of the split, the initial weights and the batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue training this weights file (its sizes and split win).
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Start from the tensors this weights file shares with the new network
    /// (e.g. an event network from a token network of the same sizes and
    /// vocabulary: it starts out predicting the notes as that file does).
    #[arg(long, conflicts_with = "resume")]
    init_from: Option<PathBuf>,
    /// Clip the global gradient norm to this.
    #[arg(long, default_value_t = 5.0)]
    clip: f32,
    /// Threads for the matrix products on the CPU [default:
    /// $RAYON_NUM_THREADS, else all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// The device that trains: cpu, or cuda[:N] (cuda:0 is the first GPU)
    /// in a build with `--features cuda`.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Validation windows start every this many tokens.
    #[arg(long, default_value_t = 10)]
    eval_stride: usize,
    /// Validate and checkpoint at least every this many seconds.
    #[arg(long, default_value_t = 120.0)]
    validate_every: f64,
    /// Store the weights as f32 instead of f16.
    #[arg(long)]
    f32: bool,
    /// How the LSTM layers train (fused: about twice as fast on the CPU;
    /// other devices always run autograd).
    #[arg(long, value_enum, default_value = "fused")]
    lstm: LstmArg,
    /// Train without the notes head's repeat prior (by default a fresh
    /// network has it, and a resumed or fine-tuned model that lacks it
    /// gains it).
    #[arg(long)]
    no_repeat_prior: bool,
}

struct Bar {
    bar: ProgressBar,
}

impl Progress for Bar {
    fn batch(&mut self, epoch: usize, batch: usize, batches: usize, loss: f64, rate: f64) {
        self.bar.set_length(batches as u64);
        self.bar.set_position(batch as u64);
        self.bar.set_message(format!(
            "epoch {epoch} · loss {loss:.3} · {rate:.0} events/s"
        ));
    }

    fn epoch(&mut self, r: &EpochRecord, improved: bool) {
        // Printed whether or not the bar shows (a log file too).
        let line = format!(
            "epoch {:>6.2}  train {:.3}  validation {:.3}, notes {:.3} (top-1 {:.1} %, top-5 {:.1} %)  {:.0} events/s  {:.0} s{}",
            r.epoch,
            r.train_loss,
            r.validation.loss(),
            r.validation.head_loss(Head::What),
            100.0 * r.validation.accuracy(),
            100.0 * r.validation.top5_accuracy(),
            r.events_per_second,
            r.seconds,
            if improved { "  saved" } else { "" }
        );
        self.bar.suspend(|| println!("{line}"));
    }

    fn note(&mut self, message: &str) {
        // Printed whether or not the bar shows (not on a terminal).
        self.bar.suspend(|| println!("{message}"));
    }
}

/// Runs `pianola train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    // SAFETY: called before any thread is started (the Ctrl-C handler's
    // comes later).
    unsafe { device::set_threads(args.threads) };
    let device = device::open(&args.device)?;
    let seed = args.seed_size;
    let from = args.from.as_deref().map(|from| {
        if crate::generate::is_builtin(Path::new(from)) {
            StartFrom::BuiltIn
        } else {
            StartFrom::File(PathBuf::from(from))
        }
    });
    let options = TrainOptions {
        corpus: args.corpus.clone().map_or_else(default_corpus_dir, Ok)?,
        out: args.out.clone(),
        arch: match args.arch {
            ArchArg::Events => Arch::Events,
            ArchArg::Pianola => Arch::Pianola,
            ArchArg::Seed => Arch::Seed,
        },
        epochs: args.epochs,
        minutes: args.minutes,
        embed: args.embed,
        hidden: args.hidden.unwrap_or(if seed { 512 } else { 256 }),
        layers: args.layers.unwrap_or(if seed { 3 } else { 2 }),
        dense: args.dense,
        window: args.window,
        batch: args.batch.unwrap_or(if seed { 64 } else { 16 }),
        learning_rate: args.lr,
        decay: args.decay,
        average_from: args.average_from,
        optimizer: match args.optimizer {
            Some(OptimizerArg::Rmsprop) => OptimizerKind::RmsProp,
            Some(OptimizerArg::Adamw) => OptimizerKind::AdamW,
            None if seed => OptimizerKind::RmsProp,
            None => OptimizerKind::AdamW,
        },
        dropout: args.dropout.unwrap_or(if seed { 0.3 } else { 0.5 }),
        transpose: args.transpose.unwrap_or(match args.arch {
            ArchArg::Events | ArchArg::Pianola => 6,
            ArchArg::Seed => 0,
        }),
        pace_change: args.pace_change,
        what_weight: args
            .what_weight
            .unwrap_or(if args.from.is_some() { 4.0 } else { 1.0 }),
        validation_share: args.val_songs,
        test_share: args
            .test_songs
            .unwrap_or(if args.from.is_some() { 0.0 } else { 0.1 }),
        seed: args.seed,
        resume: args.resume.clone(),
        init_from: args.init_from.clone(),
        clip: args.clip,
        device,
        eval_stride: args.eval_stride,
        validate_every: args.validate_every,
        dtype: if args.f32 {
            StoredDtype::F32
        } else {
            StoredDtype::F16
        },
        command: recorded_command(std::env::args()),
        lstm: match args.lstm {
            LstmArg::Fused => LstmImpl::Fused,
            LstmArg::Autograd => LstmImpl::Autograd,
        },
        from,
        repeats: !args.no_repeat_prior,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("installing the Ctrl-C handler")?;
    let bar = ProgressBar::new(1).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} batches · {msg} · ETA {eta}")
            .expect("a valid template"),
    );
    let mut progress = Bar { bar };
    let report = train(&options, stop, &mut progress)
        .with_context(|| format!("training on {}", options.corpus.display()))?;
    progress.bar.finish_and_clear();
    if !report.history.is_empty() {
        let png = options.out.with_file_name("loss.png");
        crate::loss_plot::draw(&report.history, &png)?;
    }
    if report.interrupted {
        println!("stopped by Ctrl-C after {} epochs", report.history.len());
    }
    match report.best {
        Some(best) => println!(
            "best validation loss of the notes {:.4} nats/event (all heads {:.4}, top-1 {:.1} %) saved to {}; curves in {} and loss.png",
            best.head_loss(Head::What),
            best.loss(),
            100.0 * best.accuracy(),
            options.out.display(),
            csv_path(&options.out).display()
        ),
        None => println!("no epoch finished: nothing saved"),
    }
    if let (Some(start), Some(best)) = (report.start, report.best) {
        let (before, after) = (start.head_loss(Head::What), best.head_loss(Head::What));
        println!(
            "fine-tuned: the notes' cross-entropy on the held-out songs went from {before:.4} to \
             {after:.4} nats ({:+.1} %)",
            100.0 * (after - before) / before
        );
    }
    Ok(())
}

/// The command line as a weights file records it: `pianola` and its
/// arguments, each path shortened to its file name, so that the file names
/// no folder of the machine that trained it.
fn recorded_command(args: impl Iterator<Item = String>) -> String {
    args.enumerate()
        .map(|(i, arg)| {
            if i == 0 {
                "pianola".to_string()
            } else {
                // `--out=PATH` keeps its option.
                let (option, value) = match arg.split_once('=') {
                    Some((option, value)) if option.starts_with("--") => (option, value),
                    _ => ("", arg.as_str()),
                };
                let value = if value.contains(std::path::MAIN_SEPARATOR) || value.contains('/') {
                    pianola_core::corpus_dir::folder_name(std::path::Path::new(value))
                } else {
                    value.to_string()
                };
                if option.is_empty() {
                    value
                } else {
                    format!("{option}={value}")
                }
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::recorded_command;

    #[test]
    fn the_recorded_command_names_no_folder() {
        let args = [
            "/work/main/target/release/pianola",
            "train",
            "--corpus",
            "/work/shared/midi_songs",
            "--out=/tmp/x/ww4.safetensors",
            "--minutes",
            "12",
        ];
        assert_eq!(
            recorded_command(args.iter().map(|a| a.to_string())),
            "pianola train --corpus midi_songs --out=ww4.safetensors --minutes 12"
        );
    }
}
