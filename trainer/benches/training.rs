//! One training step (forward, backward, clipping, RMSprop) of the default
//! network on a batch of 64 windows of 100 tokens, on one thread and on two.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pianola_core::model::{Arch, ModelConfig};
use pianola_trainer::init::initialise;
use pianola_trainer::network::{Batch, Mode, Positions, Workspace, run_batch};
use pianola_trainer::optim::{Optimizer, OptimizerKind, clip_gradients};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn training_step(c: &mut Criterion) {
    let config = ModelConfig {
        arch: Arch::Pianola,
        vocab_size: 358,
        embed: 64,
        hidden: 512,
        layers: 3,
        dense: 256,
        window: 100,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut params = initialise(config, &mut rng);
    let (windows, steps) = (64, 100);
    let inputs: Vec<u32> = (0..windows * steps)
        .map(|i| (i * 31 % 358) as u32)
        .collect();
    let targets: Vec<u32> = (0..windows * steps)
        .map(|i| (i * 17 % 358) as u32)
        .collect();
    let batch = Batch {
        inputs: &inputs,
        targets: &targets,
        windows,
        steps,
    };
    let mut grads = params.clone();
    let mut optimizer = Optimizer::new(OptimizerKind::RmsProp, 1e-4, &params);
    let mut ws = Workspace::default();
    let mut group = c.benchmark_group("train_step_64x100_3x512");
    group.sample_size(10);
    group.throughput(Throughput::Elements((windows * steps) as u64));
    for threads in [1, 2] {
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| {
                let mode = Mode::Train {
                    grads: &mut grads,
                    dropout: 0.3,
                    rng: &mut rng,
                };
                let stats = run_batch(&mut params, &batch, Positions::All, mode, &mut ws, threads);
                clip_gradients(&mut grads, 5.0);
                optimizer.step(&mut params, &grads);
                black_box(stats)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, training_step);
criterion_main!(benches);
