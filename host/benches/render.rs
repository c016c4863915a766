//! Rendering 500 notes (one every half beat at 120 BPM: 125 s of audio)
//! through the installed SoundFont at 44.1 kHz.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use pianola_core::Token;
use pianola_core::midi_file::{MidiWriteSettings, write_tokens};
use pianola_host::render::{load_soundfont, synthesize};
use rustysynth::MidiFile;

fn render(c: &mut Criterion) {
    let texts = [
        "C4", "E4", "G4", "0.4.7", "A3", "9.0.4", "F4", "5.9.0", "G3", "7.11.2", "B3", "D5",
    ];
    let tokens: Vec<Token> = (0..500)
        .map(|i| texts[i % texts.len()].parse().unwrap())
        .collect();
    let bytes = write_tokens(&tokens, &MidiWriteSettings::default());
    let song = Arc::new(MidiFile::new(&mut Cursor::new(bytes)).unwrap());
    let (_, font) = load_soundfont(None).expect("a SoundFont (scripts/setup installs one)");
    let font = Arc::new(font);
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    group.bench_function("500_notes_125s_44k1", |b| {
        b.iter(|| black_box(synthesize(&song, &font, 44_100).unwrap().0.len()))
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
