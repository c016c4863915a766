//! The candle network against the hand-written passes it replaces: on the
//! same weights, batch and dropout masks, the same loss and the same
//! gradient for every weight.

use candle_core::{DType, Device};
use pianola_core::model::{Arch, ModelConfig, Params};
use pianola_trainer::hand::{Mode, Workspace, run_batch};
use pianola_trainer::init::initialise;
use pianola_trainer::network::{Batch, Network, Positions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const TOLERANCE: f64 = 1e-4;

fn config(arch: Arch) -> ModelConfig {
    ModelConfig {
        arch,
        vocab_size: 41,
        embed: if arch == Arch::Seed { 1 } else { 12 },
        hidden: 24,
        layers: 2,
        dense: 20,
        window: 15,
    }
}

fn batch_data(windows: usize, steps: usize, vocab: u32) -> (Vec<u32>, Vec<u32>) {
    let sequence: Vec<u32> = (0..windows * (steps + 1))
        .map(|i| ((i * 7 + i / 3 + i * i / 11) as u32) % vocab)
        .collect();
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for w in 0..windows {
        let s = &sequence[w * (steps + 1)..(w + 1) * (steps + 1)];
        inputs.extend_from_slice(&s[..steps]);
        targets.extend_from_slice(&s[1..]);
    }
    (inputs, targets)
}

fn relative(a: f64, b: f64, scale: f64) -> f64 {
    (a - b).abs() / scale.max(f64::MIN_POSITIVE)
}

fn check(arch: Arch, positions: Positions, dropout: f32) {
    let mut params = initialise(config(arch), &mut ChaCha8Rng::seed_from_u64(3));
    // Biases and batch-norm parameters off their initial values.
    for values in params.tensors.iter_mut() {
        for (i, v) in values.iter_mut().enumerate() {
            *v += 0.05 * ((i % 5) as f32 - 2.0);
        }
    }
    let (windows, steps) = (6, 15);
    let (inputs, targets) = batch_data(windows, steps, 41);
    let batch = Batch {
        inputs: &inputs,
        targets: &targets,
        windows,
        steps,
    };

    let mut network = Network::new(&params, &Device::Cpu, DType::F32).unwrap();
    let step = network
        .gradients(
            &batch,
            positions,
            dropout,
            &mut ChaCha8Rng::seed_from_u64(7),
        )
        .unwrap();
    let candle_grads = network.gradients_as_params(&step.grads).unwrap();
    let candle_after = network.params().unwrap();

    let mut hand_params: Params = params.clone();
    let mut hand_grads = params.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mode = Mode::Train {
        grads: &mut hand_grads,
        dropout,
        rng: &mut rng,
    };
    let hand_stats = run_batch(
        &mut hand_params,
        &batch,
        positions,
        mode,
        &mut Workspace::default(),
        1,
    );

    let (a, b) = (step.stats.loss(), hand_stats.loss());
    assert!(
        relative(a, b, b.abs()) <= TOLERANCE,
        "{arch:?} loss: candle {a} vs hand {b}"
    );
    assert_eq!(step.stats.count, hand_stats.count);

    // Each gradient tensor to 1e-4 relative: the difference's L2 norm
    // against the tensor's, and every element against the tensor's largest
    // (an element-by-element ratio is meaningless where an element is a
    // rounding-level cancellation).
    let mut worst: f64 = 0.0;
    for (index, spec) in params.specs().iter().enumerate() {
        let (ours, theirs) = if spec.trainable {
            (&candle_grads.tensors[index], &hand_grads.tensors[index])
        } else {
            // Running statistics: both updated the same way.
            (&candle_after.tensors[index], &hand_params.tensors[index])
        };
        let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
        let size = norm(&mut theirs.iter().map(|&g| f64::from(g)));
        let difference = norm(&mut ours.iter().zip(theirs).map(|(&x, &y)| f64::from(x - y)));
        let largest = theirs
            .iter()
            .map(|g| f64::from(g.abs()))
            .fold(0.0, f64::max);
        assert!(size > 0.0, "{arch:?} {}: all zero", spec.name);
        let tensor_error = relative(difference, 0.0, size);
        worst = worst.max(tensor_error);
        assert!(
            tensor_error <= TOLERANCE,
            "{arch:?} {}: relative difference {tensor_error:.2e}",
            spec.name
        );
        for (k, (x, y)) in ours.iter().zip(theirs).enumerate() {
            let (x, y) = (f64::from(*x), f64::from(*y));
            let error = relative(x, y, largest);
            worst = worst.max(error);
            assert!(
                error <= TOLERANCE,
                "{arch:?} {} [{k}]: candle {x} vs hand {y} (largest {largest})",
                spec.name
            );
        }
    }
    eprintln!(
        "{arch:?} {positions:?} dropout {dropout}: loss {a:.6}, worst relative gradient difference {worst:.2e}"
    );
}

#[test]
fn pianola_network_equals_the_hand_passes() {
    check(Arch::Pianola, Positions::All, 0.0);
    check(Arch::Pianola, Positions::Last, 0.0);
}

#[test]
fn pianola_network_equals_the_hand_passes_with_the_same_dropout_masks() {
    check(Arch::Pianola, Positions::All, 0.3);
}

#[test]
fn seed_network_equals_the_hand_passes() {
    check(Arch::Seed, Positions::Last, 0.0);
    check(Arch::Seed, Positions::All, 0.0);
}

#[test]
fn seed_network_equals_the_hand_passes_with_the_same_dropout_masks() {
    check(Arch::Seed, Positions::Last, 0.3);
}
