//! The training run: split, epochs of batches, validation, checkpoints.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Device};
use pianola_core::corpus::Corpus;
use pianola_core::corpus_dir::{folder_name, songs_digest};
use pianola_core::model::{Arch, Head, ModelConfig, Params};
use pianola_core::nearest::map_to_known;
use pianola_core::weights::{
    CorpusSummary, ModelFile, ModelInfo, StoredDtype, TrainingSummary, WeightsError,
};
use pianola_core::{CorpusError, Vocab};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::{
    Step, Transposer, Window, encode_song, fill_batch, split_songs, training_windows,
    transposed_vocab,
};
use crate::init::{initialise, start_repeat_prior};
use crate::layers::LstmImpl;
use crate::network::{Batch, Network, Positions, Stats};
use crate::optim::{Optimizer, OptimizerKind, WeightAverage, clip_gradients};

/// The model a fine-tuning run starts from.
#[derive(Clone, Debug, PartialEq)]
pub enum StartFrom {
    /// The model built into Pianola.
    BuiltIn,
    /// A weights file.
    File(PathBuf),
}

impl StartFrom {
    fn load(&self) -> Result<ModelFile, TrainError> {
        Ok(match self {
            StartFrom::BuiltIn => pianola_core::default_model::load()?,
            StartFrom::File(path) => ModelFile::load(path)?,
        })
    }
}

/// Everything a training run is told.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// The corpus folder.
    pub corpus: PathBuf,
    /// The weights file to write (the best checkpoint).
    pub out: PathBuf,
    /// Which network.
    pub arch: Arch,
    /// Passes over the training songs (at most).
    pub epochs: usize,
    /// Wall-clock budget in minutes (at most).
    pub minutes: Option<f64>,
    /// Embedding width (Pianola network).
    pub embed: usize,
    /// LSTM units per layer.
    pub hidden: usize,
    /// LSTM layers.
    pub layers: usize,
    /// Dense units before the output.
    pub dense: usize,
    /// Context length in tokens.
    pub window: usize,
    /// Windows per batch.
    pub batch: usize,
    /// Learning rate.
    pub learning_rate: f32,
    /// Lower the learning rate along half a cosine to 0 at the end of the
    /// run (the minutes, or the epochs when they end it sooner).
    pub decay: bool,
    /// From this share of the run on (0 to 1), validate and keep the
    /// running mean of the weights instead of the latest ones
    /// ([`WeightAverage`]).
    pub average_from: Option<f64>,
    /// Update rule.
    pub optimizer: OptimizerKind,
    /// Dropout between layers.
    pub dropout: f32,
    /// Transpose training windows by up to ± this many semitones (0: off);
    /// the vocabulary then holds every transposition of the corpus' tokens.
    pub transpose: i32,
    /// How many times the notes' (`what`) cross-entropy counts in the
    /// event network's loss; the other heads count once.
    pub what_weight: f64,
    /// Share of transposed training windows played at half or double pace
    /// (so a player's pace is familiar); 2/3 plays each pace as often.
    pub pace_change: f64,
    /// Share of songs held out.
    pub validation_share: f64,
    /// Share of songs held out as the test part (at least one with 3 songs
    /// or more): never trained on, never used to choose anything; what
    /// `pianola eval` reports. 0: none.
    pub test_share: f64,
    /// Seed of the split, the initial weights and the batches.
    pub seed: u64,
    /// Continue from this weights file (its sizes, split and weights).
    pub resume: Option<PathBuf>,
    /// Start a fresh network from the tensors of this weights file that it
    /// shares by name and shape (a token network's embedding, LSTMs, dense
    /// and output layers for an event network); the rest start as they
    /// would, the event network's extra embeddings and conditions at zero,
    /// so that it starts out predicting the notes as that file does.
    pub init_from: Option<PathBuf>,
    /// Largest global gradient norm.
    pub clip: f32,
    /// The device that trains.
    pub device: Device,
    /// Evaluation windows start every this many tokens.
    pub eval_stride: usize,
    /// Validate (and checkpoint) at least this often, in seconds, besides
    /// at the end of every epoch.
    pub validate_every: f64,
    /// How tensors are stored.
    pub dtype: StoredDtype,
    /// The command line, recorded in the file.
    pub command: String,
    /// How the LSTM layers run (the fused op on the CPU, the default).
    pub lstm: LstmImpl,
    /// Fine-tune: start from this model's weights and vocabulary (its
    /// sizes win) and hold out `validation_share` of this corpus.
    pub from: Option<StartFrom>,
    /// Give the notes head the repeat prior ([`pianola_core::repeats`]):
    /// a fresh network has it, and a resumed or fine-tuned model that
    /// lacks it gains it, its scores starting at
    /// [`pianola_core::repeats::initial_scores`]. Never the seed's network.
    pub repeats: bool,
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The corpus folder could not be read.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The resumed or written weights file failed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// The sizes are unusable, or the data too small.
    #[error("{0}")]
    Invalid(String),
    /// The network failed on its device.
    #[error("the network failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// Writing the loss curve failed.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        source: std::io::Error,
    },
}

/// One line of the loss curve.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// Epochs done (fractional when validated within an epoch).
    pub epoch: f64,
    /// Optimiser steps so far.
    pub steps: u64,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Validation figures after the epoch.
    pub validation: Stats,
    /// Seconds since the start.
    pub seconds: f64,
    /// Training events (tokens) per second since the last validation, the
    /// validation's own time left out.
    pub events_per_second: f64,
}

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Every epoch.
    pub history: Vec<EpochRecord>,
    /// The best validation figures (those of the saved file).
    pub best: Option<Stats>,
    /// Whether the run was stopped early by the stop flag.
    pub interrupted: bool,
    /// The held-out songs' figures before training (a fine-tune's
    /// starting point; `None` for a fresh network).
    pub start: Option<Stats>,
}

/// Called after every batch (epoch, batch, batches, training loss so far,
/// tokens per second) and after every epoch.
pub trait Progress {
    /// A batch is done.
    fn batch(
        &mut self,
        epoch: usize,
        batch: usize,
        batches: usize,
        loss: f64,
        events_per_second: f64,
    );
    /// An epoch is done and validated.
    fn epoch(&mut self, record: &EpochRecord, improved: bool);
    /// What the run is about to do (the split, tokens mapped, where a
    /// fine-tune starts), once before the first batch.
    fn note(&mut self, _message: &str) {}
}

/// Trains, saving the checkpoint whose `what` head predicts the held-out
/// songs best to `options.out` and the
/// loss curve to `loss.csv` beside it. Stops between batches when `stop` is
/// set.
pub fn train(
    options: &TrainOptions,
    stop: Arc<AtomicBool>,
    progress: &mut dyn Progress,
) -> Result<TrainReport, TrainError> {
    let started = Instant::now();
    crate::allocator::keep_buffers();
    let corpus = Corpus::read_dir(&options.corpus)?;
    if corpus.songs.len() < 2 {
        return Err(TrainError::Invalid(format!(
            "{} holds {} readable songs; training needs at least 2",
            options.corpus.display(),
            corpus.songs.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x7261_696e);

    // The split has generators of its own: the same seed holds out the
    // same songs whatever the network, so runs compare fairly. The test
    // part first, then the validation part from the rest.
    let split_names = || -> (Vec<String>, Vec<String>) {
        let names = |indices: &[usize], of: &[usize]| -> Vec<String> {
            indices
                .iter()
                .map(|&i| corpus.songs[of[i]].name.clone())
                .collect()
        };
        let all: Vec<usize> = (0..corpus.songs.len()).collect();
        let (rest, test) = if options.test_share > 0.0 && all.len() >= 3 {
            let mut test_rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x7465_7374);
            let split = split_songs(all.len(), options.test_share, &mut test_rng);
            let rest: Vec<usize> = split.train.iter().map(|&i| all[i]).collect();
            (rest, names(&split.validation, &all))
        } else {
            (all, Vec::new())
        };
        let mut split_rng = ChaCha8Rng::seed_from_u64(options.seed);
        let split = split_songs(rest.len(), options.validation_share, &mut split_rng);
        (names(&split.validation, &rest), test)
    };
    // Sizes, vocabulary, split and weights: fresh, from the model a
    // fine-tune starts from, or from the resumed file.
    let (vocab, params, (validation_names, test_names), done_epochs, done_steps) =
        match (&options.resume, &options.from) {
            (None, Some(from)) => {
                let file = from.load()?;
                (file.vocab, file.params, split_names(), 0, 0)
            }
            (Some(path), _) => {
                let file = ModelFile::load(path)?;
                let names = (
                    file.info.corpus.validation_songs.clone(),
                    file.info.corpus.test_songs.clone(),
                );
                let epochs = file.info.training.epochs.ceil() as usize;
                (
                    file.vocab,
                    file.params,
                    names,
                    epochs,
                    file.info.training.steps,
                )
            }
            (None, None) => {
                let vocab = if options.transpose > 0 {
                    let tokens = corpus.songs.iter().flat_map(|s| s.tokens.iter().copied());
                    transposed_vocab(tokens, options.transpose)
                } else {
                    corpus.vocab()
                };
                let config = ModelConfig {
                    arch: options.arch,
                    vocab_size: vocab.len(),
                    embed: if options.arch == Arch::Seed {
                        1
                    } else {
                        options.embed
                    },
                    hidden: options.hidden,
                    layers: options.layers,
                    dense: options.dense,
                    window: options.window,
                    repeats: options.repeats && options.arch != Arch::Seed,
                };
                config.validate().map_err(TrainError::Invalid)?;
                let mut params = initialise(config, &mut rng);
                if let Some(path) = &options.init_from {
                    start_from(&mut params, &vocab, &ModelFile::load(path)?)?;
                }
                (vocab, params, split_names(), 0, 0)
            }
        };
    let params = if options.repeats && !params.config.repeats {
        with_repeats(params)
    } else {
        params
    };
    let config = params.config.clone();
    // Tokens the vocabulary lacks (a fine-tune's new chords) train as the
    // nearest ones it knows.
    let mut mapped = 0;
    let encoded: Vec<Vec<Step>> = corpus
        .songs
        .iter()
        .map(|song| {
            let (known, count) = map_to_known(&vocab, &song.events);
            mapped += count;
            encode_song(&known, &vocab).0
        })
        .collect();
    let held_out = validation_names.join(", ");
    let test = if test_names.is_empty() {
        String::new()
    } else {
        format!(
            ", {} held out as the test part that chooses nothing ({})",
            test_names.len(),
            test_names.join(", ")
        )
    };
    progress.note(&format!(
        "{} songs train, {} held out to choose the checkpoint ({held_out}){test}; {mapped} of \
         {} events hold tokens the model's {} do not, each trained as the nearest it knows",
        corpus.songs.len() - validation_names.len() - test_names.len(),
        validation_names.len(),
        corpus.total_tokens(),
        vocab.len()
    ));
    let (mut train_songs, mut validation_songs) = (Vec::new(), Vec::new());
    for (song, tokens) in corpus.songs.iter().zip(&encoded) {
        if validation_names.contains(&song.name) {
            validation_songs.push(tokens.as_slice());
        } else if !test_names.contains(&song.name) {
            train_songs.push(tokens.as_slice());
        }
    }

    let (positions, stride) = match config.arch {
        Arch::Pianola | Arch::Events => (Positions::All, config.window),
        Arch::Seed => (Positions::Last, 1),
    };
    let transposer = (options.transpose > 0).then(|| Transposer::new(&vocab, options.transpose));
    let mut network = Network::new(&params, &options.device, DType::F32)?;
    network.set_lstm(options.lstm);
    let vars = network.vars();
    let mut optimizer = Optimizer::new(
        options.optimizer,
        f64::from(options.learning_rate),
        vars.clone(),
    )?;
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    let mut history = Vec::new();
    let mut best: Option<Stats> = None;
    let save_checkpoint = |network: &Network, record: &EpochRecord| -> Result<(), TrainError> {
        let parts = (validation_names.as_slice(), test_names.as_slice());
        let file = model_file(&network.params()?, &vocab, &corpus, options, parts, record);
        Ok(file.save(&options.out, options.dtype)?)
    };
    // A fine-tune's starting point is a checkpoint too: its file is
    // written now, and replaced only by one that predicts the held-out
    // songs' notes better.
    let mut start = None;
    if options.from.is_some() && options.resume.is_none() {
        let validation = evaluate(&mut network, &validation_songs, options.eval_stride)?;
        progress.note(&format!(
            "before fine-tuning: the notes' cross-entropy on the held-out songs is {:.4} nats",
            validation.head_loss(Head::What)
        ));
        let record = EpochRecord {
            epoch: 0.0,
            steps: 0,
            train_loss: f64::NAN,
            validation,
            seconds: 0.0,
            events_per_second: 0.0,
        };
        save_checkpoint(&network, &record)?;
        best = Some(validation);
        start = Some(validation);
    }
    let mut average = WeightAverage::new();
    let mut steps = done_steps;
    let deadline = options.minutes.map(|m| m * 60.0);
    let out_of_time =
        |started: &Instant| deadline.is_some_and(|d| started.elapsed().as_secs_f64() >= d);
    let mut interrupted = false;

    let mut last_validation = Instant::now();
    let (mut loss_sum, mut loss_count, mut tokens) = (0.0, 0usize, 0usize);
    let mut rate_start = Instant::now();
    'epochs: for epoch in done_epochs + 1..=done_epochs + options.epochs {
        let windows = training_windows(
            &train_songs,
            config.window,
            stride,
            options.transpose,
            options.pace_change,
            &mut rng,
        );
        if windows.is_empty() {
            return Err(TrainError::Invalid(format!(
                "no training song is longer than the window of {} tokens",
                config.window
            )));
        }
        let batches: Vec<&[Window]> = windows.chunks(options.batch).collect();
        let mut done_in_epoch = 0;
        for chunk in &batches {
            // On a stop or at the deadline, checkpoint what was trained since
            // the last validation, then end.
            let finish = stop.load(Ordering::Relaxed) || out_of_time(&started);
            if finish {
                interrupted = stop.load(Ordering::Relaxed);
            } else {
                fill_batch(
                    &train_songs,
                    chunk,
                    config.window,
                    transposer.as_ref(),
                    &mut inputs,
                    &mut targets,
                );
                let batch = Batch {
                    inputs: &inputs,
                    targets: &targets,
                    windows: chunk.len(),
                    steps: config.window,
                };
                let mut step = network.gradients(
                    &batch,
                    positions,
                    options.dropout,
                    options.what_weight,
                    &mut rng,
                )?;
                clip_gradients(&mut step.grads, &vars, options.clip)?;
                // How far through the run: by epochs or by the clock.
                let by_epochs =
                    (epoch - done_epochs - 1) as f64 + done_in_epoch as f64 / batches.len() as f64;
                let by_time = deadline.map_or(0.0, |d| started.elapsed().as_secs_f64() / d);
                let through = (by_epochs / options.epochs as f64).max(by_time);
                if options.decay {
                    optimizer.set_learning_rate(decayed(f64::from(options.learning_rate), through));
                }
                optimizer.step(&step.grads)?;
                if options.average_from.is_some_and(|from| through >= from) {
                    average.add(&vars)?;
                }
                let stats = step.stats;
                steps += 1;
                done_in_epoch += 1;
                loss_sum += stats.loss();
                loss_count += 1;
                tokens += chunk.len() * config.window;
                let rate = tokens as f64 / rate_start.elapsed().as_secs_f64();
                let mean = loss_sum / loss_count as f64;
                progress.batch(epoch, done_in_epoch, batches.len(), mean, rate);
            }
            let due = finish
                || done_in_epoch == batches.len()
                || last_validation.elapsed().as_secs_f64() >= options.validate_every;
            if due && loss_count > 0 {
                // The training's own pace, before validation takes its time.
                let events_per_second = tokens as f64 / rate_start.elapsed().as_secs_f64();
                // Once averaging, the average is what is validated and kept.
                let averaged = average.count() > 0;
                if averaged {
                    average.swap(&vars)?;
                }
                let validation = evaluate(&mut network, &validation_songs, options.eval_stride)?;
                let record = EpochRecord {
                    epoch: (epoch - 1) as f64 + done_in_epoch as f64 / batches.len() as f64,
                    steps,
                    train_loss: loss_sum / loss_count as f64,
                    validation,
                    seconds: started.elapsed().as_secs_f64(),
                    events_per_second,
                };
                // The kept checkpoint is the one that best predicts the
                // held-out songs' notes: the event network's rhythm heads
                // fit the training songs' habits (one velocity per file)
                // sooner than the notes, and would stop it early.
                let what = |s: &Stats| s.head_loss(Head::What);
                let improved = best.is_none_or(|b| what(&validation) < what(&b));
                if improved {
                    best = Some(validation);
                    save_checkpoint(&network, &record)?;
                }
                if averaged {
                    average.swap(&vars)?;
                }
                progress.epoch(&record, improved);
                history.push(record);
                write_csv(&options.out, &history)?;
                (loss_sum, loss_count, tokens) = (0.0, 0, 0);
                rate_start = Instant::now();
                last_validation = Instant::now();
            }
            if finish {
                break 'epochs;
            }
        }
    }
    Ok(TrainReport {
        history,
        best,
        interrupted,
        start,
    })
}

/// The learning rate `fraction` of the way through a decaying run: half a
/// cosine from `start` down to 0.
fn decayed(start: f64, fraction: f64) -> f64 {
    start * 0.5 * (1.0 + (std::f64::consts::PI * fraction.clamp(0.0, 1.0)).cos())
}

/// Copies into `params` every tensor of `file` with the same name and
/// shape, and zeroes the event network's tensors that `file` lacks and that
/// feed into the shared ones (extra embeddings and conditions).
fn start_from(params: &mut Params, vocab: &Vocab, file: &ModelFile) -> Result<(), TrainError> {
    if &file.vocab != vocab {
        return Err(TrainError::Invalid(format!(
            "--init-from: its vocabulary ({} tokens) differs from this corpus' ({} tokens)",
            file.vocab.len(),
            vocab.len()
        )));
    }
    let specs = params.specs().to_vec();
    let mut copied = 0;
    for (spec, values) in specs.iter().zip(params.tensors.iter_mut()) {
        let source = file.params.specs().iter().position(|s| s.name == spec.name);
        match source {
            Some(i) if file.params.specs()[i].shape == spec.shape => {
                values.copy_from_slice(&file.params.tensors[i]);
                copied += 1;
            }
            _ if spec.name.ends_with("_embedding") || spec.name.ends_with("_condition") => {
                values.fill(0.0);
            }
            _ => {}
        }
    }
    if copied == 0 {
        return Err(TrainError::Invalid(
            "--init-from: no tensor matches this network".into(),
        ));
    }
    Ok(())
}

/// `params` with the repeat prior added at its initial scores (the rest as
/// they were; the seed's network as it is, having none).
fn with_repeats(params: Params) -> Params {
    let config = ModelConfig {
        repeats: true,
        ..params.config.clone()
    };
    if config.validate().is_err() {
        return params;
    }
    let mut grown = Params::zeros(config);
    for (spec, values) in params.specs().iter().zip(&params.tensors) {
        grown.get_mut(&spec.name).copy_from_slice(values);
    }
    start_repeat_prior(&mut grown);
    grown
}

/// Validation figures: for windows of `window` tokens starting every
/// `stride` tokens, the prediction of the token after the window — the next
/// token with a full context, the same task for both networks.
pub fn evaluate(
    network: &mut Network,
    songs: &[&[Step]],
    stride: usize,
) -> Result<Stats, candle_core::Error> {
    // The network alone: the session memory mixed in at 0.
    crate::session_eval::evaluate_with_memory(network, songs, stride, 0.0)
}

/// [`evaluate`] for a weights file's parameters, on `device`.
pub fn evaluate_params(
    params: &Params,
    songs: &[&[Step]],
    stride: usize,
    device: &Device,
) -> Result<Stats, candle_core::Error> {
    let mut network = Network::new(params, device, DType::F32)?;
    evaluate(&mut network, songs, stride)
}

fn model_file(
    params: &Params,
    vocab: &Vocab,
    corpus: &Corpus,
    options: &TrainOptions,
    (validation_names, test_names): (&[String], &[String]),
    record: &EpochRecord,
) -> ModelFile {
    ModelFile {
        vocab: vocab.clone(),
        params: params.clone(),
        info: ModelInfo {
            corpus: CorpusSummary {
                name: folder_name(&options.corpus),
                digest: songs_digest(
                    &options.corpus,
                    corpus.songs.iter().map(|s| s.name.as_str()),
                )
                .unwrap_or_default(),
                songs: corpus.songs.len(),
                tokens: corpus.total_tokens(),
                validation_songs: validation_names.to_vec(),
                test_songs: test_names.to_vec(),
                split_seed: options.seed,
            },
            training: TrainingSummary {
                epochs: record.epoch,
                steps: record.steps,
                optimizer: options.optimizer.name().to_string(),
                learning_rate: shortest(options.learning_rate),
                batch: options.batch,
                dropout: shortest(options.dropout),
                transpose: options.transpose,
                wall_seconds: record.seconds,
                validation_loss: Some(record.validation.loss()),
                validation_accuracy: Some(record.validation.accuracy()),
                validation_top5: Some(record.validation.top5_accuracy()),
                validation_heads: if params.config.arch.heads().len() > 1 {
                    params
                        .config
                        .arch
                        .heads()
                        .iter()
                        .map(|&h| (h.name().to_string(), record.validation.head_loss(h)))
                        .collect()
                } else {
                    Vec::new()
                },
                date: utc_now(),
                command: options.command.clone(),
            },
        },
    }
}

/// An `f32` setting as the `f64` with the same shortest decimal form
/// (`2e-3`, not `0.0020000000949949026`).
fn shortest(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::from(value))
}

/// `loss.csv` beside the weights file.
pub fn csv_path(out: &Path) -> PathBuf {
    out.with_file_name("loss.csv")
}

fn write_csv(out: &Path, history: &[EpochRecord]) -> Result<(), TrainError> {
    let mut text = String::from(
        "epoch,steps,seconds,train_loss,validation_loss,validation_accuracy,validation_top5,events_per_second",
    );
    for head in Head::ALL {
        let _ = write!(text, ",validation_{}", head.name());
    }
    text.push('\n');
    for r in history {
        let _ = write!(
            text,
            "{:.3},{},{:.1},{:.5},{:.5},{:.5},{:.5},{:.0}",
            r.epoch,
            r.steps,
            r.seconds,
            r.train_loss,
            r.validation.loss(),
            r.validation.accuracy(),
            r.validation.top5_accuracy(),
            r.events_per_second
        );
        for head in Head::ALL {
            let _ = write!(text, ",{:.5}", r.validation.head_loss(head));
        }
        text.push('\n');
    }
    let path = csv_path(out);
    fs::write(&path, text).map_err(|source| TrainError::Io { path, source })
}

/// The current UTC time as RFC 3339.
fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pianola_core::repeats;
    use rand::SeedableRng;

    #[test]
    fn the_decayed_learning_rate_falls_along_half_a_cosine_to_zero() {
        assert_eq!(decayed(1e-3, 0.0), 1e-3);
        assert!((decayed(1e-3, 0.5) - 5e-4).abs() < 1e-12);
        assert!(decayed(1e-3, 0.25) > decayed(1e-3, 0.5));
        assert!(decayed(1e-3, 1.0).abs() < 1e-12);
        assert!(
            decayed(1e-3, 2.0).abs() < 1e-12,
            "past the end it stays at 0"
        );
    }

    #[test]
    fn a_model_without_the_repeat_prior_gains_it_and_keeps_the_rest() {
        let config = ModelConfig {
            arch: Arch::Events,
            vocab_size: 9,
            embed: 4,
            hidden: 6,
            layers: 2,
            dense: 5,
            window: 8,
            repeats: false,
        };
        let old = initialise(config.clone(), &mut ChaCha8Rng::seed_from_u64(3));
        let grown = with_repeats(old.clone());
        assert!(grown.config.repeats);
        assert_eq!(grown.get(repeats::TENSOR), repeats::initial_scores());
        for (spec, values) in old.specs().iter().zip(&old.tensors) {
            assert_eq!(grown.get(&spec.name), values.as_slice(), "{}", spec.name);
        }
        // The seed's network has none to gain.
        let seed = initialise(
            ModelConfig {
                arch: Arch::Seed,
                embed: 1,
                ..config
            },
            &mut ChaCha8Rng::seed_from_u64(3),
        );
        assert!(!with_repeats(seed).config.repeats);
    }
}
