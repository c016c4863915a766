//! The session memory's cost on the worker: one recall for the context's
//! end and the five heads' distributions, with a full memory (real music's
//! short matches, and a looped phrase's long ones at every cycle).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pianola_core::event::EventClasses;
use pianola_core::memory::{CAPACITY, Heard, SessionMemory};
use pianola_core::model::Head;
use pianola_core::token::Token;

fn heard(what: usize, player: bool) -> Heard {
    // An eighth after the last, at velocity 72, from middle C.
    let classes = EventClasses::on_grid(what, Token::Note(60), 6, 72);
    Heard { classes, player }
}

fn memory(c: &mut Criterion) {
    // A pseudo-random walk over 60 tokens (short matches), and a loop of
    // 13 tokens (a match of every length at every 13th place).
    let walk: Vec<Heard> = (0..CAPACITY)
        .map(|i| heard((i * 7919 + i / 3) % 60, i % 3 != 0))
        .collect();
    let looped: Vec<Heard> = (0..CAPACITY).map(|i| heard(i % 13, i % 2 == 0)).collect();
    for (name, events) in [("memory_recall_walk", walk), ("memory_recall_loop", looped)] {
        let mut memory = SessionMemory::new(CAPACITY);
        for &h in &events {
            memory.remember(h);
        }
        let context = &events[events.len() - 32..];
        let mut out = vec![0.0f32; 607];
        c.bench_function(name, |b| {
            b.iter(|| {
                let confidence = memory.recall(black_box(context));
                let chosen = context[context.len() - 1].classes;
                let mut total = confidence;
                for head in Head::ALL {
                    total += memory.distribution(head, Some(&chosen), &mut out);
                }
                black_box(total)
            })
        });
    }
}

criterion_group!(benches, memory);
criterion_main!(benches);
