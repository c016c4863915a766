//! Matrix products for training, on the `gemm` crate.

use gemm::{Parallelism, gemm};

/// How a matrix operand is read from its row-major storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// As stored.
    Plain,
    /// Transposed: a stored [cols × rows] matrix read as [rows × cols].
    Transposed,
}

/// `c (+)= a · b` with `a` [m × k], `b` [k × n] and `c` [m × n], all
/// row-major storage read through `Layout`. With `accumulate` the product is
/// added to `c`, otherwise it replaces it.
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    c: &mut [f32],
    a: &[f32],
    a_layout: Layout,
    b: &[f32],
    b_layout: Layout,
    (m, n, k): (usize, usize, usize),
    accumulate: bool,
    threads: usize,
) {
    assert!(c.len() >= m * n && a.len() >= m * k && b.len() >= k * n);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // (row stride, column stride) of each operand.
    let (a_rs, a_cs) = match a_layout {
        Layout::Plain => (k as isize, 1),
        Layout::Transposed => (1, m as isize),
    };
    let (b_rs, b_cs) = match b_layout {
        Layout::Plain => (n as isize, 1),
        Layout::Transposed => (1, k as isize),
    };
    let parallelism = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the lengths were checked above for the strides computed from
    // (m, n, k); gemm reads a and b and writes c only within them.
    unsafe {
        gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        let mut t = vec![0.0; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                t[c * rows + r] = x[r * cols + c];
            }
        }
        t
    }

    #[test]
    fn every_layout_matches_the_naive_product() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| 2.0 - i as f32 * 0.25).collect();
        let expected = naive(&a, &b, m, n, k);
        let at = transpose(&a, m, k);
        let bt = transpose(&b, k, n);
        for (a_op, a_layout) in [(&a, Layout::Plain), (&at, Layout::Transposed)] {
            for (b_op, b_layout) in [(&b, Layout::Plain), (&bt, Layout::Transposed)] {
                let mut c = vec![1.0; m * n];
                matmul(&mut c, a_op, a_layout, b_op, b_layout, (m, n, k), false, 1);
                assert_eq!(c, expected);
                matmul(&mut c, a_op, a_layout, b_op, b_layout, (m, n, k), true, 2);
                let doubled: Vec<f32> = expected.iter().map(|v| 2.0 * v).collect();
                assert_eq!(c, doubled);
            }
        }
    }
}
