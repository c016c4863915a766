//! Choosing the next token from the network's scores.
//!
//! Temperature 0 is the seed's argmax. Above it, the scores are divided by
//! the temperature, cut to the `top_k` best and to the smallest set whose
//! probability reaches `top_p`, and drawn from with a seeded random number
//! generator, so the same seed gives the same notes. A repetition guard
//! lowers the score of tokens played in the last few steps (off at
//! temperature 0), and a scale filter keeps only tokens whose notes all lie
//! in a scale.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::duet::{DuetSettings, Steer, voiced};
use crate::event::{Event, EventClasses, keys_at_last_onset, min_when_after, trailing_together};
use crate::key::{KeyMode, in_scale};
use crate::memory::{CAPACITY, COPY_PENALTY, Heard, SessionMemory, mix_into};
use crate::model::Head;
use crate::predictor::Predictor;
use crate::texture::{Onset, TextureSteer, notes_of};
use crate::token::{PitchClassSet, Token};
use crate::vocab::Vocab;

/// The timing heads (when, hold) draw from the most likely classes
/// holding this much probability: a rare gap or length, once played, is
/// read back and leads the network's own timing astray (a 5/12-beat gap
/// played is read back, and more follow).
pub const TIMING_TOP_P: f32 = 0.9;

/// The velocity and register heads draw from the most likely classes
/// holding this much probability: only the rarest classes are cut, so the
/// chords keep the register their music gives them.
pub const RHYTHM_TOP_P: f32 = 0.98;

/// How the next token is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SamplerSettings {
    /// Softmax temperature; 0 picks the most likely token.
    pub temperature: f32,
    /// Keep only the `top_k` most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches
    /// `top_p` (1: all).
    pub top_p: f32,
    /// Subtracted from a token's score for each time it was chosen in the
    /// last [`SamplerSettings::repetition_window`] steps (0: off).
    pub repetition_penalty: f32,
    /// How many recent steps the repetition guard looks at.
    pub repetition_window: usize,
    /// Keep to a key: any, the player's (the live performer's *Follow*: the
    /// player's recent events once there are enough, else the window's),
    /// or a scale's.
    pub key: KeyMode,
    /// Subtracted from the score of every token with a note outside the key
    /// of the music so far (the best-fitting major or minor key of the last
    /// [`KEY_GUIDE_WINDOW`] tokens): a soft pull towards the key, where
    /// `key` forbids (0: off; off at temperature 0).
    pub key_guide: f32,
    /// Softmax temperature of the event network's other heads (when, hold,
    /// velocity, register); 0 picks the most likely class. They have no
    /// top-k cut and no repetition guard, and top-p cuts of their own
    /// ([`TIMING_TOP_P`], [`RHYTHM_TOP_P`]).
    pub rhythm_temperature: f32,
    /// How much the session memory leads (0..=1: the Memory setting `m`
    /// of [`crate::memory`]; 0: the network alone).
    pub memory: f32,
    /// How it plays with the player: Space, Range, Chords.
    pub duet: DuetSettings,
    /// How far the heads follow the texture of the music so far, where the
    /// caller tells it ([`Steer::texture`]; [`crate::texture`]): 0 plays
    /// the model's own, 1 follows wholly.
    pub texture: f32,
}

impl Default for SamplerSettings {
    /// The defaults `pianola generate` and the live performer play with:
    /// no top-k or top-p cut, and the key guide at 1.5. A cut keeps the
    /// likeliest tokens, and those are the stock chords of an
    /// accompaniment, far more of them low than in the songs; without a
    /// cut the tail of rarer tokens strays from the key, which the guide
    /// holds (`musical_sanity --seeds 100`, figures in `models/README.md`).
    /// Live, the guide reads the key from the last 100 events the worker
    /// knows, the player's and Pianola's; *Key* = Follow or a scale keeps
    /// to a key strictly.
    fn default() -> Self {
        Self {
            temperature: 0.9,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 0.7,
            repetition_window: 8,
            key: KeyMode::Free,
            key_guide: 1.5,
            rhythm_temperature: 1.0,
            memory: DEFAULT_MEMORY,
            duet: DuetSettings::default(),
            texture: DEFAULT_TEXTURE,
        }
    }
}

/// How far `pianola generate`, `live` and the plugin follow the texture of
/// the music so far ([`SamplerSettings::texture`]), chosen on the
/// out-of-corpus training pieces (BENCHMARKS.md, "Following the player's
/// texture").
pub const DEFAULT_TEXTURE: f32 = 1.0;

/// How many of the last tokens the key guide reads the key from
/// ([`SamplerSettings::key_guide`]): the network's window. Over fewer the
/// guide follows every turn the music takes and long pieces wander from
/// key to key; over the window it holds the key of the context
/// (BENCHMARKS.md, "Figures behind constants").
pub const KEY_GUIDE_WINDOW: usize = 100;

/// The Memory setting `pianola generate`, `live` and the plugin start
/// with, chosen by two validation figures (BENCHMARKS.md, "Session
/// memory"): the notes' cross-entropy on the out-of-corpus training
/// pieces, nearly the same at 0.75 and 1 (and worse below), and the
/// share of distinct 8-event phrases in pieces continued from the corpus'
/// validation songs, which only 1 brings near the songs' own.
pub const DEFAULT_MEMORY: f32 = 1.0;

/// An event the sampler chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampled {
    /// Its classes, as the network reads them back.
    pub classes: EventClasses,
    /// Whether its onset ends Pianola's notes still sounding
    /// ([`Event::releases`]).
    pub releases: bool,
}

impl Sampled {
    /// The event it plays; `None` if its token is not in `vocab`.
    pub fn to_event(&self, vocab: &Vocab) -> Option<Event> {
        let event = self.classes.to_event(vocab)?;
        Some(Event {
            releases: self.releases,
            ..event
        })
    }
}

/// Draws tokens from scores; allocates only in [`Sampler::new`].
#[derive(Debug)]
pub struct Sampler {
    settings: SamplerSettings,
    rng: ChaCha8Rng,
    allowed: Vec<bool>,
    /// Each token of the vocabulary, for the key guide.
    tokens: Vec<Token>,
    candidates: Vec<(f32, usize)>,
    /// Scratch: a head's scores, the session memory mixed in.
    scores: Vec<f32>,
    /// Scratch: the when head's scores while the token is chosen.
    when_scores: Vec<f32>,
    /// Scratch: the session memory's distribution for a head.
    remembered: Vec<f32>,
    /// How much the memory led the last head's scores (its mixing weight).
    led: f32,
    /// How many keys each token of the vocabulary strikes.
    sizes: Vec<u8>,
}

impl Sampler {
    /// A sampler for `vocab` with a seeded random number generator.
    pub fn new(settings: SamplerSettings, vocab: &Vocab, seed: u64) -> Self {
        let allowed = vocab
            .tokens()
            .iter()
            .map(|&t| settings.key.scale().is_none_or(|scale| in_scale(t, scale)))
            .collect::<Vec<_>>();
        // A scale that allows nothing the model knows is ignored.
        let allowed = if allowed.iter().any(|&a| a) {
            allowed
        } else {
            vec![true; vocab.len()]
        };
        let classes = vocab.len().max(crate::event::classes::TIME_CLASSES);
        Self {
            settings,
            rng: ChaCha8Rng::seed_from_u64(seed),
            candidates: Vec::with_capacity(classes),
            allowed,
            tokens: vocab.tokens().to_vec(),
            scores: Vec::with_capacity(classes),
            when_scores: Vec::with_capacity(classes),
            remembered: vec![0.0; classes],
            led: 0.0,
            sizes: vocab
                .tokens()
                .iter()
                .map(|&t| notes_of(&voiced(t, 4)).min(usize::from(u8::MAX)) as u8)
                .collect(),
        }
    }

    /// Starts the random sequence again from `seed`, as a new sampler's.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = ChaCha8Rng::seed_from_u64(seed);
    }

    /// The settings.
    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    /// New settings (and the vocabulary they filter), keeping the random
    /// number generator's place.
    pub fn set_settings(&mut self, settings: SamplerSettings, vocab: &Vocab) {
        let rng = self.rng.clone();
        *self = Self::new(settings, vocab, 0);
        self.rng = rng;
    }

    /// Chooses the next token (an index into `logits`), given the tokens
    /// chosen so far (`recent`, oldest first; only the last few matter).
    pub fn sample(&mut self, logits: &[f32], recent: &[usize]) -> usize {
        self.sample_guarded(logits, recent, 1.0)
    }

    /// [`Sampler::sample`] with the repetition guard scaled by `guard`
    /// (where the session memory leads, a phrase coming back is meant).
    fn sample_guarded(&mut self, logits: &[f32], recent: &[usize], guard: f32) -> usize {
        let s = self.settings;
        self.candidates.clear();
        let guard_from = recent.len().saturating_sub(s.repetition_window);
        let guard = if s.temperature > 0.0 {
            s.repetition_penalty * guard
        } else {
            0.0
        };
        let key = if s.key_guide > 0.0 && s.temperature > 0.0 {
            self.recent_key(recent)
        } else {
            None
        };
        for (index, &score) in logits.iter().enumerate() {
            if !self.allowed.get(index).copied().unwrap_or(false) {
                continue;
            }
            let repeats = if guard > 0.0 {
                recent[guard_from..].iter().filter(|&&r| r == index).count()
            } else {
                0
            };
            let outside = key.is_some_and(|key| {
                self.tokens
                    .get(index)
                    .is_some_and(|&token| !in_scale(token, key))
            });
            let off_key = if outside { s.key_guide } else { 0.0 };
            self.candidates
                .push((score - guard * repeats as f32 - off_key, index));
        }
        self.draw(s.temperature, s.top_k, s.top_p)
    }

    /// The scale of the best-fitting key of the last [`KEY_GUIDE_WINDOW`]
    /// of `recent` tokens; `None` when they tell no key, or are fewer than
    /// 8 (too few to tell one).
    fn recent_key(&self, recent: &[usize]) -> Option<PitchClassSet> {
        if recent.len() < 8 {
            return None;
        }
        let from = recent.len().saturating_sub(KEY_GUIDE_WINDOW);
        let tokens = recent[from..].iter().filter_map(|&i| self.tokens.get(i));
        crate::key::estimate(&crate::key::pitch_class_counts(tokens)).map(|key| key.scale())
    }

    /// Chooses a class of one of the event network's other heads (when,
    /// hold, velocity, register) at the rhythm temperature, from class
    /// `first` on, among the likeliest classes holding `top_p`.
    pub fn sample_class(&mut self, logits: &[f32], first: usize, top_p: f32) -> usize {
        self.candidates.clear();
        let first = first.min(logits.len().saturating_sub(1));
        self.candidates.extend(
            logits
                .iter()
                .enumerate()
                .skip(first)
                .map(|(index, &score)| (score, index)),
        );
        let s = self.settings;
        self.draw(s.rhythm_temperature, 0, top_p)
    }

    /// Draws from `candidates` (score, index) at `temperature` after the
    /// top-k and top-p cuts.
    fn draw(&mut self, temperature: f32, top_k: usize, top_p: f32) -> usize {
        // Most likely first; ties keep vocabulary order.
        self.candidates
            .sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if temperature <= 0.0 {
            return self.candidates[0].1;
        }
        if top_k > 0 {
            self.candidates.truncate(top_k);
        }
        let max = self.candidates[0].0;
        let mut total = 0.0;
        for candidate in &mut self.candidates {
            candidate.0 = ((candidate.0 - max) / temperature).exp();
            total += candidate.0;
        }
        // Top-p: the smallest prefix whose share reaches top_p.
        let mut kept = 0.0;
        let mut cut = self.candidates.len();
        for (i, candidate) in self.candidates.iter().enumerate() {
            kept += candidate.0;
            if kept >= top_p * total {
                cut = i + 1;
                break;
            }
        }
        self.candidates.truncate(cut);
        let mut draw = self.rng.random::<f32>() * kept.min(total);
        for candidate in &self.candidates {
            draw -= candidate.0;
            if draw <= 0.0 {
                return candidate.1;
            }
        }
        self.candidates[self.candidates.len() - 1].1
    }

    /// Chooses the next event field by field from `predictor`: `when`, then
    /// the token (with the key filter and repetition guard, given `recent`
    /// tokens), then hold, velocity and register. With [`Rhythm::Grid`], or
    /// a network that predicts tokens only, the event is a plain step of
    /// the grid and only its token is chosen (given that `when`). `steer`
    /// holds the duet's rules ([`crate::duet`]): the model's `when` is at
    /// least its `min_when` twelfths (1 right after a player's chord: it
    /// cannot sound together with one already past), its notes inside its
    /// keys, its tokens pulled to its chord. An event that joins the last
    /// onset strikes none of its [`Steer::struck`] keys again: a note that
    /// would ends the onset (its `when` is drawn again, later), a chord
    /// takes a register clear of them.
    ///
    /// `memory`, recalled for the events so far ([`SessionMemory::recall`]),
    /// is mixed into each head by [`SamplerSettings::memory`]. Where the
    /// event would strike over Pianola's notes still sounding, it ends
    /// them as often as [`TextureSteer::release_chance`] says.
    pub fn sample_event(
        &mut self,
        predictor: &mut Predictor,
        rhythm: Rhythm,
        recent: &[usize],
        steer: &Steer,
        memory: Option<&SessionMemory>,
    ) -> Sampled {
        let network = predictor.network().clone();
        let vocab = network.vocab();
        let model_rhythm = network.predicts_events();
        let memory = memory.filter(|_| self.settings.memory > 0.0);
        let mut chosen = EventClasses::default();
        match rhythm {
            Rhythm::Model if model_rhythm => {
                let mut scores = self.scores_of(predictor, Head::When, &chosen, memory, true);
                if let Some(texture) = &steer.texture {
                    let s = self.settings;
                    texture.tilt_when(&mut scores, s.rhythm_temperature, s.texture);
                }
                chosen.when = self.sample_class(&scores, steer.min_when, TIMING_TOP_P);
                // The when head's scores stay at hand while the token is
                // chosen; the token head gets the other scratch buffer.
                self.scores = std::mem::replace(&mut self.when_scores, scores);
                chosen.what = self.sample_what(predictor, &chosen, recent, steer, memory);
                if chosen.when == 0 && steer.strikes_again(self.tokens[chosen.what]) {
                    // A key already struck at this onset: the model has
                    // voiced it whole, and the event starts later.
                    let when_scores = std::mem::take(&mut self.when_scores);
                    chosen.when =
                        self.sample_class(&when_scores, steer.min_when.max(1), TIMING_TOP_P);
                    self.when_scores = when_scores;
                    chosen.what = self.sample_what(predictor, &chosen, recent, steer, memory);
                }
                let mut scores = self.scores_of(predictor, Head::Hold, &chosen, memory, true);
                if let Some(texture) = &steer.texture {
                    let s = self.settings;
                    texture.tilt_hold(&mut scores, s.rhythm_temperature, s.texture);
                }
                chosen.hold = self.sample_class(&scores, 0, TIMING_TOP_P);
                self.scores = scores;
                let scores = self.scores_of(predictor, Head::Velocity, &chosen, memory, true);
                chosen.velocity = self.sample_class(&scores, 0, RHYTHM_TOP_P);
                self.scores = scores;
                let mut scores = self.scores_of(predictor, Head::Register, &chosen, memory, true);
                if let Some(token) = vocab.token(chosen.what) {
                    steer.steer_register(&mut scores, token);
                    steer.spare_struck_registers(&mut scores, token, chosen.when);
                    self.follow_span(&mut scores, token, steer);
                }
                chosen.register = self.sample_class(&scores, 0, RHYTHM_TOP_P);
                self.scores = scores;
                // A note's register is its own octave, whatever the head said.
                if let Some(event) = chosen.to_event(vocab) {
                    chosen.register = crate::event::classes::register_class(event.lowest);
                }
                let gap = crate::event::classes::time_of_class(chosen.when);
                let chance = steer.texture.as_ref().map_or(0.0, |texture| {
                    texture.release_chance(gap, self.settings.texture)
                });
                // Drawn as the lengths are: the likelier way at 0.
                let releases = match self.settings.rhythm_temperature {
                    t if t <= 0.0 => chance >= 0.5,
                    _ => chance > 0.0 && self.rng.random::<f32>() < chance,
                };
                Sampled {
                    classes: chosen,
                    releases,
                }
            }
            Rhythm::Model | Rhythm::Grid { .. } => {
                let (step, velocity) = match rhythm {
                    Rhythm::Grid { step, velocity } => (step, velocity),
                    Rhythm::Model => (6, Event::DEFAULT_VELOCITY),
                };
                chosen = EventClasses::on_grid(0, Token::Note(60), step, velocity);
                // The grid's fields are not the memory's: its tokens alone.
                let mut scores = self.scores_of(predictor, Head::What, &chosen, memory, false);
                self.follow_texture(&mut scores, steer);
                steer.steer_tokens(&mut scores, &self.tokens, false);
                let what = self.sample_guarded(&scores, recent, 1.0 - self.led);
                self.scores = scores;
                let token = vocab.token(what).unwrap_or(Token::Note(60));
                Sampled {
                    classes: EventClasses::on_grid(what, token, step, velocity),
                    releases: false,
                }
            }
        }
    }

    /// Chooses the token for the fields `chosen` so far (see
    /// [`Sampler::sample_event`]).
    fn sample_what(
        &mut self,
        predictor: &mut Predictor,
        chosen: &EventClasses,
        recent: &[usize],
        steer: &Steer,
        memory: Option<&SessionMemory>,
    ) -> usize {
        let mut scores = self.scores_of(predictor, Head::What, chosen, memory, true);
        self.follow_texture(&mut scores, steer);
        steer.steer_tokens(&mut scores, &self.tokens, true);
        let what = self.sample_guarded(&scores, recent, 1.0 - self.led);
        self.scores = scores;
        what
    }

    /// Tilts the token head's `scores` towards the texture `steer` holds.
    fn follow_texture(&self, scores: &mut [f32], steer: &Steer) {
        if let Some(texture) = &steer.texture {
            let (t, strength) = (self.settings.temperature, self.settings.texture);
            texture.tilt_tokens(scores, &self.sizes, t, strength);
            texture.tilt_pitch_classes(scores, &self.tokens, t, strength);
            for (score, &token) in scores.iter_mut().zip(&self.tokens) {
                if let Token::Note(key) = token {
                    *score -= texture.span_cost(key, key, t, strength);
                }
            }
        }
    }

    /// Pulls the register head's `scores` for a chord `token` towards the
    /// player's span of keys (a note's register is its key's).
    fn follow_span(&self, scores: &mut [f32], token: Token, steer: &Steer) {
        let (Some(texture), Token::Chord(_)) = (&steer.texture, token) else {
            return;
        };
        let (t, strength) = (self.settings.rhythm_temperature, self.settings.texture);
        for (register, score) in scores.iter_mut().enumerate() {
            let keys = voiced(token, register).pitches();
            let (low, high) = (keys.iter().min(), keys.iter().max());
            if let (Some(low), Some(high)) = (low, high) {
                *score -= texture.span_cost(low, high, t, strength);
            }
        }
    }

    /// `head`'s scores for the fields `chosen` so far, with `memory` mixed
    /// in (its places that agree with `chosen` when `conditioned`), in the
    /// sampler's scratch buffer: give it back when done.
    fn scores_of(
        &mut self,
        predictor: &mut Predictor,
        head: Head,
        chosen: &EventClasses,
        memory: Option<&SessionMemory>,
        conditioned: bool,
    ) -> Vec<f32> {
        let mut scores = std::mem::take(&mut self.scores);
        scores.clear();
        self.led = 0.0;
        if head == Head::What && !predictor.network().predicts_events() {
            scores.extend_from_slice(predictor.logits());
        } else {
            scores.extend_from_slice(predictor.head_logits(head, chosen));
        }
        if let Some(memory) = memory {
            if let (Head::What, Some(token)) = (head, memory.copying())
                && let Some(score) = scores.get_mut(token)
            {
                *score -= COPY_PENALTY;
            }
            let remembered = &mut self.remembered[..scores.len()];
            let confidence = memory.distribution(head, conditioned.then_some(chosen), remembered);
            self.led = (self.settings.memory * confidence).min(1.0);
            mix_into(&mut scores, remembered, self.led);
        }
        scores
    }
}

/// Where an event's timing, length, velocity and voicing come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rhythm {
    /// The model's heads (a token network plays the grid of half a beat).
    Model,
    /// One event per step of `step` twelfths of a beat, held for the step,
    /// at `velocity`, chords in octave 4: the seed's way.
    Grid {
        /// Twelfths of a beat per step.
        step: u32,
        /// MIDI velocity.
        velocity: u8,
    },
}

/// Continues `primer` by `count` events: primes the predictor, then samples
/// an event, feeds it back, and so on. Returns the events played, each
/// ended where a later one releases it ([`Event::releases`]). The primer
/// (as the player's) and the events played are the session the sampler's
/// memory setting recalls. The primer's events the vocabulary lacks are
/// left out (map them first: [`crate::nearest`]); its texture is read from
/// the events as they are (the keys they strike, their gaps and lengths),
/// not as the network's classes voice them back, as the live worker hears
/// the player.
pub fn continue_events(
    predictor: &mut Predictor,
    sampler: &mut Sampler,
    primer: &[Event],
    count: usize,
    rhythm: Rhythm,
) -> Vec<Event> {
    let network = predictor.network().clone();
    let vocab = network.vocab();
    let (primer, primer_classes): (Vec<Event>, Vec<EventClasses>) = primer
        .iter()
        .filter_map(|e| Some((*e, EventClasses::of(e, vocab)?)))
        .unzip();
    predictor.prime_events(&primer_classes);
    let mut history: Vec<usize> = primer_classes.iter().map(|e| e.what).collect();
    let mut generated = Vec::with_capacity(count);
    // Where each generated event starts, on the onsets' clock.
    let mut starts: Vec<u64> = Vec::with_capacity(count);
    let mut together = trailing_together(primer_classes.iter().map(|e| e.when));
    // The session: the primer as the player's, then Pianola's own events.
    let mut memory = SessionMemory::new(CAPACITY);
    let mut heard: Vec<Heard> = Vec::with_capacity(primer.len() + count);
    let mut onsets: Vec<Onset> = Vec::with_capacity(primer.len() + count);
    // What sounded: the primer's events, then Pianola's.
    let mut sounded: Vec<Event> = Vec::with_capacity(primer.len() + count);
    for (event, &classes) in primer.iter().zip(&primer_classes) {
        let player = Heard {
            classes,
            player: true,
        };
        memory.remember(player);
        heard.push(player);
        let at = onsets.last().map_or(0, |o| o.at) + u64::from(event.when);
        onsets.push(Onset::of(event, at, true));
        sounded.push(*event);
    }
    for _ in 0..count {
        let recalled = (sampler.settings().memory > 0.0).then(|| {
            memory.recall(&heard);
            &memory
        });
        // No one plays along: the duet settings have no one to steer by.
        let steer = Steer {
            min_when: min_when_after(together),
            texture: TextureSteer::of(onsets.iter()),
            struck: keys_at_last_onset(sounded.iter().copied()),
            ..Steer::default()
        };
        let sampled = sampler.sample_event(predictor, rhythm, &history, &steer, recalled);
        let next = sampled.classes;
        together = if next.when == 0 { together + 1 } else { 0 };
        predictor.feed_event(&next);
        history.push(next.what);
        let own = Heard {
            classes: next,
            player: false,
        };
        memory.remember(own);
        heard.push(own);
        // Every class here indexes the vocabulary.
        let Some(mut event) = sampled.to_event(vocab) else {
            continue;
        };
        // The grid's velocity exactly, not its class' middle.
        if let Rhythm::Grid { velocity, .. } = rhythm {
            event.velocity = velocity;
        }
        let at = onsets.last().map_or(0, |o| o.at) + u64::from(event.when);
        onsets.push(Onset::of(&event, at, false));
        sounded.push(event);
        if event.releases {
            end_sounding(&mut generated, &starts, at);
        }
        generated.push(event);
        starts.push(at);
    }
    generated
}

/// Ends each of `events` (started at `starts`) still sounding at `at`
/// there.
fn end_sounding(events: &mut [Event], starts: &[u64], at: u64) {
    for (event, &start) in events.iter_mut().zip(starts) {
        let until = at.saturating_sub(start);
        if u64::from(event.hold) > until {
            event.hold = u32::try_from(until).unwrap_or(u32::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocab {
        Vocab::from_tokens(["C4", "D4", "E4", "F#4", "0.4.7", "1.5"].map(|t| t.parse().unwrap()))
    }

    #[test]
    fn a_release_ends_the_earlier_events_still_sounding_at_its_onset() {
        let mut events: Vec<Event> = ["C4@1~4", "E4@1~1/2", "G4@1~2"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        // At twelfths 0, 12 and 24; a release at 30.
        end_sounding(&mut events, &[0, 12, 24], 30);
        let holds: Vec<u32> = events.iter().map(|e| e.hold).collect();
        assert_eq!(holds, [30, 6, 6]);
    }

    #[test]
    fn temperature_zero_is_argmax_and_ignores_the_guard() {
        let settings = SamplerSettings {
            temperature: 0.0,
            ..Default::default()
        };
        let mut sampler = Sampler::new(settings, &vocab(), 1);
        let logits = [0.1, 3.0, 0.2, 2.9, 0.0, -1.0];
        assert_eq!(sampler.sample(&logits, &[1, 1, 1, 1]), 1);
    }

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let logits = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5];
        let run = |seed| {
            let mut sampler = Sampler::new(SamplerSettings::default(), &vocab(), seed);
            let mut chosen = Vec::new();
            for _ in 0..50 {
                let next = sampler.sample(&logits, &chosen);
                chosen.push(next);
            }
            chosen
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn top_k_and_top_p_cut_the_tail() {
        let logits = [5.0, 4.0, 0.0, -5.0, -5.0, -5.0];
        let settings = SamplerSettings {
            temperature: 1.0,
            top_k: 2,
            top_p: 1.0,
            repetition_penalty: 0.0,
            ..Default::default()
        };
        let mut sampler = Sampler::new(settings, &vocab(), 9);
        for _ in 0..200 {
            assert!(sampler.sample(&logits, &[]) < 2);
        }
        let mut sampler = Sampler::new(
            SamplerSettings {
                top_k: 0,
                top_p: 0.5,
                ..settings
            },
            &vocab(),
            9,
        );
        for _ in 0..200 {
            assert_eq!(sampler.sample(&logits, &[]), 0);
        }
    }

    #[test]
    fn the_repetition_guard_steers_away_from_loops() {
        let logits = [2.0, 1.9, -9.0, -9.0, -9.0, -9.0];
        let settings = SamplerSettings {
            temperature: 0.05,
            repetition_penalty: 1.0,
            ..Default::default()
        };
        let mut sampler = Sampler::new(settings, &vocab(), 2);
        assert_eq!(sampler.sample(&logits, &[]), 0);
        assert_eq!(sampler.sample(&logits, &[0]), 1);
    }

    #[test]
    fn scales_filter_tokens() {
        let c_major = crate::key::parse_scale("C major").unwrap();
        let settings = SamplerSettings {
            temperature: 0.0,
            key: KeyMode::Scale(c_major),
            ..Default::default()
        };
        let vocab = vocab();
        let index = |t: &str| vocab.index_of(t.parse().unwrap()).unwrap();
        let mut logits = [0.0; 6];
        logits[index("F#4")] = 9.0;
        logits[index("1.5")] = 8.0;
        logits[index("E4")] = 1.0;
        let mut sampler = Sampler::new(settings, &vocab, 1);
        // F#4 and 1.5 score best but lie outside C major.
        assert_eq!(sampler.sample(&logits, &[]), index("E4"));
    }

    #[test]
    fn the_key_guide_leans_towards_the_key_of_the_recent_tokens() {
        let vocab = vocab();
        let index = |t: &str| vocab.index_of(t.parse().unwrap()).unwrap();
        // C major: C, E, D and the C major triad, twice.
        let recent = [index("C4"), index("E4"), index("D4"), index("0.4.7")].repeat(2);
        let mut logits = [-9.0; 6];
        logits[index("F#4")] = 1.0;
        logits[index("E4")] = 0.5;
        let choose = |key_guide| {
            let settings = SamplerSettings {
                temperature: 0.01,
                repetition_penalty: 0.0,
                key_guide,
                ..Default::default()
            };
            Sampler::new(settings, &vocab, 1).sample(&logits, &recent)
        };
        assert_eq!(choose(0.0), index("F#4"), "without the guide");
        assert_eq!(choose(1.5), index("E4"), "F# lies outside C major");
        assert_eq!(choose(0.4), index("F#4"), "a guide smaller than the gap");
        let argmax = SamplerSettings {
            temperature: 0.0,
            key_guide: 1.5,
            ..Default::default()
        };
        let mut sampler = Sampler::new(argmax, &vocab, 1);
        assert_eq!(sampler.sample(&logits, &recent), index("F#4"), "off at 0");
    }
}
