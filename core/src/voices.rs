//! Checking a stream of note messages for stuck and doubled notes: the one
//! check behind "every note-on has its note-off" in the performer's, the
//! plugin's and the live host's tests, and for anyone who logs Pianola's
//! output.

/// A voice: (MIDI channel, key).
pub type Voice = (u8, u8);

/// What a stream of note messages did to its voices.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VoiceCheck {
    /// Voices still sounding at the end, in the order they started.
    pub sounding: Vec<Voice>,
    /// Note-ons for a voice already sounding: (message index, voice).
    pub struck_twice: Vec<(usize, Voice)>,
    /// Note-offs for a voice not sounding: (message index, voice).
    pub released_silent: Vec<(usize, Voice)>,
}

impl VoiceCheck {
    /// Checks `messages`, each (channel, key, note-on?), in order.
    pub fn of(messages: impl IntoIterator<Item = (u8, u8, bool)>) -> Self {
        let mut check = VoiceCheck::default();
        for (index, (channel, key, on)) in messages.into_iter().enumerate() {
            let voice = (channel, key);
            let sounding = check.sounding.iter().position(|&v| v == voice);
            match (on, sounding) {
                (true, None) => check.sounding.push(voice),
                (true, Some(_)) => check.struck_twice.push((index, voice)),
                (false, Some(at)) => {
                    check.sounding.remove(at);
                }
                (false, None) => check.released_silent.push((index, voice)),
            }
        }
        check
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuck_doubled_and_stray_notes_are_found() {
        let check = VoiceCheck::of([
            (0, 60, true),
            (0, 60, true),
            (0, 60, false),
            (1, 62, false),
            (0, 64, true),
        ]);
        assert_eq!(check.sounding, vec![(0, 64)]);
        assert_eq!(check.struck_twice, vec![(1, (0, 60))]);
        assert_eq!(check.released_silent, vec![(3, (1, 62))]);
        assert_eq!(
            VoiceCheck::of([(2, 5, true), (2, 5, false)]),
            VoiceCheck::default()
        );
    }
}
