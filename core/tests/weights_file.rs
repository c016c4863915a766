//! The weights file: round trips, and refusal of every kind of damage.

#[path = "common/model.rs"]
mod model;

use half::f16;
use model::made_up_file;
use pianola_core::model::Arch;
use pianola_core::weights::{ModelFile, StoredDtype, WeightsError};
use pianola_core::{Token, Vocab};

fn tiny_file() -> ModelFile {
    let tokens: Vec<Token> = ["C4", "E4", "G4", "4.9", "0", "B-3"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let mut file = made_up_file(
        Vocab::from_tokens(tokens),
        Arch::Pianola,
        6,
        [4, 3, 2, 5, 8],
        |t, i| ((t * 31 + i * 17) % 23) as f32 / 7.0 - 1.5 + 1e-4 * i as f32,
    );
    file.info.corpus.validation_songs = vec!["held.mid".into()];
    file.info.training.validation_loss = Some(2.5);
    file
}

fn round_to_f16(file: &ModelFile) -> ModelFile {
    let mut rounded = file.clone();
    for values in rounded.params.tensors.iter_mut() {
        values
            .iter_mut()
            .for_each(|v| *v = f16::from_f32(*v).to_f32());
    }
    rounded
}

#[test]
fn f32_files_round_trip_exactly() {
    let file = tiny_file();
    let bytes = file.to_bytes(StoredDtype::F32).unwrap();
    let back = ModelFile::from_bytes(&bytes).unwrap();
    assert_eq!(back, file);
    for (a, b) in back.params.tensors.iter().zip(&file.params.tensors) {
        let bits = |v: &Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(a), bits(b));
    }
}

#[test]
fn f16_files_round_trip_bit_exactly_after_rounding() {
    let file = tiny_file();
    let bytes = file.to_bytes(StoredDtype::F16).unwrap();
    let back = ModelFile::from_bytes(&bytes).unwrap();
    assert_eq!(back, round_to_f16(&file));
    // Saving what was loaded stores the same values again (the header's
    // metadata order may differ, so compare contents, not bytes).
    let again = ModelFile::from_bytes(&back.to_bytes(StoredDtype::F16).unwrap()).unwrap();
    assert!(again == back, "a second round trip changed the file");
    assert!(bytes.len() < file.to_bytes(StoredDtype::F32).unwrap().len());
}

#[test]
fn saving_is_atomic_and_loading_reports_the_path() {
    let dir = std::env::temp_dir().join(format!("pianola-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    tiny_file().save(&path, StoredDtype::F16).unwrap();
    assert!(ModelFile::load(&path).is_ok());
    assert_eq!(
        pianola_core::atomic_file::temporary_files_in(&dir).unwrap(),
        Vec::<std::path::PathBuf>::new(),
        "no temporary file is left"
    );
    let missing = ModelFile::load(&dir.join("missing.safetensors")).unwrap_err();
    assert!(
        missing.to_string().contains("missing.safetensors"),
        "{missing}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_truncation_is_refused() {
    let bytes = tiny_file().to_bytes(StoredDtype::F16).unwrap();
    for end in 0..bytes.len() {
        assert!(
            ModelFile::from_bytes(&bytes[..end]).is_err(),
            "truncated at {end}"
        );
    }
}

#[test]
fn every_single_bit_flip_is_refused() {
    let bytes = tiny_file().to_bytes(StoredDtype::F16).unwrap();
    for position in 0..bytes.len() {
        for bit in [0, 3, 6] {
            let mut damaged = bytes.clone();
            damaged[position] ^= 1 << bit;
            assert!(
                ModelFile::from_bytes(&damaged).is_err(),
                "bit {bit} of byte {position} flipped was accepted"
            );
        }
    }
}

/// Rebuilds a file with its metadata edited by `edit`, keeping a valid digest
/// where `keep_digest` (so the check under test is the one that refuses).
fn edited(edit: impl Fn(&mut serde_json::Map<String, serde_json::Value>)) -> Vec<u8> {
    let bytes = tiny_file().to_bytes(StoredDtype::F32).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    edit(&mut header);
    let mut text = serde_json::to_vec(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend_from_slice(&bytes[8 + header_len..]);
    out
}

fn metadata(
    header: &mut serde_json::Map<String, serde_json::Value>,
) -> &mut serde_json::Map<String, serde_json::Value> {
    header["__metadata__"].as_object_mut().unwrap()
}

/// An edit of a file's header.
type Edit = dyn Fn(&mut serde_json::Map<String, serde_json::Value>);

/// Whether an error is the one expected.
type Expected = fn(&WeightsError) -> bool;

/// The edit that sets the metadata's `key` to `value`.
fn set(key: &'static str, value: &'static str) -> Box<Edit> {
    Box::new(move |h| {
        metadata(h)[key] = value.into();
    })
}

/// The edit that gives the config `units` hidden units instead of 3.
fn hidden(units: &'static str) -> Box<Edit> {
    Box::new(move |h| {
        let m = metadata(h);
        let c = m["config"]
            .as_str()
            .unwrap()
            .replace("\"hidden\":3", &format!("\"hidden\":{units}"));
        m["config"] = c.into();
    })
}

#[test]
fn edited_metadata_is_refused_with_its_reason() {
    use WeightsError as E;
    let cases: Vec<(&str, Box<Edit>, Expected)> = vec![
        ("version", set("version", "2"), |e| {
            matches!(e, E::UnsupportedVersion { .. })
        }),
        ("format", set("format", "other"), |e| {
            matches!(e, E::UnsupportedVersion { .. })
        }),
        (
            "no metadata",
            Box::new(|h| {
                h.remove("__metadata__");
            }),
            |e| matches!(e, E::MissingMetadata(_)),
        ),
        (
            "no vocab",
            Box::new(|h| {
                metadata(h).remove("vocab");
            }),
            |e| matches!(e, E::MissingMetadata("vocab")),
        ),
        ("bad config", set("config", "{"), |e| {
            matches!(e, E::BadMetadata { key: "config", .. })
        }),
        ("zero hidden", hidden("0"), |e| {
            matches!(e, E::BadMetadata { key: "config", .. })
        }),
        ("other hidden", hidden("4"), |e| {
            matches!(e, E::WrongShape { .. })
        }),
        (
            "short vocab",
            set("vocab", "[\"0\",\"4.9\",\"B-3\",\"C4\",\"E4\"]"),
            |e| matches!(e, E::VocabMismatch { .. }),
        ),
        (
            "unsorted vocab",
            set("vocab", "[\"4.9\",\"0\",\"B-3\",\"C4\",\"E4\",\"G4\"]"),
            |e| matches!(e, E::Vocab(_)),
        ),
        (
            "edited vocab",
            set("vocab", "[\"0\",\"4.9\",\"B-3\",\"C4\",\"E4\",\"G5\"]"),
            |e| matches!(e, E::DigestMismatch),
        ),
        (
            "missing tensor",
            Box::new(|h| {
                h.remove("output.bias");
            }),
            |e| matches!(e, E::Format(_) | E::MissingTensor(_)),
        ),
        (
            "wrong dtype",
            Box::new(|h| {
                h["output.bias"]["dtype"] = "I32".into();
            }),
            |e| matches!(e, E::WrongDtype { .. }),
        ),
        (
            "wrong shape",
            Box::new(|h| {
                h["output.bias"]["shape"] = serde_json::json!([2, 3]);
            }),
            |e| matches!(e, E::WrongShape { .. }),
        ),
    ];
    for (name, edit, expected) in cases {
        let error = ModelFile::from_bytes(&edited(edit)).expect_err(name);
        assert!(expected(&error), "{name}: {error}");
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn non_finite_values_are_refused() {
    let mut file = tiny_file();
    file.params.get_mut("dense.bias")[2] = f32::NAN;
    let bytes = file.to_bytes(StoredDtype::F32).unwrap();
    assert!(
        matches!(ModelFile::from_bytes(&bytes), Err(WeightsError::NonFinite(name)) if name == "dense.bias")
    );
    let mut file = tiny_file();
    file.params.get_mut("embedding")[0] = 1e6; // overflows f16
    let bytes = file.to_bytes(StoredDtype::F16).unwrap();
    assert!(matches!(
        ModelFile::from_bytes(&bytes),
        Err(WeightsError::NonFinite(_))
    ));
}

#[test]
fn the_built_in_model_names_no_folder_of_the_machine_that_trained_it() {
    let file = pianola_core::default_model::load().unwrap();
    let corpus = &file.info.corpus;
    assert_eq!(corpus.name, "midi_songs");
    assert_eq!(corpus.songs, 92);
    assert_eq!(corpus.digest.len(), 64, "a SHA-256 digest of the songs");
    let info = serde_json::to_string(&file.info).unwrap();
    for word in info.split(['"', ' ', '=']) {
        assert!(
            !word.starts_with('/') && !word.contains(":\\"),
            "an absolute path in the model's facts: {word}"
        );
    }
}
