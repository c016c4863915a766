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
