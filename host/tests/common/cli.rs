//! `pianola` run as the real binary, for the tests of its commands.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `pianola` with `args` in `dir`, with no corpus named by the environment.
pub fn pianola(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pianola"))
        .args(args)
        .current_dir(dir)
        .env_remove("PIANOLA_CORPUS")
        .output()
        .unwrap()
}

/// Checks that a command succeeded, showing its standard error if not.
pub fn ok(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
