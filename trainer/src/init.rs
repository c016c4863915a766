//! Initial parameter values.

use pianola_core::model::{ModelConfig, Params};
use pianola_core::repeats;
use rand::Rng;

/// Fresh parameters: LSTM weights uniform in ±1/√H (as PyTorch), forget-gate
/// biases 1 (as Keras), dense layers Glorot-uniform, embeddings uniform in
/// ±0.1 (and so the event network's conditions), batch norms at identity,
/// the repeat prior at [`repeats::initial_scores`].
pub fn initialise(config: ModelConfig, rng: &mut impl Rng) -> Params {
    let mut params = Params::zeros(config);
    let h = params.config.hidden;
    let specs = params.specs().to_vec();
    for (spec, values) in specs.iter().zip(params.tensors.iter_mut()) {
        let name = spec.name.as_str();
        let limit = if name.ends_with("embedding") || name.ends_with("condition") {
            0.1
        } else if name.starts_with("lstm.") && name.contains("weight") {
            1.0 / (h as f32).sqrt()
        } else if name.ends_with("weight") && spec.shape.len() == 2 {
            (6.0 / (spec.shape[0] + spec.shape[1]) as f32).sqrt()
        } else {
            continue;
        };
        values
            .iter_mut()
            .for_each(|v| *v = rng.random_range(-limit..limit));
    }
    for layer in 0..params.config.layers {
        let bias = params.get_mut(&format!("lstm.{layer}.bias"));
        bias[h..2 * h].fill(1.0);
    }
    start_repeat_prior(&mut params);
    params
}

/// Sets the repeat prior of `params`, where it has one, to
/// [`repeats::initial_scores`].
pub fn start_repeat_prior(params: &mut Params) {
    if params.config.repeats {
        params
            .get_mut(repeats::TENSOR)
            .copy_from_slice(&repeats::initial_scores());
    }
}
