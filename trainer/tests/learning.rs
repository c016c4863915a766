//! The training loop really learns: a tiny model memorises a short
//! sequence, and a small run on three real songs lowers its loss.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use candle_core::{DType, Device};
use pianola_core::model::{Arch, Head, ModelConfig};
use pianola_core::weights::{ModelFile, StoredDtype};
use pianola_trainer::data::Step;
use pianola_trainer::init::initialise;
use pianola_trainer::network::{Batch, Network, Positions, Stats};
use pianola_trainer::optim::{Optimizer, OptimizerKind, clip_gradients};
use pianola_trainer::train::{EpochRecord, Progress, TrainOptions, TrainReport, train};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A tiny network of `arch` (8 tokens, windows of 12), freshly
/// initialised, and the random number generator that goes on training it.
fn tiny_network(arch: Arch) -> (Network, ChaCha8Rng) {
    let config = ModelConfig {
        arch,
        vocab_size: 8,
        embed: 8,
        hidden: 24,
        layers: 2,
        dense: 16,
        window: 12,
        repeats: false,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let params = initialise(config, &mut rng);
    let network = Network::new(&params, &Device::Cpu, DType::F32).unwrap();
    (network, rng)
}

/// Trains `network` on the one window `sequence` (12 inputs, each followed
/// by the next) for `steps` steps; the figures of the first and the last.
fn memorise(
    network: &mut Network,
    rng: &mut ChaCha8Rng,
    sequence: &[Step],
    kind: OptimizerKind,
    steps: usize,
) -> (Stats, Stats) {
    let batch = Batch {
        inputs: &sequence[..12],
        targets: &sequence[1..],
        windows: 1,
        steps: 12,
    };
    let vars = network.vars();
    let mut optimizer = Optimizer::new(kind, 0.01, vars.clone()).unwrap();
    let mut first = None;
    let mut last = Stats::default();
    for _ in 0..steps {
        let mut step = network
            .gradients(&batch, Positions::All, 0.0, 1.0, rng)
            .unwrap();
        last = step.stats;
        first.get_or_insert(step.stats);
        clip_gradients(&mut step.grads, &vars, 5.0).unwrap();
        optimizer.step(&step.grads).unwrap();
    }
    (first.unwrap(), last)
}

#[test]
fn a_tiny_model_memorises_a_short_sequence() {
    for kind in [OptimizerKind::RmsProp, OptimizerKind::AdamW] {
        let (mut network, mut rng) = tiny_network(Arch::Pianola);
        let sequence = [3u32, 1, 4, 1, 5, 2, 6, 5, 3, 5, 7, 0, 2].map(Step::token);
        let (first, last) = memorise(&mut network, &mut rng, &sequence, kind, 300);
        let (first, last) = (first.loss(), last.loss());
        assert!(first > 1.5, "{kind:?}: started at {first}");
        assert!(last < 0.05, "{kind:?}: loss still {last} after 300 steps");
    }
}

#[test]
fn a_tiny_event_network_memorises_every_field() {
    let (mut network, mut rng) = tiny_network(Arch::Events);
    let sequence: Vec<Step> = [3u32, 1, 4, 1, 5, 2, 6, 5, 3, 5, 7, 0, 2]
        .iter()
        .enumerate()
        .map(|(i, &what)| Step {
            what,
            when: [0, 6, 3, 12, 4][i % 5],
            hold: [6, 3, 12, 2][i % 4],
            velocity: [40, 100, 70][i % 3],
            lowest: [36, 60, 48, 72][i % 4],
        })
        .collect();
    let (first, last) = memorise(&mut network, &mut rng, &sequence, OptimizerKind::AdamW, 400);
    for head in Head::ALL {
        assert!(
            first.head_loss(head) > 1.0,
            "{head:?} started at {}",
            first.head_loss(head)
        );
        assert!(
            last.head_loss(head) < 0.05,
            "{head:?} still at {} after 400 steps",
            last.head_loss(head)
        );
    }
    assert!((last.loss() - Head::ALL.map(|h| last.head_loss(h)).iter().sum::<f64>()).abs() < 1e-9);
}

struct Quiet(Vec<f64>);

impl Progress for Quiet {
    fn batch(&mut self, _: usize, _: usize, _: usize, loss: f64, _: f64) {
        self.0.push(loss);
    }
    fn epoch(&mut self, _: &EpochRecord, _: bool) {}
}

/// Trains as `options` say, with no stop request.
fn train_to_the_end(options: &TrainOptions, progress: &mut Quiet) -> TrainReport {
    train(options, Arc::new(AtomicBool::new(false)), progress).unwrap()
}

/// Checks that the training loss fell by more than `by` from the first
/// epoch of `report` to its last.
fn assert_loss_fell(report: &TrainReport, by: f64, what: &str) {
    let (first, last) = (&report.history[0], report.history.last().unwrap());
    assert!(
        last.train_loss < first.train_loss - by,
        "{what}: {} → {}",
        first.train_loss,
        last.train_loss
    );
}

#[test]
fn training_on_three_songs_lowers_the_loss_and_writes_a_loadable_file() {
    let dir = std::env::temp_dir().join(format!("pianola-train-test-{}", std::process::id()));
    let corpus = dir.join("songs");
    std::fs::create_dir_all(&corpus).unwrap();
    let reference = pianola_tests_corpus();
    for name in ["8.mid", "Cids.mid", "ff7themep.mid"] {
        std::fs::copy(reference.join(name), corpus.join(name)).unwrap();
    }
    let options = TrainOptions {
        corpus: corpus.clone(),
        out: dir.join("model.safetensors"),
        arch: Arch::Pianola,
        epochs: 6,
        minutes: None,
        embed: 16,
        hidden: 32,
        layers: 2,
        dense: 32,
        window: 24,
        batch: 8,
        learning_rate: 3e-3,
        decay: false,
        average_from: None,
        pace_change: 2.0 / 3.0,
        what_weight: 1.0,
        optimizer: OptimizerKind::AdamW,
        dropout: 0.1,
        transpose: 3,
        validation_share: 0.34,
        test_share: 0.0,
        seed: 1,
        resume: None,
        init_from: None,
        clip: 5.0,
        device: Device::Cpu,
        eval_stride: 4,
        validate_every: 1e9,
        dtype: StoredDtype::F16,
        command: "test".into(),
        lstm: pianola_trainer::layers::LstmImpl::Fused,
        from: None,
        repeats: true,
    };
    let mut progress = Quiet(Vec::new());
    let report = train_to_the_end(&options, &mut progress);
    assert_eq!(report.history.len(), 6);
    assert_loss_fell(&report, 0.3, "tokens");
    let file = ModelFile::load(&options.out).unwrap();
    assert_eq!(file.info.corpus.songs, 3);
    assert_eq!(file.info.corpus.validation_songs.len(), 1);
    let best = report.best.unwrap();
    assert_eq!(file.info.training.validation_loss, Some(best.loss()));
    let csv = std::fs::read_to_string(dir.join("loss.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);

    // Resuming continues from the saved epochs with the same split.
    let resumed = TrainOptions {
        resume: Some(options.out.clone()),
        epochs: 1,
        out: dir.join("resumed.safetensors"),
        ..options.clone()
    };
    let report = train_to_the_end(&resumed, &mut progress);
    assert!(report.history[0].epoch > file.info.training.epochs);
    assert!(report.history[0].steps > file.info.training.steps);

    // Another network with the same seed holds out the same songs.
    let seed_arch = TrainOptions {
        arch: Arch::Seed,
        epochs: 1,
        out: dir.join("seed.safetensors"),
        ..options.clone()
    };
    train_to_the_end(&seed_arch, &mut progress);
    let seed_file = ModelFile::load(&seed_arch.out).unwrap();
    assert_eq!(
        seed_file.info.corpus.validation_songs,
        file.info.corpus.validation_songs
    );

    // The event network learns every head on the same songs, and records
    // each head's held-out cross-entropy.
    let events = TrainOptions {
        arch: Arch::Events,
        out: dir.join("events.safetensors"),
        ..options.clone()
    };
    let report = train_to_the_end(&events, &mut progress);
    assert_loss_fell(&report, 1.0, "events");
    let events_file = ModelFile::load(&events.out).unwrap();
    let heads = &events_file.info.training.validation_heads;
    assert_eq!(heads.len(), 5);
    let sum: f64 = heads.iter().map(|(_, loss)| loss).sum();
    assert!((sum - events_file.info.training.validation_loss.unwrap()).abs() < 1e-6);
    // Every head learns to predict the held-out song better than chance (a
    // uniform guess over its classes) in the run.
    let vocab = events_file.params.config.vocab_size;
    for head in Head::ALL {
        let best = report
            .history
            .iter()
            .map(|r| r.validation.head_loss(head))
            .fold(f64::INFINITY, f64::min);
        let chance = (head.classes(vocab) as f64).ln();
        assert!(best < chance - 0.1, "{head:?}: {best} vs chance {chance}");
    }
    for (head, (name, _)) in Head::ALL.iter().zip(heads) {
        assert_eq!(head.name(), name);
    }

    // An event network started from the token network predicts the notes
    // as it does (its extra inputs and conditions start at zero): with a
    // learning rate of 0 its held-out notes score what the token model's did.
    let from_tokens = TrainOptions {
        arch: Arch::Events,
        init_from: Some(options.out.clone()),
        learning_rate: 0.0,
        epochs: 1,
        out: dir.join("from-tokens.safetensors"),
        ..options.clone()
    };
    train_to_the_end(&from_tokens, &mut progress);
    let started = ModelFile::load(&from_tokens.out).unwrap();
    let what = started.info.training.validation_heads[Head::What.index()].1;
    let token_loss = file.info.training.validation_loss.unwrap();
    assert!(
        (what - token_loss).abs() < 0.01,
        "started at {what}, the token model scores {token_loss}"
    );

    // A stop request ends the run before any batch.
    let stopped = train(&options, Arc::new(AtomicBool::new(true)), &mut progress).unwrap();
    assert!(stopped.interrupted && stopped.history.is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn pianola_tests_corpus() -> std::path::PathBuf {
    pianola_core::corpus::reference_corpus_dir()
}
