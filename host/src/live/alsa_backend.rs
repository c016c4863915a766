//! The ALSA backend (midir): the MIDI input callback only queues messages
//! with their arrival time; a timing thread runs the engine every
//! millisecond on a steady clock and sends its notes.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use midir::{Ignore, MidiInput, MidiInputConnection, MidiOutput};
use rtrb::RingBuffer;

use super::engine::Engine;
use super::ports::{Direction, choose};

/// The engine's sample rate: a virtual one, for sample offsets.
pub const SAMPLE_RATE: f64 = 48_000.0;
/// One block of the timing thread.
const BLOCK: Duration = Duration::from_millis(1);
/// Samples in one block.
const BLOCK_FRAMES: u32 = 48;
/// Messages waiting between the input callback and the timing thread.
const QUEUE: usize = 1024;
/// How often the port list is looked at for vanished ports.
const PORT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// A message from the input callback.
#[derive(Clone, Copy)]
struct Incoming {
    at: Instant,
    len: u8,
    bytes: [u8; 3],
}

fn no_sequencer() -> anyhow::Error {
    anyhow!(
        "no ALSA sequencer on this machine (is /dev/snd/seq there, and may you open it?); \
         try `--backend jack` with a running JACK server"
    )
}

fn open() -> anyhow::Result<(MidiInput, MidiOutput)> {
    let input = MidiInput::new("pianola").map_err(|_| no_sequencer())?;
    let output = MidiOutput::new("pianola").map_err(|_| no_sequencer())?;
    Ok((input, output))
}

/// The ALSA MIDI ports: (ports Pianola can listen to, ports it can play
/// into).
pub fn port_names() -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let (input, output) = open()?;
    let inputs = input
        .ports()
        .iter()
        .map(|p| input.port_name(p).unwrap_or_else(|_| "?".into()))
        .collect();
    let outputs = output
        .ports()
        .iter()
        .map(|p| output.port_name(p).unwrap_or_else(|_| "?".into()))
        .collect();
    Ok((inputs, outputs))
}

/// A running ALSA session.
pub struct Session {
    _input: MidiInputConnection<()>,
    stop: Arc<AtomicBool>,
    timing: Option<JoinHandle<()>>,
    /// The ports Pianola is connected to: (input, output).
    pub connected: (String, String),
    /// When the port list was last looked at for vanished ports.
    last_check: Cell<Instant>,
}

impl Session {
    /// Connects `input` → Pianola → `output` (by number or name) and runs
    /// `engine` on the timing thread.
    pub fn start(
        make_engine: impl FnOnce(f64) -> Engine,
        input: &str,
        output: &str,
    ) -> anyhow::Result<Session> {
        let (inputs, outputs) = port_names()?;
        let in_index = choose(Direction::Input, input, &inputs)?;
        let out_index = choose(Direction::Output, output, &outputs)?;
        let (mut midi_in, midi_out) = open()?;
        midi_in.ignore(Ignore::None);
        let in_port = midi_in.ports()[in_index].clone();
        let out_port = midi_out.ports()[out_index].clone();
        let mut sender = midi_out
            .connect(&out_port, "pianola-out")
            .map_err(|e| anyhow!("opening {}: {e}", outputs[out_index]))?;
        let (mut queue_in, mut queue_out) = RingBuffer::<Incoming>::new(QUEUE);
        let connection = midi_in
            .connect(
                &in_port,
                "pianola-in",
                move |_, message, _| {
                    let mut bytes = [0; 3];
                    let len = message.len().min(3);
                    bytes[..len].copy_from_slice(&message[..len]);
                    let _ = queue_in.push(Incoming {
                        at: Instant::now(),
                        len: len as u8,
                        bytes,
                    });
                },
                (),
            )
            .map_err(|e| anyhow!("opening {}: {e}", inputs[in_index]))?;

        let mut engine = make_engine(SAMPLE_RATE);
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let timing = std::thread::Builder::new()
            .name("pianola-timing".into())
            .spawn(move || {
                let mut block: Vec<Incoming> = Vec::with_capacity(QUEUE);
                let start = Instant::now();
                let mut n: u32 = 0;
                while !stop_flag.load(Ordering::Relaxed) {
                    let block_start = start + BLOCK * n;
                    let block_end = block_start + BLOCK;
                    if let Some(wait) = block_end.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    block.clear();
                    while let Ok(message) = queue_out.pop() {
                        block.push(message);
                    }
                    let offset = |at: Instant| {
                        let into = at.saturating_duration_since(block_start).as_secs_f64();
                        ((into * SAMPLE_RATE) as u32).min(BLOCK_FRAMES - 1)
                    };
                    let input = block
                        .iter()
                        .map(|m| (offset(m.at), &m.bytes[..usize::from(m.len)]));
                    engine.block(BLOCK_FRAMES, input, &mut |_, bytes| {
                        let _ = sender.send(bytes);
                    });
                    n = n.wrapping_add(1);
                }
                // One last block sends the notes-off of a stop request.
                engine.block(BLOCK_FRAMES, std::iter::empty(), &mut |_, bytes| {
                    let _ = sender.send(bytes);
                });
            })
            .context("starting the timing thread")?;
        Ok(Session {
            _input: connection,
            stop,
            timing: Some(timing),
            connected: (inputs[in_index].clone(), outputs[out_index].clone()),
            last_check: Cell::new(Instant::now()),
        })
    }

    /// Why the session cannot go on, if a connected port has gone away.
    /// ALSA does not tell a sender that its destination vanished, so this
    /// looks at the port list, at most once a second (off the timing
    /// thread). A list that cannot be read says nothing.
    pub fn lost(&self) -> Option<String> {
        if self.last_check.get().elapsed() < PORT_CHECK_INTERVAL {
            return None;
        }
        self.last_check.set(Instant::now());
        let (inputs, outputs) = port_names().ok()?;
        let (input, output) = &self.connected;
        if !inputs.contains(input) {
            Some(format!("the connection to {input} went away"))
        } else if !outputs.contains(output) {
            Some(format!("the connection to {output} went away"))
        } else {
            None
        }
    }

    /// Stops the timing thread and closes the ports.
    pub fn close(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(timing) = self.timing.take() {
            let _ = timing.join();
        }
    }
}
