//! How well `pianola generate` continues a piece it did not learn: a
//! window of each piece of `--songs DIR` is continued with several seeds
//! and held against how the piece really goes on, beside the yardstick
//! "keep the primer's character" (the primer's own figures against the
//! real continuation).
//!
//! Per piece (its middle window, the seeds averaged), then the median over
//! the pieces: the distance of the mean pitch from the real continuation's
//! (semitones), the events per beat against the real continuation's, the
//! notes sounding together (polyphony) against the real continuation's as
//! the primer's error over it, the inter-onset and hold histograms' JS
//! divergence from the real continuation's (bits), and the share of notes
//! in the primer's key. A third column scores the piece's own next
//! `--events` after the real continuation the same way, on the pieces
//! that go on that long: what continuing exactly in the piece's character
//! scores, so a goal can be read against what the music itself gives.
//!
//! `cargo run --release -p pianola-host --example continue_eval -- --songs DIR [--model FILE] [--seeds 3] [--events 64] [--windows 1] [--memory M] [--texture T] [--temperature T] [--rhythm-temperature T] [--key-guide G] [--takes N] [--write DIR]`
//!
//! `--takes N` keeps, of N takes of each seed's continuation, the one most
//! in the primer's character, as `pianola generate` does (default:
//! [`pianola_core::takes::DEFAULT_TAKES`]; 1: the first take).
//!
//! `--windows N` continues N windows of each piece, spread evenly over it
//! (1: the middle one), each counted as a piece of its own: with few
//! pieces, a steadier figure to choose by.
//!
//! `--write DIR` writes each piece's primer, the primer's last `--events`
//! events (`tail`), the real continuation, the piece's next `--events`
//! after it (`next`, where the piece goes on that long) and each seed's as
//! MIDI files (120 BPM) for `tools/muspy_continuations.py`. `tail` and
//! `next` are the piece itself as a continuation: what playing exactly in
//! its character scores.

use std::sync::Arc;

use pianola_core::corpus::Corpus;
use pianola_core::event::{Event, GRID_PER_BEAT};
use pianola_core::figures::{jensen_shannon, time_histogram};
use pianola_core::key::{estimate, in_scale, pitch_class_counts};
use pianola_core::midi_file::write_events;
use pianola_core::nearest::map_to_known;
use pianola_core::sample::Rhythm;
use pianola_core::takes::{DEFAULT_TAKES, best_take};
use pianola_core::{Network, Predictor, Sampler, SamplerSettings};
use pianola_host::generate::load_model;

/// The figures of one stretch of events, for holding against another.
struct Stretch {
    mean_pitch: f64,
    per_beat: f64,
    polyphony: f64,
    when: Vec<f64>,
    hold: Vec<f64>,
}

fn stretch(events: &[Event]) -> Stretch {
    let pitches: Vec<f64> = events
        .iter()
        .flat_map(|e| e.pitches().iter().map(f64::from).collect::<Vec<_>>())
        .collect();
    let beats =
        events.iter().skip(1).map(|e| e.when).sum::<u32>() as f64 / f64::from(GRID_PER_BEAT);
    let onsets = 1 + events.iter().skip(1).filter(|e| e.when > 0).count();
    Stretch {
        mean_pitch: pitches.iter().sum::<f64>() / pitches.len().max(1) as f64,
        per_beat: events.len() as f64 / beats.max(1.0 / 12.0),
        polyphony: pitches.len() as f64 / onsets as f64,
        when: time_histogram(events.iter().skip(1).map(|e| e.when)),
        hold: time_histogram(events.iter().map(|e| e.hold)),
    }
}

/// One continuation's (or the primer's) figures against the real ones.
#[derive(Default, Clone, Copy)]
struct Against {
    pitch_distance: f64,
    per_beat_ratio: f64,
    polyphony_error: f64,
    polyphony_excess: f64,
    js_when: f64,
    js_hold: f64,
    in_key: f64,
}

fn against(
    candidate: &[Event],
    real: &Stretch,
    key: Option<pianola_core::PitchClassSet>,
) -> Against {
    let c = stretch(candidate);
    let in_key = key.map_or(0.0, |scale| {
        let notes: Vec<bool> = candidate
            .iter()
            .flat_map(|e| e.pitches().iter().collect::<Vec<_>>())
            .map(|p| in_scale(pianola_core::Token::Note(p), scale))
            .collect();
        notes.iter().filter(|&&inside| inside).count() as f64 / notes.len().max(1) as f64
    });
    Against {
        pitch_distance: (c.mean_pitch - real.mean_pitch).abs(),
        per_beat_ratio: c.per_beat / real.per_beat.max(1e-9),
        polyphony_error: (c.polyphony - real.polyphony).abs(),
        polyphony_excess: c.polyphony - real.polyphony,
        js_when: jensen_shannon(&c.when, &real.when),
        js_hold: jensen_shannon(&c.hold, &real.hold),
        in_key,
    }
}

/// One figure of an [`Against`].
type Figure = fn(&Against) -> f64;

/// The median over pieces of each one's polyphony error in `rows` over
/// its error in `yardstick` (the same pieces, in order).
fn median_ratio(rows: &[Against], yardstick: &[Against]) -> f64 {
    let ratios = rows.iter().zip(yardstick);
    median(
        ratios
            .map(|(c, k)| c.polyphony_error / k.polyphony_error.max(1e-9))
            .collect(),
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut songs, mut model, mut seeds, mut count) = (None, None, 3u64, 64usize);
    let mut windows = 1usize;
    let mut takes = DEFAULT_TAKES;
    let mut write: Option<std::path::PathBuf> = None;
    let mut settings = SamplerSettings::default();
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--songs" => songs = Some(value()),
            "--model" => model = Some(value()),
            "--seeds" => seeds = value().parse().expect("a number"),
            "--events" => count = value().parse().expect("a number"),
            "--windows" => windows = value().parse::<usize>().expect("a number").max(1),
            "--memory" => settings.memory = value().parse().expect("a number"),
            "--texture" => settings.texture = value().parse().expect("a number"),
            "--temperature" => settings.temperature = value().parse().expect("a number"),
            "--rhythm-temperature" => {
                settings.rhythm_temperature = value().parse().expect("a number")
            }
            "--key-guide" => settings.key_guide = value().parse().expect("a number"),
            "--takes" => takes = value().parse::<usize>().expect("a number").max(1),
            "--write" => write = Some(value().into()),
            other => panic!("unknown argument {other}"),
        }
    }
    let songs = songs.expect("--songs DIR");
    let model = load_model(model.as_deref().map(std::path::Path::new)).expect("a model");
    let window = model.params.config.window;
    let corpus = Corpus::read_dir(std::path::Path::new(&songs)).expect("a folder of MIDI files");
    let network = Arc::new(Network::new(&model).expect("a network"));
    let mut predictor = Predictor::new(network);
    let (mut continued, mut kept) = (Vec::new(), Vec::new());
    // The piece's own next events, beside `kept`: none where the piece
    // does not go on that long.
    let mut neighbours: Vec<Option<Against>> = Vec::new();
    for song in &corpus.songs {
        let (events, _) = map_to_known(&model.vocab, &song.events);
        if events.len() < window + count {
            continue;
        }
        for part in 1..=windows {
            let start = (events.len() - window - count) * part / (windows + 1);
            let primer = &events[start..start + window];
            let real_events = &events[start + window..start + window + count];
            let real = stretch(real_events);
            let name = match windows {
                1 => song.name.trim_end_matches(".mid").to_string(),
                _ => format!("{}@{part}", song.name.trim_end_matches(".mid")),
            };
            let save = |what: &str, events: &[Event]| {
                if let Some(dir) = &write {
                    std::fs::create_dir_all(dir).expect("a folder to write to");
                    let path = dir.join(format!("{name}.{what}.mid"));
                    std::fs::write(&path, write_events(events, 120.0))
                        .expect("writing a MIDI file");
                }
            };
            save("primer", primer);
            save("tail", &primer[window.saturating_sub(count)..]);
            save("real", real_events);
            let key =
                estimate(&pitch_class_counts(primer.iter().map(|e| &e.what))).map(|k| k.scale());
            let after = start + window + count;
            let next = events.get(after..after + count);
            if let Some(next) = next {
                save("next", next);
            }
            neighbours.push(next.map(|next| against(next, &real, key)));
            let mut piece = Vec::new();
            for seed in 1..=seeds {
                let mut sampler = Sampler::new(settings, &model.vocab, seed);
                let generated = best_take(
                    &mut predictor,
                    &mut sampler,
                    primer,
                    count,
                    Rhythm::Model,
                    takes,
                );
                save(&format!("seed{seed}"), &generated);
                piece.push(against(&generated, &real, key));
            }
            let n = piece.len() as f64;
            let mean = |f: Figure| piece.iter().map(f).sum::<f64>() / n;
            continued.push(Against {
                pitch_distance: mean(|a| a.pitch_distance),
                per_beat_ratio: mean(|a| a.per_beat_ratio),
                polyphony_error: mean(|a| a.polyphony_error),
                polyphony_excess: mean(|a| a.polyphony_excess),
                js_when: mean(|a| a.js_when),
                js_hold: mean(|a| a.js_hold),
                in_key: mean(|a| a.in_key),
            });
            kept.push(against(primer, &real, key));
        }
    }
    let column = |rows: &[Against], f: Figure| median(rows.iter().map(f).collect());
    let next: Vec<Against> = neighbours.iter().flatten().copied().collect();
    // The primer kept, on the pieces that go on past the real continuation.
    let primers: Vec<Against> = neighbours
        .iter()
        .zip(&kept)
        .filter(|(next, _)| next.is_some())
        .map(|(_, primer)| *primer)
        .collect();
    println!(
        "{} windows of the pieces of {songs}, {window}-event primers, {count} events, {seeds} seeds, memory {}, texture {}",
        continued.len(),
        settings.memory,
        settings.texture
    );
    println!(
        "median over pieces | continuation | the primer kept (yardstick) | the piece's next events ({} pieces)",
        next.len()
    );
    let rows: [(&str, Figure); 7] = [
        ("mean pitch, semitones from the real", |a| a.pitch_distance),
        ("events per beat / the real", |a| a.per_beat_ratio),
        ("polyphony, notes per onset off the real", |a| {
            a.polyphony_error
        }),
        ("polyphony, notes per onset over the real", |a| {
            a.polyphony_excess
        }),
        ("JS inter-onset (bits)", |a| a.js_when),
        ("JS hold (bits)", |a| a.js_hold),
        ("notes in the primer's key", |a| a.in_key),
    ];
    for (name, f) in rows {
        println!(
            "{name} | {:.3} | {:.3} | {:.3}",
            column(&continued, f),
            column(&kept, f),
            column(&next, f)
        );
    }
    // The median hides pieces played at twice or half their pace: the
    // typical factor off, whichever way, over the pieces.
    let off = |rows: &[Against]| {
        let logs = rows.iter().map(|a| a.per_beat_ratio.max(1e-9).ln().abs());
        (logs.sum::<f64>() / rows.len().max(1) as f64).exp()
    };
    println!(
        "events per beat, mean factor off the real (either way) | {:.3} | {:.3} | {:.3}",
        off(&continued),
        off(&kept),
        off(&next)
    );
    println!(
        "polyphony error over the primer's (median of each piece's ratio) | {:.3} | | {:.3}",
        median_ratio(&continued, &kept),
        median_ratio(&next, &primers)
    );
    // A piece whose primer happens to match the real continuation's
    // polyphony gives a ratio over almost nothing: the ratio of the two
    // medians is the steadier figure.
    let errors = |rows: &[Against]| median(rows.iter().map(|a| a.polyphony_error).collect());
    println!(
        "polyphony error over the primer's (ratio of the medians) | {:.3} | | {:.3}",
        errors(&continued) / errors(&kept).max(1e-9),
        errors(&next) / errors(&primers).max(1e-9)
    );
}
