//! The performer's *Model* feel, which plays the model's rhythm: its
//! times and holds, its plan and the committed event, and its grid with
//! and without the host's position.

mod common;

use std::sync::Arc;

use common::{Heard, Host, Report, network_of, settings};
use pianola_core::model::Arch;
use pianola_core::perform::{Division, Feel, Mode, NoteEvent, PerformerSettings};
use pianola_core::{Network, default_model};

/// A host playing the test event network of `seed` in *Model* feel,
/// *continue*, at `rate` and `tempo`.
fn model_feel(seed: usize, rate: f64, tempo: f64) -> Host {
    let mut s = settings(Mode::Continue, Division::Eighth);
    s.feel = Feel::Model;
    Host::with_network(network_of(Arch::Events, seed), s, rate, tempo)
}

#[test]
fn the_model_feel_plays_the_predicted_times_and_holds_sample_accurately() {
    for (rate, size) in [
        (48_000.0, 64),
        (44_100.0, 512),
        (96_000.0, 4096),
        (48_000.0, 1),
    ] {
        let mut host = model_feel(3, rate, 100.0);
        host.strike(&[60, 64], 64);
        let player_onset = 0u64;
        host.run((rate * 12.0) as u64, size);
        let twelfth = host.samples_per_beat() / 12.0;
        let on_grid = |samples: u64| {
            let twelfths = samples as f64 / twelfth;
            (twelfths - twelfths.round()).abs() * twelfth <= 1.0
        };
        // Lengths are rounded once each: within a sample of a whole number
        // of twelfths. Onsets too, counted from the player's: the gaps do
        // not gather rounding errors.
        // Every onset lies a whole number of twelfths of a beat from the
        // player's (each `when` counts from the onset before it), every note
        // lasts a whole number of twelfths.
        let mut onsets = Vec::new();
        let mut started = std::collections::HashMap::new();
        let mut lengths = Vec::new();
        for h in &host.heard {
            match h.event {
                NoteEvent::On { key, .. } => {
                    onsets.push(h.at);
                    started.insert(key, h.at);
                }
                NoteEvent::Off { key, .. } => {
                    if let Some(start) = started.remove(&key) {
                        lengths.push(h.at - start);
                    }
                }
            }
        }
        assert!(
            onsets.len() >= 4,
            "{rate} Hz, blocks of {size}: {} notes",
            onsets.len()
        );
        for &at in &onsets {
            assert!(on_grid(at - player_onset), "{rate} Hz, {size}: onset {at}");
        }
        for &length in &lengths {
            assert!(
                length > 0 && on_grid(length),
                "{rate} Hz, {size}: length {length}"
            );
        }
        assert_eq!(host.performer.late_steps(), 0, "{rate} Hz, {size}");
        // The holds and gaps vary: the model's rhythm, not a grid.
        let mut distinct: Vec<u64> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() >= 2, "{rate} Hz, {size}: one gap only");
        host.end_paired();
    }
}

/// A host playing a test event network in *Model* feel, *continue*, at
/// 120 BPM: two beats after the player's first note.
fn playing_in_model_feel(seed: usize) -> Host {
    let mut host = model_feel(seed, 48_000.0, 120.0);
    host.strike(&[60], 64);
    host.run(24_000 * 2, 64);
    host
}

/// Runs `case` on a host [`playing_in_model_feel`] with each seed below
/// `seeds`; `case` says whether the seed's play gave it what it checks,
/// which at least `minimum` seeds must.
fn for_seeds_in_model_feel(seeds: usize, minimum: usize, case: impl Fn(usize, &mut Host) -> bool) {
    let mut checked = 0;
    for seed in 0..seeds {
        let mut host = playing_in_model_feel(seed);
        if case(seed, &mut host) {
            checked += 1;
        }
    }
    assert!(checked >= minimum, "{checked} cases checked");
}

/// The (sample, key) of every note-on heard since the first `before`.
fn note_ons_since(host: &Host, before: usize) -> Vec<(u64, u8)> {
    host.heard[before..]
        .iter()
        .filter_map(|h| match h.event {
            NoteEvent::On { key, .. } => Some((h.at, key)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_player_note_inside_the_commit_horizon_never_cancels_the_committed_event() {
    for_seeds_in_model_feel(6, 3, |seed, host| {
        // Find a planned event far enough ahead for a player's note to come
        // before it and inside the horizon: 1/16 beat before it.
        let spb = host.samples_per_beat();
        let mut found = None;
        for _ in 0..400 {
            host.block(64, &[]);
            if let Some(next) = host.performer.plan().next()
                && next.beats_ahead > 0.1
            {
                assert!(!next.committed, "beyond the horizon");
                let due = host.clock + (next.beats_ahead * spb).round() as u64;
                found = Some((next.event, due));
                break;
            }
        }
        let Some((event, due)) = found else {
            return false;
        };
        let before = host.heard.len();
        strike_before(host, due, false);
        // The plan shows it first and committed until it plays, before the
        // player's note is gathered (inside the horizon) and after (kept);
        // once the worker has heard the player's note, it shows what comes
        // after the committed event too.
        let mut then = None;
        while host.clock + 64 < due {
            host.block(64, &[]);
            let mut plan = host.performer.plan();
            let next = plan.next();
            assert!(
                next.is_some_and(|next| next.committed && next.event == event),
                "seed {seed}: at {} the plan shows {next:?}, not {event} committed",
                host.clock
            );
            then = plan
                .next()
                .map(|p| (p.event, host.clock + (p.beats_ahead * spb).round() as u64));
        }
        let (then, then_due) = then.expect("the plan reaches past the committed event");
        host.run(then_due + 64 - host.clock, 64);
        let keys = note_ons_since(host, before);
        for key in event.pitches().iter() {
            assert!(
                keys.iter()
                    .any(|&(at, k)| k == key && at.abs_diff(due) <= 1),
                "seed {seed}: the committed {key} at {due} did not play: {keys:?}"
            );
        }
        // What the plan showed after it plays when the plan said, on time.
        for key in then.pitches().iter() {
            assert!(
                keys.iter()
                    .any(|&(at, k)| k == key && at.abs_diff(then_due) <= 1),
                "seed {seed}: {then} planned at {then_due} did not play: {keys:?}"
            );
        }
        assert_eq!(host.performer.late_steps(), 0, "seed {seed}");
        host.end_paired();
        true
    });
}

/// Plays blocks until the plan shows an event at least 0.1 beat ahead and
/// one after it at least `gap` beats later; returns both and the samples
/// they are due at.
fn next_two_planned(
    host: &mut Host,
    gap: f64,
) -> Option<(
    pianola_core::event::Event,
    u64,
    pianola_core::event::Event,
    u64,
)> {
    let spb = host.samples_per_beat();
    for _ in 0..400 {
        host.block(64, &[]);
        let mut plan = host.performer.plan();
        if let (Some(first), Some(second)) = (plan.next(), plan.next())
            && first.beats_ahead > 0.1
            && second.beats_ahead >= first.beats_ahead + gap
        {
            let due = |beats: f64| host.clock + (beats * spb).round() as u64;
            return Some((
                first.event,
                due(first.beats_ahead),
                second.event,
                due(second.beats_ahead),
            ));
        }
    }
    None
}

/// Runs until 1/16 beat before `due`, then the player strikes a key; with
/// `pause_worker`, the worker is paused from then on.
fn strike_before(host: &mut Host, due: u64, pause_worker: bool) {
    let spb = host.samples_per_beat();
    host.run(due - (spb / 16.0) as u64 - host.clock, 64);
    host.worker_paused = pause_worker;
    host.block(64, &[NoteEvent::struck(0, 0, 50, 90)]);
}

#[test]
fn the_event_after_the_committed_one_plays_on_time_when_the_worker_is_slow() {
    for_seeds_in_model_feel(12, 3, |seed, host| {
        let spb = host.samples_per_beat();
        // A planned event far enough ahead for a note 1/16 beat before it,
        // and the one after it.
        let Some((event, due, after, after_due)) = next_two_planned(host, 0.0) else {
            return false;
        };
        let before = host.heard.len();
        // The worker hears nothing from the player's note until both are due.
        strike_before(host, due, true);
        host.run(after_due + 64 - host.clock, 64);
        // Both played at their time (what came after them could not be
        // ready: the worker heard nothing).
        assert_eq!(host.performer.late_steps(), 0, "seed {seed}");
        host.worker_paused = false;
        host.run(spb as u64, 64);
        let keys = note_ons_since(host, before);
        for (planned, at) in [(event, due), (after, after_due)] {
            for key in planned.pitches().iter() {
                assert!(
                    keys.iter().any(|&(t, k)| k == key && t.abs_diff(at) <= 1),
                    "seed {seed}: {planned} due at {at} did not play on time: {keys:?}"
                );
            }
        }
        host.end_paired();
        true
    });
}

#[test]
fn a_fresh_prediction_too_late_for_its_time_gives_way_to_the_stand_in() {
    for_seeds_in_model_feel(24, 6, |seed, host| {
        // A planned event, and one at least 1/12 beat after it.
        let Some((_, due, _, after_due)) = next_two_planned(host, 1.0 / 12.0) else {
            return false;
        };
        // The worker hears the player's note only just before the event
        // after the committed one is due: what it then predicts after the
        // committed one may be due already.
        strike_before(host, due, true);
        host.run(after_due - 128 - host.clock, 64);
        host.worker_paused = false;
        host.run(after_due + 64 - host.clock, 64);
        assert_eq!(host.performer.late_steps(), 0, "seed {seed}");
        true
    });
}

/// The (onset, key, length) of every note the performer played, in
/// samples (`None`: still sounding); panics on a note-off without its
/// note-on.
fn notes_played(heard: &[Heard]) -> Vec<(u64, u8, Option<u64>)> {
    let mut started = std::collections::HashMap::new();
    let mut notes = Vec::new();
    for h in heard {
        match h.event {
            NoteEvent::On { key, .. } => {
                started.insert(key, h.at);
            }
            NoteEvent::Off { key, .. } => {
                let start = started.remove(&key).expect("a note-off after its note-on");
                notes.push((start, key, Some(h.at - start)));
            }
        }
    }
    notes.extend(started.into_iter().map(|(key, start)| (start, key, None)));
    notes.sort_unstable();
    notes
}

/// Checks that every onset lies on a grid of twelfths of a beat (of
/// `twelfth` samples) counted from sample `zero`, within a sample, that no
/// ended note is shorter than a twelfth, and that no key is struck twice
/// at one instant.
fn assert_on_grid(notes: &[(u64, u8, Option<u64>)], zero: u64, twelfth: f64, what: &str) {
    for &(onset, key, length) in notes {
        let twelfths = (onset - zero) as f64 / twelfth;
        assert!(
            (twelfths - twelfths.round()).abs() * twelfth <= 1.0,
            "{what}: onset {onset} ({twelfths} twelfths, key {key}) off the grid"
        );
        if let Some(length) = length {
            assert!(
                length as f64 >= twelfth - 1.0,
                "{what}: a note of {length} samples at {onset}"
            );
        }
    }
    let mut onsets: Vec<(u64, u8)> = notes.iter().map(|&(at, key, _)| (at, key)).collect();
    let all = onsets.len();
    onsets.dedup();
    assert_eq!(onsets.len(), all, "{what}: a key struck twice at once");
}

#[test]
fn model_feel_plays_on_the_hosts_grid_after_an_off_grid_player_note() {
    for report in [Report::Exact, Report::Ticks] {
        for (rate, tempo, size) in [(48_000.0, 120.0, 64), (44_100.0, 100.0, 500)] {
            let mut host = model_feel(3, rate, tempo);
            host.report = report;
            // The player strikes 0.37 of a twelfth after a grid position
            // (the block starts there), and again later elsewhere.
            let twelfth = host.samples_per_beat() / 12.0;
            host.run((twelfth * 24.37) as u64, size);
            host.strike(&[60, 64], 64);
            host.run((twelfth * 100.81) as u64, size);
            host.strike(&[67], 64);
            host.run(host.samples_per_beat() as u64 * 24, size);
            let notes = notes_played(&host.heard);
            assert!(notes.len() >= 8, "{report:?} {rate}: {} notes", notes.len());
            assert_on_grid(&notes, 0, twelfth, &format!("{report:?} {rate} Hz"));
        }
    }
}

#[test]
fn without_a_host_position_model_feel_keeps_its_own_clock_from_the_players_note() {
    let mut host = model_feel(3, 48_000.0, 120.0);
    host.report = Report::Nothing;
    host.run(777, 64);
    host.strike(&[60, 64], 64);
    host.run(24_000 * 24, 64);
    let notes = notes_played(&host.heard);
    assert!(notes.len() >= 8, "{} notes", notes.len());
    // The player struck at sample 777 (the block's start): every onset a
    // whole number of twelfths after it.
    assert_on_grid(&notes, 777, 2_000.0, "no position");
}

#[test]
fn over_a_clean_legato_line_pianola_seldom_rings_over_its_own_next_notes() {
    // The player plays a scale up and down in quarters for 24 beats, each
    // note released as the next is struck; the built-in model answers in
    // *continue*. Counted from the fourth beat: Pianola's onsets, and those
    // struck while a note of its own still sounds (without the releases,
    // 23 of 88).
    let network = Arc::new(Network::new(&default_model::load().unwrap()).unwrap());
    let scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62];
    let (mut onsets, mut over) = (0, 0);
    for seed in 1..=4 {
        let settings = PerformerSettings {
            mode: Mode::Continue,
            feel: Feel::Model,
            seed: Some(seed),
            ..PerformerSettings::default()
        };
        let mut host = Host::with_network(network.clone(), settings, 48_000.0, 120.0);
        let beat = host.samples_per_beat() as u64;
        let mut input = Vec::new();
        for (i, &key) in scale.iter().cycle().take(24).enumerate() {
            let at = i as u64 * beat;
            if let Some(&(_, NoteEvent::On { key: held, .. })) = input.last() {
                input.push((at, NoteEvent::released(0, 0, held, 0)));
            }
            input.push((at, NoteEvent::struck(0, 0, key, 100)));
        }
        host.play_until(&input, 26 * beat, 256, |_| {});
        host.end_paired();
        let notes = notes_played(&host.heard);
        let mut starts: Vec<u64> = notes
            .iter()
            .map(|n| n.0)
            .filter(|&t| t >= 4 * beat)
            .collect();
        starts.dedup();
        for &t in &starts {
            onsets += 1;
            let sounds = |&&(on, _, length): &&(u64, u8, Option<u64>)| {
                on < t && length.is_none_or(|length| on + length > t)
            };
            over += usize::from(notes.iter().any(|n| sounds(&n)));
        }
    }
    assert!(onsets >= 60, "{onsets} onsets");
    assert!(
        over * 10 <= onsets,
        "{over} of {onsets} onsets struck over a note still sounding"
    );
}
