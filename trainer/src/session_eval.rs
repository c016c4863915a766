//! Scoring a network with the session memory mixed in
//! ([`pianola_core::memory`]), as `pianola eval --memory M` does: each song
//! is one session, scored left to right with a memory of its own earlier
//! events only (nothing after the position scored).

use candle_core::{DType, Device};
use pianola_core::memory::{CAPACITY, COPY_LIMIT, Heard, SessionMemory, mix_into};
use pianola_core::model::{Head, Params};
use pianola_core::predictor::log_softmax_in_place;

use crate::data::{Step, evaluation_windows, fill_batch};
use crate::network::{Batch, Network, Positions, Stats};

/// The figures of [`crate::train::evaluate`] with the memory mixed into
/// every head at Memory `amount` (0: the network alone, the same figures).
pub fn evaluate_with_memory(
    network: &mut Network,
    songs: &[&[Step]],
    stride: usize,
    amount: f32,
) -> Result<Stats, candle_core::Error> {
    let window = network.config().window;
    let windows = evaluation_windows(songs, window, stride);
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    let mut stats = Stats::default();
    let mut session = Session::default();
    let mut remembered = Vec::new();
    let mut mixed = Vec::new();
    for chunk in windows.chunks(64) {
        fill_batch(songs, chunk, window, None, &mut inputs, &mut targets);
        let batch = Batch {
            inputs: &inputs,
            targets: &targets,
            windows: chunk.len(),
            steps: window,
        };
        let evaluation = network.evaluate(&batch, Positions::Last)?;
        if amount <= 0.0 {
            stats.add(evaluation.stats);
            continue;
        }
        for (row, w) in chunk.iter().enumerate() {
            let at = w.start + window;
            let song = songs[w.song];
            session.hear_until(w.song, song, at);
            let target = song[at].classes();
            stats.count += 1;
            for (head, logits) in &evaluation.heads {
                let classes = logits.len() / chunk.len();
                mixed.clear();
                mixed.extend_from_slice(&logits[row * classes..(row + 1) * classes]);
                remembered.resize(classes, 0.0);
                let confidence = session
                    .memory
                    .distribution(*head, Some(&target), &mut remembered);
                log_softmax_in_place(&mut mixed);
                mix_into(&mut mixed, &remembered, amount * confidence);
                let class = target.class(*head);
                let loss = -f64::from(mixed[class]);
                stats.loss_sum += loss;
                stats.head_sums[head.index()] += loss;
                if *head == Head::What {
                    let above = mixed.iter().filter(|&&l| l > mixed[class]).count();
                    stats.top1 += usize::from(above == 0);
                    stats.top5 += usize::from(above < 5);
                }
            }
        }
    }
    Ok(stats)
}

/// [`evaluate_with_memory`] for a weights file's parameters, on `device`.
pub fn evaluate_params_with_memory(
    params: &Params,
    songs: &[&[Step]],
    stride: usize,
    device: &Device,
    amount: f32,
) -> Result<Stats, candle_core::Error> {
    let mut network = Network::new(params, device, DType::F32)?;
    evaluate_with_memory(&mut network, songs, stride, amount)
}

/// One song's session so far: its memory and how many of its events it
/// has heard.
struct Session {
    song: usize,
    heard: usize,
    memory: SessionMemory,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            song: usize::MAX,
            heard: 0,
            memory: SessionMemory::new(CAPACITY),
        }
    }
}

impl Session {
    /// Hears `events` of song `song` up to (not including) `at`, and
    /// recalls for what precedes `at`.
    fn hear_until(&mut self, song: usize, events: &[Step], at: usize) {
        if song != self.song || at < self.heard {
            self.song = song;
            self.heard = 0;
            self.memory.forget();
        }
        for step in &events[self.heard..at] {
            self.memory.remember(player(step));
        }
        self.heard = at;
        let context: Vec<Heard> = events[at.saturating_sub(COPY_LIMIT)..at]
            .iter()
            .map(player)
            .collect();
        self.memory.recall(&context);
    }
}

fn player(step: &Step) -> Heard {
    Heard {
        classes: step.classes(),
        player: true,
    }
}
