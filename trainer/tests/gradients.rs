//! The hand-written backward pass against finite differences, and a tiny
//! model that must learn.

use pianola_core::model::{Arch, ModelConfig, Params};
use pianola_trainer::init::initialise;
use pianola_trainer::network::{Batch, Mode, Positions, Workspace, run_batch};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn tiny(arch: Arch) -> ModelConfig {
    ModelConfig {
        arch,
        vocab_size: 7,
        embed: if arch == Arch::Seed { 1 } else { 3 },
        hidden: 5,
        layers: 2,
        dense: 4,
        window: 6,
    }
}

fn batch_data(windows: usize, steps: usize, vocab: u32) -> (Vec<u32>, Vec<u32>) {
    let sequence: Vec<u32> = (0..windows * (steps + 1))
        .map(|i| ((i * 5 + i / 3) as u32) % vocab)
        .collect();
    let mut inputs = Vec::new();
    let mut targets = Vec::new();
    for w in 0..windows {
        let s = &sequence[w * (steps + 1)..(w + 1) * (steps + 1)];
        inputs.extend_from_slice(&s[..steps]);
        targets.extend_from_slice(&s[1..]);
    }
    (inputs, targets)
}

/// The mean loss with dropout masks drawn from a fixed seed.
fn loss(params: &mut Params, batch: &Batch, positions: Positions, dropout: f32) -> f64 {
    let mut grads = params.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mode = Mode::Train {
        grads: &mut grads,
        dropout,
        rng: &mut rng,
    };
    run_batch(params, batch, positions, mode, &mut Workspace::default(), 1).loss()
}

fn check(arch: Arch, positions: Positions, dropout: f32) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut params = initialise(tiny(arch), &mut rng);
    // Move batch-norm parameters and biases off their initial values.
    for values in params.tensors.iter_mut() {
        for (i, v) in values.iter_mut().enumerate() {
            *v += 0.05 * ((i % 5) as f32 - 2.0);
        }
    }
    let windows = 8;
    let (inputs, targets) = batch_data(windows, 6, 7);
    let batch = Batch {
        inputs: &inputs,
        targets: &targets,
        windows,
        steps: 6,
    };
    let mut grads = params.clone();
    let mut drop_rng = ChaCha8Rng::seed_from_u64(7);
    let mode = Mode::Train {
        grads: &mut grads,
        dropout,
        rng: &mut drop_rng,
    };
    run_batch(
        &mut params,
        &batch,
        positions,
        mode,
        &mut Workspace::default(),
        1,
    );

    // Central differences in f32 are noisy, and a ReLU or a small batch
    // norm can put a kink within one step: an element passes if any of three
    // step sizes agrees, and nearly all must agree at the first.
    let steps = [3e-3f32, 1e-2, 1e-3];
    let mut checked = 0;
    let mut first_step_agrees = 0;
    for (index, spec) in params.specs().to_vec().iter().enumerate() {
        if !spec.trainable {
            continue;
        }
        for k in (0..spec.len()).step_by(3) {
            let analytic = f64::from(grads.tensors[index][k]);
            let original = params.tensors[index][k];
            let mut numerics = Vec::new();
            for eps in steps {
                params.tensors[index][k] = original + eps;
                let up = loss(&mut params, &batch, positions, dropout);
                params.tensors[index][k] = original - eps;
                let down = loss(&mut params, &batch, positions, dropout);
                params.tensors[index][k] = original;
                numerics.push((up - down) / (2.0 * f64::from(eps)));
            }
            let agrees = |numeric: f64| (numeric - analytic).abs() <= 2e-3 + 2e-2 * analytic.abs();
            assert!(
                numerics.iter().any(|n| agrees(*n)),
                "{arch:?} {} [{k}]: numeric {numerics:?} vs analytic {analytic:.6}",
                spec.name
            );
            first_step_agrees += usize::from(agrees(numerics[0]));
            checked += 1;
        }
    }
    assert!(
        first_step_agrees * 100 >= checked * 95,
        "{first_step_agrees} of {checked} agree at the first step"
    );
    assert!(checked > 100, "only {checked} checked");
}

#[test]
fn pianola_gradients_match_finite_differences() {
    check(Arch::Pianola, Positions::All, 0.0);
}

#[test]
fn pianola_gradients_match_with_dropout() {
    check(Arch::Pianola, Positions::All, 0.3);
}

#[test]
fn seed_gradients_match_finite_differences() {
    check(Arch::Seed, Positions::Last, 0.0);
}

#[test]
fn seed_gradients_match_with_dropout() {
    check(Arch::Seed, Positions::Last, 0.3);
}
