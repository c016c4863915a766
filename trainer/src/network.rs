//! The whole network as a candle module, trained with candle's autograd:
//! token → embedding (or the seed's scalar input) → LSTM × N → dense + ReLU →
//! output logits, with the seed network's batch norms and dropout.
//!
//! Sequences are processed time-major: row `t * batch + b` of every
//! activation matrix is window `b` at step `t`, as the weights file's
//! consumers (`core::predictor`) expect of the trainer.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Result, Tensor, Var};
use pianola_core::model::{Arch, ModelConfig, Params};
use rand::Rng;

use crate::layers::{BatchNorm, Linear, Lstm, cross_entropy, dropout_mask, values, var, weight};

/// A batch of windows: `inputs[b * steps + t]` is followed by
/// `targets[b * steps + t]`.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Input token indices, window after window.
    pub inputs: &'a [u32],
    /// The token that follows each input.
    pub targets: &'a [u32],
    /// Windows in the batch.
    pub windows: usize,
    /// Steps per window.
    pub steps: usize,
}

impl Batch<'_> {
    /// Row `row` (time-major) as an index into `inputs` and `targets`.
    fn index(&self, row: usize) -> usize {
        (row % self.windows) * self.steps + row / self.windows
    }
}

/// Where the loss is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    /// At every step (language-model training, Pianola's way).
    All,
    /// At the last step of each window only (the seed's way).
    Last,
}

/// Loss and accuracy over the positions of a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Sum of cross-entropies in nats.
    pub loss_sum: f64,
    /// Positions scored.
    pub count: usize,
    /// Positions whose target was the most likely token (evaluation only).
    pub top1: usize,
    /// Positions whose target was among the five most likely tokens
    /// (evaluation only).
    pub top5: usize,
}

impl Stats {
    /// Adds another batch's figures.
    pub fn add(&mut self, other: Stats) {
        self.loss_sum += other.loss_sum;
        self.count += other.count;
        self.top1 += other.top1;
        self.top5 += other.top5;
    }

    /// Mean cross-entropy in nats per token.
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.count.max(1) as f64
    }

    /// Top-1 accuracy.
    pub fn accuracy(&self) -> f64 {
        self.top1 as f64 / self.count.max(1) as f64
    }

    /// Top-5 accuracy.
    pub fn top5_accuracy(&self) -> f64 {
        self.top5 as f64 / self.count.max(1) as f64
    }
}

/// A training step's result: the mean loss and the gradients of every
/// trainable weight.
pub struct Gradients {
    /// Loss over the positions scored (no accuracy figures).
    pub stats: Stats,
    /// Gradients of the mean loss, keyed by the weights' tensors.
    pub grads: GradStore,
}

/// An evaluation's result.
pub struct Evaluation {
    /// Loss and accuracy.
    pub stats: Stats,
    /// The logits of the positions scored, row after row.
    pub logits: Vec<f32>,
}

/// The network's weights, typed per layer.
pub struct Network {
    config: ModelConfig,
    device: Device,
    dtype: DType,
    embedding: Option<Var>,
    lstm: Vec<Lstm>,
    norm1: Option<BatchNorm>,
    dense: Linear,
    norm2: Option<BatchNorm>,
    output: Linear,
}

/// Takes `params` tensors by name, in any order.
struct Source<'a> {
    params: &'a Params,
    device: &'a Device,
    dtype: DType,
}

impl Source<'_> {
    fn var(&self, name: &str) -> Result<Var> {
        let index = self.index(name)?;
        let shape = &self.params.specs()[index].shape;
        var(&self.params.tensors[index], shape, self.dtype, self.device)
    }

    fn values(&self, name: &str) -> Result<Vec<f32>> {
        Ok(self.params.tensors[self.index(name)?].clone())
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.params
            .specs()
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}")))
    }

    fn linear(&self, name: &str) -> Result<Linear> {
        Ok(Linear {
            weight: self.var(&format!("{name}.weight"))?,
            bias: self.var(&format!("{name}.bias"))?,
        })
    }

    fn norm(&self, name: &str) -> Result<BatchNorm> {
        Ok(BatchNorm {
            weight: self.var(&format!("{name}.weight"))?,
            bias: self.var(&format!("{name}.bias"))?,
            running_mean: self.values(&format!("{name}.running_mean"))?,
            running_var: self.values(&format!("{name}.running_var"))?,
        })
    }
}

impl Network {
    /// The network holding `params` on `device`, computing in `dtype`
    /// (`F32` to train; `F64` for gradient checks).
    pub fn new(params: &Params, device: &Device, dtype: DType) -> Result<Self> {
        let source = Source {
            params,
            device,
            dtype,
        };
        let config = params.config.clone();
        let seed = config.arch == Arch::Seed;
        let lstm = (0..config.layers)
            .map(|layer| {
                Ok(Lstm {
                    weight_ih: source.var(&format!("lstm.{layer}.weight_ih"))?,
                    weight_hh: source.var(&format!("lstm.{layer}.weight_hh"))?,
                    bias: source.var(&format!("lstm.{layer}.bias"))?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            embedding: (!seed).then(|| source.var("embedding")).transpose()?,
            lstm,
            norm1: seed.then(|| source.norm("norm1")).transpose()?,
            dense: source.linear("dense")?,
            norm2: seed.then(|| source.norm("norm2")).transpose()?,
            output: source.linear("output")?,
            config,
            device: device.clone(),
            dtype,
        })
    }

    /// The sizes.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Every trainable weight with its name, in the weights file's order.
    pub fn named_vars<'a>(&'a self) -> Vec<(String, &'a Var)> {
        let mut vars = Vec::new();
        if let Some(e) = &self.embedding {
            vars.push(("embedding".to_string(), e));
        }
        for (layer, l) in self.lstm.iter().enumerate() {
            vars.push((format!("lstm.{layer}.weight_ih"), &l.weight_ih));
            vars.push((format!("lstm.{layer}.weight_hh"), &l.weight_hh));
            vars.push((format!("lstm.{layer}.bias"), &l.bias));
        }
        let mut pair = |name: &str, weight: &'a Var, bias: &'a Var| {
            vars.push((format!("{name}.weight"), weight));
            vars.push((format!("{name}.bias"), bias));
        };
        if let Some(n) = &self.norm1 {
            pair("norm1", &n.weight, &n.bias);
        }
        pair("dense", &self.dense.weight, &self.dense.bias);
        if let Some(n) = &self.norm2 {
            pair("norm2", &n.weight, &n.bias);
        }
        pair("output", &self.output.weight, &self.output.bias);
        vars
    }

    /// Every trainable weight, in the weights file's order.
    pub fn vars(&self) -> Vec<Var> {
        self.named_vars()
            .into_iter()
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The weights as `f32` tensors in the weights file's layout.
    pub fn params(&self) -> Result<Params> {
        let mut params = Params::zeros(self.config.clone());
        for (name, var) in self.named_vars() {
            params
                .get_mut(&name)
                .copy_from_slice(&values(var.as_tensor())?);
        }
        for (name, norm) in [("norm1", &self.norm1), ("norm2", &self.norm2)] {
            if let Some(n) = norm {
                params
                    .get_mut(&format!("{name}.running_mean"))
                    .copy_from_slice(&n.running_mean);
                params
                    .get_mut(&format!("{name}.running_var"))
                    .copy_from_slice(&n.running_var);
            }
        }
        Ok(params)
    }

    /// One forward and backward pass in training mode, with dropout `p`
    /// between layers drawn from `rng`; batch-norm running statistics are
    /// updated.
    pub fn gradients(
        &mut self,
        batch: &Batch,
        positions: Positions,
        dropout: f32,
        rng: &mut impl Rng,
    ) -> Result<Gradients> {
        let mut masks = |len: usize| -> Option<Vec<f32>> {
            (dropout > 0.0).then(|| dropout_mask(rng, len, dropout))
        };
        let (logits, rows) = self.forward(batch, positions, Some(&mut masks))?;
        let targets = self.targets(batch, positions)?;
        let loss = cross_entropy(&logits, &targets)?;
        let mean = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let grads = loss.backward()?;
        Ok(Gradients {
            stats: Stats {
                loss_sum: mean * rows as f64,
                count: rows,
                top1: 0,
                top5: 0,
            },
            grads,
        })
    }

    /// Loss and accuracy without dropout, batch statistics or gradients.
    pub fn evaluate(&mut self, batch: &Batch, positions: Positions) -> Result<Evaluation> {
        let (logits, rows) = self.forward(batch, positions, None)?;
        let logits = values(&logits)?;
        let v = self.config.vocab_size;
        let first = first_row(batch, positions);
        let mut stats = Stats::default();
        for (r, row) in logits.chunks_exact(v).enumerate() {
            let target = batch.targets[batch.index(first + r)] as usize;
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = row.iter().map(|l| (l - max).exp()).sum();
            let target_logit = row[target];
            stats.loss_sum += f64::from(max + sum.ln() - target_logit);
            let above = row.iter().filter(|&&l| l > target_logit).count();
            stats.top1 += usize::from(above == 0);
            stats.top5 += usize::from(above < 5);
            stats.count += 1;
        }
        debug_assert_eq!(stats.count, rows);
        Ok(Evaluation { stats, logits })
    }

    /// The logits [rows, vocab] of the scored positions, time-major, and
    /// the number of rows. `masks` draws dropout masks in training; `None`
    /// evaluates.
    fn forward(
        &mut self,
        batch: &Batch,
        positions: Positions,
        mut masks: Option<&mut dyn FnMut(usize) -> Option<Vec<f32>>>,
    ) -> Result<(Tensor, usize)> {
        let training = masks.is_some();
        let (b, steps) = (batch.windows, batch.steps);
        let n = b * steps;
        let h = self.config.hidden;
        let arch = self.config.arch;

        // Layer 0's input at every step.
        let time_major: Vec<u32> = (0..n).map(|row| batch.inputs[batch.index(row)]).collect();
        let mut xs: Vec<Tensor> = match &self.embedding {
            Some(embedding) => {
                let ids = Tensor::from_vec(time_major, n, &self.device)?;
                let table = weight(embedding, training);
                (0..steps)
                    .map(|t| table.index_select(&ids.narrow(0, t * b, b)?, 0))
                    .collect::<Result<_>>()?
            }
            None => {
                let v = self.config.vocab_size as f32;
                let scalars: Vec<f32> = time_major.iter().map(|&i| i as f32 / v).collect();
                let all = self.constant(scalars, (n, 1))?;
                (0..steps)
                    .map(|t| all.narrow(0, t * b, b))
                    .collect::<Result<_>>()?
            }
        };

        for (layer, lstm) in self.lstm.iter().enumerate() {
            xs = lstm.forward(&xs, training)?;
            // Dropout after every LSTM layer; the seed's network drops out
            // after its batch norm instead of after its last layer.
            let drops = arch == Arch::Pianola || layer + 1 < self.config.layers;
            if let Some(draw) = masks.as_mut().filter(|_| drops)
                && let Some(mask) = draw(n * h)
            {
                let mask = self.constant(mask, (n, h))?;
                xs = xs
                    .iter()
                    .enumerate()
                    .map(|(t, x)| x * mask.narrow(0, t * b, b)?)
                    .collect::<Result<_>>()?;
            }
        }

        let head = match positions {
            Positions::All => Tensor::cat(&xs, 0)?,
            Positions::Last => xs[steps - 1].clone(),
        };
        let rows = head.dim(0)?;
        let mut head = head;
        if let Some(norm) = &mut self.norm1 {
            head = norm.forward(&head, training)?;
            head = self.dropout(head, masks.as_mut())?;
        }
        head = self.dense.forward(&head, training)?.relu()?;
        if let Some(norm) = &mut self.norm2 {
            head = norm.forward(&head, training)?;
            head = self.dropout(head, masks.as_mut())?;
        }
        Ok((self.output.forward(&head, training)?, rows))
    }

    fn dropout(
        &self,
        x: Tensor,
        masks: Option<&mut &mut dyn FnMut(usize) -> Option<Vec<f32>>>,
    ) -> Result<Tensor> {
        match masks.and_then(|draw| draw(x.elem_count())) {
            Some(mask) => {
                let mask = self.constant(mask, x.shape().clone())?;
                x * mask
            }
            None => Ok(x),
        }
    }

    /// A constant tensor (no gradient) in the network's dtype.
    fn constant(&self, values: Vec<f32>, shape: impl Into<candle_core::Shape>) -> Result<Tensor> {
        Tensor::from_vec(values, shape, &self.device)?.to_dtype(self.dtype)
    }

    /// The targets of the scored positions, time-major.
    fn targets(&self, batch: &Batch, positions: Positions) -> Result<Tensor> {
        let first = first_row(batch, positions);
        let rows = batch.windows * batch.steps - first;
        let targets: Vec<u32> = (first..first + rows)
            .map(|row| batch.targets[batch.index(row)])
            .collect();
        Tensor::from_vec(targets, rows, &self.device)
    }
}

/// The first time-major row the loss is taken at.
fn first_row(batch: &Batch, positions: Positions) -> usize {
    match positions {
        Positions::All => 0,
        Positions::Last => (batch.steps - 1) * batch.windows,
    }
}
