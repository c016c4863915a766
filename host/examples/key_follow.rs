//! How well the performer keeps to the player's key: 12 primer phrases,
//! written here (not from the corpus), one per key (six major, six minor,
//! every tonic once), each played to the live performer in *continue* mode
//! with the built-in model; then the share of the performer's next 32
//! events' notes that lie in the phrase's key, with *Key* = Follow and with
//! *Key* = Off.
//!
//! `cargo run --release -p pianola-host --example key_follow -- [--feel model|grid]`

use pianola_core::key::{Key, KeyMode};
use pianola_core::perform::{Feel, Mode, NoteEvent, Performer, PerformerSettings, Transport};
use pianola_core::sample::SamplerSettings;
use pianola_core::{Network, default_model};
use std::sync::Arc;

const RATE: f64 = 48_000.0;
const BPM: f64 = 120.0;
const BLOCK: u32 = 512;
const EVENTS: usize = 32;

/// A phrase in `key`: scale degrees (0-based, 7 = the octave above) played
/// on half beats, in octave 4, with the tonic triad at the start and end.
fn phrase(key: Key) -> Vec<(f64, Vec<u8>)> {
    let steps: [u8; 7] = if key.minor {
        [0, 2, 3, 5, 7, 8, 10]
    } else {
        [0, 2, 4, 5, 7, 9, 11]
    };
    let pitch = |degree: usize| 60 + key.tonic + steps[degree % 7] + 12 * (degree / 7) as u8;
    let melody = [0, 2, 4, 7, 6, 4, 5, 3, 1, 4, 2, 0, 1, 2, 3, 4, 6, 7];
    let mut notes = vec![(0.0, vec![pitch(0) - 12, pitch(2) - 12, pitch(4) - 12])];
    for (i, &degree) in melody.iter().enumerate() {
        notes.push((0.5 * (i + 1) as f64, vec![pitch(degree)]));
    }
    let end = 0.5 * (melody.len() + 1) as f64;
    notes.push((end, vec![pitch(0) - 12, pitch(2) - 12, pitch(4) - 12]));
    notes
}

/// Plays `phrase` to a fresh performer, then runs until it has played
/// `EVENTS` events; the share of their notes in `key`.
fn share_in_key(network: &Arc<Network>, key: Key, follow: bool, feel: Feel, seed: u64) -> f64 {
    let settings = PerformerSettings {
        mode: Mode::Continue,
        feel,
        sampler: SamplerSettings {
            key: if follow {
                KeyMode::Follow
            } else {
                KeyMode::Free
            },
            ..SamplerSettings::default()
        },
        ..PerformerSettings::default()
    };
    let (mut performer, mut worker) = Performer::new(network.clone(), settings, seed);
    let spb = RATE * 60.0 / BPM;
    let mut input: Vec<(u64, NoteEvent)> = Vec::new();
    for (beat, keys) in phrase(key) {
        let on = (beat * spb) as u64;
        for &k in &keys {
            let note = |offset, on| {
                if on {
                    NoteEvent::On {
                        offset,
                        channel: 0,
                        key: k,
                        velocity: 90,
                    }
                } else {
                    NoteEvent::Off {
                        offset,
                        channel: 0,
                        key: k,
                        velocity: 0,
                    }
                }
            };
            input.push((on, note(0, true)));
            input.push((on + (spb * 0.4) as u64, note(0, false)));
        }
    }
    input.sort_by_key(|(at, _)| *at);
    let phrase_end = input.last().map_or(0, |(at, _)| *at);
    let (mut clock, mut next) = (0u64, 0usize);
    let (mut onsets, mut inside, mut notes) = (Vec::new(), 0usize, 0usize);
    let scale = key.scale();
    while onsets.len() < EVENTS && clock < phrase_end + (200.0 * spb) as u64 {
        let mut block = Vec::new();
        while next < input.len() && input[next].0 < clock + u64::from(BLOCK) {
            let (at, event) = input[next];
            block.push(event.at((at - clock) as u32));
            next += 1;
        }
        let transport = Transport {
            sample_rate: RATE,
            tempo: Some(BPM),
            playing: true,
            position_beats: Some(clock as f64 / spb),
            position_samples: Some(clock as i64),
        };
        performer.process(&transport, BLOCK, &block, &mut |event| {
            if let NoteEvent::On { key, offset, .. } = event
                && clock > phrase_end
            {
                let at = clock + u64::from(offset);
                if onsets.last() != Some(&at) {
                    onsets.push(at);
                }
                if onsets.len() <= EVENTS {
                    notes += 1;
                    inside += usize::from(scale.contains(key % 12));
                }
            }
        });
        worker.poll_all();
        clock += u64::from(BLOCK);
    }
    inside as f64 / notes.max(1) as f64
}

fn main() {
    let feel = match std::env::args().nth(2).as_deref() {
        Some("grid") => Feel::Grid,
        _ => Feel::Model,
    };
    let network = Arc::new(Network::new(&default_model::load().unwrap()).unwrap());
    // Every tonic once: six major keys and six minor ones.
    let keys: Vec<Key> = (0..12u8)
        .map(|i| Key {
            tonic: (i * 7) % 12,
            minor: i % 2 == 1,
        })
        .collect();
    println!(
        "key | Follow | Off  ({:?} feel, {EVENTS} events after the phrase)",
        feel
    );
    let (mut follow_sum, mut off_sum) = (0.0, 0.0);
    for (i, &key) in keys.iter().enumerate() {
        let follow = share_in_key(&network, key, true, feel, i as u64);
        let off = share_in_key(&network, key, false, feel, i as u64);
        follow_sum += follow;
        off_sum += off;
        println!("{key:<9} | {follow:.3} | {off:.3}");
    }
    println!(
        "mean      | {:.3} | {:.3}",
        follow_sum / keys.len() as f64,
        off_sum / keys.len() as f64
    );
}
