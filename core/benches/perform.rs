//! The performer's real-time cost: one `process` call for a 512-sample
//! block at 48 kHz, with and without player events; and the worker's time
//! from a new token to a ready prediction, on the built-in model, with the
//! network alone and with a full session memory.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use pianola_core::memory;
use pianola_core::perform::{
    NoteEvent, Performer, PerformerSettings, SavedEvent, SavedSession, Transport,
};
use pianola_core::{Network, SamplerSettings, Token, default_model};

fn perform(c: &mut Criterion) {
    let model = default_model::load().unwrap();
    let network = Arc::new(Network::new(&model).unwrap());
    let (mut performer, mut worker) = Performer::new(network, PerformerSettings::default(), 1);
    let mut position = 0.0;
    let frames = 512u32;
    let beats_per_block =
        f64::from(frames) / pianola_core::tempo::samples_per_beat(48_000.0, 120.0);
    let mut block = |performer: &mut Performer, input: &[NoteEvent]| {
        let transport = Transport {
            sample_rate: 48_000.0,
            tempo: Some(120.0),
            playing: true,
            position_beats: Some(position),
            position_samples: None,
        };
        position += beats_per_block;
        let mut count = 0u32;
        performer.process(&transport, frames, input, &mut |_| count += 1);
        count
    };
    // Start playing (continue mode), with the worker keeping up.
    let chord = [60u8, 64, 67].map(|key| NoteEvent::On {
        offset: 10,
        channel: 0,
        key,
        velocity: 100,
    });
    block(&mut performer, &chord);
    for _ in 0..50 {
        block(&mut performer, &[]);
        worker.poll_all();
    }
    // Only `process` is timed; the worker catches up between calls.
    c.bench_function("process_512_frames_no_input", |b| {
        b.iter_custom(|iterations| {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..iterations {
                let start = std::time::Instant::now();
                black_box(block(&mut performer, &[]));
                spent += start.elapsed();
                worker.poll_all();
            }
            spent
        })
    });
    let notes: Vec<NoteEvent> = (0..8)
        .flat_map(|i| {
            let key = 48 + i * 3;
            [
                NoteEvent::On {
                    offset: u32::from(i) * 60,
                    channel: 0,
                    key,
                    velocity: 90,
                },
                NoteEvent::Off {
                    offset: u32::from(i) * 60 + 30,
                    channel: 0,
                    key,
                    velocity: 0,
                },
            ]
        })
        .collect();
    c.bench_function("process_512_frames_16_events", |b| {
        b.iter_custom(|iterations| {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..iterations {
                let start = std::time::Instant::now();
                black_box(block(&mut performer, &notes));
                spent += start.elapsed();
                worker.poll_all();
            }
            spent
        })
    });

    // The worker alone: a player token arrives, the next prediction is sent;
    // with the network alone, and with a full session memory that matches
    // the player's tokens at every place (its most expensive recall).
    let alone = PerformerSettings {
        sampler: SamplerSettings {
            memory: 0.0,
            ..SamplerSettings::default()
        },
        ..PerformerSettings::default()
    };
    let full = SavedSession {
        events: (0..memory::CAPACITY)
            .map(|i| SavedEvent {
                event: format!("{}@1/2", Token::Note(60 + (i % 13) as u8)),
                player: i % 2 == 0,
            })
            .collect(),
    };
    for (name, settings, session) in [
        ("worker_token_to_prediction", alone, None),
        (
            "worker_token_to_prediction_full_memory",
            PerformerSettings::default(),
            Some(full),
        ),
    ] {
        let (mut performer, mut worker) =
            Performer::new(Arc::new(Network::new(&model).unwrap()), settings, 2);
        if let Some(session) = session {
            worker.session().restore(session);
            worker.poll_all();
        }
        let mut key = 60u8;
        c.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut spent = std::time::Duration::ZERO;
                for _ in 0..iterations {
                    key = if key >= 72 { 60 } else { key + 1 };
                    let on = [NoteEvent::On {
                        offset: 0,
                        channel: 0,
                        key,
                        velocity: 90,
                    }];
                    block(&mut performer, &on);
                    // Past the chord tolerance: the token is committed and sent.
                    block(&mut performer, &[]);
                    // Timed: the worker feeds it and sends the first prediction.
                    let start = std::time::Instant::now();
                    black_box(worker.poll());
                    spent += start.elapsed();
                    worker.poll_all();
                }
                spent
            })
        });
    }
}

criterion_group!(benches, perform);
criterion_main!(benches);
