//! Model files of given sizes with made-up weights, for the tests and
//! benchmarks that need a network of some shape but not a trained one.

use pianola_core::Vocab;
use pianola_core::model::{Arch, ModelConfig, Params};
use pianola_core::weights::{ModelFile, ModelInfo};

/// A model file of `arch` with `vocab` and `vocab_size` outputs (the
/// vocabulary's size, or another for a network of a given size), of
/// `sizes` (embedding width, LSTM units, LSTM layers, dense units, window),
/// whose tensor `t` holds `value(t, i)` at `i`; its facts are the defaults.
pub fn made_up_file(
    vocab: Vocab,
    arch: Arch,
    vocab_size: usize,
    sizes: [usize; 5],
    value: impl Fn(usize, usize) -> f32,
) -> ModelFile {
    let [embed, hidden, layers, dense, window] = sizes;
    let config = ModelConfig {
        arch,
        vocab_size,
        embed,
        hidden,
        layers,
        dense,
        window,
        repeats: false,
    };
    let mut params = Params::zeros(config);
    for (t, values) in params.tensors.iter_mut().enumerate() {
        for (i, v) in values.iter_mut().enumerate() {
            *v = value(t, i);
        }
    }
    ModelFile {
        vocab,
        params,
        info: ModelInfo::default(),
    }
}
