//! A piano-roll picture of a primer and its continuation (plotters).

use std::path::Path;

use anyhow::Context;
use pianola_core::Token;
use pianola_core::token::SEED_CHORD_OCTAVE;
use plotters::prelude::*;

const STEP_WIDTH: u32 = 4;
const KEY_HEIGHT: u32 = 4;
const PRIMER: RGBColor = RGBColor(120, 120, 130);
const CONTINUATION: RGBColor = RGBColor(30, 110, 220);

/// Draws one column per token (primer grey, continuation blue) and one row
/// per MIDI key within the range played, to a PNG file.
pub fn draw(primer: &[Token], continuation: &[Token], path: &Path) -> anyhow::Result<()> {
    let steps = primer.len() + continuation.len();
    let pitches = |t: &Token| t.pitches(SEED_CHORD_OCTAVE);
    let all = primer
        .iter()
        .chain(continuation)
        .flat_map(|t| pitches(t).iter().collect::<Vec<_>>());
    let (low, high) = all.fold((127u8, 0u8), |(lo, hi), p| (lo.min(p), hi.max(p)));
    let (low, high) = if low > high {
        (60, 72)
    } else {
        (low.saturating_sub(2), (high + 2).min(127))
    };
    let width = (steps.max(1) as u32) * STEP_WIDTH;
    let height = u32::from(high - low + 1) * KEY_HEIGHT;
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error + '_>> {
        root.fill(&WHITE)?;
        for key in low..=high {
            if matches!(key % 12, 1 | 3 | 6 | 8 | 10) {
                let y = i32::from(high - key) * KEY_HEIGHT as i32;
                root.draw(&Rectangle::new(
                    [(0, y), (width as i32, y + KEY_HEIGHT as i32)],
                    RGBColor(240, 240, 244).filled(),
                ))?;
            }
        }
        for (step, token) in primer.iter().chain(continuation).enumerate() {
            let color = if step < primer.len() {
                PRIMER
            } else {
                CONTINUATION
            };
            let x = step as i32 * STEP_WIDTH as i32;
            for key in pitches(token).iter() {
                let y = i32::from(high - key) * KEY_HEIGHT as i32;
                root.draw(&Rectangle::new(
                    [
                        (x, y),
                        (x + STEP_WIDTH as i32 - 1, y + KEY_HEIGHT as i32 - 1),
                    ],
                    color.filled(),
                ))?;
            }
        }
        root.present()?;
        Ok(())
    };
    draw()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("drawing {}", path.display()))
}
