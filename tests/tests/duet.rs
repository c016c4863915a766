//! The duet settings through the bundled `pianola.clap` in a CLAP host,
//! with the built-in model: a player loops an eight-note phrase in eighths
//! and Pianola leaves room (Space) and keeps to two keys (Range).

use pianola_tests::clap_host::{Input, PluginUnderTest, played_notes, sounding_after};

/// An eight-note E-flat minor phrase in eighths, looped for `beats`.
fn looped_phrase(spb: f64, beats: usize) -> Vec<(u64, Input)> {
    let keys = [63u8, 66, 70, 68, 66, 65, 63, 58];
    (0..beats * 2)
        .flat_map(|i| {
            let at = (i as f64 * 0.5 * spb) as u64;
            let key = keys[i % keys.len()];
            [
                (at, Input::NoteOn { key, velocity: 0.7 }),
                (at + (0.45 * spb) as u64, Input::NoteOff { key }),
            ]
        })
        .collect()
}

/// Pianola's (onset, key) over a jam of `beats` with `params` set
/// (name, plain value) before activation.
fn jam(params: &[(&str, f64)], beats: usize) -> (Vec<(u64, u8)>, usize) {
    jam_seeded(params, beats, 7)
}

/// [`jam`] with the sampler's Seed at `seed`.
fn jam_seeded(params: &[(&str, f64)], beats: usize, seed: u32) -> (Vec<(u64, u8)>, usize) {
    let mut plugin = PluginUnderTest::new();
    let seeded = [("Feel", 0.0), ("Seed", f64::from(seed))];
    for &(name, value) in seeded.iter().chain(params) {
        let id = plugin.param_id(name);
        plugin.flush_param(id, value);
    }
    plugin.activate(48_000.0, 256);
    let spb = plugin.samples_per_beat();
    let inputs = looped_phrase(spb, beats);
    let end = (beats as f64 * spb) as u64;
    plugin.run_until(end, || 256, &inputs);
    plugin.transport.playing = false;
    let until = plugin.clock + 256;
    plugin.run_until(until, || 256, &[]);
    assert_eq!(sounding_after(&plugin.sent), vec![], "every note ended");
    let notes = played_notes(&plugin.sent)
        .into_iter()
        .filter(|n| n.on < end)
        .map(|n| (n.on, n.key))
        .collect();
    (notes, inputs.len() / 2)
}

#[test]
fn at_its_default_space_pianola_plays_no_more_notes_than_the_player() {
    // Four seeds: how many notes one jam plays varies by a fifth from
    // seed to seed, Space or not.
    let (mut spaced, mut free, mut player) = (0, 0, 0);
    for seed in 1..=4 {
        let (notes, played) = jam_seeded(&[], 20, seed);
        assert!(!notes.is_empty(), "seed {seed}: Pianola plays");
        spaced += notes.len();
        player += played;
        free += jam_seeded(&[("Space", 0.0)], 20, seed).0.len();
    }
    println!("player {player} notes; Pianola {spaced} at the default Space, {free} at 0");
    assert!(spaced <= player, "{spaced} notes to the player's {player}");
    assert!(spaced < free, "Space leaves room");
}

#[test]
fn range_between_keys_keeps_every_note_inside() {
    // Range = Between keys (the fifth choice), C2 to C4.
    let (notes, _) = jam(
        &[("Range", 4.0), ("Range low", 36.0), ("Range high", 60.0)],
        16,
    );
    assert!(notes.len() >= 8, "{} notes", notes.len());
    for (at, key) in notes {
        assert!((36..=60).contains(&key), "{key} at sample {at}");
    }
}

/// Keys per onset of `notes` (onset, key).
fn keys_per_onset(notes: &[(u64, u8)]) -> f64 {
    let mut onsets: Vec<u64> = notes.iter().map(|n| n.0).collect();
    onsets.dedup();
    notes.len() as f64 / onsets.len().max(1) as f64
}

#[test]
fn texture_follows_a_single_line_with_single_notes() {
    // Space 0: Pianola's own density, so only Texture differs.
    let (following, player) = jam(&[("Space", 0.0)], 20);
    let (free, _) = jam(&[("Space", 0.0), ("Texture", 0.0)], 20);
    let (followed, own) = (keys_per_onset(&following), keys_per_onset(&free));
    println!(
        "player {player} single notes; Pianola's keys per onset: {followed:.2} with Texture \
         100 % ({} notes), {own:.2} at 0 % ({} notes)",
        following.len(),
        free.len()
    );
    assert!(following.len() >= 8, "Pianola plays");
    assert!(
        followed < own,
        "following the player's single notes thins its chords"
    );
    assert!(
        followed <= 1.5,
        "{followed:.2} keys per onset over single notes"
    );
}
