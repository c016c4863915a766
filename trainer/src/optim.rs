//! Optimisers over candle [`Var`]s, and gradient clipping.

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};
use candle_nn::{AdamW, Optimizer as _, ParamsAdamW};

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    /// RMSprop as Keras has it (the seed's): ρ = 0.9, ε = 1e-7.
    RmsProp,
    /// Adam with decoupled weight decay 0.01 on matrices: β = (0.9, 0.999).
    AdamW,
}

impl OptimizerKind {
    /// The name written in the weights file.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::RmsProp => "rmsprop",
            OptimizerKind::AdamW => "adamw",
        }
    }
}

/// An optimiser's running state for one set of weights: candle-nn's
/// AdamW, or RMSprop written here as a [`candle_nn::Optimizer`] (candle-nn
/// has none).
pub enum Optimizer {
    /// RMSprop.
    RmsProp(RmsProp),
    /// candle-nn's AdamW, twice: matrices decay, vectors do not.
    AdamW {
        /// Weights with two or more dimensions, decayed by 0.01.
        matrices: Box<AdamW>,
        /// Biases and other vectors, not decayed.
        vectors: Box<AdamW>,
    },
}

impl Optimizer {
    /// A fresh optimiser for `vars`.
    pub fn new(kind: OptimizerKind, learning_rate: f64, vars: Vec<Var>) -> Result<Self> {
        Ok(match kind {
            OptimizerKind::RmsProp => Optimizer::RmsProp(RmsProp::new(vars, learning_rate)?),
            OptimizerKind::AdamW => {
                let (matrices, vectors): (Vec<Var>, Vec<Var>) =
                    vars.into_iter().partition(|v| v.rank() >= 2);
                let params = |weight_decay| ParamsAdamW {
                    lr: learning_rate,
                    beta1: 0.9,
                    beta2: 0.999,
                    eps: 1e-8,
                    weight_decay,
                };
                Optimizer::AdamW {
                    matrices: Box::new(AdamW::new(matrices, params(0.01))?),
                    vectors: Box::new(AdamW::new(vectors, params(0.0))?),
                }
            }
        })
    }

    /// Sets the learning rate of the next updates.
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        match self {
            Optimizer::RmsProp(r) => r.set_learning_rate(learning_rate),
            Optimizer::AdamW { matrices, vectors } => {
                matrices.set_learning_rate(learning_rate);
                vectors.set_learning_rate(learning_rate);
            }
        }
    }

    /// Applies one update from `grads`.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        match self {
            Optimizer::RmsProp(r) => r.step(grads),
            Optimizer::AdamW { matrices, vectors } => {
                matrices.step(grads)?;
                vectors.step(grads)
            }
        }
    }
}

/// RMSprop: `s ← ρ s + (1 − ρ) g²; w ← w − lr · g / (√s + ε)`, as a
/// candle-nn optimiser (its configuration is the learning rate).
pub struct RmsProp {
    vars: Vec<(Var, Tensor)>,
    learning_rate: f64,
}

impl RmsProp {
    const RHO: f64 = 0.9;
    const EPSILON: f64 = 1e-7;
}

impl candle_nn::Optimizer for RmsProp {
    type Config = f64;

    /// Zero mean squares for `vars`.
    fn new(vars: Vec<Var>, learning_rate: f64) -> Result<Self> {
        let vars = vars
            .into_iter()
            .map(|v| {
                let zeros = v.as_tensor().zeros_like()?;
                Ok((v, zeros))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            vars,
            learning_rate,
        })
    }

    /// Applies one update from `grads`.
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        for (var, square) in &mut self.vars {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            *square = ((&*square * Self::RHO)? + (g.sqr()? * (1.0 - Self::RHO))?)?;
            let step = (g / (square.sqrt()? + Self::EPSILON)?)?;
            var.set(&(var.as_tensor() - (step * self.learning_rate)?)?)?;
        }
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }
}

/// Scales the gradients of `vars` down to a global L2 norm of at most
/// `max_norm`; returns the norm before clipping.
pub fn clip_gradients(grads: &mut GradStore, vars: &[Var], max_norm: f32) -> Result<f32> {
    let mut sum = 0.0f64;
    for var in vars {
        if let Some(g) = grads.get(var.as_tensor()) {
            let squares = g.sqr()?.sum_all()?.to_dtype(candle_core::DType::F64)?;
            sum += squares.to_scalar::<f64>()?;
        }
    }
    let norm = sum.sqrt() as f32;
    if norm > max_norm && norm.is_finite() {
        let scale = f64::from(max_norm / norm);
        for var in vars {
            if let Some(g) = grads.get(var.as_tensor()) {
                let scaled = (g * scale)?;
                grads.insert(var.as_tensor(), scaled);
            }
        }
    }
    Ok(norm)
}

/// The running mean of the weights over the updates since it began
/// (Polyak–Ruppert averaging, as stochastic weight averaging does it): the
/// mean of many nearby points of a noisy descent usually predicts held-out
/// data better than any one of them.
#[derive(Default)]
pub struct WeightAverage {
    means: Vec<Tensor>,
    count: u32,
}

impl WeightAverage {
    /// An average of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many weight sets are averaged.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Adds the current weights of `vars`.
    pub fn add(&mut self, vars: &[Var]) -> Result<()> {
        self.count += 1;
        if self.means.is_empty() {
            self.means = vars
                .iter()
                .map(|v| v.as_tensor().copy())
                .collect::<Result<_>>()?;
            return Ok(());
        }
        let weight = 1.0 / f64::from(self.count);
        for (mean, var) in self.means.iter_mut().zip(vars) {
            *mean = (&*mean + ((var.as_tensor() - &*mean)? * weight)?)?;
        }
        Ok(())
    }

    /// Exchanges the weights of `vars` with the averaged ones: call it once
    /// to put the average in, and again to take it back out.
    pub fn swap(&mut self, vars: &[Var]) -> Result<()> {
        for (mean, var) in self.means.iter_mut().zip(vars) {
            let current = var.as_tensor().copy()?;
            var.set(mean)?;
            *mean = current;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn the_average_is_the_mean_of_the_weights_added_and_swaps_in_and_out() {
        let var = Var::new(&[1.0f32, 2.0], &Device::Cpu).unwrap();
        let vars = [var.clone()];
        let mut average = WeightAverage::new();
        for values in [[1.0f32, 2.0], [3.0, 6.0], [5.0, 1.0]] {
            var.set(&Tensor::new(&values, &Device::Cpu).unwrap())
                .unwrap();
            average.add(&vars).unwrap();
        }
        assert_eq!(average.count(), 3);
        average.swap(&vars).unwrap();
        assert_eq!(var.as_tensor().to_vec1::<f32>().unwrap(), [3.0, 3.0]);
        average.swap(&vars).unwrap();
        assert_eq!(var.as_tensor().to_vec1::<f32>().unwrap(), [5.0, 1.0]);
    }
}
