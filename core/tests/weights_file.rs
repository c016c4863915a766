//! The weights file: round trips, and refusal of every kind of damage.

use half::f16;
use pianola_core::model::{Arch, ModelConfig, Params};
use pianola_core::weights::{ModelFile, ModelInfo, StoredDtype, WeightsError};
use pianola_core::{Token, Vocab};

fn tiny_file() -> ModelFile {
    let config = ModelConfig {
        arch: Arch::Pianola,
        vocab_size: 6,
        embed: 4,
        hidden: 3,
        layers: 2,
        dense: 5,
        window: 8,
    };
    let mut params = Params::zeros(config);
    for (t, values) in params.tensors.iter_mut().enumerate() {
        for (i, v) in values.iter_mut().enumerate() {
            *v = ((t * 31 + i * 17) % 23) as f32 / 7.0 - 1.5 + 1e-4 * i as f32;
        }
    }
    let tokens: Vec<Token> = ["C4", "E4", "G4", "4.9", "0", "B-3"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    let mut info = ModelInfo::default();
    info.corpus.validation_songs = vec!["held.mid".into()];
    info.training.validation_loss = Some(2.5);
    ModelFile {
        vocab: Vocab::from_tokens(tokens),
        params,
        info,
    }
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

#[test]
fn edited_metadata_is_refused_with_its_reason() {
    let cases: Vec<(&str, Box<Edit>, Expected)> = vec![
        (
            "version",
            Box::new(|h| {
                metadata(h)["version"] = "2".into();
            }),
            |e| matches!(e, WeightsError::UnsupportedVersion { .. }),
        ),
        (
            "format",
            Box::new(|h| {
                metadata(h)["format"] = "other".into();
            }),
            |e| matches!(e, WeightsError::UnsupportedVersion { .. }),
        ),
        (
            "no metadata",
            Box::new(|h| {
                h.remove("__metadata__");
            }),
            |e| matches!(e, WeightsError::MissingMetadata(_)),
        ),
        (
            "no vocab",
            Box::new(|h| {
                metadata(h).remove("vocab");
            }),
            |e| matches!(e, WeightsError::MissingMetadata("vocab")),
        ),
        (
            "bad config",
            Box::new(|h| {
                metadata(h)["config"] = "{".into();
            }),
            |e| matches!(e, WeightsError::BadMetadata { key: "config", .. }),
        ),
        (
            "zero hidden",
            Box::new(|h| {
                let m = metadata(h);
                let c = m["config"]
                    .as_str()
                    .unwrap()
                    .replace("\"hidden\":3", "\"hidden\":0");
                m["config"] = c.into();
            }),
            |e| matches!(e, WeightsError::BadMetadata { key: "config", .. }),
        ),
        (
            "other hidden",
            Box::new(|h| {
                let m = metadata(h);
                let c = m["config"]
                    .as_str()
                    .unwrap()
                    .replace("\"hidden\":3", "\"hidden\":4");
                m["config"] = c.into();
            }),
            |e| matches!(e, WeightsError::WrongShape { .. }),
        ),
        (
            "short vocab",
            Box::new(|h| {
                metadata(h)["vocab"] = "[\"0\",\"4.9\",\"B-3\",\"C4\",\"E4\"]".into();
            }),
            |e| matches!(e, WeightsError::VocabMismatch { .. }),
        ),
        (
            "unsorted vocab",
            Box::new(|h| {
                metadata(h)["vocab"] = "[\"4.9\",\"0\",\"B-3\",\"C4\",\"E4\",\"G4\"]".into();
            }),
            |e| matches!(e, WeightsError::Vocab(_)),
        ),
        (
            "edited vocab",
            Box::new(|h| {
                metadata(h)["vocab"] = "[\"0\",\"4.9\",\"B-3\",\"C4\",\"E4\",\"G5\"]".into();
            }),
            |e| matches!(e, WeightsError::DigestMismatch),
        ),
        (
            "missing tensor",
            Box::new(|h| {
                h.remove("output.bias");
            }),
            |e| matches!(e, WeightsError::Format(_) | WeightsError::MissingTensor(_)),
        ),
        (
            "wrong dtype",
            Box::new(|h| {
                h["output.bias"]["dtype"] = "I32".into();
            }),
            |e| matches!(e, WeightsError::WrongDtype { .. }),
        ),
        (
            "wrong shape",
            Box::new(|h| {
                h["output.bias"]["shape"] = serde_json::json!([2, 3]);
            }),
            |e| matches!(e, WeightsError::WrongShape { .. }),
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
