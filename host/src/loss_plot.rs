//! `loss.png`: the training and validation loss curves (plotters).

use std::path::Path;

use anyhow::Context;
use pianola_core::model::Head;
use pianola_trainer::train::EpochRecord;
use plotters::prelude::*;

const TRAIN: RGBColor = RGBColor(150, 150, 160);
const VALIDATION: RGBColor = RGBColor(30, 110, 220);
const BEST: RGBColor = RGBColor(220, 60, 40);
const NOTES: RGBColor = RGBColor(40, 160, 90);

/// Draws the training loss (grey) and validation loss (blue) against
/// epochs, the event network's notes alone (green), the kept checkpoint
/// (the best notes) in red, titled and with labelled
/// axes and a legend; the numbers are in `loss.csv`.
pub fn draw(history: &[EpochRecord], path: &Path) -> anyhow::Result<()> {
    crate::chart_font::register();
    let family = crate::chart_font::FAMILY;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let last_epoch = history.last().map_or(1.0, |r| r.epoch).max(1e-3);
        let losses = history
            .iter()
            .flat_map(|r| {
                [
                    r.train_loss,
                    r.validation.loss(),
                    r.validation.head_loss(Head::What),
                ]
            })
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
            .caption("Training: cross-entropy per event", (family, 22))
            .margin(20)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(0.0..last_epoch, low..high)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("cross-entropy (nats)")
            .label_style((family, 14))
            .axis_desc_style((family, 16))
            .light_line_style(RGBColor(240, 240, 244))
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|r| (r.epoch, r.train_loss)),
                TRAIN.stroke_width(2),
            ))?
            .label("training")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], TRAIN.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|r| (r.epoch, r.validation.loss())),
                VALIDATION.stroke_width(2),
            ))?
            .label("held-out songs")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], VALIDATION.stroke_width(2)));
        // The event network's notes alone, when it has other heads.
        let notes = |r: &EpochRecord| r.validation.head_loss(Head::What);
        if history
            .iter()
            .any(|r| (notes(r) - r.validation.loss()).abs() > 1e-9)
        {
            chart
                .draw_series(LineSeries::new(
                    history.iter().map(|r| (r.epoch, notes(r))),
                    NOTES.stroke_width(2),
                ))?
                .label("held-out songs: notes (what)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], NOTES.stroke_width(2)));
        }
        // The kept checkpoint: the best notes.
        if let Some(best) = history.iter().min_by(|a, b| notes(a).total_cmp(&notes(b))) {
            chart
                .draw_series([Circle::new((best.epoch, notes(best)), 5, BEST.filled())])?
                .label(format!(
                    "kept: notes {:.3} at epoch {:.1}",
                    notes(best),
                    best.epoch
                ))
                .legend(|(x, y)| Circle::new((x + 10, y), 5, BEST.filled()));
        }
        chart
            .configure_series_labels()
            .label_font((family, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 205))
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("drawing {}", path.display()))
}
