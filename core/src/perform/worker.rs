//! The worker: owns the network, the sampler and the window, and keeps the
//! next predictions ready for the real-time side.
//!
//! It speculates: after predicting token `p` for the current window, it
//! predicts what follows `p` if `p` is played, and so on, up to
//! [`SPECULATION`] steps ahead, so that even several grid steps inside one
//! audio block, or a run of events the model plays together (each `when`
//! 0 after the one before), find their tokens waiting. A player token
//! voids the speculation (the real-time side starts a new epoch).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use rtrb::{Consumer, Producer};

use super::NextTokens;
use super::link::{FromWorker, ToWorker, WorkerEnds};
use super::session::{Session, SessionShare};
use crate::duet::Listener;
use crate::event::{Event, EventClasses, keys_at_last_onset, min_when_after, trailing_together};
use crate::key::{KeyCell, KeyMode, estimate, pitch_class_counts};
use crate::model::Head;
use crate::nearest::nearest_known;
use crate::predictor::{Network, Predictor, softmax_into};
use crate::sample::{KEY_GUIDE_WINDOW, Rhythm, Sampled, Sampler, SamplerSettings};
use crate::token::Token;
use crate::vocab::Vocab;

/// How many steps ahead the worker predicts: enough that a run of events
/// the model plays together (at most [`crate::event::MAX_TOGETHER`]) finds
/// every prediction ready on time (BENCHMARKS.md, "Figures behind
/// constants").
pub const SPECULATION: usize = 8;
/// How long an idle worker thread sleeps between looks at its queue.
const IDLE_SLEEP: Duration = Duration::from_micros(500);
/// Tokens the window holds before a followed key is estimated from it.
const KEY_EVIDENCE: usize = 8;
/// How much each of the player's events leaves of the weight of those
/// before it in the followed key's evidence: the last dozen or so count, so
/// a player who changes key is followed within a few bars.
const PLAYER_KEY_MEMORY: f32 = 0.9;

/// Owns the model; see the module documentation.
pub struct Worker {
    predictor: Predictor,
    speculative: Predictor,
    sampler: Sampler,
    /// The seed the sampler last started from.
    seed: u64,
    /// The sampling settings asked for (with [`KeyMode::Follow`], the
    /// sampler's own keeps to the scale of the key followed).
    wanted: SamplerSettings,
    /// The key followed now, for the real-time side and status displays.
    key: Arc<KeyCell>,
    inbox: Consumer<ToWorker>,
    outbox: Producer<FromWorker>,
    models: Receiver<Arc<Network>>,
    control: Sender<Arc<Network>>,
    epoch: u64,
    generation: u64,
    /// Tokens received so far (the real-time side's count).
    received: u64,
    /// The last `window` events, to re-prime a new model and estimate the
    /// key.
    window: VecDeque<Event>,
    /// Recent token indices, for the repetition guard and the key guide
    /// (the last [`KEY_GUIDE_WINDOW`]).
    recent: VecDeque<usize>,
    /// Speculated events already sent, in order.
    chain: VecDeque<Sampled>,
    /// How the performer plays its own events: one per grid step of this
    /// many twelfths of a beat, at this velocity (what the speculation
    /// assumes, and what the event network's token head is conditioned on).
    rhythm: Rhythm,
    /// Whether the last event fed was the player's.
    after_player: bool,
    /// The player's pitch classes, each event weighing
    /// [`PLAYER_KEY_MEMORY`] times the one after it: what a followed key
    /// is estimated from once the player has played enough.
    player_pitches: [f32; 12],
    /// The player's events fed so far (up to [`KEY_EVIDENCE`]).
    player_events: usize,
    /// Where the next token's probabilities are published, if anyone
    /// watches (the plugin's window).
    next_tokens: Option<Arc<NextTokens>>,
    /// Scratch for those probabilities.
    probabilities: Vec<f32>,
    /// The session memory.
    session: Session,
    /// The session on one clock, for the duet settings.
    listener: Listener,
}

/// Sends new models to a worker from any thread.
#[derive(Clone)]
pub struct WorkerControl {
    models: Sender<Arc<Network>>,
}

impl WorkerControl {
    /// Swaps the model: the worker re-primes the window with it, the
    /// performer ends its notes in flight. Returns false if the worker is
    /// gone.
    pub fn swap_network(&self, network: Arc<Network>) -> bool {
        self.models.send(network).is_ok()
    }
}

/// A worker running on its own thread; dropping it stops the thread.
pub struct WorkerThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for WorkerThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Worker {
    pub(super) fn new(
        network: Arc<Network>,
        settings: SamplerSettings,
        rhythm: Rhythm,
        seed: u64,
        ends: WorkerEnds,
        key: Arc<KeyCell>,
    ) -> Self {
        let WorkerEnds { inbox, outbox } = ends;
        let (control, models) = channel();
        let sampler = Sampler::new(settings, network.vocab(), seed);
        let predictor = Predictor::new(network);
        Self {
            speculative: predictor.clone(),
            predictor,
            sampler,
            seed,
            wanted: settings,
            key,
            inbox,
            outbox,
            models,
            control,
            epoch: 0,
            generation: 0,
            received: 0,
            window: VecDeque::new(),
            recent: VecDeque::new(),
            rhythm,
            after_player: false,
            player_pitches: [0.0; 12],
            player_events: 0,
            chain: VecDeque::new(),
            next_tokens: None,
            probabilities: Vec::new(),
            session: Session::new(SessionShare::default(), false),
            listener: Listener::new(),
        }
    }

    /// Keeps the session memory in `share` (a plugin's, saved with its
    /// state): a state restored into it before or after is taken up.
    pub fn share_session(&mut self, share: SessionShare) {
        self.session = Session::new(share, true);
    }

    /// The session memory's share: its size, Forget, saving and restoring.
    pub fn session(&self) -> SessionShare {
        self.session.share().clone()
    }

    /// Publishes the probabilities of the most likely next tokens into
    /// `sink` whenever the window changes (call before [`Worker::spawn`]).
    pub fn publish_next_tokens(&mut self, sink: Arc<NextTokens>) {
        self.next_tokens = Some(sink);
    }

    /// A handle to swap models from another thread.
    pub fn control(&self) -> WorkerControl {
        WorkerControl {
            models: self.control.clone(),
        }
    }

    /// Runs the worker on its own thread until the returned handle drops.
    pub fn spawn(self) -> WorkerThread {
        self.spawn_with_idle_chore(|| {})
    }

    /// Like [`Worker::spawn`], and runs `chore` whenever the worker has
    /// nothing to do (a few times a second at least): the place for a
    /// plugin's small off-audio-thread duties, such as reporting what the
    /// audio thread counted.
    pub fn spawn_with_idle_chore(
        mut self,
        mut chore: impl FnMut() + Send + 'static,
    ) -> WorkerThread {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("pianola-worker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    if !self.poll() {
                        chore();
                        std::thread::sleep(IDLE_SLEEP);
                    }
                }
            })
            .expect("spawning the worker thread");
        WorkerThread {
            stop,
            handle: Some(handle),
        }
    }

    /// Handles every waiting message and model swap, then sends at most one
    /// more prediction. Returns whether there was anything to do (call again
    /// while it returns true to fill the speculation).
    pub fn poll(&mut self) -> bool {
        let mut busy = false;
        self.session.take_requests(self.predictor.network().vocab());
        while let Ok(network) = self.models.try_recv() {
            self.swap(network);
            busy = true;
        }
        while let Ok(message) = self.inbox.pop() {
            busy = true;
            match message {
                ToWorker::Feed {
                    event,
                    epoch,
                    player,
                    then,
                } => {
                    self.after_player = player;
                    if player {
                        self.hear_player(event.what);
                    }
                    self.feed(event, epoch);
                    self.follow_key();
                    if let Some(committed) = then {
                        self.speculate_committed(committed);
                    }
                }
                ToWorker::Replan { epoch } => self.void_speculation(epoch),
                ToWorker::Sampler {
                    settings,
                    rhythm,
                    seed,
                    epoch,
                } => {
                    if let Some(seed) = seed
                        && seed != self.seed
                    {
                        self.reseed(seed);
                    }
                    self.wanted = settings;
                    self.rhythm = rhythm;
                    self.sampler
                        .set_settings(settings, self.predictor.network().vocab());
                    self.void_speculation(epoch);
                    self.follow_key();
                }
                ToWorker::Reset { epoch, sent, seed } => {
                    if let Some(seed) = seed {
                        // A repeatable take: the same seed and the session
                        // as it began, so the same playing gets the same
                        // answers.
                        self.reseed(seed);
                        self.session.start_over();
                    }
                    self.received = sent;
                    self.predictor.reset();
                    self.window.clear();
                    self.recent.clear();
                    self.player_pitches = [0.0; 12];
                    self.player_events = 0;
                    self.session.reset_context();
                    self.listener.clear();
                    self.void_speculation(epoch);
                    self.follow_key();
                }
                ToWorker::Resync { epoch, sent } => {
                    self.received = sent;
                    self.void_speculation(epoch);
                }
                ToWorker::Held { fed, hold } => {
                    if let Some(back) = self.received.checked_sub(fed) {
                        self.listener.held(back, hold);
                    }
                    self.session.held(fed, hold);
                }
            }
        }
        if !self.window.is_empty() && self.chain.len() < SPECULATION {
            busy |= self.speculate_one();
        }
        if !busy {
            self.session.publish(self.predictor.network().vocab());
        }
        busy
    }

    /// Polls until there is nothing left to do.
    pub fn poll_all(&mut self) {
        while self.poll() {}
    }

    /// Starts the sampler's random sequence again from `seed`.
    fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.sampler.reseed(seed);
    }

    /// Adds the player's token to the evidence of their key.
    fn hear_player(&mut self, what: Token) {
        let heard = pitch_class_counts([&what]);
        for (weight, new) in self.player_pitches.iter_mut().zip(heard) {
            *weight = *weight * PLAYER_KEY_MEMORY + new;
        }
        self.player_events = (self.player_events + 1).min(KEY_EVIDENCE);
    }

    /// With [`KeyMode::Follow`], keeps the sampler to the player's key (from their
    /// recent events once they have played enough; until then from the
    /// window's, once it holds enough to tell), and publishes it; a change
    /// of key voids the speculation.
    fn follow_key(&mut self) {
        let following = self.wanted.key == KeyMode::Follow;
        let key = if !following {
            None
        } else if self.player_events >= KEY_EVIDENCE {
            estimate(&self.player_pitches)
        } else if self.window.len() >= KEY_EVIDENCE {
            estimate(&pitch_class_counts(self.window.iter().map(|e| &e.what)))
        } else {
            None
        };
        self.key.store(key);
        let mode = match (following, key) {
            (true, Some(key)) => KeyMode::Scale(key.scale()),
            (true, None) => KeyMode::Free,
            (false, _) => self.wanted.key,
        };
        if mode != self.sampler.settings().key {
            let settings = SamplerSettings {
                key: mode,
                ..self.wanted
            };
            self.sampler
                .set_settings(settings, self.predictor.network().vocab());
            let epoch = self.epoch;
            self.void_speculation(epoch);
        }
    }

    fn void_speculation(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.chain.clear();
        self.speculative = self.predictor.clone();
    }

    fn feed(&mut self, event: Event, epoch: u64) {
        self.received += 1;
        self.listener.hear(&event, self.after_player);
        let Some((known, classes)) = as_known(event, self.predictor.network().vocab()) else {
            if epoch != self.epoch {
                self.void_speculation(epoch);
            }
            return;
        };
        let index = classes.what;
        let window = self.predictor.network().config().window;
        self.predictor.feed_event(&classes);
        self.session.hear(classes, self.after_player, self.received);
        self.window.push_back(known);
        if self.window.len() > window {
            self.window.pop_front();
        }
        self.recent.push_back(index);
        if self.recent.len() > KEY_GUIDE_WINDOW {
            self.recent.pop_front();
        }
        if epoch == self.epoch && self.chain.front().map(|c| c.classes.what) == Some(index) {
            self.chain.pop_front();
        } else {
            self.void_speculation(epoch);
        }
    }

    /// Starts the speculation with `committed`, the event the real-time
    /// side plays next whatever is predicted: what follows it is predicted
    /// before it plays.
    fn speculate_committed(&mut self, committed: Event) {
        let Some((_, classes)) = as_known(committed, self.predictor.network().vocab()) else {
            return;
        };
        self.void_speculation(self.epoch);
        self.speculative.feed_event(&classes);
        self.chain.push_back(Sampled {
            classes,
            releases: committed.releases,
        });
    }

    /// Predicts the token after the speculation so far and sends it;
    /// false if the queue to the real-time side is full.
    fn speculate_one(&mut self) -> bool {
        if self.chain.is_empty()
            && let Some(sink) = &self.next_tokens
        {
            // The model's distribution for the token after the window, on
            // the next grid step.
            let logits = self
                .speculative
                .head_logits(Head::What, &self.grid_classes());
            self.probabilities.resize(logits.len(), 0.0);
            softmax_into(logits, &mut self.probabilities);
            let vocab = self.predictor.network().vocab();
            sink.publish(&self.probabilities, |i| vocab.token(i));
        }
        let recent: Vec<usize> = self
            .recent
            .iter()
            .copied()
            .chain(self.chain.iter().map(|c| c.classes.what))
            .collect();
        // Right after the player's event, the first prediction cannot sound
        // together with it: that chord is already past.
        let after_player = usize::from(self.after_player && self.chain.is_empty());
        let min_when = after_player.max(min_when_after(self.together()));
        let vocab = self.predictor.network().vocab();
        let ahead = self.chain.iter().filter_map(|c| c.to_event(vocab));
        let struck = keys_at_last_onset(self.window.iter().copied().chain(ahead.clone()));
        let mut steer = self
            .listener
            .steer(&self.sampler.settings().duet, ahead, min_when);
        steer.struck = struck;
        let memory = (self.sampler.settings().memory > 0.0)
            .then(|| self.session.recall(self.chain.iter().map(|c| &c.classes)));
        let sampled =
            self.sampler
                .sample_event(&mut self.speculative, self.rhythm, &recent, &steer, memory);
        let event = sampled
            .to_event(self.predictor.network().vocab())
            .expect("the sampler picks from the vocabulary");
        let message = FromWorker::Prediction {
            epoch: self.epoch,
            generation: self.generation,
            after: self.received + self.chain.len() as u64,
            event,
        };
        if self.outbox.push(message).is_err() {
            return false;
        }
        self.speculative.feed_event(&sampled.classes);
        self.chain.push_back(sampled);
        true
    }

    /// How many events in a row, at the end of the window and the
    /// speculation, started together with the one before.
    fn together(&self) -> usize {
        let fed = self.window.iter().map(|e| e.when as usize);
        trailing_together(fed.chain(self.chain.iter().map(|c| c.classes.when)))
    }

    /// The fields of the performer's next grid step, before its token is
    /// chosen.
    fn grid_classes(&self) -> EventClasses {
        let (step, velocity) = match self.rhythm {
            Rhythm::Grid { step, velocity } => (step, velocity),
            Rhythm::Model => (6, Event::DEFAULT_VELOCITY),
        };
        EventClasses::on_grid(0, Token::Note(60), step, velocity)
    }

    fn swap(&mut self, network: Arc<Network>) {
        self.generation += 1;
        let vocab = network.vocab();
        self.session.remap(self.predictor.network().vocab(), vocab);
        let events: Vec<EventClasses> = self
            .window
            .iter()
            .filter_map(|e| {
                nearest_known(vocab, e.what, e.lowest)
                    .map(|index| EventClasses::with_what(e, index))
            })
            .collect();
        self.sampler.set_settings(*self.sampler.settings(), vocab);
        self.predictor = Predictor::new(network);
        self.predictor.prime_events(&events);
        self.recent = events
            .iter()
            .rev()
            .take(KEY_GUIDE_WINDOW)
            .rev()
            .map(|e| e.what)
            .collect();
        let _ = self.outbox.push(FromWorker::ModelChanged {
            generation: self.generation,
        });
        let epoch = self.epoch;
        self.void_speculation(epoch);
    }
}

/// `event` with its token replaced by the nearest one `vocab` knows
/// ([`nearest_known`]), and its classes; `None` if there is none.
fn as_known(event: Event, vocab: &Vocab) -> Option<(Event, EventClasses)> {
    let index = nearest_known(vocab, event.what, event.lowest)?;
    let known = Event {
        what: vocab.token(index).expect("an index of the vocabulary"),
        ..event
    };
    Some((known, EventClasses::with_what(&known, index)))
}
