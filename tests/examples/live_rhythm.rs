//! What the plugin plays live, in *continue* mode with *Feel* = Model,
//! against the model's held-out songs: each held-out song's first 100
//! events are played into the release `pianola.clap` through the CLAP host
//! (120 BPM, 48 kHz, blocks of 512) while it listens (*respond*, the
//! silence not yet over), *continue* is switched on for its last event, and
//! the 500 events Pianola plays after the primer ends are read back from
//! its note output and measured as
//! `pianola-host`'s `musical_sanity` measures `pianola generate`
//! ([`pianola_core::figures`]). One note output cannot tell events played
//! together from one chord, so the held-out songs are measured as one
//! stream too ([`as_one_stream`]): the share played together is 0 by
//! construction, and `musical_sanity` prints the same figures of
//! `pianola generate` for comparison.
//!
//! `cargo run --release -p pianola-tests --example live_rhythm -- [SONGS]`
//! (SONGS: how many held-out songs, default all)

use std::collections::HashSet;

use pianola_core::corpus::{Corpus, default_corpus_dir};
use pianola_core::default_model;
use pianola_core::event::Event;
use pianola_core::figures::{self, events_of_notes, notes_of_events, pool};
use pianola_tests::clap_host::{Input, PluginUnderTest, played_notes, release_bundle};

const PRIMER: usize = 100;
const EVENTS: usize = 500;
const FRAMES: u32 = 512;
/// Times real time the blocks run at: fast enough to be done in minutes,
/// slow enough for the worker thread to keep up on two busy cores.
const SPEED: f64 = 4.0;

/// The player's notes of `events` from sample `start` as host inputs.
fn player_inputs(events: &[Event], start: u64, samples_per_beat: f64) -> Vec<(u64, Input)> {
    let mut inputs = Vec::new();
    for (on, off, key, velocity) in notes_of_events(events, start, samples_per_beat) {
        let velocity = f64::from(velocity) / 127.0;
        inputs.push((on, Input::NoteOn { key, velocity }));
        inputs.push((off, Input::NoteOff { key }));
    }
    // Offs before ons at one sample: a key struck again sounds again.
    inputs.sort_by_key(|(at, input)| (*at, matches!(input, Input::NoteOn { .. })));
    inputs
}

fn main() {
    let songs: usize = std::env::args()
        .nth(1)
        .map_or(usize::MAX, |n| n.parse().expect("a number of songs"));
    let model = default_model::load().expect("the built-in model");
    let corpus = Corpus::read_dir(&default_corpus_dir().expect("a corpus")).expect("the corpus");
    let mut held_out = figures::held_out_songs(&corpus, &model, PRIMER);
    held_out.truncate(songs);
    let reference = figures::one_stream_reference(&held_out);

    let bundle = release_bundle();
    println!("song | {}", figures::TABLE_HEADER);
    let mut pieces = Vec::new();
    for song in &held_out {
        let mut plugin = PluginUnderTest::load(&bundle);
        plugin.set_speed(SPEED);
        let feel = plugin.param_id("Feel");
        plugin.flush_param(feel, 0.0); // Model
        let mode = plugin.param_id("Mode");
        plugin.flush_param(mode, 1.0); // Respond
        plugin.activate(48_000.0, FRAMES);
        let spb = plugin.samples_per_beat();
        // The primer is a call Pianola listens to (*respond* waits for the
        // player's silence); at its end *continue* takes over, as a player
        // who switches modes after playing a phrase.
        let mut inputs = player_inputs(&song.events[..PRIMER], u64::from(FRAMES), spb);
        let primer_end = inputs.last().map_or(0, |(at, _)| *at);
        let last_onset = inputs
            .iter()
            .filter(|(_, input)| matches!(input, Input::NoteOn { .. }))
            .map(|(at, _)| *at)
            .max()
            .unwrap_or(0);
        // Before the primer's last event, which sets *continue* going.
        let to_continue = Input::Param {
            id: mode,
            value: 0.0,
        };
        inputs.push((last_onset, to_continue));
        inputs.sort_by_key(|(at, input)| (*at, matches!(input, Input::NoteOn { .. })));
        plugin.run_until(primer_end + 1, || FRAMES, &inputs);
        let answered = |plugin: &PluginUnderTest| {
            let notes = played_notes(&plugin.sent);
            let after: Vec<(u64, u64, u8)> = notes
                .into_iter()
                .filter(|n| n.on > primer_end)
                .map(|n| (n.on, n.off, n.key))
                .collect();
            events_of_notes(&after, spb)
        };
        let deadline = primer_end + (4.0 * EVENTS as f64 * spb) as u64;
        while answered(&plugin).len() <= EVENTS && plugin.clock < deadline {
            let until = plugin.clock + (8.0 * spb) as u64;
            plugin.run_until(until, || FRAMES, &[]);
        }
        let mut events = answered(&plugin);
        events.truncate(EVENTS);
        plugin.deactivate();
        let f = figures::figures(&events, &HashSet::new());
        println!(
            "{} ({} events) | {}",
            song.name,
            events.len(),
            f.row(&reference)
        );
        pieces.push(f);
    }
    println!("all | {}", pool(&pieces).row(&reference));
}
