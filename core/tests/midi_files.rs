//! The corpus reader on small MIDI files built byte by byte, and on broken ones.

use pianola_core::corpus::{CorpusError, tokens_from_bytes};
use pianola_core::{Corpus, Token};
use proptest::prelude::*;

/// A variable-length quantity, as MIDI files write delta times.
fn vlq(mut value: u32) -> Vec<u8> {
    let mut bytes = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        bytes.insert(0, (value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    bytes
}

/// A track chunk from (delta ticks, event bytes) pairs, with end-of-track.
fn track(events: &[(u32, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (delta, bytes) in events {
        body.extend(vlq(*delta));
        body.extend_from_slice(bytes);
    }
    body.extend([0x00, 0xff, 0x2f, 0x00]);
    let mut chunk = b"MTrk".to_vec();
    chunk.extend((body.len() as u32).to_be_bytes());
    chunk.extend(body);
    chunk
}

/// A track chunk from events written `delta => byte byte ...;` (delta
/// ticks, then the event's bytes), with end-of-track.
macro_rules! track {
    ($($delta:literal => $($byte:literal)+);* $(;)?) => {
        track(&[$(($delta, &[$($byte),+])),*])
    };
}

/// A standard MIDI file of the given format, ticks per quarter and tracks.
fn smf(format: u16, tpq: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
    let mut file = b"MThd".to_vec();
    file.extend(6u32.to_be_bytes());
    file.extend(format.to_be_bytes());
    file.extend((tracks.len() as u16).to_be_bytes());
    file.extend(tpq.to_be_bytes());
    for t in tracks {
        file.extend(t);
    }
    file
}

fn texts(bytes: &[u8]) -> Vec<String> {
    tokens_from_bytes(bytes)
        .expect("valid file")
        .iter()
        .map(Token::to_string)
        .collect()
}

const TEMPO_120: &[u8] = &[0xff, 0x51, 0x03, 0x07, 0xa1, 0x20];
const TEMPO_90: &[u8] = &[0xff, 0x51, 0x03, 0x0a, 0x2c, 0x2a];

#[test]
fn format_0_with_running_status_and_zero_velocity_offs() {
    let notes = track![
        0 => 0x90 60 100; 480 => 60 0; // running status, velocity 0 = note-off
        0 => 62 90; 480 => 0x80 62 0;
        0 => 0x90 64 80; 480 => 64 0;
    ];
    assert_eq!(texts(&smf(0, 480, &[notes])), ["C4", "D4", "E4"]);
}

#[test]
fn notes_starting_and_ending_together_form_a_chord() {
    let notes = track![
        // The second within 1/16 quarter (30 ticks) of the first.
        0 => 0x90 60 100; 10 => 0x90 64 100; 0 => 0x90 69 100;
        470 => 0x80 60 0; 0 => 0x80 64 0; 5 => 0x80 69 0;
        0 => 0x90 70 100; 480 => 0x80 70 0;
    ];
    assert_eq!(texts(&smf(0, 480, &[notes])), ["9.0.4", "B-4"]);
}

#[test]
fn notes_starting_together_but_ending_apart_stay_separate() {
    let notes = track![0 => 0x90 48 100; 0 => 0x90 72 100; 240 => 0x80 72 0; 720 => 0x80 48 0];
    assert_eq!(texts(&smf(0, 480, &[notes])), ["C3", "C5"]);
}

#[test]
fn onsets_apart_by_more_than_the_tolerance_are_separate_tokens() {
    let notes = track![0 => 0x90 60 100; 40 => 0x90 67 100; 440 => 0x80 60 0; 40 => 0x80 67 0];
    assert_eq!(texts(&smf(0, 480, &[notes])), ["C4", "G4"]);
}

#[test]
fn drums_on_channel_10_are_ignored() {
    let notes = track![0 => 0x99 36 100; 0 => 0x90 60 100; 96 => 0x89 36 0; 0 => 0x80 60 0];
    assert_eq!(texts(&smf(0, 96, &[notes])), ["C4"]);
}

#[test]
fn format_1_merges_tracks_in_time_order_whatever_the_tempo_map() {
    let conductor = track(&[(0, TEMPO_120), (960, TEMPO_90)]);
    let right = track![0 => 0x90 72 100; 480 => 0x80 72 0; 480 => 0x90 74 100; 480 => 0x80 74 0];
    let left = track![240 => 0x91 48 100; 480 => 0x81 48 0; 480 => 0x91 50 100; 240 => 0x81 50 0];
    let file = smf(1, 480, &[conductor, right, left]);
    assert_eq!(texts(&file), ["C5", "C3", "D5", "D3"]);
}

#[test]
fn equal_onsets_in_different_tracks_are_separate_tokens_in_track_order() {
    let upper = track![0 => 0x90 76 100; 480 => 0x80 76 0];
    let lower = track![0 => 0x91 40 100; 480 => 0x81 40 0];
    assert_eq!(texts(&smf(1, 480, &[upper, lower])), ["E5", "E2"]);
}

#[test]
fn only_the_first_instrument_is_read_when_the_file_names_instruments() {
    let piano = track![0 => 0xc0 0; 0 => 0x90 60 100; 480 => 0x80 60 0];
    let strings = track![0 => 0xc1 48; 0 => 0x91 67 100; 480 => 0x81 67 0];
    let second_piano = track![0 => 0xc2 0; 240 => 0x92 64 100; 480 => 0x82 64 0];
    assert_eq!(
        texts(&smf(1, 480, &[piano, strings, second_piano])),
        ["C4", "E4"]
    );
}

#[test]
fn notes_before_their_channels_first_program_change_are_dropped() {
    let notes = track![
        0 => 0x90 60 100; 480 => 0x80 60 0;
        0 => 0xc0 0;
        0 => 0x90 62 100; 480 => 0x80 62 0;
    ];
    assert_eq!(texts(&smf(0, 480, &[notes])), ["D4"]);
}

#[test]
fn a_note_on_of_a_sounding_key_ends_it_as_music21_5_does() {
    let notes = track![
        0 => 0x90 72 100;
        0 => 0x90 72 110; // ends the first 72 and starts nothing
        0 => 0x90 64 110; 384 => 0x90 72 0; 128 => 0x90 64 0;
    ];
    assert_eq!(texts(&smf(0, 384, &[notes])), ["C5", "E4"]);
}

#[test]
fn a_note_never_released_is_dropped() {
    let notes = track![0 => 0x90 60 100; 0 => 0x90 64 100; 480 => 0x80 64 0];
    assert_eq!(texts(&smf(0, 480, &[notes])), ["E4"]);
}

#[test]
fn a_file_without_notes_is_an_empty_sequence() {
    let file = smf(1, 480, &[track(&[(0, TEMPO_120)]), track![0 => 0xc0 0]]);
    assert_eq!(texts(&file), Vec::<String>::new());
}

/// A file of one note, middle C.
fn one_note() -> Vec<u8> {
    smf(0, 480, &[track![0 => 0x90 60 100; 480 => 0x80 60 0]])
}

#[test]
fn broken_files_give_clear_errors() {
    let good = one_note();
    assert!(matches!(tokens_from_bytes(&[]), Err(CorpusError::Midi(_))));
    assert!(matches!(
        tokens_from_bytes(b"RIFF\0\0\0\x06\0\0\0\x01\x01\xe0"),
        Err(CorpusError::Midi(_))
    ));
    let mut zero_tpq = good.clone();
    zero_tpq[12..14].copy_from_slice(&[0, 0]);
    assert!(tokens_from_bytes(&zero_tpq).is_err());
    let mut smpte = good.clone();
    smpte[12..14].copy_from_slice(&[0xe7, 0x28]);
    assert!(matches!(
        tokens_from_bytes(&smpte),
        Err(CorpusError::Timecode)
    ));
    let error = tokens_from_bytes(&good[..10]).unwrap_err();
    assert!(!error.to_string().is_empty());
    // Every truncation: an error or fewer notes, never a panic.
    for end in 0..good.len() {
        let _ = tokens_from_bytes(&good[..end]);
    }
    // A track whose declared length runs past the end of the file.
    let mut long_track = good.clone();
    long_track[18..22].copy_from_slice(&1000u32.to_be_bytes());
    let _ = tokens_from_bytes(&long_track);
}

#[test]
fn a_folder_skips_broken_files_with_their_reason_and_reads_the_rest() {
    let dir = std::env::temp_dir().join(format!("pianola-corpus-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = one_note();
    std::fs::write(dir.join("b_good.mid"), &good).unwrap();
    std::fs::write(dir.join("a_broken.mid"), b"not a midi file").unwrap();
    std::fs::write(dir.join("c_upper.MIDI"), &good).unwrap();
    std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
    let corpus = Corpus::read_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let names: Vec<&str> = corpus.songs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["b_good.mid", "c_upper.MIDI"]);
    assert_eq!(corpus.skipped.len(), 1);
    assert_eq!(corpus.skipped[0].name, "a_broken.mid");
    assert!(matches!(corpus.skipped[0].reason, CorpusError::Midi(_)));
    assert_eq!(corpus.total_tokens(), 2);
}

#[test]
fn a_missing_folder_is_an_error_naming_it() {
    let error = Corpus::read_dir("/no/such/pianola/folder".as_ref()).unwrap_err();
    assert!(
        error.to_string().contains("/no/such/pianola/folder"),
        "{error}"
    );
}

/// The first dozen files of the reference corpus, read once.
fn corpus_files() -> &'static [Vec<u8>] {
    static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FILES.get_or_init(read_corpus_files)
}

fn read_corpus_files() -> Vec<Vec<u8>> {
    let dir = pianola_core::corpus::reference_corpus_dir();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .take(12)
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = tokens_from_bytes(&bytes);
        let mut with_header = b"MThd\0\0\0\x06\0\x01\0\x02\x01\xe0".to_vec();
        with_header.extend(&bytes);
        let _ = tokens_from_bytes(&with_header);
    }

    #[test]
    fn mutated_corpus_files_never_panic(
        file in 0usize..12,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let files = corpus_files();
        let mut bytes = files[file % files.len()].clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = tokens_from_bytes(&bytes);
        let end = cut.index(bytes.len() + 1);
        let _ = tokens_from_bytes(&bytes[..end]);
    }
}
