//! One prediction step and a full-window re-prime of a network of the
//! seed's sizes (3 × LSTM 512, embedding 64, dense 256, 358 tokens), and
//! one step of the built-in event network with all five heads.
//! Speed does not depend on the weights' values, so they are made up.

#[path = "../tests/common/model.rs"]
mod model;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use model::made_up_file;
use pianola_core::model::Arch;
use pianola_core::{Network, PitchClassSet, Predictor, Token, Vocab};

fn network() -> Arc<Network> {
    let notes = (0..128).map(Token::Note);
    let chords = (1..=230u16).map(|m| Token::Chord(PitchClassSet::from_mask(m).unwrap()));
    let vocab = Vocab::from_tokens(notes.chain(chords));
    let file = made_up_file(vocab, Arch::Pianola, 358, [64, 512, 3, 256, 100], |t, i| {
        (((t * 7919 + i * 104_729) % 2001) as f32 / 1000.0 - 1.0) * 0.05
    });
    Arc::new(Network::new(&file).unwrap())
}

fn predictor(c: &mut Criterion) {
    let network = network();
    let mut predictor = Predictor::new(network);
    let window: Vec<usize> = (0..100).map(|i| (i * 37) % 358).collect();
    predictor.prime(&window);
    let mut next = 0;
    c.bench_function("feed_step_3x512", |b| {
        b.iter(|| {
            next = (next + 13) % 358;
            predictor.feed(black_box(next));
            black_box(predictor.probabilities()[0])
        })
    });
    c.bench_function("prime_100_tokens_3x512", |b| {
        b.iter(|| {
            predictor.prime(black_box(&window));
            black_box(predictor.probabilities()[0])
        })
    });
}

/// One event in, the next event's five heads out, on the built-in model.
fn event_step(c: &mut Criterion) {
    use pianola_core::event::EventClasses;
    use pianola_core::model::Head;
    let file = pianola_core::default_model::load().unwrap();
    let vocab = file.vocab.len();
    let mut predictor = Predictor::new(Arc::new(Network::new(&file).unwrap()));
    let event = |i: usize| EventClasses {
        what: (i * 37) % vocab,
        when: (i * 5) % 13,
        hold: 6,
        velocity: 4,
        register: 4,
    };
    let window: Vec<EventClasses> = (0..100).map(event).collect();
    predictor.prime_events(&window);
    let mut i = 0;
    c.bench_function("event_step_builtin_all_heads", |b| {
        b.iter(|| {
            i += 1;
            predictor.feed_event(black_box(&event(i)));
            let chosen = event(i + 1);
            let mut sum = 0.0;
            for head in Head::ALL {
                sum += predictor.head_logits(head, &chosen)[0];
            }
            black_box(sum)
        })
    });
}

criterion_group!(benches, predictor, event_step);
criterion_main!(benches);
