//! `pianola live` against a real JACK server (dummy driver): a test client
//! plays into it and records what it plays back.

mod common;

use std::path::Path;
use std::time::Duration;

use common::jack::{
    Heard, JackServer, PERIOD, RATE, TestClient, finish, interrupt, note_ons, sounding, spawn_live,
};
use midly::{MidiMessage, Smf, TrackEventKind};
use pianola_core::tempo::samples_per_beat;

const PIANOLA: &str = env!("CARGO_BIN_EXE_pianola");
/// Frames per beat at 120 BPM.
const BEAT_120: u64 = RATE as u64 / 2;

/// A phrase of notes: (beat, key), each held a third of a beat, as a
/// schedule at `frames_per_beat`.
fn phrase(notes: &[(f64, u8)], frames_per_beat: u64) -> Vec<(u64, Vec<u8>)> {
    let mut schedule = Vec::new();
    for &(beat, key) in notes {
        let on = (beat * frames_per_beat as f64) as u64;
        let off = on + frames_per_beat / 3;
        schedule.push((on, vec![0x90, key, 100]));
        schedule.push((off, vec![0x80, key, 0]));
    }
    schedule.sort_by_key(|(at, _)| *at);
    schedule
}

/// Checks that the note-ons' distances from the first are whole steps of
/// `step` frames, within one JACK period.
fn assert_on_grid(onsets: &[u64], step: u64) {
    let first = onsets[0];
    for &onset in onsets {
        let distance = onset - first;
        let steps = (distance as f64 / step as f64).round() as u64;
        let error = distance.abs_diff(steps * step);
        assert!(
            error <= u64::from(PERIOD),
            "onset {onset} is {error} frames off the grid of {step} (from {first})"
        );
    }
}

fn distinct_onsets(heard: &[Heard]) -> Vec<u64> {
    let mut onsets: Vec<u64> = note_ons(heard).into_iter().map(|(f, _)| f).collect();
    onsets.dedup();
    onsets
}

#[test]
fn plays_on_the_grid_and_ctrl_c_ends_every_note_and_writes_both_tracks() {
    let _server = JackServer::start("grid");
    let client = TestClient::start();
    let dir = std::env::temp_dir().join(format!("pianola-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let record = dir.join("session.mid");
    let child = spawn_live(
        Path::new(PIANOLA),
        &client,
        &[
            "--bpm",
            "120",
            "--division",
            "1/8",
            "--mode",
            "continue",
            "--seed",
            "7",
            "--record",
            record.to_str().unwrap(),
        ],
    );
    assert!(
        client.wait_connected(Duration::from_secs(30)),
        "pianola connects its ports"
    );
    let notes = [
        (0.0, 60),
        (0.5, 64),
        (1.0, 67),
        (1.5, 72),
        (2.0, 67),
        (2.5, 64),
    ];
    client.play(phrase(&notes, BEAT_120));
    client.wait_frames(10 * BEAT_120);
    interrupt(&child);
    let (code, stderr) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(0), "clean exit on SIGINT: {stderr}");
    assert!(stderr.contains("every note ended"), "{stderr}");

    let heard = client.heard();
    let onsets = distinct_onsets(&heard);
    assert!(
        onsets.len() >= 12,
        "continue mode plays on: {} onsets",
        onsets.len()
    );
    assert_on_grid(&onsets, BEAT_120 / 2);
    assert_eq!(sounding(&heard), vec![], "every note-on got its note-off");

    let bytes = std::fs::read(&record).expect("the recording");
    let smf = Smf::parse(&bytes).expect("a MIDI file");
    let ons = |track: usize| {
        smf.tracks[track]
            .iter()
            .filter(|e| {
                matches!(e.kind, TrackEventKind::Midi { message: MidiMessage::NoteOn { vel, .. }, .. } if vel > 0)
            })
            .count()
    };
    assert_eq!(smf.tracks.len(), 3, "tempo, player and pianola tracks");
    assert_eq!(ons(1), notes.len(), "the player's track");
    assert_eq!(
        ons(2),
        note_ons(&heard).len(),
        "pianola's track holds what it played"
    );
}

#[test]
fn follows_midi_clock_at_two_tempos() {
    let _server = JackServer::start("clock");
    let client = TestClient::start();
    let child = spawn_live(
        Path::new(PIANOLA),
        &client,
        &[
            "--clock",
            "--division",
            "1/8",
            "--mode",
            "continue",
            "--seed",
            "3",
        ],
    );
    assert!(client.wait_connected(Duration::from_secs(30)));
    // Start, 12 beats of clock at 120 BPM, then 12 at 90; a phrase at the top.
    let mut schedule = vec![(0, vec![0xFA])];
    let mut at: f64 = 0.0;
    let mut segments = Vec::new();
    for bpm in [120.0, 90.0] {
        let per_tick = samples_per_beat(f64::from(RATE), bpm) / 24.0;
        segments.push((at as u64, bpm));
        for _ in 0..12 * 24 {
            schedule.push((at.round() as u64 + 1, vec![0xF8]));
            at += per_tick;
        }
    }
    let end = at as u64;
    schedule.extend(phrase(&[(0.1, 60), (0.6, 64), (1.1, 67)], BEAT_120));
    schedule.push((end, vec![0xFC]));
    schedule.sort_by_key(|(at, _)| *at);
    let start = client.play(schedule);
    client.wait_frames(end + 2 * BEAT_120);
    interrupt(&child);
    let (code, stderr) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{stderr}");

    let onsets = distinct_onsets(&client.heard());
    for (i, &(from, bpm)) in segments.iter().enumerate() {
        let step = (samples_per_beat(f64::from(RATE), bpm) / 2.0).round() as u64;
        let to = segments.get(i + 1).map_or(end, |s| s.0);
        // Give the clock follower 6 beats to settle on the new tempo.
        let settle = from + 6 * (2 * step);
        let inside: Vec<u64> = onsets
            .iter()
            .map(|&o| o - start)
            .filter(|&o| o >= settle && o < to)
            .collect();
        assert!(inside.len() >= 8, "{bpm} BPM: {} onsets", inside.len());
        for pair in inside.windows(2) {
            let gap = pair[1] - pair[0];
            let steps = (gap as f64 / step as f64).round().max(1.0) as u64;
            assert!(
                gap.abs_diff(steps * step) <= u64::from(PERIOD),
                "{bpm} BPM: onsets {gap} frames apart, steps of {step}"
            );
        }
    }
}

#[test]
fn errors_say_what_is_wrong_and_exit_non_zero() {
    // No JACK server.
    let output = std::process::Command::new(PIANOLA)
        .args(["live", "--backend", "jack", "--input", "1", "--output", "1"])
        .env(
            "JACK_DEFAULT_SERVER",
            format!("pianola-none-{}", std::process::id()),
        )
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no JACK server is running"), "{stderr}");
    assert!(
        stderr.contains("jackd --no-realtime -d dummy"),
        "says how to start one: {stderr}"
    );

    // No ALSA sequencer (these machines have no /dev/snd).
    if !Path::new("/dev/snd/seq").exists() {
        let output = std::process::Command::new(PIANOLA)
            .args(["ports"])
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains("no ALSA sequencer"), "{stderr}");
        assert!(stderr.contains("--backend jack"), "{stderr}");
    }

    let _server = JackServer::start("errors");
    let mut client = TestClient::start();
    // A port that does not exist: the real ones are listed.
    let output = std::process::Command::new(PIANOLA)
        .args([
            "live",
            "--backend",
            "jack",
            "--input",
            "no-such-keyboard",
            "--output",
            "synth",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("no input port \"no-such-keyboard\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(&client.keys),
        "lists the real ports: {stderr}"
    );

    // `pianola ports` lists the test client's ports, numbered.
    let output = std::process::Command::new(PIANOLA)
        .args(["ports", "--backend", "jack"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(stdout.contains(&format!("1: {}", client.keys)), "{stdout}");
    assert!(stdout.contains(&format!("1: {}", client.synth)), "{stdout}");

    // A port that goes away mid-session: notes off, a message, exit 1.
    let child = spawn_live(
        Path::new(PIANOLA),
        &client,
        &["--bpm", "120", "--mode", "continue"],
    );
    assert!(client.wait_connected(Duration::from_secs(30)));
    client.play(phrase(&[(0.0, 60), (0.5, 62)], BEAT_120));
    client.wait_frames(3 * BEAT_120);
    client.stop();
    let (code, stderr) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("went away"), "{stderr}");
    assert!(stderr.contains("every note was ended"), "{stderr}");
}
