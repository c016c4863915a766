//! One training step (forward, backward, clipping, optimiser) of the candle
//! trainer, with the fused LSTM op and step by step under autograd side by
//! side: the default network (2 × LSTM 256, embedding 64, 607 tokens,
//! AdamW, dropout 0.5) at batch 16, the token network of that size at
//! batch 16 and 64, and the seed's size (3 × LSTM 512, 358 tokens, RMSprop,
//! dropout 0.3) at batch 64, windows of 100 tokens; and the default network
//! with the notes head's repeat prior, the built-in model's since
//! 2026-12-07.
//!
//! Threads come from `RAYON_NUM_THREADS` (default 1): run `RAYON_NUM_THREADS=1 cargo bench -p pianola-trainer --bench training`
//! and again with 2.

use std::hint::black_box;

use candle_core::{DType, Device};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pianola_core::model::{Arch, ModelConfig};
use pianola_trainer::data::Step;
use pianola_trainer::init::initialise;
use pianola_trainer::layers::LstmImpl;
use pianola_trainer::network::{Batch, Network, Positions};
use pianola_trainer::optim::{Optimizer, OptimizerKind, clip_gradients};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    arch: Arch,
    hidden: usize,
    layers: usize,
    vocab: usize,
    windows: usize,
    optimizer: OptimizerKind,
    dropout: f32,
    repeats: bool,
}

const STEPS: usize = 100;

fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn training_step(c: &mut Criterion) {
    let threads = threads();
    // SAFETY: criterion has started no threads yet.
    unsafe { pianola_trainer::device::set_threads(Some(threads)) };
    pianola_trainer::allocator::keep_buffers();
    // The default network; the other cases differ from it as they say.
    let default = Case {
        name: "2x256_b16",
        arch: Arch::Pianola,
        hidden: 256,
        layers: 2,
        vocab: 607,
        windows: 16,
        optimizer: OptimizerKind::AdamW,
        dropout: 0.5,
        repeats: false,
    };
    let cases = [
        Case {
            name: "events_2x256_b16",
            arch: Arch::Events,
            ..default
        },
        Case {
            name: "events_2x256_b16_repeat_prior",
            arch: Arch::Events,
            repeats: true,
            ..default
        },
        default,
        Case {
            name: "2x256_b64",
            windows: 64,
            ..default
        },
        Case {
            name: "3x512_b64",
            hidden: 512,
            layers: 3,
            vocab: 358,
            windows: 64,
            optimizer: OptimizerKind::RmsProp,
            dropout: 0.3,
            ..default
        },
    ];
    for case in cases {
        let config = ModelConfig {
            arch: case.arch,
            vocab_size: case.vocab,
            embed: 64,
            hidden: case.hidden,
            layers: case.layers,
            dense: 256,
            window: STEPS,
            repeats: case.repeats,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let params = initialise(config, &mut rng);
        let n = case.windows * STEPS;
        let step = |i: usize, k: usize| Step {
            what: (i * k % case.vocab) as u32,
            when: (i * 5 % 13) as u32,
            hold: (i * 7 % 25) as u32,
            velocity: (30 + i * 11 % 90) as u8,
            lowest: (30 + i * 13 % 60) as u8,
        };
        let inputs: Vec<Step> = (0..n).map(|i| step(i, 31)).collect();
        let targets: Vec<Step> = (0..n).map(|i| step(i, 17)).collect();

        let mut group = c.benchmark_group(format!("train_step_{}", case.name));
        group.sample_size(10);
        group.throughput(Throughput::Elements(n as u64));

        let batch = Batch {
            inputs: &inputs,
            targets: &targets,
            windows: case.windows,
            steps: STEPS,
        };
        for lstm in [LstmImpl::Fused, LstmImpl::Autograd] {
            let mut network = Network::new(&params, &Device::Cpu, DType::F32).unwrap();
            network.set_lstm(lstm);
            let vars = network.vars();
            let mut optimizer = Optimizer::new(case.optimizer, 1e-4, vars.clone()).unwrap();
            group.bench_function(format!("{}_{threads}_threads", lstm.name()), |b| {
                b.iter(|| {
                    let mut step = network
                        .gradients(&batch, Positions::All, case.dropout, 1.0, &mut rng)
                        .unwrap();
                    clip_gradients(&mut step.grads, &vars, 5.0).unwrap();
                    optimizer.step(&step.grads).unwrap();
                    black_box(step.stats)
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, training_step);
criterion_main!(benches);
