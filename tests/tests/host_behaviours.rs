//! Host behaviours seen in real DAWs, played to the bundled `pianola.clap`
//! in a CLAP host: positions rounded to ticks, a position stuck at 0 while
//! the transport rolls, blocks split at incoming events with the block's
//! start position repeated, a tempo master changing tempo, and a real loop.
//! Through all but the loop, every note sounds its full gate and every onset
//! lands within one sample of its grid step.

use pianola_tests::clap_host::{
    Input, PlayedNote, PluginUnderTest, PositionReport, played_notes, sounding_after,
};

/// The default division (1/8) and gate (90 %).
const STEP_BEATS: f64 = 0.5;
const GATE: f64 = 0.9;

/// The player: a note every `every` beats from beat 0 to `until`, held for
/// a third of a beat, keys walking up a C major scale.
fn player(samples_per_beat: f64, every: f64, until: f64) -> Vec<(u64, Input)> {
    const SCALE: [u8; 7] = [60, 62, 64, 65, 67, 69, 71];
    let mut inputs = Vec::new();
    let mut beat = 0.0;
    let mut i = 0;
    while beat < until {
        let key = SCALE[i % SCALE.len()];
        let on = (beat * samples_per_beat).round() as u64;
        let off = ((beat + 1.0 / 3.0) * samples_per_beat).round() as u64;
        inputs.push((on, Input::NoteOn { key, velocity: 0.8 }));
        inputs.push((off, Input::NoteOff { key }));
        beat += every;
        i += 1;
    }
    inputs.sort_by_key(|(at, _)| *at);
    inputs
}

/// The grid step nearest `sample` at `samples_per_beat` from `origin`, in
/// samples, and the onset's distance from it.
fn grid_error(sample: u64, origin: u64, samples_per_beat: f64) -> f64 {
    let step = STEP_BEATS * samples_per_beat;
    let at = (sample - origin) as f64;
    (at - (at / step).round() * step).abs()
}

/// Checks the notes in `notes` that start at or after `origin` (a grid
/// step) and end before `stop` (the transport's stop, which cuts what
/// sounds): each sounds its full gate and sits on the grid. At least
/// `minimum` notes are checked.
fn assert_full_gate_on_grid(
    notes: &[PlayedNote],
    samples_per_beat: f64,
    origin: u64,
    stop: u64,
    minimum: usize,
) {
    let gate = (GATE * STEP_BEATS * samples_per_beat).round();
    let checked: Vec<_> = notes
        .iter()
        .filter(|n| n.on >= origin && n.on + gate as u64 <= stop)
        .collect();
    for note in &checked {
        let length = (note.off - note.on) as f64;
        assert!(
            (length - gate).abs() <= 1.0,
            "the note at sample {} sounds {length} samples, not its gate of {gate}",
            note.on,
        );
        let error = grid_error(note.on, origin, samples_per_beat);
        assert!(
            error <= 1.0,
            "the note at sample {} is {error} samples off its grid step",
            note.on
        );
    }
    assert!(
        checked.len() >= minimum,
        "the performer played ({} notes)",
        checked.len()
    );
}

/// The plugin on the grid, reporting positions as `report`, activated at
/// 48 kHz for blocks of 256 samples.
fn reporting(report: PositionReport) -> PluginUnderTest {
    let mut plugin = PluginUnderTest::on_the_grid();
    plugin.position_report = report;
    plugin.activate(48_000.0, 256);
    plugin
}

/// Plays 16 beats at `tempo` to a host that reports positions as `report`
/// (and splits blocks at events if `split`), the player playing a note every
/// `every` beats up to beat `until`; every note sounds its gate on the grid.
fn assert_plays_full_notes_on_the_grid(
    report: PositionReport,
    split: bool,
    tempo: f64,
    every: f64,
    until: f64,
) {
    let mut plugin = PluginUnderTest::on_the_grid();
    plugin.position_report = report;
    plugin.split_at_events = split;
    plugin.transport.tempo = tempo;
    plugin.activate(48_000.0, 256);
    let spb = plugin.samples_per_beat();
    plugin.run_until((16.0 * spb) as u64, || 256, &player(spb, every, until));
    plugin.stop_transport(256);
    assert_full_gate_on_grid(&played_notes(&plugin.sent), spb, 0, (16.0 * spb) as u64, 20);
}

#[test]
fn positions_rounded_to_ticks_keep_full_notes_on_the_grid() {
    for tempo in [120.0, 100.0] {
        assert_plays_full_notes_on_the_grid(
            PositionReport::RoundedToTicks(1920),
            false,
            tempo,
            1.5,
            3.0,
        );
    }
}

#[test]
fn a_transport_that_starts_between_ticks_keeps_the_exact_grid() {
    // Ardour starts a track's transport its latency (here 528 samples)
    // before beat 0, and reports positions rounded to 1/1920 beat: the first
    // position is off the exact beat by a fraction of a tick.
    let mut plugin = reporting(PositionReport::RoundedToTicks(1920));
    let spb = plugin.samples_per_beat();
    let latency = 528u64;
    plugin.transport.beat = -(latency as f64) / spb;
    let inputs: Vec<_> = player(spb, 1.5, 3.0)
        .into_iter()
        .map(|(at, input)| (at + latency, input))
        .collect();
    let stop = latency + (16.0 * spb) as u64;
    plugin.run_until(stop, || 256, &inputs);
    plugin.stop_transport(256);
    assert_full_gate_on_grid(&played_notes(&plugin.sent), spb, latency, stop, 20);
}

#[test]
fn a_position_stuck_at_zero_while_rolling_plays_on_the_free_clock() {
    assert_plays_full_notes_on_the_grid(PositionReport::StuckAtZero, false, 120.0, 1.5, 3.0);
}

#[test]
fn blocks_split_at_every_incoming_event_are_one_timeline() {
    // The player plays on throughout, off the grid: every block with a note
    // is split.
    assert_plays_full_notes_on_the_grid(PositionReport::Exact, true, 120.0, 1.3, 16.0);
}

#[test]
fn a_tempo_master_changing_tempo_keeps_full_notes_on_its_grid() {
    let mut plugin = reporting(PositionReport::RoundedToTicks(1920));
    let fast = plugin.samples_per_beat();
    let inputs = player(fast, 1.5, 3.0);
    // 120 BPM up to beat 8 (a block boundary), then 90 BPM for 8 beats.
    let change = (8.0 * fast) as u64;
    plugin.run_until(change, || 256, &inputs);
    plugin.transport.tempo = 90.0;
    let slow = plugin.samples_per_beat();
    let stop = change + (8.0 * slow) as u64;
    plugin.run_until(stop, || 256, &[]);
    plugin.stop_transport(256);

    let notes = played_notes(&plugin.sent);
    let (before, after): (Vec<_>, Vec<_>) = notes.into_iter().partition(|n| n.on < change);
    // A note started at 120 BPM keeps its 120 BPM length across the change.
    assert_full_gate_on_grid(&before, fast, 0, stop, 12);
    assert_full_gate_on_grid(&after, slow, change, stop, 12);
}

#[test]
fn a_loop_ends_what_sounds_and_starts_the_grid_again() {
    let mut plugin = reporting(PositionReport::RoundedToTicks(1920));
    let spb = plugin.samples_per_beat();
    // Loop from beat 7.75 back to beat 0: the grid's phase moves by 1/4 beat.
    let loop_at = (7.75 * spb) as u64;
    plugin.run_until(loop_at, || 256, &player(spb, 1.5, 3.0));
    let sounding = sounding_after(&plugin.sent);
    assert!(!sounding.is_empty(), "a note sounds at the loop point");
    plugin.transport.beat = 0.0;
    let stop = loop_at + (8.0 * spb) as u64;
    plugin.run_until(stop, || 256, &[]);
    plugin.stop_transport(256);

    let notes = played_notes(&plugin.sent);
    for voice in sounding {
        let cut = notes
            .iter()
            .find(|n| (n.channel, n.key) == voice && n.on < loop_at && n.off >= loop_at)
            .expect("the note sounding at the loop");
        assert_eq!(cut.off, loop_at, "the loop ends the note at once");
    }
    assert_full_gate_on_grid(&notes, spb, loop_at, stop, 12);
}

#[test]
fn bypass_reset_and_all_notes_off_in_blocks_full_of_notes_keep_time_order() {
    let mut plugin = PluginUnderTest::active_on_the_grid(512);
    let [bypass, panic, thru] = plugin.param_ids(["Bypass", "All notes off", "MIDI thru"]);
    plugin.process(512, &[(0, Input::param(thru, 1.0))]);
    let spb = plugin.samples_per_beat();
    plugin.run_until((4.0 * spb) as u64, || 512, &player(spb, 0.5, 4.0));
    // A block full of notes, everywhere in it.
    let busy = |extra: Option<(u32, Input)>| {
        let mut inputs: Vec<(u32, Input)> = (0..16u8)
            .flat_map(|i| {
                let at = 7 + u32::from(i) * 31;
                [
                    (
                        at,
                        Input::NoteOn {
                            key: 40 + i,
                            velocity: 0.6,
                        },
                    ),
                    (at + 20, Input::NoteOff { key: 40 + i }),
                ]
            })
            .collect();
        inputs.extend(extra);
        inputs.sort_by_key(|(at, _)| *at);
        inputs
    };
    for round in 0..3 {
        while sounding_after(&plugin.sent).is_empty() {
            plugin.process(512, &[]);
        }
        // The harness asserts time order in every block it runs.
        match round {
            0 => {
                plugin.process(512, &busy(Some((300, Input::param(panic, 1.0)))));
                plugin.process(512, &busy(Some((0, Input::param(panic, 0.0)))));
            }
            1 => {
                plugin.reset();
                plugin.process(512, &busy(None));
            }
            _ => {
                plugin.process(512, &busy(Some((300, Input::param(bypass, 1.0)))));
                plugin.process(512, &busy(None));
                plugin.process(512, &busy(Some((0, Input::param(bypass, 0.0)))));
            }
        }
    }
    plugin.stop_transport(256);
}
