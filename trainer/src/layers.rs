//! The network's building blocks that candle-nn lacks: an LSTM layer (step
//! by step under autograd, or one fused op), Keras' batch normalisation
//! with its running statistics kept outside autograd, and dropout masks
//! drawn from a seeded generator. Dense layers, embeddings, the loss and
//! the store of trainable weights are candle-nn's (`Linear`, `Embedding`,
//! `loss::cross_entropy`, `VarMap`; [`crate::network`]).

use candle_core::{DType, Result, Tensor};
use rand::Rng;

/// Keras' default batch-normalisation epsilon and momentum (the seed's).
const NORM_EPSILON: f64 = 1e-3;
const NORM_MOMENTUM: f32 = 0.99;

/// A tensor's values as row-major `f32`.
pub fn values(tensor: &Tensor) -> Result<Vec<f32>> {
    tensor.to_dtype(DType::F32)?.flatten_all()?.to_vec1()
}

/// The tensor a forward pass uses for a weight (a variable's tensor):
/// tracked for gradients in training, detached (no graph) otherwise.
pub fn weight(tensor: &Tensor, training: bool) -> Tensor {
    if training {
        tensor.clone()
    } else {
        tensor.detach()
    }
}

/// How the LSTM layers run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LstmImpl {
    /// The whole sequence as one op with its own backward pass
    /// ([`crate::fused_lstm`]; CPU).
    #[default]
    Fused,
    /// Step by step, every gradient from candle's autograd.
    Autograd,
}

impl LstmImpl {
    /// `fused` or `autograd`.
    pub fn name(self) -> &'static str {
        match self {
            LstmImpl::Fused => "fused",
            LstmImpl::Autograd => "autograd",
        }
    }
}

/// One LSTM layer, PyTorch-shaped, gates in the order input, forget, cell,
/// output, with one bias (the sum of PyTorch's two).
pub struct Lstm {
    /// [4H, in].
    pub weight_ih: Tensor,
    /// [4H, H].
    pub weight_hh: Tensor,
    /// [4H].
    pub bias: Tensor,
}

impl Lstm {
    /// Runs the layer over a sequence from a zero state: `inputs[t]` is
    /// step `t` [batch, in]; returns the hidden output of every step.
    ///
    /// Steps are separate tensors, never slices of one [B, T, ·] tensor:
    /// the backward pass of a slice pads its gradient to the full size,
    /// which would make backpropagation quadratic in the window. The input
    /// and the previous output go through one product per step, with the two
    /// weight matrices joined once per call.
    pub fn forward(&self, inputs: &[Tensor], training: bool) -> Result<Vec<Tensor>> {
        let w_ih = weight(&self.weight_ih, training);
        let w_hh = weight(&self.weight_hh, training);
        let bias = weight(&self.bias, training);
        let hidden = w_hh.dim(1)?;
        let joined = Tensor::cat(&[&w_ih, &w_hh], 1)?.t()?;
        let input_only = w_ih.t()?;
        let mut outputs: Vec<Tensor> = Vec::with_capacity(inputs.len());
        let mut cell: Option<Tensor> = None;
        for x in inputs {
            let gates = match outputs.last() {
                Some(previous) => Tensor::cat(&[x, previous], 1)?.matmul(&joined)?,
                None => x.matmul(&input_only)?,
            };
            let gates = gates.broadcast_add(&bias)?;
            let sig = candle_nn::ops::sigmoid(&gates)?;
            let i = sig.narrow(1, 0, hidden)?;
            let f = sig.narrow(1, hidden, hidden)?;
            let o = sig.narrow(1, 3 * hidden, hidden)?;
            let g = gates.narrow(1, 2 * hidden, hidden)?.tanh()?;
            let c = match &cell {
                Some(previous) => ((f * previous)? + (i * g)?)?,
                None => (i * g)?,
            };
            outputs.push((o * c.tanh()?)?);
            cell = Some(c);
        }
        Ok(outputs)
    }

    /// Runs the layer over a whole sequence from a zero state in one op
    /// ([`crate::fused_lstm`]): `x` [T·B, in] holds the steps one after
    /// the other (row `t·B + b`); returns the hidden output of every row
    /// [T·B, H] in the same order. The op takes the weights joined side by
    /// side, `[W_ih | W_hh | b]`.
    pub fn forward_fused(&self, x: &Tensor, batch: usize, training: bool) -> Result<Tensor> {
        let joined = Tensor::cat(
            &[
                &weight(&self.weight_ih, training),
                &weight(&self.weight_hh, training),
                &weight(&self.bias, training).unsqueeze(1)?,
            ],
            1,
        )?;
        x.contiguous()?
            .apply_op2(&joined, crate::fused_lstm::LstmLayer::new(batch))
    }
}

/// Batch normalisation over rows, with running statistics kept outside
/// autograd (they are not trained).
pub struct BatchNorm {
    /// Scale [width].
    pub weight: Tensor,
    /// Shift [width].
    pub bias: Tensor,
    /// Running mean, updated in training.
    pub running_mean: Vec<f32>,
    /// Running (biased) variance, updated in training.
    pub running_var: Vec<f32>,
}

impl BatchNorm {
    /// Normalises `x` [rows, width]: by the batch's statistics in training
    /// (updating the running ones), by the running ones otherwise.
    pub fn forward(&mut self, x: &Tensor, training: bool) -> Result<Tensor> {
        let (mean, var) = if training {
            let mean = x.mean_keepdim(0)?;
            let centred = x.broadcast_sub(&mean)?;
            let var = centred.sqr()?.mean_keepdim(0)?;
            update_running(&mut self.running_mean, &values(&mean)?);
            update_running(&mut self.running_var, &values(&var)?);
            (mean, var)
        } else {
            let width = self.running_mean.len();
            let constant =
                |v: &[f32]| Tensor::from_slice(v, (1, width), x.device())?.to_dtype(x.dtype());
            (constant(&self.running_mean)?, constant(&self.running_var)?)
        };
        let inv_std = (var + NORM_EPSILON)?.sqrt()?.recip()?;
        let normalised = x.broadcast_sub(&mean)?.broadcast_mul(&inv_std)?;
        normalised
            .broadcast_mul(&weight(&self.weight, training))?
            .broadcast_add(&weight(&self.bias, training))
    }
}

fn update_running(running: &mut [f32], batch: &[f32]) {
    for (r, b) in running.iter_mut().zip(batch) {
        *r = NORM_MOMENTUM * *r + (1.0 - NORM_MOMENTUM) * b;
    }
}

/// A dropout mask of `len` scales (0 with probability `p`, else
/// 1 / (1 − p)), drawn one uniform number per element in order.
pub fn dropout_mask(rng: &mut impl Rng, len: usize, p: f32) -> Vec<f32> {
    let keep = 1.0 / (1.0 - p);
    (0..len)
        .map(|_| if rng.random::<f32>() < p { 0.0 } else { keep })
        .collect()
}
