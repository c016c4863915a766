//! Inference in core, one token at a time, against the trainer's candle
//! network's forward pass over the same context.

use std::sync::Arc;

use candle_core::{DType, Device};
use pianola_core::model::{Arch, ModelConfig};
use pianola_core::weights::{ModelFile, ModelInfo, StoredDtype};
use pianola_core::{Network, Predictor, Token, Vocab};
use pianola_trainer::data::Step;
use pianola_trainer::init::initialise;
use pianola_trainer::network::{self, Batch, Positions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn model(window: usize) -> ModelFile {
    let config = ModelConfig {
        arch: Arch::Pianola,
        vocab_size: 11,
        embed: 16,
        hidden: 40,
        layers: 3,
        dense: 24,
        window,
        // The notes head's repeat prior at its initial scores.
        repeats: true,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let params = initialise(config, &mut rng);
    let vocab = Vocab::from_tokens((60..71).map(Token::Note));
    let file = ModelFile {
        vocab,
        params,
        info: ModelInfo::default(),
    };
    // Through the f16 file, as a real model arrives.
    ModelFile::from_bytes(&file.to_bytes(StoredDtype::F16).unwrap()).unwrap()
}

/// The trainer's logits after `context`, from a zero state.
fn reference_logits(file: &ModelFile, context: &[u32]) -> Vec<f32> {
    let mut network = network::Network::new(&file.params, &Device::Cpu, DType::F32).unwrap();
    let inputs: Vec<Step> = context.iter().copied().map(Step::token).collect();
    let targets = vec![Step::token(0); context.len()];
    let batch = Batch {
        inputs: &inputs,
        targets: &targets,
        windows: 1,
        steps: context.len(),
    };
    network.evaluate(&batch, Positions::Last).unwrap().logits
}

#[test]
fn stepping_equals_the_full_forward_pass_over_the_context() {
    let window = 10;
    let file = model(window);
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    let tokens: Vec<u32> = (0..37).map(|i| (i * 7 + i / 4) % 11).collect();
    for (n, &token) in tokens.iter().enumerate() {
        predictor.feed(token as usize);
        let fed = n + 1;
        let context = predictor.context_len();
        if fed > window / 2 {
            assert!(
                (window / 2 + 1..=window).contains(&context),
                "context {context} after {fed}"
            );
        } else {
            assert_eq!(context, fed);
        }
        let expected = reference_logits(&file, &tokens[fed - context..fed]);
        let got = predictor.logits();
        for (a, b) in got.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-5, "after {fed} tokens: {a} vs {b}");
        }
    }
    let probabilities = predictor.probabilities();
    let sum: f32 = probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5);
}

#[test]
fn event_heads_step_by_step_equal_the_full_forward_pass() {
    let mut file = model(10);
    file.params = initialise(
        ModelConfig {
            arch: Arch::Events,
            ..file.params.config.clone()
        },
        &mut ChaCha8Rng::seed_from_u64(9),
    );
    let file = ModelFile::from_bytes(&file.to_bytes(StoredDtype::F16).unwrap()).unwrap();
    let network = Arc::new(Network::new(&file).unwrap());
    assert!(network.predicts_events());
    let steps: Vec<Step> = (0..9u32)
        .map(|i| Step {
            // Tokens that come back, for the repeat prior.
            what: [3, 5, 3, 3, 7, 5, 3, 9, 3][i as usize],
            when: [0, 6, 3, 12][i as usize % 4],
            hold: [6, 2, 24][i as usize % 3],
            velocity: [30, 90, 120][i as usize % 3],
            lowest: 60 + (i * 7) as u8 % 11,
        })
        .collect();
    let (context, next) = (&steps[..8], steps[8]);
    let mut predictor = Predictor::new(network);
    let classes: Vec<_> = context.iter().map(Step::classes).collect();
    predictor.prime_events(&classes);

    let mut trainer = network::Network::new(&file.params, &Device::Cpu, DType::F32).unwrap();
    let mut targets = context[1..].to_vec();
    targets.push(next);
    let batch = Batch {
        inputs: context,
        targets: &targets,
        windows: 1,
        steps: context.len(),
    };
    let expected = trainer.evaluate(&batch, Positions::Last).unwrap().heads;
    assert_eq!(expected.len(), 5);
    // The trainer's heads see the target's earlier fields: so does the
    // predictor when given them.
    for (head, want) in expected {
        let got = predictor.head_logits(head, &next.classes());
        assert_eq!(got.len(), want.len(), "{head:?}");
        for (a, b) in got.iter().zip(&want) {
            assert!((a - b).abs() < 1e-5, "{head:?}: {a} vs {b}");
        }
    }
}

#[test]
fn priming_equals_feeding_and_reset_forgets() {
    let file = model(8);
    let network = Arc::new(Network::new(&file).unwrap());
    let tokens: Vec<usize> = (0..23).map(|i| (i * 3) % 11).collect();
    let mut fed = Predictor::new(network.clone());
    for &t in &tokens {
        fed.feed(t);
    }
    let mut primed = Predictor::new(network.clone());
    primed.prime(&tokens[15..]);
    assert_eq!(primed.context_len(), 8);
    // Priming with the last window is the same context as feeding everything
    // only when the contexts agree; compare against a fresh forward instead.
    let expected = reference_logits(
        &file,
        &tokens[15..].iter().map(|&t| t as u32).collect::<Vec<_>>(),
    );
    for (a, b) in primed.logits().iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5);
    }
    primed.reset();
    primed.feed(3);
    let mut fresh = Predictor::new(network);
    fresh.feed(3);
    assert_eq!(primed.logits(), fresh.logits());
}

#[test]
fn unknown_tokens_and_seed_networks_are_refused() {
    let file = model(8);
    let network = Arc::new(Network::new(&file).unwrap());
    let mut predictor = Predictor::new(network);
    assert!(predictor.feed_token(Token::Note(60)).is_ok());
    assert!(predictor.feed_token(Token::Note(20)).is_err());
    let mut seed = file.clone();
    seed.params = initialise(
        ModelConfig {
            arch: Arch::Seed,
            embed: 1,
            repeats: false,
            ..file.params.config.clone()
        },
        &mut ChaCha8Rng::seed_from_u64(1),
    );
    assert!(Network::new(&seed).is_err());
}
