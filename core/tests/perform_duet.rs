//! The duet settings through the performer and its worker, with the
//! built-in model: Space, Range, Chords and Dynamics against a player who
//! loops a phrase, holds chords, or plays softly then loudly.

mod common;

use std::sync::Arc;

use common::Host;
use pianola_core::default_model;
use pianola_core::duet::{Chords, DuetSettings, Range};
use pianola_core::perform::{Feel, Mode, NoteEvent, PerformerSettings, Velocity};
use pianola_core::predictor::Network;
use pianola_core::sample::SamplerSettings;

const RATE: f64 = 48_000.0;
const TEMPO: f64 = 120.0;
const BLOCK: u32 = 64;

/// A note of the player's: its beat, keys, velocity and length in beats.
#[derive(Clone)]
struct Played {
    beat: f64,
    keys: Vec<u8>,
    velocity: u8,
    beats: f64,
}

/// A host with the built-in model in *Continue*, *Model* feel, at `duet`
/// and `velocity`, seed 7.
fn host(duet: DuetSettings, velocity: Velocity) -> Host {
    seeded_host(duet, velocity, 7)
}

/// [`host`] with its sampler seeded with `seed`.
fn seeded_host(duet: DuetSettings, velocity: Velocity, seed: u64) -> Host {
    let network = Arc::new(Network::new(&default_model::load().unwrap()).unwrap());
    let settings = PerformerSettings {
        mode: Mode::Continue,
        feel: Feel::Model,
        velocity,
        seed: Some(seed),
        sampler: SamplerSettings {
            duet,
            ..SamplerSettings::default()
        },
        ..PerformerSettings::default()
    };
    Host::with_network(network, settings, RATE, TEMPO)
}

/// Plays `notes` for `beats` beats; returns Pianola's note-ons as (beat,
/// key, velocity).
fn play(host: &mut Host, notes: &[Played], beats: f64) -> Vec<(f64, u8, u8)> {
    let spb = host.samples_per_beat();
    let sample = |beat: f64| (beat * spb).round() as u64;
    let mut input: Vec<(u64, NoteEvent)> = Vec::new();
    for n in notes {
        for &key in &n.keys {
            input.push((sample(n.beat), NoteEvent::struck(0, 0, key, n.velocity)));
            input.push((sample(n.beat + n.beats), NoteEvent::released(0, 0, key, 0)));
        }
    }
    input.sort_by_key(|&(at, e)| (at, matches!(e, NoteEvent::On { .. })));
    host.play_until(&input, sample(beats), BLOCK, |_| {});
    host.end_paired();
    host.heard
        .iter()
        .filter_map(|h| match h.event {
            NoteEvent::On { key, velocity, .. } => Some((h.at as f64 / spb, key, velocity)),
            NoteEvent::Off { .. } => None,
        })
        .collect()
}

/// An eight-note E-flat minor phrase in eighths from `from` to `to` beats,
/// at `velocity`.
fn phrase(from: f64, to: f64, velocity: u8) -> Vec<Played> {
    let keys = [63, 66, 70, 68, 66, 65, 63, 58];
    (0..)
        .map(|i| from + 0.5 * f64::from(i))
        .take_while(|&beat| beat < to)
        .zip(keys.iter().cycle())
        .map(|(beat, &key)| Played {
            beat,
            keys: vec![key],
            velocity,
            beats: 0.45,
        })
        .collect()
}

#[test]
fn space_leaves_room_while_the_player_plays_and_carries_on_when_they_rest() {
    // Six seeds each: how many notes one take plays varies by a fifth
    // from seed to seed, Space or not.
    let mut notes = phrase(0.0, 16.0, 90);
    notes.extend(phrase(24.0, 40.0, 90));
    const SEEDS: u64 = 6;
    let count = |space: f32| {
        let duet = DuetSettings {
            space,
            ..DuetSettings::default()
        };
        let (mut playing, mut resting, mut most) = (0, 0, 0);
        for seed in 1..=SEEDS {
            let own = play(
                &mut seeded_host(duet, Velocity::Fixed(90), seed),
                &notes,
                40.0,
            );
            let take = own
                .iter()
                .filter(|n| n.0 < 16.0 || (24.0..40.0).contains(&n.0))
                .count();
            playing += take;
            most = most.max(take);
            resting += own.iter().filter(|n| (16.5..24.0).contains(&n.0)).count();
        }
        (playing, resting, most)
    };
    let player = notes.len() * SEEDS as usize;
    let (free, _, _) = count(0.0);
    let (spaced, resting, _) = count(DuetSettings::default().space);
    let (_, _, silent) = count(1.0);
    println!(
        "player {player} notes; Pianola while they play: Space 0 {free}, default {spaced}, 1 at most {silent} a take; in 8 beats of rest {resting}"
    );
    assert!(
        spaced <= player,
        "Space at its default: {spaced} notes to the player's {player}"
    );
    assert!(spaced < free, "{spaced} with Space, {free} without");
    assert!(
        silent <= 2,
        "Space 100 %: {silent} notes while the player plays"
    );
    assert!(
        resting >= 8 * SEEDS as usize,
        "{resting} notes in 8 beats of rest, {SEEDS} takes"
    );
}

#[test]
fn range_keeps_pianola_below_above_or_between_keys() {
    let notes = phrase(0.0, 24.0, 90);
    // The player's lowest and highest key over the bar before `beat` (a
    // note struck at the same instant is not heard yet).
    let bar = |beat: f64| {
        let keys = notes
            .iter()
            .filter(|n| n.beat < beat && n.beat > beat - 4.0)
            .flat_map(|n| n.keys.iter().copied());
        keys.fold((127u8, 0u8), |(low, high), k| (low.min(k), high.max(k)))
    };
    let played = |range: Range, keys: (u8, u8)| {
        let duet = DuetSettings {
            range,
            keys,
            ..DuetSettings::default()
        };
        let own = play(&mut host(duet, Velocity::Fixed(90)), &notes, 24.0);
        assert!(own.len() >= 8, "{range:?}: {} notes", own.len());
        own
    };
    for (beat, key, _) in played(Range::Below, (0, 127)) {
        assert!(key < bar(beat).0, "below: {key} at beat {beat:.2}");
    }
    for (beat, key, _) in played(Range::Above, (0, 127)) {
        assert!(key > bar(beat).1, "above: {key} at beat {beat:.2}");
    }
    for (beat, key, _) in played(Range::Keys, (36, 60)) {
        assert!((36..=60).contains(&key), "C2-C4: {key} at beat {beat:.2}");
    }
}

#[test]
fn chords_follow_fits_the_held_chord() {
    // A C major triad for two bars, then A minor for two, under a melody.
    let mut notes = vec![
        Played {
            beat: 0.0,
            keys: vec![48, 52, 55],
            velocity: 80,
            beats: 7.9,
        },
        Played {
            beat: 8.0,
            keys: vec![45, 48, 52],
            velocity: 80,
            beats: 7.9,
        },
    ];
    for (i, key) in [
        72, 74, 76, 77, 79, 77, 76, 74, 72, 71, 69, 71, 72, 74, 72, 69,
    ]
    .into_iter()
    .enumerate()
    {
        notes.push(Played {
            beat: i as f64 + 0.5,
            keys: vec![key],
            velocity: 80,
            beats: 0.9,
        });
    }
    let share = |chords: Chords| {
        let duet = DuetSettings {
            chords,
            space: 0.0,
            ..DuetSettings::default()
        };
        let own = play(&mut host(duet, Velocity::Fixed(90)), &notes, 16.0);
        let tones = |beat: f64| if beat < 8.0 { [0, 4, 7] } else { [9, 0, 4] };
        let fitting = own
            .iter()
            .filter(|n| tones(n.0).contains(&(n.1 % 12)))
            .count();
        assert!(own.len() >= 8, "{chords:?}: {} notes", own.len());
        fitting as f64 / own.len() as f64
    };
    let follow = share(Chords::Follow);
    let off = share(Chords::Off);
    println!("chord tones: Follow {follow:.2}, Off {off:.2}");
    assert!(
        follow >= 0.75,
        "Follow: {follow:.2} chord tones (Off: {off:.2})"
    );
    assert!(follow > off, "Follow {follow:.2}, Off {off:.2}");
}

#[test]
fn dynamics_follow_plays_as_loud_as_the_player() {
    let mut notes = phrase(0.0, 32.0, 40);
    notes.extend(phrase(32.0, 64.0, 110));
    let duet = DuetSettings {
        space: 0.0,
        ..DuetSettings::default()
    };
    let own = play(&mut host(duet, Velocity::FollowPlayer), &notes, 64.0);
    let mean = |from: f64, to: f64| {
        let half: Vec<f64> = own
            .iter()
            .filter(|n| (from..to).contains(&n.0))
            .map(|n| f64::from(n.2))
            .collect();
        assert!(
            half.len() >= 8,
            "{} notes in beats {from}..{to}",
            half.len()
        );
        half.iter().sum::<f64>() / half.len() as f64
    };
    let (soft, loud) = (mean(0.0, 32.0), mean(32.0, 64.0));
    println!("mean velocity: {soft:.1} to the player's 40, {loud:.1} to 110");
    assert!((soft - 40.0).abs() <= 15.0, "soft half: {soft:.1}");
    assert!((loud - 110.0).abs() <= 15.0, "loud half: {loud:.1}");
}

/// The lengths, in beats, of the notes Pianola played.
fn lengths_played(host: &Host) -> Vec<f64> {
    let spb = host.samples_per_beat();
    let mut struck = [None; 128];
    let mut lengths = Vec::new();
    for heard in &host.heard {
        match heard.event {
            NoteEvent::On { key, .. } => struck[usize::from(key & 127)] = Some(heard.at),
            NoteEvent::Off { key, .. } => {
                if let Some(at) = struck[usize::from(key & 127)].take() {
                    lengths.push((heard.at - at) as f64 / spb);
                }
            }
        }
    }
    lengths
}

#[test]
fn phrases_the_memory_brings_back_keep_their_lengths() {
    // A live player's notes are heard at their onsets, lengths unknown:
    // the memory, leading where the phrase comes back, must not make
    // Pianola's notes as short as the shortest class.
    let mut notes = phrase(0.0, 16.0, 90);
    notes.extend(phrase(24.0, 40.0, 90));
    let duet = DuetSettings {
        space: 0.0,
        ..DuetSettings::default()
    };
    let mut host = host(duet, Velocity::Fixed(90));
    play(&mut host, &notes, 40.0);
    let lengths = lengths_played(&host);
    let short = lengths.iter().filter(|&&beats| beats < 0.1).count();
    println!("{} notes, {short} under a tenth of a beat", lengths.len());
    assert!(lengths.len() > 20, "{} notes", lengths.len());
    assert!(
        short * 4 < lengths.len(),
        "{short} of {} notes under a tenth of a beat",
        lengths.len()
    );
}

#[test]
fn pianola_follows_how_long_the_player_holds_their_notes() {
    // The phrase in eighths, staccato (a tenth of a beat) and legato (a
    // beat, each note held over the next): the lengths reach the worker as
    // each note is released. Six seeds each: how many notes one take
    // plays varies by a fifth from seed to seed.
    let take = |beats: f64| {
        let notes: Vec<Played> = phrase(0.0, 32.0, 90)
            .into_iter()
            .map(|note| Played { beats, ..note })
            .collect();
        let duet = DuetSettings {
            space: 0.0,
            ..DuetSettings::default()
        };
        let mut lengths = Vec::new();
        for seed in 1..=6 {
            let mut host = seeded_host(duet, Velocity::Fixed(90), seed);
            play(&mut host, &notes, 32.0);
            lengths.extend(lengths_played(&host));
        }
        lengths.sort_by(f64::total_cmp);
        (lengths.len(), lengths[lengths.len() / 2])
    };
    let (staccato, short) = take(0.1);
    let (legato, long) = take(1.0);
    println!("staccato: {staccato} notes, median {short:.3} beats; legato: {legato}, {long:.3}");
    assert!(short < long, "median {short} beats against {long}");
    // Resting as the staccato player does comes from short notes, not
    // from fewer of them.
    assert!(
        4 * staccato > 3 * legato,
        "{staccato} notes against {legato}"
    );
}
