//! The `pianola` command's subcommands, one module each; `main.rs` only
//! parses the command line and dispatches.

pub mod chart_font;
pub mod generate;
pub mod live;
pub mod loss_plot;
pub mod model_info;
pub mod piano_roll;
pub mod primers;
pub mod render;
pub mod stats;
pub mod train;

/// Parses a `--texture` value: how far Pianola follows the player's
/// texture, within [`pianola_core::texture::AMOUNT`].
pub fn texture_amount(text: &str) -> Result<f32, String> {
    let ends = ("the model's own", "the player's");
    amount(text, pianola_core::texture::AMOUNT, "Texture", ends)
}

/// Parses a `--memory` value: how much the session memory leads, within
/// [`pianola_core::memory::AMOUNT`].
pub fn memory_amount(text: &str) -> Result<f32, String> {
    let ends = ("the network alone", "the memory leads wherever it is sure");
    amount(text, pianola_core::memory::AMOUNT, "Memory", ends)
}

/// Parses a value of setting `name` within `range`; the error says what
/// the range's two ends mean.
fn amount(
    text: &str,
    range: std::ops::RangeInclusive<f32>,
    name: &str,
    (low, high): (&str, &str),
) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a {name}: give a number from {} ({low}) to {} ({high})",
            range.start(),
            range.end()
        )),
    }
}
