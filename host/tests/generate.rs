//! `pianola generate` and `pianola render`, run as the real binary on the
//! built-in model.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use common::cli::{ok, pianola};
use pianola_core::corpus::read_events;
use pianola_core::event::{Event, EventClasses};
use pianola_core::event::{min_when_after, trailing_together};
use pianola_core::midi_file::write_events;
use pianola_core::model::Head;
use pianola_core::sample::Rhythm;
use pianola_core::takes::{DEFAULT_TAKES, best_take};
use pianola_core::tempo::DEFAULT_BPM;
use pianola_core::{Network, Predictor, Sampler, SamplerSettings, Token};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pianola-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const PRIMER: &str = "C5 E5 G5 C5 E5 G5 0.4.7 C4";

fn generate(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec!["generate", "--notes", "64", "--prime-tokens", PRIMER];
    args.extend(["--out", out]);
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
fn the_file_holds_the_events_the_library_generates() {
    let dir = scratch("readback");
    let model = pianola_core::default_model::load().unwrap();
    let primer_events: Vec<Event> = PRIMER
        .split_whitespace()
        .map(|t| t.parse().unwrap())
        .collect();
    let primer: Vec<EventClasses> = primer_events
        .iter()
        .map(|e| EventClasses::of(e, &model.vocab).unwrap())
        .collect();
    for (temperature, seed) in [("0.9", "3"), ("0", "3"), ("0", "4")] {
        ok(&generate(
            &dir,
            "piece.mid",
            // The network alone: argmax is the network's own below.
            &[
                "--seed",
                seed,
                "--temperature",
                temperature,
                "--memory",
                "0",
            ],
        ));
        let written = std::fs::read(dir.join("piece.mid")).unwrap();
        assert_eq!(read_events(&dir.join("piece.mid")).unwrap().len(), 64);

        let network = Arc::new(Network::new(&model).unwrap());
        let mut predictor = Predictor::new(network);
        let settings = SamplerSettings {
            temperature: temperature.parse().unwrap(),
            // `generate`'s default: the model's own rhythm, argmax at 0.
            rhythm_temperature: if temperature == "0" { 0.0 } else { 1.0 },
            memory: 0.0,
            ..SamplerSettings::default()
        };
        let mut sampler = Sampler::new(settings, &model.vocab, seed.parse().unwrap());
        let expected = best_take(
            &mut predictor,
            &mut sampler,
            &primer_events,
            64,
            Rhythm::Model,
            DEFAULT_TAKES,
        );
        // The file is those events, written as `generate` writes them (read
        // back, an onset off the reader's sixteenths and triplets would
        // move).
        assert!(
            written == write_events(&expected, DEFAULT_BPM),
            "temperature {temperature}, seed {seed}: the file is not {expected:?}"
        );
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
            // Where each event starts, and where a later one ended it.
            let starts: Vec<u64> = expected
                .iter()
                .scan(0u64, |at, e| {
                    *at += u64::from(e.when);
                    Some(*at)
                })
                .collect();
            let released_at = |i: usize| {
                let end = starts[i] + u64::from(expected[i].hold);
                (i + 1..expected.len()).any(|j| expected[j].releases && starts[j] == end)
            };
            for (i, event) in expected.iter().enumerate() {
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
                    (chosen.when, chosen.what, chosen.velocity),
                    (want.when, want.what, want.velocity)
                );
                // A length is the most likely one, or a later event ended
                // it sooner.
                assert!(
                    chosen.hold == want.hold || (chosen.hold > want.hold && released_at(i)),
                    "event {i}: hold {} where the head's is {}",
                    want.hold,
                    chosen.hold
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
    // Pianola follows the lengths of what it continues (`texture`): a
    // primer of one length would rightly be continued in one length, so
    // this one varies its own.
    let dir = scratch("rhythm");
    let primer = "C5~1/4 E5~1 G5~1/2 C5~1/4 E5~1 G5~1/2 0.4.7~2 C4~1/2";
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["generate", "--notes", "64", "--prime-tokens", primer];
        args.extend(["--out", out, "--seed", "5"]);
        args.extend_from_slice(extra);
        ok(&pianola(&args, &dir));
    };
    run("model.mid", &[]);
    run("grid.mid", &["--rhythm", "grid"]);
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
    let cases: [(&[&str], &str); 5] = [
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

/// Writes events in the `--prime-tokens` text form to a MIDI file at 120 BPM.
fn write_primer_text(path: &Path, words: &str) {
    let events: Vec<Event> = words
        .split_whitespace()
        .map(|word| Event::parse_with_step(word, 6).unwrap())
        .collect();
    std::fs::write(path, pianola_core::midi_file::write_events(&events, 120.0)).unwrap();
}

/// The peak of a WAV file in dB below full scale.
fn peak_dbfs(path: &Path) -> f64 {
    let reader = hound::WavReader::open(path).unwrap();
    let peak = reader
        .into_samples::<i16>()
        .map(|s| i32::from(s.unwrap()).abs())
        .max()
        .unwrap();
    20.0 * (f64::from(peak) / f64::from(i16::MAX)).log10()
}

#[test]
fn render_brings_the_peak_to_minus_one_dbfs_unless_asked_otherwise() {
    let dir = scratch("level");
    // A known piece: a C major scale and chord, soft.
    write_primer_text(
        &dir.join("scale.mid"),
        "C4~1/2:40 D4@1/2~1/2:40 E4@1/2~1/2:40 F4@1/2~1/2:40 G4@1/2~1/2:40 0.4.7_4@1~2:50",
    );
    let render = |out: &str, extra: &[&str]| {
        let mut args = vec!["render", "scale.mid", "--out", out];
        args.extend_from_slice(extra);
        ok(&pianola(&args, &dir));
        peak_dbfs(&dir.join(out))
    };
    let normal = render("normal.wav", &[]);
    assert!((normal + 1.0).abs() <= 0.5, "peak {normal:.2} dBFS");
    let native = render("native.wav", &["--no-normalize"]);
    assert!(
        native < normal - 3.0,
        "the SoundFont's own level is lower: {native:.2} dBFS"
    );
    let quieter = render("quieter.wav", &["--gain", "-6"]);
    assert!(
        (quieter - (native - 6.0)).abs() <= 0.1,
        "--gain -6 is 6 dB under the SoundFont's level: {quieter:.2} against {native:.2}"
    );
    let refused = pianola(
        &["render", "scale.mid", "--out", "x.wav", "--gain", "90"],
        &dir,
    );
    assert!(!refused.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_a_corpus_a_built_in_opening_primes_and_the_seed_chooses_it() {
    let dir = scratch("builtin");
    let openings: Vec<String> = (1..=3)
        .map(|seed| {
            let seed = seed.to_string();
            let output = pianola(
                &[
                    "generate", "--seed", &seed, "--notes", "16", "--out", "p.mid", "--wav",
                    "p.wav",
                ],
                &dir,
            );
            ok(&output);
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(stderr.contains("no corpus found"), "{stderr}");
            let peak = peak_dbfs(&dir.join("p.wav"));
            assert!((peak + 1.0).abs() <= 0.5, "peak {peak:.2} dBFS");
            stderr
                .split("built-in opening \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("names the opening: {stderr}"))
                .to_string()
        })
        .collect();
    let mut distinct = openings.clone();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        3,
        "different seeds, different openings: {openings:?}"
    );
    // By name; an unknown name lists the real ones.
    ok(&pianola(
        &[
            "generate",
            "--prime-builtin",
            "gigue",
            "--notes",
            "8",
            "--out",
            "g.mid",
        ],
        &dir,
    ));
    let unknown = pianola(
        &["generate", "--prime-builtin", "polka", "--out", "x.mid"],
        &dir,
    );
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(!unknown.status.success());
    assert!(
        stderr.contains("waltz") && stderr.contains("chorale"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_primer_with_tokens_the_model_lacks_plays_them_as_the_nearest_it_knows() {
    let dir = scratch("mapped");
    // An eleven-note cluster and G9 are in no song; a MIDI file of them too.
    let words = "C4 G9 0.1.2.3.4.5.6.7.8.9.10_3 6.8.10.0_3 E4";
    let output = pianola(
        &[
            "generate",
            "--notes",
            "16",
            "--prime-tokens",
            words,
            "--out",
            "tokens.mid",
        ],
        &dir,
    );
    ok(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("hold 3 tokens the model does not know"),
        "{stderr}"
    );
    write_primer_text(&dir.join("odd.mid"), words);
    let output = pianola(
        &[
            "generate", "--notes", "16", "--prime", "odd.mid", "--out", "file.mid",
        ],
        &dir,
    );
    ok(&output);
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not know"));
    assert!(!read_events(&dir.join("file.mid")).unwrap().is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
