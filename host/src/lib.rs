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
    let range = pianola_core::texture::AMOUNT;
    match text.parse::<f32>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a Texture: give a number from {} (the model's own) to {} \
             (the player's)",
            range.start(),
            range.end()
        )),
    }
}

/// Parses a `--memory` value: how much the session memory leads, within
/// [`pianola_core::memory::AMOUNT`].
pub fn memory_amount(text: &str) -> Result<f32, String> {
    let range = pianola_core::memory::AMOUNT;
    match text.parse::<f32>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a Memory: give a number from {} (the network alone) to {} \
             (the memory leads wherever it is sure)",
            range.start(),
            range.end()
        )),
    }
}
