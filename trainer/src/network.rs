//! The whole network as a candle module, trained with candle's autograd:
//! token → embedding (or the seed's scalar input) → LSTM × N → dense + ReLU →
//! output logits, with the seed network's batch norms and dropout; the
//! event network sums four embeddings at its input and has a head per
//! field, each conditioned on the fields before it (`core::model`).
//!
//! Sequences are processed time-major: row `t * batch + b` of every
//! activation matrix is window `b` at step `t`, as the weights file's
//! consumers (`core::predictor`) expect of the trainer.

use std::sync::PoisonError;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Result, Tensor, Var};
use candle_nn::loss::cross_entropy;
use candle_nn::{Embedding, Init, Linear, Module, VarBuilder, VarMap};
use pianola_core::event::EventClasses;
use pianola_core::model::{Arch, Head, ModelConfig, Params};
use pianola_core::repeats;
use rand::Rng;

use crate::data::Step;
use crate::layers::{BatchNorm, Lstm, LstmImpl, dropout_mask, values, weight};

/// A batch of windows: `inputs[b * steps + t]` is followed by
/// `targets[b * steps + t]`.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// Input events, window after window.
    pub inputs: &'a [Step],
    /// The event that follows each input.
    pub targets: &'a [Step],
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
    /// Sum of cross-entropies in nats (of all heads).
    pub loss_sum: f64,
    /// Sum of each head's cross-entropies, in [`Head::ALL`] order (token
    /// networks fill `what` only).
    pub head_sums: [f64; 5],
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
        for (sum, other) in self.head_sums.iter_mut().zip(other.head_sums) {
            *sum += other;
        }
        self.count += other.count;
        self.top1 += other.top1;
        self.top5 += other.top5;
    }

    /// Mean cross-entropy in nats per event (the sum of the heads').
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.count.max(1) as f64
    }

    /// Mean cross-entropy of one head, in nats per event.
    pub fn head_loss(&self, head: Head) -> f64 {
        self.head_sums[head.index()] / self.count.max(1) as f64
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
    /// The `what` head's logits of the positions scored, row after row.
    pub logits: Vec<f32>,
    /// Every head's logits of the positions scored, row after row.
    pub heads: Vec<(Head, Vec<f32>)>,
}

/// The event network's extra weights.
struct EventLayers {
    when_embedding: Embedding,
    velocity_embedding: Embedding,
    register_embedding: Embedding,
    when_output: Linear,
    when_condition: Tensor,
    what_condition: Tensor,
    hold_output: Linear,
    velocity_output: Linear,
    register_output: Linear,
}

/// The network's weights, typed per layer.
pub struct Network {
    config: ModelConfig,
    device: Device,
    dtype: DType,
    /// Every trainable weight, by its name in the weights file; the layers
    /// hold the same tensors.
    vars: VarMap,
    embedding: Option<Embedding>,
    lstm: Vec<Lstm>,
    /// How the LSTM layers run.
    lstm_impl: LstmImpl,
    norm1: Option<BatchNorm>,
    dense: Linear,
    norm2: Option<BatchNorm>,
    output: Linear,
    /// The notes head's repeat prior, [`repeats::SHAPE`], where it has one.
    repeat_bias: Option<Tensor>,
    events: Option<EventLayers>,
}

impl Network {
    /// The network holding `params` on `device`, computing in `dtype`
    /// (`F32` to train; `F64` for gradient checks).
    pub fn new(params: &Params, device: &Device, dtype: DType) -> Result<Self> {
        let mut vars = VarMap::new();
        let builder = VarBuilder::from_varmap(&vars, dtype, device);
        let get = |name: &str| -> Result<Tensor> {
            let spec = params.specs().iter().find(|s| s.name == name);
            let spec = spec.ok_or_else(|| candle_core::Error::Msg(format!("no tensor {name}")))?;
            builder.get_with_hints(spec.shape.as_slice(), name, Init::Const(0.0))
        };
        let linear = |name: &str| -> Result<Linear> {
            let weight = get(&format!("{name}.weight"))?;
            Ok(Linear::new(weight, Some(get(&format!("{name}.bias"))?)))
        };
        let embedding = |name: &str| -> Result<Embedding> {
            let table = get(name)?;
            let width = table.dim(1)?;
            Ok(Embedding::new(table, width))
        };
        let norm = |name: &str| -> Result<BatchNorm> {
            Ok(BatchNorm {
                weight: get(&format!("{name}.weight"))?,
                bias: get(&format!("{name}.bias"))?,
                running_mean: params.get(&format!("{name}.running_mean")).to_vec(),
                running_var: params.get(&format!("{name}.running_var")).to_vec(),
            })
        };
        let config = params.config.clone();
        let seed = config.arch == Arch::Seed;
        let events = if config.arch == Arch::Events {
            Some(EventLayers {
                when_embedding: embedding("when_embedding")?,
                velocity_embedding: embedding("velocity_embedding")?,
                register_embedding: embedding("register_embedding")?,
                when_output: linear("when_output")?,
                when_condition: get("when_condition")?,
                what_condition: get("what_condition")?,
                hold_output: linear("hold_output")?,
                velocity_output: linear("velocity_output")?,
                register_output: linear("register_output")?,
            })
        } else {
            None
        };
        let lstm = (0..config.layers)
            .map(|layer| {
                Ok(Lstm {
                    weight_ih: get(&format!("lstm.{layer}.weight_ih"))?,
                    weight_hh: get(&format!("lstm.{layer}.weight_hh"))?,
                    bias: get(&format!("lstm.{layer}.bias"))?,
                })
            })
            .collect::<Result<_>>()?;
        let network = Self {
            embedding: (!seed).then(|| embedding("embedding")).transpose()?,
            lstm,
            lstm_impl: LstmImpl::default(),
            norm1: seed.then(|| norm("norm1")).transpose()?,
            dense: linear("dense")?,
            norm2: seed.then(|| norm("norm2")).transpose()?,
            output: linear("output")?,
            repeat_bias: config.repeats.then(|| get(repeats::TENSOR)).transpose()?,
            events,
            config,
            device: device.clone(),
            dtype,
            vars: vars.clone(),
        };
        // The layers made their variables; now the values.
        for (spec, values) in params.specs().iter().zip(&params.tensors) {
            if spec.trainable {
                let tensor = Tensor::from_slice(values, spec.shape.as_slice(), device)?;
                vars.set_one(&spec.name, tensor.to_dtype(dtype)?)?;
            }
        }
        Ok(network)
    }

    /// The sizes.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Every trainable weight with its name, in the weights file's order.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let vars = self
            .vars
            .data()
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.config
            .tensor_specs()
            .into_iter()
            .filter_map(|spec| Some((spec.name.clone(), vars.get(&spec.name)?.clone())))
            .collect()
    }

    /// Every trainable weight, in the weights file's order.
    pub fn vars(&self) -> Vec<Var> {
        self.named_vars().into_iter().map(|(_, v)| v).collect()
    }

    /// How the LSTM layers run (the fused op where the device has it, the
    /// CPU; step by step under autograd elsewhere).
    pub fn set_lstm(&mut self, lstm: LstmImpl) {
        self.lstm_impl = if self.device.is_cpu() {
            lstm
        } else {
            LstmImpl::Autograd
        };
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
    /// updated. The gradients are those of the sum of the heads'
    /// cross-entropies with the notes' (`what`) counted `what_weight` times;
    /// the statistics are the plain cross-entropies.
    pub fn gradients(
        &mut self,
        batch: &Batch,
        positions: Positions,
        dropout: f32,
        what_weight: f64,
        rng: &mut impl Rng,
    ) -> Result<Gradients> {
        let mut masks = |len: usize| -> Option<Vec<f32>> {
            (dropout > 0.0).then(|| dropout_mask(rng, len, dropout))
        };
        let (heads, rows) = self.forward(batch, positions, Some(&mut masks))?;
        let mut stats = Stats {
            count: rows,
            ..Stats::default()
        };
        let mut total: Option<Tensor> = None;
        for (head, logits) in &heads {
            let targets = self.targets(batch, positions, *head)?;
            let loss = cross_entropy(logits, &targets)?;
            let mean = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            stats.head_sums[head.index()] = mean * rows as f64;
            stats.loss_sum += mean * rows as f64;
            let loss = match head {
                Head::What if what_weight != 1.0 => (loss * what_weight)?,
                _ => loss,
            };
            total = Some(match total {
                Some(sum) => (sum + loss)?,
                None => loss,
            });
        }
        let total = total.ok_or_else(|| candle_core::Error::Msg("no heads".into()))?;
        let grads = total.backward()?;
        Ok(Gradients { stats, grads })
    }

    /// Loss and accuracy without dropout, batch statistics or gradients.
    pub fn evaluate(&mut self, batch: &Batch, positions: Positions) -> Result<Evaluation> {
        let (heads, rows) = self.forward(batch, positions, None)?;
        let first = first_row(batch, positions);
        let mut stats = Stats {
            count: rows,
            ..Stats::default()
        };
        let mut what_logits = Vec::new();
        let mut all = Vec::new();
        for (head, logits) in heads {
            let logits = values(&logits)?;
            let classes = logits.len() / rows.max(1);
            for (r, row) in logits.chunks_exact(classes).enumerate() {
                let target = head_class(&batch.targets[batch.index(first + r)], head);
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = row.iter().map(|l| (l - max).exp()).sum();
                let target_logit = row[target];
                let loss = f64::from(max + sum.ln() - target_logit);
                stats.loss_sum += loss;
                stats.head_sums[head.index()] += loss;
                if head == Head::What {
                    let above = row.iter().filter(|&&l| l > target_logit).count();
                    stats.top1 += usize::from(above == 0);
                    stats.top5 += usize::from(above < 5);
                }
            }
            if head == Head::What {
                what_logits = logits.clone();
            }
            all.push((head, logits));
        }
        Ok(Evaluation {
            stats,
            logits: what_logits,
            heads: all,
        })
    }

    /// Each head's logits [rows, classes] of the scored positions,
    /// time-major, and the number of rows. The event network's heads see
    /// the target's earlier fields (teacher forcing). `masks` draws dropout
    /// masks in training; `None` evaluates.
    fn forward(
        &mut self,
        batch: &Batch,
        positions: Positions,
        mut masks: Option<&mut dyn FnMut(usize) -> Option<Vec<f32>>>,
    ) -> Result<(Vec<(Head, Tensor)>, usize)> {
        let training = masks.is_some();
        let (b, steps) = (batch.windows, batch.steps);
        let n = b * steps;

        // Layer 0's input at every row (time-major).
        let time_major: Vec<EventClasses> = (0..n)
            .map(|row| batch.inputs[batch.index(row)].classes())
            .collect();
        let per_step = (self.lstm_impl == LstmImpl::Autograd).then_some(b);
        let inputs = self.inputs(&time_major, per_step)?;
        let top = match self.lstm_impl {
            LstmImpl::Fused => self.lstm_fused(inputs, b, &mut masks)?,
            LstmImpl::Autograd => self.lstm_steps(inputs, b, steps, &mut masks)?,
        };
        let head = match positions {
            Positions::All => top,
            Positions::Last => top.narrow(0, (steps - 1) * b, b)?,
        };
        let rows = head.dim(0)?;
        let mut head = head;
        if let Some(norm) = &mut self.norm1 {
            head = norm.forward(&head, training)?;
            head = self.dropout(head, masks.as_mut())?;
        }
        if let Some(ev) = &self.events {
            let pre = self.dense.forward(&head)?;
            let condition = |table: &Tensor, head: Head| -> Result<Tensor> {
                let ids = self.targets(batch, positions, head)?;
                weight(table, training).index_select(&ids, 0)
            };
            let after_when = (&pre + condition(&ev.when_condition, Head::When)?)?;
            let after_what = (&after_when + condition(&ev.what_condition, Head::What)?)?;
            let detail = after_what.relu()?;
            let what = self.output.forward(&after_when.relu()?)?;
            let heads = vec![
                (Head::When, ev.when_output.forward(&pre.relu()?)?),
                (
                    Head::What,
                    self.with_repeat_prior(what, batch, positions, training)?,
                ),
                (Head::Hold, ev.hold_output.forward(&detail)?),
                (Head::Velocity, ev.velocity_output.forward(&detail)?),
                (Head::Register, ev.register_output.forward(&detail)?),
            ];
            return Ok((heads, rows));
        }
        head = self.dense.forward(&head)?.relu()?;
        if let Some(norm) = &mut self.norm2 {
            head = norm.forward(&head, training)?;
            head = self.dropout(head, masks.as_mut())?;
        }
        let what = self.output.forward(&head)?;
        Ok((
            vec![(
                Head::What,
                self.with_repeat_prior(what, batch, positions, training)?,
            )],
            rows,
        ))
    }

    /// The notes head's `logits` with the repeat prior added, where the
    /// network has one: each token raised by its learned scores for how
    /// often it came in its window up to the row, and right after the
    /// row's token ([`repeats::for_each_bin`], as the predictor counts).
    fn with_repeat_prior(
        &self,
        logits: Tensor,
        batch: &Batch,
        positions: Positions,
        training: bool,
    ) -> Result<Tensor> {
        let Some(table) = &self.repeat_bias else {
            return Ok(logits);
        };
        use repeats::{BINS, for_each_bin};
        let (b, v) = (batch.windows, self.config.vocab_size);
        let first = first_row(batch, positions);
        // Sparse: for each row and each token that came in its window so
        // far, where it sits in the logits and which pair of scores it
        // gets (a token that followed has come).
        let mut at_logit = Vec::new();
        let mut pair = Vec::new();
        let (mut came, mut followed) = (vec![0u16; v], vec![0u16; v]);
        let mut window_tokens = Vec::with_capacity(batch.steps);
        for window in 0..b {
            window_tokens.clear();
            for row in (window..b * batch.steps).step_by(b) {
                window_tokens.push(batch.inputs[batch.index(row)].what as usize);
                let Some(at) = row.checked_sub(first) else {
                    continue;
                };
                let context = window_tokens.iter().copied();
                for_each_bin(context, &mut came, &mut followed, |token, times, after| {
                    at_logit.push((at * v + token) as u32);
                    pair.push(((times - 1) * (BINS + 1) + after) as u32);
                });
            }
        }
        // Every pair of scores: [came bin 1..=8] × [followed bin 0..=8].
        let table = weight(table, training);
        let by_times = table.get(0)?.unsqueeze(1)?;
        let none = Tensor::zeros(1, table.dtype(), &self.device)?;
        let by_after = Tensor::cat(&[&none, &table.get(1)?], 0)?.unsqueeze(0)?;
        let pairs = by_times.broadcast_add(&by_after)?.flatten_all()?;
        let nonzero = at_logit.len();
        let scores = pairs.index_select(&Tensor::from_vec(pair, nonzero, &self.device)?, 0)?;
        let at_logit = Tensor::from_vec(at_logit, nonzero, &self.device)?;
        logits
            .flatten_all()?
            .index_add(&at_logit, &scores, 0)?
            .reshape(logits.shape())
    }

    /// Layer 0's input for `rows` (time-major): the sum of the fields'
    /// embeddings (the token network: the token's index scaled to 0..1),
    /// as one tensor of every row, or with `per_step` as one tensor per
    /// step of that many rows.
    fn inputs(&self, rows: &[EventClasses], per_step: Option<usize>) -> Result<Vec<Tensor>> {
        let n = rows.len();
        let parts = |all: usize| match per_step {
            Some(b) => (0..all / b).map(|t| (t * b, b)).collect::<Vec<_>>(),
            None => vec![(0, all)],
        };
        let Some(embedding) = &self.embedding else {
            let v = self.config.vocab_size as f32;
            let scalars: Vec<f32> = rows.iter().map(|e| e.what as f32 / v).collect();
            let all = self.constant(scalars, (n, 1))?;
            return parts(n)
                .into_iter()
                .map(|(start, len)| all.narrow(0, start, len))
                .collect();
        };
        let field = |of: fn(&EventClasses) -> usize| -> Result<Tensor> {
            let ids: Vec<u32> = rows.iter().map(|e| of(e) as u32).collect();
            Tensor::from_vec(ids, n, &self.device)
        };
        let mut tables = vec![(embedding, field(|e| e.what)?)];
        if let Some(ev) = &self.events {
            tables.push((&ev.when_embedding, field(|e| e.when)?));
            tables.push((&ev.velocity_embedding, field(|e| e.velocity)?));
            tables.push((&ev.register_embedding, field(|e| e.register)?));
        }
        parts(n)
            .into_iter()
            .map(|(start, len)| {
                let mut sum: Option<Tensor> = None;
                for (table, ids) in &tables {
                    let x = table.forward(&ids.narrow(0, start, len)?)?;
                    sum = Some(match sum {
                        Some(s) => (s + x)?,
                        None => x,
                    });
                }
                sum.ok_or_else(|| candle_core::Error::Msg("no input".into()))
            })
            .collect()
    }

    /// Whether dropout follows LSTM layer `layer` (the seed's network drops
    /// out after its batch norm instead of after its last layer).
    fn drops_after(&self, layer: usize) -> bool {
        self.config.arch != Arch::Seed || layer + 1 < self.config.layers
    }

    /// The LSTM stack, each layer one fused op over every row, dropout
    /// after each: the top layer's output [T·B, H], time-major.
    fn lstm_fused(
        &self,
        inputs: Vec<Tensor>,
        batch: usize,
        masks: &mut Option<&mut dyn FnMut(usize) -> Option<Vec<f32>>>,
    ) -> Result<Tensor> {
        let mut x = Tensor::cat(&inputs, 0)?;
        for (layer, lstm) in self.lstm.iter().enumerate() {
            x = lstm.forward_fused(&x, batch, masks.is_some())?;
            if let Some(draw) = masks.as_mut().filter(|_| self.drops_after(layer))
                && let Some(mask) = draw(x.elem_count())
            {
                let mask = self.constant(mask, x.shape().clone())?;
                x = (x * mask)?;
            }
        }
        Ok(x)
    }

    /// The LSTM stack step by step under autograd (the same masks, drawn
    /// in the same order): the top layer's output [T·B, H], time-major.
    fn lstm_steps(
        &self,
        inputs: Vec<Tensor>,
        batch: usize,
        steps: usize,
        masks: &mut Option<&mut dyn FnMut(usize) -> Option<Vec<f32>>>,
    ) -> Result<Tensor> {
        let (n, h) = (batch * steps, self.config.hidden);
        let mut xs = inputs;
        for (layer, lstm) in self.lstm.iter().enumerate() {
            xs = lstm.forward(&xs, masks.is_some())?;
            if let Some(draw) = masks.as_mut().filter(|_| self.drops_after(layer))
                && let Some(mask) = draw(n * h)
            {
                let mask = self.constant(mask, (n, h))?;
                xs = xs
                    .iter()
                    .enumerate()
                    .map(|(t, x)| x * mask.narrow(0, t * batch, batch)?)
                    .collect::<Result<_>>()?;
            }
        }
        Tensor::cat(&xs, 0)
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

    /// `head`'s target classes at the scored positions, time-major.
    fn targets(&self, batch: &Batch, positions: Positions, head: Head) -> Result<Tensor> {
        let first = first_row(batch, positions);
        let rows = batch.windows * batch.steps - first;
        let targets: Vec<u32> = (first..first + rows)
            .map(|row| head_class(&batch.targets[batch.index(row)], head) as u32)
            .collect();
        Tensor::from_vec(targets, rows, &self.device)
    }
}

/// The class `head` predicts for `step`.
fn head_class(step: &Step, head: Head) -> usize {
    step.classes().class(head)
}

/// The first time-major row the loss is taken at.
fn first_row(batch: &Batch, positions: Positions) -> usize {
    match positions {
        Positions::All => 0,
        Positions::Last => (batch.steps - 1) * batch.windows,
    }
}
