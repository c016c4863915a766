//! The plugin's state in a real CLAP host: save → load round-trips, and a
//! weights file chosen through the state loads in the background, or is
//! refused while the previous model keeps playing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pianola_tests::clap_host::{Input, PluginUnderTest, longest_silence, onsets, workspace_root};
use serde_json::Value;

/// The state's JSON (nice-plug writes its length as 8 bytes, then JSON).
fn state_json(plugin: &mut PluginUnderTest) -> Value {
    let bytes = plugin.save_state();
    let length = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    assert_eq!(bytes.len(), 8 + length, "the length prefix counts the JSON");
    serde_json::from_slice(&bytes[8..]).expect("the state is JSON")
}

/// A state as nice-plug reads it.
fn state_bytes(state: &Value) -> Vec<u8> {
    let json = serde_json::to_vec(state).expect("JSON");
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&json);
    bytes
}

/// The model choice inside a state: (path, status).
fn model_choice(state: &Value) -> (Option<PathBuf>, String) {
    let field = state["fields"]["model"].as_str().expect("a model field");
    let choice: Value = serde_json::from_str(field).expect("the field is JSON");
    (
        choice["path"].as_str().map(PathBuf::from),
        choice["status"].as_str().unwrap_or_default().to_string(),
    )
}

/// `state` choosing the weights file `path`.
fn with_model(mut state: Value, path: &Path) -> Vec<u8> {
    let choice = serde_json::json!({ "path": path, "status": "" });
    state["fields"]["model"] = Value::String(choice.to_string());
    state_bytes(&state)
}

/// Plays blocks until the state's model status contains `text`.
fn play_until_status(plugin: &mut PluginUnderTest, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, status) = model_choice(&state_json(plugin));
        if status.contains(text) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "status {status:?} never said {text:?}"
        );
        plugin.process(512, &[]);
    }
}

/// `keys` played in eighths from the start, each held 2,000 samples.
fn eighths(keys: &[u8], samples_per_beat: f64) -> Vec<(u64, Input)> {
    keys.iter()
        .enumerate()
        .flat_map(|(i, &key)| {
            let at = (i as f64 * 0.5 * samples_per_beat) as u64;
            [
                (at, Input::NoteOn { key, velocity: 0.8 }),
                (at + 2000, Input::NoteOff { key }),
            ]
        })
        .collect()
}

/// A copy of the built-in weights file as a user's file, and a corrupt one.
fn weights_files(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("pianola-state-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let good = dir.join("mine.safetensors");
    let bad = dir.join("broken.safetensors");
    let bytes = std::fs::read(workspace_root().join("models/default.safetensors")).expect("model");
    std::fs::write(&good, &bytes).expect("write");
    let mut broken = bytes.clone();
    let middle = broken.len() / 2;
    broken[middle] ^= 0x40;
    std::fs::write(&bad, &broken).expect("write");
    (good, bad)
}

#[test]
fn state_round_trips_with_parameters_and_a_user_weights_file() {
    let (good, _) = weights_files("round-trip");
    let mut first = PluginUnderTest::new();
    first.activate(48_000.0, 512);
    let [temperature, mode, octave] = first.param_ids(["Temperature", "Mode", "Chord octave"]);
    first.process(
        512,
        &[
            (0, Input::param(temperature, 0.35)),
            (1, Input::param(mode, 2.0)),
            (2, Input::param(octave, 0.5)),
        ],
    );
    let state = state_json(&mut first);
    assert!(first.load_state(&with_model(state, &good)));
    let status = play_until_status(&mut first, "playing");
    assert!(status.contains("mine.safetensors"), "{status}");
    let saved = state_json(&mut first);
    assert_eq!(saved["params"]["mode"]["string"], "echo");
    assert_eq!(model_choice(&saved).0.as_deref(), Some(good.as_path()));

    // A fresh instance takes the saved state and saves it back unchanged.
    let mut second = PluginUnderTest::new();
    assert!(second.load_state(&state_bytes(&saved)));
    let again = state_json(&mut second);
    assert_eq!(again["params"], saved["params"], "parameters round-trip");
    assert_eq!(
        model_choice(&again).0,
        model_choice(&saved).0,
        "the weights path round-trips"
    );
    for (name, id) in [("Temperature", temperature), ("Mode", mode)] {
        assert_eq!(second.param_value(id), first.param_value(id), "{name}");
    }
    // Activated, it loads the file itself.
    second.activate(48_000.0, 512);
    let status = play_until_status(&mut second, "playing");
    assert!(status.contains("mine.safetensors"), "{status}");
}

#[test]
fn a_corrupt_weights_file_in_the_state_keeps_the_previous_model_playing() {
    let (_, bad) = weights_files("corrupt");
    // On the grid: a step every eighth, whatever the model samples.
    let mut plugin = PluginUnderTest::active_on_the_grid(512);
    let spb = plugin.samples_per_beat();
    let inputs = eighths(&[60, 64, 67], spb);
    plugin.run_until((4.0 * spb) as u64, || 512, &inputs);
    let before = onsets(&plugin.sent).len();
    assert!(before > 0, "the built-in model plays");

    let state = state_json(&mut plugin);
    assert!(plugin.load_state(&with_model(state, &bad)));
    let status = play_until_status(&mut plugin, "could not load");
    assert!(
        status.contains("broken.safetensors"),
        "the status names the file: {status}"
    );
    assert!(status.contains("previous model keeps playing"), "{status}");

    // Still playing, uninterrupted: no step-long silence (a step a busy
    // machine made late still plays the next).
    let from = plugin.clock;
    let to = from + (8.0 * spb) as u64;
    plugin.run_until(to, || 512, &[]);
    let silence = longest_silence(&onsets(&plugin.sent), from, to) as f64 / spb;
    assert!(
        silence <= 1.0,
        "the previous model keeps playing: {silence} beats without a note"
    );
}

/// The session memory inside a state: its events' texts and whether the
/// player played them.
fn memory_events(state: &Value) -> Vec<(String, bool)> {
    let field = state["fields"]["memory"].as_str().expect("a memory field");
    let memory: Value = serde_json::from_str(field).expect("the field is JSON");
    memory["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["event"].as_str().expect("text").to_string(),
                e["player"].as_bool().expect("a player flag"),
            )
        })
        .collect()
}

#[test]
fn the_session_memory_is_saved_with_the_state_and_a_reopened_project_remembers() {
    let mut first = PluginUnderTest::new();
    first.activate(48_000.0, 512);
    let spb = first.samples_per_beat();
    let keys = [60u8, 64, 67, 72];
    let inputs = eighths(&keys, spb);
    first.run_until((2.0 * spb) as u64, || 512, &inputs);
    // The worker publishes what it heard when it is idle.
    let deadline = Instant::now() + Duration::from_secs(60);
    let saved = loop {
        let state = state_json(&mut first);
        let players = memory_events(&state).iter().filter(|(_, p)| *p).count();
        if players == keys.len() {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "the memory never held the player's notes"
        );
        first.process(512, &[]);
        std::thread::sleep(Duration::from_millis(5));
    };
    let remembered = memory_events(&saved);
    let player: Vec<&str> = remembered
        .iter()
        .filter(|(_, p)| *p)
        .map(|(text, _)| text.split('@').next().unwrap())
        .collect();
    assert_eq!(
        player,
        ["C4", "E4", "G4", "C5"],
        "the player's notes, in order"
    );

    // A reopened project: a fresh instance takes the memory and saves it
    // back, and once playing, its worker holds it.
    let mut second = PluginUnderTest::new();
    assert!(second.load_state(&state_bytes(&saved)));
    assert_eq!(memory_events(&state_json(&mut second)), remembered);
    second.activate(48_000.0, 512);
    second.process(512, &[]);
    assert_eq!(memory_events(&state_json(&mut second)), remembered);
}
