//! candle's gradients of the network against central finite differences,
//! in f64 on the CPU, for every network, with and without dropout, with the
//! fused LSTM op (the default) and step by step under autograd; and the
//! two LSTM paths against each other at the trainer's f32.

use candle_core::{DType, Device, Tensor};
use pianola_core::model::{Arch, ModelConfig, Params};
use pianola_trainer::data::Step;
use pianola_trainer::init::initialise;
use pianola_trainer::layers::LstmImpl;
use pianola_trainer::network::{Batch, Gradients, Network, Positions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A network of `arch` over `vocab_size` tokens, two LSTM layers, and
/// `sizes` (embedding width, LSTM units, dense units, window); the seed's
/// network embeds its tokens as one scalar.
fn config(arch: Arch, vocab_size: usize, sizes: [usize; 4]) -> ModelConfig {
    let [embed, hidden, dense, window] = sizes;
    ModelConfig {
        arch,
        vocab_size,
        embed: if arch == Arch::Seed { 1 } else { embed },
        hidden,
        layers: 2,
        dense,
        window,
        repeats: arch != Arch::Seed,
    }
}

/// The network of `arch` the finite-difference checks use.
fn tiny(arch: Arch) -> ModelConfig {
    config(arch, 7, [3, 5, 4, 6])
}

/// Windows of steps whose every field varies (token networks read `what`
/// alone).
fn batch_data(windows: usize, steps: usize, vocab: u32) -> (Vec<Step>, Vec<Step>) {
    let sequence: Vec<Step> = (0..(windows * (steps + 1)) as u32)
        .map(|i| Step {
            what: (i * 5 + i / 3) % vocab,
            when: (i * 7) % 53,
            hold: (i * 11) % 50,
            velocity: (1 + (i * 37) % 127) as u8,
            lowest: (20 + (i * 13) % 100) as u8,
        })
        .collect();
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for w in 0..windows {
        let s = &sequence[w * (steps + 1)..(w + 1) * (steps + 1)];
        inputs.extend_from_slice(&s[..steps]);
        targets.extend_from_slice(&s[1..]);
    }
    (inputs, targets)
}

/// Windows and steps of the batches the checks use.
const WINDOWS: usize = 8;
const STEPS: usize = 6;

/// `data` from [`batch_data`] as a batch of [`WINDOWS`] × [`STEPS`].
fn batch_of(data: &(Vec<Step>, Vec<Step>)) -> Batch<'_> {
    Batch {
        inputs: &data.0,
        targets: &data.1,
        windows: WINDOWS,
        steps: STEPS,
    }
}

/// A network of `params` computing in `dtype` with the LSTM `lstm`.
fn network_of(params: &Params, dtype: DType, lstm: LstmImpl) -> Network {
    let mut network = Network::new(params, &Device::Cpu, dtype).unwrap();
    network.set_lstm(lstm);
    network
}

/// The gradients of `network` on `batch`, with dropout masks drawn from
/// `seed`.
fn gradients(
    network: &mut Network,
    batch: &Batch,
    positions: Positions,
    dropout: f32,
    seed: u64,
) -> Gradients {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    network
        .gradients(batch, positions, dropout, 1.0, &mut rng)
        .unwrap()
}

/// The mean loss with dropout masks drawn from a fixed seed.
fn loss(network: &mut Network, batch: &Batch, positions: Positions, dropout: f32) -> f64 {
    gradients(network, batch, positions, dropout, 7)
        .stats
        .loss()
}

fn check(arch: Arch, positions: Positions, dropout: f32) {
    check_with(arch, positions, dropout, LstmImpl::Fused);
}

#[test]
fn the_autograd_lstm_matches_finite_differences() {
    check_with(Arch::Events, Positions::All, 0.3, LstmImpl::Autograd);
}

fn check_with(arch: Arch, positions: Positions, dropout: f32, lstm: LstmImpl) {
    let mut params = initialise(tiny(arch), &mut ChaCha8Rng::seed_from_u64(1));
    // Move batch-norm parameters and biases off their initial values.
    for values in params.tensors.iter_mut() {
        for (i, v) in values.iter_mut().enumerate() {
            *v += 0.05 * ((i % 5) as f32 - 2.0);
        }
    }
    let data = batch_data(WINDOWS, STEPS, 7);
    let batch = batch_of(&data);
    let mut network = network_of(&params, DType::F64, lstm);
    let step = gradients(&mut network, &batch, positions, dropout, 7);

    let eps = 1e-6;
    let mut checked = 0;
    let vars: Vec<_> = network
        .named_vars()
        .into_iter()
        .map(|(n, v)| (n, v.clone()))
        .collect();
    for (name, var) in vars {
        let analytic: Vec<f64> = step
            .grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{name} has no gradient"))
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let shape = var.shape().clone();
        let original: Vec<f64> = var.flatten_all().unwrap().to_vec1().unwrap();
        let set = |values: &[f64]| {
            let t = Tensor::from_slice(values, &shape, &Device::Cpu).unwrap();
            var.set(&t).unwrap();
        };
        for k in 0..original.len() {
            let mut moved = original.clone();
            moved[k] = original[k] + eps;
            set(&moved);
            let up = loss(&mut network, &batch, positions, dropout);
            moved[k] = original[k] - eps;
            set(&moved);
            let down = loss(&mut network, &batch, positions, dropout);
            set(&original);
            let numeric = (up - down) / (2.0 * eps);
            assert!(
                (numeric - analytic[k]).abs() <= 1e-7 + 1e-5 * analytic[k].abs(),
                "{arch:?} {lstm:?} {name} [{k}]: numeric {numeric} vs analytic {}",
                analytic[k]
            );
            checked += 1;
        }
    }
    assert!(checked > 300, "only {checked} checked");
}

/// A test for each `name: arch, positions, dropout;` that [`check`]s the
/// gradients of that network.
macro_rules! gradient_checks {
    ($($name:ident: $arch:ident, $positions:ident, $dropout:literal;)*) => {
        $(
            #[test]
            fn $name() {
                check(Arch::$arch, Positions::$positions, $dropout);
            }
        )*
    };
}

gradient_checks! {
    pianola_gradients_match_finite_differences: Pianola, All, 0.0;
    pianola_gradients_match_with_dropout: Pianola, All, 0.3;
    event_network_gradients_match_finite_differences: Events, All, 0.0;
    event_network_gradients_match_with_dropout: Events, All, 0.3;
    seed_gradients_match_finite_differences: Seed, Last, 0.0;
    seed_gradients_match_with_dropout: Seed, Last, 0.3;
}

#[test]
fn the_what_weight_scales_the_notes_gradients_alone() {
    let params = initialise(tiny(Arch::Events), &mut ChaCha8Rng::seed_from_u64(1));
    let data = batch_data(WINDOWS, STEPS, 7);
    let batch = batch_of(&data);
    let mut network = Network::new(&params, &Device::Cpu, DType::F64).unwrap();
    let mut gradient = |what_weight: f64, name: &str| -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let step = network
            .gradients(&batch, Positions::All, 0.0, what_weight, &mut rng)
            .unwrap();
        let vars = network.named_vars();
        let (_, var) = vars.iter().find(|(n, _)| n == name).unwrap();
        let grad = step.grads.get(var.as_tensor()).unwrap();
        grad.flatten_all().unwrap().to_vec1().unwrap()
    };
    // The notes' output layer feeds the notes' head alone: its gradient
    // triples; the lengths' output layer's stays as it was.
    let (what_once, what_thrice) = (
        gradient(1.0, "output.weight"),
        gradient(3.0, "output.weight"),
    );
    for (once, thrice) in what_once.iter().zip(&what_thrice) {
        assert!((3.0 * once - thrice).abs() <= 1e-12 + 1e-9 * thrice.abs());
    }
    assert!(what_once.iter().any(|g| g.abs() > 1e-6));
    let (hold_once, hold_thrice) = (
        gradient(1.0, "hold_output.weight"),
        gradient(3.0, "hold_output.weight"),
    );
    assert_eq!(hold_once, hold_thrice);
    // The shared layers feel the weight.
    assert_ne!(gradient(1.0, "dense.weight"), gradient(3.0, "dense.weight"));
}

/// The fused LSTM op and the step-by-step autograd LSTM give the same loss
/// (to 1e-5 of it) and the same gradients (to `tolerance` of each tensor's
/// largest) at the trainer's f32, on a network big enough for the products
/// to round differently.
fn fused_matches_autograd(arch: Arch, positions: Positions, dropout: f32, tolerance: f32) {
    let config = config(arch, 23, [12, 32, 16, 20]);
    let params = initialise(config, &mut ChaCha8Rng::seed_from_u64(3));
    let (windows, steps) = (6, 20);
    let data = batch_data(windows, steps, 23);
    let batch = Batch {
        inputs: &data.0,
        targets: &data.1,
        windows,
        steps,
    };
    let run = |lstm: LstmImpl| {
        let mut network = network_of(&params, DType::F32, lstm);
        let step = gradients(&mut network, &batch, positions, dropout, 11);
        let grads: Vec<(String, Vec<f32>)> = network
            .named_vars()
            .into_iter()
            .map(|(name, var)| {
                let grad = step.grads.get(var.as_tensor()).unwrap();
                (name, grad.flatten_all().unwrap().to_vec1().unwrap())
            })
            .collect();
        (step.stats.loss(), grads)
    };
    let (fused_loss, fused) = run(LstmImpl::Fused);
    let (autograd_loss, autograd) = run(LstmImpl::Autograd);
    assert!(
        (fused_loss - autograd_loss).abs() <= 1e-5 * autograd_loss.abs(),
        "{arch:?}: loss {fused_loss} fused, {autograd_loss} autograd"
    );
    for ((name, f), (_, a)) in fused.iter().zip(&autograd) {
        let largest = a.iter().fold(0f32, |m, g| m.max(g.abs()));
        assert!(largest > 0.0, "{arch:?} {name}: no gradient");
        for (k, (x, y)) in f.iter().zip(a).enumerate() {
            assert!(
                (x - y).abs() <= tolerance * largest,
                "{arch:?} {name} [{k}]: fused {x}, autograd {y} (largest {largest})"
            );
        }
    }
}

// The event and token networks to 1e-5; the seed's network, whose only
// loss is at the last step and whose batch norms divide by small spreads,
// to 1e-4 (its f32 rounding differs by up to 2e-5 of the largest
// gradient; both paths match finite differences in f64 above).
#[test]
fn the_fused_lstm_matches_autograd_for_every_network() {
    fused_matches_autograd(Arch::Events, Positions::All, 0.0, 1e-5);
    fused_matches_autograd(Arch::Pianola, Positions::All, 0.0, 1e-5);
    fused_matches_autograd(Arch::Seed, Positions::Last, 0.0, 1e-4);
}

#[test]
fn the_fused_lstm_matches_autograd_with_dropout() {
    fused_matches_autograd(Arch::Events, Positions::All, 0.4, 1e-5);
    fused_matches_autograd(Arch::Pianola, Positions::All, 0.4, 1e-5);
    fused_matches_autograd(Arch::Seed, Positions::Last, 0.4, 1e-4);
}

#[test]
fn the_fused_layer_matches_finite_differences() {
    use candle_core::Var;
    use pianola_trainer::fused_lstm::LstmLayer;
    let (steps, batch, input, hidden) = (5, 3, 2, 4);
    let width = input + hidden + 1;
    let value = |i: usize, scale: f64| ((i * 7919 % 1013) as f64 / 1013.0 - 0.5) * scale;
    let x: Vec<f64> = (0..steps * batch * input).map(|i| value(i, 3.0)).collect();
    let w: Vec<f64> = (0..4 * hidden * width)
        .map(|i| value(i + 17, 1.5))
        .collect();
    let weights: Vec<f64> = (0..steps * batch * hidden)
        .map(|i| value(i + 5, 2.0))
        .collect();
    let x = Var::from_tensor(&Tensor::from_vec(x, (steps * batch, input), &Device::Cpu).unwrap())
        .unwrap();
    let w =
        Var::from_tensor(&Tensor::from_vec(w, (4 * hidden, width), &Device::Cpu).unwrap()).unwrap();
    let r = Tensor::from_vec(weights, (steps * batch, hidden), &Device::Cpu).unwrap();
    // A loss that weighs every output differently.
    let loss = |x: &Tensor, w: &Tensor| -> Tensor {
        let out = x.apply_op2(w, LstmLayer::new(batch)).unwrap();
        (out * &r).unwrap().sum_all().unwrap()
    };
    let grads = loss(x.as_tensor(), w.as_tensor()).backward().unwrap();
    let eps = 1e-6;
    // The inputs, and the weights W_ih, W_hh and the bias side by side.
    for (name, var) in [("X", &x), ("[W_ih | W_hh | b]", &w)] {
        let analytic: Vec<f64> = grads
            .get(var.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let original: Vec<f64> = var.flatten_all().unwrap().to_vec1().unwrap();
        let shape = var.shape().clone();
        for k in 0..original.len() {
            let at = |delta: f64| {
                let mut moved = original.clone();
                moved[k] += delta;
                let t = Tensor::from_vec(moved, &shape, &Device::Cpu).unwrap();
                let l = if name == "X" {
                    loss(&t, w.as_tensor())
                } else {
                    loss(x.as_tensor(), &t)
                };
                l.to_scalar::<f64>().unwrap()
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            assert!(
                (numeric - analytic[k]).abs() <= 1e-7 + 1e-6 * analytic[k].abs(),
                "{name} [{k}]: numeric {numeric} vs analytic {}",
                analytic[k]
            );
        }
    }
}
