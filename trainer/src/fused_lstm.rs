//! The LSTM's recurrence over a whole sequence as one candle op with its
//! own backward pass, as cuDNN, oneDNN and PyTorch's CPU path run an LSTM.
//!
//! Autograd handles everything around it: the input projection
//! `X·W_ihᵀ + b` is one product over every step and row (so its weight
//! gradient is one product too), and its result `Gx` [T·B, 4H], time-major
//! (row `t·B + b`), is this op's first input; `W_hh` [4H, H] its second.
//! Forward keeps the gates and cells; backward runs the recurrence
//! backwards once and forms `W_hh`'s gradient in one product over all steps
//! and rows. Autograd step by step would form a full `W_hh`-sized gradient
//! for every step and add them up (`BENCHMARKS.md` has the cost). Gates are
//! in the order input, forget, cell, output, as [`crate::layers::Lstm`].
//!
//! CPU only (f32 and f64): on other devices [`crate::layers::Lstm`] runs
//! step by step under autograd.

use std::sync::{Arc, Mutex, PoisonError};

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, WithDType, bail};
use gemm::Parallelism;

/// The floating-point types the op computes in. `tanh` goes through one
/// `exp` (`1 − 2 / (e^{2x} + 1)`, exact to an ulp or so of 1): the C
/// library's own `tanh` took a sixth of a training step.
trait Real: WithDType {
    fn sigmoid(self) -> Self;
    fn tanh(self) -> Self;
}

impl Real for f32 {
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
    fn tanh(self) -> Self {
        1.0 - 2.0 / ((2.0 * self).exp() + 1.0)
    }
}

impl Real for f64 {
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
    fn tanh(self) -> Self {
        1.0 - 2.0 / ((2.0 * self).exp() + 1.0)
    }
}

/// `dst (m×n) = [dst +] a (m×k) · b (k×n)`, all row-major, or with
/// `a_transposed` `a` given as its transpose (k×m, row-major).
#[allow(clippy::too_many_arguments)]
fn matmul<T: Real>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    (m, k, n): (usize, usize, usize),
    a_transposed: bool,
    accumulate: bool,
) {
    assert!(dst.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    let (a_cs, a_rs) = if a_transposed {
        (m as isize, 1)
    } else {
        (1, k as isize)
    };
    let threads = candle_core::utils::get_num_threads();
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the slices hold the m×n, m×k and k×n matrices at the strides
    // given (checked above), and `dst` does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            1,
            n as isize,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
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

/// The op: the recurrence of one LSTM layer over `batch` rows a step.
#[derive(Clone)]
pub struct LstmRecurrence {
    /// Rows a step.
    pub batch: usize,
    saved: Arc<Mutex<Option<SavedAny>>>,
}

enum SavedAny {
    F32(Saved<f32>),
    F64(Saved<f64>),
}

impl LstmRecurrence {
    /// The recurrence over steps of `batch` rows.
    pub fn new(batch: usize) -> Self {
        Self {
            batch,
            saved: Arc::new(Mutex::new(None)),
        }
    }

    fn forward<T: Real>(&self, gx: &[T], w: &[T], hidden: usize) -> (Vec<T>, Saved<T>) {
        let (b, h) = (self.batch, hidden);
        let rows = gx.len() / (4 * h);
        let steps = rows / b;
        // Wᵀ [H, 4H], so that a step is h_{t−1} [B, H] · Wᵀ.
        let mut w_t = vec![T::zero(); 4 * h * h];
        for r in 0..4 * h {
            for c in 0..h {
                w_t[c * 4 * h + r] = w[r * h + c];
            }
        }
        let mut gates = gx.to_vec();
        let mut cells = vec![T::zero(); rows * h];
        let mut cell_tanhs = vec![T::zero(); rows * h];
        let mut out = vec![T::zero(); rows * h];
        for t in 0..steps {
            let (done, rest) = out.split_at_mut(t * b * h);
            let z = &mut gates[t * b * 4 * h..(t + 1) * b * 4 * h];
            if t > 0 {
                matmul(
                    z,
                    &done[(t - 1) * b * h..],
                    &w_t,
                    (b, h, 4 * h),
                    false,
                    true,
                );
            }
            let h_t = &mut rest[..b * h];
            for row in 0..b {
                let zr = &mut z[row * 4 * h..(row + 1) * 4 * h];
                for j in 0..h {
                    let i = zr[j].sigmoid();
                    let f = zr[h + j].sigmoid();
                    let g = zr[2 * h + j].tanh();
                    let o = zr[3 * h + j].sigmoid();
                    let previous = if t > 0 {
                        cells[((t - 1) * b + row) * h + j]
                    } else {
                        T::zero()
                    };
                    let c = f * previous + i * g;
                    let tc = c.tanh();
                    cells[(t * b + row) * h + j] = c;
                    cell_tanhs[(t * b + row) * h + j] = tc;
                    h_t[row * h + j] = o * tc;
                    zr[j] = i;
                    zr[h + j] = f;
                    zr[2 * h + j] = g;
                    zr[3 * h + j] = o;
                }
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

    /// The gradients of `Gx` and `W_hh` from the outputs' `d_out`.
    fn backward<T: Real>(
        &self,
        saved: &Saved<T>,
        out: &[T],
        d_out: &[T],
        w: &[T],
        hidden: usize,
    ) -> (Vec<T>, Vec<T>) {
        let (b, h) = (self.batch, hidden);
        let rows = out.len() / h;
        let steps = rows / b;
        let one = T::one();
        let mut d_gates = vec![T::zero(); rows * 4 * h];
        let mut dh_next = vec![T::zero(); b * h];
        let mut dc_next = vec![T::zero(); b * h];
        for t in (0..steps).rev() {
            for row in 0..b {
                let r = t * b + row;
                let gate = &saved.gates[r * 4 * h..(r + 1) * 4 * h];
                let dz = &mut d_gates[r * 4 * h..(r + 1) * 4 * h];
                for j in 0..h {
                    let (i, f, g, o) = (gate[j], gate[h + j], gate[2 * h + j], gate[3 * h + j]);
                    let previous = if t > 0 {
                        saved.cells[(r - b) * h + j]
                    } else {
                        T::zero()
                    };
                    let tc = saved.cell_tanhs[r * h + j];
                    let dh = d_out[r * h + j] + dh_next[row * h + j];
                    let dc = dh * o * (one - tc * tc) + dc_next[row * h + j];
                    dc_next[row * h + j] = dc * f;
                    dz[j] = dc * g * i * (one - i);
                    dz[h + j] = dc * previous * f * (one - f);
                    dz[2 * h + j] = dc * i * (one - g * g);
                    dz[3 * h + j] = dh * tc * o * (one - o);
                }
            }
            // dh_{t−1} = dZ_t [B, 4H] · W_hh [4H, H].
            if t > 0 {
                let dz = &d_gates[t * b * 4 * h..(t + 1) * b * 4 * h];
                matmul(&mut dh_next, dz, w, (b, 4 * h, h), false, false);
            }
        }
        // dW_hh = Σ_t dZ_tᵀ · h_{t−1}: one product over the rows of steps
        // 1.. and the outputs of steps ..T−1.
        let mut d_w = vec![T::zero(); 4 * h * h];
        if steps > 1 {
            let later = &d_gates[b * 4 * h..];
            let earlier = &out[..(steps - 1) * b * h];
            matmul(
                &mut d_w,
                later,
                earlier,
                (4 * h, (steps - 1) * b, h),
                true,
                false,
            );
        }
        (d_gates, d_w)
    }
}

impl LstmRecurrence {
    /// [`LstmRecurrence::backward`] on tensors: the gradients of `Gx` and
    /// `W_hh`.
    fn backward_tensors<T: Real>(
        &self,
        kept: &Saved<T>,
        w: &Tensor,
        out: &Tensor,
        d_out: &Tensor,
    ) -> Result<(Tensor, Tensor)> {
        let (rows, hidden) = out.dims2()?;
        let flat = |t: &Tensor| t.contiguous()?.flatten_all()?.to_vec1::<T>();
        let (d_gx, d_w) = self.backward(kept, &flat(out)?, &flat(d_out)?, &flat(w)?, hidden);
        let device = out.device();
        Ok((
            Tensor::from_vec(d_gx, (rows, 4 * hidden), device)?,
            Tensor::from_vec(d_w, (4 * hidden, hidden), device)?,
        ))
    }
}

/// The contiguous data of a storage.
fn data<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [T]> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&storage.as_slice::<T>()?[start..end]),
        None => bail!("the fused LSTM wants contiguous inputs"),
    }
}

impl CustomOp2 for LstmRecurrence {
    fn name(&self) -> &'static str {
        "lstm-recurrence"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, four_h) = l1.shape().dims2()?;
        let (w_rows, hidden) = l2.shape().dims2()?;
        if four_h != 4 * hidden || w_rows != four_h || rows % self.batch != 0 {
            bail!(
                "lstm-recurrence: Gx {:?} and W_hh {:?} do not fit",
                l1.shape(),
                l2.shape()
            );
        }
        let mut saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let storage = match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => {
                let (out, kept) = self.forward::<f32>(data(s1, l1)?, data(s2, l2)?, hidden);
                *saved = Some(SavedAny::F32(kept));
                CpuStorage::F32(out)
            }
            (CpuStorage::F64(_), CpuStorage::F64(_)) => {
                let (out, kept) = self.forward::<f64>(data(s1, l1)?, data(s2, l2)?, hidden);
                *saved = Some(SavedAny::F64(kept));
                CpuStorage::F64(out)
            }
            _ => bail!("lstm-recurrence: f32 or f64 inputs of one dtype"),
        };
        Ok((storage, Shape::from((rows, hidden))))
    }

    fn bwd(
        &self,
        _gx: &Tensor,
        w: &Tensor,
        out: &Tensor,
        d_out: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let saved = self.saved.lock().unwrap_or_else(PoisonError::into_inner);
        let (d_gx, d_w) = match (saved.as_ref(), out.dtype()) {
            (Some(SavedAny::F32(kept)), DType::F32) => {
                self.backward_tensors(kept, w, out, d_out)?
            }
            (Some(SavedAny::F64(kept)), DType::F64) => {
                self.backward_tensors(kept, w, out, d_out)?
            }
            _ => bail!("lstm-recurrence: backward without its forward"),
        };
        Ok((Some(d_gx), Some(d_w)))
    }
}
