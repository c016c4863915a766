//! What the editor's buttons do, without a window: loading models into a
//! running performer, and Capture writing what was played.

use std::path::Path;
use std::time::{Duration, Instant};

use midly::{MetaMessage, MidiMessage, Smf, TrackEventKind};
use pianola_core::midi_file::{TICKS_PER_QUARTER, TimeSignature};
use pianola_core::perform::{NoteEvent, Performer, PerformerSettings, Transport};
use pianola_core::weights::StoredDtype;
use pianola_plugin::ModelSlot;
use pianola_plugin::activity::{Activity, BlockActivity, Source};
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
    file.info.corpus.name = "my own songs".into();
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

/// How the host in [`jam`] reports its position.
#[derive(Clone, Copy, PartialEq)]
enum Host {
    /// The exact beat and sample position, one piece per block.
    Exact,
    /// A valid position stuck at beat 0 while the transport rolls.
    StuckAtZero,
    /// Each block split at the player's notes, every piece handed the
    /// block's start position (as Carla does).
    SplitAtEvents,
}

/// A note event at an absolute sample: (sample, source, key, on).
type Played = (u64, Source, u8, bool);

/// The plugin's audio-thread glue, block by block, through the functions
/// the plugin's `process` calls: the player (a note on every beat of the
/// first 8 beats, 37 samples after it) and the performer (seeded, Model
/// feel) go to the host and into the activity, placed on the performer's
/// beat line. Returns the activity and every note event at the absolute
/// sample it sounded.
fn jam(host: Host, meter: TimeSignature, blocks: u64) -> (Activity, Vec<Played>) {
    let file = pianola_core::default_model::load().unwrap();
    let network = std::sync::Arc::new(pianola_core::Network::new(&file).unwrap());
    let settings = PerformerSettings::default();
    let (mut performer, mut worker) = Performer::new(network, settings, 3);
    let (activity, mut writer) = Activity::new();
    let frames = 480u64;
    let samples_per_beat = 24_000.0;
    let player_at = |beat: u64| beat * 24_000 + 37;
    let mut played = Vec::new();
    for block in 0..blocks {
        let start = block * frames;
        let beat = start as f64 / samples_per_beat;
        let input: Vec<(u64, NoteEvent)> = (0..8)
            .map(player_at)
            .filter(|&at| (start..start + frames).contains(&at))
            .map(|at| {
                let key = 60 + (at / 24_000) as u8;
                let on = NoteEvent::On {
                    offset: 0,
                    channel: 0,
                    key,
                    velocity: 100,
                };
                (at, on)
            })
            .collect();
        let cuts: Vec<u64> = match host {
            Host::SplitAtEvents => input.iter().map(|(at, _)| *at).collect(),
            _ => Vec::new(),
        };
        let mut piece_start = start;
        for piece_end in cuts.into_iter().chain([start + frames]) {
            if piece_end == piece_start {
                continue;
            }
            let transport = Transport {
                sample_rate: 48_000.0,
                tempo: Some(120.0),
                playing: true,
                position_beats: Some(match host {
                    Host::StuckAtZero => 0.0,
                    _ => beat,
                }),
                position_samples: match host {
                    Host::Exact => Some(start as i64),
                    _ => None,
                },
            };
            let piece_input: Vec<NoteEvent> = input
                .iter()
                .filter(|(at, _)| (piece_start..piece_end).contains(at))
                .map(|(at, event)| event.at((at - piece_start) as u32))
                .collect();
            for event in &piece_input {
                if let NoteEvent::On { key, offset, .. } = *event {
                    played.push((piece_start + u64::from(offset), Source::Player, key, true));
                }
            }
            worker.poll_all();
            let piece_frames = (piece_end - piece_start) as u32;
            let mut output = Vec::new();
            performer.process(&transport, piece_frames, &piece_input, &mut |event| {
                output.push(event);
            });
            for event in &output {
                let (offset, key, on) = match *event {
                    NoteEvent::On { offset, key, .. } => (offset, key, true),
                    NoteEvent::Off { offset, key, .. } => (offset, key, false),
                };
                played.push((piece_start + u64::from(offset), Source::Pianola, key, on));
            }
            writer.block(
                &performer,
                BlockActivity {
                    input: &piece_input,
                    output: &output,
                    thru: settings.thru,
                    frames: piece_frames,
                    bpm: 120.0,
                    meter,
                    playing: true,
                },
            );
            piece_start = piece_end;
        }
        activity.collect();
    }
    (activity, played)
}

/// The ticks (from `start_beat`) of `played`'s notes of `source` from
/// `start_beat` on: (tick, key, on).
fn expected_ticks(played: &[Played], source: Source, start_beat: f64) -> Vec<(u64, u8, bool)> {
    played
        .iter()
        .filter(|(_, s, ..)| *s == source)
        .map(|&(sample, _, key, on)| (sample as f64 / 24_000.0, key, on))
        .filter(|(beat, ..)| *beat >= start_beat - capture::START_SLACK_BEATS)
        .map(|(beat, key, on)| {
            let tick = ((beat - start_beat) * f64::from(TICKS_PER_QUARTER)).round() as u64;
            (tick, key, on)
        })
        .collect()
}

fn note_ons(notes: &[(u64, u8, bool)]) -> Vec<(u64, u8, bool)> {
    notes.iter().filter(|n| n.2).copied().collect()
}

#[test]
fn capture_writes_the_notes_sent_in_the_last_bars() {
    let meter = TimeSignature {
        numerator: 3,
        denominator: 4,
    };
    let (activity, played) = jam(Host::Exact, meter, 1500);
    let position = activity.position();
    let bars = 4;
    let start = capture::start_beat(&position, bars);
    assert!(start > 8.0, "the capture starts after the player's notes");
    let dir = temp_dir("capture");
    let path = capture::write(
        &activity.notes_since(start - capture::START_SLACK_BEATS),
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
    let expected = expected_ticks(&played, Source::Pianola, start);
    let written = track_notes(&smf, 2);
    assert!(expected.len() > 20, "Pianola played in those bars");
    assert_eq!(note_ons(&written), note_ons(&expected));
    assert_eq!(
        written.len() - note_ons(&written).len(),
        note_ons(&expected).len(),
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
    let player: Vec<u8> = note_ons(&track_notes(&smf, 1))
        .iter()
        .map(|n| n.1)
        .collect();
    assert_eq!(player, (60..68).collect::<Vec<u8>>());
}

/// Captures the whole of a jam with `host` and checks that both tracks
/// hold every onset at the tick it sounded (counted from the transport's
/// start at sample 0), whatever positions the host reported.
fn capture_puts_onsets_where_they_sounded(host: Host, name: &str) {
    let meter = TimeSignature {
        numerator: 4,
        denominator: 4,
    };
    let (activity, played) = jam(host, meter, 600);
    let position = activity.position();
    assert!(
        (position.beat - 600.0 * 480.0 / 24_000.0).abs() < 1e-6,
        "the position runs at the host's tempo: {}",
        position.beat
    );
    let dir = temp_dir(name);
    let path = capture::write(
        &activity.notes_since(0.0),
        &position,
        100,
        &dir,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let smf = Smf::parse(&std::fs::read(&path).unwrap())
        .unwrap()
        .to_static();
    let player = note_ons(&track_notes(&smf, 1));
    assert_eq!(
        player,
        note_ons(&expected_ticks(&played, Source::Player, 0.0))
    );
    assert_eq!(player.len(), 8);
    let pianola = note_ons(&track_notes(&smf, 2));
    assert!(pianola.len() > 8, "Pianola played: {}", pianola.len());
    assert_eq!(
        pianola,
        note_ons(&expected_ticks(&played, Source::Pianola, 0.0))
    );
}

#[test]
fn capture_places_notes_where_they_sounded_when_the_host_position_is_stuck_at_zero() {
    capture_puts_onsets_where_they_sounded(Host::StuckAtZero, "stuck");
}

#[test]
fn capture_places_notes_where_they_sounded_when_the_host_splits_blocks_at_events() {
    capture_puts_onsets_where_they_sounded(Host::SplitAtEvents, "split");
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
