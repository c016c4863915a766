//! The hand-written network: the batched forward pass and its backward pass
//! (truncated back-propagation through time over the window) over `gemm`,
//! kept until the candle network (`crate::network`) is shown equal to it.
//!
//! Sequences are processed time-major: row `t * batch + b` of every
//! activation matrix is window `b` at step `t`. Each layer's input
//! projection is one large matrix product over all steps; only the
//! recurrent product runs step by step. The backward pass likewise collects
//! the gate gradients of all steps and forms the weight gradients in two
//! large products.

pub mod linalg;
pub mod optim;

use pianola_core::model::{Arch, Params};
use rand::Rng;

use crate::hand::linalg::{Layout, matmul};
pub use crate::network::{Batch, Positions, Stats};

/// Keras' default batch-normalisation epsilon and momentum (the seed's).
const NORM_EPSILON: f32 = 1e-3;
const NORM_MOMENTUM: f32 = 0.99;

/// Training (dropout, batch statistics, gradients) or evaluation.
pub enum Mode<'a, R: Rng> {
    /// Compute gradients into `grads` (which are overwritten).
    Train {
        /// Gradients, shaped like the parameters.
        grads: &'a mut Params,
        /// Dropout probability between layers.
        dropout: f32,
        /// Randomness for the dropout masks.
        rng: &'a mut R,
    },
    /// Loss and accuracy only.
    Eval,
}

/// The activations of one LSTM layer, kept for the backward pass.
#[derive(Default)]
struct LayerActivations {
    /// Gate activations i, f, g, o [rows, 4H].
    gates: Vec<f32>,
    /// Cell states [rows, H].
    cells: Vec<f32>,
    /// Hidden outputs [rows, H].
    hidden: Vec<f32>,
    /// Dropout scale per output (0 or 1 / (1 - p)); empty without dropout.
    mask: Vec<f32>,
    /// The output after dropout [rows, H] (the next layer's input).
    output: Vec<f32>,
}

/// A batch normalisation's saved values.
#[derive(Default)]
struct NormActivations {
    normalised: Vec<f32>,
    inv_std: Vec<f32>,
}

/// Buffers reused from batch to batch (training allocates nothing per step
/// once they have grown to the batch's size).
#[derive(Default)]
pub struct Workspace {
    input: Vec<f32>,
    layers: Vec<LayerActivations>,
    head_input: Vec<f32>,
    norm1: NormActivations,
    head_mask1: Vec<f32>,
    dense_pre: Vec<f32>,
    dense: Vec<f32>,
    norm2: NormActivations,
    head_mask2: Vec<f32>,
    head_out: Vec<f32>,
    logits: Vec<f32>,
    grad_dense: Vec<f32>,
    grad_head: Vec<f32>,
    grad_out: Vec<f32>,
    grad_gates: Vec<f32>,
    grad_input: Vec<f32>,
    grad_cell: Vec<f32>,
    grad_recurrent: Vec<f32>,
}

impl Workspace {
    /// The logits of the positions scored by the last evaluation run, row
    /// after row (in training runs they hold the loss gradient instead).
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }
}

fn resize(buffer: &mut Vec<f32>, len: usize) {
    buffer.clear();
    buffer.resize(len, 0.0);
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs a batch forward (and backward in training mode); returns the loss
/// and accuracy over the positions scored. In training mode the gradients
/// of the mean loss are written to `grads` and batch-norm running
/// statistics in `params` are updated.
pub fn run_batch<R: Rng>(
    params: &mut Params,
    batch: &Batch,
    positions: Positions,
    mut mode: Mode<R>,
    ws: &mut Workspace,
    threads: usize,
) -> Stats {
    let config = params.config.clone();
    let (b, t_len) = (batch.windows, batch.steps);
    let (h, d, v) = (config.hidden, config.dense, config.vocab_size);
    let n = b * t_len;
    let training = matches!(mode, Mode::Train { .. });
    let dropout = match &mode {
        Mode::Train { dropout, .. } => *dropout,
        Mode::Eval => 0.0,
    };
    let token = |row: usize| batch.inputs[(row % b) * t_len + row / b] as usize;

    // Layer 0 input: an embedding row, or the seed's scalar index / vocab.
    let e = config.embed;
    resize(&mut ws.input, n * e);
    for row in 0..n {
        let x = &mut ws.input[row * e..(row + 1) * e];
        match config.arch {
            Arch::Pianola => {
                let tok = token(row);
                x.copy_from_slice(&params.get("embedding")[tok * e..(tok + 1) * e]);
            }
            Arch::Seed => x[0] = token(row) as f32 / v as f32,
        }
    }

    ws.layers.resize_with(config.layers, Default::default);
    for layer in 0..config.layers {
        let input_width = config.layer_input(layer);
        let (before, rest) = ws.layers.split_at_mut(layer);
        let acts = &mut rest[0];
        let x: &[f32] = if layer == 0 {
            &ws.input
        } else {
            &before[layer - 1].output
        };
        let w_ih = params.get(&format!("lstm.{layer}.weight_ih"));
        let w_hh = params.get(&format!("lstm.{layer}.weight_hh"));
        let bias = params.get(&format!("lstm.{layer}.bias"));
        resize(&mut acts.gates, n * 4 * h);
        resize(&mut acts.cells, n * h);
        resize(&mut acts.hidden, n * h);
        matmul(
            &mut acts.gates,
            x,
            Layout::Plain,
            w_ih,
            Layout::Transposed,
            (n, 4 * h, input_width),
            false,
            threads,
        );
        for row in acts.gates.chunks_exact_mut(4 * h) {
            row.iter_mut().zip(bias).for_each(|(g, b)| *g += b);
        }
        for t in 0..t_len {
            let gates = &mut acts.gates[t * b * 4 * h..(t + 1) * b * 4 * h];
            if t > 0 {
                let previous = &acts.hidden[(t - 1) * b * h..t * b * h];
                matmul(
                    gates,
                    previous,
                    Layout::Plain,
                    w_hh,
                    Layout::Transposed,
                    (b, 4 * h, h),
                    true,
                    threads,
                );
            }
            for w in 0..b {
                let g = &mut gates[w * 4 * h..(w + 1) * 4 * h];
                let row = t * b + w;
                for u in 0..h {
                    let i = sigmoid(g[u]);
                    let f = sigmoid(g[h + u]);
                    let c_new = (g[2 * h + u]).tanh();
                    let o = sigmoid(g[3 * h + u]);
                    g[u] = i;
                    g[h + u] = f;
                    g[2 * h + u] = c_new;
                    g[3 * h + u] = o;
                    let c_prev = if t > 0 {
                        acts.cells[(row - b) * h + u]
                    } else {
                        0.0
                    };
                    let c = f * c_prev + i * c_new;
                    acts.cells[row * h + u] = c;
                    acts.hidden[row * h + u] = o * c.tanh();
                }
            }
        }
        // Dropout after every LSTM layer (before the next layer or the
        // head); the seed's network drops out after its batch norm instead.
        acts.output.clear();
        acts.output.extend_from_slice(&acts.hidden);
        acts.mask.clear();
        let drops = config.arch == Arch::Pianola || layer + 1 < config.layers;
        if let Mode::Train { rng, .. } = &mut mode
            && dropout > 0.0
            && drops
        {
            let keep = 1.0 / (1.0 - dropout);
            acts.mask.extend((0..n * h).map(|_| {
                if rng.random::<f32>() < dropout {
                    0.0
                } else {
                    keep
                }
            }));
            acts.output
                .iter_mut()
                .zip(&acts.mask)
                .for_each(|(y, m)| *y *= m);
        }
    }

    // The head reads every step, or the last step only.
    let (head_rows, first_row) = match positions {
        Positions::All => (n, 0),
        Positions::Last => (b, (t_len - 1) * b),
    };
    let top = &ws.layers[config.layers - 1].output;
    resize(&mut ws.head_input, head_rows * h);
    ws.head_input
        .copy_from_slice(&top[first_row * h..(first_row + head_rows) * h]);
    if config.arch == Arch::Seed {
        batch_norm_forward(
            params,
            "norm1",
            &mut ws.head_input,
            h,
            training,
            &mut ws.norm1,
        );
        dropout_in_place(&mut ws.head_input, &mut ws.head_mask1, &mut mode, dropout);
    }
    resize(&mut ws.dense_pre, head_rows * d);
    matmul(
        &mut ws.dense_pre,
        &ws.head_input,
        Layout::Plain,
        params.get("dense.weight"),
        Layout::Transposed,
        (head_rows, d, h),
        false,
        threads,
    );
    let dense_bias = params.get("dense.bias");
    ws.dense.clear();
    for row in ws.dense_pre.chunks_exact_mut(d) {
        row.iter_mut().zip(dense_bias).for_each(|(p, b)| *p += b);
        ws.dense.extend(row.iter().map(|p| p.max(0.0)));
    }
    ws.head_out.clear();
    ws.head_out.extend_from_slice(&ws.dense);
    if config.arch == Arch::Seed {
        batch_norm_forward(
            params,
            "norm2",
            &mut ws.head_out,
            d,
            training,
            &mut ws.norm2,
        );
        dropout_in_place(&mut ws.head_out, &mut ws.head_mask2, &mut mode, dropout);
    }
    resize(&mut ws.logits, head_rows * v);
    matmul(
        &mut ws.logits,
        &ws.head_out,
        Layout::Plain,
        params.get("output.weight"),
        Layout::Transposed,
        (head_rows, v, d),
        false,
        threads,
    );
    let output_bias = params.get("output.bias");

    // Softmax cross-entropy; in training the logits become their gradient.
    let mut stats = Stats::default();
    let scale = 1.0 / head_rows as f32;
    for (r, logits) in ws.logits.chunks_exact_mut(v).enumerate() {
        let row = first_row + r;
        let target = batch.targets[(row % b) * t_len + row / b] as usize;
        logits
            .iter_mut()
            .zip(output_bias)
            .for_each(|(l, b)| *l += b);
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = logits.iter().map(|l| (l - max).exp()).sum();
        let target_logit = logits[target];
        stats.loss_sum += f64::from(max + sum.ln() - target_logit);
        let above = logits.iter().filter(|&&l| l > target_logit).count();
        stats.top1 += usize::from(above == 0);
        stats.top5 += usize::from(above < 5);
        stats.count += 1;
        if training {
            for (k, l) in logits.iter_mut().enumerate() {
                let p = (*l - max).exp() / sum;
                *l = (p - f32::from(k == target)) * scale;
            }
        }
    }

    let Mode::Train { grads, .. } = mode else {
        return stats;
    };
    grads.tensors.iter_mut().for_each(|g| g.fill(0.0));
    backward(params, grads, batch, positions, ws, threads);
    stats
}

fn dropout_in_place<R: Rng>(x: &mut [f32], mask: &mut Vec<f32>, mode: &mut Mode<R>, p: f32) {
    mask.clear();
    if let Mode::Train { rng, .. } = mode
        && p > 0.0
    {
        let keep = 1.0 / (1.0 - p);
        mask.extend((0..x.len()).map(|_| if rng.random::<f32>() < p { 0.0 } else { keep }));
        x.iter_mut().zip(mask.iter()).for_each(|(y, m)| *y *= m);
    }
}

/// Batch normalisation over rows, in place. Training uses the batch's
/// statistics and updates the running ones; evaluation uses the running ones.
fn batch_norm_forward(
    params: &mut Params,
    name: &str,
    x: &mut [f32],
    width: usize,
    training: bool,
    saved: &mut NormActivations,
) {
    let rows = x.len() / width;
    let gamma = params.get(&format!("{name}.weight")).to_vec();
    let beta = params.get(&format!("{name}.bias")).to_vec();
    let (mean, var) = if training {
        let mut mean = vec![0.0f32; width];
        let mut var = vec![0.0f32; width];
        for row in x.chunks_exact(width) {
            mean.iter_mut()
                .zip(row)
                .for_each(|(m, v)| *m += v / rows as f32);
        }
        for row in x.chunks_exact(width) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m) / rows as f32;
            }
        }
        let running_mean = params.get_mut(&format!("{name}.running_mean"));
        for (r, m) in running_mean.iter_mut().zip(&mean) {
            *r = NORM_MOMENTUM * *r + (1.0 - NORM_MOMENTUM) * m;
        }
        let running_var = params.get_mut(&format!("{name}.running_var"));
        for (r, s) in running_var.iter_mut().zip(&var) {
            *r = NORM_MOMENTUM * *r + (1.0 - NORM_MOMENTUM) * s;
        }
        (mean, var)
    } else {
        (
            params.get(&format!("{name}.running_mean")).to_vec(),
            params.get(&format!("{name}.running_var")).to_vec(),
        )
    };
    saved.inv_std.clear();
    saved
        .inv_std
        .extend(var.iter().map(|s| 1.0 / (s + NORM_EPSILON).sqrt()));
    saved.normalised.clear();
    for row in x.chunks_exact_mut(width) {
        for (k, value) in row.iter_mut().enumerate() {
            let normalised = (*value - mean[k]) * saved.inv_std[k];
            saved.normalised.push(normalised);
            *value = gamma[k] * normalised + beta[k];
        }
    }
}

/// Turns the gradient of a batch norm's output (`grad`, in place) into the
/// gradient of its input, adding its parameters' gradients to `grads`.
fn batch_norm_backward(
    params: &Params,
    grads: &mut Params,
    name: &str,
    grad: &mut [f32],
    width: usize,
    saved: &NormActivations,
) {
    let rows = (grad.len() / width) as f32;
    let gamma = params.get(&format!("{name}.weight"));
    let mut sum_dy = vec![0.0f32; width];
    let mut sum_dy_xhat = vec![0.0f32; width];
    for (dy, xhat) in grad
        .chunks_exact(width)
        .zip(saved.normalised.chunks_exact(width))
    {
        for k in 0..width {
            sum_dy[k] += dy[k];
            sum_dy_xhat[k] += dy[k] * xhat[k];
        }
    }
    grads
        .get_mut(&format!("{name}.weight"))
        .copy_from_slice(&sum_dy_xhat);
    grads
        .get_mut(&format!("{name}.bias"))
        .copy_from_slice(&sum_dy);
    for (dy, xhat) in grad
        .chunks_exact_mut(width)
        .zip(saved.normalised.chunks_exact(width))
    {
        for k in 0..width {
            let scale = gamma[k] * saved.inv_std[k] / rows;
            dy[k] = scale * (rows * dy[k] - sum_dy[k] - xhat[k] * sum_dy_xhat[k]);
        }
    }
}

fn backward(
    params: &Params,
    grads: &mut Params,
    batch: &Batch,
    positions: Positions,
    ws: &mut Workspace,
    threads: usize,
) {
    let config = &params.config;
    let (b, t_len) = (batch.windows, batch.steps);
    let (h, d, v) = (config.hidden, config.dense, config.vocab_size);
    let n = b * t_len;
    let (head_rows, first_row) = match positions {
        Positions::All => (n, 0),
        Positions::Last => (b, (t_len - 1) * b),
    };

    // Output layer.
    let grad_logits = &ws.logits;
    matmul(
        grads.get_mut("output.weight"),
        grad_logits,
        Layout::Transposed,
        &ws.head_out,
        Layout::Plain,
        (v, d, head_rows),
        false,
        threads,
    );
    column_sums(grad_logits, v, grads.get_mut("output.bias"));
    resize(&mut ws.grad_dense, head_rows * d);
    matmul(
        &mut ws.grad_dense,
        grad_logits,
        Layout::Plain,
        params.get("output.weight"),
        Layout::Plain,
        (head_rows, d, v),
        false,
        threads,
    );
    if config.arch == Arch::Seed {
        apply_mask(&mut ws.grad_dense, &ws.head_mask2);
        batch_norm_backward(params, grads, "norm2", &mut ws.grad_dense, d, &ws.norm2);
    }
    // ReLU.
    for (g, p) in ws.grad_dense.iter_mut().zip(&ws.dense_pre) {
        if *p <= 0.0 {
            *g = 0.0;
        }
    }
    matmul(
        grads.get_mut("dense.weight"),
        &ws.grad_dense,
        Layout::Transposed,
        &ws.head_input,
        Layout::Plain,
        (d, h, head_rows),
        false,
        threads,
    );
    column_sums(&ws.grad_dense, d, grads.get_mut("dense.bias"));
    resize(&mut ws.grad_head, head_rows * h);
    matmul(
        &mut ws.grad_head,
        &ws.grad_dense,
        Layout::Plain,
        params.get("dense.weight"),
        Layout::Plain,
        (head_rows, h, d),
        false,
        threads,
    );
    if config.arch == Arch::Seed {
        apply_mask(&mut ws.grad_head, &ws.head_mask1);
        batch_norm_backward(params, grads, "norm1", &mut ws.grad_head, h, &ws.norm1);
    }

    // The gradient of the top layer's output at every step.
    resize(&mut ws.grad_out, n * h);
    ws.grad_out[first_row * h..(first_row + head_rows) * h].copy_from_slice(&ws.grad_head);

    for layer in (0..config.layers).rev() {
        let input_width = config.layer_input(layer);
        let acts = &ws.layers[layer];
        apply_mask(&mut ws.grad_out, &acts.mask);
        let w_ih = params.get(&format!("lstm.{layer}.weight_ih"));
        let w_hh = params.get(&format!("lstm.{layer}.weight_hh"));
        resize(&mut ws.grad_gates, n * 4 * h);
        resize(&mut ws.grad_recurrent, b * h);
        resize(&mut ws.grad_cell, b * h);
        for t in (0..t_len).rev() {
            for w in 0..b {
                let row = t * b + w;
                let gates = &acts.gates[row * 4 * h..(row + 1) * 4 * h];
                let dg = &mut ws.grad_gates[row * 4 * h..(row + 1) * 4 * h];
                for u in 0..h {
                    let dh = ws.grad_out[row * h + u] + ws.grad_recurrent[w * h + u];
                    let (i, f, g, o) = (gates[u], gates[h + u], gates[2 * h + u], gates[3 * h + u]);
                    let c = acts.cells[row * h + u];
                    let tanh_c = c.tanh();
                    let c_prev = if t > 0 {
                        acts.cells[(row - b) * h + u]
                    } else {
                        0.0
                    };
                    let dc = ws.grad_cell[w * h + u] + dh * o * (1.0 - tanh_c * tanh_c);
                    dg[u] = dc * g * i * (1.0 - i);
                    dg[h + u] = dc * c_prev * f * (1.0 - f);
                    dg[2 * h + u] = dc * i * (1.0 - g * g);
                    dg[3 * h + u] = dh * tanh_c * o * (1.0 - o);
                    ws.grad_cell[w * h + u] = dc * f;
                }
            }
            if t > 0 {
                matmul(
                    &mut ws.grad_recurrent,
                    &ws.grad_gates[t * b * 4 * h..(t + 1) * b * 4 * h],
                    Layout::Plain,
                    w_hh,
                    Layout::Plain,
                    (b, h, 4 * h),
                    false,
                    threads,
                );
            }
        }
        // Weight gradients over all steps at once.
        matmul(
            grads.get_mut(&format!("lstm.{layer}.weight_hh")),
            &ws.grad_gates[b * 4 * h..],
            Layout::Transposed,
            &acts.hidden[..(n - b) * h],
            Layout::Plain,
            (4 * h, h, n - b),
            false,
            threads,
        );
        let x: &[f32] = if layer == 0 {
            &ws.input
        } else {
            &ws.layers[layer - 1].output
        };
        matmul(
            grads.get_mut(&format!("lstm.{layer}.weight_ih")),
            &ws.grad_gates,
            Layout::Transposed,
            x,
            Layout::Plain,
            (4 * h, input_width, n),
            false,
            threads,
        );
        column_sums(
            &ws.grad_gates,
            4 * h,
            grads.get_mut(&format!("lstm.{layer}.bias")),
        );
        let needs_input_grad = layer > 0 || config.arch == Arch::Pianola;
        if needs_input_grad {
            resize(&mut ws.grad_input, n * input_width);
            matmul(
                &mut ws.grad_input,
                &ws.grad_gates,
                Layout::Plain,
                w_ih,
                Layout::Plain,
                (n, input_width, 4 * h),
                false,
                threads,
            );
        }
        if layer > 0 {
            std::mem::swap(&mut ws.grad_out, &mut ws.grad_input);
        } else if config.arch == Arch::Pianola {
            let e = config.embed;
            let grad_embedding = grads.get_mut("embedding");
            for row in 0..n {
                let tok = batch.inputs[(row % b) * t_len + row / b] as usize;
                let dst = &mut grad_embedding[tok * e..(tok + 1) * e];
                dst.iter_mut()
                    .zip(&ws.grad_input[row * e..(row + 1) * e])
                    .for_each(|(g, x)| *g += x);
            }
        }
    }
}

fn apply_mask(grad: &mut [f32], mask: &[f32]) {
    if !mask.is_empty() {
        grad.iter_mut().zip(mask).for_each(|(g, m)| *g *= m);
    }
}

fn column_sums(matrix: &[f32], width: usize, out: &mut [f32]) {
    out.fill(0.0);
    for row in matrix.chunks_exact(width) {
        out.iter_mut().zip(row).for_each(|(o, x)| *o += x);
    }
}
