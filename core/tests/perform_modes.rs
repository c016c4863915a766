//! The performer on the grid feel in each mode, under a simulated host
//! clock with a synchronous worker: where its notes land, when it answers,
//! and what it plays again from the same input or seed.

mod common;

use common::{Host, assert_paired, network_of, settings};
use pianola_core::model::Arch;
use pianola_core::perform::{AnswerLength, Division, Mode, Named, NoteEvent, PerformerSettings};

#[test]
fn note_ons_land_on_the_grid_for_every_block_size_rate_and_tempo() {
    for size in [1u32, 7, 64, 512, 4096] {
        for sample_rate in [44_100.0, 48_000.0, 96_000.0] {
            for tempo in [60.0, 137.0, 240.0] {
                let division = Division::Sixteenth;
                let mut host = Host::new(settings(Mode::Continue, division), sample_rate, tempo);
                // Start mid-beat, so the grid must follow the host's position.
                host.beat = 3.3;
                host.strike(&[60, 64, 67], size);
                let beats = if size == 1 { 2.0 } else { 6.0 };
                // A tempo map: positions advance at the block's tempo.
                let mut expected = Vec::new();
                let mut left = (beats * host.samples_per_beat()) as u64;
                let mut changed = false;
                while left > 0 {
                    if !changed && left < (beats * host.samples_per_beat() / 2.0) as u64 {
                        host.tempo *= 1.25; // a tempo change mid-phrase
                        changed = true;
                    }
                    let frames = left.min(u64::from(size)) as u32;
                    // The grid steps inside this block, in absolute samples.
                    let step = division.beats();
                    let spb = host.samples_per_beat();
                    let mut k = (host.beat / step - 1e-12).ceil();
                    while k * step < host.beat + f64::from(frames) / spb {
                        expected.push(host.clock as f64 + (k * step - host.beat) * spb);
                        k += 1.0;
                    }
                    host.block(frames, &[]);
                    left -= u64::from(frames);
                }
                let ons = host.note_ons();
                assert!(
                    ons.len() >= 8,
                    "{size} {sample_rate} {tempo}: only {} notes: {ons:?}, late {}",
                    ons.len(),
                    host.performer.late_steps()
                );
                for on in ons {
                    let nearest = expected
                        .iter()
                        .map(|e| (e - on as f64).abs())
                        .fold(f64::INFINITY, f64::min);
                    assert!(
                        nearest <= 1.0,
                        "{size} {sample_rate} {tempo}: note-on at {on} is {nearest} samples off the grid"
                    );
                }
                // Note-offs at gate end: half a step after their note-on.
                // Note-offs at gate end: half a step (at the tempo of the
                // note-on, before or after the change) after their note-on.
                let gate_at =
                    |bpm: f64| 0.5 * 0.25 * pianola_core::tempo::samples_per_beat(sample_rate, bpm);
                for h in &host.heard {
                    if let NoteEvent::Off { key, .. } = h.event {
                        let on = host
                            .heard
                            .iter()
                            .rev()
                            .find(|o| {
                                o.at <= h.at
                                    && matches!(o.event, NoteEvent::On { key: k, .. } if k == key)
                            })
                            .unwrap();
                        let length = (h.at - on.at) as f64;
                        let fits = [tempo, tempo * 1.25]
                            .iter()
                            .any(|&bpm| (length - gate_at(bpm)).abs() <= 1.0);
                        assert!(
                            fits,
                            "{size} {sample_rate} {tempo}: a note of {length} samples"
                        );
                    }
                }
                host.performer.all_notes_off(0, &mut |_| {});
            }
        }
    }
}

#[test]
fn continue_plays_every_step_after_the_first_token() {
    let mut host = Host::new(settings(Mode::Continue, Division::Eighth), 48_000.0, 120.0);
    host.run(48_000, 256);
    assert!(host.heard.is_empty(), "played before the player");
    host.strike(&[62], 256);
    host.run(48_000 * 2, 256); // 2 s = 4 beats = 8 eighths
    let ons = host.note_ons();
    let steps: std::collections::BTreeSet<u64> = ons.iter().copied().collect();
    assert!(
        (7..=9).contains(&steps.len()),
        "{} steps played",
        steps.len()
    );
    assert_eq!(host.performer.late_steps(), 0);
    // Stopping the transport ends the notes and the playing.
    host.playing = false;
    host.block(256, &[]);
    let before = host.note_ons().len();
    host.run(48_000, 256);
    assert_eq!(host.note_ons().len(), before, "kept playing after stop");
    assert_paired(&host.heard);
}

#[test]
fn echo_answers_each_token_once_on_the_next_step() {
    let mut host = Host::new(settings(Mode::Echo, Division::Quarter), 48_000.0, 120.0);
    host.strike(&[60], 128);
    host.run(24_000 * 3, 128); // 3 beats
    host.strike(&[64, 67], 128); // a chord: one token
    host.run(24_000 * 3, 128);
    let steps: std::collections::BTreeSet<u64> = host.note_ons().into_iter().collect();
    assert_eq!(steps.len(), 2, "answers at {steps:?}");
    // The first answer comes on the first beat after the note (beat 1).
    assert_eq!(*steps.iter().next().unwrap(), 24_000);
    assert_paired(&host.heard);
}

#[test]
fn respond_answers_after_the_silence_and_stops_when_interrupted() {
    let mut s = settings(Mode::Respond, Division::Eighth);
    s.silence_beats = 1.0;
    s.answer_length = AnswerLength::Steps(4);
    let mut host = Host::new(s, 48_000.0, 120.0);
    for key in [60, 62, 64] {
        host.strike(&[key], 128);
        host.run(6_000, 128); // a quarter of a beat apart
    }
    let call_end = host.clock;
    host.run(24_000 * 4, 128); // 4 beats: silence, answer, silence
    let ons = host.note_ons();
    let steps: std::collections::BTreeSet<u64> = ons.iter().copied().collect();
    assert_eq!(steps.len(), 4, "answer steps {steps:?}");
    assert!(
        *steps.iter().next().unwrap() >= call_end + 24_000 - 12_000,
        "answered too early"
    );
    assert_paired(&host.heard);

    // A new call, and a note during the answer ends it at once.
    host.heard.clear();
    host.strike(&[65], 128);
    host.run(24_000 + 12_000 + 6_000, 128); // into the answer
    let playing = host.note_ons().len();
    assert!(playing >= 1, "no answer started");
    host.strike(&[67], 64);
    assert!(!host.performer.is_sounding() || host.note_ons().len() == playing);
    host.run(6_000, 64);
    assert_eq!(
        host.note_ons().len(),
        playing,
        "answer went on after the interruption"
    );
    host.run(24_000 * 4, 128);
    host.end_paired();
}

#[test]
fn a_player_note_just_before_a_step_does_not_silence_it() {
    // Sixteenths at 120 BPM: a step every 6,000 samples. The player's note
    // comes 900 samples before each step; its chord is committed 750
    // samples later (1/32 beat), in the same block as the step, so the
    // worker (polled between blocks) cannot have the fresh prediction ready.
    let mut host = Host::new(
        settings(Mode::Continue, Division::Sixteenth),
        48_000.0,
        120.0,
    );
    host.strike(&[60], 64);
    host.run(24_000 - host.clock, 256);
    let before = host.performer.late_steps();
    let steps = 16;
    for step in 0..steps {
        let at = 30_000 + step * 6_000;
        host.run(at - 900 - host.clock, 256);
        let key = 62 + (step % 5) as u8;
        host.block(1_000, &[NoteEvent::struck(0, 0, key, 100)]);
        host.block(100, &[NoteEvent::released(0, 0, key, 0)]);
    }
    host.run(1_000, 256);
    let played: Vec<u64> = host
        .note_ons()
        .into_iter()
        .filter(|&at| (30_000..30_000 + steps * 6_000).contains(&at))
        .collect();
    let expected: Vec<u64> = (0..steps).map(|step| 30_000 + step * 6_000).collect();
    let mut onsets = played.clone();
    onsets.dedup();
    assert_eq!(onsets, expected, "every step plays");
    assert_eq!(host.performer.late_steps(), before, "no step was late");
}

#[test]
fn the_same_input_gives_the_same_output() {
    let play = || {
        let mut host = Host::new(
            settings(Mode::Continue, Division::Sixteenth),
            44_100.0,
            133.0,
        );
        host.strike(&[60, 63], 100);
        host.run(44_100 * 3, 100);
        host.strike(&[70], 100);
        host.run(44_100 * 3, 100);
        host.heard
    };
    let a = play();
    assert!(a.len() > 20);
    assert_eq!(a, play());
}

#[test]
fn a_seed_replays_the_same_take_after_every_reset() {
    let mut s = settings(Mode::Continue, Division::Sixteenth);
    s.seed = Some(7);
    let mut host = Host::with_network(network_of(Arch::Events, 5), s, 48_000.0, 120.0);
    let take = |host: &mut Host| {
        let start = host.heard.len();
        let clock = host.clock;
        host.strike(&[60, 64, 67], 64);
        host.run(24_000 * 4, 64);
        host.all_notes_off();
        host.heard[start..]
            .iter()
            .map(|h| (h.at - clock, h.event))
            .collect::<Vec<_>>()
    };
    let first = take(&mut host);
    host.performer.reset(&mut |_| {});
    host.worker.poll_all();
    // The transport stops and starts: the beat line starts again too.
    host.beat = 0.0;
    host.playing = false;
    host.block(64, &[]);
    host.playing = true;
    let second = take(&mut host);
    assert!(first.len() > 20, "{} events", first.len());
    assert_eq!(first, second);
    // Another seed, another take.
    let mut other = Host::with_network(
        network_of(Arch::Events, 5),
        PerformerSettings { seed: Some(8), ..s },
        48_000.0,
        120.0,
    );
    other.performer.reset(&mut |_| {});
    other.worker.poll_all();
    assert_ne!(take(&mut other), first);
}

#[test]
fn divisions_and_modes_have_names_that_parse_back() {
    use pianola_core::perform::{Division, Mode};
    for &division in Division::all() {
        assert_eq!(Division::from_name(division.name()), Some(division));
    }
    assert_eq!(
        Division::from_name("1/16T"),
        Some(Division::SixteenthTriplet)
    );
    assert_eq!(Division::from_name("1/3"), None);
    let names: Vec<_> = Mode::all().iter().map(|m| m.name()).collect();
    assert_eq!(names, ["continue", "respond", "echo"]);
}
