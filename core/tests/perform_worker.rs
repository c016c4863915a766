//! The performer's worker: the network swapped under it, its queue full,
//! the next tokens it publishes; and the check that the real-time calls
//! do not allocate.

mod common;

use std::sync::Arc;

use common::{Host, network, network_of, settings};
use pianola_core::alloc_counter::allocations_in;
use pianola_core::model::Arch;
use pianola_core::perform::{Division, Mode, NoteEvent, Performer, PerformerSettings, Transport};

#[test]
fn a_model_swap_ends_notes_in_flight_and_keeps_playing() {
    let mut s = settings(Mode::Continue, Division::Quarter);
    s.gate = 1.0;
    let mut host = Host::new(s, 48_000.0, 120.0);
    host.strike(&[60], 64);
    host.run(24_000 * 2 + 1_000, 64); // a note is sounding
    assert!(host.performer.is_sounding());
    // To the event network: it reads the window's events (with the
    // player's and the performer's real timing) and plays on.
    assert!(
        host.worker
            .control()
            .swap_network(network_of(Arch::Events, 1))
    );
    host.worker.poll_all();
    host.block(64, &[]);
    assert!(
        !host.performer.is_sounding(),
        "notes in flight survived the swap"
    );
    let before = host.note_ons().len();
    host.run(24_000 * 3, 64);
    assert!(
        host.note_ons().len() >= before + 2,
        "stopped playing after the swap"
    );
    // A player's note in the event network's window, then on.
    host.strike(&[64, 67], 64);
    let before = host.note_ons().len();
    host.run(24_000 * 3, 64);
    assert!(
        host.note_ons().len() >= before + 2,
        "stopped after the player"
    );
    assert_eq!(host.performer.late_steps(), 0);
    host.end_paired();
}

#[test]
fn a_full_queue_to_the_worker_is_counted_and_healed() {
    let mut host = Host::new(settings(Mode::Continue, Division::Eighth), 48_000.0, 120.0);
    // A stalled worker: the player's events fill its queue and overflow.
    host.worker_paused = true;
    for i in 0..300 {
        host.strike(&[48 + (i % 24) as u8], 64);
        host.run(1_000, 64);
    }
    let dropped = host.performer.dropped_messages();
    assert!(dropped > 0, "the queue overflowed");
    // The worker runs again: the performer plays every step in step.
    host.worker_paused = false;
    host.worker.poll_all();
    host.run(24_000 * 2, 64);
    let before = host.note_ons().len();
    let late = host.performer.late_steps();
    host.run(24_000 * 4, 64);
    assert_eq!(host.note_ons().len() - before, 8, "an eighth on every step");
    assert_eq!(
        host.performer.late_steps(),
        late,
        "no step late once healed"
    );
    assert_eq!(host.performer.dropped_messages(), dropped);
}

#[test]
fn the_worker_publishes_the_most_likely_next_tokens() {
    use pianola_core::perform::NextTokens;
    let (mut performer, mut worker) = Performer::new(network(0), PerformerSettings::default(), 3);
    let next = Arc::new(NextTokens::default());
    worker.publish_next_tokens(next.clone());
    assert!(
        next.read().is_empty(),
        "nothing before the window holds a token"
    );
    let transport = Transport {
        sample_rate: 48_000.0,
        tempo: Some(120.0),
        playing: true,
        position_beats: Some(0.0),
        position_samples: None,
    };
    let on = NoteEvent::On {
        offset: 0,
        channel: 0,
        key: 60,
        velocity: 100,
    };
    performer.process(&transport, 2_048, &[on], &mut |_| {});
    worker.poll_all();
    let read = next.read();
    assert_eq!(read.len(), pianola_core::perform::NEXT_TOKENS);
    let total: f32 = read.iter().map(|&(_, p)| p).sum();
    assert!(
        total > 0.0 && total <= 1.0 + 1e-5,
        "probabilities: {read:?}"
    );
    assert!(
        read.windows(2).all(|w| w[0].1 >= w[1].1),
        "most likely first"
    );
}

#[test]
fn the_allocation_counter_sees_an_allocation() {
    let (v, allocations) = allocations_in(|| std::hint::black_box(vec![1u8; 16]));
    assert_eq!(v.len(), 16);
    assert!(
        allocations >= 1,
        "the check that process does not allocate can fail"
    );
    let ((), none) = allocations_in(|| ());
    assert_eq!(none, 0);
}
