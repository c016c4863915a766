//! `cargo xtask …`: project tasks.
//!
//! `cargo xtask bundle pianola [--release]` builds the plugin and writes
//! `target/bundled/pianola.clap` and `target/bundled/pianola.vst3`
//! (nice-plug-xtask does the bundling; `pianola` is short for the
//! `pianola-plugin` package).

fn main() -> nice_plug_xtask::Result<()> {
    let args = std::env::args().skip(1).map(|arg| {
        if arg == "pianola" {
            "pianola-plugin".to_string()
        } else {
            arg
        }
    });
    nice_plug_xtask::main_with_args("cargo xtask", args)
}
