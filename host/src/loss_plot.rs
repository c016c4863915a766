//! `loss.png`: the training and validation loss curves (plotters).

use std::path::Path;

use anyhow::Context;
use pianola_trainer::train::EpochRecord;
use plotters::prelude::*;

const TRAIN: RGBColor = RGBColor(150, 150, 160);
const VALIDATION: RGBColor = RGBColor(30, 110, 220);
const BEST: RGBColor = RGBColor(220, 60, 40);

/// Draws the training loss (grey) and validation loss (blue) against
/// epochs, with the best validation point in red, on a light grid of one
/// nat per line. (No text: the bitmap backend here has no fonts; the
/// numbers are in `loss.csv`.)
pub fn draw(history: &[EpochRecord], path: &Path) -> anyhow::Result<()> {
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let last_epoch = history.last().map_or(1.0, |r| r.epoch).max(1e-3);
        let losses = history
            .iter()
            .flat_map(|r| [r.train_loss, r.validation.loss()])
            .filter(|l| l.is_finite());
        let (low, high) = losses.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), l| {
            (lo.min(l), hi.max(l))
        });
        let (low, high) = if low.is_finite() {
            (low.floor(), high.ceil().max(low.floor() + 1.0))
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(&root)
            .margin(20)
            .build_cartesian_2d(0.0..last_epoch, low..high)?;
        for nat in (low as i64)..=(high as i64) {
            let y = nat as f64;
            chart.draw_series(LineSeries::new(
                [(0.0, y), (last_epoch, y)],
                RGBColor(230, 230, 235),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            history.iter().map(|r| (r.epoch, r.train_loss)),
            TRAIN.stroke_width(2),
        ))?;
        chart.draw_series(LineSeries::new(
            history.iter().map(|r| (r.epoch, r.validation.loss())),
            VALIDATION.stroke_width(2),
        ))?;
        if let Some(best) = history
            .iter()
            .min_by(|a, b| a.validation.loss().total_cmp(&b.validation.loss()))
        {
            chart.draw_series([Circle::new(
                (best.epoch, best.validation.loss()),
                5,
                BEST.filled(),
            )])?;
        }
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("drawing {}", path.display()))
}
