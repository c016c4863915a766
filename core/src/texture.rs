//! Following the player's texture: how many keys an event strikes, how
//! long after the one before it starts, where in the beat it lands, and
//! how long it sounds.
//!
//! Trained on the 92 songs, the network plays their texture, whatever it
//! continues, and reading its own chords back it plays more of them: over
//! a player's single lines it drifts into chords, into runs of events
//! struck together, and into the gaps of its own songs. The sampler holds
//! its heads to the player's texture: each size class of token, each gap
//! (*when*) class and each place in the beat a gap lands on has its score
//! raised or lowered by the logarithm of the share the class has in the
//! player's last events over the share it has in Pianola's own last
//! events (so triplets draw it onto the triplet grid). So has each gap
//! by whether it lands where an onset came a bar before (two, three or
//! four beats: whichever the player's rhythm comes back at most), by how
//! often the player's onsets do against how often Pianola's do: a rhythm
//! the player repeats bar after bar, Pianola keeps. So has each length
//! (*hold*) class, where the player's lengths are known (a primer's; a
//! live player's, once each note is released). The sizes, striking
//! together and the lengths, which make how many notes sound at once, are
//! tilted [`FEEDBACK_GAIN`] times as strongly (see there).
//!
//! Rests are held to the player's in one step: the network never reads a
//! length back, so it chooses the next gap blind to whether its last note
//! still sounds, and leaves rests a legato player would not. Where the
//! lengths are known, the gaps that would start after all of Pianola's
//! notes have stopped are scaled down, together, to the share of the
//! player's events that start after a rest. Never up: that would thin
//! Pianola out to fit rests between long notes; where the player rests
//! more, the hold tilt makes its notes shorter and the rests come with
//! them. Where Pianola already plays like the player nothing changes; the
//! model keeps its say on *where* a chord comes (a downbeat, a cadence),
//! and only how many come, on the whole, follows the player.
//!
//! The gaps are also held to the player's grid in one step: the *when*
//! head chooses each gap from the last onset, so one gap off the grid (a
//! triplet among sixteenths, a grace note's twelfth) would shift every
//! onset after it off the grid too, and the places in the beat, read
//! from Pianola's own last events, would bring it back only slowly. The
//! places in the beat where at least [`GRID_SHARE`] of the player's onsets
//! land are their grid; the gaps that would land elsewhere are scaled
//! down, together, to the player's share of onsets off it (never up).
//!
//! For the same reason Pianola's notes would ring on over its next ones
//! where the player's end as the next begins: an onset that would strike
//! over Pianola's notes still sounding ends them
//! ([`TextureSteer::release_chance`], [`Event::releases`]) as often as
//! makes Pianola strike over its own notes as seldom as the player does
//! over theirs.
//!
//! Nor does Pianola lean on a pitch class more than the player does: a
//! model that has found the tonic comes back to it, and over a player who
//! wanders through all twelve it would play a few of them again and again.
//! A token loses, for each of its pitch classes, [`FEEDBACK_GAIN`] times
//! the logarithm of the player's share of that pitch class over Pianola's
//! own, where Pianola's is the larger (the mean over a chord's pitch
//! classes), both read over the key guide's window
//! ([`PITCH_CLASS_WINDOW`]). Never raised: the key guide keeps Pianola in
//! the key, and the player's chromatic turns are theirs.
//!
//! The same goes for the keys it reaches for: a note, or a chord's
//! voicing, beyond the span of keys the player's last events covered loses
//! [`SPAN_PULL`] per octave beyond it, so the music stays where the player
//! is unless the model is sure (the duet's Range, where set, rules
//! instead).

use crate::event::classes::{TIME_CLASSES, time_of_class};
use crate::event::{Event, GRID_PER_BEAT};
use crate::token::{PitchClassSet, Token};

/// How far the sampler can follow the player's texture
/// ([`crate::SamplerSettings::texture`]): 0 plays the model's own, 1
/// follows wholly.
pub const AMOUNT: std::ops::RangeInclusive<f32> = 0.0..=1.0;

/// The size classes of an event: one key, two, three, four or more.
pub const SIZES: usize = 4;

/// How many of the player's last events their texture is read from
/// (BENCHMARKS.md, "Following the player's texture").
pub const PLAYER_WINDOW: usize = 32;

/// How many of Pianola's own last events its texture is read from
/// (BENCHMARKS.md, "Following the player's texture").
pub const OWN_WINDOW: usize = 32;

/// How many of each side's last events their pitch classes are read from
/// ([`TextureSteer::tilt_pitch_classes`]): the key guide's window, so the
/// share of a pitch class is the player's over the stretch the key is
/// read from, not over the last chord or two (BENCHMARKS.md, "Leaning
/// on no pitch class more than the player").
pub const PITCH_CLASS_WINDOW: usize = crate::sample::KEY_GUIDE_WINDOW;

/// Pseudo-events shaped as the player's texture added to Pianola's own
/// counts: its first events are not corrected by chance.
const OWN_PRIOR: f32 = 2.0;

/// The largest factor by which one comparison of shares raises or lowers
/// a class's probability (after [`FEEDBACK_GAIN`]; the rest rule's
/// scaling too): a class the player has not played lately is made
/// rarer, never ruled out (BENCHMARKS.md, "The texture's gain").
const MAX_FACTOR: f32 = 16.0;

/// How many times the logarithm of the player's share over Pianola's own
/// is added to the score of a size class, of striking together and of a
/// hold class. Pianola's shares are read from what it played, the tilt
/// already in them, so a tilt of the bare logarithm settles where
/// Pianola's log-odds of a class are halfway between the model's and the
/// player's (the geometric mean: a player striking together 40 % of the
/// time, a model that would 10 %, and Pianola settles near 20 %). At a
/// gain `g` they settle `g / (g + 1)` of the way to the player's: three
/// quarters at 3, which continued the out-of-corpus pieces that chose it
/// best of 1 to 4 (BENCHMARKS.md, "The texture's gain"). The gaps, their
/// places in the beat and the bar's echo keep the bare logarithm: at this
/// gain Pianola's rhythm locked onto a looping player's so tightly that,
/// with a late worker, it looped a bar of its own.
pub const FEEDBACK_GAIN: f32 = 3.0;

/// Added to both shares before they are compared: a class that is rare on
/// both sides is left alone, whatever the ratio of two small counts says,
/// and one the player has not played lately is made rarer, not ruled
/// out.
const SHARE_FLOOR: f32 = 0.05;

/// [`SHARE_FLOOR`] for the share of events that start after a rest:
/// lower, since rests are rare in most music and the share small on both
/// sides.
const REST_FLOOR: f32 = 0.01;

/// Taken from the score of a note or voicing for each octave it reaches
/// beyond the player's span (BENCHMARKS.md, "Following the player's
/// texture").
pub const SPAN_PULL: f32 = 4.0;

/// Semitones either side of the player's span that cost nothing.
const SPAN_MARGIN: u8 = 2;

/// The gap bins, by their shortest gap in twelfths of a beat: together, a
/// sixth of a beat or less, under an eighth, under a quarter, under a
/// half, and longer. Bins rather than the *when* head's 49 classes: 32
/// events fill bins, and a long gap neither side has played falls in the
/// same bin as the long gaps Pianola has played (*Space* makes it wait),
/// not in a class the tilt leaves alone.
const GAP_BINS: [u32; 6] = [0, 1, 3, 6, 12, 24];

/// The length bins, by their shortest length in twelfths of a beat:
/// under a quarter of a beat, under a half, under a beat, under two
/// beats, under four, and longer. Bins for the reason of [`GAP_BINS`];
/// held chords and melodies that sing sit in the long ones, a staccato
/// line in the first.
const HOLD_BINS: [u32; 6] = [0, 3, 6, 12, 24, 48];

/// The places in a beat an onset can fall, in twelfths: the player's
/// subdivision (straight eighths, triplets, sixteenths, a swing) is the
/// share of their onsets at each place.
const PHASES: usize = GRID_PER_BEAT as usize;

/// The share of the player's onsets a place in the beat needs to be on
/// their grid: two of [`PLAYER_WINDOW`]. One is a grace note or a slip.
const GRID_SHARE: f32 = 0.05;

/// How many of the player's events their grid is read from at least;
/// before, every place in the beat is on it.
const GRID_EVENTS: usize = PLAYER_WINDOW / 2;

/// The lags, in twelfths, at which a rhythm can come back: two, three
/// and four beats (a bar of 2/4, 3/4 or 4/4).
const LAGS: [u64; 3] = [24, 36, 48];

/// How far back [`Lately`] keeps the onsets: more than two bars of 4/4.
const LATELY: u64 = 16 * 64;

/// The onsets heard lately, a bit per twelfth back from the last one.
struct Lately([u64; (LATELY / 64) as usize]);

impl Lately {
    fn of<'a>(onsets: impl Iterator<Item = &'a Onset>, now: u64) -> Self {
        let mut lately = Self([0; (LATELY / 64) as usize]);
        for onset in onsets {
            let back = now.saturating_sub(onset.at);
            if back < LATELY {
                lately.0[(back / 64) as usize] |= 1 << (back % 64);
            }
        }
        lately
    }

    /// Whether an onset was heard `back` twelfths before the last.
    fn at(&self, back: u64) -> bool {
        back < LATELY && self.0[(back / 64) as usize] & (1 << (back % 64)) != 0
    }
}

/// The bin of `twelfths` among `bins` (each bin from its first value on).
fn bin_of(bins: &[u32], twelfths: u32) -> usize {
    bins.iter().rposition(|&from| twelfths >= from).unwrap_or(0)
}

/// The place in the beat of an onset at `at` twelfths.
fn phase_of(at: u64) -> usize {
    (at % PHASES as u64) as usize
}

/// The size class of an event that strikes `notes` keys.
pub fn size_class(notes: usize) -> usize {
    notes.clamp(1, SIZES) - 1
}

/// How many keys `event` strikes (at least one).
pub fn notes_of(event: &Event) -> usize {
    event.pitches().iter().count().max(1)
}

/// One event heard, for reading textures (and the duet's rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Onset {
    /// When it started, on any clock that counts up.
    pub at: u64,
    /// How many keys it strikes.
    pub notes: usize,
    /// Its lowest key.
    pub lowest: u8,
    /// Its highest key.
    pub highest: u8,
    /// How long it sounds, in twelfths of a beat, where known (a live
    /// player's note is heard at its onset, its length at its release).
    pub hold: Option<u32>,
    /// Whether the player played it (else Pianola).
    pub player: bool,
    /// Whether it ended the notes of its side still sounding
    /// ([`Event::releases`]).
    pub releases: bool,
    /// The pitch classes it strikes (bit `pc` set for pitch class `pc`).
    pub pitch_classes: u16,
}

impl Onset {
    /// `event`, started `at`, as the player's or Pianola's; a `hold` of 0
    /// is an unknown length.
    pub fn of(event: &Event, at: u64, player: bool) -> Self {
        let keys = event.pitches();
        Self {
            at,
            notes: notes_of(event),
            lowest: keys.iter().min().unwrap_or(event.lowest),
            highest: keys.iter().max().unwrap_or(event.lowest),
            hold: event.known_hold(),
            player,
            releases: event.releases,
            pitch_classes: PitchClassSet::from_pitches(keys.iter()).map_or(0, |set| set.mask()),
        }
    }
}

/// The texture of a stretch of music: the share of each size class among
/// its events, of each gap bin between one and the next, of each length
/// bin among the events whose length is known, and the span of keys the
/// events cover.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Texture {
    sizes: [f32; SIZES],
    gaps: [f32; GAP_BINS.len()],
    holds: [f32; HOLD_BINS.len()],
    /// The share of onsets at each place in the beat (on the onsets'
    /// clock).
    phases: [f32; PHASES],
    /// For each of [`LAGS`], the share of onsets that came where an onset
    /// (either side's) came that long before.
    echoes: [f32; LAGS.len()],
    /// How many events the stretch has (the prior's not counted).
    events: usize,
    /// How many events of the stretch have a known length.
    holds_known: usize,
    /// The share of its events, among those whose side's earlier lengths
    /// are known, that start after a rest.
    rests: f32,
    /// The share of its onsets after the first (events struck with the one
    /// before left out), among those whose side's earlier lengths are
    /// known, struck while an earlier note of the side still sounds (one
    /// that then ends, see [`Event::releases`], counted too).
    struck_over: f32,
    /// When everything the side has played stops sounding, where all its
    /// lengths are known.
    silent_from: Option<u64>,
    /// The lowest and highest key (`(u8::MAX, 0)` for no events).
    span: (u8, u8),
    /// The share of each pitch class among the pitch classes its events
    /// strike.
    pitch_classes: [f32; 12],
}

impl Texture {
    /// The share of events of size class `class`.
    pub fn size_share(&self, class: usize) -> f32 {
        self.sizes[class.min(SIZES - 1)]
    }

    /// The share of gaps in the bin of time class `class`.
    pub fn gap_share(&self, class: usize) -> f32 {
        self.gaps[bin_of(&GAP_BINS, time_of_class(class))]
    }

    /// The share of known lengths in the bin of time class `class`.
    pub fn hold_share(&self, class: usize) -> f32 {
        self.holds[bin_of(&HOLD_BINS, time_of_class(class))]
    }

    /// Whether onsets land on `phase`, a place in the beat, often enough to
    /// make it part of the stretch's grid ([`GRID_SHARE`]); every place is,
    /// while fewer than [`GRID_EVENTS`] events are known.
    fn on_grid(&self, phase: usize) -> bool {
        self.events < GRID_EVENTS || self.phases[phase % PHASES] >= GRID_SHARE
    }

    /// The share of onsets off the stretch's grid.
    fn off_grid(&self) -> f32 {
        (0..PHASES)
            .filter(|&phase| !self.on_grid(phase))
            .map(|phase| self.phases[phase])
            .sum()
    }

    /// The texture of the last `window` events of one side (their pitch
    /// classes over the last [`PITCH_CLASS_WINDOW`]), each with its own
    /// earlier event (`onsets`, oldest first), with `prior`'s shares
    /// counted `prior_events` times.
    fn read<'a>(
        onsets: impl Iterator<Item = &'a Onset> + Clone,
        player: bool,
        window: usize,
        prior: &Self,
        prior_events: f32,
        lately: &Lately,
        now: u64,
    ) -> Self {
        let side = || onsets.clone().filter(|o| o.player == player);
        let played = side().count();
        let skip = played.saturating_sub(window);
        let mut sizes = prior.sizes.map(|share| share * prior_events);
        let mut gaps = prior.gaps.map(|share| share * prior_events);
        let mut holds = prior.holds.map(|share| share * prior_events);
        let mut phases = prior.phases.map(|share| share * prior_events);
        let mut echoes = prior.echoes.map(|share| share * prior_events);
        let mut pitch_classes = prior.pitch_classes.map(|share| share * prior_events);
        let (mut n, mut n_gaps, mut n_holds) = (0.0, 0.0, 0);
        let (mut rests, mut n_rests) = (prior.rests * prior_events, 0.0);
        let (mut struck_over, mut n_struck) = (prior.struck_over * prior_events, 0.0);
        let mut silent_from: Option<u64> = None;
        let mut span = (u8::MAX, 0);
        let mut before: Option<u64> = None;
        let pitch_class_skip = played.saturating_sub(PITCH_CLASS_WINDOW);
        for (i, onset) in side().enumerate() {
            if i >= pitch_class_skip {
                for (pc, count) in pitch_classes.iter_mut().enumerate() {
                    *count += f32::from(u8::from(onset.pitch_classes & 1 << pc != 0));
                }
            }
            if i >= skip {
                sizes[size_class(onset.notes)] += 1.0;
                n += 1.0;
                phases[phase_of(onset.at)] += 1.0;
                let back = now.saturating_sub(onset.at);
                for (echo, lag) in echoes.iter_mut().zip(LAGS) {
                    *echo += f32::from(u8::from(lately.at(back + lag)));
                }
                span = (span.0.min(onset.lowest), span.1.max(onset.highest));
                if let Some(before) = before {
                    let gap = onset.at.saturating_sub(before).min(u64::from(u32::MAX));
                    gaps[bin_of(&GAP_BINS, gap as u32)] += 1.0;
                    n_gaps += 1.0;
                }
                if let Some(hold) = onset.hold {
                    holds[bin_of(&HOLD_BINS, hold)] += 1.0;
                    n_holds += 1;
                }
                if let Some(silent) = silent_from {
                    rests += f32::from(u8::from(onset.at > silent));
                    n_rests += 1.0;
                    if before.is_some_and(|before| onset.at > before) {
                        struck_over += f32::from(u8::from(onset.at < silent));
                        n_struck += 1.0;
                    }
                }
            }
            silent_from = match (onset.hold, before) {
                (Some(hold), None) => Some(onset.at + u64::from(hold)),
                (Some(hold), Some(_)) if onset.releases => Some(onset.at + u64::from(hold)),
                (Some(hold), Some(_)) => silent_from.map(|s| s.max(onset.at + u64::from(hold))),
                (None, _) => silent_from,
            };
            before = Some(onset.at);
        }
        let share = |count: f32, of: f32| if of > 0.0 { count / of } else { 0.0 };
        Self {
            sizes: sizes.map(|count| share(count, n + prior_events)),
            gaps: gaps.map(|count| share(count, n_gaps + prior_events)),
            holds: holds.map(|count| share(count, n_holds as f32 + prior_events)),
            phases: phases.map(|count| share(count, n + prior_events)),
            echoes: echoes.map(|count| share(count, n + prior_events)),
            events: n as usize,
            holds_known: n_holds,
            rests: share(rests, n_rests + prior_events),
            struck_over: share(struck_over, n_struck + prior_events),
            silent_from,
            span,
            pitch_classes: {
                let struck = pitch_classes.iter().sum::<f32>();
                pitch_classes.map(|count| share(count, struck))
            },
        }
    }
}

/// The player's texture and Pianola's own, lately: what the sampler
/// steers by ([`crate::duet::Steer::texture`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextureSteer {
    player: Texture,
    own: Texture,
    /// The lowest and highest keys of the player's last events, if
    /// followed.
    span: Option<(u8, u8)>,
    /// How long after the last onset Pianola's own notes all stop
    /// sounding (0: already silent), where their lengths are known.
    own_sounds_for: Option<u64>,
    /// The place in the beat of the last onset heard, either side's.
    now_phase: usize,
    /// The player's share of onsets, and Pianola's, that came where an
    /// onset came a bar before (the bar the player's rhythm comes back at
    /// most of [`LAGS`]).
    echo_shares: (f32, f32),
    /// For each gap class, whether an onset came a bar before it would
    /// land (`None`: after the last onset, not yet heard).
    echoes: [Option<bool>; TIME_CLASSES],
}

impl TextureSteer {
    /// The player's texture over their last [`PLAYER_WINDOW`] events of
    /// `onsets` (oldest first) and Pianola's over its last [`OWN_WINDOW`];
    /// `None` before the player has played.
    pub fn of<'a>(onsets: impl Iterator<Item = &'a Onset> + Clone) -> Option<Self> {
        if !onsets.clone().any(|o| o.player) {
            return None;
        }
        let none = Texture {
            sizes: [0.0; SIZES],
            gaps: [0.0; GAP_BINS.len()],
            holds: [0.0; HOLD_BINS.len()],
            phases: [0.0; PHASES],
            echoes: [0.0; LAGS.len()],
            events: 0,
            holds_known: 0,
            rests: 0.0,
            struck_over: 0.0,
            silent_from: None,
            span: (u8::MAX, 0),
            pitch_classes: [0.0; 12],
        };
        let now = onsets.clone().map(|o| o.at).max().unwrap_or(0);
        let lately = Lately::of(onsets.clone(), now);
        let read = |player, window, prior, prior_events| {
            Texture::read(
                onsets.clone(),
                player,
                window,
                prior,
                prior_events,
                &lately,
                now,
            )
        };
        let player = read(true, PLAYER_WINDOW, &none, 0.0);
        let own = read(false, OWN_WINDOW, &player, OWN_PRIOR);
        // The lag at which the player's rhythm comes back most.
        let lag = (0..LAGS.len())
            .max_by(|&a, &b| player.echoes[a].total_cmp(&player.echoes[b]))
            .unwrap_or(0);
        let echoes = std::array::from_fn(|c| {
            let back = LAGS[lag].checked_sub(c as u64);
            back.map(|back| lately.at(back))
        });
        Some(Self {
            player,
            own,
            span: Some(player.span),
            own_sounds_for: own.silent_from.map(|silent| silent.saturating_sub(now)),
            now_phase: phase_of(now),
            echo_shares: (player.echoes[lag], own.echoes[lag]),
            echoes,
        })
    }

    /// The same without following the player's span of keys (where the
    /// duet's Range rules).
    pub fn without_span(self) -> Self {
        Self { span: None, ..self }
    }

    /// How much to take from the score, at `temperature` and `strength`,
    /// of an event from key `lowest` to `highest`: [`SPAN_PULL`] for each
    /// octave it reaches beyond the player's span.
    pub fn span_cost(&self, lowest: u8, highest: u8, temperature: f32, strength: f32) -> f32 {
        let Some((low, high)) = self.span else {
            return 0.0;
        };
        if temperature <= 0.0 || strength <= 0.0 {
            return 0.0;
        }
        let below = low.saturating_sub(SPAN_MARGIN).saturating_sub(lowest);
        let above = highest.saturating_sub(high.saturating_add(SPAN_MARGIN));
        let octaves = f32::from(below.max(above)) / 12.0;
        temperature * strength * SPAN_PULL * octaves
    }

    /// The player's texture.
    pub fn player(&self) -> &Texture {
        &self.player
    }

    /// Tilts the token head's `scores` (drawn from at `temperature`; a
    /// token of `sizes[i]` keys at index `i`) by `strength` (0: not at
    /// all).
    pub fn tilt_tokens(&self, scores: &mut [f32], sizes: &[u8], temperature: f32, strength: f32) {
        if temperature <= 0.0 || strength <= 0.0 {
            return;
        }
        let shift: [f32; SIZES] = std::array::from_fn(|class| {
            temperature
                * strength
                * feedback(self.player.size_share(class), self.own.size_share(class))
        });
        for (score, &notes) in scores.iter_mut().zip(sizes) {
            *score += shift[size_class(usize::from(notes))];
        }
    }

    /// Lowers the token head's `scores` (drawn from at `temperature`; token
    /// `tokens[i]` at index `i`)
    /// by `strength`: each token by the mean, over its pitch classes, of
    /// [`FEEDBACK_GAIN`] times the logarithm of the player's share of that
    /// pitch class over Pianola's own, where Pianola's is the larger.
    /// Never raised: the player's chromatic turns are not pressed on
    /// Pianola, whose key guide keeps it in the key.
    pub fn tilt_pitch_classes(
        &self,
        scores: &mut [f32],
        tokens: &[Token],
        temperature: f32,
        strength: f32,
    ) {
        if temperature <= 0.0 || strength <= 0.0 || self.player.events == 0 {
            return;
        }
        let shift: [f32; 12] = std::array::from_fn(|pc| {
            feedback(self.player.pitch_classes[pc], self.own.pitch_classes[pc]).min(0.0)
        });
        for (score, token) in scores.iter_mut().zip(tokens) {
            let mask = token.pitch_classes().mask();
            let (sum, count) = (0..12)
                .filter(|pc| mask & 1 << pc != 0)
                .fold((0.0, 0.0), |(sum, count), pc| {
                    (sum + shift[pc], count + 1.0)
                });
            if count > 0.0 {
                *score += temperature * strength * sum / count;
            }
        }
    }

    /// Tilts the *when* head's `scores` (drawn from at `temperature`, one
    /// per time class) by `strength`, bin by bin, by the place in the
    /// beat each gap lands on and by whether an onset came a bar before
    /// it; where the lengths are known, scales the gaps that would leave a
    /// rest after Pianola's last notes, together, down to the player's
    /// share of events after a rest where they are likelier (the gaps that
    /// keep a note sounding take up the rest, striking together keeps its
    /// odds); and last, the same way, the gaps that would land off the
    /// player's grid down to the player's share of onsets off it.
    pub fn tilt_when(&self, scores: &mut [f32], temperature: f32, strength: f32) {
        if temperature <= 0.0 || strength <= 0.0 {
            return;
        }
        // Once Pianola's notes have all stopped, a rest is already there:
        // only striking with the last event would avoid it, which is no cure.
        let rests = self
            .own_sounds_for
            .filter(|&sounds_for| sounds_for > 0 && self.player.holds_known > 0);
        let rests_after = |class: usize| rests.is_some_and(|s| u64::from(time_of_class(class)) > s);
        let (echo, had_echo) = self.echo_shares;
        for (class, score) in scores.iter_mut().enumerate().take(TIME_CLASSES) {
            let (wanted, had) = (self.player.gap_share(class), self.own.gap_share(class));
            let lands = self.lands(class);
            let comes_back = match self.echoes.get(class).copied().flatten() {
                Some(true) => log_factor(echo, had_echo),
                Some(false) => log_factor(1.0 - echo, 1.0 - had_echo),
                None => 0.0,
            };
            // Striking together makes chords: it follows as the sizes do.
            let gap = if class == 0 { feedback } else { log_factor };
            let tilt = gap(wanted, had)
                + log_factor(self.player.phases[lands], self.own.phases[lands])
                + comes_back;
            *score += temperature * strength * tilt;
        }
        if rests.is_some() {
            // Fewer rests only (see the module documentation).
            scale_down(
                scores,
                temperature,
                strength,
                rests_after,
                self.player.rests,
            );
        }
        // Off the player's grid only as often as they are.
        let off_grid = |class: usize| !self.player.on_grid(self.lands(class));
        scale_down(
            scores,
            temperature,
            strength,
            off_grid,
            self.player.off_grid(),
        );
    }

    /// The place in the beat an onset of gap class `class` lands on.
    fn lands(&self, class: usize) -> usize {
        (self.now_phase + time_of_class(class) as usize) % PHASES
    }

    /// How likely an onset `gap` twelfths after the last one should end
    /// Pianola's notes still sounding then ([`Event::releases`]), at
    /// `strength`: 0 where none would sound on, or the player's lengths
    /// are not known. Pianola's onsets would strike over its own notes as
    /// often as it drew lengths longer than its next gap; the chance makes
    /// them ring over as often as the player's do. The network never reads
    /// a length back, so it draws each length blind to the next gap: over
    /// a clean line its notes overlap.
    pub fn release_chance(&self, gap: u32, strength: f32) -> f32 {
        let sounds_on = self
            .own_sounds_for
            .is_some_and(|sounds_for| sounds_for > u64::from(gap));
        if gap == 0 || !sounds_on || self.player.holds_known == 0 {
            return 0.0;
        }
        let (wanted, had) = (self.player.struck_over, self.own.struck_over);
        let kept = ((wanted + SHARE_FLOOR) / (had + SHARE_FLOOR)).min(1.0);
        strength.clamp(0.0, 1.0) * (1.0 - kept)
    }

    /// Tilts the *hold* head's `scores` (drawn from at `temperature`, one
    /// per time class) by `strength`, bin by bin; not at all while no
    /// length of the player's is known.
    pub fn tilt_hold(&self, scores: &mut [f32], temperature: f32, strength: f32) {
        if temperature <= 0.0 || strength <= 0.0 || self.player.holds_known == 0 {
            return;
        }
        for (class, score) in scores.iter_mut().enumerate().take(TIME_CLASSES) {
            let (wanted, had) = (self.player.hold_share(class), self.own.hold_share(class));
            *score += temperature * strength * feedback(wanted, had);
        }
    }
}

/// The logarithm of `wanted / had` (each with [`SHARE_FLOOR`] added),
/// within [`MAX_FACTOR`] either way.
fn log_factor(wanted: f32, had: f32) -> f32 {
    log_ratio(wanted, had, SHARE_FLOOR)
}

/// [`FEEDBACK_GAIN`] times the logarithm of `wanted / had` (each with
/// [`SHARE_FLOOR`] added), within [`MAX_FACTOR`] either way: the tilt that
/// brings Pianola's share of a class from `had` most of the way to the
/// player's `wanted`.
fn feedback(wanted: f32, had: f32) -> f32 {
    let limit = MAX_FACTOR.ln();
    let ratio = (wanted + SHARE_FLOOR) / (had + SHARE_FLOOR);
    (FEEDBACK_GAIN * ratio.ln()).clamp(-limit, limit)
}

/// The logarithm of `wanted / had` (each with `floor` added), within
/// [`MAX_FACTOR`] either way.
fn log_ratio(wanted: f32, had: f32, floor: f32) -> f32 {
    let limit = MAX_FACTOR.ln();
    ((wanted + floor) / (had + floor)).ln().clamp(-limit, limit)
}

/// Scales the *when* classes that are `in_group`, together, down to
/// `wanted` of the probability the *when* `scores` (drawn from at
/// `temperature`) give, where they give it more, by `strength`: the
/// other gaps take up what they lose, and striking together (class 0,
/// never in a group: it makes no new onset) keeps its odds. Never up:
/// the model keeps its say on which gap of a group comes.
fn scale_down(
    scores: &mut [f32],
    temperature: f32,
    strength: f32,
    in_group: impl Fn(usize) -> bool,
    wanted: f32,
) {
    let classes = scores.len().min(TIME_CLASSES);
    let top = scores[..classes]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    let (mut grouped, mut together, mut total) = (0.0f32, 0.0f32, 0.0f32);
    for (class, score) in scores[..classes].iter().enumerate() {
        let p = ((score - top) / temperature).exp();
        total += p;
        if class == 0 {
            together += p;
        } else if in_group(class) {
            grouped += p;
        }
    }
    let (grouped, together) = (grouped / total, together / total);
    let wanted = wanted.min(1.0 - together);
    if wanted >= grouped {
        return;
    }
    let (group_tilt, other_tilt) = (
        log_ratio(wanted, grouped, REST_FLOOR),
        log_ratio(
            1.0 - together - wanted,
            1.0 - together - grouped,
            REST_FLOOR,
        ),
    );
    for (class, score) in scores[..classes].iter_mut().enumerate().skip(1) {
        let tilt = if in_group(class) {
            group_tilt
        } else {
            other_tilt
        };
        *score += temperature * strength * tilt;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` events of `notes` keys, `gap` twelfths apart (0: together),
    /// each sounding 6 twelfths.
    fn played(from: u64, count: usize, notes: usize, gap: u64, player: bool) -> Vec<Onset> {
        (0..count as u64)
            .map(|i| Onset {
                at: from + i * gap,
                notes,
                lowest: 60,
                highest: 60 + 4 * (notes as u8 - 1),
                hold: Some(6),
                player,
                releases: false,
                pitch_classes: 1,
            })
            .collect()
    }

    /// A gap of a beat and a twelfth: a line of such lands on every place
    /// in the beat in turn, so none is off its grid.
    const RUBATO: u64 = 13;

    /// `onsets` sounding `hold` twelfths each.
    fn held(mut onsets: Vec<Onset>, hold: Option<u32>) -> Vec<Onset> {
        for onset in &mut onsets {
            onset.hold = hold;
        }
        onsets
    }

    /// The *when* head's 49 classes, flat, tilted after `onsets`.
    fn when_tilted(onsets: &[Onset]) -> [f32; 49] {
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut when = [0.0f32; 49];
        steer.tilt_when(&mut when, 1.0, 1.0);
        when
    }

    fn share_in(scores: &[f32], classes: std::ops::Range<usize>) -> f32 {
        let total: f32 = scores.iter().map(|s| s.exp()).sum();
        scores[classes].iter().map(|s| s.exp()).sum::<f32>() / total
    }

    fn share_of(scores: &[f32], sizes: &[u8], class: usize) -> f32 {
        let total: f32 = scores.iter().map(|s| s.exp()).sum();
        let of_class = scores.iter().zip(sizes);
        of_class
            .filter(|(_, n)| size_class(usize::from(**n)) == class)
            .map(|(s, _)| s.exp())
            .sum::<f32>()
            / total
    }

    #[test]
    fn pianola_ends_notes_that_would_ring_over_its_next_onset_where_the_player_does_not() {
        // The player's notes end as the next starts; Pianola's, as long,
        // start twice as often, each over the one before: its last note
        // sounds 6 twelfths on.
        let mut onsets = held(played(0, 32, 1, 6, true), Some(6));
        onsets.extend(held(played(200, 32, 1, 3, false), Some(6)));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let chance = steer.release_chance(3, 1.0);
        assert!(chance > 0.9, "{chance}");
        assert!((steer.release_chance(3, 0.5) - chance / 2.0).abs() < 1e-6);
        // Nothing to end at the next onset's time or after, nor together.
        assert_eq!(steer.release_chance(6, 1.0), 0.0);
        assert_eq!(steer.release_chance(0, 1.0), 0.0);
        // A player whose notes ring on as often: Pianola's may too.
        let mut onsets = held(played(0, 32, 1, 3, true), Some(6));
        onsets.extend(held(played(200, 32, 1, 3, false), Some(6)));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        assert_eq!(steer.release_chance(3, 1.0), 0.0);
        // The player's lengths not known yet: nothing to follow.
        let mut onsets = held(played(0, 32, 1, 6, true), None);
        onsets.extend(held(played(200, 32, 1, 3, false), Some(6)));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        assert_eq!(steer.release_chance(3, 1.0), 0.0);
    }

    #[test]
    fn an_onset_that_releases_ends_what_its_side_sounded_before() {
        // Pianola's long notes, each released by the next: its last one
        // alone still sounds.
        let mut onsets = held(played(0, 32, 1, 6, true), Some(6));
        let mut own = held(played(200, 8, 1, 3, false), Some(24));
        for onset in &mut own[1..] {
            onset.releases = true;
        }
        own.last_mut().unwrap().hold = Some(4);
        onsets.extend(own);
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        assert_eq!(steer.own_sounds_for, Some(4));
    }

    #[test]
    fn nothing_to_follow_before_the_player_plays() {
        assert_eq!(TextureSteer::of(played(0, 8, 3, 6, false).iter()), None);
        assert_eq!(TextureSteer::of([].iter()), None);
    }

    #[test]
    fn the_player_texture_reads_their_last_events_with_a_prior() {
        let mut onsets = played(0, 40, 4, 0, true);
        onsets.extend(played(100, 40, 1, 6, true));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let lines = steer.player();
        assert!(lines.size_share(0) > 0.9, "{lines:?}");
        assert!(lines.gap_share(0) < 0.05, "{lines:?}");
    }

    #[test]
    fn chords_over_single_lines_give_way_to_single_notes() {
        // Pianola has been playing triads; the player plays a line.
        let mut onsets = played(0, 32, 1, 6, true);
        onsets.extend(played(204, 16, 3, 6, false));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let sizes = [1u8, 1, 3, 3];
        let mut scores = [0.0f32; 4];
        steer.tilt_tokens(&mut scores, &sizes, 1.0, 1.0);
        let singles = share_of(&scores, &sizes, 0);
        assert!(singles > 0.9, "single notes now hold {singles}");
        // Within a class, the model's own order stands.
        let mut scores = [1.0f32, 0.0, 0.5, 0.0];
        steer.tilt_tokens(&mut scores, &sizes, 1.0, 1.0);
        assert!(scores[0] > scores[1] && scores[2] > scores[3]);
    }

    #[test]
    fn a_pitch_class_pianola_leans_on_more_than_the_player_loses() {
        // The player's line walks C, D, E, G over 80 events; Pianola has
        // played C twice as often as each of the others.
        let mut onsets = played(0, 80, 1, 6, true);
        for (i, onset) in onsets.iter_mut().enumerate() {
            onset.pitch_classes = 1 << [0, 2, 4, 7][i % 4];
        }
        let mut own = played(486, 40, 1, 6, false);
        for (i, onset) in own.iter_mut().enumerate() {
            onset.pitch_classes = 1 << [0, 2, 0, 4, 0, 7, 0, 2][i % 8];
        }
        onsets.extend(own);
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        // Tokens: C, D, F sharp (the player's least, never Pianola's), and
        // the chords C-E-G and D-G.
        let tokens = [
            Token::Note(60),
            Token::Note(62),
            Token::Note(66),
            "0.4.7".parse().unwrap(),
            "2.7".parse().unwrap(),
        ];
        let mut scores = [0.0f32; 5];
        steer.tilt_pitch_classes(&mut scores, &tokens, 1.0, 1.0);
        assert!(scores[0] < -1.0, "C, leaned on, loses: {scores:?}");
        assert_eq!(
            scores[1], 0.0,
            "D, as much Pianola's as the player's, stays"
        );
        assert_eq!(scores[2], 0.0, "F sharp is never raised");
        assert!(
            scores[0] < scores[3] && scores[3] < 0.0,
            "a chord with C loses a share of C's loss: {scores:?}"
        );
        assert_eq!(scores[4], 0.0);
        let mut untouched = [0.0f32; 5];
        steer.tilt_pitch_classes(&mut untouched, &tokens, 1.0, 0.0);
        steer.tilt_pitch_classes(&mut untouched, &tokens, 0.0, 1.0);
        assert_eq!(untouched, [0.0; 5], "strength 0 and argmax");
    }

    #[test]
    fn the_pitch_classes_are_read_over_the_key_guides_window() {
        // The player played only C for 80 events, then E for the last 32;
        // Pianola played only E. Over the texture's 32 events E would be
        // all the player's; over the key's window it is under half.
        let mut onsets = played(0, 112, 1, 6, true);
        for onset in onsets.iter_mut().skip(80) {
            onset.pitch_classes = 1 << 4;
        }
        let mut own = played(678, 32, 1, 6, false);
        for onset in &mut own {
            onset.pitch_classes = 1 << 4;
        }
        onsets.extend(own);
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [0.0f32; 2];
        steer.tilt_pitch_classes(&mut scores, &[Token::Note(64), Token::Note(60)], 1.0, 1.0);
        assert!(scores[0] < -1.0, "E, all Pianola plays: {scores:?}");
        assert_eq!(scores[1], 0.0);
    }

    #[test]
    fn playing_like_the_player_changes_nothing() {
        let mut onsets = played(0, 32, 2, 6, true);
        onsets.extend(played(204, 16, 2, 6, false));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [0.3f32, 0.7, 0.1];
        steer.tilt_tokens(&mut scores, &[1, 2, 3], 1.0, 1.0);
        steer.tilt_hold(&mut scores, 1.0, 1.0);
        let expected = [0.3f32, 0.7, 0.1];
        let moved = scores.iter().zip(expected).map(|(a, b)| (a - b).abs());
        assert!(moved.fold(0.0, f32::max) < 1e-5, "{scores:?}");
        // The gaps, where the model weighs only those on the player's
        // eighths: with them or an eighth after.
        let mut when = [0.3f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7];
        when[1..6].fill(f32::NEG_INFINITY);
        steer.tilt_when(&mut when, 1.0, 1.0);
        assert!(
            (when[0] - 0.3).abs() < 1e-5 && (when[6] - 0.7).abs() < 1e-5,
            "{when:?}"
        );
    }

    #[test]
    fn strength_zero_and_argmax_leave_the_scores_alone() {
        let mut onsets = played(0, 32, 1, 6, true);
        onsets.extend(played(204, 16, 3, 0, false));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [0.3f32, 0.7];
        steer.tilt_tokens(&mut scores, &[1, 3], 1.0, 0.0);
        steer.tilt_tokens(&mut scores, &[1, 3], 0.0, 1.0);
        steer.tilt_when(&mut scores, 0.0, 1.0);
        assert_eq!(scores, [0.3, 0.7]);
    }

    #[test]
    fn keys_beyond_the_player_span_cost_by_the_octave() {
        let steer = TextureSteer::of(played(0, 32, 2, 6, true).iter()).unwrap();
        // The player's span: 60..=64.
        assert_eq!(steer.span_cost(58, 66, 1.0, 1.0), 0.0, "the margin is free");
        assert!((steer.span_cost(78, 78, 1.0, 1.0) - SPAN_PULL).abs() < 1e-6);
        assert!((steer.span_cost(34, 40, 1.0, 1.0) - 2.0 * SPAN_PULL).abs() < 1e-6);
        assert_eq!(steer.without_span().span_cost(34, 40, 1.0, 1.0), 0.0);
        assert_eq!(
            steer.span_cost(34, 40, 0.0, 1.0),
            0.0,
            "argmax stays argmax"
        );
    }

    #[test]
    fn runs_struck_together_give_way_to_the_player_pace() {
        // Pianola has struck run after run together; the player never does.
        let mut onsets = played(0, 32, 1, 3, true);
        onsets.extend(played(204, 16, 1, 0, false));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [1.0f32; 4];
        steer.tilt_when(&mut scores, 1.0, 1.0);
        let total: f32 = scores.iter().map(|s| s.exp()).sum();
        assert!(scores[0].exp() / total < 0.25 / 4.0, "{scores:?}");
        assert!(scores[3] > scores[1], "the player's gap gains");
    }

    #[test]
    fn sixteenths_over_eighths_give_way_to_eighths() {
        let mut onsets = played(0, 32, 1, 6, true);
        onsets.extend(played(408, 33, 1, 3, false));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [0.0f32; 7];
        steer.tilt_when(&mut scores, 1.0, 1.0);
        let total: f32 = scores.iter().map(|s| s.exp()).sum();
        assert!(scores[6].exp() / total > 0.5, "{scores:?}");
        assert!(scores[3] < scores[1] && scores[1] < scores[6], "{scores:?}");
    }

    #[test]
    fn short_notes_over_held_ones_give_way_to_the_player_lengths() {
        // The player holds each note a beat; Pianola has played staccato.
        let mut onsets = held(played(0, 32, 1, 12, true), Some(12));
        onsets.extend(held(played(408, 32, 1, 12, false), Some(2)));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [0.0f32; 49];
        steer.tilt_hold(&mut scores, 1.0, 1.0);
        let (short, beat) = (share_in(&scores, 0..3), share_in(&scores, 12..24));
        assert!(beat > 0.5 && short < 0.05, "a beat {beat}, short {short}");
    }

    #[test]
    fn gaps_that_would_rest_lose_where_the_player_plays_legato() {
        // The player's notes sound until the next; Pianola's stop halfway,
        // and its last one sounds 6 twelfths on. Both play a beat and a
        // twelfth apart ([`RUBATO`]): no place in the beat is off their
        // grid, and only the rests tell the gaps apart.
        let mut onsets = held(played(0, 32, 1, RUBATO, true), Some(13));
        onsets.extend(held(played(408, 32, 1, RUBATO, false), Some(6)));
        let when = when_tilted(&onsets);
        // The gaps are the player's: the rests lose to the gaps that keep
        // a note sounding, and striking together keeps its odds.
        assert!(when[0].abs() < 1e-5, "{when:?}");
        assert!(when[1..=6].iter().all(|s| *s > 1.0), "{when:?}");
        assert!(when[7..].iter().all(|s| *s < -1.0), "{when:?}");
        let resting = share_in(&when, 7..49);
        assert!(resting < 0.15, "rests keep {resting} of 42/49");
        // Without the player's lengths (live), nothing moves.
        let mut onsets = held(played(0, 32, 1, RUBATO, true), None);
        onsets.extend(held(played(408, 32, 1, RUBATO, false), Some(6)));
        let when = when_tilted(&onsets);
        assert!(when.iter().all(|s| s.abs() < 1e-5), "{when:?}");
    }

    #[test]
    fn a_gap_that_would_land_off_the_players_grid_loses() {
        // The player plays sixteenths; Pianola too, but its last onset
        // slipped a twelfth off their grid. The gaps that land back on it
        // win, whatever the model would have played.
        let mut onsets = played(0, 32, 1, 3, true);
        onsets.extend(played(408, 31, 1, 3, false));
        onsets.extend(played(408 + 31 * 3 + 1, 1, 1, 3, false));
        let when = when_tilted(&onsets);
        let now = onsets.last().unwrap().at;
        let total: f32 = when[1..].iter().map(|s| s.exp()).sum();
        let off: f32 = (1..49)
            .filter(|&class| !(now + class as u64).is_multiple_of(3))
            .map(|class| when[class].exp())
            .sum();
        assert!(off / total < 0.05, "{} off the grid: {when:?}", off / total);
        // A grid needs GRID_EVENTS of the player's events: before, every
        // place in the beat is on it.
        let few = TextureSteer::of(onsets[24..].iter()).unwrap();
        assert!((0..PHASES).all(|phase| few.player.on_grid(phase)));
        let all = TextureSteer::of(onsets.iter()).unwrap();
        let grid: Vec<usize> = (0..PHASES).filter(|&p| all.player.on_grid(p)).collect();
        assert_eq!(grid, [0, 3, 6, 9]);
    }

    #[test]
    fn a_player_who_rests_more_does_not_thin_pianola_out() {
        // The player plays staccato (a rest before every note); Pianola's
        // notes sound until the next. Its gaps stay the player's: the rests
        // come from its notes growing short (the hold tilt), not from fewer
        // of them. (Off the beat, as in the test above.)
        let mut onsets = held(played(0, 32, 1, RUBATO, true), Some(2));
        onsets.extend(held(played(408, 32, 1, RUBATO, false), Some(13)));
        let when = when_tilted(&onsets);
        assert!(when.iter().all(|s| s.abs() < 1e-5), "{when:?}");
        let mut hold = [0.0f32; 49];
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        steer.tilt_hold(&mut hold, 1.0, 1.0);
        assert!(share_in(&hold, 0..3) > 0.3, "{hold:?} (3 of 49 untilted)");
    }

    #[test]
    fn pianola_settles_most_of_the_way_to_the_player_share() {
        // The player strikes a pair of keys on 40 % of their events; the
        // model alone would on 10 %. Pianola plays 400 events after them,
        // each tilted by the texture so far, a pair whenever the tilted
        // probabilities add up to another one (a sampler without chance:
        // its share is the tilted probability's mean). Over its last 200
        // events it plays pairs at least two thirds of the way, in
        // log-odds, from the model's share to the player's; the bare
        // logarithm would stop halfway, near 20 %.
        let mut onsets: Vec<Onset> = (0..32u64)
            .flat_map(|i| played(i * 6, 1, if i % 5 < 2 { 2 } else { 1 }, 0, true))
            .collect();
        let (model, player) = (0.1f32, 0.4f32);
        let (mut owed, mut pairs) = (0.0f32, 0);
        for i in 0..400u64 {
            let steer = TextureSteer::of(onsets.iter()).unwrap();
            let mut scores = [(1.0 - model).ln(), model.ln()];
            steer.tilt_tokens(&mut scores, &[1, 2], 1.0, 1.0);
            let pair = scores[1].exp() / (scores[0].exp() + scores[1].exp());
            owed += pair;
            let notes = if owed >= 1.0 { 2 } else { 1 };
            owed -= (notes - 1) as f32;
            if i >= 200 {
                pairs += notes - 1;
            }
            onsets.extend(played(200 + i * 6, 1, notes, 0, false));
        }
        let log_odds = |p: f32| (p / (1.0 - p)).ln();
        let share = pairs as f32 / 200.0;
        let way = (log_odds(share) - log_odds(model)) / (log_odds(player) - log_odds(model));
        assert!(
            way > 0.67 && share < player + 0.05,
            "{share} ({way} of the way)"
        );
    }

    #[test]
    fn a_rhythm_that_comes_back_each_bar_draws_pianola_onto_it() {
        // Ten bars of one rhythm (on 1, its "and", and the "and" of 2);
        // then Pianola's own onsets, 5, 7 and 11 twelfths apart, none of
        // them a bar after another.
        let mut onsets: Vec<Onset> = (0..30u64)
            .flat_map(|i| played((i / 3) * 48 + [0, 6, 18][(i % 3) as usize], 1, 1, 0, true))
            .collect();
        let mut at = 480;
        for i in 0..6 {
            onsets.extend(played(at, 1, 1, 0, false));
            at += [5, 7, 11][i % 3];
        }
        let now = onsets.last().unwrap().at;
        let when = when_tilted(&onsets);
        let echoes = |class: u64| onsets.iter().any(|o| o.at + 48 == now + class);
        let (mut back, mut not) = (Vec::new(), Vec::new());
        for class in 1..=48u64 {
            let list = if echoes(class) { &mut back } else { &mut not };
            list.push(when[class as usize]);
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(!back.is_empty() && !not.is_empty());
        assert!(mean(&back) > mean(&not) + 1.0, "{back:?} against {not:?}");
    }

    #[test]
    fn an_unknown_length_leaves_the_rests_followed() {
        // One of Pianola's notes has no length (a hold of 0): the rests
        // after the others still count.
        let mut onsets = held(played(0, 32, 1, RUBATO, true), Some(13));
        let mut own = held(played(408, 32, 1, RUBATO, false), Some(6));
        own[20].hold = None;
        onsets.extend(own);
        let when = when_tilted(&onsets);
        assert!(share_in(&when, 7..49) < 0.15, "{when:?}");
    }

    #[test]
    fn triplets_draw_pianola_onto_their_grid() {
        // The player plays triplet eighths; Pianola has played sixteenths,
        // its last on the beat. The gaps fall in one bin: only where they
        // land in the beat tells them apart.
        let mut onsets = played(0, 33, 1, 4, true);
        onsets.extend(played(204, 33, 1, 3, false));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut when = [0.0f32; 13];
        steer.tilt_when(&mut when, 1.0, 1.0);
        assert!(when[4] > when[3] + 1.0, "{when:?}");
        assert!(when[8] > when[9] + 1.0, "{when:?}");
        assert!(when[12] > when[9], "{when:?}");
    }

    #[test]
    fn unknown_lengths_leave_the_hold_head_alone() {
        // A live player's notes: heard at their onsets, lengths unknown.
        let mut onsets = held(played(0, 32, 1, 12, true), None);
        onsets.extend(held(played(408, 32, 1, 12, false), Some(2)));
        let steer = TextureSteer::of(onsets.iter()).unwrap();
        let mut scores = [0.5f32; 49];
        steer.tilt_hold(&mut scores, 1.0, 1.0);
        assert_eq!(scores, [0.5f32; 49]);
    }
}
