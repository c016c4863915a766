//! The network's shape and its parameters.
//!
//! Pianola's network (`Arch::Pianola`): token → embedding (E) → LSTM(H) × L →
//! dense (D) + ReLU → dense (vocabulary) → logits. The seed's network
//! (`Arch::Seed`, kept for comparison) feeds the scalar `index / vocab`
//! instead of an embedding and puts batch normalisation after the last LSTM
//! and after the ReLU, as its Keras `lstm.py` did.
//!
//! The expressive network (`Arch::Events`) reads whole events and predicts
//! the next one field by field, in the manner of the Compound Word
//! Transformer (Hsiao et al., 2021) on an LSTM. Its input is the sum of four
//! embeddings: the token (`embedding`), `when`, velocity and register
//! (`when_embedding`, `velocity_embedding`, `register_embedding`); the hold
//! is not an input, because a live player's hold is unknown at the note's
//! start. The LSTMs and the dense layer give `pre` (before the ReLU); then
//! `when` is read from `relu(pre)` (`when_output`), the token from
//! `relu(pre + when_condition[when])` (`output`, as in the other networks),
//! and hold, velocity and register from
//! `relu(pre + when_condition[when] + what_condition[what])`
//! (`hold_output`, `velocity_output`, `register_output`): each head sees the
//! fields chosen before it. The class counts are [`crate::event::classes`]'.
//!
//! Tensors are row-major `f32`, shaped like PyTorch's: an LSTM layer has
//! `weight_ih` [4H, in], `weight_hh` [4H, H] and one `bias` [4H] (the sum of
//! PyTorch's two), gates in the order input, forget, cell, output.

use serde::{Deserialize, Serialize};

/// Which network a weights file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Embedding input, language-model training at every position.
    Pianola,
    /// The seed project's network: scalar input, loss at the last position,
    /// batch normalisation.
    Seed,
    /// Pianola's network on whole events: it predicts `when`, then the
    /// token, then hold, velocity and register.
    Events,
}

/// The heads of the event network, in the order they are sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Head {
    /// Time since the previous onset.
    When,
    /// The token.
    What,
    /// How long it sounds.
    Hold,
    /// How loud.
    Velocity,
    /// The octave of the lowest key.
    Register,
}

impl Head {
    /// Every head, in sampling order.
    pub const ALL: [Head; 5] = [
        Head::When,
        Head::What,
        Head::Hold,
        Head::Velocity,
        Head::Register,
    ];

    /// The head's name in reports and tensor names.
    pub fn name(self) -> &'static str {
        match self {
            Head::When => "when",
            Head::What => "what",
            Head::Hold => "hold",
            Head::Velocity => "velocity",
            Head::Register => "register",
        }
    }

    /// The number of classes the head predicts, for a vocabulary of
    /// `vocab_size` tokens.
    pub fn classes(self, vocab_size: usize) -> usize {
        use crate::event::classes::*;
        match self {
            Head::When | Head::Hold => TIME_CLASSES,
            Head::What => vocab_size,
            Head::Velocity => VELOCITY_CLASSES,
            Head::Register => REGISTER_CLASSES,
        }
    }

    /// Its position in [`Head::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Arch {
    /// The heads the network predicts: the token alone, or all of an
    /// event's fields.
    pub fn heads(self) -> &'static [Head] {
        match self {
            Arch::Events => &Head::ALL,
            Arch::Pianola | Arch::Seed => &[Head::What],
        }
    }
}

/// The sizes of a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Which network.
    pub arch: Arch,
    /// Number of tokens (the output size).
    pub vocab_size: usize,
    /// Width of the token embedding (1 for the seed's scalar input).
    pub embed: usize,
    /// Units per LSTM layer.
    pub hidden: usize,
    /// Number of stacked LSTM layers.
    pub layers: usize,
    /// Units of the dense layer before the output.
    pub dense: usize,
    /// The context the model is trained on and conditioned on, in tokens.
    pub window: usize,
    /// Whether the notes head adds the learned repeat prior
    /// ([`crate::repeats`]); files written before it have none.
    #[serde(default)]
    pub repeats: bool,
}

/// The largest size any dimension may have: guards against absurd
/// allocations from an edited weights file.
pub const MAX_DIM: usize = 8192;

impl ModelConfig {
    /// Checks that every size is usable; the reason otherwise.
    pub fn validate(&self) -> Result<(), String> {
        let sizes = [
            ("vocab_size", self.vocab_size),
            ("embed", self.embed),
            ("hidden", self.hidden),
            ("layers", self.layers),
            ("dense", self.dense),
            ("window", self.window),
        ];
        for (name, size) in sizes {
            if size == 0 || size > MAX_DIM {
                return Err(format!("{name} = {size} is outside 1..={MAX_DIM}"));
            }
        }
        if self.layers > 16 {
            return Err(format!("{} layers is more than 16", self.layers));
        }
        if self.arch == Arch::Seed && self.repeats {
            return Err("the seed network has no repeat prior".into());
        }
        if self.arch == Arch::Seed && self.embed != 1 {
            return Err(format!(
                "the seed network takes 1 input, not {}",
                self.embed
            ));
        }
        Ok(())
    }

    /// The input width of LSTM layer `layer`.
    pub fn layer_input(&self, layer: usize) -> usize {
        if layer == 0 { self.embed } else { self.hidden }
    }

    /// Every tensor of the network, in a fixed order.
    pub fn tensor_specs(&self) -> Vec<TensorSpec> {
        let (v, e, h, d) = (self.vocab_size, self.embed, self.hidden, self.dense);
        let mut specs = Vec::new();
        let mut add = |name: String, shape: Vec<usize>, trainable: bool| {
            specs.push(TensorSpec {
                name,
                shape,
                trainable,
            })
        };
        let events = self.arch == Arch::Events;
        if self.arch != Arch::Seed {
            add("embedding".into(), vec![v, e], true);
        }
        if events {
            use crate::event::classes::*;
            add("when_embedding".into(), vec![TIME_CLASSES, e], true);
            add("velocity_embedding".into(), vec![VELOCITY_CLASSES, e], true);
            add("register_embedding".into(), vec![REGISTER_CLASSES, e], true);
        }
        for layer in 0..self.layers {
            let input = self.layer_input(layer);
            add(format!("lstm.{layer}.weight_ih"), vec![4 * h, input], true);
            add(format!("lstm.{layer}.weight_hh"), vec![4 * h, h], true);
            add(format!("lstm.{layer}.bias"), vec![4 * h], true);
        }
        if self.arch == Arch::Seed {
            add_norm(&mut add, "norm1", h);
        }
        add("dense.weight".into(), vec![d, h], true);
        add("dense.bias".into(), vec![d], true);
        if self.arch == Arch::Seed {
            add_norm(&mut add, "norm2", d);
        }
        if events {
            add(
                "when_output.weight".into(),
                vec![Head::When.classes(v), d],
                true,
            );
            add("when_output.bias".into(), vec![Head::When.classes(v)], true);
            add(
                "when_condition".into(),
                vec![Head::When.classes(v), d],
                true,
            );
        }
        add("output.weight".into(), vec![v, d], true);
        add("output.bias".into(), vec![v], true);
        if self.repeats {
            add(
                crate::repeats::TENSOR.into(),
                crate::repeats::SHAPE.to_vec(),
                true,
            );
        }
        if events {
            add("what_condition".into(), vec![v, d], true);
            for head in [Head::Hold, Head::Velocity, Head::Register] {
                let name = head.name();
                add(
                    format!("{name}_output.weight"),
                    vec![head.classes(v), d],
                    true,
                );
                add(format!("{name}_output.bias"), vec![head.classes(v)], true);
            }
        }
        specs
    }

    /// The number of trainable parameters.
    pub fn parameter_count(&self) -> usize {
        self.tensor_specs()
            .iter()
            .filter(|spec| spec.trainable)
            .map(TensorSpec::len)
            .sum()
    }
}

fn add_norm(add: &mut impl FnMut(String, Vec<usize>, bool), name: &str, width: usize) {
    add(format!("{name}.weight"), vec![width], true);
    add(format!("{name}.bias"), vec![width], true);
    add(format!("{name}.running_mean"), vec![width], false);
    add(format!("{name}.running_var"), vec![width], false);
}

/// The name and shape of one tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// The tensor's name in the weights file.
    pub name: String,
    /// Its shape, outermost first.
    pub shape: Vec<usize>,
    /// Whether training updates it (batch-norm running statistics do not).
    pub trainable: bool,
}

impl TensorSpec {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// All tensors of a network, in [`ModelConfig::tensor_specs`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// The sizes.
    pub config: ModelConfig,
    /// The tensor values, one per spec, row-major.
    pub tensors: Vec<Vec<f32>>,
    specs: Vec<TensorSpec>,
}

impl Params {
    /// All-zero tensors, except batch-norm variances (1) and weights (1).
    pub fn zeros(config: ModelConfig) -> Self {
        let specs = config.tensor_specs();
        let tensors = specs
            .iter()
            .map(|spec| {
                let fill = if spec.name.ends_with("running_var")
                    || (spec.name.starts_with("norm") && spec.name.ends_with(".weight"))
                {
                    1.0
                } else {
                    0.0
                };
                vec![fill; spec.len()]
            })
            .collect();
        Self {
            config,
            tensors,
            specs,
        }
    }

    /// Tensors given in spec order; `None` if a count or length is wrong.
    pub fn from_tensors(config: ModelConfig, tensors: Vec<Vec<f32>>) -> Option<Self> {
        let specs = config.tensor_specs();
        let fits = specs.len() == tensors.len()
            && specs.iter().zip(&tensors).all(|(s, t)| s.len() == t.len());
        fits.then_some(Self {
            config,
            tensors,
            specs,
        })
    }

    /// The specs, in order.
    pub fn specs(&self) -> &[TensorSpec] {
        &self.specs
    }

    /// The position of the tensor called `name`.
    pub fn index(&self, name: &str) -> usize {
        self.specs
            .iter()
            .position(|spec| spec.name == name)
            .unwrap_or_else(|| panic!("no tensor `{name}` in this network"))
    }

    /// The values of the tensor called `name`.
    ///
    /// # Panics
    /// If the network has no such tensor (a programming error).
    pub fn get(&self, name: &str) -> &[f32] {
        &self.tensors[self.index(name)]
    }

    /// The values of the tensor called `name`, to change.
    ///
    /// # Panics
    /// If the network has no such tensor (a programming error).
    pub fn get_mut(&mut self, name: &str) -> &mut [f32] {
        let index = self.index(name);
        &mut self.tensors[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(arch: Arch) -> ModelConfig {
        ModelConfig {
            arch,
            vocab_size: 350,
            embed: if arch == Arch::Seed { 1 } else { 96 },
            hidden: 512,
            layers: 3,
            dense: 256,
            window: 100,
            repeats: false,
        }
    }

    #[test]
    fn the_seed_network_has_the_seeds_parameter_count() {
        // Keras counts per LSTM layer 4 * (in * H + H * H + H), and four
        // values per batch-norm unit (two of them not trainable). With the
        // seed's vocabulary of 358 tokens that is its 5.48 M.
        let seed = ModelConfig {
            vocab_size: 358,
            ..config(Arch::Seed)
        };
        let lstm = |input: usize| 4 * (input * 512 + 512 * 512 + 512);
        let keras =
            lstm(1) + 2 * lstm(512) + 4 * 512 + (512 * 256 + 256) + 4 * 256 + (256 * 358 + 358);
        assert_eq!(keras, 5_477_478);
        let running_stats = 2 * 512 + 2 * 256;
        assert_eq!(seed.parameter_count() + running_stats, keras);
    }

    #[test]
    fn configs_are_validated() {
        assert!(config(Arch::Pianola).validate().is_ok());
        assert!(config(Arch::Seed).validate().is_ok());
        let mut bad = config(Arch::Pianola);
        bad.hidden = 0;
        assert!(bad.validate().unwrap_err().contains("hidden"));
        let mut bad = config(Arch::Seed);
        bad.embed = 4;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn params_follow_the_specs() {
        let params = Params::zeros(config(Arch::Seed));
        assert_eq!(params.get("lstm.2.weight_hh").len(), 2048 * 512);
        assert_eq!(params.get("norm1.running_var"), vec![1.0; 512].as_slice());
        assert!(Params::from_tensors(config(Arch::Seed), vec![]).is_none());
    }
}
