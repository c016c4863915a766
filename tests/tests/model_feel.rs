//! *Feel = Model* through the bundled `pianola.clap` in a CLAP host, with
//! the built-in event model: Pianola plays the model's rhythm, each event
//! its predicted `when` after the one before and its predicted hold, to the
//! sample, at several sample rates, tempos and block sizes.

use pianola_tests::clap_host::{Input, PlayedNote, PluginUnderTest, PositionReport, played_notes};

/// Within one sample of a whole number of twelfths of a beat.
fn on_twelfths(samples: u64, samples_per_beat: f64) -> bool {
    let twelfth = samples_per_beat / 12.0;
    let twelfths = samples as f64 / twelfth;
    (twelfths - twelfths.round()).abs() * twelfth <= 1.0
}

#[test]
fn the_model_feel_plays_predicted_times_and_holds_to_the_sample() {
    for (rate, tempo, sizes) in [
        (48_000.0, 120.0, [256u32, 256, 256]),
        (44_100.0, 97.0, [64, 1000, 13]),
        (96_000.0, 140.0, [4096, 512, 2048]),
    ] {
        let mut plugin = PluginUnderTest::new();
        let feel = plugin.param_id("Feel");
        plugin.flush_param(feel, 0.0); // Model
        plugin.transport.tempo = tempo;
        plugin.activate(rate, 4096);
        let spb = plugin.samples_per_beat();
        // The player: a C major chord at sample 0, released a beat later.
        let inputs: Vec<(u64, Input)> = [60u8, 64, 67]
            .iter()
            .map(|&key| (0, Input::NoteOn { key, velocity: 0.8 }))
            .chain(
                [60u8, 64, 67]
                    .iter()
                    .map(|&key| (spb as u64, Input::NoteOff { key })),
            )
            .collect();
        let mut turn = 0;
        let end = (24.0 * spb) as u64;
        plugin.run_until(
            end,
            || {
                turn += 1;
                sizes[turn % sizes.len()]
            },
            &inputs,
        );
        plugin.stop_transport(256);

        let notes = played_notes(&plugin.sent);
        assert!(notes.len() >= 8, "{rate} Hz: {} notes", notes.len());
        // Onsets: counted from the player's chord, every gap a whole number
        // of twelfths, so every onset is too.
        for note in &notes {
            assert!(
                on_twelfths(note.on, spb),
                "{rate} Hz, {tempo} BPM: onset {}",
                note.on
            );
        }
        // Lengths: a note's hold, unless the same key struck again or the
        // stop cut it.
        let cut = |n: &pianola_tests::clap_host::PlayedNote| {
            n.off >= end || notes.iter().any(|m| m.key == n.key && m.on == n.off)
        };
        let whole: Vec<_> = notes.iter().filter(|n| !cut(n)).collect();
        assert!(!whole.is_empty());
        for note in whole {
            assert!(
                note.off > note.on && on_twelfths(note.off - note.on, spb),
                "{rate} Hz, {tempo} BPM: length {}",
                note.off - note.on
            );
        }
        // The model's rhythm, not one step: different gaps between onsets
        // (the built-in model may settle into one pulse, with notes
        // together on it, so at least two).
        let onsets: Vec<u64> = notes.iter().map(|n| n.on).collect();
        let mut gaps: Vec<u64> = onsets.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_unstable();
        gaps.dedup();
        assert!(gaps.len() >= 2, "{rate} Hz: gaps {gaps:?}");
    }
}

/// A player looping notes off the beat (37 frames past the grid, then
/// elsewhere) under `report`, in Model feel at 120 BPM and 48 kHz, blocks
/// of 256: what Pianola played over 24 beats, and the samples per beat.
/// The notes the transport's stop cut are left out.
fn model_feel_jam(report: PositionReport) -> (Vec<PlayedNote>, f64) {
    let mut plugin = PluginUnderTest::new();
    let feel = plugin.param_id("Feel");
    plugin.flush_param(feel, 0.0); // Model
    plugin.position_report = report;
    plugin.activate(48_000.0, 256);
    let spb = plugin.samples_per_beat();
    let inputs: Vec<(u64, Input)> = (0..12u64)
        .flat_map(|i| {
            let at = (i as f64 * 1.75 * spb) as u64 + 37 + i * 311;
            let key = [60u8, 63, 67, 70][i as usize % 4];
            [
                (at, Input::NoteOn { key, velocity: 0.7 }),
                (at + 3_000, Input::NoteOff { key }),
            ]
        })
        .collect();
    let end = (24.0 * spb) as u64;
    plugin.run_until(end, || 256, &inputs);
    plugin.stop_transport(256);
    let notes = played_notes(&plugin.sent)
        .into_iter()
        .filter(|note| note.off < end)
        .collect();
    (notes, spb)
}

/// No note shorter than the smallest hold (a twelfth of a beat, less a
/// frame), and no key struck twice at one instant.
fn assert_no_short_or_doubled_notes(notes: &[PlayedNote], spb: f64, what: &str) {
    for note in notes {
        assert!(
            (note.off - note.on) as f64 >= spb / 12.0 - 1.0,
            "{what}: a note of {} frames at {}",
            note.off - note.on,
            note.on
        );
    }
    let mut struck: Vec<(u64, u8)> = notes.iter().map(|n| (n.on, n.key)).collect();
    let all = struck.len();
    struck.sort_unstable();
    struck.dedup();
    assert_eq!(
        struck.len(),
        all,
        "{what}: a key struck twice at one instant"
    );
}

#[test]
fn with_whole_tick_host_positions_model_feel_plays_on_the_hosts_grid() {
    let (notes, spb) = model_feel_jam(PositionReport::RoundedToTicks(1920));
    assert!(notes.len() >= 8, "{} notes", notes.len());
    for note in &notes {
        assert!(
            on_twelfths(note.on, spb),
            "onset {} is {:.2} frames off the host's 1/12-beat grid",
            note.on,
            {
                let twelfth = spb / 12.0;
                let t = note.on as f64 / twelfth;
                (t - t.round()) * twelfth
            }
        );
    }
    assert_no_short_or_doubled_notes(&notes, spb, "whole ticks");
}

#[test]
fn with_a_rolling_transport_and_no_position_no_note_is_zero_length_or_doubled() {
    let (notes, spb) = model_feel_jam(PositionReport::Nothing);
    assert!(notes.len() >= 8, "{} notes", notes.len());
    assert_no_short_or_doubled_notes(&notes, spb, "no position");
}
