//! A JACK server with its dummy driver, and a small JACK client that plays
//! a scheduled phrase into `pianola live` and records what comes back, for
//! the live host's tests and latency benchmark.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jack::{
    AsyncClient, Client, ClientOptions, Control, MidiIn, MidiOut, NotificationHandler, Port,
    ProcessHandler, ProcessScope, RawMidi,
};
use pianola_core::perform::NoteEvent;
use pianola_core::voices::VoiceCheck;
use pianola_host::live::engine::note_event;

/// Sample rate and period of the test server.
pub const RATE: u32 = 48_000;
pub const PERIOD: u32 = 256;

/// Tests that use JACK run one at a time: the server is named in the
/// process environment.
static SERIAL: Mutex<()> = Mutex::new(());

/// A running `jackd --no-realtime -d dummy`, stopped on drop.
pub struct JackServer {
    child: Child,
    pub name: String,
    _serial: MutexGuard<'static, ()>,
}

impl JackServer {
    /// Starts a server with a name of its own and makes it this process's
    /// default (`JACK_DEFAULT_SERVER`).
    pub fn start(tag: &str) -> JackServer {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let name = format!("pianola-test-{tag}-{}", std::process::id());
        let child = Command::new("jackd")
            .args(["-n", &name, "--no-realtime", "-d", "dummy"])
            .args(["-r", &RATE.to_string(), "-p", &PERIOD.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting jackd (Debian package jackd2; scripts/setup installs it)");
        // SAFETY: JACK tests hold SERIAL, so no other test thread reads the
        // environment while it changes.
        unsafe { std::env::set_var("JACK_DEFAULT_SERVER", &name) };
        let server = JackServer {
            child,
            name,
            _serial: serial,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Client::new("probe", ClientOptions::NO_START_SERVER).is_err() {
            assert!(
                Instant::now() < deadline,
                "jackd did not come up (`jackd -n NAME --no-realtime -d dummy` says why; \
                 servers killed with SIGKILL leave their slot in /dev/shm/jack-shm-registry)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }
}

impl Drop for JackServer {
    /// SIGTERM, so that jackd frees its slot in JACK's shared registry
    /// (a killed server leaves it taken, and only a few servers fit).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JACK server named after `tag` and the test client on it. Bound as
/// `let (_server, client) = …`, the client goes before the server.
pub fn server_and_client(tag: &str) -> (JackServer, TestClient) {
    let server = JackServer::start(tag);
    (server, TestClient::start())
}

/// [`server_and_client`], and `pianola live` with `options` between the
/// client's ports once it has connected them ([`start_live`]).
pub fn live_session(tag: &str, options: &str) -> (JackServer, TestClient, Child) {
    let (server, client) = server_and_client(tag);
    let child = start_live(&client, options);
    (server, client, child)
}

/// A MIDI message seen by the test client, at an absolute JACK frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heard {
    pub frame: u64,
    pub bytes: Vec<u8>,
}

/// What the process callback shares with the test.
#[derive(Default)]
struct Shared {
    /// (frame relative to the start, message), sorted.
    schedule: Vec<(u64, Vec<u8>)>,
    next: usize,
    /// The absolute frame the schedule starts at (None: not started).
    start: Option<u64>,
    heard: Vec<Heard>,
    /// Absolute frames the scheduled messages went out at.
    sent: Vec<Heard>,
    /// Frames since the client's first cycle, by JACK's frame clock, at
    /// the end of the last cycle.
    frames: u64,
    /// JACK's frame time at the client's first cycle.
    origin: Option<u64>,
}

/// The test client's process callback.
pub struct PlayerProcess {
    keys: Port<MidiOut>,
    synth: Port<MidiIn>,
    shared: Arc<Mutex<Shared>>,
    period: Arc<AtomicU32>,
}

impl ProcessHandler for PlayerProcess {
    fn process(&mut self, _: &Client, scope: &ProcessScope) -> Control {
        let frames = scope.n_frames();
        self.period.store(frames, Ordering::Relaxed);
        let mut shared = lock(&self.shared);
        // JACK's own frame clock, so that cycles this client missed on a
        // busy machine do not shift what it hears and plays.
        let jack_now = u64::from(scope.last_frame_time());
        let origin = *shared.origin.get_or_insert(jack_now);
        let now = jack_now.saturating_sub(origin);
        for midi in self.synth.iter(scope) {
            shared.heard.push(Heard {
                frame: now + u64::from(midi.time),
                bytes: midi.bytes.to_vec(),
            });
        }
        let mut writer = self.keys.writer(scope);
        if let Some(start) = shared.start {
            while shared.next < shared.schedule.len() {
                let (at, bytes) = shared.schedule[shared.next].clone();
                let frame = start + at;
                if frame >= now + u64::from(frames) {
                    break;
                }
                let time = frame.saturating_sub(now) as u32;
                let _ = writer.write(&RawMidi {
                    time,
                    bytes: &bytes,
                });
                shared.sent.push(Heard {
                    frame: now + u64::from(time),
                    bytes,
                });
                shared.next += 1;
            }
        }
        shared.frames = now + u64::from(frames);
        Control::Continue
    }
}

/// Counts the xruns the JACK server reports: cycles some client (Pianola's
/// or this one) did not finish in time, the machine's doing.
pub struct XrunCounter(Arc<AtomicU32>);

impl NotificationHandler for XrunCounter {
    fn xrun(&mut self, _: &Client) -> Control {
        self.0.fetch_add(1, Ordering::Relaxed);
        Control::Continue
    }
}

/// The test's JACK client: `player:keys` plays into Pianola,
/// `player:synth` listens to it.
pub struct TestClient {
    client: Option<AsyncClient<XrunCounter, PlayerProcess>>,
    xruns: Arc<AtomicU32>,
    shared: Arc<Mutex<Shared>>,
    period: Arc<AtomicU32>,
    pub keys: String,
    pub synth: String,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TestClient {
    /// Registers the ports and starts the client.
    pub fn start() -> TestClient {
        let (client, _) =
            Client::new("player", ClientOptions::NO_START_SERVER).expect("a JACK test client");
        let keys = client
            .register_port("keys", MidiOut::default())
            .expect("keys");
        let synth = client
            .register_port("synth", MidiIn::default())
            .expect("synth");
        let keys_name = keys.name().expect("name");
        let synth_name = synth.name().expect("name");
        let shared = Arc::new(Mutex::new(Shared::default()));
        let period = Arc::new(AtomicU32::new(PERIOD));
        let process = PlayerProcess {
            keys,
            synth,
            shared: shared.clone(),
            period: period.clone(),
        };
        let xruns = Arc::new(AtomicU32::new(0));
        let client = client
            .activate_async(XrunCounter(xruns.clone()), process)
            .expect("activating the test client");
        TestClient {
            xruns,
            client: Some(client),
            shared,
            period,
            keys: keys_name,
            synth: synth_name,
        }
    }

    /// Waits until something is connected to both ports.
    pub fn wait_connected(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let client = self.client.as_ref().expect("running").as_client();
        loop {
            let connected = |name: &str| {
                client
                    .port_by_name(name)
                    .and_then(|p| p.connected_count().ok())
                    .unwrap_or(0)
                    > 0
            };
            if connected(&self.keys) && connected(&self.synth) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Plays `schedule` ((frame from now, message), sorted), starting two
    /// periods from now. Returns the absolute start frame.
    pub fn play(&self, schedule: Vec<(u64, Vec<u8>)>) -> u64 {
        let mut shared = lock(&self.shared);
        let start = shared.frames + 2 * u64::from(self.period.load(Ordering::Relaxed));
        shared.schedule = schedule;
        shared.next = 0;
        shared.start = Some(start);
        start
    }

    /// Plays `schedule` as [`TestClient::play`] does and waits until
    /// `after` frames past its last message. Returns the absolute start
    /// frame.
    pub fn play_through(&self, schedule: Vec<(u64, Vec<u8>)>, after: u64) -> u64 {
        let last = schedule.last().map_or(0, |(at, _)| *at);
        let start = self.play(schedule);
        self.wait_frames(start.saturating_sub(self.now()) + last + after);
        start
    }

    /// Whether everything scheduled has been sent.
    pub fn done(&self) -> bool {
        let shared = lock(&self.shared);
        shared.next >= shared.schedule.len()
    }

    /// The frames counted so far.
    pub fn now(&self) -> u64 {
        lock(&self.shared).frames
    }

    /// Waits until `frames` more frames have passed.
    pub fn wait_frames(&self, frames: u64) {
        let until = self.now() + frames;
        while self.now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// What Pianola sent so far.
    pub fn heard(&self) -> Vec<Heard> {
        lock(&self.shared).heard.clone()
    }

    /// The scheduled messages as they went out.
    pub fn sent(&self) -> Vec<Heard> {
        lock(&self.shared).sent.clone()
    }

    /// The xruns the server has reported since the client started.
    pub fn xruns(&self) -> u32 {
        self.xruns.load(Ordering::Relaxed)
    }

    /// Stops the client (its ports go away).
    pub fn stop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.deactivate();
        }
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Note-ons (status 0x9n, velocity > 0) among `heard`: (frame, key).
pub fn note_ons(heard: &[Heard]) -> Vec<(u64, u8)> {
    heard
        .iter()
        .filter(|h| h.bytes.len() == 3 && h.bytes[0] & 0xF0 == 0x90 && h.bytes[2] > 0)
        .map(|h| (h.frame, h.bytes[1]))
        .collect()
}

/// The (channel, key) voices still sounding after `heard`.
pub fn sounding(heard: &[Heard]) -> Vec<(u8, u8)> {
    VoiceCheck::of(heard.iter().filter_map(|h| match note_event(0, &h.bytes)? {
        NoteEvent::On { channel, key, .. } => Some((channel, key, true)),
        NoteEvent::Off { channel, key, .. } => Some((channel, key, false)),
    }))
    .sounding
}

/// A schedule of notes on `channel` (0-15), each (frame, key) struck at
/// velocity 100 and held `hold` frames, in time order.
pub fn note_schedule(
    notes: impl IntoIterator<Item = (u64, u8)>,
    hold: u64,
    channel: u8,
) -> Vec<(u64, Vec<u8>)> {
    let mut schedule = Vec::new();
    for (at, key) in notes {
        schedule.push((at, vec![0x90 | channel, key, 100]));
        schedule.push((at + hold, vec![0x80 | channel, key, 0]));
    }
    schedule.sort_by_key(|(at, _)| *at);
    schedule
}

/// The `pianola` binary under test.
pub const PIANOLA: &str = env!("CARGO_BIN_EXE_pianola");

/// `pianola live` on the JACK backend between the test client's ports,
/// with `options` (words at white space: the tests' paths have none).
pub fn spawn_live(client: &TestClient, options: &str) -> Child {
    Command::new(PIANOLA)
        .args([
            "live",
            "--backend",
            "jack",
            "--input",
            &client.keys,
            "--output",
            &client.synth,
        ])
        .args(options.split_whitespace())
        // A recording kept after a failed write lands here, not in the
        // source tree.
        .current_dir(std::env::temp_dir())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting pianola live")
}

/// `pianola live` as [`spawn_live`] starts it, once it has connected to
/// both of the test client's ports.
pub fn start_live(client: &TestClient, options: &str) -> Child {
    let child = spawn_live(client, options);
    assert!(
        client.wait_connected(Duration::from_secs(30)),
        "pianola connects its ports"
    );
    child
}

/// Interrupts `child` (Ctrl-C) and waits for it to exit cleanly; its
/// standard error.
pub fn ctrl_c(child: Child) -> String {
    interrupt(&child);
    let (code, stderr) = finish(child, Duration::from_secs(20));
    assert_eq!(code, Some(0), "clean exit on SIGINT: {stderr}");
    stderr
}

/// Sends SIGINT to `child` (what Ctrl-C does).
pub fn interrupt(child: &Child) {
    signal(child, "INT");
}

/// Sends the signal called `name` (`INT`, `TERM`, `HUP`) to `child`.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for `child` to exit (at most `timeout`), returning its exit code
/// and standard error.
pub fn finish(mut child: Child, timeout: Duration) -> (Option<i32>, String) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status.code(), stderr);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("pianola live did not exit in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
