//! The hand-written optimisers and gradient clipping over [`Params`].

use pianola_core::model::Params;

pub use crate::optim::OptimizerKind;

/// An optimiser's running state for one set of parameters.
pub struct Optimizer {
    kind: OptimizerKind,
    learning_rate: f32,
    first: Vec<Vec<f32>>,
    second: Vec<Vec<f32>>,
    steps: i32,
}

impl Optimizer {
    /// A fresh optimiser for parameters shaped like `params`.
    pub fn new(kind: OptimizerKind, learning_rate: f32, params: &Params) -> Self {
        let zeros = || params.tensors.iter().map(|t| vec![0.0; t.len()]).collect();
        Self {
            kind,
            learning_rate,
            first: zeros(),
            second: zeros(),
            steps: 0,
        }
    }

    /// Applies one update from `grads` to the trainable tensors of `params`.
    pub fn step(&mut self, params: &mut Params, grads: &Params) {
        self.steps += 1;
        let lr = self.learning_rate;
        let specs = params.specs().to_vec();
        for (index, spec) in specs.iter().enumerate() {
            if !spec.trainable {
                continue;
            }
            let p = &mut params.tensors[index];
            let g = &grads.tensors[index];
            let s = &mut self.second[index];
            match self.kind {
                OptimizerKind::RmsProp => {
                    for ((p, g), s) in p.iter_mut().zip(g).zip(s.iter_mut()) {
                        *s = 0.9 * *s + 0.1 * g * g;
                        *p -= lr * g / (s.sqrt() + 1e-7);
                    }
                }
                OptimizerKind::AdamW => {
                    let m = &mut self.first[index];
                    let c1 = 1.0 - 0.9f32.powi(self.steps);
                    let c2 = 1.0 - 0.999f32.powi(self.steps);
                    let decay = if spec.shape.len() == 2 { 0.01 } else { 0.0 };
                    for (((p, g), s), m) in p.iter_mut().zip(g).zip(s.iter_mut()).zip(m.iter_mut())
                    {
                        *m = 0.9 * *m + 0.1 * g;
                        *s = 0.999 * *s + 0.001 * g * g;
                        *p -= lr * ((*m / c1) / ((*s / c2).sqrt() + 1e-8) + decay * *p);
                    }
                }
            }
        }
    }
}

/// Scales the trainable gradients down to a global L2 norm of at most
/// `max_norm`; returns the norm before clipping.
pub fn clip_gradients(grads: &mut Params, max_norm: f32) -> f32 {
    let specs = grads.specs().to_vec();
    let trainable = |i: usize| specs[i].trainable;
    let norm = grads
        .tensors
        .iter()
        .enumerate()
        .filter(|(i, _)| trainable(*i))
        .flat_map(|(_, t)| t.iter())
        .map(|g| f64::from(*g) * f64::from(*g))
        .sum::<f64>()
        .sqrt() as f32;
    if norm > max_norm && norm.is_finite() {
        let scale = max_norm / norm;
        for (i, t) in grads.tensors.iter_mut().enumerate() {
            if trainable(i) {
                t.iter_mut().for_each(|g| *g *= scale);
            }
        }
    }
    norm
}
