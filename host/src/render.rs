//! `pianola render`: a MIDI file to a WAV file through a SoundFont
//! (rustysynth).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rustysynth::{MidiFile, MidiFileSequencer, SoundFont, Synthesizer, SynthesizerSettings};

/// The sample rate when none is asked for.
pub const DEFAULT_SAMPLE_RATE: u32 = 44_100;

/// Where SoundFonts are looked for when none is given.
const SOUNDFONT_FOLDERS: [&str; 2] = ["/usr/share/sounds/sf2", "/usr/share/soundfonts"];

/// The peak a rendered piece is brought to unless asked otherwise, in dB
/// below full scale.
pub const TARGET_PEAK_DBFS: f32 = -1.0;

/// How loud a rendered piece is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Level {
    /// One gain for the whole piece that brings its peak to
    /// [`TARGET_PEAK_DBFS`] (the dynamics stay as played).
    Normalize,
    /// This gain in dB on the SoundFont's output (samples past full scale
    /// are clipped, and counted).
    Gain(f32),
    /// The SoundFont's own level, scaled down only if it would clip.
    Native,
}

impl Level {
    /// The gain for a piece whose loudest sample is `peak` (full scale 1).
    pub fn gain(self, peak: f32) -> f32 {
        let full = |db: f32| 10f32.powf(db / 20.0);
        match self {
            Level::Normalize if peak > 0.0 => full(TARGET_PEAK_DBFS) / peak,
            Level::Normalize => 1.0,
            Level::Gain(db) => full(db),
            Level::Native if peak > 1.0 => 1.0 / peak,
            Level::Native => 1.0,
        }
    }
}

/// The level options of `render` and `generate --wav`.
#[derive(Args, Clone, Copy, Debug)]
pub struct LevelArgs {
    /// Apply this gain in dB to the SoundFont's output instead of bringing
    /// the piece's peak to -1 dBFS.
    #[arg(
        long,
        value_name = "DB",
        allow_hyphen_values = true,
        conflicts_with = "no_normalize"
    )]
    gain: Option<f32>,
    /// Keep the SoundFont's own level (scaled down only if it would clip).
    #[arg(long)]
    no_normalize: bool,
}

impl LevelArgs {
    /// The level asked for.
    pub fn level(&self) -> anyhow::Result<Level> {
        match (self.gain, self.no_normalize) {
            (Some(db), _) if !db.is_finite() || db.abs() > 60.0 => {
                bail!("--gain must be within -60 and 60 dB")
            }
            (Some(db), _) => Ok(Level::Gain(db)),
            (None, true) => Ok(Level::Native),
            (None, false) => Ok(Level::Normalize),
        }
    }
}

/// Arguments of `pianola render`.
#[derive(Args)]
pub struct RenderArgs {
    /// The MIDI file to render.
    midi: PathBuf,
    /// The WAV file to write.
    #[arg(long)]
    out: PathBuf,
    /// SoundFont (.sf2) [default: the first found in /usr/share/sounds/sf2, /usr/share/soundfonts]
    #[arg(long)]
    soundfont: Option<PathBuf>,
    /// Samples per second.
    #[arg(long, default_value_t = DEFAULT_SAMPLE_RATE)]
    sample_rate: u32,
    #[command(flatten)]
    level: LevelArgs,
}

/// Runs `pianola render`.
pub fn run(args: &RenderArgs) -> anyhow::Result<()> {
    render_file(
        &args.midi,
        &args.out,
        args.soundfont.as_deref(),
        args.sample_rate,
        args.level.level()?,
    )
}

/// The first `.sf2` in the usual folders.
pub fn find_soundfont() -> anyhow::Result<PathBuf> {
    for folder in SOUNDFONT_FOLDERS {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("sf2")))
            .collect();
        found.sort();
        if let Some(path) = found.into_iter().next() {
            return Ok(path);
        }
    }
    bail!(
        "no SoundFont found in {}: install one (Debian: `apt-get install timgm6mb-soundfont` or `fluid-soundfont-gm`) or pass --soundfont FILE.sf2",
        SOUNDFONT_FOLDERS.join(" or ")
    )
}

/// Plays `song` through `font` into left and right sample buffers, as long
/// as the song (up to its last event).
pub fn synthesize(
    song: &Arc<MidiFile>,
    font: &Arc<SoundFont>,
    sample_rate: u32,
) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
    let settings = SynthesizerSettings::new(sample_rate as i32);
    let synthesizer = Synthesizer::new(font, &settings)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("starting the synthesizer")?;
    let mut sequencer = MidiFileSequencer::new(synthesizer);
    sequencer.play(song, false);
    let frames = (song.get_length() * f64::from(sample_rate)).ceil() as usize;
    let (mut left, mut right) = (vec![0.0f32; frames], vec![0.0f32; frames]);
    let block = sample_rate as usize; // one second at a time, for the progress bar
    let bar = ProgressBar::new(frames as u64).with_style(
        ProgressStyle::with_template("rendering {bar:30} {percent} % · ETA {eta}")
            .expect("a valid template"),
    );
    if frames < 60 * sample_rate as usize {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
        sequencer.render(l, r);
        bar.inc(l.len() as u64);
    }
    bar.finish_and_clear();
    Ok((left, right))
}

/// Finds (when `path` is `None`) and reads a SoundFont.
pub fn load_soundfont(path: Option<&Path>) -> anyhow::Result<(PathBuf, SoundFont)> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => find_soundfont()?,
    };
    let font = File::open(&path)
        .map_err(anyhow::Error::from)
        .and_then(|mut f| SoundFont::new(&mut f).map_err(|e| anyhow::anyhow!("{e:?}")))
        .with_context(|| format!("reading the SoundFont {}", path.display()))?;
    Ok((path, font))
}

/// Renders `midi` to a 16-bit stereo WAV at `sample_rate` and `level`,
/// written atomically.
pub fn render_file(
    midi: &Path,
    out: &Path,
    soundfont: Option<&Path>,
    sample_rate: u32,
    level: Level,
) -> anyhow::Result<()> {
    if !(8_000..=192_000).contains(&sample_rate) {
        bail!("--sample-rate must be within 8000 and 192000");
    }
    let (soundfont, font) = load_soundfont(soundfont)?;
    let song = File::open(midi)
        .map_err(anyhow::Error::from)
        .and_then(|mut f| MidiFile::new(&mut f).map_err(|e| anyhow::anyhow!("{e:?}")))
        .with_context(|| format!("reading {}", midi.display()))?;
    let (left, right) = synthesize(&Arc::new(song), &Arc::new(font), sample_rate)?;
    let frames = left.len();

    let peak = left
        .iter()
        .chain(&right)
        .fold(0.0f32, |m, s| m.max(s.abs()));
    let gain = level.gain(peak);
    let mut clipped = 0usize;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::with_capacity(frames * 4 + 44));
    {
        let mut writer = hound::WavWriter::new(&mut bytes, spec)?;
        for (l, r) in left.iter().zip(&right) {
            for s in [l, r] {
                let scaled = s * gain;
                clipped += usize::from(scaled.abs() > 1.0);
                let sample = (scaled.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
                writer.write_sample(sample)?;
            }
        }
        writer.finalize()?;
    }
    pianola_core::atomic_file::write(out, bytes.get_ref())
        .with_context(|| format!("writing {}", out.display()))?;
    let peak_db = 20.0 * (peak * gain).max(1e-9).log10();
    println!(
        "rendered {:.1} s with {} to {} (peak {:.1} dBFS)",
        frames as f64 / f64::from(sample_rate),
        soundfont.display(),
        out.display(),
        peak_db.min(0.0)
    );
    if clipped > 0 {
        eprintln!("warning: the gain clipped {clipped} samples; a lower --gain keeps them");
    }
    Ok(())
}
