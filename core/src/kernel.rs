//! The inner loop of inference: a matrix of `f16` weights times one or two
//! `f32` vectors, reading the matrix once in one sequential stream.
//!
//! One prediction step is bound by how fast the weights can be read, so they
//! are stored at half size and converted to `f32` in registers (AVX-512 or
//! AVX2 + F16C, chosen at run time; a portable loop otherwise). Two vectors
//! (the predictor's two staggered contexts) share one pass over the matrix.

use half::f16;

/// `y = W x` for `lanes` (1 or 2) vectors: `w` is row-major with `cols`
/// columns, `x` holds the lanes' inputs one after the other (`cols` each)
/// and `y` their outputs (`rows` each).
pub fn matvec(w: &[f16], cols: usize, x: &[f32], lanes: usize, y: &mut [f32]) {
    assert!(cols > 0, "a matrix needs columns");
    let rows = w.len() / cols;
    assert!(lanes == 1 || lanes == 2, "1 or 2 lanes");
    assert_eq!(w.len(), rows * cols);
    assert!(x.len() >= lanes * cols && y.len() >= lanes * rows);
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F; the slices were checked above.
            unsafe {
                match lanes {
                    1 => x86::matvec_avx512::<1>(w, cols, rows, x, y),
                    _ => x86::matvec_avx512::<2>(w, cols, rows, x, y),
                }
            };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
        {
            // SAFETY: the CPU has AVX2, FMA and F16C; the slices were checked.
            unsafe {
                match lanes {
                    1 => x86::matvec_avx2::<1>(w, cols, rows, x, y),
                    _ => x86::matvec_avx2::<2>(w, cols, rows, x, y),
                }
            };
            return;
        }
    }
    matvec_portable(w, cols, rows, x, lanes, y);
}

/// The reference loop, also used where no SIMD path applies.
pub fn matvec_portable(
    w: &[f16],
    cols: usize,
    rows: usize,
    x: &[f32],
    lanes: usize,
    y: &mut [f32],
) {
    for lane in 0..lanes {
        let x = &x[lane * cols..(lane + 1) * cols];
        for (r, out) in y[lane * rows..(lane + 1) * rows].iter_mut().enumerate() {
            let row = &w[r * cols..(r + 1) * cols];
            *out = row.iter().zip(x).map(|(w, x)| w.to_f32() * x).sum();
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // acc[lane][row] reads clearer than zipped iterators here
mod x86 {
    use std::arch::x86_64::*;

    use half::f16;

    /// One SIMD loop, written once for each instruction set: four rows at
    /// a time, `$width` columns per step, both lanes per weight load; the
    /// columns past the last whole step are added one at a time.
    macro_rules! matvec_simd {
        (
            $(#[$doc:meta])*
            $name:ident, $feature:literal, $width:literal, $vector:ty,
            zero: $zero:ident, load_x: $load_x:ident,
            load_w: $load_w:ident as $raw:ty, to_f32: $to_f32:ident,
            fma: $fma:ident, sum: $sum:ident
        ) => {
            $(#[$doc])*
            #[target_feature(enable = $feature)]
            pub unsafe fn $name<const L: usize>(
                w: &[f16],
                cols: usize,
                rows: usize,
                x: &[f32],
                y: &mut [f32],
            ) {
                let simd_cols = cols / $width * $width;
                let wp = w.as_ptr() as *const u16;
                let xp = x.as_ptr();
                let mut r = 0;
                while r < rows {
                    let block = (rows - r).min(4);
                    let mut acc: [[$vector; 4]; L] = [[$zero(); 4]; L];
                    let mut c = 0;
                    while c < simd_cols {
                        // SAFETY: c + $width <= cols and every row index < rows.
                        unsafe {
                            let xs: [$vector; L] =
                                std::array::from_fn(|lane| $load_x(xp.add(lane * cols + c)));
                            for k in 0..block {
                                let raw = $load_w(wp.add((r + k) * cols + c) as *const $raw);
                                let wv = $to_f32(raw);
                                for lane in 0..L {
                                    acc[lane][k] = $fma(wv, xs[lane], acc[lane][k]);
                                }
                            }
                        }
                        c += $width;
                    }
                    for k in 0..block {
                        for lane in 0..L {
                            let mut sum = $sum(acc[lane][k]);
                            for cc in simd_cols..cols {
                                sum += w[(r + k) * cols + cc].to_f32() * x[lane * cols + cc];
                            }
                            y[lane * rows + r + k] = sum;
                        }
                    }
                    r += block;
                }
            }
        };
    }

    matvec_simd!(
        /// AVX-512: 16 columns per step.
        matvec_avx512, "avx512f", 16, __m512,
        zero: _mm512_setzero_ps, load_x: _mm512_loadu_ps,
        load_w: _mm256_loadu_si256 as __m256i, to_f32: _mm512_cvtph_ps,
        fma: _mm512_fmadd_ps, sum: _mm512_reduce_add_ps
    );

    matvec_simd!(
        /// AVX2 with FMA and F16C: 8 columns per step.
        matvec_avx2, "avx2,fma,f16c", 8, __m256,
        zero: _mm256_setzero_ps, load_x: _mm256_loadu_ps,
        load_w: _mm_loadu_si128 as __m128i, to_f32: _mm256_cvtph_ps,
        fma: _mm256_fmadd_ps, sum: sum_avx
    );

    /// The sum of an AVX register's eight floats.
    #[target_feature(enable = "avx")]
    fn sum_avx(v: __m256) -> f32 {
        let pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let quad = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
        let one = _mm_add_ss(quad, _mm_shuffle_ps(quad, quad, 1));
        _mm_cvtss_f32(one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_paths_match_the_portable_loop() {
        for (rows, cols) in [(8, 64), (7, 33), (4, 576), (5, 1), (2049, 17)] {
            let w: Vec<f16> = (0..rows * cols)
                .map(|i| f16::from_f32(((i * 7919) % 97) as f32 / 97.0 - 0.5))
                .collect();
            let x: Vec<f32> = (0..2 * cols)
                .map(|i| ((i * 31) % 13) as f32 / 13.0 - 0.4)
                .collect();
            for lanes in [1, 2] {
                let mut expected = vec![0.0; 2 * rows];
                matvec_portable(&w, cols, rows, &x, lanes, &mut expected);
                let mut got = vec![0.0; 2 * rows];
                matvec(&w, cols, &x, lanes, &mut got);
                for (a, b) in got.iter().zip(&expected) {
                    assert!(
                        (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                        "{rows}x{cols}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
