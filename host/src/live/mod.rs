//! `pianola ports` and `pianola live`: jam with the model through real MIDI
//! ports, no DAW needed.
//!
//! The performer from `pianola_core` runs in an [`engine::Engine`] on a
//! timing thread: JACK's process callback (`--backend jack`, sample-accurate
//! per period) or a 1 ms steady-clock thread (ALSA, via midir, whose input
//! callback only queues messages). The main thread shows the status line,
//! collects the recording and handles Ctrl-C: every sounding note ends, the
//! recording is written, and the command exits cleanly.
//!
//! If a connected port goes away mid-session (or the JACK server stops),
//! Pianola ends its notes, says which, writes the recording and exits with
//! an error: a session that lost its keyboard or synth should not go on
//! silently.

pub mod alsa_backend;
pub mod clock;
pub mod engine;
pub mod jack_backend;
pub mod ports;
pub mod record;

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use pianola_core::duet::{Chords, DuetSettings, Range};
use pianola_core::key::{KeyMode, parse_scale};
use pianola_core::perform::{
    AnswerLength, Division, Feel, Mode, Named, Performer, PerformerSettings, Velocity,
};
use pianola_core::predictor::Network;
use pianola_core::sample::SamplerSettings;
use pianola_core::token::Token;
use rtrb::{Consumer, RingBuffer};

use self::clock::{Clock, ClockSource};
use self::engine::{Engine, LiveStatus, Recorded};

/// Where the MIDI ports live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The system's MIDI ports, through midir: the ALSA sequencer on Linux
    /// (hardware and software ports), Windows' own MIDI (WinMM) on Windows;
    /// `system` names it too.
    #[value(alias = "system")]
    Alsa,
    /// A running JACK server.
    Jack,
}

/// `pianola ports`.
#[derive(Args, Debug)]
pub struct PortsArgs {
    /// Where to look for ports.
    #[arg(long, value_enum, default_value = "alsa")]
    backend: Backend,
}

/// `pianola live`.
#[derive(Args, Debug)]
pub struct LiveArgs {
    /// The port to listen to: its number in `pianola ports`, or part of its name.
    #[arg(long)]
    input: String,
    /// The port to play into: its number in `pianola ports`, or part of its name.
    #[arg(long)]
    output: String,
    /// Where the ports live.
    #[arg(long, value_enum, default_value = "alsa")]
    backend: Backend,
    /// Pianola's own tempo (with --clock: the tempo until the clock ticks).
    #[arg(long, default_value_t = pianola_core::tempo::DEFAULT_BPM)]
    bpm: f64,
    /// Follow MIDI clock on the input (24 ticks per beat, start/stop/continue).
    #[arg(long)]
    clock: bool,
    /// Send MIDI clock at Pianola's own tempo on the output.
    #[arg(long, conflicts_with = "clock")]
    send_clock: bool,
    /// How to answer: continue, respond or echo.
    #[arg(long, default_value = "continue", value_parser = parse_mode)]
    mode: Mode,
    /// The grid: 1/4, 1/8, 1/8t, 1/16 or 1/16t.
    #[arg(long, default_value = "1/8", value_parser = parse_division)]
    division: Division,
    /// `model`: the model's timing, lengths, velocities and chord voicing;
    /// `grid`: one event per division step (the seed's way).
    #[arg(long, default_value = "model", value_parser = parse_feel)]
    feel: Feel,
    /// `follow`: play as loud as you have over the last bar (with --feel
    /// model, the model's contour around it); or a number: with --feel
    /// model, the model's velocities scaled by it (0.25..2).
    #[arg(long, default_value = "1", value_parser = parse_dynamics)]
    dynamics: Dynamics,
    /// How much room to leave you while you play (0..1): 0 none, 0.5 no
    /// more notes than you play, 0.75 one for three of yours, 1 silent
    /// while you play. When you rest Pianola carries on.
    #[arg(long, default_value_t = DuetSettings::default().space)]
    space: f32,
    /// Where Pianola plays: `anywhere`, `below` your lowest note of the
    /// last bar, `above` your highest, `around` (within an octave of
    /// yours), or between two keys such as `C2-C4`.
    #[arg(long, default_value = "anywhere", value_parser = Range::parse)]
    range: (Range, Option<(u8, u8)>),
    /// `follow`: fit the chord you play (three notes or more) until your
    /// next one: its tones favoured, notes outside its scale avoided; `off`.
    #[arg(long, default_value = "off", value_parser = parse_chords)]
    chords: Chords,
    /// With --feel model: a planned event due within this many beats of
    /// your note still plays; later ones are predicted again from it (0..1).
    #[arg(long, default_value_t = 0.125)]
    commit: f64,
    /// Keep to a key: `follow` (the key of what is played, estimated as it
    /// goes), `off`, or a key or scale such as "A minor" or "D dorian".
    #[arg(long, default_value = "off", value_parser = parse_key)]
    key: KeyArg,
    /// Softmax temperature (0: always the most likely token; at most 2).
    #[arg(long, default_value_t = SamplerSettings::default().temperature)]
    temperature: f32,
    /// How much the session memory leads (0..=1; 0: the network alone):
    /// phrases heard in the session, yours most, come back.
    #[arg(long, default_value_t = SamplerSettings::default().memory, value_parser = crate::memory_amount)]
    memory: f32,
    /// How far Pianola follows the texture of your playing: how many keys
    /// at once, how far apart, over which keys, no pitch class more often
    /// than you (0..=1; 0: the model's own).
    #[arg(long, default_value_t = SamplerSettings::default().texture, value_parser = crate::texture_amount)]
    texture: f32,
    /// *respond*: beats of silence before answering.
    #[arg(long, default_value_t = PerformerSettings::default().silence_beats)]
    silence: f64,
    /// *respond*: steps per answer (0: as many as you played).
    #[arg(long, default_value_t = 8)]
    answer_length: u32,
    /// A weights file, or `builtin` [default: the model built into
    /// pianola].
    #[arg(long, value_name = "FILE|builtin")]
    model: Option<PathBuf>,
    /// Pass your notes through to the output too.
    #[arg(long)]
    thru: bool,
    /// Write the session (your notes and Pianola's, two tracks) to this MIDI file.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Sampler seed, for repeatable takes: the same seed and the same
    /// playing give the same answers [default: from the clock].
    #[arg(long, env = pianola_core::perform::SEED_ENV)]
    seed: Option<u64>,
}

/// What `--key` asks for, and the name the user gave it (for the status
/// line).
#[derive(Clone, Debug, PartialEq)]
struct KeyArg {
    mode: KeyMode,
    name: String,
}

fn parse_key(text: &str) -> Result<KeyArg, String> {
    let mode = match text.trim().to_ascii_lowercase().as_str() {
        "off" => KeyMode::Free,
        "follow" => KeyMode::Follow,
        _ => parse_scale(text)
            .map(KeyMode::Scale)
            .map_err(|e| format!("{e}; or `follow`, or `off`"))?,
    };
    Ok(KeyArg {
        mode,
        name: text.trim().to_string(),
    })
}

/// Reads one of a [`Named`] choice's values by name; else the error lists
/// them, calling the value `what`.
fn parse_named<T: Named>(text: &str, what: &str) -> Result<T, String> {
    T::from_name(text).ok_or_else(|| format!("not a {what}; one of {}", T::names().join(", ")))
}

/// What `--dynamics` asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dynamics {
    /// The player's loudness.
    Follow,
    /// The model's velocities, scaled.
    Scaled(f64),
}

fn parse_dynamics(text: &str) -> Result<Dynamics, String> {
    if text.trim().eq_ignore_ascii_case("follow") {
        return Ok(Dynamics::Follow);
    }
    text.trim()
        .parse()
        .map(Dynamics::Scaled)
        .map_err(|_| "`follow`, or a scale such as 0.8".to_string())
}

fn parse_chords(text: &str) -> Result<Chords, String> {
    parse_named(text, "chord setting")
}

fn parse_mode(text: &str) -> Result<Mode, String> {
    parse_named(text, "mode")
}

fn parse_feel(text: &str) -> Result<Feel, String> {
    parse_named(text, "feel")
}

fn parse_division(text: &str) -> Result<Division, String> {
    parse_named(text, "division")
}

/// `pianola ports`: the numbered input and output ports.
pub fn ports(args: &PortsArgs) -> anyhow::Result<()> {
    let (inputs, outputs) = match args.backend {
        Backend::Alsa => alsa_backend::port_names()?,
        Backend::Jack => jack_backend::port_names(&jack_backend::connect()?),
    };
    print!(
        "inputs (Pianola listens to one):\n{}outputs (Pianola plays into one):\n{}",
        ports::listing(&inputs),
        ports::listing(&outputs)
    );
    Ok(())
}

/// Either backend's running session.
enum Session {
    Alsa(alsa_backend::Session),
    Jack(jack_backend::Session),
}

impl Session {
    fn connected(&self) -> &(String, String) {
        match self {
            Session::Alsa(s) => &s.connected,
            Session::Jack(s) => &s.connected,
        }
    }

    fn lost(&self) -> Option<String> {
        match self {
            Session::Alsa(s) => s.lost(),
            Session::Jack(s) => s.lost(),
        }
    }

    /// Whether a port connected to Pianola's output since the last call
    /// (JACK tells; ALSA does not).
    fn output_connected(&self) -> bool {
        match self {
            Session::Alsa(_) => false,
            Session::Jack(s) => s.output_connected(),
        }
    }

    fn close(self) {
        match self {
            Session::Alsa(s) => s.close(),
            Session::Jack(s) => s.close(),
        }
    }
}

/// A key's name for the status line.
fn key_name(key_plus_one: u64) -> String {
    match key_plus_one
        .checked_sub(1)
        .and_then(|k| u8::try_from(k).ok())
    {
        Some(key) => Token::Note(key).to_string(),
        None => "-".to_string(),
    }
}

/// The performer's settings from the command line, each inside its range
/// (`pianola_core::perform::range`).
fn performer_settings(args: &LiveArgs) -> PerformerSettings {
    PerformerSettings {
        mode: args.mode,
        division: args.division,
        feel: args.feel,
        dynamics: match args.dynamics {
            Dynamics::Scaled(scale) => scale,
            Dynamics::Follow => PerformerSettings::default().dynamics,
        },
        velocity: match args.dynamics {
            Dynamics::Scaled(_) => PerformerSettings::default().velocity,
            Dynamics::Follow => Velocity::FollowPlayer,
        },
        commit_beats: args.commit,
        thru: args.thru,
        silence_beats: args.silence,
        answer_length: match args.answer_length {
            0 => AnswerLength::AsLongAsCall,
            n => AnswerLength::Steps(n),
        },
        sampler: SamplerSettings {
            temperature: args.temperature,
            key: args.key.mode,
            memory: args.memory,
            texture: args.texture,
            duet: DuetSettings {
                space: args.space,
                range: args.range.0,
                keys: args.range.1.unwrap_or(DuetSettings::default().keys),
                chords: args.chords,
            },
            ..SamplerSettings::default()
        },
        seed: args.seed,
        ..PerformerSettings::default()
    }
    .clamped()
}

/// The status line: mode, tempo, key, window fill, last notes in and out.
fn status_line(mode: Mode, key: &KeyArg, status: &LiveStatus, window: usize) -> String {
    let tokens = status.tokens.load(Ordering::Relaxed);
    let key = match key.mode {
        KeyMode::Free => String::new(),
        KeyMode::Scale(_) => format!(" · key {}", key.name),
        KeyMode::Follow => match status.followed_key.load() {
            Some(key) => format!(" · key {key} (following)"),
            None => " · key following".to_string(),
        },
    };
    let lost = match status.lost_messages.load(Ordering::Relaxed) {
        0 => String::new(),
        n => format!(" · lost {n}"),
    };
    format!(
        "{} · {:.1} BPM{}{key} · window {}/{} · in {} · out {} · late {}{lost}",
        mode.name(),
        status.tempo(),
        if status.running.load(Ordering::Relaxed) {
            ""
        } else {
            " (stopped)"
        },
        tokens.min(window as u64),
        window,
        key_name(status.last_in.load(Ordering::Relaxed)),
        key_name(status.last_out.load(Ordering::Relaxed)),
        status.late_steps.load(Ordering::Relaxed),
    )
}

/// `pianola live`.
pub fn run(args: &LiveArgs) -> anyhow::Result<()> {
    pianola_core::tempo::checked_bpm(args.bpm).context("--bpm")?;
    if let Some(path) = &args.record {
        // Found out now, not after the jam.
        pianola_core::atomic_file::check_writable(path)
            .with_context(|| format!("--record {}: cannot write there", path.display()))?;
    }
    let model = crate::generate::load_model(args.model.as_deref())?;
    let window = model.params.config.window;
    let network = Arc::new(Network::new(&model).context("preparing the network")?);
    let settings = performer_settings(args);
    let clock_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let (performer, worker) = Performer::new(network, settings, clock_seed);
    let memory = worker.session();
    let _worker = worker.spawn();

    let status = Arc::new(LiveStatus::default());
    let (record_in, mut record_out) = match args.record {
        Some(_) => {
            let (producer, consumer) = RingBuffer::<Recorded>::new(1 << 16);
            (Some(producer), Some(consumer))
        }
        None => (None, None),
    };
    let source = if args.clock {
        ClockSource::Midi(args.bpm)
    } else {
        ClockSource::Own(args.bpm)
    };
    let engine_status = status.clone();
    let send_clock = args.send_clock;
    let make_engine = move |sample_rate| {
        Engine::new(
            performer,
            Clock::new(source, sample_rate),
            engine_status,
            record_in,
            send_clock,
        )
    };

    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    // Ctrl-C, SIGTERM and SIGHUP (a closed terminal) all end the session
    // cleanly.
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C, SIGTERM and SIGHUP handler")?;

    let (session, sample_rate) = match args.backend {
        Backend::Alsa => {
            let session = alsa_backend::Session::start(make_engine, &args.input, &args.output)?;
            (Session::Alsa(session), alsa_backend::SAMPLE_RATE)
        }
        Backend::Jack => {
            let client = jack_backend::connect()?;
            let session =
                jack_backend::Session::start(client, make_engine, &args.input, &args.output)?;
            let rate = session.sample_rate();
            (Session::Jack(session), rate)
        }
    };
    // The output is connected now: a clock follower on it hears Start.
    status.start_wanted.store(true, Ordering::SeqCst);
    let (input, output) = session.connected().clone();
    eprintln!(
        "pianola live: listening to {input}, playing into {output} ({:?}, {} Hz, {}); Ctrl-C stops",
        args.backend,
        sample_rate,
        if args.clock {
            "following MIDI clock".to_string()
        } else {
            format!("{} BPM", args.bpm)
        }
    );

    let mut recorded: Vec<Recorded> = Vec::new();
    let show_status = std::io::stderr().is_terminal();
    let mut last_line = String::new();
    let lost = loop {
        std::thread::sleep(Duration::from_millis(50));
        drain(&mut record_out, &mut recorded);
        if show_status {
            let line = format!(
                "{} · memory {}",
                status_line(args.mode, &args.key, &status, window),
                memory.len()
            );
            if line != last_line {
                eprint!("\r{line}\x1b[K");
                let _ = std::io::stderr().flush();
                last_line = line;
            }
        }
        if session.output_connected() {
            status.start_wanted.store(true, Ordering::SeqCst);
        }
        if interrupted.load(Ordering::SeqCst) {
            break None;
        }
        if let Some(reason) = session.lost() {
            break Some(reason);
        }
    };
    if show_status {
        eprintln!();
    }

    // Every note ends before the ports close.
    status.stop_requested.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(2);
    while !status.stopped.load(Ordering::Acquire) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let ended = status.stopped.load(Ordering::Acquire);
    // The notes-off are in the last period's output buffer: let the
    // next few periods carry them to the other side before closing.
    std::thread::sleep(Duration::from_millis(50));
    session.close();
    drain(&mut record_out, &mut recorded);

    let recording = match &args.record {
        // At the session's tempo (with --clock, the last the clock gave),
        // so the file's beats are the jam's.
        Some(path) => Some(keep_recording(
            path,
            &recorded,
            sample_rate,
            status.tempo(),
        )?),
        None => None,
    };
    let dropped = status.dropped_records.load(Ordering::Relaxed);
    if dropped > 0 {
        eprintln!("warning: the recording lost {dropped} messages (its queue was full)");
    }
    eprintln!("{} · memory {} events", summary(&status), memory.len());
    let notes_ended = if ended {
        "every note was ended"
    } else {
        "Pianola's timing thread stopped before it could send its note-offs, so a synth \
         still running may hold notes"
    };
    match (lost, recording) {
        (Some(reason), _) => bail!("{reason}: {notes_ended}; the session is over"),
        (None, Some(Err(kept))) => bail!("{kept}"),
        (None, _) if !ended => bail!("stopped: {notes_ended}"),
        (None, _) => {
            eprintln!("stopped: every note ended");
            Ok(())
        }
    }
}

/// The line printed at the end of a session.
fn summary(status: &LiveStatus) -> String {
    let mut line = format!(
        "pianola live: {} notes in, {} notes out, {} late steps",
        status.notes_in.load(Ordering::Relaxed),
        status.notes_out.load(Ordering::Relaxed),
        status.late_steps.load(Ordering::Relaxed),
    );
    let lost = status.lost_messages.load(Ordering::Relaxed);
    if lost > 0 {
        line.push_str(&format!(
            ", {lost} messages to the model lost (its queue was full; healed)"
        ));
    }
    line
}

/// Writes the recording to `path`, saying so. If that fails, the jam is
/// kept in the working directory (or the temporary one): the result is then
/// an `Err` that says why and where it went. Fails only if it could be kept
/// nowhere.
fn keep_recording(
    path: &std::path::Path,
    recorded: &[Recorded],
    sample_rate: f64,
    bpm: f64,
) -> anyhow::Result<Result<(), String>> {
    let played = record::pianola_notes(recorded);
    let error = match record::write(path, recorded, sample_rate, bpm) {
        Ok(()) => {
            eprintln!("recorded {} ({played} of Pianola's notes)", path.display());
            return Ok(Ok(()));
        }
        Err(error) => error,
    };
    let name = format!(
        "pianola-jam-{}.mid",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    );
    let places = [std::env::current_dir().ok(), Some(std::env::temp_dir())];
    for dir in places.into_iter().flatten() {
        let kept = dir.join(&name);
        if record::write(&kept, recorded, sample_rate, bpm).is_ok() {
            return Ok(Err(format!(
                "could not write the recording to {}: {error}; the jam is kept in {}",
                path.display(),
                kept.display()
            )));
        }
    }
    bail!(
        "could not write the recording to {} ({error}), nor keep it in the working or \
         temporary directory",
        path.display()
    )
}

fn drain(queue: &mut Option<Consumer<Recorded>>, into: &mut Vec<Recorded>) {
    if let Some(queue) = queue {
        while let Ok(note) = queue.pop() {
            into.push(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_shows_mode_tempo_window_and_notes() {
        let status = LiveStatus::default();
        status
            .tempo_bits
            .store(96.5f64.to_bits(), Ordering::Relaxed);
        status.tokens.store(140, Ordering::Relaxed);
        status.last_in.store(61, Ordering::Relaxed);
        status.running.store(true, Ordering::Relaxed);
        let off = parse_key("off").unwrap();
        let line = status_line(Mode::Respond, &off, &status, 100);
        assert_eq!(
            line,
            "respond · 96.5 BPM · window 100/100 · in C4 · out - · late 0"
        );
        status.lost_messages.store(3, Ordering::Relaxed);
        assert!(status_line(Mode::Respond, &off, &status, 100).ends_with(" · lost 3"));
        assert!(summary(&status).contains("3 messages to the model lost"));
        status.lost_messages.store(0, Ordering::Relaxed);
        status.running.store(false, Ordering::Relaxed);
        assert!(status_line(Mode::Echo, &off, &status, 100).contains("BPM (stopped)"));
        let follow = parse_key("follow").unwrap();
        assert!(status_line(Mode::Echo, &follow, &status, 100).contains(" · key following ·"));
        let a_minor = pianola_core::key::Key::parse("A minor").unwrap();
        status.followed_key.store(Some(a_minor));
        assert!(
            status_line(Mode::Echo, &follow, &status, 100).contains(" · key A minor (following) ·")
        );
        let fixed = parse_key("D dorian").unwrap();
        assert!(status_line(Mode::Echo, &fixed, &status, 100).contains(" · key D dorian ·"));
        assert!(parse_key("H major").is_err());
    }
}
