//! Times the recurrent matrix products of one training step at several
//! batch sizes, in both operand orders (a development aid).

use std::time::Instant;

use pianola_trainer::linalg::{Layout, matmul};

fn main() {
    let (h, g) = (512usize, 2048usize);
    let w: Vec<f32> = (0..g * h).map(|i| (i % 7) as f32 * 0.01).collect();
    for b in [16usize, 32, 64] {
        let x: Vec<f32> = (0..b * h).map(|i| (i % 5) as f32 * 0.01).collect();
        let mut out = vec![0.0f32; b * g];
        let reps = 200;
        let t = Instant::now();
        for _ in 0..reps {
            // gates [b, 4H] += h [b, H] · W_hh^T
            matmul(
                &mut out,
                &x,
                Layout::Plain,
                &w,
                Layout::Transposed,
                (b, g, h),
                true,
                1,
            );
        }
        let a = t.elapsed().as_secs_f64() / reps as f64;
        let mut out_t = vec![0.0f32; g * b];
        let t = Instant::now();
        for _ in 0..reps {
            // gates^T [4H, b] += W_hh [4H, H] · h^T
            matmul(
                &mut out_t,
                &w,
                Layout::Plain,
                &x,
                Layout::Transposed,
                (g, b, h),
                true,
                1,
            );
        }
        let c = t.elapsed().as_secs_f64() / reps as f64;
        let dg: Vec<f32> = (0..b * g).map(|i| (i % 3) as f32 * 0.01).collect();
        let mut dh = vec![0.0f32; b * h];
        let t = Instant::now();
        for _ in 0..reps {
            // dh [b, H] = dG [b, 4H] · W_hh
            matmul(
                &mut dh,
                &dg,
                Layout::Plain,
                &w,
                Layout::Plain,
                (b, h, g),
                false,
                1,
            );
        }
        let d = t.elapsed().as_secs_f64() / reps as f64;
        let mut dh_t = vec![0.0f32; h * b];
        let t = Instant::now();
        for _ in 0..reps {
            // dhᵀ [H, b] = W_hhᵀ · dGᵀ
            matmul(
                &mut dh_t,
                &w,
                Layout::Transposed,
                &dg,
                Layout::Transposed,
                (h, b, g),
                false,
                1,
            );
        }
        let e = t.elapsed().as_secs_f64() / reps as f64;
        let flops = 2.0 * (b * g * h) as f64;
        println!(
            "          backward: dG·W {:.3} ms   Wᵀ·dGᵀ {:.3} ms",
            d * 1e3,
            e * 1e3
        );
        println!(
            "batch {b:>3}: x·Wᵀ {:.3} ms ({:.0} GFLOP/s)   W·xᵀ {:.3} ms ({:.0} GFLOP/s)",
            a * 1e3,
            flops / a / 1e9,
            c * 1e3,
            flops / c / 1e9
        );
    }
}
