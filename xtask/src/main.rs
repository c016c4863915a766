//! `cargo xtask …`: project tasks. Bundling the plugin
//! (`cargo xtask bundle pianola --release`) arrives with the plugin.

fn main() {
    eprintln!("no xtask commands yet: `bundle` arrives with the plugin");
    std::process::exit(2);
}
