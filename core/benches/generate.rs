//! `pianola generate`'s work on the built-in model: prime 100 events, then
//! sample and feed 500, at the default sampling settings.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use pianola_core::event::{Event, EventClasses};
use pianola_core::sample::{Rhythm, continue_events};
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, default_model};

fn generate(c: &mut Criterion) {
    let model = default_model::load().unwrap();
    let network = Arc::new(Network::new(&model).unwrap());
    let mut predictor = Predictor::new(network);
    let primer: Vec<Event> = (0..100)
        .filter_map(|i| {
            let what = (i * 37) % model.vocab.len();
            let token = model.vocab.token(what).unwrap();
            EventClasses::on_grid(what, token, 6, 80).to_event(&model.vocab)
        })
        .collect();
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.bench_function("500_notes_default_model", |b| {
        b.iter(|| {
            let mut sampler = Sampler::new(SamplerSettings::default(), &model.vocab, 1);
            black_box(continue_events(
                &mut predictor,
                &mut sampler,
                &primer,
                500,
                Rhythm::Model,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
