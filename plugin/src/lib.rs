//! Pianola as a CLAP/VST3 plugin: the player's notes go into the LSTM's
//! window, predicted notes come out on the host's beat grid.
//!
//! All musical work is `pianola_core`'s [`Performer`]; this crate maps the
//! host's note events, transport and parameters into it, and its notes back
//! out. The performer's worker thread runs the network; the audio thread
//! only moves events.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nice_plug::midi::{Channel, Key, VoiceID};
use nice_plug::prelude::*;
use pianola_core::midi_file::TimeSignature;
use pianola_core::perform::{
    self, Performer, Transport as CoreTransport, WorkerThread, midi_velocity,
};

use activity::{Activity, ActivityWriter, BlockActivity};

pub mod activity;
pub mod capture;
pub mod editor;
mod model_slot;
pub mod params;
mod session_state;

pub use model_slot::{ModelChoice, ModelFacts, ModelSlot};
pub use params::PianolaParams;

/// The most player notes one block may bring; more are dropped.
const INPUT_CAPACITY: usize = 1024;
/// The most notes of one block the activity records (all are sent).
const OUTPUT_CAPACITY: usize = 4096;

/// The plugin.
pub struct Pianola {
    params: Arc<PianolaParams>,
    performer: Option<Performer>,
    /// Keeps the worker running; dropping it stops the thread.
    worker: Option<WorkerThread>,
    sample_rate: f64,
    /// The block's player notes, in the performer's terms.
    input: Vec<perform::NoteEvent>,
    /// The block's notes sent, for the activity.
    output: Vec<perform::NoteEvent>,
    /// Set by reset and deactivate: end every note in the next block.
    end_notes: bool,
    bypassed: bool,
    all_notes_off_held: bool,
    /// Note events the host refused (counted on the audio thread, reported
    /// once by the worker thread).
    refused_events: Arc<AtomicU64>,
    /// What the editor shows and Capture writes, read off the audio thread.
    activity: Activity,
    /// The audio thread's end of `activity`.
    activity_writer: ActivityWriter,
}

impl Default for Pianola {
    fn default() -> Self {
        let (activity, activity_writer) = Activity::new();
        Self {
            params: Arc::new(PianolaParams::default()),
            performer: None,
            worker: None,
            sample_rate: 48_000.0,
            input: Vec::with_capacity(INPUT_CAPACITY),
            output: Vec::with_capacity(OUTPUT_CAPACITY),
            end_notes: false,
            bypassed: false,
            all_notes_off_held: false,
            refused_events: Arc::new(AtomicU64::new(0)),
            activity,
            activity_writer,
        }
    }
}

/// The performer's note as a host event.
fn to_host(event: perform::NoteEvent) -> PluginNoteEvent<Pianola> {
    match event {
        perform::NoteEvent::On {
            offset,
            channel,
            key,
            velocity,
        } => NoteEvent::NoteOn {
            timing: offset,
            voice_id: VoiceID::Wildcard,
            channel: Channel::Number(channel),
            key: Key::Number(key),
            velocity: f32::from(velocity) / 127.0,
        },
        perform::NoteEvent::Off {
            offset,
            channel,
            key,
            velocity,
        } => NoteEvent::NoteOff {
            timing: offset,
            voice_id: VoiceID::Wildcard,
            channel: Channel::Number(channel),
            key: Key::Number(key),
            velocity: f32::from(velocity) / 127.0,
        },
    }
}

/// A host note event in the performer's terms (`None`: not a note, or a
/// wildcard key).
fn from_host(event: &PluginNoteEvent<Pianola>) -> Option<perform::NoteEvent> {
    match *event {
        NoteEvent::NoteOn {
            timing,
            channel,
            key: Key::Number(key),
            velocity,
            ..
        } => Some(perform::NoteEvent::struck(
            timing,
            channel.number().unwrap_or(0),
            key,
            midi_velocity(velocity),
        )),
        NoteEvent::NoteOff {
            timing,
            channel,
            key: Key::Number(key),
            velocity,
            ..
        } => Some(perform::NoteEvent::released(
            timing,
            channel.number().unwrap_or(0),
            key,
            midi_velocity(velocity),
        )),
        NoteEvent::Choke {
            timing,
            channel,
            key: Key::Number(key),
            ..
        } => Some(perform::NoteEvent::released(
            timing,
            channel.number().unwrap_or(0),
            key,
            0,
        )),
        _ => None,
    }
}

/// Sends the performer's `event` to the host (counting a refusal) and
/// keeps it in `output` for the activity while there is room.
fn send(
    context: &mut impl ProcessContext<Pianola>,
    output: &mut Vec<perform::NoteEvent>,
    refused: &AtomicU64,
    event: perform::NoteEvent,
) {
    if output.len() < output.capacity() {
        output.push(event);
    }
    if context.try_send_event(to_host(event)).is_err() {
        refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// A sampler seed that differs between plugin instances.
fn instance_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Plugin for Pianola {
    const NAME: &'static str = "Pianola";
    const VENDOR: &'static str = "Pianola";
    const URL: &'static str = "";
    const EMAIL: &'static str = "";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// A silent stereo output, so that hosts which want audio from every
    /// plugin (Ableton Live) load it.
    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[AudioIOLayout {
        main_input_channels: None,
        main_output_channels: NonZeroU32::new(2),
        ..AudioIOLayout::const_default()
    }];
    const MIDI_INPUT: MidiConfig = MidiConfig::Basic;
    const MIDI_OUTPUT: MidiConfig = MidiConfig::Basic;
    const INPUT_EVENT_CAPACITY: usize = INPUT_CAPACITY;

    type Editor = editor::PianolaEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        Some(editor::PianolaEditor::new(
            self.params.clone(),
            self.activity.clone(),
        ))
    }

    fn activate(
        &mut self,
        _audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.sample_rate = f64::from(buffer_config.sample_rate);
        if self.performer.is_none() {
            let network = model_slot::built_in_network();
            let settings = self.params.performer_settings();
            let (performer, mut worker) = Performer::new(network, settings, instance_seed());
            worker.publish_next_tokens(self.activity.next_tokens_sink());
            worker.share_session(self.params.session.0.clone());
            self.params.model.attach(worker.control());
            let refused = self.refused_events.clone();
            let activity = self.activity.clone();
            let mut reported = false;
            let mut lost_reported = 0;
            self.worker = Some(worker.spawn_with_idle_chore(move || {
                activity.collect();
                let lost = activity.lost_messages();
                if lost > lost_reported {
                    lost_reported = lost;
                    nice_warn!("{}", editor::model_panel::lost_text(lost));
                }
                let count = refused.load(Ordering::Relaxed);
                if count > 0 && !reported {
                    reported = true;
                    nice_warn!(
                        "the host refused {count} of Pianola's note events. Pianola sends CLAP \
                         note events; a host whose note input takes only MIDI events (Carla \
                         2.6) drops them: host Pianola as VST3 there."
                    );
                }
            }));
            self.performer = Some(performer);
        }
        self.end_notes = true;
        true
    }

    fn reset(&mut self) {
        self.end_notes = true;
    }

    fn deactivate(&mut self) {
        // The host takes no events now; the notes still sounding end at the
        // start of the next block after reactivation.
        self.end_notes = true;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        for channel in buffer.as_slice() {
            channel.fill(0.0);
        }
        let frames = buffer.samples() as u32;
        let Some(performer) = self.performer.as_mut() else {
            return ProcessStatus::Normal;
        };

        let bypass = self.params.bypass.value();
        let host = context.transport();
        let transport = CoreTransport {
            sample_rate: self.sample_rate,
            tempo: host.tempo,
            playing: host.playing,
            position_beats: host.pos_beats(),
            position_samples: host.pos_samples.or_else(|| {
                host.pos_seconds
                    .map(|s| (s * self.sample_rate).round() as i64)
            }),
        };

        let meter = TimeSignature {
            numerator: host.time_sig_numerator.map_or(4, |n| n.clamp(1, 255) as u8),
            denominator: host
                .time_sig_denominator
                .map_or(4, |d| d.clamp(1, 128) as u8),
        };

        // Output goes to the host in time order, and into the activity
        // once the performer has placed the block on its beat line.
        // Note-offs owed from before this block (a reset or deactivation,
        // bypass switching on) go out at offset 0, before anything else.
        let refused = &self.refused_events;
        self.output.clear();
        if self.end_notes || (bypass && !self.bypassed) {
            self.end_notes = false;
            performer.reset(&mut |event| send(context, &mut self.output, refused, event));
        }
        self.bypassed = bypass;

        self.input.clear();
        while let Some(event) = context.next_event() {
            if bypass {
                if context.try_send_event(event).is_err() {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            } else if let Some(event) = from_host(&event)
                && self.input.len() < self.input.capacity()
            {
                self.input.push(event);
            }
        }
        if bypass {
            return ProcessStatus::KeepAlive;
        }
        let output = &mut self.output;
        let mut send = |event| send(context, output, refused, event);
        let settings = self.params.performer_settings();
        let all_notes_off = self.params.all_notes_off.value();
        if all_notes_off && !self.all_notes_off_held {
            performer.all_notes_off(0, &mut send);
        }
        self.all_notes_off_held = all_notes_off;
        if settings != *performer.settings() {
            performer.set_settings(settings, &mut send);
        }
        performer.process(&transport, frames, &self.input, &mut send);

        self.activity_writer.block(
            performer,
            BlockActivity {
                input: &self.input,
                output: &self.output,
                thru: settings.thru,
                frames,
                bpm: pianola_core::tempo::host_bpm(transport.tempo),
                meter,
                playing: transport.playing,
            },
        );
        ProcessStatus::KeepAlive
    }
}

impl ClapPlugin for Pianola {
    const CLAP_ID: &'static str = "dev.pianola.pianola";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("An LSTM that listens to your playing and plays along on the beat");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[ClapFeature::NoteEffect, ClapFeature::Utility];
}

impl Vst3Plugin for Pianola {
    const VST3_CLASS_ID: [u8; 16] = *b"PianolaLstmPlay!";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Instrument, Vst3SubCategory::Generator];
}

nice_export_clap!(Pianola);
nice_export_vst3!(Pianola);
