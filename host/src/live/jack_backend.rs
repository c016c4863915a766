//! The JACK backend: a JACK client with a MIDI input and output port; the
//! engine runs in JACK's process callback, sample-accurate in each period.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, anyhow};
use jack::{
    AsyncClient, Client, ClientOptions, ClientStatus, Control, MidiIn, MidiOut,
    NotificationHandler, Port, PortFlags, PortId, PortSpec, ProcessHandler, ProcessScope, RawMidi,
};

use super::engine::Engine;
use super::ports::{Direction, choose};

/// The client name Pianola asks JACK for.
pub const CLIENT_NAME: &str = "pianola";

/// JACK's informational messages are dropped.
unsafe extern "C" fn ignore_jack_info(_message: *const std::ffi::c_char) {}

/// JACK's error messages go to standard error, one line each, but for the
/// "JackMessageBuffer::SetInitCallback" line libjack prints when a client
/// closes, which says nothing to a user.
unsafe extern "C" fn print_jack_error(message: *const std::ffi::c_char) {
    if message.is_null() {
        return;
    }
    // SAFETY: JACK passes a NUL-terminated string that lives for the call.
    let text = unsafe { std::ffi::CStr::from_ptr(message) }.to_string_lossy();
    if !text.starts_with("JackMessageBuffer::SetInitCallback") {
        eprintln!("JACK: {text}");
    }
}

/// Connects to the running JACK server (never starts one).
pub fn connect() -> anyhow::Result<Client> {
    jack::set_logger(jack::LoggerType::Custom {
        info: ignore_jack_info,
        error: print_jack_error,
    });
    let server = std::env::var("JACK_DEFAULT_SERVER").unwrap_or_else(|_| "default".to_string());
    let (client, _status) =
        Client::new(CLIENT_NAME, ClientOptions::NO_START_SERVER).map_err(|e| {
            anyhow!(
                "no JACK server is running (server {server:?}; JACK said: {e}).\n\
             Start one first, e.g. `jackd -d alsa` with a sound card, or \
             `jackd --no-realtime -d dummy` without one (JACK_DEFAULT_SERVER names the server)"
            )
        })?;
    Ok(client)
}

/// The MIDI ports other clients offer: (ports Pianola can listen to,
/// ports it can play into).
pub fn port_names(client: &Client) -> (Vec<String>, Vec<String>) {
    let spec = MidiIn::default();
    let midi = spec.jack_port_type();
    let own = format!("{}:", client.name());
    let list = |flags| -> Vec<String> {
        client
            .ports(None, Some(midi), flags)
            .into_iter()
            .filter(|name| !name.starts_with(&own))
            .collect()
    };
    (list(PortFlags::IS_OUTPUT), list(PortFlags::IS_INPUT))
}

/// What the notification thread saw go wrong.
#[derive(Default)]
struct Trouble {
    /// The connection to a port the player chose went away (its name).
    lost: Mutex<Option<String>>,
    /// The server shut down.
    shut_down: AtomicBool,
    /// A port was connected to Pianola's output.
    output_connected: AtomicBool,
}

struct Notifications {
    own_prefix: String,
    /// The full names of Pianola's input and output ports.
    input: String,
    output: String,
    /// The ports the player chose (`--input`, `--output`): losing the
    /// connection to one of these ends the session; a port someone else
    /// connected later (a monitor) may come and go.
    chosen: [String; 2],
    trouble: Arc<Trouble>,
}

impl NotificationHandler for Notifications {
    unsafe fn shutdown(&mut self, _status: ClientStatus, _reason: &str) {
        self.trouble.shut_down.store(true, Ordering::SeqCst);
    }

    fn ports_connected(&mut self, client: &Client, a: PortId, b: PortId, are_connected: bool) {
        let name = |id| client.port_by_id(id).and_then(|p| p.name().ok());
        let (a, b) = (name(a), name(b));
        if are_connected {
            if [&a, &b].iter().any(|n| n.as_deref() == Some(&self.output)) {
                self.trouble.output_connected.store(true, Ordering::SeqCst);
            }
            return;
        }
        let ours = |n: &Option<String>| {
            n.as_deref()
                .is_some_and(|n| n.starts_with(&self.own_prefix))
        };
        if !(ours(&a) || ours(&b)) {
            return;
        }
        let linked = |own: &str, theirs: &str| {
            client
                .port_by_name(own)
                .is_some_and(|port| port.is_connected_to(theirs).unwrap_or(false))
        };
        let [source, sink] = &self.chosen;
        let gone = if !linked(&self.input, source) {
            source
        } else if !linked(&self.output, sink) {
            sink
        } else {
            return;
        };
        let mut lost = self
            .trouble
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        lost.get_or_insert(gone.clone());
    }
}

struct Process {
    engine: Engine,
    input: Port<MidiIn>,
    output: Port<MidiOut>,
    /// JACK's frame time the next cycle should start at.
    expected: Option<u32>,
}

/// The most frames taken for cycles JACK skipped (10 s at 48 kHz); a larger
/// jump in its frame clock is not a few missed cycles.
const MAX_SKIPPED_FRAMES: u32 = 480_000;

impl ProcessHandler for Process {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        // Cycles this client missed (a busy machine): the timeline runs on
        // by JACK's frame clock, so later notes stay on the grid.
        let start = scope.last_frame_time();
        if let Some(expected) = self.expected {
            let skipped = start.wrapping_sub(expected);
            if skipped > 0 && skipped <= MAX_SKIPPED_FRAMES {
                self.engine.skip(skipped);
            }
        }
        self.expected = Some(start.wrapping_add(scope.n_frames()));
        let mut writer = self.output.writer(scope);
        let input = self.input.iter(scope).map(|m| (m.time, m.bytes));
        self.engine
            .block(scope.n_frames(), input, &mut |time, bytes| {
                let _ = writer.write(&RawMidi { time, bytes });
            });
        Control::Continue
    }
}

/// A running JACK session.
pub struct Session {
    client: AsyncClient<Notifications, Process>,
    trouble: Arc<Trouble>,
    /// The ports Pianola is connected to: (input, output).
    pub connected: (String, String),
}

impl Session {
    /// Registers Pianola's ports, starts `engine` in the process callback
    /// and connects `input` → Pianola → `output` (by number or name).
    pub fn start(
        client: Client,
        make_engine: impl FnOnce(f64) -> Engine,
        input: &str,
        output: &str,
    ) -> anyhow::Result<Session> {
        let (inputs, outputs) = port_names(&client);
        let source = inputs[choose(Direction::Input, input, &inputs)?].clone();
        let sink = outputs[choose(Direction::Output, output, &outputs)?].clone();
        let in_port = client
            .register_port("in", MidiIn::default())
            .context("registering Pianola's MIDI input")?;
        let out_port = client
            .register_port("out", MidiOut::default())
            .context("registering Pianola's MIDI output")?;
        let in_name = in_port.name()?;
        let out_name = out_port.name()?;
        let own_prefix = format!("{}:", client.name());
        let engine = make_engine(f64::from(client.sample_rate()));
        let trouble = Arc::new(Trouble::default());
        let notifications = Notifications {
            own_prefix,
            input: in_name.clone(),
            output: out_name.clone(),
            chosen: [source.clone(), sink.clone()],
            trouble: trouble.clone(),
        };
        let process = Process {
            engine,
            input: in_port,
            output: out_port,
            expected: None,
        };
        let client = client
            .activate_async(notifications, process)
            .context("starting the JACK client")?;
        client
            .as_client()
            .connect_ports_by_name(&source, &in_name)
            .with_context(|| format!("connecting {source} to {in_name}"))?;
        client
            .as_client()
            .connect_ports_by_name(&out_name, &sink)
            .with_context(|| format!("connecting {out_name} to {sink}"))?;
        Ok(Session {
            client,
            trouble,
            connected: (source, sink),
        })
    }

    /// The samples per second of the server.
    pub fn sample_rate(&self) -> f64 {
        f64::from(self.client.as_client().sample_rate())
    }

    /// Why the session cannot go on, if it cannot: a port went away or the
    /// server stopped.
    pub fn lost(&self) -> Option<String> {
        if self.trouble.shut_down.load(Ordering::SeqCst) {
            return Some("the JACK server shut down".to_string());
        }
        let lost = self
            .trouble
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        lost.as_ref()
            .map(|port| format!("the connection to {port} went away"))
    }

    /// Whether a port was connected to Pianola's output since the last
    /// call (the first call after [`Session::start`] says true: its own
    /// connection).
    pub fn output_connected(&self) -> bool {
        self.trouble.output_connected.swap(false, Ordering::SeqCst)
    }

    /// Stops the client.
    pub fn close(self) {
        let _ = self.client.deactivate();
    }
}
