//! Pianola as a CLAP/VST3 plugin (nice-plug).
//!
//! The plugin is built in the plugin issue, on top of `pianola_core`'s
//! performer; until then this crate only anchors the workspace member.
