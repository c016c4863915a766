//! The plugin's `process()` for 512-sample blocks at 48 kHz, measured
//! through the CLAP host on the release bundle while the performer plays
//! (continue mode, 120 BPM, sixteenths), blocks paced at 4× real time so
//! the worker keeps up as it would live. Prints the median, p99 and worst
//! call and their share of the block's real time.
//!
//! `cargo bench -p pianola-tests --bench plugin_process`
//!
//! Criterion is not used here: it would run blocks back to back, far faster
//! than any host, and measure a performer whose worker cannot keep up.

use std::process::Command;

use pianola_tests::clap_host::{Input, PluginUnderTest, onsets, workspace_root};

const FRAMES: u32 = 512;
const RATE: f64 = 48_000.0;
const BLOCKS: usize = 4000;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("plugin_process: benchmark");
        return;
    }
    let root = workspace_root();
    let status = Command::new(env!("CARGO"))
        .args(["xtask", "bundle", "pianola", "--release"])
        .current_dir(&root)
        .status()
        .expect("running cargo xtask bundle pianola --release");
    assert!(status.success());
    let dir = root.join("target/bench-bundle");
    std::fs::create_dir_all(&dir).expect("bench folder");
    let bundle = dir.join("pianola.clap");
    std::fs::copy(root.join("target/bundled/pianola.clap"), &bundle).expect("copying the bundle");

    let mut plugin = PluginUnderTest::load(&bundle);
    plugin.speed = 4.0;
    plugin.activate(RATE, FRAMES);
    let division = plugin.param_id("Division");
    plugin.process(
        FRAMES,
        &[(
            0,
            Input::Param {
                id: division,
                value: 3.0,
            },
        )],
    );
    let spb = plugin.samples_per_beat();
    let mut phrase = Vec::new();
    for (i, key) in [60u8, 64, 67, 72].into_iter().enumerate() {
        let at = plugin.clock + (i as f64 * 0.5 * spb) as u64;
        phrase.push((at, Input::NoteOn { key, velocity: 0.8 }));
        phrase.push((at + 4000, Input::NoteOff { key }));
    }
    phrase.sort_by_key(|(at, _)| *at);
    let until = plugin.clock + (4.0 * spb) as u64;
    plugin.run_until(until, || FRAMES, &phrase);

    let from = plugin.clock;
    let mut times: Vec<f64> = (0..BLOCKS)
        .map(|_| {
            plugin.process(FRAMES, &[]);
            plugin.last_process_time.as_secs_f64() * 1e6
        })
        .collect();
    let played = onsets(&plugin.sent)
        .into_iter()
        .filter(|&s| s >= from)
        .count();
    times.sort_by(f64::total_cmp);
    let block_us = f64::from(FRAMES) / RATE * 1e6;
    let median = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    let worst = times[times.len() - 1];
    println!(
        "plugin process, {FRAMES} frames at {RATE} Hz, {BLOCKS} blocks ({played} onsets): \
         median {median:.2} µs ({:.4} % of the block), p99 {p99:.2} µs ({:.4} %), worst {worst:.2} µs",
        100.0 * median / block_us,
        100.0 * p99 / block_us,
    );
}
