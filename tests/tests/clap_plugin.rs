//! The bundled `pianola.clap` in a real CLAP host (clack-host), built with
//! nice-plug's `assert_process_allocs`: an allocation in `process()` would
//! abort the test process.

use pianola_tests::clap_host::{Input, PluginUnderTest, SentNote, on_grid, onsets, sounding_after};

/// A short phrase: (beat, key, length in beats).
const PHRASE: [(f64, u8, f64); 6] = [
    (0.0, 60, 0.4),
    (0.5, 64, 0.4),
    (1.0, 67, 0.4),
    (1.5, 72, 0.4),
    (2.0, 67, 0.4),
    (2.5, 64, 0.9),
];

/// The phrase as host inputs at absolute samples.
fn phrase_inputs(samples_per_beat: f64, start_beat: f64) -> Vec<(u64, Input)> {
    let mut inputs = Vec::new();
    for (beat, key, length) in PHRASE {
        let on = ((start_beat + beat) * samples_per_beat).round() as u64;
        let off = ((start_beat + beat + length) * samples_per_beat).round() as u64;
        inputs.push((on, Input::NoteOn { key, velocity: 0.8 }));
        inputs.push((off, Input::NoteOff { key }));
    }
    inputs.sort_by_key(|(at, _)| *at);
    inputs
}

/// Checks every note-on is on the 1/8 grid and every note ends.
fn assert_on_grid_and_paired(notes: &[SentNote], samples_per_beat: f64, step: f64) {
    for note in notes.iter().filter(|n| n.on) {
        assert!(
            on_grid(note.sample, samples_per_beat, step),
            "note-on at sample {} (beat {:.4}) is off the {step}-beat grid",
            note.sample,
            note.sample as f64 / samples_per_beat
        );
    }
    assert_eq!(
        sounding_after(notes),
        vec![],
        "every note-on has its note-off"
    );
}

#[test]
fn continue_mode_plays_on_the_grid_and_stops_with_the_transport() {
    let mut plugin = PluginUnderTest::new();
    plugin.activate(48_000.0, 512);
    let spb = plugin.samples_per_beat();
    let inputs = phrase_inputs(spb, 0.0);
    plugin.run_until((12.0 * spb) as u64, || 512, &inputs);

    let after_phrase: Vec<_> = onsets(&plugin.sent)
        .into_iter()
        .filter(|&s| s as f64 > 4.0 * spb)
        .collect();
    assert!(
        after_phrase.len() >= 8,
        "continue mode keeps playing after the player stops: {} onsets in beats 4..12",
        after_phrase.len()
    );
    // Stop the transport: everything ends, nothing new starts.
    plugin.transport.playing = false;
    let before_stop = plugin.sent.len();
    let until = plugin.clock + 4 * 512;
    plugin.run_until(until, || 512, &[]);
    assert!(
        plugin.sent[before_stop..].iter().all(|n| !n.on),
        "no note starts while the transport is stopped"
    );
    assert_on_grid_and_paired(&plugin.sent, spb, 0.5);
}
