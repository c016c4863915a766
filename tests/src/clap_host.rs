//! A small in-process CLAP host (clack-host) that loads the bundled
//! `pianola.clap`, plays it a transport and notes, and records what it sends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::state::PluginState;
use clack_host::events::event_types::{
    NoteOffEvent, NoteOnEvent, ParamGestureBeginEvent, ParamGestureEndEvent, ParamValueEvent,
    TransportEvent, TransportFlags,
};
use clack_host::events::io::{OutputEventBuffer, TryPushError};
use clack_host::events::{EventFlags, Match, UnknownEvent};
use clack_host::prelude::*;
use clack_host::utils::BeatTime;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Builds the plugin bundles (`cargo xtask bundle pianola`, the debug
/// build, where nice-plug's `assert_process_allocs` is active) once per
/// test process, and returns the folder that holds them.
pub fn bundled_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = workspace_root();
        let status = Command::new(env!("CARGO"))
            .args(["xtask", "bundle", "pianola"])
            .current_dir(&root)
            .status()
            .expect("running cargo xtask bundle pianola");
        assert!(status.success(), "cargo xtask bundle pianola failed");
        root.join("target/bundled")
    })
}

/// The bundled `pianola.clap`.
pub fn bundled_clap() -> PathBuf {
    bundled_dir().join("pianola.clap")
}

/// Builds the release bundle (`cargo xtask bundle pianola --release`) and
/// copies it to `target/bench-bundle/` (the tests' debug build replaces
/// `target/bundled`), for benchmarks and measurements.
pub fn release_bundle() -> PathBuf {
    let root = workspace_root();
    let status = std::process::Command::new(env!("CARGO"))
        .args(["xtask", "bundle", "pianola", "--release"])
        .current_dir(&root)
        .status()
        .expect("running cargo xtask bundle pianola --release");
    assert!(status.success(), "the release bundle builds");
    let dir = root.join("target/bench-bundle");
    std::fs::create_dir_all(&dir).expect("bench folder");
    let bundle = dir.join("pianola.clap");
    std::fs::copy(root.join("target/bundled/pianola.clap"), &bundle).expect("copying the bundle");
    bundle
}

/// The test host: it hears the plugin's requests and ignores them.
pub struct TestHost;

/// The test host's shared handler.
pub struct TestHostShared;

impl SharedHandler<'_> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

/// The host's side of the `gui` extension (nice-plug opens a window only
/// for hosts that have it): every request is granted and forgotten.
impl HostGuiImpl for TestHostShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, _new_size: GuiSize) -> Result<(), HostError> {
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

/// The host's side of the `params` extension, as every DAW has it: the
/// plugin's requests (a flush when its window changes a parameter while no
/// block runs, a rescan) are heard; the blocks the test runs do the
/// flushing.
impl HostParamsImplShared for TestHostShared {
    fn request_flush(&self) {}
}

/// The test host's main-thread handler.
pub struct TestHostMainThread;

impl MainThreadHandler<'_> for TestHostMainThread {}

impl HostParamsImplMainThread for TestHostMainThread {
    fn rescan(&self, _flags: ParamRescanFlags) {}
    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = TestHostMainThread;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostGui>().register::<HostParams>();
    }
}

/// A note the plugin sent, at an absolute sample since activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SentNote {
    /// Samples since the plugin was activated.
    pub sample: u64,
    /// Note-on (true) or note-off.
    pub on: bool,
    /// MIDI channel.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
}

/// An event for the plugin inside a block.
#[derive(Clone, Copy, Debug)]
pub enum Input {
    /// A key goes down (velocity 0..1).
    NoteOn { key: u8, velocity: f64 },
    /// A key comes up.
    NoteOff { key: u8 },
    /// A parameter takes a plain value.
    Param { id: ClapId, value: f64 },
}

impl Input {
    /// The parameter `id` takes the plain `value`.
    pub fn param(id: ClapId, value: f64) -> Input {
        Input::Param { id, value }
    }
}

/// The host's transport.
#[derive(Clone, Copy, Debug)]
pub struct HostTransport {
    /// Whether it plays.
    pub playing: bool,
    /// Beats per minute.
    pub tempo: f64,
    /// The beat at the next block's first sample.
    pub beat: f64,
}

/// How the host reports its beat position, as hosts in the wild do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionReport {
    /// The exact beat.
    Exact,
    /// Rounded to whole ticks of 1/N beat (JACK position data: N = 1920).
    RoundedToTicks(u32),
    /// A valid position that stays 0 while the transport rolls.
    StuckAtZero,
    /// No beat position at all while the transport rolls.
    Nothing,
}

/// An output event list that takes only MIDI events (CLAP's MIDI dialect)
/// and refuses CLAP note events, as Carla 2.6 does.
struct MidiOnly<'a> {
    events: &'a mut EventBuffer,
    refused: &'a mut u64,
}

impl OutputEventBuffer for MidiOnly<'_> {
    fn try_push(&mut self, event: &UnknownEvent) -> Result<(), TryPushError> {
        if event.as_event::<NoteOnEvent>().is_some() || event.as_event::<NoteOffEvent>().is_some() {
            *self.refused += 1;
            return Err(TryPushError::new());
        }
        self.events.push(event);
        Ok(())
    }
}

/// The Seed parameter [`PluginUnderTest::new`] sets.
pub const TEST_SEED: f64 = 1.0;

/// How much faster than real time the host runs blocks by default; the
/// plugin's worker thread still has ample time to predict between grid
/// steps.
const SPEED: f64 = 4.0;

/// The plugin, loaded and instantiated.
pub struct PluginUnderTest {
    instance: PluginInstance<TestHost>,
    processor: Option<StartedPluginAudioProcessor<TestHost>>,
    params: PluginParams,
    state: PluginState,
    sample_rate: f64,
    outputs: [Vec<f32>; 2],
    ports: AudioPorts,
    in_events: EventBuffer,
    out_events: EventBuffer,
    /// Samples processed since activation.
    pub clock: u64,
    /// The transport the next block gets.
    pub transport: HostTransport,
    /// Every note the plugin sent since activation.
    pub sent: Vec<SentNote>,
    /// The parameter gestures the plugin sent since activation, in order:
    /// the parameter and whether the gesture begins (true) or ends.
    pub gestures: Vec<(ClapId, bool)>,
    /// How much faster than real time blocks run.
    pub speed: f64,
    /// How the beat position is reported.
    pub position_report: PositionReport,
    /// Split each block at every incoming event, handing every piece the
    /// block's start position (as Carla does).
    pub split_at_events: bool,
    /// Take only MIDI events from the plugin, refusing note events.
    pub midi_only_output: bool,
    /// Events the host refused.
    pub refused_events: u64,
    /// How long the last `process` call into the plugin took.
    pub last_process_time: Duration,
    started: Instant,
}

impl PluginUnderTest {
    /// Loads the debug bundle ([`bundled_clap`]) and creates an instance
    /// with its Seed parameter at [`TEST_SEED`], so that what it samples
    /// is the same from run to run wherever the worker keeps up.
    pub fn new() -> Self {
        let mut plugin = Self::load(&bundled_clap());
        let seed = plugin.param_id("Seed");
        plugin.flush_param(seed, TEST_SEED);
        plugin
    }

    /// Like [`PluginUnderTest::new`], with *Feel* set to Grid: one event
    /// per division step, for the tests of the grid's timing.
    pub fn on_the_grid() -> Self {
        let mut plugin = Self::new();
        let feel = plugin.param_id("Feel");
        // Feel's choices are Model, Grid: Grid is the normalised 1.
        plugin.flush_param(feel, 1.0);
        plugin
    }

    /// [`PluginUnderTest::on_the_grid`], activated at 48 kHz for blocks of
    /// up to `max_frames`.
    pub fn active_on_the_grid(max_frames: u32) -> Self {
        let mut plugin = Self::on_the_grid();
        plugin.activate(48_000.0, max_frames);
        plugin
    }

    /// Loads the CLAP bundle at `path` and creates an instance.
    pub fn load(path: &Path) -> Self {
        // SAFETY: the bundle is this workspace's own plugin, built by cargo.
        let entry = unsafe { PluginEntry::load(path) }.expect("loading pianola.clap");
        let factory = entry.get_plugin_factory().expect("a plugin factory");
        let descriptor = factory
            .plugin_descriptors()
            .next()
            .expect("one plugin in the bundle");
        let id = descriptor.id().expect("a plugin id").to_owned();
        let info = HostInfo::new("pianola-tests", "Pianola", "https://example.invalid", "0")
            .expect("host info");
        let mut instance = PluginInstance::<TestHost>::new(
            |_| TestHostShared,
            |_| TestHostMainThread,
            &entry,
            &id,
            &info,
        )
        .expect("instantiating Pianola");
        let handle = instance.plugin_handle();
        let params = handle.get_extension().expect("the params extension");
        let state = handle.get_extension().expect("the state extension");
        Self {
            instance,
            processor: None,
            params,
            state,
            sample_rate: 48_000.0,
            outputs: [Vec::new(), Vec::new()],
            ports: AudioPorts::with_capacity(2, 1),
            in_events: EventBuffer::with_capacity(64),
            out_events: EventBuffer::with_capacity(1024),
            clock: 0,
            transport: HostTransport {
                playing: true,
                tempo: 120.0,
                beat: 0.0,
            },
            sent: Vec::new(),
            gestures: Vec::new(),
            speed: SPEED,
            position_report: PositionReport::Exact,
            split_at_events: false,
            midi_only_output: false,
            refused_events: 0,
            last_process_time: Duration::ZERO,
            started: Instant::now(),
        }
    }

    /// Every parameter: (name, id, min, max, default).
    pub fn param_infos(&mut self) -> Vec<(String, ClapId, f64, f64, f64)> {
        let handle = self.instance.plugin_handle();
        let mut infos = Vec::new();
        for index in 0..self.params.count(&handle) {
            let mut buffer = ParamInfoBuffer::new();
            let info = self
                .params
                .get_info(&handle, index, &mut buffer)
                .expect("parameter info");
            infos.push((
                String::from_utf8_lossy(info.name).into_owned(),
                info.id,
                info.min_value,
                info.max_value,
                info.default_value,
            ));
        }
        infos
    }

    /// The ids of the parameters shown as `names`.
    pub fn param_ids<const N: usize>(&mut self, names: [&str; N]) -> [ClapId; N] {
        names.map(|name| self.param_id(name))
    }

    /// The id of the parameter shown as `name`.
    pub fn param_id(&mut self, name: &str) -> ClapId {
        self.param_infos()
            .into_iter()
            .find(|(n, ..)| n == name)
            .unwrap_or_else(|| panic!("no parameter named {name}"))
            .1
    }

    /// A parameter's current plain value.
    pub fn param_value(&mut self, id: ClapId) -> f64 {
        let handle = self.instance.plugin_handle();
        self.params.get_value(&handle, id).expect("a value")
    }

    /// The plugin's text for a plain value.
    pub fn value_to_text(&mut self, id: ClapId, value: f64) -> String {
        let handle = self.instance.plugin_handle();
        let mut buffer = [0u8; 256];
        let text = self
            .params
            .value_to_text(&handle, id, value, &mut buffer)
            .expect("value to text");
        String::from_utf8_lossy(text).into_owned()
    }

    /// The plain value the plugin reads from `text`.
    pub fn text_to_value(&mut self, id: ClapId, text: &str) -> Option<f64> {
        let handle = self.instance.plugin_handle();
        let text = std::ffi::CString::new(text).expect("text without NUL");
        self.params.text_to_value(&handle, id, &text)
    }

    /// Sets a parameter through the params extension's `flush`, as hosts
    /// do while the plugin is not processing (here: before activation).
    pub fn flush_param(&mut self, id: ClapId, value: f64) {
        let mut events = EventBuffer::new();
        events.push(&ParamValueEvent::new(0, id, Pckn::match_all(), value));
        let mut out = EventBuffer::new();
        let mut handle = self
            .instance
            .inactive_plugin_handle()
            .expect("flush_param is for an inactive plugin");
        self.params
            .flush(&mut handle, &events.as_input(), &mut out.as_output());
    }

    /// Opens the plugin's window embedded in the X11 window `parent`
    /// (CLAP's `gui` extension, API `x11`), as a host does; returns the
    /// size the plugin reports. The parent must outlive the window
    /// ([`close_gui`](Self::close_gui)).
    pub fn open_gui(&mut self, parent: u32) -> (u32, u32) {
        let handle = self.instance.plugin_handle();
        let gui: PluginGui = handle.get_extension().expect("the gui extension");
        assert!(gui.is_api_supported(
            &handle,
            GuiConfiguration {
                api_type: GuiApiType::X11,
                is_floating: false,
            }
        ));
        gui.create(
            &handle,
            GuiConfiguration {
                api_type: GuiApiType::X11,
                is_floating: false,
            },
        )
        .expect("creating the plugin's window");
        let GuiSize { width, height } = gui.get_size(&handle).expect("the window's size");
        // SAFETY: the caller keeps `parent` until `close_gui`.
        unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent.into())) }
            .expect("embedding the window");
        gui.show(&handle).expect("showing the window");
        (width, height)
    }

    /// Whether the plugin's window says it can be resized.
    pub fn gui_can_resize(&mut self) -> bool {
        let handle = self.instance.plugin_handle();
        let gui: PluginGui = handle.get_extension().expect("the gui extension");
        gui.can_resize(&handle)
    }

    /// Resizes the plugin's window, as a host does when its user drags it.
    pub fn resize_gui(&mut self, width: u32, height: u32) {
        let handle = self.instance.plugin_handle();
        let gui: PluginGui = handle.get_extension().expect("the gui extension");
        gui.set_size(&handle, GuiSize { width, height })
            .expect("resizing the window");
    }

    /// Hides and destroys the plugin's window.
    pub fn close_gui(&mut self) {
        let handle = self.instance.plugin_handle();
        let gui: PluginGui = handle.get_extension().expect("the gui extension");
        gui.hide(&handle).expect("hiding the window");
        gui.destroy(&handle);
    }

    /// The plugin's saved state.
    pub fn save_state(&mut self) -> Vec<u8> {
        let handle = self.instance.plugin_handle();
        let mut bytes = Vec::new();
        self.state.save(&handle, &mut bytes).expect("saving state");
        bytes
    }

    /// Loads a saved state; false if the plugin refused it.
    pub fn load_state(&mut self, bytes: &[u8]) -> bool {
        let handle = self.instance.plugin_handle();
        self.state.load(&handle, &mut &bytes[..]).is_ok()
    }

    /// Activates at `sample_rate` for blocks of up to `max_frames`, and
    /// starts processing. The clock and the log start again.
    pub fn activate(&mut self, sample_rate: f64, max_frames: u32) {
        let config = PluginAudioConfiguration {
            sample_rate,
            min_frames_count: 1,
            max_frames_count: max_frames,
        };
        let stopped = self
            .instance
            .activate(|_, _| (), config)
            .expect("activating Pianola");
        self.processor = Some(stopped.start_processing().expect("starting processing"));
        self.sample_rate = sample_rate;
        self.outputs = [
            vec![1.0; max_frames as usize],
            vec![1.0; max_frames as usize],
        ];
        self.clock = 0;
        self.sent.clear();
        self.started = Instant::now();
    }

    /// Stops processing and deactivates.
    pub fn deactivate(&mut self) {
        if let Some(processor) = self.processor.take() {
            let stopped = processor.stop_processing();
            self.instance.deactivate(stopped);
        }
    }

    /// Samples per beat at the current tempo.
    pub fn samples_per_beat(&self) -> f64 {
        pianola_core::tempo::samples_per_beat(self.sample_rate, self.transport.tempo)
    }

    /// Resets the plugin (clears its state without deactivating, as hosts
    /// do on a transport jump).
    pub fn reset(&mut self) {
        self.processor
            .as_mut()
            .expect("the plugin is active")
            .reset();
    }

    /// Processes one block of `frames` with `inputs` at offsets inside it,
    /// then advances the transport. Returns the notes sent in this block.
    /// With [`split_at_events`](Self::split_at_events), the block is handed
    /// to the plugin in pieces cut at the inputs' offsets, each with the
    /// block's start position.
    pub fn process(&mut self, frames: u32, inputs: &[(u32, Input)]) -> Vec<SentNote> {
        let reported = self.reported_beat();
        if !self.split_at_events {
            return self.process_piece(frames, inputs, reported);
        }
        let mut sent = Vec::new();
        let mut start = 0u32;
        let mut next = 0usize;
        while start < frames {
            let cut = inputs[next..]
                .iter()
                .map(|(at, _)| *at)
                .find(|&at| at > start)
                .unwrap_or(frames)
                .min(frames);
            let mut piece = Vec::new();
            while next < inputs.len() && inputs[next].0 < cut {
                piece.push((inputs[next].0.max(start) - start, inputs[next].1));
                next += 1;
            }
            sent.extend(self.process_piece(cut - start, &piece, reported));
            start = cut;
        }
        sent
    }

    /// The beat position the host reports for the next block.
    fn reported_beat(&self) -> f64 {
        match self.position_report {
            PositionReport::Exact => self.transport.beat,
            PositionReport::RoundedToTicks(per_beat) => {
                (self.transport.beat * f64::from(per_beat)).round() / f64::from(per_beat)
            }
            PositionReport::StuckAtZero | PositionReport::Nothing => 0.0,
        }
    }

    /// Processes one piece of a block with the beat position `reported`.
    fn process_piece(
        &mut self,
        frames: u32,
        inputs: &[(u32, Input)],
        reported: f64,
    ) -> Vec<SentNote> {
        let transport = self.transport_event(reported);
        self.in_events.clear();
        for &(offset, input) in inputs {
            match input {
                Input::NoteOn { key, velocity } => self.in_events.push(&NoteOnEvent::new(
                    offset,
                    Pckn::new(0u16, 0u16, u16::from(key), Match::All),
                    velocity,
                )),
                Input::NoteOff { key } => self.in_events.push(&NoteOffEvent::new(
                    offset,
                    Pckn::new(0u16, 0u16, u16::from(key), Match::All),
                    0.0,
                )),
                Input::Param { id, value } => {
                    self.in_events
                        .push(&ParamValueEvent::new(offset, id, Pckn::match_all(), value))
                }
            }
        }
        self.in_events.sort();
        self.out_events.clear();
        let processor = self.processor.as_mut().expect("the plugin is active");
        let [left, right] = &mut self.outputs;
        let mut outputs = self.ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(
                [&mut left[..frames as usize], &mut right[..frames as usize]].into_iter(),
            ),
        }]);
        let mut midi_only = MidiOnly {
            events: &mut self.out_events,
            refused: &mut self.refused_events,
        };
        let mut out_events = if self.midi_only_output {
            OutputEvents::from_buffer(&mut midi_only)
        } else {
            midi_only.events.as_output()
        };
        let call = Instant::now();
        processor
            .process(
                &InputAudioBuffers::empty(),
                &mut outputs,
                &self.in_events.as_input(),
                &mut out_events,
                Some(self.clock),
                Some(&transport),
            )
            .expect("process");
        self.last_process_time = call.elapsed();
        assert!(
            self.outputs
                .iter()
                .all(|c| c[..frames as usize].iter().all(|&s| s == 0.0)),
            "the audio output is silent"
        );

        let mut block = Vec::new();
        let mut previous_time = 0;
        for event in self.out_events.iter() {
            let time = u64::from(event.header().time());
            assert!(time < u64::from(frames.max(1)), "event inside the block");
            // The editor's parameter gestures are not checked for order:
            // nice-plug's CLAP wrapper appends them at the block's start after
            // the notes the plugin sent (`handle_out_events`), which breaks
            // CLAP's rule that output events are sorted by time.
            if let Some(begin) = event.as_event::<ParamGestureBeginEvent>() {
                self.gestures.extend(begin.param_id().map(|id| (id, true)));
                continue;
            }
            if let Some(end) = event.as_event::<ParamGestureEndEvent>() {
                self.gestures.extend(end.param_id().map(|id| (id, false)));
                continue;
            }
            if event.as_event::<ParamValueEvent>().is_some() {
                continue;
            }
            assert!(
                time >= previous_time,
                "output events in time order: {time} after {previous_time} (block at {})",
                self.clock
            );
            previous_time = time;
            let (on, raw) = if let Some(on) = event.as_event::<NoteOnEvent>() {
                (true, *on.as_raw())
            } else if let Some(off) = event.as_event::<NoteOffEvent>() {
                (false, *off.as_raw())
            } else {
                continue;
            };
            block.push(SentNote {
                sample: self.clock + time,
                on,
                channel: raw.channel as u8,
                key: raw.key as u8,
            });
        }
        self.sent.extend_from_slice(&block);
        self.clock += u64::from(frames);
        if self.transport.playing {
            self.transport.beat += f64::from(frames) / self.samples_per_beat();
        }
        self.pace();
        block
    }

    /// From now on, runs blocks at most `speed` times real time (changing
    /// [`speed`](Self::speed) alone keeps the pace counted from activation).
    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed;
        let behind = Duration::from_secs_f64(self.clock as f64 / self.sample_rate / speed);
        let now = Instant::now();
        self.started = now.checked_sub(behind).unwrap_or(now);
    }

    /// Sleeps so that blocks run at most `speed` times real time.
    fn pace(&self) {
        let due = Duration::from_secs_f64(self.clock as f64 / self.sample_rate / self.speed);
        if let Some(ahead) = due.checked_sub(self.started.elapsed()) {
            std::thread::sleep(ahead);
        }
    }

    fn transport_event(&self, reported_beat: f64) -> TransportEvent {
        let mut flags = TransportFlags::HAS_TEMPO | TransportFlags::HAS_TIME_SIGNATURE;
        if self.position_report != PositionReport::Nothing {
            flags |= TransportFlags::HAS_BEATS_TIMELINE;
        }
        if self.transport.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        let beat = BeatTime::from_float(reported_beat);
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: beat,
            song_pos_seconds: Default::default(),
            tempo: self.transport.tempo,
            tempo_inc: 0.0,
            loop_start_beats: Default::default(),
            loop_end_beats: Default::default(),
            loop_start_seconds: Default::default(),
            loop_end_seconds: Default::default(),
            bar_start: BeatTime::from_float((reported_beat / 4.0).floor() * 4.0),
            bar_number: (reported_beat / 4.0).floor() as i32,
            time_signature_numerator: 4,
            time_signature_denominator: 4,
        }
    }

    /// Stops the transport, runs a block of `frames` and checks that no
    /// note is left sounding.
    pub fn stop_transport(&mut self, frames: u32) {
        self.transport.playing = false;
        let until = self.clock + u64::from(frames);
        self.run_until(until, || frames, &[]);
        assert_eq!(sounding_after(&self.sent), vec![], "every note ended");
    }

    /// Runs blocks until `clock` reaches `until` samples, choosing each
    /// block's size with `block_size`; `inputs` are (absolute sample, input),
    /// sorted. Returns the notes sent.
    pub fn run_until(
        &mut self,
        until: u64,
        mut block_size: impl FnMut() -> u32,
        inputs: &[(u64, Input)],
    ) -> Vec<SentNote> {
        let mut sent = Vec::new();
        let mut next = inputs.partition_point(|(at, _)| *at < self.clock);
        while self.clock < until {
            let frames = block_size().min((until - self.clock) as u32).max(1);
            let end = self.clock + u64::from(frames);
            let mut block_inputs = Vec::new();
            while next < inputs.len() && inputs[next].0 < end {
                block_inputs.push(((inputs[next].0 - self.clock) as u32, inputs[next].1));
                next += 1;
            }
            sent.extend(self.process(frames, &block_inputs));
        }
        sent
    }
}

impl Default for PluginUnderTest {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PluginUnderTest {
    fn drop(&mut self) {
        self.deactivate();
    }
}

/// The (channel, key) voices still sounding after `notes`. Panics on a
/// note-on for a voice that already sounds.
pub fn sounding_after(notes: &[SentNote]) -> Vec<(u8, u8)> {
    let mut sounding: Vec<(u8, u8)> = Vec::new();
    for note in notes {
        let voice = (note.channel, note.key);
        if note.on {
            assert!(
                !sounding.contains(&voice),
                "note-on for a sounding note {voice:?} at {}",
                note.sample
            );
            sounding.push(voice);
        } else {
            sounding.retain(|v| *v != voice);
        }
    }
    sounding
}

/// A note the plugin played: onset and end samples, channel and key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayedNote {
    /// The note-on's sample.
    pub on: u64,
    /// The note-off's sample.
    pub off: u64,
    /// MIDI channel.
    pub channel: u8,
    /// MIDI key.
    pub key: u8,
}

/// The notes in `sent` with their lengths (note-ons without a note-off are
/// left out).
pub fn played_notes(sent: &[SentNote]) -> Vec<PlayedNote> {
    let mut open: Vec<(u8, u8, u64)> = Vec::new();
    let mut notes = Vec::new();
    for note in sent {
        if note.on {
            open.push((note.channel, note.key, note.sample));
        } else if let Some(i) = open
            .iter()
            .position(|&(c, k, _)| (c, k) == (note.channel, note.key))
        {
            let (channel, key, on) = open.remove(i);
            notes.push(PlayedNote {
                on,
                off: note.sample,
                channel,
                key,
            });
        }
    }
    notes.sort_by_key(|n| (n.on, n.key));
    notes
}

/// The distinct onset samples of the note-ons in `notes`.
pub fn onsets(notes: &[SentNote]) -> Vec<u64> {
    let mut onsets: Vec<u64> = notes.iter().filter(|n| n.on).map(|n| n.sample).collect();
    onsets.dedup();
    onsets
}

/// Whether `sample` lies on a grid step of `step_beats` at `samples_per_beat`
/// (within one sample, since steps fall between samples).
pub fn on_grid(sample: u64, samples_per_beat: f64, step_beats: f64) -> bool {
    let steps = sample as f64 / (samples_per_beat * step_beats);
    let nearest = steps.round() * samples_per_beat * step_beats;
    (nearest - sample as f64).abs() <= 1.0
}

/// The longest stretch from `from` to `to` (samples) without an onset of
/// `onsets`: what a test of "it keeps playing" bounds, since how many notes
/// a sampled performance plays is the model's business.
pub fn longest_silence(onsets: &[u64], from: u64, to: u64) -> u64 {
    let mut last = from;
    let mut longest = 0;
    for &at in onsets.iter().filter(|&&at| at >= from && at < to) {
        longest = longest.max(at - last);
        last = at;
    }
    longest.max(to - last)
}
