//! `pianola stats`, run as the real binary.

use std::path::PathBuf;
use std::process::Command;

fn pianola() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pianola"))
}

fn reference_corpus() -> PathBuf {
    pianola_core::corpus::reference_corpus_dir()
}

#[test]
fn json_report_on_the_reference_corpus() {
    let output = pianola()
        .args(["stats", "--json", "--corpus"])
        .arg(reference_corpus())
        .env_remove("PIANOLA_CORPUS")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["songs_read"], 92);
    assert_eq!(report["songs_skipped"], 0);
    let songs = report["songs"].as_array().unwrap();
    assert_eq!(songs.len(), 92);
    let per_song: u64 = songs.iter().map(|s| s["tokens"].as_u64().unwrap()).sum();
    assert_eq!(report["total_tokens"].as_u64().unwrap(), per_song);
    assert!(per_song > 57_000);
    let vocab = report["vocab_size"].as_u64().unwrap();
    assert!((250..400).contains(&vocab), "vocabulary of {vocab}");

    // The events' histograms: one count per event in each of when, hold
    // and velocity; the corpus moves mostly in eighths, two hands together.
    let histograms = &report["histograms"];
    let total = |name: &str| -> u64 {
        histograms[name]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum()
    };
    for name in ["when", "hold", "velocity"] {
        assert_eq!(total(name), per_song, "{name}: one count per event");
    }
    let when = |twelfths: &str| histograms["when"][twelfths].as_u64().unwrap();
    assert!(
        when("6") > when("0") && when("0") > when("3"),
        "{}",
        histograms["when"]
    );
    let chords = total("chord_register");
    assert!(chords > 5_000 && chords < per_song, "{chords} chords");
}

#[test]
fn corpus_comes_from_the_environment_and_broken_files_are_listed() {
    let dir = std::env::temp_dir().join(format!("pianola-stats-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(reference_corpus().join("8.mid"), dir.join("8.mid")).unwrap();
    std::fs::write(dir.join("broken.mid"), b"MThd garbage").unwrap();
    let output = pianola()
        .arg("stats")
        .env("PIANOLA_CORPUS", &dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success());
    assert!(text.contains("songs read:    1"), "{text}");
    assert!(text.contains("songs skipped: 1"), "{text}");
    assert!(
        text.contains("skipped  broken.mid: not a valid MIDI file"),
        "{text}"
    );
    assert!(text.contains("370  8.mid"), "{text}");
}

#[test]
fn a_missing_corpus_folder_fails_with_its_name() {
    let output = pianola()
        .args(["stats", "--corpus", "/no/such/folder"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(error.contains("/no/such/folder"), "{error}");
}
