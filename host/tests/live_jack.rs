//! `pianola live` against a real JACK server (dummy driver): a test client
//! plays into it and records what it plays back.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::jack::{
    Heard, JackServer, PERIOD, PIANOLA, RATE, TestClient, ctrl_c, finish, interrupt, live_session,
    note_ons, note_schedule, server_and_client, signal, sounding, start_live,
};
use midly::{MidiMessage, Smf, TrackEventKind};
use pianola_core::perform::NoteEvent;
use pianola_core::tempo::samples_per_beat;
use pianola_host::live::engine::note_event;

/// Frames per beat at 120 BPM.
const BEAT_120: u64 = RATE as u64 / 2;

/// A phrase of notes: (beat, key), each held a third of a beat, as a
/// schedule at `frames_per_beat`.
fn phrase(notes: &[(f64, u8)], frames_per_beat: u64) -> Vec<(u64, Vec<u8>)> {
    let at = |beat: f64| (beat * frames_per_beat as f64) as u64;
    let notes = notes.iter().map(|&(beat, key)| (at(beat), key));
    note_schedule(notes, frames_per_beat / 3, 0)
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

/// Starts a JACK server (`tag` in its name), the test client and `pianola
/// live` with `options`, plays it `notes` ((beat, key) at 120 BPM), and
/// interrupts it (Ctrl-C) `beats` beats later. Returns the server and the
/// client, to be dropped in that order, and Pianola's standard error once
/// it has exited cleanly.
fn jam(
    tag: &str,
    options: &str,
    notes: &[(f64, u8)],
    beats: u64,
) -> (JackServer, TestClient, String) {
    let (server, client, child) = live_session(tag, options);
    client.play(phrase(notes, BEAT_120));
    client.wait_frames(beats * BEAT_120);
    (server, client, ctrl_c(child))
}

fn distinct_onsets(heard: &[Heard]) -> Vec<u64> {
    let mut onsets: Vec<u64> = note_ons(heard).into_iter().map(|(f, _)| f).collect();
    onsets.dedup();
    onsets
}

#[test]
fn plays_on_the_grid_and_ctrl_c_ends_every_note_and_writes_both_tracks() {
    let dir = scratch("grid");
    let record = dir.join("session.mid");
    let options = "--bpm 120 --feel grid --division 1/8 --mode continue --seed 7";
    let options = format!("{options} --record {}", record.display());
    // Eighths.
    let keys = [60, 64, 67, 72, 67, 64];
    let notes: Vec<(f64, u8)> = (0..6).map(|i| (i as f64 * 0.5, keys[i])).collect();
    let (_server, client, stderr) = jam("grid", &options, &notes, 10);
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
fn the_model_feel_plays_its_rhythm_on_the_twelfth_beat_grid() {
    // A phrase in eighths, sixteenths and a quarter: the model continues
    // the rhythm it hears (after four even eighths it may well play even
    // eighths and quarters only, two gaps).
    let beats = [0.0, 0.5, 0.75, 1.0, 2.0, 2.25, 2.5];
    let notes: Vec<(f64, u8)> = beats
        .into_iter()
        .zip([60, 64, 67, 72, 67, 64, 60])
        .collect();
    let options = "--bpm 120 --feel model --seed 3";
    let (_server, client, stderr) = jam("model-feel", options, &notes, 12);

    let heard = client.heard();
    assert_eq!(sounding(&heard), vec![], "every note-on got its note-off");
    // Every gap between Pianola's onsets a whole number of twelfths of a
    // beat (within a JACK period), except after an event Pianola counted
    // late (its prediction came after its time: the machine was busy); the
    // next gap counts from where the late one played. And the model's
    // rhythm: more than one gap, one of them a gap the grid of the default
    // division (1/8: every 6 twelfths) cannot play.
    let late = late_steps(&stderr);
    let onsets = distinct_onsets(&heard);
    // It plays on after the phrase (how much is the model's business).
    assert!(onsets.len() >= 4, "{} onsets", onsets.len());
    let twelfth = BEAT_120 / 12;
    let off_grid = onsets
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&gap| {
            let twelfths = (gap as f64 / twelfth as f64).round() as u64;
            gap.abs_diff(twelfths * twelfth) > u64::from(PERIOD)
        })
        .count();
    assert!(
        off_grid <= late,
        "{off_grid} gaps off the twelfths grid, {late} late events"
    );
    let mut gaps: Vec<u64> = onsets
        .windows(2)
        .map(|w| ((w[1] - w[0]) as f64 / (BEAT_120 / 12) as f64).round() as u64)
        .collect();
    gaps.sort_unstable();
    gaps.dedup();
    // Every hold a whole number of twelfths (within a period), which the
    // grid's (90 % of an eighth) is not, for notes that end by their hold
    // (not cut by the interrupt or the same key struck again).
    let lengths: Vec<u64> = note_lengths(&heard);
    let whole = |length: u64| {
        let twelfths = (length as f64 / twelfth as f64).round() as u64;
        twelfths > 0 && length.abs_diff(twelfths * twelfth) <= u64::from(PERIOD)
    };
    assert!(
        gaps.len() >= 2
            && (gaps.iter().any(|gap| gap % 6 != 0) || lengths.iter().any(|&l| whole(l))),
        "the model's rhythm: gaps in twelfths {gaps:?}, lengths {lengths:?}"
    );
}

/// The late steps `pianola live` reported in its summary line.
fn late_steps(stderr: &str) -> usize {
    stderr
        .split("notes out, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line: {stderr}"))
}

/// How long each note of `heard` sounded, in frames.
fn note_lengths(heard: &[Heard]) -> Vec<u64> {
    let mut started = std::collections::HashMap::new();
    let mut lengths = Vec::new();
    for h in heard {
        match note_event(0, &h.bytes) {
            Some(NoteEvent::On { key, .. }) => {
                started.insert(key, h.frame);
            }
            Some(NoteEvent::Off { key, .. }) => {
                if let Some(on) = started.remove(&key) {
                    lengths.push(h.frame - on);
                }
            }
            None => {}
        }
    }
    lengths
}

#[test]
fn follows_midi_clock_at_two_tempos() {
    let (_server, client, child) = live_session(
        "clock",
        "--clock --feel grid --division 1/8 --mode continue --seed 3",
    );
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
    let stderr = ctrl_c(child);
    // What the machine did: steps Pianola reported late, and cycles the
    // server reported a client did not finish (their clock ticks came late
    // or not at all, and the follower's phase moves while it catches up).
    let late = late_steps(&stderr) + client.xruns() as usize;

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
        // Six beats of eighths: twelve steps, less any the machine made
        // late.
        assert!(
            inside.len() + late >= 12 - 1,
            "{bpm} BPM: {} onsets, {late} late steps",
            inside.len()
        );
        // Within two periods: the follower's phase moves with the ticks'
        // arrival, which jitters by a period on the busy 2-core machine.
        // One gap may miss that while the follower catches up with ticks
        // lost in cycles Pianola's client missed (seen in 2 of 7 CI runs on
        // this machine), but never by more than a quarter of a step.
        // A gap further off than that (a quarter of a step or more) only
        // where the machine reported trouble.
        let mut outliers = 0;
        let mut wild = 0;
        for pair in inside.windows(2) {
            let gap = pair[1] - pair[0];
            let steps = (gap as f64 / step as f64).round().max(1.0) as u64;
            let error = gap.abs_diff(steps * step);
            outliers += usize::from(error > 2 * u64::from(PERIOD));
            wild += usize::from(error > step / 4);
        }
        assert!(
            outliers <= 1 + late && wild <= late,
            "{bpm} BPM: {outliers} gaps off the steps of {step} by more than two periods, \
             {wild} by more than a quarter step ({late} late steps and xruns): {inside:?}"
        );
    }
}

/// `pianola` with `args` (words at white space).
fn pianola(args: &str) -> Command {
    let mut command = Command::new(PIANOLA);
    command.args(args.split_whitespace());
    command
}

/// Runs `command` with no backtraces; it must fail. Its standard error.
fn refused(command: &mut Command) -> String {
    let output = command.env("RUST_BACKTRACE", "0").output().unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn errors_say_what_is_wrong_and_exit_non_zero() {
    // No JACK server.
    let none = format!("pianola-none-{}", std::process::id());
    let stderr = refused(
        pianola("live --backend jack --input 1 --output 1").env("JACK_DEFAULT_SERVER", none),
    );
    assert!(stderr.contains("no JACK server is running"), "{stderr}");
    assert!(
        stderr.contains("jackd --no-realtime -d dummy"),
        "says how to start one: {stderr}"
    );

    // No ALSA sequencer (these machines have no /dev/snd).
    if !Path::new("/dev/snd/seq").exists() {
        let stderr = refused(&mut pianola("ports"));
        assert!(stderr.contains("no ALSA sequencer"), "{stderr}");
        assert!(stderr.contains("--backend jack"), "{stderr}");
    }

    let (_server, mut client) = server_and_client("errors");
    // A port that does not exist: the real ones are listed.
    let stderr = refused(&mut pianola(
        "live --backend jack --input no-such-keyboard --output synth",
    ));
    assert!(
        stderr.contains("no input port \"no-such-keyboard\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(&client.keys),
        "lists the real ports: {stderr}"
    );

    // `pianola ports` lists the test client's ports, numbered.
    let output = pianola("ports --backend jack").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(stdout.contains(&format!("1: {}", client.keys)), "{stdout}");
    assert!(stdout.contains(&format!("1: {}", client.synth)), "{stdout}");

    // A port that goes away mid-session: notes off, a message, exit 1.
    let child = start_live(&client, "--bpm 120 --mode continue");
    client.play(phrase(&[(0.0, 60), (0.5, 62)], BEAT_120));
    client.wait_frames(3 * BEAT_120);
    client.stop();
    let (code, stderr) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("went away"), "{stderr}");
    assert!(stderr.contains("every note was ended"), "{stderr}");
}

/// A fresh folder for one test's files, removed with what is left in it
/// when the test drops it.
struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(tag: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("pianola-live-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// The note-ons and note-offs in each track of the MIDI file at `path`.
fn recorded_notes(path: &Path) -> Vec<(usize, usize)> {
    let bytes = std::fs::read(path).expect("the recording");
    let smf = Smf::parse(&bytes).expect("a MIDI file");
    smf.tracks
        .iter()
        .map(|track| {
            let mut counts = (0, 0);
            for event in track {
                match event.kind {
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOn { vel, .. },
                        ..
                    } if vel > 0 => counts.0 += 1,
                    TrackEventKind::Midi {
                        message: MidiMessage::NoteOn { .. } | MidiMessage::NoteOff { .. },
                        ..
                    } => counts.1 += 1,
                    _ => {}
                }
            }
            counts
        })
        .collect()
}

/// Starts `pianola live` recording to `record` with sampler `seed`, plays it
/// a phrase, and returns once a note of Pianola's sounds.
fn jam_until_pianola_sounds(client: &TestClient, record: &Path, seed: &str) -> std::process::Child {
    let child = start_live(
        client,
        &format!("--bpm 120 --seed {seed} --record {}", record.display()),
    );
    client.play(phrase(&[(0.0, 60), (0.5, 64), (1.0, 67)], BEAT_120));
    client.wait_frames(3 * BEAT_120);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sounding(&client.heard()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "Pianola plays");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

/// Checks the recording holds both tracks, each note closed.
fn assert_recording_closed(path: &Path) {
    let tracks = recorded_notes(path);
    assert_eq!(tracks.len(), 3, "tempo, player and pianola tracks");
    for (i, (on, off)) in tracks.iter().enumerate() {
        assert_eq!(on, off, "track {i}: every note-on has its note-off");
    }
    assert!(tracks[2].0 > 0, "Pianola's notes are recorded");
}

#[test]
fn start_reaches_the_connected_port_and_every_port_connected_later() {
    let (_server, client, child) = live_session("start", "--bpm 120 --send-clock --seed 5");
    client.wait_frames(2 * BEAT_120);
    // A clock follower connected while Pianola runs.
    let mut dump = Command::new("jack_midi_dump")
        .arg("-a")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("jack_midi_dump (package jackd2)");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let connected = Command::new("jack_connect")
            .args(["pianola:out", "midi-monitor:input"])
            .status()
            .is_ok_and(|s| s.success());
        if connected {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "jack_midi_dump comes up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    client.wait_frames(2 * BEAT_120);
    signal(&dump, "TERM");
    let _ = dump.wait();
    // The monitor going away is not the player's synth going: Pianola
    // plays on (it ends the session only for the ports it was given).
    client.wait_frames(BEAT_120);
    let mut dumped = String::new();
    std::io::Read::read_to_string(&mut dump.stdout.take().unwrap(), &mut dumped).unwrap();
    ctrl_c(child);

    let heard = client.heard();
    let start = heard
        .iter()
        .position(|h| h.bytes == [0xFA])
        .expect("the connected port hears Start");
    let ticks_after = heard[start..].iter().filter(|h| h.bytes == [0xF8]).count();
    assert!(ticks_after >= 24, "clock ticks follow Start: {ticks_after}");
    let lines: Vec<&str> = dumped.lines().collect();
    let start_line = lines
        .iter()
        .position(|l| l.contains(": fa"))
        .unwrap_or_else(|| panic!("the port connected later hears Start:\n{dumped}"));
    assert!(
        lines[start_line + 1..].iter().any(|l| l.contains(": f8")),
        "ticks follow it"
    );
}

#[test]
fn sigterm_and_sighup_end_every_note_and_write_the_recording() {
    let _server = JackServer::start("signals");
    let dir = scratch("signals");
    for name in ["TERM", "HUP"] {
        let client = TestClient::start();
        let record = dir.join(format!("{name}.mid"));
        let child = jam_until_pianola_sounds(&client, &record, "9");
        signal(&child, name);
        let (code, stderr) = finish(child, Duration::from_secs(20));
        assert_eq!(code, Some(0), "SIG{name}: clean exit: {stderr}");
        assert!(stderr.contains("every note ended"), "SIG{name}: {stderr}");
        client.wait_frames(4 * u64::from(PERIOD));
        assert_eq!(
            sounding(&client.heard()),
            vec![],
            "SIG{name}: no note hangs"
        );
        assert_recording_closed(&record);
    }
}

#[test]
fn a_bad_record_path_fails_at_once_and_a_failed_write_keeps_the_jam() {
    let (_server, client) = server_and_client("record");
    let ports = format!("--input {} --output {}", client.keys, client.synth);
    let stderr = refused(&mut pianola(&format!(
        "live --backend jack {ports} --record /no/such/folder/jam.mid"
    )));
    assert!(
        stderr.contains("--record /no/such/folder/jam.mid: cannot write there"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("listening to"),
        "refused before the session: {stderr}"
    );

    // The folder disappears during the jam: the jam is kept elsewhere.
    let dir = scratch("record");
    let record = dir.join("jam.mid");
    let child = start_live(&client, &format!("--bpm 120 --record {}", record.display()));
    client.play(phrase(&[(0.0, 60), (0.5, 64)], BEAT_120));
    client.wait_frames(3 * BEAT_120);
    std::fs::remove_dir_all(&*dir).unwrap();
    interrupt(&child);
    let (code, stderr) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{stderr}");
    let kept = stderr
        .split("the jam is kept in ")
        .nth(1)
        .unwrap_or_else(|| panic!("says where the jam went: {stderr}"))
        .lines()
        .next()
        .unwrap()
        .trim();
    assert_recording_closed(Path::new(kept));
    std::fs::remove_file(kept).unwrap();
}

#[test]
fn when_the_jack_server_stops_the_message_says_so_and_the_recording_closes_its_notes() {
    let (server, client) = server_and_client("shutdown");
    let dir = scratch("shutdown");
    let record = dir.join("jam.mid");
    let child = jam_until_pianola_sounds(&client, &record, "4");
    drop(server);
    let (code, stderr) = finish(child, Duration::from_secs(20));
    std::mem::forget(client);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("the JACK server shut down"), "{stderr}");
    assert!(
        !stderr.contains("every note was ended"),
        "says only what happened: {stderr}"
    );
    assert_recording_closed(&record);
}

#[test]
fn a_player_note_just_before_a_step_never_silences_it() {
    let (_server, client, child) = live_session(
        "late",
        "--bpm 120 --feel grid --division 1/16 --mode continue --seed 2",
    );
    client.play(phrase(&[(0.0, 60)], BEAT_120));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let first = loop {
        if let Some(&(frame, _)) = note_ons(&client.heard()).first() {
            break frame;
        }
        assert!(std::time::Instant::now() < deadline, "Pianola plays");
        std::thread::sleep(Duration::from_millis(2));
    };
    // Sixteenths are 6,000 frames apart. The player's notes sweep from 600
    // to 1,200 frames before every other step: their chords are committed
    // (1/32 beat = 750 frames later) just before or in the step's period.
    let step = BEAT_120 / 4;
    let begin = client.now() + 4 * u64::from(PERIOD);
    let first_step = first + (begin - first).div_ceil(step) * step + 2 * step;
    let notes = 25;
    let sweep = (0..notes).map(|i| {
        let at = first_step + (2 * i) * step - (600 + 25 * i);
        (at - begin, 62 + (i % 7) as u8)
    });
    let start = client.play(note_schedule(sweep, 2_000, 0));
    assert!(start <= begin, "the schedule starts in time");
    client.wait_frames(begin - client.now().min(begin) + (2 * notes + 2) * step);
    let stderr = ctrl_c(child);
    // Every step from the first to the last of the sweep sounds, except
    // one the machine made late: a step Pianola reported late, or a cycle
    // the server reported a client did not finish (an xrun: what was sent
    // in it is lost). A player's note that silenced steps would silence
    // about one in two here, so a few are a machine's, not the performer's.
    let (late, xruns) = (late_steps(&stderr) as u64, u64::from(client.xruns()));
    let onsets: Vec<u64> = distinct_onsets(&client.heard())
        .into_iter()
        .filter(|&o| o + step / 2 >= first_step && o < first_step + 2 * notes * step)
        .collect();
    assert!(
        late <= 3 + xruns,
        "{late} late steps, {xruns} xruns: {stderr}"
    );
    assert!(
        onsets.len() as u64 + late + xruns >= 2 * notes,
        "a note on every step of the sweep but the {late} late ones ({xruns} xruns): {onsets:?}"
    );
}

/// Plays 40 notes to `pianola live --feel model` in *continue*, one every
/// 0.55 beats, their phase sweeping over 4,000 frames (two twelfths of a
/// beat): many land just before an event Pianola planned (inside the commit
/// horizon, 1/8 beat), and each voids the plan beyond. Returns Pianola's
/// stderr and the xruns the server reported, once what the client heard is
/// checked for hanging notes and for onsets enough: Pianola follows the
/// player's pace (`core::texture`) and leaves room (*Space*), so it plays
/// about one onset per player's note; a performer whose plans the
/// player's notes silenced would play about half as many.
fn jam_in_model_feel() -> (String, u32) {
    let (_server, client, child) = live_session(
        "model-commit",
        "--bpm 120 --mode continue --feel model --seed 5",
    );
    let notes = 40u64;
    let player = (0..notes).map(|i| (i * 13_200 + (i * 317) % 4_000, 55 + (i % 12) as u8));
    let start = client.play_through(note_schedule(player, 3_000, 0), 2 * BEAT_120);
    let stderr = ctrl_c(child);
    let heard = client.heard();
    assert_eq!(sounding(&heard), vec![], "every note-on got its note-off");
    let played = distinct_onsets(&heard)
        .into_iter()
        .filter(|&o| o > start + BEAT_120)
        .count() as u64;
    assert!(
        played >= notes * 3 / 4,
        "Pianola played {played} onsets over {notes} notes"
    );
    (stderr, client.xruns())
}

#[test]
fn the_model_feel_plays_every_planned_event_on_time_while_the_player_plays() {
    // Every planned event played at its time: the committed one through the
    // player's note, and the ones after it (predicted before it played).
    // A JACK cycle a loaded machine runs late makes an event late that
    // Pianola had ready; the performer counts those, and a few are the
    // machine's. A plan that the player's notes voided would make most of
    // the 40 late.
    let (stderr, xruns) = jam_in_model_feel();
    let late = late_steps(&stderr);
    assert!(
        late <= 3 + xruns as usize,
        "{late} late events ({xruns} xruns): {stderr}"
    );
}

/// What Pianola played over a player looping a motif: how often the
/// motif's three steps (at any transposition) came in its melody, and the
/// share of its melody's moves that go where the motif goes next (from a
/// motif note to the one after it).
struct MotifAnswer {
    steps: usize,
    moves: f64,
}

/// The player loops a four-note motif in eighths for 32 beats to `pianola
/// live` in *continue* at `--memory memory`; what Pianola's melody (the
/// top note of each of its onsets, in order) made of it from the second
/// bar on.
fn motif_comes_back(memory: &str) -> MotifAnswer {
    let (_server, client, child) = live_session(
        &format!("memory-{memory}"),
        &format!("--bpm 120 --mode continue --seed 7 --memory {memory}"),
    );
    let motif = [60u8, 63, 67, 65];
    let notes: Vec<(f64, u8)> = (0..64).map(|i| (i as f64 * 0.5, motif[i % 4])).collect();
    let start = client.play_through(phrase(&notes, BEAT_120), BEAT_120);
    ctrl_c(child);
    let heard = client.heard();
    assert_eq!(sounding(&heard), vec![], "every note-on got its note-off");
    let mut melody: Vec<(u64, u8)> = Vec::new();
    for (frame, key) in note_ons(&heard) {
        if frame < start + 4 * BEAT_120 {
            continue;
        }
        match melody.last_mut() {
            Some((at, top)) if *at == frame => *top = (*top).max(key),
            _ => melody.push((frame, key)),
        }
    }
    let interval = |a: u8, b: u8| i16::from(b) - i16::from(a);
    let steps: Vec<i16> = motif.windows(2).map(|w| interval(w[0], w[1])).collect();
    let next = |key: u8| {
        let at = motif.iter().position(|m| m % 12 == key % 12)?;
        Some(motif[(at + 1) % motif.len()] % 12)
    };
    let moves = melody
        .windows(2)
        .filter(|w| next(w[0].1) == Some(w[1].1 % 12))
        .count();
    MotifAnswer {
        steps: melody
            .windows(motif.len())
            .filter(|w| {
                w.windows(2)
                    .map(|p| interval(p[0].1, p[1].1))
                    .eq(steps.iter().copied())
            })
            .count(),
        moves: moves as f64 / melody.len().saturating_sub(1).max(1) as f64,
    }
}

#[test]
fn with_memory_the_players_motif_comes_back() {
    // Seeded, but timed by a real-time server, so what Pianola plays
    // varies a little with the machine's load: under a soak's load the
    // whole motif came back 17 and 18 times in 30 beats in two runs (0
    // without memory), and 0.66 of Pianola's moves were the motif's (0.08
    // without; BENCHMARKS.md). The bound leaves room for a busier machine.
    let with = motif_comes_back("1");
    let without = motif_comes_back("0");
    eprintln!(
        "the motif's steps: {} with memory, {} without; its moves: {:.2} with, {:.2} without",
        with.steps, without.steps, with.moves, without.moves
    );
    assert!(
        with.moves > without.moves + 0.3,
        "moves as the motif's: {:.2} with memory, {:.2} without",
        with.moves,
        without.moves
    );
}
