//! The live engine's block (what runs in JACK's process callback) never
//! allocates, with the own clock sending MIDI clock and with an external
//! clock followed, while the performer plays and the recorder listens.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use pianola_core::alloc_counter::{AllocCounter, allocations_in};
use pianola_core::perform::{Feel, NoteEvent, Performer, PerformerSettings};
use pianola_core::predictor::Network;
use pianola_core::voices::VoiceCheck;
use pianola_host::live::clock::{Clock, ClockSource};
use pianola_host::live::engine::{Engine, LiveStatus, Recorded, note_event};
use rtrb::RingBuffer;

#[global_allocator]
static ALLOCATOR: AllocCounter = AllocCounter;

const FRAMES: u32 = 256;

/// Runs `blocks` blocks with `input(block)` as each block's messages and
/// returns every message the engine sent, (absolute frame, bytes).
fn run(source: ClockSource, send_clock: bool, blocks: u64) -> (Vec<(u64, Vec<u8>)>, Vec<Recorded>) {
    let model = pianola_core::default_model::load().unwrap();
    let network = Arc::new(Network::new(&model).unwrap());
    let settings = PerformerSettings {
        feel: Feel::Grid,
        ..PerformerSettings::default()
    };
    let (performer, mut worker) = Performer::new(network, settings, 1);
    let status = Arc::new(LiveStatus::default());
    // The session asks for Start once its output is connected.
    status.start_wanted.store(true, Ordering::SeqCst);
    let (record_in, mut record_out) = RingBuffer::new(1 << 14);
    let mut engine = Engine::new(
        performer,
        Clock::new(source, 48_000.0),
        status.clone(),
        Some(record_in),
        send_clock,
    );
    let mut sent = Vec::new();
    let mut block_out: Vec<(u32, [u8; 3], usize)> = Vec::with_capacity(1024);
    let per_tick = pianola_core::tempo::samples_per_beat(48_000.0, 100.0) / 24.0;
    let mut next_tick = 10.0;
    for block in 0..blocks {
        let start = block * u64::from(FRAMES);
        let mut input: Vec<(u32, Vec<u8>)> = Vec::new();
        if block == 2 {
            input.push((0, vec![0xFA]));
        }
        if block % 40 == 5 && block < 400 {
            let key = 60 + (block / 40) as u8;
            input.push((17, vec![0x90, key, 100]));
            input.push((200, vec![0x80, key, 0]));
        }
        if matches!(source, ClockSource::Midi(_)) && block >= 2 {
            while next_tick < (start + u64::from(FRAMES)) as f64 {
                input.push(((next_tick as u64).saturating_sub(start) as u32, vec![0xF8]));
                next_tick += per_tick;
            }
        } else {
            next_tick = (start + u64::from(FRAMES)) as f64;
        }
        input.sort_by_key(|(offset, _)| *offset);
        if block == blocks - 20 {
            status.stop_requested.store(true, Ordering::SeqCst);
        }

        block_out.clear();
        let ((), allocations) = allocations_in(|| {
            engine.block(
                FRAMES,
                input.iter().map(|(o, b)| (*o, b.as_slice())),
                &mut |offset, bytes| {
                    let mut message = [0; 3];
                    message[..bytes.len()].copy_from_slice(bytes);
                    block_out.push((offset, message, bytes.len()));
                },
            )
        });
        assert_eq!(allocations, 0, "block {block} allocated");
        let mut last = 0;
        for &(offset, message, len) in &block_out {
            assert!(
                offset >= last && offset < FRAMES,
                "messages in time order inside the block"
            );
            last = offset;
            sent.push((start + u64::from(offset), message[..len].to_vec()));
        }
        worker.poll_all();
    }
    assert!(status.stopped.load(Ordering::SeqCst));
    let mut recorded = Vec::new();
    while let Ok(r) = record_out.pop() {
        recorded.push(r);
    }
    (sent, recorded)
}

fn note_ons(sent: &[(u64, Vec<u8>)]) -> usize {
    sent.iter()
        .filter(|(_, b)| b.len() == 3 && b[0] & 0xF0 == 0x90 && b[2] > 0)
        .count()
}

fn sounding(sent: &[(u64, Vec<u8>)]) -> usize {
    VoiceCheck::of(
        sent.iter()
            .filter_map(|(_, bytes)| match note_event(0, bytes)? {
                NoteEvent::On { channel, key, .. } => Some((channel, key, true)),
                NoteEvent::Off { channel, key, .. } => Some((channel, key, false)),
            }),
    )
    .sounding
    .len()
}

#[test]
fn the_own_clock_block_plays_sends_clock_and_never_allocates() {
    let (sent, recorded) = run(ClockSource::Own(120.0), true, 1200);
    assert!(note_ons(&sent) > 20, "it plays: {} notes", note_ons(&sent));
    assert_eq!(sounding(&sent), 0, "the stop request ended every note");
    assert_eq!(
        sent.first().map(|(_, b)| b.clone()),
        Some(vec![0xFA]),
        "clock starts"
    );
    assert_eq!(
        sent.iter().filter(|(_, b)| b[..] == [0xFA]).count(),
        1,
        "Start once, as asked"
    );
    assert_eq!(
        sent.last().map(|(_, b)| b.clone()),
        Some(vec![0xFC]),
        "and stops"
    );
    // 24 ticks a beat: a beat is 24,000 frames at 120 BPM.
    let ticks: Vec<u64> = sent
        .iter()
        .filter(|(_, b)| b[..] == [0xF8])
        .map(|(f, _)| *f)
        .collect();
    assert!(
        ticks.windows(2).all(|w| w[1] - w[0] == 1000),
        "a tick every 1000 frames"
    );
    let played = recorded
        .iter()
        .filter(|r| r.track == 1 && r.message[0] & 0xF0 == 0x90)
        .count();
    assert_eq!(
        played,
        note_ons(&sent),
        "the recorder saw every note played"
    );
    assert_eq!(
        recorded
            .iter()
            .filter(|r| r.track == 0 && r.message[0] == 0x90)
            .count(),
        10
    );
}

#[test]
fn following_a_clock_never_allocates_and_keeps_the_tempo() {
    let (sent, _) = run(ClockSource::Midi(120.0), false, 1500);
    assert!(note_ons(&sent) > 20, "it plays: {} notes", note_ons(&sent));
    assert_eq!(sounding(&sent), 0);
    assert!(
        sent.iter().all(|(_, b)| b[0] != 0xF8),
        "no clock sent while following one"
    );
    // At 100 BPM, 1/8 steps are 14,400 frames apart once settled.
    let mut onsets: Vec<u64> = sent
        .iter()
        .filter(|(_, b)| b.len() == 3 && b[0] & 0xF0 == 0x90 && b[2] > 0)
        .map(|(f, _)| *f)
        .collect();
    onsets.dedup();
    let settled: Vec<u64> = onsets.into_iter().filter(|&f| f > 8 * 28_800).collect();
    assert!(settled.len() >= 6);
    for pair in settled.windows(2) {
        let gap = pair[1] - pair[0];
        let steps = (gap as f64 / 14_400.0).round() as u64;
        assert!(gap.abs_diff(steps * 14_400) <= 2, "gap {gap}");
    }
}
