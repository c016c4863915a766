//! The plugin through the CLAP host on the release bundle while the
//! performer plays (continue mode, 120 BPM, sixteenths), 512-sample blocks
//! at 48 kHz:
//!
//! - `process()`: the median, p99 and worst call and their share of the
//!   block's real time, with the editor closed and then open (blocks paced
//!   at 4× real time so the worker keeps up as it would live);
//! - the editor (Xvfb started here; the plugin draws on the CPU): the time from
//!   the host's `create`/`set_parent`/`show` to the first drawn frame, and
//!   the CPU it takes while notes play in real time (the plugin's process
//!   and the X server, editor open against closed).
//!
//! `cargo bench -p pianola-tests --bench plugin_process`
//!
//! Criterion is not used here: it would run blocks back to back, far faster
//! than any host, and measure a performer whose worker cannot keep up.

use std::process::Command;
use std::time::{Duration, Instant};

use pianola_tests::clap_host::{Input, PluginUnderTest, onsets, release_bundle};
use pianola_tests::x11::{ParentWindow, Xvfb};

const FRAMES: u32 = 512;
const RATE: f64 = 48_000.0;
const BLOCKS: usize = 4000;
/// Times the editor is opened for its opening time.
const OPENINGS: usize = 10;
/// Real-time seconds of playing for each CPU figure.
const CPU_SECONDS: f64 = 10.0;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("plugin_process: benchmark");
        return;
    }
    let xvfb = Xvfb::start();
    // SAFETY: set before the plugin is loaded, while this thread is the
    // only one.
    unsafe { std::env::set_var("DISPLAY", &xvfb.display) };
    let bundle = release_bundle();

    let mut plugin = PluginUnderTest::load(&bundle);
    plugin.set_speed(4.0);
    plugin.activate(RATE, FRAMES);
    start_playing(&mut plugin);
    report_process("editor closed", &mut plugin);

    let parent = ParentWindow::new(&xvfb.display, 900, 600);
    let mut openings: Vec<f64> = (0..OPENINGS)
        .map(|_| {
            let opened = Instant::now();
            plugin.open_gui(parent.id);
            wait_for(&parent, |colours| colours > 50);
            let ms = opened.elapsed().as_secs_f64() * 1e3;
            plugin.close_gui();
            wait_for(&parent, |colours| colours == 1);
            ms
        })
        .collect();
    openings.sort_by(f64::total_cmp);
    println!(
        "editor opening to its first frame, {OPENINGS} times: median {:.0} ms, worst {:.0} ms",
        openings[OPENINGS / 2],
        openings[OPENINGS - 1]
    );

    plugin.open_gui(parent.id);
    wait_for(&parent, |colours| colours > 50);
    report_process("editor open", &mut plugin);

    plugin.set_speed(1.0);
    let server = xvfb.server_pid();
    let open = cpu_while_playing(&mut plugin, server);
    plugin.close_gui();
    wait_for(&parent, |colours| colours == 1);
    let closed = cpu_while_playing(&mut plugin, server);
    let share = |(plugin, server): (f64, Option<f64>)| {
        format!(
            "plugin process {:.1} %, X server {}",
            100.0 * plugin,
            server.map_or("unknown".into(), |s| format!("{:.1} %", 100.0 * s))
        )
    };
    println!(
        "CPU while playing in real time ({CPU_SECONDS} s each, share of one core): \
         editor open: {}; editor closed: {}",
        share(open),
        share(closed)
    );
    plugin.deactivate();
}

/// Sixteenths, then a phrase the performer continues from.
fn start_playing(plugin: &mut PluginUnderTest) {
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
}

/// Times [`BLOCKS`] calls of `process()` and prints them.
fn report_process(label: &str, plugin: &mut PluginUnderTest) {
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
        "plugin process, {label}, {FRAMES} frames at {RATE} Hz, {BLOCKS} blocks ({played} onsets): \
         median {median:.2} µs ({:.4} % of the block), p99 {p99:.2} µs ({:.4} %), worst {worst:.2} µs",
        100.0 * median / block_us,
        100.0 * p99 / block_us,
    );
}

/// Takes screenshots until the number of colours satisfies `done`.
fn wait_for(parent: &ParentWindow, done: impl Fn(usize) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(parent.screenshot().colours()) {
        assert!(Instant::now() < deadline, "the window never changed");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Plays [`CPU_SECONDS`] in real time; returns the CPU time of this process
/// and of `server` as shares of the wall time.
fn cpu_while_playing(plugin: &mut PluginUnderTest, server: Option<u32>) -> (f64, Option<f64>) {
    let server = server.map(|pid| pid.to_string());
    let before = (cpu_ticks("self"), server.as_deref().and_then(cpu_ticks));
    let wall = Instant::now();
    let until = plugin.clock + (CPU_SECONDS * RATE) as u64;
    plugin.run_until(until, || FRAMES, &[]);
    let wall = wall.elapsed().as_secs_f64();
    let after = (cpu_ticks("self"), server.as_deref().and_then(cpu_ticks));
    let share = |ticks: f64| ticks / clock_ticks_per_second() / wall;
    let own =
        share(after.0.expect("this process' CPU time") - before.0.expect("this process' CPU time"));
    let other = after.1.zip(before.1).map(|(a, b)| share(a - b));
    (own, other)
}

/// User and system CPU time of a process in clock ticks (`/proc/PID/stat`).
fn cpu_ticks(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th of the line.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?)
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`; 100 if unknown).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}
