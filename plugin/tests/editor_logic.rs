//! What the editor's buttons do, without a window: loading models into a
//! running performer, and Capture writing what was played.

use std::path::Path;
use std::time::{Duration, Instant};

use midly::{MetaMessage, MidiMessage, Smf, TrackEventKind};
use pianola_core::midi_file::TICKS_PER_QUARTER;
use pianola_core::perform::{NoteEvent, Performer, PerformerSettings, Transport};
use pianola_core::weights::StoredDtype;
use pianola_plugin::ModelSlot;
use pianola_plugin::activity::{Activity, BeatClock, Source};
use pianola_plugin::capture::{self, CaptureError};

/// A fresh folder under the system's temporary folder.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pianola-editor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Waits for the slot's background load to settle (not a timing check:
/// the deadline only turns a hang into a failure).
fn settled(slot: &ModelSlot) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = slot.choice().status;
        if !status.starts_with("loading") {
            return status;
        }
        assert!(Instant::now() < deadline, "the load never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn load_a_good_file_a_bad_file_and_the_built_in_model() {
    let dir = temp_dir("models");
    let mut file = pianola_core::default_model::load().unwrap();
    file.info.corpus.path = "my own songs".into();
    let good = dir.join("mine.safetensors");
    file.save(&good, StoredDtype::F16).unwrap();
    let bad = dir.join("broken.safetensors");
    std::fs::write(&bad, b"not a weights file").unwrap();

    let network = pianola_plugin::params::PianolaParams::default();
    let slot = network.model.clone();
    let (_performer, worker) = Performer::new(
        std::sync::Arc::new(
            pianola_core::Network::new(&pianola_core::default_model::load().unwrap()).unwrap(),
        ),
        PerformerSettings::default(),
        1,
    );
    slot.attach(worker.control());
    let _running = worker.spawn();
    assert_eq!(settled(&slot), "playing the built-in model");
    assert_eq!(slot.playing().name, "built-in model");

    slot.choose(Some(good.clone()));
    assert_eq!(settled(&slot), format!("playing {}", good.display()));
    assert_eq!(slot.playing().name, "mine.safetensors");
    assert!(
        slot.playing().summary.contains("my own songs"),
        "{:?}",
        slot.playing()
    );

    slot.choose(Some(bad.clone()));
    let status = settled(&slot);
    assert!(
        status.starts_with(&format!("could not load {}", bad.display())),
        "{status}"
    );
    assert!(
        status.ends_with("the previous model keeps playing"),
        "{status}"
    );
    assert_eq!(
        slot.playing().name,
        "mine.safetensors",
        "the previous model plays on"
    );

    slot.choose(None);
    assert_eq!(settled(&slot), "playing the built-in model");
    assert_eq!(slot.playing().name, "built-in model");
}

/// The notes of one track of a MIDI file: (tick, key, on).
fn track_notes(smf: &Smf, track: usize) -> Vec<(u64, u8, bool)> {
    let mut tick = 0;
    let mut notes = Vec::new();
    for event in &smf.tracks[track] {
        tick += u64::from(event.delta.as_int());
        match event.kind {
            TrackEventKind::Midi {
                message: MidiMessage::NoteOn { key, vel },
                ..
            } => notes.push((tick, key.as_int(), vel.as_int() > 0)),
            TrackEventKind::Midi {
                message: MidiMessage::NoteOff { key, .. },
                ..
            } => notes.push((tick, key.as_int(), false)),
            _ => {}
        }
    }
    notes
}

#[test]
fn capture_writes_the_notes_sent_in_the_last_bars() {
    // The plugin's audio-thread glue, block by block: the player's notes
    // and the performer's go to the host and into the activity.
    let file = pianola_core::default_model::load().unwrap();
    let network = std::sync::Arc::new(pianola_core::Network::new(&file).unwrap());
    let settings = PerformerSettings::default();
    let (mut performer, mut worker) = Performer::new(network, settings, 3);
    let (activity, mut writer) = Activity::new();
    let mut clock = BeatClock::default();
    let frames = 480u32;
    let samples_per_beat = 24_000.0;
    let mut sent = Vec::new(); // (beat, source, key, on)
    for block in 0..1500u64 {
        let start = block * u64::from(frames);
        let transport = Transport {
            sample_rate: 48_000.0,
            tempo: Some(120.0),
            playing: true,
            position_beats: Some(start as f64 / samples_per_beat),
            position_samples: Some(start as i64),
        };
        let beat = start as f64 / samples_per_beat;
        // The player: a note on every beat of the first 8 beats.
        let mut input = Vec::new();
        if beat < 8.0 && beat.fract() == 0.0 {
            let key = 60 + beat as u8;
            input.push(NoteEvent::On {
                offset: 0,
                channel: 0,
                key,
                velocity: 100,
            });
        }
        let b = clock.block(&transport, frames);
        writer.player_notes(&b, &input);
        for event in &input {
            if let NoteEvent::On { key, .. } = *event {
                sent.push((b.beat_at(0), Source::Player, key, true));
            }
        }
        worker.poll_all();
        performer.process(&transport, frames, &input, &mut |event| {
            writer.performer_note(&b, event, &input, settings.thru);
            let (offset, key, on) = match event {
                NoteEvent::On { offset, key, .. } => (offset, key, true),
                NoteEvent::Off { offset, key, .. } => (offset, key, false),
            };
            sent.push((b.beat_at(offset), Source::Pianola, key, on));
        });
        writer.position(pianola_plugin::activity::Position {
            beat: b.beat_at(frames),
            bpm: 120.0,
            meter: pianola_core::midi_file::TimeSignature {
                numerator: 3,
                denominator: 4,
            },
            playing: true,
        });
        activity.collect();
    }

    let position = activity.position();
    let bars = 4;
    let start = capture::start_beat(&position, bars);
    assert!(start > 8.0, "the capture starts after the player's notes");
    let dir = temp_dir("capture");
    let path = capture::write(
        &activity.notes_since(start),
        &position,
        bars,
        &dir,
        std::time::SystemTime::now(),
    )
    .unwrap();
    assert!(path.starts_with(&dir));
    let bytes = std::fs::read(&path).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    assert_eq!(
        smf.tracks.len(),
        3,
        "a tempo track, the player's, Pianola's"
    );
    assert!(
        smf.tracks[0]
            .iter()
            .any(|e| e.kind == TrackEventKind::Meta(MetaMessage::TimeSignature(3, 2, 24, 8)))
    );

    // Pianola's track holds exactly the notes it sent in those bars (the
    // ones sounding at the end closed there); the player played nothing.
    let expected: Vec<(u64, u8, bool)> = sent
        .iter()
        .filter(|(beat, source, ..)| *source == Source::Pianola && *beat >= start)
        .map(|&(beat, _, key, on)| {
            (
                ((beat - start) * f64::from(TICKS_PER_QUARTER)).round() as u64,
                key,
                on,
            )
        })
        .collect();
    let written = track_notes(&smf, 2);
    assert!(expected.len() > 20, "Pianola played in those bars");
    let ons = |notes: &[(u64, u8, bool)]| notes.iter().filter(|n| n.2).copied().collect::<Vec<_>>();
    assert_eq!(ons(&written), ons(&expected));
    assert_eq!(
        written.len() - ons(&written).len(),
        ons(&expected).len(),
        "every note closed"
    );
    assert!(track_notes(&smf, 1).is_empty());

    // A capture of more bars holds the player's notes too.
    let all = capture::write(
        &activity.notes_since(0.0),
        &position,
        100,
        &dir,
        std::time::SystemTime::now() + Duration::from_secs(1),
    )
    .unwrap();
    let smf_bytes = std::fs::read(all).unwrap();
    let smf = Smf::parse(&smf_bytes).unwrap();
    let player: Vec<u8> = ons(&track_notes(&smf, 1)).iter().map(|n| n.1).collect();
    assert_eq!(player, (60..68).collect::<Vec<u8>>());
}

#[test]
fn an_unwritable_folder_says_so() {
    let (activity, _writer) = Activity::new();
    let position = activity.position();
    // A folder under a file cannot exist.
    let dir = temp_dir("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let folder = file.join("Pianola");
    let error =
        capture::write(&[], &position, 8, &folder, std::time::SystemTime::now()).unwrap_err();
    assert!(matches!(error, CaptureError::NotWritable { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot write to {}", folder.display())),
        "{error}"
    );
    assert!(!Path::new(&folder).exists());
}
