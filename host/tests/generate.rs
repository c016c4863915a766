//! `pianola generate` and `pianola render`, run as the real binary on the
//! built-in model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use pianola_core::corpus::read_events;
use pianola_core::event::{Event, EventClasses};
use pianola_core::model::Head;
use pianola_core::sample::{Rhythm, continue_events, min_when_after, trailing_together};
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, Token};

fn pianola(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pianola"))
        .args(args)
        .current_dir(dir)
        .env_remove("PIANOLA_CORPUS")
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pianola-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const PRIMER: &str = "C5 E5 G5 C5 E5 G5 0.4.7 C4";

fn generate(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "generate",
        "--notes",
        "64",
        "--prime-tokens",
        PRIMER,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    pianola(&args, dir)
}

#[test]
fn the_same_seed_writes_the_same_file_and_other_seeds_differ() {
    let dir = scratch("seeds");
    ok(&generate(&dir, "a.mid", &["--seed", "7"]));
    ok(&generate(&dir, "b.mid", &["--seed", "7"]));
    ok(&generate(&dir, "c.mid", &["--seed", "8"]));
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(read("a.mid"), read("b.mid"));
    assert_ne!(read("a.mid"), read("c.mid"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_file_reads_back_as_the_events_the_library_generates() {
    let dir = scratch("readback");
    let model = pianola_core::default_model::load().unwrap();
    let primer: Vec<EventClasses> = PRIMER
        .split_whitespace()
        .map(|t| EventClasses::of(&t.parse::<Event>().unwrap(), &model.vocab).unwrap())
        .collect();
    for (temperature, seed) in [("0.9", "3"), ("0", "3"), ("0", "4")] {
        ok(&generate(
            &dir,
            "piece.mid",
            &["--seed", seed, "--temperature", temperature],
        ));
        let written = read_events(&dir.join("piece.mid")).unwrap();
        assert_eq!(written.len(), 64);

        let network = Arc::new(Network::new(&model).unwrap());
        let mut predictor = Predictor::new(network);
        let settings = SamplerSettings {
            temperature: temperature.parse().unwrap(),
            // `generate`'s default: the model's own rhythm, argmax at 0.
            rhythm_temperature: if temperature == "0" { 0.0 } else { 1.0 },
            ..SamplerSettings::default()
        };
        let mut sampler = Sampler::new(settings, &model.vocab, seed.parse().unwrap());
        let expected = continue_events(&mut predictor, &mut sampler, &primer, 64, Rhythm::Model);
        assert_eq!(written, expected, "temperature {temperature}, seed {seed}");
        if temperature == "0" {
            // Argmax: every field is the most likely one after its context
            // and the fields chosen before it.
            let mut predictor = Predictor::new(Arc::new(Network::new(&model).unwrap()));
            predictor.prime_events(&primer);
            let argmax = |scores: &[f32]| {
                (0..scores.len())
                    .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
                    .unwrap()
            };
            // Events in a row on one onset are capped (MAX_TOGETHER): past
            // the cap, the most likely `when` that is not 0.
            let mut together = trailing_together(primer.iter().map(|e| e.when));
            for event in &expected {
                let want = EventClasses::of(event, &model.vocab).unwrap();
                let mut chosen = EventClasses::default();
                let first = min_when_after(together);
                chosen.when = first + argmax(&predictor.head_logits(Head::When, &chosen)[first..]);
                together = if chosen.when == 0 { together + 1 } else { 0 };
                chosen.what = argmax(predictor.head_logits(Head::What, &chosen));
                chosen.hold = argmax(predictor.head_logits(Head::Hold, &chosen));
                chosen.velocity = argmax(predictor.head_logits(Head::Velocity, &chosen));
                let register = argmax(predictor.head_logits(Head::Register, &chosen));
                assert_eq!(
                    (chosen.when, chosen.what, chosen.hold, chosen.velocity),
                    (want.when, want.what, want.hold, want.velocity)
                );
                if matches!(event.what, Token::Chord(_)) {
                    assert_eq!(register, want.register);
                }
                predictor.feed_event(&want);
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_model_rhythm_varies_timing_lengths_and_velocity_and_grid_keeps_the_step() {
    let dir = scratch("rhythm");
    ok(&generate(&dir, "model.mid", &["--seed", "5"]));
    ok(&generate(
        &dir,
        "grid.mid",
        &["--seed", "5", "--rhythm", "grid"],
    ));
    let model = read_events(&dir.join("model.mid")).unwrap();
    let distinct = |f: fn(&Event) -> u32| {
        let mut values: Vec<u32> = model[1..].iter().map(f).collect();
        values.sort_unstable();
        values.dedup();
        values.len()
    };
    assert!(distinct(|e| e.when) >= 2, "one onset gap throughout");
    assert!(distinct(|e| e.hold) >= 2, "one length throughout");
    let grid = read_events(&dir.join("grid.mid")).unwrap();
    assert!(
        grid[1..]
            .iter()
            .all(|e| e.when == 6 && e.hold == 6 && e.velocity == 80)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_wav_has_the_pieces_length_and_is_neither_silent_nor_clipped() {
    let dir = scratch("wav");
    ok(&generate(
        &dir,
        "piece.mid",
        &[
            "--wav",
            "piece.wav",
            "--png",
            "piece.png",
            "--rhythm",
            "grid",
            "--bpm",
            "120",
            "--step",
            "0.5",
        ],
    ));
    let reader = hound::WavReader::open(dir.join("piece.wav")).unwrap();
    let spec = reader.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 44_100));
    let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
    let seconds = samples.len() as f64 / 2.0 / 44_100.0;
    let step_seconds = 0.25;
    assert!(
        (seconds - 64.0 * step_seconds).abs() <= step_seconds,
        "{seconds} s"
    );
    let peak = samples.iter().map(|s| i32::from(*s).abs()).max().unwrap();
    assert!(peak > 1000, "silent: peak {peak}");
    assert!(peak < i32::from(i16::MAX), "clipped");
    let png = std::fs::read(dir.join("piece.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    ok(&pianola(
        &[
            "render",
            "piece.mid",
            "--out",
            "again.wav",
            "--sample-rate",
            "22050",
        ],
        &dir,
    ));
    let again = hound::WavReader::open(dir.join("again.wav")).unwrap();
    assert_eq!(again.spec().sample_rate, 22_050);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_fails_clearly_and_leaves_no_file() {
    let dir = scratch("bad");
    std::fs::write(dir.join("broken.sf2"), b"RIFF nonsense").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "generate",
                "--notes",
                "0",
                "--prime-tokens",
                "C4",
                "--out",
                "x.mid",
            ],
            "--notes",
        ),
        (
            &["generate", "--prime", "missing.mid", "--out", "x.mid"],
            "missing.mid",
        ),
        (
            &["generate", "--prime-tokens", "C4 Q9 C#-1", "--out", "x.mid"],
            "Q9",
        ),
        (
            &[
                "generate",
                "--prime-tokens",
                "C4 G9 0.1.2.3.4.5.6.7.8.9.10",
                "--out",
                "x.mid",
            ],
            "does not know",
        ),
        (
            &[
                "generate",
                "--notes",
                "4",
                "--prime-tokens",
                "C4",
                "--out",
                "x.mid",
                "--wav",
                "x.wav",
                "--soundfont",
                "broken.sf2",
            ],
            "broken.sf2",
        ),
        (&["render", "missing.mid", "--out", "x.wav"], "missing.mid"),
    ];
    for (args, expected) in cases {
        let output = pianola(args, &dir);
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(error.contains(expected), "{args:?}: {error}");
        assert!(!error.contains("panicked"), "{args:?}: {error}");
        assert!(!dir.join("x.wav").exists(), "{args:?} left a WAV");
        assert!(!dir.join("x.mid").exists(), "{args:?} left a MIDI file");
    }
    assert_eq!(
        pianola_core::atomic_file::temporary_files_in(&dir).unwrap(),
        Vec::<std::path::PathBuf>::new(),
        "no temporary file is left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
