//! A piano-roll picture of a primer and its continuation (plotters): time
//! in beats across with bar lines, keys up the side with the Cs named,
//! each note a bar as long as it sounds, darker the louder it is.

use std::path::Path;

use anyhow::Context;
use pianola_core::event::{Event, GRID_PER_BEAT};
use plotters::prelude::*;

use crate::chart_font;

const PIXELS_PER_BEAT: f64 = 16.0;
const KEY_HEIGHT: u32 = 6;
const BEATS_PER_BAR: u32 = 4;
const PRIMER: (u8, u8, u8) = (110, 110, 120);
const CONTINUATION: (u8, u8, u8) = (30, 110, 220);

/// A key's name with its octave (middle C is C4).
fn key_name(key: u8) -> String {
    const NAMES: [&str; 12] = [
        "C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B",
    ];
    format!(
        "{}{}",
        NAMES[usize::from(key % 12)],
        i16::from(key / 12) - 1
    )
}

/// Draws `primer` (grey) and `continuation` (blue) at their onsets and
/// lengths to a PNG file, titled `title`.
pub fn draw(
    primer: &[Event],
    continuation: &[Event],
    title: &str,
    path: &Path,
) -> anyhow::Result<()> {
    chart_font::register();
    // (onset in twelfths, event, is primer)
    let mut onset = 0u64;
    let mut notes = Vec::new();
    for (i, event) in primer.iter().chain(continuation).enumerate() {
        if i > 0 {
            onset += u64::from(event.when);
        }
        notes.push((onset, *event, i < primer.len()));
    }
    let grid = f64::from(GRID_PER_BEAT);
    let end_beats = notes
        .iter()
        .map(|(at, e, _)| (*at as f64 + f64::from(e.hold.max(1))) / grid)
        .fold(1.0, f64::max)
        .ceil();
    let (low, high) = notes
        .iter()
        .flat_map(|(_, e, _)| e.pitches().iter().collect::<Vec<_>>())
        .fold((127u8, 0u8), |(lo, hi), p| (lo.min(p), hi.max(p)));
    let (low, high) = if low > high {
        (60, 72)
    } else {
        (low.saturating_sub(2), (high + 2).min(127))
    };
    // Wide enough for the title too (about half the font size a character).
    let width =
        ((end_beats * PIXELS_PER_BEAT) as u32 + 110).max(title.chars().count() as u32 * 10 + 40);
    let height = u32::from(high - low + 1) * KEY_HEIGHT + 110;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (chart_font::FAMILY, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end_beats, f64::from(low)..f64::from(high) + 1.0)?;
        let bars = (end_beats as u32).div_ceil(BEATS_PER_BAR);
        // One label per bar (every few bars in a long piece), at its start.
        let every = bars.div_ceil(40).max(1);
        let bar_of = |beat: f64| beat / f64::from(BEATS_PER_BAR);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(bars as usize + 1)
            .x_label_formatter(&|beat| {
                let bar = bar_of(*beat);
                if (bar - bar.round()).abs() < 1e-9 && (bar.round() as u32).is_multiple_of(every) {
                    format!("{}", bar.round() as u32 + 1)
                } else {
                    String::new()
                }
            })
            .x_desc(format!("bar ({BEATS_PER_BAR} beats)"))
            .y_labels(usize::from(high - low) + 1)
            .y_label_formatter(&|key| {
                let key = key.floor() as u8;
                if key.is_multiple_of(12) {
                    key_name(key)
                } else {
                    String::new()
                }
            })
            .y_desc("key")
            .label_style((chart_font::FAMILY, 14))
            .axis_desc_style((chart_font::FAMILY, 15))
            .draw()?;
        // Black keys shaded, beat lines light, bar lines darker.
        for key in low..=high {
            if matches!(key % 12, 1 | 3 | 6 | 8 | 10) {
                let y = f64::from(key);
                chart.draw_series([Rectangle::new(
                    [(0.0, y), (end_beats, y + 1.0)],
                    RGBColor(243, 243, 247).filled(),
                )])?;
            }
        }
        for beat in 0..=end_beats as u32 {
            let shade = if beat.is_multiple_of(BEATS_PER_BAR) {
                170
            } else {
                228
            };
            let x = f64::from(beat);
            chart.draw_series(LineSeries::new(
                [(x, f64::from(low)), (x, f64::from(high) + 1.0)],
                RGBColor(shade, shade, shade + 8),
            ))?;
        }
        for (at, event, is_primer) in &notes {
            let (r, g, b) = if *is_primer { PRIMER } else { CONTINUATION };
            // Softer notes are paler: mix towards white by velocity.
            let strength = 0.35 + 0.65 * f64::from(event.velocity) / 127.0;
            let mix = |c: u8| (255.0 - (255.0 - f64::from(c)) * strength) as u8;
            let color = RGBColor(mix(r), mix(g), mix(b));
            let start = *at as f64 / grid;
            let end = start + f64::from(event.hold.max(1)) / grid;
            for key in event.pitches().iter() {
                let y = f64::from(key);
                chart.draw_series([Rectangle::new(
                    [(start, y + 0.1), (end - 0.02, y + 0.9)],
                    color.filled(),
                )])?;
            }
        }
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("drawing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_with_middle_c_as_c4() {
        assert_eq!(key_name(60), "C4");
        assert_eq!(key_name(61), "C#4");
        assert_eq!(key_name(21), "A0");
        assert_eq!(key_name(0), "C-1");
    }
}
