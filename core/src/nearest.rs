//! The one rule for a token a vocabulary lacks: it becomes the nearest
//! token the vocabulary knows, so that any readable music can prime, be
//! scored or be played to a model. `generate --prime`, `eval`, the live
//! worker, the plugin and fine-tuning all map through [`nearest_known`].
//!
//! - A note the vocabulary lacks becomes the known note of the same pitch
//!   class in the nearest octave, else the nearest known note.
//! - A chord keeps its bass (the pitch class of its lowest key) and as many
//!   of its pitch classes as it can, adding as few as it can: the known
//!   token with the most pitch classes in common (the bass counting double),
//!   then the fewest added; a chord of which nothing fits becomes the known
//!   note nearest its lowest key. Ties go to the token earlier in the
//!   vocabulary's order (the weights file keeps no corpus counts).

use crate::event::Event;
use crate::token::{PitchClassSet, Token};
use crate::vocab::Vocab;

/// The index of the known token nearest `token` (its own if known);
/// `lowest` is the lowest key it sounds (a chord's bass). `None` only for
/// an empty vocabulary.
pub fn nearest_known(vocab: &Vocab, token: Token, lowest: u8) -> Option<usize> {
    if let Some(index) = vocab.index_of(token) {
        return Some(index);
    }
    match token {
        Token::Note(pitch) => nearest_note(vocab, pitch),
        Token::Chord(set) => {
            nearest_chord(vocab, set, lowest % 12).or_else(|| nearest_note(vocab, lowest))
        }
    }
}

/// The known note of `pitch`'s pitch class in the nearest octave, else the
/// known note nearest `pitch`.
fn nearest_note(vocab: &Vocab, pitch: u8) -> Option<usize> {
    let notes = vocab
        .tokens()
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match *t {
            Token::Note(p) => Some((i, p)),
            Token::Chord(_) => None,
        });
    let distance = |p: u8| (i32::from(p) - i32::from(pitch)).abs();
    notes
        .clone()
        .filter(|&(_, p)| p % 12 == pitch % 12)
        .min_by_key(|&(_, p)| distance(p))
        .or_else(|| notes.min_by_key(|&(_, p)| distance(p)))
        .map(|(i, _)| i)
}

/// The known chord sharing the most of `set`'s pitch classes (`bass`
/// counting double), then adding the fewest; none if none shares two.
fn nearest_chord(vocab: &Vocab, set: PitchClassSet, bass: u8) -> Option<usize> {
    let wanted = set.mask();
    let bass_bit = 1u16 << bass;
    vocab
        .tokens()
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match *t {
            Token::Chord(known) => {
                let mask = known.mask();
                let common = (mask & wanted).count_ones();
                let added = (mask & !wanted).count_ones();
                let with_bass = u32::from(mask & wanted & bass_bit != 0);
                (common >= 2).then_some((i, common + with_bass, added))
            }
            Token::Note(_) => None,
        })
        // Most in common, then fewest added, then the earliest.
        .min_by_key(|&(i, score, added)| (std::cmp::Reverse(score), added, i))
        .map(|(i, _, _)| i)
}

/// `events` with every token the vocabulary lacks replaced by its nearest
/// known one, and how many were replaced.
pub fn map_to_known(vocab: &Vocab, events: &[Event]) -> (Vec<Event>, usize) {
    let mut mapped = 0;
    let known = events
        .iter()
        .filter_map(|event| {
            let index = nearest_known(vocab, event.what, event.lowest)?;
            let what = vocab.token(index)?;
            mapped += usize::from(what != event.what);
            Some(Event { what, ..*event })
        })
        .collect();
    (known, mapped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(texts: &[&str]) -> Vocab {
        Vocab::from_tokens(texts.iter().map(|t| t.parse::<Token>().unwrap()))
    }

    fn nearest(vocab: &Vocab, text: &str, lowest: u8) -> String {
        let token: Token = text.parse().unwrap();
        vocab
            .token(nearest_known(vocab, token, lowest).unwrap())
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_known_token_is_itself() {
        let v = vocab(&["C4", "0.4.7"]);
        assert_eq!(nearest(&v, "0.4.7", 48), "0.4.7");
        assert_eq!(nearest(&v, "C4", 60), "C4");
    }

    #[test]
    fn an_unknown_note_keeps_its_pitch_class_in_the_nearest_octave() {
        let v = vocab(&["C2", "C5", "D7", "B6"]);
        assert_eq!(nearest(&v, "C7", 96), "C5");
        // No known note of that class: the nearest known note.
        assert_eq!(nearest(&v, "C#7", 97), "D7");
    }

    #[test]
    fn an_unknown_chord_keeps_its_bass_and_most_of_its_pitch_classes() {
        let v = vocab(&["0.4.7", "4.7.11", "9.0.4", "2.5.9", "C3"]);
        // C major seventh (0 4 7 11) with C in the bass: C major keeps the
        // bass and three classes; E minor has three too, but not the bass.
        assert_eq!(nearest(&v, "0.4.7.11", 48), "0.4.7");
        // The same chord with B in the bass: E minor keeps it.
        assert_eq!(nearest(&v, "0.4.7.11", 59), "4.7.11");
        // Joplin's 6.8.10.0 (F#, G#, A#, C): no known chord shares two of
        // its classes, so the known note nearest its lowest key.
        assert_eq!(nearest(&v, "6.8.10.0", 54), "C3");
        // A minor seventh (9 0 4 7): A minor (adds nothing) wins over
        // C major (adds nothing, no bass).
        assert_eq!(nearest(&v, "9.0.4.7", 45), "9.0.4");
    }

    #[test]
    fn events_map_and_are_counted() {
        let v = vocab(&["C4", "E4", "0.4.7"]);
        let events: Vec<Event> = ["C4", "0.4.7.11_3", "E4", "C5"]
            .iter()
            .map(|w| w.parse().unwrap())
            .collect();
        let (known, mapped) = map_to_known(&v, &events);
        assert_eq!(mapped, 2);
        let texts: Vec<String> = known.iter().map(|e| e.what.to_string()).collect();
        assert_eq!(texts, ["C4", "0.4.7", "E4", "C4"]);
        assert_eq!(known[1].lowest, events[1].lowest, "the voicing stays");
    }
}
