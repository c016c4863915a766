//! Session memory: what was heard in this session, recalled where the
//! music comes back to a place it has been.
//!
//! A cache of the session's events (the player's and Pianola's own),
//! bounded in size, oldest forgotten first. To predict the next event it
//! finds every earlier place whose preceding events match the last ones
//! heard (the longest match up to [`ORDER`] events, backing off to
//! shorter ones, as the Continuator and cache language models do), and
//! counts what followed there, the player's events weighing more than
//! Pianola's. That prediction is mixed with the network's for each head:
//! `p = (1 − m·c) · p_net + m·c · p_memory`, with `m` the Memory setting
//! and `c` the memory's confidence for this context (0 for a context never
//! heard). It predicts what the network's fixed weights and 100-event
//! window cannot: the song's own repeats.
//!
//! The scan is linear in the memory's size and allocates nothing after
//! [`SessionMemory::new`]; the worker runs it, never the audio thread.

use std::collections::VecDeque;

use crate::event::EventClasses;
use crate::model::Head;
use crate::predictor::log_softmax_in_place;

/// The range of the Memory setting `m`.
pub const AMOUNT: std::ops::RangeInclusive<f32> = 0.0..=1.0;

/// The longest context matched: the order of the variable-order model.
pub const ORDER: usize = 6;

/// The events a memory keeps by default (the oldest are forgotten first):
/// several minutes of a busy jam.
pub const CAPACITY: usize = 2048;

/// Once this many of the last events are Pianola's own and were copied
/// from earlier in the session, the memory stops leading: it brings a
/// phrase back, it does not loop.
pub const COPY_LIMIT: usize = 16;

/// Pianola's own events among this many last heard are never recalled:
/// no loop of its own shorter than this can be held up by the memory, and
/// a longer one ends at [`COPY_LIMIT`].
pub const RECALL_GAP: usize = 8;

/// After this many events of one token in a row the memory does not lead,
/// and steers off the token ([`SessionMemory::copying`]): where it leads,
/// the sampler's repetition guard steps back, and a run the memory found
/// (an ostinato in the primer) could otherwise go on and on.
pub const RUN_LIMIT: usize = 8;

/// Subtracted from the score of the token a copy of Pianola's own past
/// [`COPY_LIMIT`] events would play next ([`SessionMemory::copying`]).
pub const COPY_PENALTY: f32 = 6.0;

/// How much an event of Pianola's own counts against one of the player's:
/// less, but enough that its own phrases come back (chosen by the share of
/// distinct phrases in generated pieces; BENCHMARKS.md, "Session memory").
pub const OWN_WEIGHT: f32 = 0.8;

/// The memory's confidence for a context matched over `order` events
/// (index 0 unused): a single event recurs by chance, six in a row rarely
/// do. Chosen on the 40 training pieces of the out-of-corpus set
/// (`tools/music21_corpus.py --split`, `pianola eval --memory`; the
/// figures in BENCHMARKS.md), never on a part that is reported.
const ORDER_CONFIDENCE: [f32; ORDER + 1] = [0.0, 0.3, 0.7, 0.9, 0.95, 0.97, 0.98];

/// Evidence (summed weight of the places matched) at which the confidence
/// reaches half of its order's: low, so one place heard before is enough
/// for a phrase to come back (at 0.5 Pianola's own phrases never did).
const HALF_EVIDENCE: f32 = 0.1;

/// What [`SessionMemory::recall`] matches the context against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    /// The session as heard, both players in one line, against the
    /// context's end.
    Heard,
    /// The player's line against Pianola's own line in the context.
    OwnLine,
    /// The player's line against the player's line in the context.
    PlayerLine,
}

/// One event heard in the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heard {
    /// The event as the network's classes.
    pub classes: EventClasses,
    /// Whether the player played it (else Pianola did).
    pub player: bool,
}

/// A bounded variable-order model of the session; see the module docs.
#[derive(Clone, Debug)]
pub struct SessionMemory {
    heard: VecDeque<Heard>,
    capacity: usize,
    /// The places matched by the last [`SessionMemory::recall`]: the index
    /// of the event that followed, and its weight.
    matches: Vec<(usize, f32)>,
    /// Scratch: the indices of the events of the line being matched.
    line: Vec<usize>,
    /// Scratch: the tokens of the context's end being matched.
    tail: Vec<usize>,
    /// The last recall's confidence before any head's conditioning.
    confidence: f32,
    /// Where the last recall matched.
    view: View,
    /// See [`SessionMemory::copying`].
    copying: Option<usize>,
}

impl SessionMemory {
    /// An empty memory that keeps at most `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            heard: VecDeque::with_capacity(capacity),
            capacity,
            matches: Vec::with_capacity(capacity),
            line: Vec::with_capacity(capacity),
            tail: Vec::with_capacity(COPY_LIMIT.max(ORDER)),
            confidence: 0.0,
            view: View::Heard,
            copying: None,
        }
    }

    /// Remembers `heard`, forgetting the oldest event when full.
    pub fn remember(&mut self, heard: Heard) {
        if self.capacity == 0 {
            return;
        }
        if self.heard.len() == self.capacity {
            self.heard.pop_front();
        }
        self.heard.push_back(heard);
    }

    /// The player's event remembered `back` events before the last (0:
    /// the last) sounded for hold class `hold`: a live player's length,
    /// known at the note's release. Only a length not known yet is set;
    /// returns whether it was.
    pub fn held(&mut self, back: usize, hold: usize) -> bool {
        let index = self.heard.len().checked_sub(back + 1);
        match index.and_then(|i| self.heard.get_mut(i)) {
            Some(heard) if heard.player && !heard.classes.hold_known() => {
                heard.classes.hold = hold;
                true
            }
            _ => false,
        }
    }

    /// Forgets everything.
    pub fn forget(&mut self) {
        self.heard.clear();
        self.matches.clear();
        self.confidence = 0.0;
        self.copying = None;
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.heard.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.heard.is_empty()
    }

    /// The events it holds, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &Heard> {
        self.heard.iter()
    }

    /// Finds the places that follow the end of `context` (the events just
    /// heard, oldest first: those remembered and any not yet remembered)
    /// and returns the memory's confidence for it (0: never heard).
    ///
    /// Where the player and Pianola play at once their events interleave,
    /// and the session as heard rarely matches. So Pianola's own line is
    /// matched against the player's too (it takes up the player's phrases
    /// in its own line), and where it matches nothing yet, the player's
    /// line is (Pianola falls in with the player's phrase). See [`View`].
    /// Once two or more of Pianola's own events match the player's line,
    /// that line leads: the session as heard, both lines interleaved, may
    /// match longer, but what followed there was the two lines' mix.
    pub fn recall(&mut self, context: &[Heard]) -> f32 {
        self.matches.clear();
        self.confidence = 0.0;
        self.copying = None;
        if context.is_empty() || self.heard.len() < 2 {
            return 0.0;
        }
        // A run of one token as long as the limit: a loop, whoever began it.
        let last = context[context.len() - 1].classes.what;
        let run = context
            .iter()
            .rev()
            .take_while(|h| h.classes.what == last)
            .count();
        if run >= RUN_LIMIT {
            self.copying = Some(last);
            return 0.0;
        }
        let heard = self.order_in(View::Heard, context);
        if self.copying.is_some() {
            // Pianola is copying itself: no view leads, whatever it matches.
            return 0.0;
        }
        let own = self.order_in(View::OwnLine, context);
        let (view, order) = if own >= 2 || (own > 0 && own >= heard) {
            (View::OwnLine, own)
        } else if own > 0 {
            (View::Heard, heard)
        } else {
            match self.order_in(View::PlayerLine, context) {
                player if player > heard => (View::PlayerLine, player),
                _ => (View::Heard, heard),
            }
        };
        if order == 0 {
            return 0.0;
        }
        self.view = view;
        self.fill(view, context);
        let mut evidence = 0.0;
        let n = self.tail.len();
        for next in order..self.line.len() {
            let matched = (1..=order)
                .all(|k| self.heard[self.line[next - k]].classes.what == self.tail[n - k]);
            if matched && !self.recent_own(self.line[next]) {
                let place = self.line[next];
                let weight = if self.heard[place].player {
                    1.0
                } else {
                    OWN_WEIGHT
                };
                self.matches.push((place, weight));
                evidence += weight;
            }
        }
        self.confidence = ORDER_CONFIDENCE[order] * evidence / (evidence + HALF_EVIDENCE);
        self.confidence
    }

    /// The order `context` matches at in `view` (0: none, or Pianola has
    /// copied [`COPY_LIMIT`] events of its own in a row from there).
    fn order_in(&mut self, view: View, context: &[Heard]) -> usize {
        self.fill(view, context);
        let Some((longest, place)) = self.longest_place() else {
            return 0;
        };
        let own_tail = context.iter().rev().take_while(|h| !h.player).count();
        let copied = match view {
            View::OwnLine => longest,
            View::Heard => longest.min(own_tail),
            // Falling in with the player: right after the player's event.
            View::PlayerLine if own_tail > 0 => return 0,
            View::PlayerLine => 0,
        };
        if copied >= COPY_LIMIT {
            // Past the limit the network alone would often go on copying
            // (it has seen this context before): steer it off.
            self.copying = Some(self.heard[place].classes.what);
            return 0;
        }
        longest.min(ORDER)
    }

    /// Whether the event at `place` is one of Pianola's own among the last
    /// [`RECALL_GAP`] heard: it is never recalled, so the memory cannot keep
    /// up a short loop of Pianola's own (a phrase comes back from further
    /// off; the player's recent events are recalled, a song's repeats).
    fn recent_own(&self, place: usize) -> bool {
        !self.heard[place].player && place + RECALL_GAP >= self.heard.len()
    }

    /// The token a copy of Pianola's own past [`COPY_LIMIT`] events long
    /// would play next, or that [`RUN_LIMIT`] events in a row played, as
    /// the last recall found (the sampler plays it less, so copies and
    /// runs end).
    pub fn copying(&self) -> Option<usize> {
        self.copying
    }

    /// Sets `line` to the memory's events `view` matches in and `tail` to
    /// the end of `context` it matches.
    fn fill(&mut self, view: View, context: &[Heard]) {
        let cap = COPY_LIMIT.max(ORDER);
        let what = |h: &Heard| h.classes.what;
        self.line.clear();
        self.tail.clear();
        match view {
            View::Heard => {
                self.line.extend(0..self.heard.len());
                let from = context.len().saturating_sub(cap);
                self.tail.extend(context[from..].iter().map(what));
            }
            View::OwnLine | View::PlayerLine => {
                let heard = &self.heard;
                self.line
                    .extend((0..heard.len()).filter(|&i| heard[i].player));
                let player = view == View::PlayerLine;
                let line = context.iter().rev().filter(|h| h.player == player);
                self.tail.extend(line.take(cap).map(what));
                self.tail.reverse();
            }
        }
    }

    /// The longest match of `tail`'s end before a place of `line`, and the
    /// event at that place (the latest, among equally long).
    fn longest_place(&self) -> Option<(usize, usize)> {
        let n = self.tail.len();
        let mut longest = None;
        for next in 1..self.line.len() {
            if self.recent_own(self.line[next]) {
                continue;
            }
            let length = (1..=n.min(next))
                .take_while(|&k| self.heard[self.line[next - k]].classes.what == self.tail[n - k])
                .count();
            if length > 0 && longest.is_none_or(|(l, _)| length >= l) {
                longest = Some((length, self.line[next]));
            }
        }
        longest
    }

    /// The memory's distribution for `head` into `out` (one entry per
    /// class), from the places the last [`SessionMemory::recall`] matched
    /// whose event agrees with the fields already `chosen`, if given (those
    /// before `head` in [`Head::ALL`]'s order), and for the hold, whose
    /// event's hold is known (a live player's notes are heard at their
    /// onsets: their lengths must not teach Pianola to play every note
    /// short); returns its confidence (0, and `out` untouched, when no
    /// place agrees).
    pub fn distribution(&self, head: Head, chosen: Option<&EventClasses>, out: &mut [f32]) -> f32 {
        // A line's events were timed against both players' events: in a
        // line the memory tells what, not when.
        let in_line = self.view != View::Heard;
        if self.confidence == 0.0 || (in_line && head == Head::When) {
            return 0.0;
        }
        let (mut agreeing, mut total) = (0.0, 0.0);
        for &(next, weight) in &self.matches {
            total += weight;
            let event = &self.heard[next].classes;
            let agreed = chosen.is_none_or(|c| agrees(event, c, head, in_line));
            let known = head != Head::Hold || event.hold_known();
            if agreed && known && event.class(head) < out.len() {
                if agreeing == 0.0 {
                    out.fill(0.0);
                }
                out[event.class(head)] += weight;
                agreeing += weight;
            }
        }
        if agreeing == 0.0 {
            return 0.0;
        }
        out.iter_mut().for_each(|p| *p /= agreeing);
        self.confidence * agreeing / total
    }
}

/// Whether `event` has the classes `chosen` has for every head sampled
/// before `head` (but `when` if `untimed`, and the hold where the event's
/// is not known: any length agrees with it).
fn agrees(event: &EventClasses, chosen: &EventClasses, head: Head, untimed: bool) -> bool {
    Head::ALL
        .iter()
        .take_while(|&&h| h != head)
        .filter(|&&h| !(untimed && h == Head::When))
        .filter(|&&h| h != Head::Hold || event.hold_known())
        .all(|&h| event.class(h) == chosen.class(h))
}

/// Mixes the memory's distribution into `logits` in place:
/// `ln((1 − weight) · softmax(logits) + weight · memory)`, so sampling
/// (temperature, cuts, guides) works on the mixture as on the network's
/// scores. `weight` is the Memory setting times the memory's confidence.
pub fn mix_into(logits: &mut [f32], memory: &[f32], weight: f32) {
    if weight <= 0.0 {
        return;
    }
    let weight = weight.min(1.0);
    log_softmax_in_place(logits);
    // ln((1 − w)·p) = ln p + ln(1 − w) where the memory has nothing.
    let kept = (1.0 - weight).ln();
    for (logit, &remembered) in logits.iter_mut().zip(memory) {
        *logit = if remembered > 0.0 {
            ((1.0 - weight) * logit.exp() + weight * remembered).ln()
        } else {
            *logit + kept
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Token;

    fn heard(what: usize, player: bool) -> Heard {
        // An eighth after the last, at velocity 72, from middle C.
        let classes = EventClasses::on_grid(what, Token::Note(60), 6, 72);
        Heard { classes, player }
    }

    fn heard_as(what: usize, player: bool) -> Heard {
        heard(what, player)
    }

    fn played(tokens: &[usize], player: bool) -> Vec<Heard> {
        tokens.iter().map(|&t| heard(t, player)).collect()
    }

    fn memory_of(tokens: &[usize]) -> SessionMemory {
        let mut memory = SessionMemory::new(CAPACITY);
        for h in played(tokens, true) {
            memory.remember(h);
        }
        memory
    }

    #[test]
    fn a_context_never_heard_gives_no_confidence() {
        let mut memory = memory_of(&[1, 2, 3, 4]);
        assert_eq!(memory.recall(&played(&[7, 8], true)), 0.0);
        let mut out = [0.0; 10];
        assert_eq!(
            memory.distribution(Head::What, Some(&EventClasses::default()), &mut out),
            0.0
        );
    }

    #[test]
    fn a_phrase_heard_before_predicts_how_it_went_on() {
        // 1 2 3 4 5, then 1 2 3 again: 4 follows.
        let tokens = [1, 2, 3, 4, 5, 9, 1, 2, 3];
        let mut memory = memory_of(&tokens);
        let confidence = memory.recall(&played(&tokens, true));
        assert!(confidence > 0.3, "{confidence}");
        let mut out = [0.0; 10];
        let chosen = heard(0, true).classes;
        let c = memory.distribution(Head::What, Some(&chosen), &mut out);
        assert!(c > 0.0);
        assert_eq!(out[4], 1.0);
        // A longer match is more certain than a shorter one.
        let mut short = memory_of(&[1, 2, 3, 4, 5, 9, 3]);
        assert!(short.recall(&played(&[1, 2, 3, 4, 5, 9, 3], true)) < confidence);
    }

    #[test]
    fn lengths_not_known_say_nothing_of_the_hold_and_agree_with_any() {
        // A live player's phrase: heard at the onsets, no lengths.
        let tokens = [1, 2, 3, 4, 5, 9, 1, 2, 3];
        let mut memory = SessionMemory::new(CAPACITY);
        for mut h in played(&tokens, true) {
            h.classes.hold = 0;
            memory.remember(h);
        }
        assert!(memory.recall(&played(&tokens, true)) > 0.3);
        let mut chosen = heard(0, true).classes;
        chosen.what = 4;
        let mut out = [0.5; 49];
        assert_eq!(
            memory.distribution(Head::Hold, Some(&chosen), &mut out),
            0.0
        );
        assert_eq!(out, [0.5; 49], "untouched");
        // A length was chosen (an eighth): the phrase still tells how loud.
        let mut out = [0.0; 8];
        assert!(memory.distribution(Head::Velocity, Some(&chosen), &mut out) > 0.0);
        assert_eq!(out[chosen.velocity], 1.0);
    }

    #[test]
    fn a_head_is_conditioned_on_the_fields_chosen_before_it() {
        let mut memory = memory_of(&[1, 2, 1, 3]);
        memory.recall(&played(&[1, 2, 1], true));
        let mut out = [0.0; 10];
        let mut chosen = heard(0, true).classes;
        assert!(memory.distribution(Head::What, Some(&chosen), &mut out) > 0.0);
        // The memory's event after 1 came 6 twelfths later; a `when` of 3
        // was never heard there.
        chosen.when = 3;
        assert_eq!(
            memory.distribution(Head::What, Some(&chosen), &mut out),
            0.0
        );
    }

    #[test]
    fn its_own_copies_stop_at_the_copy_limit() {
        let phrase: Vec<usize> = (0..40).map(|i| i % 20).collect();
        let mut memory = SessionMemory::new(CAPACITY);
        for h in played(&phrase, false) {
            memory.remember(h);
        }
        // The last 20 events repeat the first 20, all Pianola's own.
        assert_eq!(memory.recall(&played(&phrase, false)), 0.0);
        // The same events from the player are a song's own repeat.
        let mut memory = memory_of(&phrase);
        assert!(memory.recall(&played(&phrase, true)) > 0.0);
    }

    #[test]
    fn while_both_play_pianola_takes_up_the_players_phrase_in_its_own_line() {
        // The player loops 1 2 3 4; Pianola's own events fall between. The
        // worker remembers each event as it is fed and recalls for all.
        let mut memory = SessionMemory::new(CAPACITY);
        let mut heard = Vec::new();
        let mut hear = |memory: &mut SessionMemory, what: usize, player: bool| {
            heard.push(heard_as(what, player));
            memory.remember(heard_as(what, player));
            heard.clone()
        };
        for (i, own) in [40, 41, 42, 43, 44, 45, 46].into_iter().enumerate() {
            hear(&mut memory, 1 + i % 4, true);
            hear(&mut memory, own, false);
        }
        let context = hear(&mut memory, 4, true);
        let best = |memory: &SessionMemory| {
            let mut out = [0.0; 50];
            assert!(memory.distribution(Head::What, None, &mut out) > 0.0);
            (0..50).max_by(|&a, &b| out[a].total_cmp(&out[b])).unwrap()
        };
        // Right after the player's 4, Pianola falls in: 1 comes next.
        assert!(memory.recall(&context) > 0.5);
        assert_eq!(best(&memory), 1);
        // Once Pianola has played 1 and 2 in its own line, 3 follows
        // there, whatever the player plays between.
        hear(&mut memory, 1, false);
        hear(&mut memory, 9, true);
        let context = hear(&mut memory, 2, false);
        assert!(memory.recall(&context) > 0.3);
        assert_eq!(best(&memory), 3);
    }

    #[test]
    fn a_copy_past_the_limit_names_the_token_it_would_play_next() {
        let phrase: Vec<usize> = (0..40).map(|i| i % 20).collect();
        let remembered = |events: &[usize]| {
            let mut memory = SessionMemory::new(CAPACITY);
            for h in played(events, false) {
                memory.remember(h);
            }
            memory
        };
        let mut memory = remembered(&phrase);
        assert_eq!(memory.recall(&played(&phrase, false)), 0.0);
        assert_eq!(memory.copying(), Some(0), "the phrase would start again");
        let mut memory = remembered(&phrase[..30]);
        assert!(memory.recall(&played(&phrase[..30], false)) > 0.0);
        assert_eq!(memory.copying(), None, "ten events copied");
    }

    #[test]
    fn a_run_of_one_token_at_the_limit_is_steered_off() {
        let run = [5; RUN_LIMIT];
        let mut memory = memory_of(&[5; 2 * RUN_LIMIT]);
        assert_eq!(memory.recall(&played(&run, true)), 0.0);
        assert_eq!(memory.copying(), Some(5));
        assert!(memory.recall(&played(&run[1..], true)) > 0.0);
        assert_eq!(memory.copying(), None);
    }

    #[test]
    fn it_forgets_the_oldest_first_and_stays_bounded() {
        let mut memory = SessionMemory::new(4);
        for h in played(&[1, 2, 3, 4, 5, 6], true) {
            memory.remember(h);
        }
        assert_eq!(memory.len(), 4);
        let kept: Vec<usize> = memory.events().map(|h| h.classes.what).collect();
        assert_eq!(kept, [3, 4, 5, 6]);
        memory.forget();
        assert!(memory.is_empty());
    }

    #[test]
    fn mixing_keeps_a_distribution_and_moves_it_towards_the_memory() {
        let mut logits = [2.0f32, 1.0, 0.0];
        let memory = [0.0, 0.0, 1.0];
        mix_into(&mut logits, &memory, 0.5);
        let total: f32 = logits.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(logits[2].exp() > 0.5);
        let mut unchanged = [2.0f32, 1.0, 0.0];
        mix_into(&mut unchanged, &memory, 0.0);
        assert_eq!(unchanged, [2.0, 1.0, 0.0]);
    }
}
