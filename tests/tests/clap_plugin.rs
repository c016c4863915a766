//! The bundled `pianola.clap` in a real CLAP host (clack-host), built with
//! nice-plug's `assert_process_allocs`: an allocation in `process()` would
//! abort the test process.

use pianola_tests::clap_host::{
    Input, PluginUnderTest, SentNote, bundled_clap, longest_silence, on_grid, onsets,
    sounding_after,
};

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

/// Activates `plugin` at 48 kHz and plays it the phrase from beat 0 in
/// blocks of `block` samples up to beat `until`; its samples per beat.
fn play_the_phrase(plugin: &mut PluginUnderTest, block: u32, until: f64) -> f64 {
    plugin.activate(48_000.0, block);
    let spb = plugin.samples_per_beat();
    let inputs = phrase_inputs(spb, 0.0);
    plugin.run_until((until * spb) as u64, || block, &inputs);
    spb
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
    let mut plugin = PluginUnderTest::on_the_grid();
    let spb = play_the_phrase(&mut plugin, 512, 12.0);

    // It keeps playing after the player stops: no silence of a beat (a
    // step a busy machine made late is a rest, the next plays).
    let (from, to) = ((4.0 * spb) as u64, (12.0 * spb) as u64);
    let silence = longest_silence(&onsets(&plugin.sent), from, to) as f64 / spb;
    assert!(
        silence <= 1.0,
        "continue mode keeps playing after the player stops: {silence} beats silent in beats 4..12"
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

/// A small deterministic generator of block sizes.
struct BlockSizes(u64);

impl BlockSizes {
    fn next(&mut self, max: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + ((self.0 >> 33) % u64::from(max)) as u32
    }
}

#[test]
fn echo_answers_each_played_note_once_on_the_next_step() {
    let mut plugin = PluginUnderTest::on_the_grid();
    // Echo is chosen through the params extension's flush, before activation.
    let mode = plugin.param_id("Mode");
    plugin.flush_param(mode, 2.0);
    assert_eq!(plugin.param_value(mode), 2.0);
    plugin.activate(48_000.0, 512);
    let spb = plugin.samples_per_beat();
    plugin.process(512, &[]);
    let mut inputs = Vec::new();
    for (i, key) in [60u8, 62, 65, 67].into_iter().enumerate() {
        let beat = 2.0 + 2.0 * i as f64;
        inputs.push(((beat * spb) as u64, Input::NoteOn { key, velocity: 0.7 }));
        inputs.push((((beat + 0.25) * spb) as u64, Input::NoteOff { key }));
    }
    plugin.run_until((12.0 * spb) as u64, || 512, &inputs);
    // One answer per note, on the next step: a step a busy machine made
    // late (no prediction ready) passes the answer to the step after it.
    let answers = onsets(&plugin.sent);
    assert_eq!(answers.len(), 4, "one answer per note: {answers:?}");
    for (answer, beat) in answers.iter().zip([2.0, 4.0, 6.0, 8.0]) {
        let at = *answer as f64 / spb;
        assert!(
            at > beat && at <= beat + 1.0 + 1.0 / spb,
            "the answer to the note at beat {beat} comes at beat {at}"
        );
    }
    assert_on_grid_and_paired(&plugin.sent, spb, 0.5);
}

#[test]
fn respond_answers_after_the_silence_for_the_response_length() {
    let mut plugin = PluginUnderTest::active_on_the_grid(256);
    let spb = plugin.samples_per_beat();
    let [mode, length] = plugin.param_ids(["Mode", "Response length"]);
    plugin.process(
        256,
        &[
            (0, Input::param(mode, 1.0)),
            (10, Input::param(length, 4.0)),
        ],
    );
    let start = plugin.clock as f64 / spb;
    let inputs = phrase_inputs(spb, start.ceil());
    let last_on = start.ceil() + 2.5;
    plugin.run_until((12.0 * spb) as u64, || 256, &inputs);
    let answer: Vec<u64> = onsets(&plugin.sent)
        .into_iter()
        .filter(|&s| s as f64 > (start.ceil() + 3.0) * spb)
        .collect();
    assert_eq!(answer.len(), 4, "an answer of 4 steps: {answer:?}");
    let first = answer[0] as f64 / spb;
    assert!(
        first >= last_on + 2.0 - 1e-3 && first <= last_on + 2.5 + 1e-3,
        "the answer starts after 2 beats of silence: at beat {first}, last note at {last_on}"
    );
    assert_on_grid_and_paired(&plugin.sent, spb, 0.5);
}

#[test]
fn any_block_size_and_sample_rate_keeps_the_grid() {
    for (i, rate) in [44_100.0, 48_000.0, 96_000.0].into_iter().enumerate() {
        let mut plugin = PluginUnderTest::on_the_grid();
        plugin.activate(rate, 4096);
        let spb = plugin.samples_per_beat();
        let mut sizes = BlockSizes(i as u64 + 1);
        let inputs = phrase_inputs(spb, 0.0);
        // Single samples for a beat, then sizes from 1 to 4096 varying per call.
        plugin.run_until(spb as u64, || 1, &inputs);
        plugin.run_until((10.0 * spb) as u64, || sizes.next(4096), &inputs);
        assert!(
            onsets(&plugin.sent).len() >= 12,
            "{rate} Hz: the performer plays ({} onsets)",
            onsets(&plugin.sent).len()
        );
        plugin.transport.playing = false;
        let until = plugin.clock + 4096;
        plugin.run_until(until, || sizes.next(4096), &[]);
        assert_on_grid_and_paired(&plugin.sent, spb, 0.5);
    }
}

#[test]
fn parameter_changes_inside_blocks_take_effect() {
    let mut plugin = PluginUnderTest::active_on_the_grid(1024);
    let [division, channel] = plugin.param_ids(["Division", "Output channel"]);
    let spb = plugin.samples_per_beat();
    let mut inputs = phrase_inputs(spb, 0.0);
    // At beat 6.3, mid-block: sixteenths (index 3 of the division list).
    inputs.push(((6.3 * spb) as u64, Input::param(division, 3.0)));
    // At beat 10.1: output channel 5 (plain values count from 0 = channel 1).
    inputs.push(((10.1 * spb) as u64, Input::param(channel, 4.0)));
    inputs.sort_by_key(|(at, _)| *at);
    plugin.run_until((14.0 * spb) as u64, || 1000, &inputs);

    let before: Vec<_> = plugin
        .sent
        .iter()
        .filter(|n| (n.sample as f64) < 6.3 * spb)
        .copied()
        .collect();
    let after: Vec<_> = plugin
        .sent
        .iter()
        .filter(|n| (n.sample as f64) > 6.5 * spb)
        .copied()
        .collect();
    for note in before.iter().filter(|n| n.on) {
        assert!(on_grid(note.sample, spb, 0.5), "eighths before the change");
    }
    for note in after.iter().filter(|n| n.on) {
        assert!(
            on_grid(note.sample, spb, 0.25),
            "sixteenths after the change"
        );
    }
    assert!(
        after.iter().any(|n| n.on && !on_grid(n.sample, spb, 0.5)),
        "notes between the eighths after the change"
    );
    let late: Vec<_> = plugin
        .sent
        .iter()
        .filter(|n| n.on && (n.sample as f64) > 10.5 * spb)
        .collect();
    assert!(
        !late.is_empty() && late.iter().all(|n| n.channel == 4),
        "channel 5 after its change"
    );
    plugin.transport.playing = false;
    let until = plugin.clock + 1024;
    plugin.run_until(until, || 1024, &[]);
    assert_eq!(
        sounding_after(&plugin.sent),
        vec![],
        "the channel change ended the old channel's notes"
    );
}

#[test]
fn deactivating_mid_note_ends_it_and_destroying_leaves_nothing_sounding() {
    let mut plugin = PluginUnderTest::new();
    play_the_phrase(&mut plugin, 128, 4.0);
    // Run until one of the performer's notes sounds, then pull the plug.
    let mut guard = 0;
    while sounding_after(&plugin.sent).is_empty() {
        plugin.process(128, &[]);
        guard += 1;
        assert!(guard < 10_000, "the performer plays something");
    }
    let sounding = sounding_after(&plugin.sent);
    plugin.deactivate();
    plugin.activate(48_000.0, 128);
    plugin.transport.playing = false;
    let first = plugin.process(128, &[]);
    let ended: Vec<(u8, u8)> = first
        .iter()
        .filter(|n| !n.on)
        .map(|n| (n.channel, n.key))
        .collect();
    for voice in &sounding {
        assert!(
            ended.contains(voice),
            "{voice:?} ends at the first block after reactivation"
        );
    }
    assert!(first.iter().all(|n| !n.on));
    plugin.process(128, &[]);
    assert_eq!(sounding_after(&plugin.sent), vec![]);
    drop(plugin);
}

#[test]
fn bypass_and_all_notes_off_end_every_note() {
    let mut plugin = PluginUnderTest::new();
    let spb = play_the_phrase(&mut plugin, 64, 4.0);
    let [bypass, panic] = plugin.param_ids(["Bypass", "All notes off"]);
    for (id, name) in [(panic, "all notes off"), (bypass, "bypass")] {
        // Until a note sounds (bounded: the built-in model plays within
        // bars, not minutes).
        let deadline = plugin.clock + (64.0 * spb) as u64;
        while sounding_after(&plugin.sent).is_empty() {
            assert!(
                plugin.clock < deadline,
                "{name}: nothing sounded in 64 beats"
            );
            plugin.process(64, &[]);
        }
        let before = plugin.sent.len();
        let was_sounding = sounding_after(&plugin.sent);
        plugin.process(64, &[(10, Input::param(id, 1.0))]);
        let ended: Vec<(u8, u8)> = plugin.sent[before..]
            .iter()
            .filter(|n| !n.on)
            .map(|n| (n.channel, n.key))
            .collect();
        assert!(
            was_sounding.iter().all(|voice| ended.contains(voice)),
            "{name} ends every note: {was_sounding:?} sounded, {ended:?} ended"
        );
        if id == bypass {
            // Bypassed, nothing plays; all notes off lets the music go on.
            assert_eq!(sounding_after(&plugin.sent), vec![], "{name}");
        }
        if id == panic {
            plugin.process(64, &[(0, Input::param(id, 0.0))]);
        }
    }
    // Bypassed: the player's notes pass through unchanged, nothing else plays.
    let start = plugin.sent.len();
    let thru = plugin.process(
        64,
        &[(
            5,
            Input::NoteOn {
                key: 50,
                velocity: 0.5,
            },
        )],
    );
    assert_eq!(thru.len(), 1);
    assert!(thru[0].on && thru[0].key == 50 && thru[0].sample == plugin.clock - 64 + 5);
    let until = plugin.clock + (2.0 * spb) as u64;
    plugin.run_until(until, || 64, &[]);
    assert_eq!(
        plugin.sent.len(),
        start + 1,
        "nothing but the thru note while bypassed"
    );
}

#[test]
fn parameter_text_round_trips_through_the_host() {
    // As a host finds it: no seed set.
    let mut plugin = PluginUnderTest::load(&bundled_clap());
    let infos = plugin.param_infos();
    assert!(infos.len() >= 13, "{} parameters", infos.len());
    for name in [
        "Mode",
        "Division",
        "Gate",
        "Temperature",
        "Top-k",
        "Response length",
        "Silence before answering",
        "Velocity",
        "Output channel",
        "MIDI thru",
        "Chord octave",
        "All notes off",
        "Bypass",
        "Seed",
    ] {
        assert!(
            infos.iter().any(|(n, ..)| n == name),
            "a parameter named {name}"
        );
    }
    for (name, id, min, max, default) in infos {
        assert_eq!(
            plugin.param_value(id),
            default,
            "{name} starts at its default"
        );
        for step in 0..=10 {
            let value = min + (max - min) * f64::from(step) / 10.0;
            let text = plugin.value_to_text(id, value);
            let back = plugin
                .text_to_value(id, &text)
                .unwrap_or_else(|| panic!("{name}: {text:?} does not parse"));
            assert_eq!(
                plugin.value_to_text(id, back),
                text,
                "{name}: {value} -> {text:?}"
            );
        }
    }
}
