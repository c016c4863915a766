//! Input-to-output latency of `pianola live` through a real JACK server
//! (dummy driver, 48 kHz, 256-frame periods), echo mode at the finest
//! division (1/16 triplets at 120 BPM: a step every 4,000 frames), over
//! 200 notes. Prints, in milliseconds, median and worst of:
//! - thru: a played note until it comes back out (`--thru`), the pipeline;
//! - answer: a played note until Pianola's answer, which waits for the
//!   next grid step after the chord tolerance (1/32 beat) by design;
//! - answer after its step: how late the answer is against the grid step
//!   it was due on (0 when the prediction was ready in time);
//!
//! and the late steps Pianola counted itself (steps that found no
//! prediction ready and played nothing), from its summary line at exit.
//!
//! Then *Feel* = Model in each mode, 200 notes each (*respond*: phrases of
//! four notes and three beats of silence): the late events Pianola counted
//! (a planned event played after its time because its prediction was not
//! ready).
//!
//! `cargo bench -p pianola-host --bench live_latency`

#[path = "../tests/common/mod.rs"]
mod common;

use common::jack::{RATE, TestClient, ctrl_c, live_session, note_schedule, start_live};

const NOTES: u64 = 200;
const STEP: u64 = 4_000;
const TOLERANCE: u64 = 375;

fn ms(frames: u64) -> f64 {
    frames as f64 * 1000.0 / f64::from(RATE)
}

fn summary(name: &str, mut frames: Vec<u64>) {
    frames.sort_unstable();
    println!(
        "live latency, {name}: median {:.2} ms, worst {:.2} ms over {} notes",
        ms(frames[frames.len() / 2]),
        ms(frames[frames.len() - 1]),
        frames.len()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("live_latency: benchmark");
        return;
    }
    let (_server, client, child) = live_session(
        "latency",
        "--bpm 120 --mode echo --feel grid --division 1/16t --thru --seed 5",
    );
    // The player is on channel 2, Pianola answers on channel 1; notes 0.55
    // beats apart, so they fall on every phase of the grid.
    let schedule = player(|i| i * 13_200 + (i * 317) % 4_000);
    client.play_through(schedule, 24_000);
    let stderr = ctrl_c(child);

    let heard = client.heard();
    let played: Vec<u64> = client
        .sent()
        .iter()
        .filter(|h| h.bytes[0] == 0x91)
        .map(|h| h.frame)
        .collect();
    let ons = |channel: u8| -> Vec<u64> {
        heard
            .iter()
            .filter(|h| h.bytes.len() == 3 && h.bytes[0] == 0x90 | channel && h.bytes[2] > 0)
            .map(|h| h.frame)
            .collect()
    };
    let (thru, answers) = (ons(1), ons(0));
    let first_after = |list: &[u64], t: u64| list.iter().copied().find(|&f| f >= t);
    let thru_latency: Vec<u64> = played
        .iter()
        .filter_map(|&t| first_after(&thru, t).map(|f| f - t))
        .collect();
    let answer_latency: Vec<u64> = played
        .iter()
        .filter_map(|&t| first_after(&answers, t).map(|f| f - t))
        .collect();
    // The grid's phase as the answers show it (the median remainder); the
    // answers reach the test client `pipeline` frames (the thru latency)
    // after Pianola played them, so a step is due `pipeline` later here.
    let mut phases: Vec<u64> = answers.iter().map(|f| f % STEP).collect();
    phases.sort_unstable();
    let phase = phases[phases.len() / 2];
    let mut pipelines = thru_latency.clone();
    pipelines.sort_unstable();
    let pipeline = pipelines[pipelines.len() / 2];
    let after_step: Vec<u64> = played
        .iter()
        .filter_map(|&t| {
            let ready = t + TOLERANCE + pipeline;
            let due = ready + (phase + STEP - ready % STEP) % STEP;
            first_after(&answers, t).map(|f| f.saturating_sub(due))
        })
        .collect();
    summary("thru", thru_latency);
    summary("answer (echo, 1/16t at 120 BPM)", answer_latency);
    let late = after_step.iter().filter(|&&f| f > 0).count();
    summary("answer after its grid step", after_step);
    println!("live latency: {late} of {NOTES} answers came after the step they were due on");
    let counted = late_count(&stderr);
    println!("live latency: Pianola counted {counted} over {NOTES} notes");

    for mode in ["continue", "respond", "echo"] {
        let counted = model_feel_late_events(mode);
        println!("live, Feel = Model, {mode}: Pianola counted {counted} over {NOTES} notes");
    }
}

/// Plays [`NOTES`] notes to `pianola live --feel model --mode MODE`; returns
/// the late count of its summary line.
fn model_feel_late_events(mode: &str) -> String {
    let client = TestClient::start();
    let child = start_live(
        &client,
        &format!("--bpm 120 --mode {mode} --feel model --seed 5"),
    );
    let schedule = player(|i| {
        if mode == "respond" {
            // Four notes a half beat apart, then three beats of silence.
            (i / 4) * 108_000 + (i % 4) * 12_000
        } else {
            i * 13_200 + (i * 317) % 4_000
        }
    });
    client.play_through(schedule, 96_000);
    late_count(&ctrl_c(child))
}

/// The player's [`NOTES`] notes on channel 2, the `i`th at frame `at(i)`,
/// each held 3,000 frames; in time order.
fn player(at: impl Fn(u64) -> u64) -> Vec<(u64, Vec<u8>)> {
    note_schedule((0..NOTES).map(|i| (at(i), 55 + (i % 12) as u8)), 3_000, 1)
}

/// The late count of `pianola live`'s summary line at exit.
fn late_count(stderr: &str) -> String {
    stderr
        .lines()
        .filter_map(|line| line.strip_prefix("pianola live: "))
        .find_map(|rest| rest.split(", ").find(|part| part.ends_with("late steps")))
        .unwrap_or("no summary line")
        .to_string()
}
