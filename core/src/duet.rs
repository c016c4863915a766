//! Playing as a duet partner: how much room Pianola leaves the player
//! (*Space*), where on the keyboard it plays (*Range*) and which harmony
//! it fits (*Chords*), read from what the player played in the session.
//!
//! The worker's [`Listener`] keeps the session's recent events on one
//! clock, in twelfths of a beat, as they entered the window; before each
//! prediction it tells the sampler how to steer ([`Steer`]): the shortest
//! gap Space allows, the keys Range allows and the chord to fit. The
//! fourth duet setting, *Dynamics*, is the performer's own
//! ([`crate::perform::Velocity::FollowPlayer`]): it needs the player's real
//! loudness, which the audio thread has.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use crate::event::{Event, GRID_PER_BEAT, classes};
use crate::key::{estimate, pitch_class_counts};
use crate::perform::{Named, named};
use crate::texture::{Onset, TextureSteer};
use crate::token::{PitchClassSet, Token};

/// The Space setting's range: 0 leaves no room (the model's own density),
/// 1 leaves all of it (silent while the player plays).
pub const SPACE: RangeInclusive<f32> = 0.0..=1.0;

/// The Space setting every interface starts with: while the player plays,
/// Pianola plays no more notes than they do ([`notes_per_player_note`]).
pub const DEFAULT_SPACE: f32 = 0.5;

/// *Chords: Follow*: added to the score of a token whose notes are all
/// tones of the player's chord, and taken from one with a note outside the
/// chord and its scale (a pull, like the key guide's).
pub const CHORD_PULL: f32 = 3.0;

/// The player plays while they struck a note within this many twelfths (a
/// beat); Space counts both parts' notes over as long.
const PLAYING: u64 = GRID_PER_BEAT as u64;

/// Range reads the player's register from their last bar of playing.
const BAR: u64 = 4 * GRID_PER_BEAT as u64;

/// *Around me*: this many semitones beyond the player's lowest and highest.
const AROUND: u8 = 12;

/// A held chord is this many pitch classes or more.
const CHORD_TONES: usize = 3;

/// How many events the listener keeps: more than a bar of the densest
/// music.
const KEPT: usize = 256;

/// How many of its notes Pianola plays for each of the player's, while the
/// player plays, at Space `space`: `(1 − space) / space` (0.5: one each;
/// 0.75: one for three; 1: none). `None` at 0: no limit.
pub fn notes_per_player_note(space: f32) -> Option<f32> {
    let space = space.clamp(*SPACE.start(), *SPACE.end());
    (space > 0.0).then(|| (1.0 - space) / space)
}

/// Where Pianola plays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Range {
    /// Anywhere the model likes.
    #[default]
    Anywhere,
    /// Under the player's lowest note of their last bar (a left hand).
    Below,
    /// Over the player's highest note of their last bar.
    Above,
    /// Within an octave of the player's last bar.
    Around,
    /// Between two fixed keys ([`DuetSettings::keys`]).
    Keys,
}

impl Range {
    /// A range as the command line writes it: `anywhere`, `below`,
    /// `above`, `around`, or two keys such as `C2-C4` (either order), with
    /// the keys for [`Range::Keys`].
    pub fn parse(text: &str) -> Result<(Range, Option<(u8, u8)>), String> {
        if let Some(range) = Range::from_name(text).filter(|&r| r != Range::Keys) {
            return Ok((range, None));
        }
        let bad = || {
            format!(
                "`{text}` is not a range: write anywhere, below, above, around, or two keys such as C2-C4"
            )
        };
        let key = |name: &str| match name.trim().parse::<Token>() {
            Ok(Token::Note(key)) => Ok(key),
            _ => Err(bad()),
        };
        let (a, b) = text.split_once('-').ok_or_else(bad)?;
        let (a, b) = (key(a)?, key(b)?);
        Ok((Range::Keys, Some((a.min(b), a.max(b)))))
    }
}

named!(Range {
    Anywhere: "anywhere" "Anywhere", Below: "below" "Below me", Above: "above" "Above me",
    Around: "around" "Around me", Keys: "keys" "Between keys",
});

/// Whether Pianola's notes fit the chord the player holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Chords {
    /// The model's own harmony.
    #[default]
    Off,
    /// Chord tones weighted up, notes outside the chord's scale down, from
    /// each chord of three or more notes the player plays to the next.
    Follow,
}

named!(Chords { Off: "off" "Off", Follow: "follow" "Follow" });

/// The duet settings the sampler keeps to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DuetSettings {
    /// How much room to leave while the player plays ([`SPACE`]).
    pub space: f32,
    /// Where to play.
    pub range: Range,
    /// [`Range::Keys`]: the lowest and highest MIDI key, both included.
    pub keys: (u8, u8),
    /// Whether to fit the player's chords.
    pub chords: Chords,
}

impl Default for DuetSettings {
    fn default() -> Self {
        Self {
            space: DEFAULT_SPACE,
            range: Range::Anywhere,
            keys: (36, 84),
            chords: Chords::Off,
        }
    }
}

/// The chord the player holds and the scale it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Harmony {
    /// The chord's pitch classes.
    pub chord: PitchClassSet,
    /// The best-fitting major or minor key's scale for it (the chord alone
    /// when it fits none).
    pub scale: PitchClassSet,
}

impl Harmony {
    /// How a token's score moves: up by `pull` if all its notes are chord
    /// tones, down by `pull` if one lies outside the chord and its scale.
    pub fn pull(&self, token: Token, pull: f32) -> f32 {
        let mask = token.pitch_classes().mask();
        if mask & !self.chord.mask() == 0 {
            pull
        } else if mask & !(self.chord.mask() | self.scale.mask()) != 0 {
            -pull
        } else {
            0.0
        }
    }
}

/// How the sampler steers the next event (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Steer {
    /// The shortest `when`, in twelfths, the event may have.
    pub min_when: usize,
    /// The keys its notes must lie between (both included), if limited.
    pub keys: Option<(u8, u8)>,
    /// The chord to fit, if one is followed.
    pub harmony: Option<Harmony>,
    /// The texture of the music so far, for the heads to follow
    /// ([`crate::texture`]).
    pub texture: Option<TextureSteer>,
    /// The keys struck at the last onset so far
    /// ([`crate::event::keys_at_last_onset`]): an event that joins it
    /// (`when` class 0) does not strike one of them again, as no hand can.
    pub struck: u128,
}

/// Taken from the score of a token or register Range rules out: far below
/// any other, yet finite, so that where Range rules out everything the
/// model's own order still chooses.
const OUT_OF_RANGE: f32 = 1.0e4;

impl Steer {
    /// Whether every key of `event` lies in [`Steer::keys`].
    pub fn fits(&self, event: &Event) -> bool {
        self.keys
            .is_none_or(|(low, high)| event.pitches().iter().all(|k| (low..=high).contains(&k)))
    }

    /// Steers the token head's `scores` (one per token of `tokens`): Range
    /// rules out a note outside its keys and a chord no register voices
    /// inside them (`voiced`: the model chooses a chord's register; on the
    /// grid a chord's octave is not the sampler's, so Range plays notes
    /// only), and the followed chord pulls ([`CHORD_PULL`]).
    pub fn steer_tokens(&self, scores: &mut [f32], tokens: &[Token], voiced: bool) {
        if self.keys.is_none() && self.harmony.is_none() {
            return;
        }
        for (score, &token) in scores.iter_mut().zip(tokens) {
            if self.keys.is_some() && !self.can_fit(token, voiced) {
                *score -= OUT_OF_RANGE;
            }
            if let Some(harmony) = self.harmony {
                *score += harmony.pull(token, CHORD_PULL);
            }
        }
    }

    /// Steers the register head's `scores` for `token`: Range rules out
    /// the registers that voice it outside its keys.
    pub fn steer_register(&self, scores: &mut [f32], token: Token) {
        if self.keys.is_none() {
            return;
        }
        for (register, score) in scores.iter_mut().enumerate() {
            if !self.fits(&voiced(token, register)) {
                *score -= OUT_OF_RANGE;
            }
        }
    }

    /// Whether the note `token` strikes a key already [`Steer::struck`]
    /// (a chord's voicing is steered by [`Steer::spare_struck_registers`]).
    pub fn strikes_again(&self, token: Token) -> bool {
        matches!(token, Token::Note(key) if self.struck & 1u128 << (key & 127) != 0)
    }

    /// Rules out, for a chord `token` of `when` class `when`, the registers
    /// whose voicing strikes a key already [`Steer::struck`] at the onset it
    /// joins (where every one does, the model's order still chooses).
    pub fn spare_struck_registers(&self, scores: &mut [f32], token: Token, when: usize) {
        if when != 0 || self.struck == 0 || matches!(token, Token::Note(_)) {
            return;
        }
        for (register, score) in scores.iter_mut().enumerate() {
            if voiced(token, register).key_mask() & self.struck != 0 {
                *score -= OUT_OF_RANGE;
            }
        }
    }

    /// Whether some voicing of `token` lies inside the keys.
    fn can_fit(&self, token: Token, voiced_chords: bool) -> bool {
        match token {
            Token::Note(_) => self.fits(&voiced(token, 0)),
            Token::Chord(_) => {
                voiced_chords
                    && (0..classes::REGISTER_CLASSES).any(|r| self.fits(&voiced(token, r)))
            }
        }
    }
}

/// `token` as an event in register class `register` (a note keeps its
/// key), as [`crate::event::EventClasses::to_event`] voices it.
pub(crate) fn voiced(token: Token, register: usize) -> Event {
    Event {
        what: token,
        when: 0,
        hold: 0,
        velocity: Event::DEFAULT_VELOCITY,
        lowest: classes::lowest_key(token, register),
        releases: false,
    }
}

/// The session's recent events on one clock (see the module
/// documentation). Lives on the worker thread.
#[derive(Clone, Debug, Default)]
pub struct Listener {
    /// The events heard, their onsets in twelfths of a beat since the
    /// listener started.
    heard: VecDeque<Onset>,
    /// The onset of the last event heard.
    now: u64,
    /// The last chord of [`CHORD_TONES`] or more the player played.
    harmony: Option<Harmony>,
}

impl Listener {
    /// A listener that has heard nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything (a new take).
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// An event entered the window: the player's or Pianola's.
    pub fn hear(&mut self, event: &Event, player: bool) {
        self.now += u64::from(event.when);
        self.heard.push_back(Onset::of(event, self.now, player));
        if self.heard.len() > KEPT {
            self.heard.pop_front();
        }
        if let (true, Token::Chord(chord)) = (player, event.what)
            && chord.len() >= CHORD_TONES
        {
            let mut counts = pitch_class_counts([&event.what]);
            // Its bass weighs most: a triad in root position names its key.
            counts[usize::from(event.lowest % 12)] += 1.0;
            let scale = estimate(&counts)
                .map(|key| key.scale())
                .filter(|scale| chord.mask() & !scale.mask() == 0)
                .unwrap_or(chord);
            self.harmony = Some(Harmony { chord, scale });
        }
    }

    /// The player's event heard `back` events before the last (0: the
    /// last) sounded `hold` twelfths of a beat: known at its release, long
    /// after its onset was heard.
    pub fn held(&mut self, back: u64, hold: u32) {
        let index = usize::try_from(back)
            .ok()
            .and_then(|back| self.heard.len().checked_sub(back + 1));
        if let Some(onset) = index.and_then(|i| self.heard.get_mut(i))
            && onset.player
        {
            onset.hold = Some(hold);
        }
    }

    /// How to steer the event after the ones heard and `ahead` (Pianola's
    /// events predicted but not yet played, in order), at `settings`, its
    /// `when` at least `min_when`. [`Steer::struck`] is the caller's to
    /// set: the listener keeps onsets, not their keys.
    pub fn steer(
        &self,
        settings: &DuetSettings,
        ahead: impl IntoIterator<Item = Event>,
        min_when: usize,
    ) -> Steer {
        // The events ahead are Pianola's, played before the one steered:
        // its texture, its last onset and what still sounds count them.
        let mut at = self.now;
        let planned: Vec<Onset> = ahead
            .into_iter()
            .map(|event| {
                at += u64::from(event.when);
                Onset::of(&event, at, false)
            })
            .collect();
        let own: Vec<(u64, usize)> = self
            .heard
            .iter()
            .filter(|h| !h.player && h.at + PLAYING > self.now)
            .chain(&planned)
            .map(|h| (h.at, h.notes))
            .collect();
        let space = self.space_floor(settings.space, &own, at);
        Steer {
            min_when: min_when.max(space),
            keys: self.keys(settings.range, settings.keys),
            harmony: self.harmony.filter(|_| settings.chords == Chords::Follow),
            texture: TextureSteer::of(self.heard.iter().chain(&planned)).map(|texture| {
                match settings.range {
                    Range::Anywhere => texture,
                    _ => texture.without_span(),
                }
            }),
            struck: 0,
        }
    }

    /// Space: the shortest gap after `now` (the last onset, the speculation
    /// included) at which Pianola's notes over the last beat, with one more
    /// event the size of its last, stay within its share of the player's
    /// notes over the beat before `now`. 0 while the player rests.
    fn space_floor(&self, space: f32, own: &[(u64, usize)], now: u64) -> usize {
        let Some(ratio) = notes_per_player_note(space) else {
            return 0;
        };
        let player: u32 = self
            .heard
            .iter()
            .filter(|h| h.player && h.at + PLAYING > now)
            .map(|h| h.notes as u32)
            .sum();
        if player == 0 {
            return 0;
        }
        let allowed = ratio * player as f32;
        let next = own.last().map_or(1, |&(_, notes)| notes);
        let longest = classes::TIME_CLASSES - 1;
        (0..longest)
            .find(|&gap| {
                let onset = now + gap as u64;
                let recent: u32 = own
                    .iter()
                    .filter(|&&(at, _)| at + PLAYING > onset)
                    .map(|&(_, notes)| notes as u32)
                    .sum();
                (recent + next as u32) as f32 <= allowed
            })
            .unwrap_or(longest)
    }

    /// Range: the keys allowed, from the player's last bar of playing
    /// (`fixed` for [`Range::Keys`]).
    fn keys(&self, range: Range, (low, high): (u8, u8)) -> Option<(u8, u8)> {
        match range {
            Range::Anywhere => return None,
            Range::Keys => return Some((low.min(high), low.max(high).min(127))),
            Range::Below | Range::Above | Range::Around => {}
        }
        let last = self.heard.iter().rev().find(|h| h.player)?.at;
        let bar = self.heard.iter().filter(|h| h.player && h.at + BAR > last);
        let (lowest, highest) = bar.fold((127u8, 0u8), |(low, high), h| {
            (low.min(h.lowest), high.max(h.highest))
        });
        match range {
            Range::Below => Some((0, lowest.checked_sub(1)?)),
            Range::Above => Some((highest.checked_add(1).filter(|&k| k <= 127)?, 127)),
            Range::Around => Some((
                lowest.saturating_sub(AROUND),
                highest.saturating_add(AROUND).min(127),
            )),
            Range::Anywhere | Range::Keys => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_joining_an_onset_strikes_none_of_its_keys_again() {
        let steer = Steer {
            struck: 1 << 60 | 1 << 64,
            ..Steer::default()
        };
        assert!(steer.strikes_again(Token::Note(60)));
        assert!(!steer.strikes_again(Token::Note(62)));
        // C major voiced from C4 (register 4) strikes 60 and 64; from C3
        // or C5, neither.
        let chord: Token = "0.4.7".parse().unwrap();
        let mut scores = vec![0.0; classes::REGISTER_CLASSES];
        steer.spare_struck_registers(&mut scores, chord, 0);
        for (register, &score) in scores.iter().enumerate() {
            let again = voiced(chord, register).key_mask() & steer.struck != 0;
            assert_eq!(score < 0.0, again, "register {register}");
        }
        assert!(scores.iter().any(|&s| s < 0.0) && scores.contains(&0.0));
        // An event that starts later strikes what it likes.
        let mut later = vec![0.0; classes::REGISTER_CLASSES];
        steer.spare_struck_registers(&mut later, chord, 1);
        assert!(later.iter().all(|&s| s == 0.0));
    }

    fn note(key: u8, when: u32) -> Event {
        Event {
            what: Token::Note(key),
            when,
            hold: 6,
            velocity: 80,
            lowest: key,
            releases: false,
        }
    }

    #[test]
    fn the_events_ahead_count_in_the_texture_as_if_heard() {
        // The worker steers events up to eight ahead of the last one
        // heard: the texture reads Pianola's last onset, its shares and
        // what still sounds with the ones planned before it.
        let mut listener = Listener::new();
        for i in 0..8 {
            listener.hear(&note(60 + i, 6), true);
        }
        let ahead = [note(67, 3), note(69, 9), note(71, 3)];
        let settings = DuetSettings::default();
        let steered = listener.steer(&settings, ahead, 0).texture;
        let mut heard = listener.clone();
        for event in &ahead {
            heard.hear(event, false);
        }
        assert_eq!(steered, heard.steer(&settings, [], 0).texture);
        assert_ne!(steered, listener.steer(&settings, [], 0).texture);
    }

    #[test]
    fn space_leaves_as_many_notes_as_the_player_plays_at_its_default() {
        let mut listener = Listener::new();
        // The player plays eighths: two notes a beat.
        for _ in 0..4 {
            listener.hear(&note(60, 6), true);
        }
        let settings = DuetSettings::default();
        assert_eq!(listener.steer(&settings, [], 1).min_when, 1);
        // Two of Pianola's notes ahead use up the beat's share: the next
        // waits until the first of them is a beat old.
        let ahead = [note(64, 1), note(65, 1)];
        assert_eq!(listener.steer(&settings, ahead, 1).min_when, 11);
        // Space 1 leaves all the room; Space 0 none.
        let all = DuetSettings {
            space: 1.0,
            ..settings
        };
        assert_eq!(
            listener.steer(&all, [], 1).min_when,
            classes::TIME_CLASSES - 1
        );
        let none = DuetSettings {
            space: 0.0,
            ..settings
        };
        assert_eq!(listener.steer(&none, ahead, 1).min_when, 1);
    }

    #[test]
    fn the_steer_holds_the_player_texture_and_span_unless_range_rules() {
        let mut listener = Listener::new();
        let settings = DuetSettings::default();
        assert_eq!(
            listener.steer(&settings, [], 0).texture,
            None,
            "nothing heard"
        );
        // The player plays single notes between C4 and G4; Pianola triads.
        for i in 0..8u8 {
            listener.hear(&note(60 + i % 8, 6), true);
            let triad = Event {
                what: "0.4.7".parse().unwrap(),
                ..note(48, 3)
            };
            listener.hear(&triad, false);
        }
        let texture = listener.steer(&settings, [], 0).texture.unwrap();
        assert!(texture.player().size_share(0) > 0.99, "{texture:?}");
        let (mut scores, sizes) = ([0.0f32, 0.0], [1u8, 3]);
        texture.tilt_tokens(&mut scores, &sizes, 1.0, 1.0);
        assert!(
            scores[0] > scores[1],
            "single notes over triads: {scores:?}"
        );
        assert!(
            texture.span_cost(36, 36, 1.0, 1.0) > 0.0,
            "two octaves below"
        );
        let below = DuetSettings {
            range: Range::Below,
            ..settings
        };
        let texture = listener.steer(&below, [], 0).texture.unwrap();
        assert_eq!(texture.span_cost(36, 36, 1.0, 1.0), 0.0, "Range rules");
    }

    #[test]
    fn space_returns_the_room_when_the_player_rests() {
        let mut listener = Listener::new();
        listener.hear(&note(60, 6), true);
        let ahead = [note(64, 12), note(65, 6)];
        assert_eq!(
            listener.steer(&DuetSettings::default(), ahead, 0).min_when,
            0
        );
    }

    #[test]
    fn range_follows_the_players_last_bar() {
        let mut listener = Listener::new();
        let keys = (0, 127);
        assert_eq!(listener.keys(Range::Below, keys), None, "nothing heard yet");
        listener.hear(&note(40, 6), true);
        // Over a bar later the player plays higher.
        listener.hear(&note(62, 60), true);
        listener.hear(&note(67, 6), true);
        listener.hear(&note(30, 6), false);
        assert_eq!(listener.keys(Range::Below, keys), Some((0, 61)));
        assert_eq!(listener.keys(Range::Above, keys), Some((68, 127)));
        assert_eq!(listener.keys(Range::Around, keys), Some((50, 79)));
        assert_eq!(listener.keys(Range::Keys, (50, 36)), Some((36, 50)));
        assert_eq!(listener.keys(Range::Anywhere, keys), None);
    }

    #[test]
    fn a_held_triad_is_followed_until_the_next() {
        let mut listener = Listener::new();
        let chord = |names: &str, lowest: u8| Event {
            what: names.parse().unwrap(),
            ..note(lowest, 0)
        };
        let settings = DuetSettings {
            chords: Chords::Follow,
            ..DuetSettings::default()
        };
        listener.hear(&chord("0.4.7", 48), true);
        let harmony = listener.steer(&settings, [], 0).harmony.unwrap();
        assert_eq!(harmony.chord.mask(), 0b1001_0001);
        assert_eq!(harmony.pull(Token::Note(64), 2.0), 2.0, "E: a chord tone");
        assert_eq!(harmony.pull(Token::Note(62), 2.0), 0.0, "D: in C major");
        assert_eq!(harmony.pull(Token::Note(61), 2.0), -2.0, "C#: outside");
        // Two notes are not a chord; an A minor triad is.
        listener.hear(&chord("2.5", 50), true);
        assert_eq!(listener.harmony.unwrap().chord.mask(), 0b1001_0001);
        listener.hear(&chord("9.0.4", 45), true);
        assert!(listener.harmony.unwrap().chord.contains(9));
        let off = DuetSettings::default();
        assert_eq!(listener.steer(&off, [], 0).harmony, None);
    }

    #[test]
    fn ranges_read_back_from_their_names() {
        assert_eq!(Range::parse("below"), Ok((Range::Below, None)));
        assert_eq!(Range::parse("Around"), Ok((Range::Around, None)));
        assert_eq!(Range::parse("C4-C2"), Ok((Range::Keys, Some((36, 60)))));
        assert!(Range::parse("keys").is_err(), "keys need their keys");
        assert!(Range::parse("C2").is_err());
        assert!(Range::parse("low").is_err());
    }
}
