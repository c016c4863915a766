//! Scoring with the session memory: it helps where a song repeats itself,
//! and never peeks at what comes after the position scored.

use candle_core::{DType, Device};
use pianola_core::model::{Arch, Head, ModelConfig};
use pianola_trainer::data::Step;
use pianola_trainer::init::initialise;
use pianola_trainer::network::Network;
use pianola_trainer::session_eval::evaluate_with_memory;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn tiny_network() -> Network {
    let config = ModelConfig {
        arch: Arch::Events,
        vocab_size: 64,
        embed: 8,
        hidden: 16,
        layers: 1,
        dense: 8,
        window: 8,
        repeats: false,
    };
    let params = initialise(config, &mut ChaCha8Rng::seed_from_u64(5));
    Network::new(&params, &Device::Cpu, DType::F32).unwrap()
}

#[test]
fn a_song_with_no_repeats_scores_the_same_with_memory_or_without() {
    // Every token once: a memory of the song's earlier events never
    // matches; one that peeked at later events would.
    let song: Vec<Step> = (0..64).map(Step::token).collect();
    let mut network = tiny_network();
    let alone = evaluate_with_memory(&mut network, &[&song], 1, 0.0).unwrap();
    let remembered = evaluate_with_memory(&mut network, &[&song], 1, 1.0).unwrap();
    assert_eq!(alone.count, remembered.count);
    for head in Head::ALL {
        let (a, r) = (alone.head_loss(head), remembered.head_loss(head));
        assert!((a - r).abs() < 1e-6, "{}: {a} vs {r}", head.name());
    }
}

#[test]
fn a_song_that_repeats_itself_is_predicted_better_with_memory() {
    let phrase: Vec<Step> = [3u32, 9, 14, 9, 3, 20, 27, 14, 5, 11]
        .into_iter()
        .map(Step::token)
        .collect();
    let song = phrase.repeat(6);
    let mut network = tiny_network();
    let alone = evaluate_with_memory(&mut network, &[&song], 1, 0.0).unwrap();
    let half = evaluate_with_memory(&mut network, &[&song], 1, 0.5).unwrap();
    let full = evaluate_with_memory(&mut network, &[&song], 1, 1.0).unwrap();
    let what = |s: &pianola_trainer::network::Stats| s.head_loss(Head::What);
    assert!(
        what(&half) < what(&alone) - 1.0,
        "{} vs {}",
        what(&half),
        what(&alone)
    );
    assert!(
        what(&full) < what(&half),
        "{} vs {}",
        what(&full),
        what(&half)
    );
    assert!(full.accuracy() > 0.9, "top-1 {}", full.accuracy());
}
