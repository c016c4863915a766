//! `jack-midi-recorder NAME`: a JACK client with one MIDI input, `NAME:input`,
//! that prints every event reaching it on JACK's frame clock, for
//! `tests/ardour/run.sh`. One line per event or missed stretch:
//!
//! ```text
//! 123456: 90 3c 5a     an event: the frame (cycle start + offset), its bytes in hex
//! skip 123712 512      the client was not run for 512 frames before frame 123712
//! ```
//!
//! `jack_midi_dump -a` counts only the frames of the cycles it is given, so
//! after a cycle it missed (an xrun on a busy machine) all its later times are
//! early; these times stay on the server's clock, and the misses are said.
//! Events longer than 3 bytes are cut to their first 3. Stops on SIGINT or
//! SIGTERM, after writing out what it holds.

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use jack::{Client, ClientOptions, Control, MidiIn, Port, ProcessHandler, ProcessScope};

/// What the process callback hands to the printing thread.
enum Record {
    Event {
        frame: u32,
        len: usize,
        bytes: [u8; 3],
    },
    Skip {
        frame: u32,
        frames: u32,
    },
}

struct Recorder {
    port: Port<MidiIn>,
    records: SyncSender<Record>,
    /// The first frame of the cycle expected next.
    next: Option<u32>,
    /// Records that did not fit in the channel.
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    fn send(&self, record: Record) {
        if self.records.try_send(record).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl ProcessHandler for Recorder {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let start = scope.last_frame_time();
        if let Some(expected) = self.next
            && expected != start
        {
            self.send(Record::Skip {
                frame: start,
                frames: start.wrapping_sub(expected),
            });
        }
        self.next = Some(start.wrapping_add(scope.n_frames()));
        for event in self.port.iter(scope) {
            let len = event.bytes.len().min(3);
            let mut bytes = [0; 3];
            bytes[..len].copy_from_slice(&event.bytes[..len]);
            self.send(Record::Event {
                frame: start.wrapping_add(event.time),
                len,
                bytes,
            });
        }
        Control::Continue
    }
}

fn write(out: &mut impl Write, record: Record) -> std::io::Result<()> {
    match record {
        Record::Event { frame, len, bytes } => {
            write!(out, "{frame}:")?;
            for byte in &bytes[..len] {
                write!(out, " {byte:02x}")?;
            }
            writeln!(out)
        }
        Record::Skip { frame, frames } => writeln!(out, "skip {frame} {frames}"),
    }
}

fn print_until_stopped(records: &Receiver<Record>, stop: &AtomicBool) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    while !stop.load(Ordering::SeqCst) {
        match records.recv_timeout(Duration::from_millis(20)) {
            Ok(record) => write(&mut out, record)?,
            Err(RecvTimeoutError::Timeout) => out.flush()?,
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    out.flush()
}

fn main() -> ExitCode {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "recorder".to_string());
    let (client, _status) = match Client::new(&name, ClientOptions::NO_START_SERVER) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("jack-midi-recorder: no JACK server to connect to ({error})");
            return ExitCode::FAILURE;
        }
    };
    let port = match client.register_port("input", MidiIn::default()) {
        Ok(port) => port,
        Err(error) => {
            eprintln!("jack-midi-recorder: cannot register {name}:input ({error})");
            return ExitCode::FAILURE;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let handler_stop = Arc::clone(&stop);
    if let Err(error) = ctrlc::set_handler(move || handler_stop.store(true, Ordering::SeqCst)) {
        eprintln!("jack-midi-recorder: cannot catch SIGINT and SIGTERM ({error})");
        return ExitCode::FAILURE;
    }
    let (records, received) = sync_channel(1 << 16);
    let dropped = Arc::new(AtomicU64::new(0));
    let recorder = Recorder {
        port,
        records,
        next: None,
        dropped: Arc::clone(&dropped),
    };
    let active = match client.activate_async((), recorder) {
        Ok(active) => active,
        Err(error) => {
            eprintln!("jack-midi-recorder: cannot activate the client ({error})");
            return ExitCode::FAILURE;
        }
    };
    let printed = print_until_stopped(&received, &stop);
    // Deactivating drops the callback's sender: what is left is printed.
    drop(active.deactivate());
    let mut out = std::io::stdout().lock();
    let printed = printed.and_then(|()| {
        while let Ok(record) = received.try_recv() {
            write(&mut out, record)?;
        }
        out.flush()
    });
    if let Err(error) = printed {
        eprintln!("jack-midi-recorder: cannot write the recording ({error})");
        return ExitCode::FAILURE;
    }
    let dropped = dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        eprintln!("jack-midi-recorder: {dropped} records did not fit in the queue and are lost");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
