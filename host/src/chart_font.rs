//! The typeface of the PNG charts' titles and labels: Ubuntu Light from
//! the `epaint_default_fonts` crate (the one the plugin's window uses),
//! registered once with plotters, so a chart needs no fonts installed.

use std::sync::Once;

use plotters::style::FontStyle;

/// The family name charts ask for.
pub const FAMILY: &str = "sans-serif";

/// Registers the typeface with plotters (once per process).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled into the binary.
        let registered = plotters::style::register_font(
            FAMILY,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
        debug_assert!(registered.is_ok(), "the built-in typeface is valid");
    });
}
