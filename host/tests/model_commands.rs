//! `pianola train`, `info` and `eval`, run as the real binary on a small corpus.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::cli::{ok, pianola};

fn reference_corpus() -> PathBuf {
    pianola_core::corpus::reference_corpus_dir()
}

fn json(output: &Output) -> serde_json::Value {
    ok(output);
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `pianola info --json` of the model file `model` in `dir`.
fn info_json(dir: &Path, model: &str) -> serde_json::Value {
    json(&pianola(&["info", "--model", model, "--json"], dir))
}

/// `pianola eval --json` of the model file `model` in `dir`, on the songs
/// `options` name.
fn eval_json(dir: &Path, model: &str, options: &[&str]) -> serde_json::Value {
    let mut args = vec!["eval", "--model", model];
    args.extend_from_slice(options);
    args.push("--json");
    json(&pianola(&args, dir))
}

/// `pianola train` of a tiny event network on `songs` in `dir`, writing
/// `out`, with `extra` options (the split, the epochs).
fn train_tiny(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let sizes = "--embed 8 --hidden 24 --layers 1 --dense 16 --window 20 --batch 8 --threads 1";
    let mut args = vec!["train", "--corpus", "songs", "--out", out];
    args.extend(sizes.split_whitespace());
    args.extend_from_slice(extra);
    pianola(&args, dir)
}

#[test]
fn train_then_info_then_eval() {
    let dir = std::env::temp_dir().join(format!("pianola-cli-train-{}", std::process::id()));
    let songs = dir.join("songs");
    std::fs::create_dir_all(&songs).unwrap();
    for name in ["8.mid", "Cids.mid", "tifap.mid"] {
        std::fs::copy(reference_corpus().join(name), songs.join(name)).unwrap();
    }
    let train = train_tiny(
        &dir,
        "small.safetensors",
        &["--epochs", "2", "--val-songs", "0.34", "--test-songs", "0"],
    );
    ok(&train);
    let text = String::from_utf8_lossy(&train.stdout);
    assert!(text.contains("best validation loss"), "{text}");
    assert!(dir.join("loss.csv").exists());
    let png = std::fs::read(dir.join("loss.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    let info = info_json(&dir, "small.safetensors");
    assert_eq!(info["config"]["hidden"], 24);
    assert_eq!(info["config"]["arch"], "events");
    assert_eq!(info["info"]["corpus"]["songs"], 3);
    let held_out = info["info"]["corpus"]["validation_songs"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(held_out.len(), 1);
    let recorded = info["info"]["training"]["validation_loss"]
        .as_f64()
        .unwrap();

    let eval = eval_json(
        &dir,
        "small.safetensors",
        &["--corpus", "songs", "--stride", "10"],
    );
    assert_eq!(eval["songs"], serde_json::Value::Array(held_out));
    assert!(
        eval["part"]
            .as_str()
            .unwrap()
            .starts_with("the validation part"),
        "a file without a test part says its figure chose: {}",
        eval["part"]
    );
    let loss = eval["cross_entropy"].as_f64().unwrap();
    assert!(
        (loss - recorded).abs() < 0.05,
        "eval {loss} vs recorded {recorded}"
    );
    // Every head's cross-entropy, summing to the whole; perplexity is the
    // notes'.
    let heads = eval["heads"].as_object().unwrap();
    assert_eq!(heads.len(), 5);
    let sum: f64 = heads.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - loss).abs() < 1e-6, "{sum} vs {loss}");
    let what = eval["what_cross_entropy"].as_f64().unwrap();
    assert!((eval["perplexity"].as_f64().unwrap() - what.exp()).abs() < 1e-6);

    // Any folder: a song it never saw, with the share of unknown tokens.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(
        reference_corpus().join("BlueStone_LastDungeon.mid"),
        other.join("a.mid"),
    )
    .unwrap();
    let any = eval_json(&dir, "small.safetensors", &["--songs", "other"]);
    assert_eq!(any["songs"], serde_json::json!(["a.mid"]));
    let mapped = any["mapped_tokens"].as_u64().unwrap();
    let events = any["events"].as_u64().unwrap();
    assert!(mapped > 0 && mapped < events, "{mapped} of {events}");
    assert!((any["mapped_share"].as_f64().unwrap() - mapped as f64 / events as f64).abs() < 1e-9);

    // With the session memory: the song's own repeats are predicted.
    let remembered = eval_json(
        &dir,
        "small.safetensors",
        &["--songs", "other", "--memory", "1"],
    );
    assert_eq!(remembered["memory"], 1.0);
    assert_eq!(remembered["positions"], any["positions"]);
    let (with, without) = (
        remembered["what_cross_entropy"].as_f64().unwrap(),
        any["what_cross_entropy"].as_f64().unwrap(),
    );
    assert!(
        with < without - 0.2,
        "{with} with memory, {without} without"
    );
    let refused = pianola(
        &["eval", "--model", "small.safetensors", "--memory", "50"],
        &dir,
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a Memory"));

    // Fine-tuning that model on another folder: part of it held out, the
    // starting model scored and kept unless training beats it, tokens the
    // vocabulary lacks mapped, the sizes the model's.
    std::fs::copy(reference_corpus().join("tifap.mid"), other.join("b.mid")).unwrap();
    let tuned = pianola(
        &[
            "train",
            "--from",
            "small.safetensors",
            "--corpus",
            "other",
            "--out",
            "tuned.safetensors",
            "--epochs",
            "2",
            "--val-songs",
            "0.5",
            "--threads",
            "1",
            "--eval-stride",
            "10",
        ],
        &dir,
    );
    let text = String::from_utf8_lossy(&tuned.stdout);
    ok(&tuned);
    assert!(text.contains("1 songs train, 1 held out"), "{text}");
    assert!(
        text.contains("each trained as the nearest it knows"),
        "{text}"
    );
    assert!(text.contains("before fine-tuning"), "{text}");
    assert!(
        text.contains("fine-tuned: the notes' cross-entropy on the held-out songs went from"),
        "{text}"
    );
    let tuned_info = info_json(&dir, "tuned.safetensors");
    assert_eq!(tuned_info["config"]["hidden"], 24);
    assert_eq!(tuned_info["vocab"], info["vocab"], "the model's vocabulary");
    assert_eq!(tuned_info["info"]["corpus"]["name"], "other");

    // With a test part: three seeded parts, and eval scores the test one.
    let split = train_tiny(
        &dir,
        "split.safetensors",
        &[
            "--epochs",
            "1",
            "--val-songs",
            "0.5",
            "--test-songs",
            "0.34",
        ],
    );
    ok(&split);
    let split_info = info_json(&dir, "split.safetensors");
    let corpus = &split_info["info"]["corpus"];
    let (validation, test) = (
        corpus["validation_songs"].clone(),
        corpus["test_songs"].clone(),
    );
    assert_eq!(test.as_array().unwrap().len(), 1);
    assert_eq!(validation.as_array().unwrap().len(), 1);
    assert_ne!(validation, test);
    let scored = eval_json(
        &dir,
        "split.safetensors",
        &["--corpus", "songs", "--stride", "10"],
    );
    assert_eq!(scored["songs"], test);
    assert!(
        scored["part"]
            .as_str()
            .unwrap()
            .starts_with("the test part")
    );

    let human = pianola(&["info", "--model", "small.safetensors"], &dir);
    assert!(String::from_utf8_lossy(&human.stdout).contains("LSTM 1 × 24"));

    std::fs::write(dir.join("broken.safetensors"), b"\x10\0\0\0\0\0\0\0{}").unwrap();
    let broken = pianola(&["info", "--model", "broken.safetensors"], &dir);
    assert!(!broken.status.success());
    let error = String::from_utf8_lossy(&broken.stderr);
    assert!(error.contains("broken.safetensors"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn info_without_a_model_or_with_builtin_describes_the_built_in_model() {
    let dir = std::env::temp_dir();
    let built_in = pianola_core::default_model::load().unwrap();
    let parameters = built_in.params.config.parameter_count();
    let plain = json(&pianola(&["info", "--json"], &dir));
    let named = info_json(&dir, "builtin");
    assert_eq!(plain["parameters"], parameters);
    assert_eq!(plain, named);
}
