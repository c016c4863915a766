//! One LSTM layer over a whole sequence as one candle op with its own
//! backward pass, as cuDNN, oneDNN and PyTorch's CPU path run an LSTM.
//!
//! The op's first input is the layer's input `X` [T·B, in], time-major
//! (row `t·B + b`); its second the layer's weights joined side by side,
//! `[W_ih | W_hh | b]` [4H, in + H + 1]. Forward projects every row's input
//! in one product (`X·W_ihᵀ + b`), runs the recurrence step by step and
//! keeps the gates and cells; backward runs the recurrence backwards once
//! and forms each weight gradient, and the input's, in one product over all
//! steps and rows. Autograd step by step would form a full weight-sized
//! gradient for every step and add them up, and autograd around a fused
//! recurrence would still zero, fill and add gradients of the [T·B, 4H]
//! projection twice (`BENCHMARKS.md` has the costs). Gates are in the
//! order input, forget, cell, output, as [`crate::layers::Lstm`].
//!
//! CPU only (f32 and f64): on other devices [`crate::layers::Lstm`] runs
//! step by step under autograd.

use std::sync::{Arc, Mutex, PoisonError};

use candle_core::{
    CpuStorage, CustomOp2, DType, Layout, Result, Shape, Storage, Tensor, WithDType, bail,
};
use gemm::Parallelism;

/// The floating-point types the op computes in. `sigmoid` and `tanh` each
/// go through one `exp` (`tanh x = 1 − 2 / (e^{2x} + 1)`): the C
/// library's own `tanh` took a sixth of a training step. In `f32` that
/// `exp` is [`exp_f32`], written so that the cell loops vectorise; `f64`
/// (the finite-difference test's) keeps the library's.
trait Real: WithDType + std::ops::Neg<Output = Self> {
    fn exp(self) -> Self;
    fn sigmoid(self) -> Self {
        Self::one() / (Self::one() + (-self).exp())
    }
    fn tanh(self) -> Self {
        let two = Self::one() + Self::one();
        Self::one() - two / ((two * self).exp() + Self::one())
    }
}

impl Real for f32 {
    fn exp(self) -> Self {
        exp_f32(self)
    }
}

impl Real for f64 {
    fn exp(self) -> Self {
        f64::exp(self)
    }
}

/// `e^x` in `f32` without a library call, so that a loop of them
/// vectorises: `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` from its
/// Taylor series to `r⁷` (the first term left out, `r⁸/8!`, is below
/// 6·10⁻⁹), and `2ⁿ` built in the exponent bits. `x` is clamped to
/// [−87, 88], where `e^x` is a normal `f32`; within a few ulps elsewhere.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    // ln 2 in two parts: the first has few enough bits that `n · LN2_HIGH`
    // is exact for every `n` here.
    const LN2_HIGH: f32 = 355.0 / 512.0;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding 1.5 · 2²³ rounds to the nearest integer, which then lies in
    // the low bits of the sum: no conversion of a float to an integer, which
    // would keep the loop from vectorising (as would `clamp`'s NaN check).
    const ROUND: f32 = 12_582_912.0;
    #[allow(clippy::manual_clamp)]
    let x = x.max(-87.0).min(88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
}

/// Where a `rows × cols` matrix lies in a slice: element `(r, c)` at
/// `r · row_stride + c · col_stride`.
#[derive(Clone, Copy)]
struct Strides {
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl Strides {
    /// A row-major `rows × cols` matrix.
    fn row_major(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose: the same elements read the other way.
    fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Whether every element lies inside `len` elements.
    fn fits(&self, len: usize) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < len
    }
}

/// A matrix read from a slice.
#[derive(Clone, Copy)]
struct View<'a, T> {
    data: &'a [T],
    at: Strides,
}

impl<'a, T> View<'a, T> {
    /// A row-major `rows × cols` matrix.
    fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            at: Strides::row_major(rows, cols),
        }
    }

    /// Columns `start..start + cols` of a row-major matrix `width` wide.
    fn columns(data: &'a [T], rows: usize, width: usize, start: usize, cols: usize) -> Self {
        Self {
            data: &data[start..],
            at: Strides {
                cols,
                ..Strides::row_major(rows, width)
            },
        }
    }

    /// The transpose (no copy).
    fn t(self) -> Self {
        Self {
            at: self.at.t(),
            ..self
        }
    }
}

/// `dst = [dst +] a · b`, the result where `out` says. gemm's kernels read
/// the left operand by columns, so every call here gives it one stored
/// column by column (a transpose of a row-major matrix): otherwise gemm
/// copies it into that order first, for every step of the recurrence. So
/// a row-major `C = A · B` is computed as `Cᵀ = Bᵀ · Aᵀ` into
/// `Strides::row_major(..).t()`.
fn matmul<T: Real>(dst: &mut [T], out: Strides, a: View<T>, b: View<T>, accumulate: bool) {
    let (m, k, n) = (a.at.rows, a.at.cols, b.at.cols);
    assert!(b.at.rows == k && out.rows == m && out.cols == n);
    assert!(a.at.fits(a.data.len()) && b.at.fits(b.data.len()) && out.fits(dst.len()));
    if m == 0 || n == 0 {
        return;
    }
    let threads = candle_core::utils::get_num_threads();
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: every element of the three matrices lies inside its slice at
    // the strides given (checked above), and `dst` does not alias `a` or `b`
    // (a `&mut` slice and two shared ones).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            out.col_stride as isize,
            out.row_stride as isize,
            accumulate,
            a.data.as_ptr(),
            a.at.col_stride as isize,
            a.at.row_stride as isize,
            b.data.as_ptr(),
            b.at.col_stride as isize,
            b.at.row_stride as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// One row of one step forward: the gates' pre-activations `z` [4H],
/// with the `bias` [4H] added here, become their activations i, f, g, o in
/// place, and the cell, its `tanh` and the output are written from the
/// previous cell. Not inlined: as a function of its own its slices are
/// known not to overlap, and the loop vectorises.
#[inline(never)]
fn cell_forward<T: Real>(
    z: &mut [T],
    bias: &[T],
    previous: &[T],
    cell: &mut [T],
    cell_tanh: &mut [T],
    out: &mut [T],
) {
    let h = out.len();
    let (zi, rest) = z.split_at_mut(h);
    let (zf, rest) = rest.split_at_mut(h);
    let (zg, zo) = rest.split_at_mut(h);
    let (previous, cell, cell_tanh) = (&previous[..h], &mut cell[..h], &mut cell_tanh[..h]);
    let (zi, zf, zg, zo) = (&mut zi[..h], &mut zf[..h], &mut zg[..h], &mut zo[..h]);
    let (bi, rest) = bias.split_at(h);
    let (bf, rest) = rest.split_at(h);
    let (bg, bo) = rest.split_at(h);
    let (bi, bf, bg, bo) = (&bi[..h], &bf[..h], &bg[..h], &bo[..h]);
    for j in 0..h {
        let i = (zi[j] + bi[j]).sigmoid();
        let f = (zf[j] + bf[j]).sigmoid();
        let g = (zg[j] + bg[j]).tanh();
        let o = (zo[j] + bo[j]).sigmoid();
        let c = f * previous[j] + i * g;
        let tc = c.tanh();
        cell[j] = c;
        cell_tanh[j] = tc;
        out[j] = o * tc;
        zi[j] = i;
        zf[j] = f;
        zg[j] = g;
        zo[j] = o;
    }
}

/// One row of one step backward: the gates' gradients `dz` [4H] from the
/// output's gradient (`d_out` from above, `dh_next` from the step after)
/// and the cell's from the step after, which becomes this step's. Not
/// inlined, as [`cell_forward`].
#[inline(never)]
fn cell_backward<T: Real>(
    gates: &[T],
    previous: &[T],
    cell_tanh: &[T],
    d_out: &[T],
    dh_next: &[T],
    dc_next: &mut [T],
    dz: &mut [T],
) {
    let h = cell_tanh.len();
    let one = T::one();
    let (gi, rest) = gates.split_at(h);
    let (gf, rest) = rest.split_at(h);
    let (gg, go) = rest.split_at(h);
    let (di, rest) = dz.split_at_mut(h);
    let (df, rest) = rest.split_at_mut(h);
    let (dg, d_o) = rest.split_at_mut(h);
    let (gi, gf, gg, go) = (&gi[..h], &gf[..h], &gg[..h], &go[..h]);
    let (di, df, dg, d_o) = (&mut di[..h], &mut df[..h], &mut dg[..h], &mut d_o[..h]);
    let (previous, d_out, dh_next, dc_next) = (
        &previous[..h],
        &d_out[..h],
        &dh_next[..h],
        &mut dc_next[..h],
    );
    for j in 0..h {
        let (i, f, g, o) = (gi[j], gf[j], gg[j], go[j]);
        let tc = cell_tanh[j];
        let dh = d_out[j] + dh_next[j];
        let dc = dh * o * (one - tc * tc) + dc_next[j];
        dc_next[j] = dc * f;
        di[j] = dc * g * i * (one - i);
        df[j] = dc * previous[j] * f * (one - f);
        dg[j] = dc * i * (one - g * g);
        d_o[j] = dh * tc * o * (one - o);
    }
}

/// What the forward pass keeps for the backward pass.
struct Saved<T> {
    /// The gate activations i, f, g, o of every row [T·B, 4H].
    gates: Vec<T>,
    /// The cell of every row [T·B, H].
    cells: Vec<T>,
    /// `tanh` of every cell [T·B, H].
    cell_tanhs: Vec<T>,
}

/// The sizes of one call: rows `t·B + b`, `batch` a step.
#[derive(Clone, Copy)]
struct Sizes {
    rows: usize,
    batch: usize,
    input: usize,
    hidden: usize,
}

impl Sizes {
    /// The width of the joined weights `[W_ih | W_hh | b]`.
    fn width(&self) -> usize {
        self.input + self.hidden + 1
    }

    fn steps(&self) -> usize {
        self.rows / self.batch
    }
}

/// The op: one LSTM layer over steps of `batch` rows.
#[derive(Clone)]
pub struct LstmLayer {
    /// Rows a step.
    pub batch: usize,
    saved: Arc<Mutex<Option<SavedAny>>>,
}

enum SavedAny {
    F32(Saved<f32>),
    F64(Saved<f64>),
}

impl LstmLayer {
    /// The layer over steps of `batch` rows.
    pub fn new(batch: usize) -> Self {
        Self {
            batch,
            saved: Arc::new(Mutex::new(None)),
        }
    }

    /// The outputs of every row [T·B, H] from the inputs `x` [T·B, in] and
    /// the joined weights `w` [4H, in + H + 1].
    fn forward<T: Real>(x: &[T], w: &[T], n: Sizes) -> (Vec<T>, Saved<T>) {
        let (b, h, width) = (n.batch, n.hidden, n.width());
        // wᵀ [in + H + 1, 4H]: W_ih and W_hh stored column by column.
        let mut w_t = vec![T::zero(); width * 4 * h];
        transpose::transpose(w, &mut w_t, width, 4 * h);
        let w_ih = View::new(&w_t, n.input, 4 * h).t();
        let w_hh = View::new(&w_t[n.input * 4 * h..], h, 4 * h).t();
        let bias = &w_t[(n.input + h) * 4 * h..];
        // Every row's input projection, Gᵀ = W_ih · Xᵀ (the bias is added in
        // the cell loop).
        let mut gates = vec![T::zero(); n.rows * 4 * h];
        matmul(
            &mut gates,
            Strides::row_major(n.rows, 4 * h).t(),
            w_ih,
            View::new(x, n.rows, n.input).t(),
            false,
        );
        let mut cells = vec![T::zero(); n.rows * h];
        let mut cell_tanhs = vec![T::zero(); n.rows * h];
        let mut out = vec![T::zero(); n.rows * h];
        let zeros = vec![T::zero(); h];
        for t in 0..n.steps() {
            let (done, rest) = out.split_at_mut(t * b * h);
            let z = &mut gates[t * b * 4 * h..(t + 1) * b * 4 * h];
            if t > 0 {
                // zᵀ += W_hh · h_{t−1}ᵀ.
                let previous = View::new(&done[(t - 1) * b * h..], b, h);
                matmul(
                    z,
                    Strides::row_major(b, 4 * h).t(),
                    w_hh,
                    previous.t(),
                    true,
                );
            }
            let h_t = &mut rest[..b * h];
            let (earlier, now) = cells.split_at_mut(t * b * h);
            for row in 0..b {
                let previous = match t {
                    0 => &zeros[..],
                    _ => &earlier[((t - 1) * b + row) * h..][..h],
                };
                cell_forward(
                    &mut z[row * 4 * h..][..4 * h],
                    bias,
                    previous,
                    &mut now[row * h..][..h],
                    &mut cell_tanhs[(t * b + row) * h..][..h],
                    &mut h_t[row * h..][..h],
                );
            }
        }
        (
            out,
            Saved {
                gates,
                cells,
                cell_tanhs,
            },
        )
    }

    /// The gradients of the inputs and of the joined weights from the
    /// outputs' `d_out`.
    fn backward<T: Real>(
        saved: &Saved<T>,
        x: &[T],
        w: &[T],
        out: &[T],
        d_out: &[T],
        n: Sizes,
    ) -> (Vec<T>, Vec<T>) {
        let (b, h, width, steps) = (n.batch, n.hidden, n.width(), n.steps());
        let w_ih = View::columns(w, 4 * h, width, 0, n.input);
        let w_hh = View::columns(w, 4 * h, width, n.input, h);
        let zeros = vec![T::zero(); h];
        let mut d_gates = vec![T::zero(); n.rows * 4 * h];
        let mut dh_next = vec![T::zero(); b * h];
        let mut dc_next = vec![T::zero(); b * h];
        for t in (0..steps).rev() {
            for row in 0..b {
                let r = t * b + row;
                let previous = match t {
                    0 => &zeros[..],
                    _ => &saved.cells[(r - b) * h..][..h],
                };
                cell_backward(
                    &saved.gates[r * 4 * h..][..4 * h],
                    previous,
                    &saved.cell_tanhs[r * h..][..h],
                    &d_out[r * h..][..h],
                    &dh_next[row * h..][..h],
                    &mut dc_next[row * h..][..h],
                    &mut d_gates[r * 4 * h..][..4 * h],
                );
            }
            // dh_{t−1}ᵀ = W_hhᵀ [H, 4H] · dZ_tᵀ [4H, B].
            if t > 0 {
                let dz = View::new(&d_gates[t * b * 4 * h..], b, 4 * h);
                matmul(
                    &mut dh_next,
                    Strides::row_major(b, h).t(),
                    w_hh.t(),
                    dz.t(),
                    false,
                );
            }
        }
        let d_gates_t = View::new(&d_gates, n.rows, 4 * h).t();
        let mut d_w = vec![T::zero(); 4 * h * width];
        // dW_ih = dZᵀ · X, over every row.
        let whole = |cols| Strides {
            rows: 4 * h,
            cols,
            row_stride: width,
            col_stride: 1,
        };
        matmul(
            &mut d_w,
            whole(n.input),
            d_gates_t,
            View::new(x, n.rows, n.input),
            false,
        );
        // dW_hh = Σ_t dZ_tᵀ · h_{t−1}: the rows of steps 1.. against the
        // outputs of steps ..T−1.
        if steps > 1 {
            let later = View::new(&d_gates[b * 4 * h..], n.rows - b, 4 * h).t();
            let earlier = View::new(out, n.rows - b, h);
            matmul(&mut d_w[n.input..], whole(h), later, earlier, false);
        }
        // db = Σ dZ over the rows, summed in a row of its own (it vectorises)
        // and then put in its column.
        let mut d_b = vec![T::zero(); 4 * h];
        for dz in d_gates.chunks_exact(4 * h) {
            for (sum, g) in d_b.iter_mut().zip(dz) {
                *sum += *g;
            }
        }
        for (r, sum) in d_b.into_iter().enumerate() {
            d_w[r * width + n.input + h] = sum;
        }
        // dXᵀ = W_ihᵀ [in, 4H] · dZᵀ [4H, T·B].
        let mut d_x = vec![T::zero(); n.rows * n.input];
        matmul(
            &mut d_x,
            Strides::row_major(n.rows, n.input).t(),
            w_ih.t(),
            d_gates_t,
            false,
        );
        (d_x, d_w)
    }

    /// [`LstmLayer::backward`] on tensors.
    fn backward_tensors<T: Real>(
        kept: &Saved<T>,
        x: &Tensor,
        w: &Tensor,
        out: &Tensor,
        d_out: &Tensor,
        n: Sizes,
    ) -> Result<(Tensor, Tensor)> {
        let d_out = d_out.contiguous()?;
        let (x_storage, x_layout) = x.storage_and_layout();
        let (w_storage, w_layout) = w.storage_and_layout();
        let (out_storage, out_layout) = out.storage_and_layout();
        let (d_out_storage, d_out_layout) = d_out.storage_and_layout();
        let (d_x, d_w) = Self::backward(
            kept,
            cpu_data(&x_storage, x_layout)?,
            cpu_data(&w_storage, w_layout)?,
            cpu_data(&out_storage, out_layout)?,
            cpu_data(&d_out_storage, d_out_layout)?,
            n,
        );
        let device = out.device();
        Ok((
            Tensor::from_vec(d_x, (n.rows, n.input), device)?,
            Tensor::from_vec(d_w, (4 * n.hidden, n.width()), device)?,
        ))
    }

    /// The sizes of a call on `x` and `w`, or why they do not fit.
    fn sizes(&self, x: &Shape, w: &Shape) -> Result<Sizes> {
        let (rows, input) = x.dims2()?;
        let (four_h, width) = w.dims2()?;
        let hidden = four_h / 4;
        if four_h % 4 != 0 || width != input + hidden + 1 || rows % self.batch != 0 {
            bail!("lstm-layer: X {x:?} and [W_ih | W_hh | b] {w:?} do not fit");
        }
        Ok(Sizes {
            rows,
            batch: self.batch,
            input,
            hidden,
        })
    }
}

/// The contiguous data of a storage.
fn data<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&storage.as_slice::<T>()?[start..end]),
        None => bail!("the fused LSTM wants contiguous inputs"),
    }
}

/// The contiguous data of a tensor's storage on the CPU, read in place.
fn cpu_data<'a, T: WithDType>(storage: &'a Storage, layout: &Layout) -> Result<&'a [T]> {
    match storage {
        Storage::Cpu(cpu) => data(cpu, layout),
        _ => bail!("the fused LSTM runs on the CPU"),
    }
}

impl CustomOp2 for LstmLayer {
    fn name(&self) -> &'static str {
        "lstm-layer"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let n = self.sizes(l1.shape(), l2.shape())?;
        let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let storage = match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => {
                let (out, kept) = Self::forward::<f32>(data(s1, l1)?, data(s2, l2)?, n);
                *saved = Some(SavedAny::F32(kept));
                CpuStorage::F32(out)
            }
            (CpuStorage::F64(_), CpuStorage::F64(_)) => {
                let (out, kept) = Self::forward::<f64>(data(s1, l1)?, data(s2, l2)?, n);
                *saved = Some(SavedAny::F64(kept));
                CpuStorage::F64(out)
            }
            _ => bail!("lstm-layer: f32 or f64 inputs of one dtype"),
        };
        Ok((storage, Shape::from((n.rows, n.hidden))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        out: &Tensor,
        d_out: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let n = self.sizes(x.shape(), w.shape())?;
        let saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let (d_x, d_w) = match (saved.as_ref(), out.dtype()) {
            (Some(SavedAny::F32(kept)), DType::F32) => {
                Self::backward_tensors(kept, x, w, out, d_out, n)?
            }
            (Some(SavedAny::F64(kept)), DType::F64) => {
                Self::backward_tensors(kept, x, w, out, d_out, n)?
            }
            _ => bail!("lstm-layer: backward without its forward"),
        };
        Ok((Some(d_x), Some(d_w)))
    }
}

#[cfg(test)]
mod tests {
    use super::exp_f32;

    #[test]
    fn exp_f32_is_within_a_few_ulps_of_the_library() {
        let mut worst = 0.0f64;
        for k in -87_000..=88_000 {
            let x = k as f32 / 1000.0;
            let (fast, exact) = (exp_f32(x) as f64, (x as f64).exp());
            worst = worst.max(((fast - exact) / exact).abs());
        }
        assert!(
            worst < 4.0 * f32::EPSILON as f64,
            "relative error {worst:e}"
        );
        // Beyond the clamp: finite and positive, never 0 or infinity.
        assert_eq!(exp_f32(-1000.0), exp_f32(-87.0));
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(1000.0).is_finite());
    }
}
