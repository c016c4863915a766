//! Inference: one token (or event) in, the next one's probabilities out.
//!
//! A [`Network`] is a weights file packed for fast stepping: each LSTM
//! layer's input and recurrent weights are one `f16` matrix whose rows are
//! interleaved by unit (input, forget, cell and output gate of unit 0, then
//! of unit 1, …), so a step reads every weight once, in order. A
//! [`Predictor`] carries the LSTM state over a shared `Network`.
//!
//! ## The window
//!
//! The model is trained on windows of `window` tokens (100) that start from a
//! zero state, so the predictor keeps its context within that length rather
//! than letting the state run on forever. It carries two states, staggered by
//! half a window, and computes both in the same pass over the weights. Each
//! state is reset to zero every `window` tokens; the prediction comes from
//! the one that has seen more. So once `window / 2` tokens are in, every
//! prediction is conditioned on exactly the last `n` tokens for some `n` in
//! `window / 2 + 1 ..= window` ([`Predictor::context_len`] says which), at the
//! cost of one step, not a re-run of the window.
//!
//! ## Events
//!
//! The event network ([`Arch::Events`]) reads whole events
//! ([`Predictor::feed_event`]) and predicts the next one field by field:
//! [`Predictor::head_logits`] gives a head's scores given the fields chosen
//! before it (`when`, then `what`, then hold, velocity and register).

use std::sync::Arc;

use half::f16;

use crate::event::EventClasses;
use crate::kernel::matvec;
use crate::model::{Arch, Head, ModelConfig};
use crate::repeats;
use crate::token::Token;
use crate::vocab::Vocab;
use crate::weights::ModelFile;

/// Why a model cannot be used for inference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PredictorError {
    /// The seed's architecture is kept for training comparisons only.
    #[error("this weights file holds the seed's comparison network, which Pianola does not play")]
    SeedArchitecture,
    /// A token the model has never seen.
    #[error("`{0}` is not in the model's vocabulary")]
    UnknownToken(Token),
}

/// One LSTM layer packed for stepping.
#[derive(Debug)]
struct PackedLayer {
    input: usize,
    /// [hidden × 4 gates, input + hidden], rows interleaved by unit.
    weights: Vec<f16>,
    /// [hidden × 4 gates], interleaved like the rows.
    bias: Vec<f32>,
}

/// A dense output layer packed for stepping.
#[derive(Debug)]
struct PackedOutput {
    /// [classes, dense].
    weight: Vec<f16>,
    /// [classes].
    bias: Vec<f32>,
}

/// The event network's extra tables and heads.
#[derive(Debug)]
struct EventParts {
    when_embedding: Vec<f32>,
    velocity_embedding: Vec<f32>,
    register_embedding: Vec<f32>,
    /// Added to the dense layer's pre-activation once `when` is chosen.
    when_condition: Vec<f32>,
    /// Added once `what` is chosen.
    what_condition: Vec<f32>,
    when: PackedOutput,
    hold: PackedOutput,
    velocity: PackedOutput,
    register: PackedOutput,
}

/// A model ready for inference, shared by any number of predictors.
#[derive(Debug)]
pub struct Network {
    config: ModelConfig,
    vocab: Vocab,
    embedding: Vec<f32>,
    layers: Vec<PackedLayer>,
    dense_weight: Vec<f16>,
    dense_bias: Vec<f32>,
    output: PackedOutput,
    /// The notes head's repeat prior ([`crate::repeats`]), where it has one.
    repeat_bias: Option<Vec<f32>>,
    events: Option<EventParts>,
}

impl Network {
    /// Packs a loaded weights file (weights rounded to `f16`).
    pub fn new(file: &ModelFile) -> Result<Self, PredictorError> {
        let params = &file.params;
        let config = params.config.clone();
        if config.arch == Arch::Seed {
            return Err(PredictorError::SeedArchitecture);
        }
        let h = config.hidden;
        let layers = (0..config.layers)
            .map(|layer| {
                let input = config.layer_input(layer);
                let w_ih = params.get(&format!("lstm.{layer}.weight_ih"));
                let w_hh = params.get(&format!("lstm.{layer}.weight_hh"));
                let b = params.get(&format!("lstm.{layer}.bias"));
                let cols = input + h;
                let mut weights = Vec::with_capacity(4 * h * cols);
                let mut bias = Vec::with_capacity(4 * h);
                for unit in 0..h {
                    for gate in 0..4 {
                        let row = gate * h + unit;
                        weights.extend(
                            w_ih[row * input..(row + 1) * input]
                                .iter()
                                .map(|v| f16::from_f32(*v)),
                        );
                        weights.extend(
                            w_hh[row * h..(row + 1) * h]
                                .iter()
                                .map(|v| f16::from_f32(*v)),
                        );
                        bias.push(b[row]);
                    }
                }
                PackedLayer {
                    input,
                    weights,
                    bias,
                }
            })
            .collect();
        let half = |name: &str| params.get(name).iter().map(|v| f16::from_f32(*v)).collect();
        let output = |name: &str| PackedOutput {
            weight: half(&format!("{name}.weight")),
            bias: params.get(&format!("{name}.bias")).to_vec(),
        };
        let events = (config.arch == Arch::Events).then(|| EventParts {
            when_embedding: params.get("when_embedding").to_vec(),
            velocity_embedding: params.get("velocity_embedding").to_vec(),
            register_embedding: params.get("register_embedding").to_vec(),
            when_condition: params.get("when_condition").to_vec(),
            what_condition: params.get("what_condition").to_vec(),
            when: output("when_output"),
            hold: output("hold_output"),
            velocity: output("velocity_output"),
            register: output("register_output"),
        });
        Ok(Self {
            vocab: file.vocab.clone(),
            embedding: params.get("embedding").to_vec(),
            layers,
            dense_weight: half("dense.weight"),
            dense_bias: params.get("dense.bias").to_vec(),
            output: output("output"),
            repeat_bias: config.repeats.then(|| params.get(repeats::TENSOR).to_vec()),
            events,
            config,
        })
    }

    /// The sizes.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The tokens, in output order.
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Whether it predicts whole events (when, hold, velocity, register),
    /// not only tokens.
    pub fn predicts_events(&self) -> bool {
        self.events.is_some()
    }
}

/// The LSTM state of one staggered context.
#[derive(Clone, Debug)]
struct Lane {
    /// Per layer: hidden state then cell state, `2 × hidden`.
    state: Vec<Vec<f32>>,
    /// Tokens fed since the last reset.
    len: usize,
}

/// Carries the LSTM state over a [`Network`], one token at a time.
///
/// Allocates only in [`Predictor::new`] (and `clone`); `reset`, `feed`,
/// `feed_event`, `logits`, `head_logits` and `probabilities` work in place.
#[derive(Clone, Debug)]
pub struct Predictor {
    network: Arc<Network>,
    lanes: [Lane; 2],
    /// Tokens fed since the last reset.
    fed: usize,
    /// The last `window` tokens fed, a ring at `fed % window`.
    history: Vec<usize>,
    /// Zeros per token: [`repeats::add_prior`]'s scratches.
    came: Vec<u16>,
    followed: Vec<u16>,
    /// Layer input (input + hidden) for each lane.
    inputs: Vec<f32>,
    /// Gate pre-activations (4 × hidden) for each lane.
    gates: Vec<f32>,
    /// The dense layer's pre-activation for the next step.
    pre: Vec<f32>,
    /// A head's input: the ReLU of `pre` plus the chosen fields' conditions.
    dense: Vec<f32>,
    logits: Vec<f32>,
    /// The scores of the head asked for last (event network).
    head_logits: Vec<f32>,
    probabilities: Vec<f32>,
    /// Whether `pre` and `logits` are up to date with the last feed.
    fresh: bool,
}

impl Predictor {
    /// A predictor with an empty context.
    pub fn new(network: Arc<Network>) -> Self {
        let c = network.config.clone();
        let widest = c.embed.max(c.hidden) + c.hidden;
        let lane = Lane {
            state: vec![vec![0.0; 2 * c.hidden]; c.layers],
            len: 0,
        };
        Self {
            lanes: [lane.clone(), lane],
            fed: 0,
            history: vec![0; c.window],
            came: vec![0; c.vocab_size],
            followed: vec![0; c.vocab_size],
            inputs: vec![0.0; 2 * widest],
            gates: vec![0.0; 2 * 4 * c.hidden],
            pre: vec![0.0; c.dense],
            dense: vec![0.0; c.dense],
            logits: vec![0.0; c.vocab_size],
            head_logits: vec![0.0; c.vocab_size.max(crate::event::classes::TIME_CLASSES)],
            probabilities: vec![0.0; c.vocab_size],
            fresh: false,
            network,
        }
    }

    /// The network it runs.
    pub fn network(&self) -> &Arc<Network> {
        &self.network
    }

    /// Forgets the context.
    pub fn reset(&mut self) {
        for lane in &mut self.lanes {
            lane.state.iter_mut().for_each(|s| s.fill(0.0));
            lane.len = 0;
        }
        self.fed = 0;
        self.fresh = false;
    }

    /// How many of the last tokens the next prediction is conditioned on.
    pub fn context_len(&self) -> usize {
        self.lanes[0].len.max(self.lanes[1].len)
    }

    /// Resets and feeds `tokens` (vocabulary indices, as plain steps: see
    /// [`Predictor::feed`]), leaving the prediction after the last one
    /// ready.
    ///
    /// # Panics
    /// If an index is outside the vocabulary.
    pub fn prime(&mut self, tokens: &[usize]) {
        self.reset();
        // Only the last `window` tokens can reach the prediction; start the
        // stagger as if they were all that was ever fed.
        let start = tokens.len().saturating_sub(self.network.config.window);
        for &token in &tokens[start..] {
            let event = self.plain_step(token);
            self.advance(&event);
        }
        self.fresh = false;
    }

    /// Resets and feeds `events`, leaving the prediction after the last one
    /// ready.
    ///
    /// # Panics
    /// If a token index is outside the vocabulary.
    pub fn prime_events(&mut self, events: &[EventClasses]) {
        self.reset();
        let start = events.len().saturating_sub(self.network.config.window);
        for event in &events[start..] {
            self.advance(event);
        }
        self.fresh = false;
    }

    /// Feeds a token by its text form.
    pub fn feed_token(&mut self, token: Token) -> Result<(), PredictorError> {
        let index = self
            .network
            .vocab
            .index_of(token)
            .ok_or(PredictorError::UnknownToken(token))?;
        self.feed(index);
        Ok(())
    }

    /// Feeds one token (a vocabulary index): one LSTM step. The event
    /// network reads it as a plain step: half a beat after the previous
    /// event, at velocity 80, a chord in octave 4.
    ///
    /// # Panics
    /// If `token` is outside the vocabulary.
    pub fn feed(&mut self, token: usize) {
        let event = self.plain_step(token);
        self.advance(&event);
        self.fresh = false;
    }

    /// Feeds one event: one LSTM step. Networks that read tokens only use
    /// its `what`; no network reads its `hold`.
    ///
    /// # Panics
    /// If a field is outside its classes.
    pub fn feed_event(&mut self, event: &EventClasses) {
        self.advance(event);
        self.fresh = false;
    }

    fn plain_step(&self, token: usize) -> EventClasses {
        let what = self.network.vocab.token(token).unwrap_or(Token::Note(60));
        EventClasses::on_grid(token, what, 6, 80)
    }

    /// The unnormalised scores of every token for the next step (for the
    /// event network: given its most likely `when`).
    pub fn logits(&mut self) -> &[f32] {
        if !self.fresh {
            self.compute_pre();
            let chosen = EventClasses {
                when: self.most_likely_when(),
                ..EventClasses::default()
            };
            self.project(Head::What, &chosen);
            let v = self.logits.len();
            self.logits.copy_from_slice(&self.head_logits[..v]);
            self.fresh = true;
        }
        &self.logits
    }

    /// The unnormalised scores of `head`'s classes for the next event,
    /// given the fields `chosen` before it (`when` for `what`; `when` and
    /// `what` for hold, velocity and register; nothing for `when`). Token
    /// networks have the `what` head only.
    ///
    /// # Panics
    /// If the network has no such head, or a chosen field is outside its
    /// classes.
    pub fn head_logits(&mut self, head: Head, chosen: &EventClasses) -> &[f32] {
        if !self.fresh {
            self.logits();
        }
        self.project(head, chosen)
    }

    fn most_likely_when(&mut self) -> usize {
        if self.network.events.is_none() {
            return 0;
        }
        let scores = self.project(Head::When, &EventClasses::default());
        let mut best = 0;
        for (class, &score) in scores.iter().enumerate() {
            if score > scores[best] {
                best = class;
            }
        }
        best
    }

    /// The probabilities (softmax of the logits) of every token for the next
    /// step.
    pub fn probabilities(&mut self) -> &[f32] {
        self.logits();
        softmax_into(&self.logits, &mut self.probabilities);
        &self.probabilities
    }

    fn advance(&mut self, event: &EventClasses) {
        let config = &self.network.config;
        assert!(
            event.what < config.vocab_size,
            "token {} outside the vocabulary",
            event.what
        );
        let window = config.window;
        // Lane 0 restarts at 0, W, 2W, …; lane 1 at W/2, 3W/2, …
        let starts = [0, window / 2];
        let lanes = if window >= 2 && self.fed >= starts[1] {
            2
        } else {
            1
        };
        for (lane, start) in self.lanes.iter_mut().zip(starts).take(lanes) {
            if (self.fed - start).is_multiple_of(window) {
                lane.state.iter_mut().for_each(|s| s.fill(0.0));
                lane.len = 0;
            }
        }
        self.history[self.fed % window] = event.what;
        self.fed += 1;
        self.step(event, lanes);
        for lane in self.lanes.iter_mut().take(lanes) {
            lane.len += 1;
        }
    }

    /// One LSTM step for the first `lanes` lanes.
    fn step(&mut self, event: &EventClasses, lanes: usize) {
        let network = &*self.network;
        let h = network.config.hidden;
        let e = network.config.embed;
        for (layer_index, layer) in network.layers.iter().enumerate() {
            let cols = layer.input + h;
            for lane in 0..lanes {
                let x = &mut self.inputs[lane * cols..(lane + 1) * cols];
                if layer_index == 0 {
                    let token = event.what;
                    x[..e].copy_from_slice(&network.embedding[token * e..(token + 1) * e]);
                    if let Some(parts) = &network.events {
                        for (table, class) in [
                            (&parts.when_embedding, event.when),
                            (&parts.velocity_embedding, event.velocity),
                            (&parts.register_embedding, event.register),
                        ] {
                            let row = &table[class * e..(class + 1) * e];
                            x[..e].iter_mut().zip(row).for_each(|(x, r)| *x += r);
                        }
                    }
                } else {
                    x[..h].copy_from_slice(&self.lanes[lane].state[layer_index - 1][..h]);
                }
                x[layer.input..].copy_from_slice(&self.lanes[lane].state[layer_index][..h]);
            }
            matvec(&layer.weights, cols, &self.inputs, lanes, &mut self.gates);
            for lane in 0..lanes {
                let gates = &self.gates[lane * 4 * h..(lane + 1) * 4 * h];
                let (hidden, cell) = self.lanes[lane].state[layer_index].split_at_mut(h);
                for unit in 0..h {
                    let g = &gates[4 * unit..4 * unit + 4];
                    let b = &layer.bias[4 * unit..4 * unit + 4];
                    let input_gate = sigmoid(g[0] + b[0]);
                    let forget_gate = sigmoid(g[1] + b[1]);
                    let candidate = (g[2] + b[2]).tanh();
                    let output_gate = sigmoid(g[3] + b[3]);
                    cell[unit] = forget_gate * cell[unit] + input_gate * candidate;
                    hidden[unit] = output_gate * cell[unit].tanh();
                }
            }
        }
    }

    /// The dense layer's pre-activation from the fuller lane's output.
    fn compute_pre(&mut self) {
        let network = &*self.network;
        let h = network.config.hidden;
        let best = if self.lanes[1].len > self.lanes[0].len {
            1
        } else {
            0
        };
        let top = &self.lanes[best].state[network.layers.len() - 1][..h];
        matvec(&network.dense_weight, h, top, 1, &mut self.pre);
        for (p, b) in self.pre.iter_mut().zip(&network.dense_bias) {
            *p += b;
        }
    }

    /// `head`'s scores into `head_logits`, from `pre` and the chosen fields.
    fn project(&mut self, head: Head, chosen: &EventClasses) -> &[f32] {
        let network = &*self.network;
        let d = network.config.dense;
        self.dense.copy_from_slice(&self.pre);
        let output = match (&network.events, head) {
            (None, Head::What) => &network.output,
            (None, _) => panic!("this network predicts tokens only, not {}", head.name()),
            (Some(parts), _) => {
                let mut add = |table: &[f32], class: usize| {
                    let row = &table[class * d..(class + 1) * d];
                    self.dense.iter_mut().zip(row).for_each(|(x, r)| *x += r);
                };
                if head != Head::When {
                    add(&parts.when_condition, chosen.when);
                }
                if !matches!(head, Head::When | Head::What) {
                    add(&parts.what_condition, chosen.what);
                }
                match head {
                    Head::When => &parts.when,
                    Head::What => &network.output,
                    Head::Hold => &parts.hold,
                    Head::Velocity => &parts.velocity,
                    Head::Register => &parts.register,
                }
            }
        };
        self.dense.iter_mut().for_each(|x| *x = x.max(0.0));
        let classes = output.bias.len();
        let scores = &mut self.head_logits[..classes];
        matvec(&output.weight, d, &self.dense, 1, scores);
        for (l, b) in scores.iter_mut().zip(&output.bias) {
            *l += b;
        }
        if let (Head::What, Some(bias)) = (head, &network.repeat_bias) {
            // The tokens the prediction's lane has seen: the last ones fed.
            let seen = self.lanes[0].len.max(self.lanes[1].len);
            let window = self.history.len();
            let context = (self.fed - seen..self.fed).map(|i| self.history[i % window]);
            repeats::add_prior(scores, bias, context, &mut self.came, &mut self.followed);
        }
        &self.head_logits[..classes]
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Scores as log-probabilities, in place (the log of their softmax): the
/// one softmax of inference, sampling and the session memory (the trainer
/// keeps candle's).
pub fn log_softmax_in_place(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_sum = scores.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
    scores.iter_mut().for_each(|l| *l -= max + log_sum);
}

/// The softmax of `logits` into `out` (the same length).
pub fn softmax_into(logits: &[f32], out: &mut [f32]) {
    out.copy_from_slice(logits);
    log_softmax_in_place(out);
    out.iter_mut().for_each(|p| *p = p.exp());
}
