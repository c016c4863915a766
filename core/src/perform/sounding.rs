//! The notes the performer has sounding, and their note-offs: its own (one
//! voice per key, ending at an absolute sample) and the player's notes it
//! passes through (per key, a bit per channel). Every note-on the performer
//! sends starts here, so every one gets its note-off from here.

use super::NoteEvent;

/// See the module documentation. Real-time safe.
pub(super) struct Sounding {
    /// Per key: the absolute sample at which the performer's note ends
    /// (`u64::MAX`: not sounding).
    own_until: [u64; 128],
    /// Per key: the absolute sample at which the performer's note started.
    own_since: [u64; 128],
    own_channel: [u8; 128],
    /// Per key: channels on which a thru note is held (bit per channel).
    thru: [u16; 128],
}

impl Sounding {
    pub(super) fn new() -> Self {
        Self {
            own_until: [u64::MAX; 128],
            own_since: [0; 128],
            own_channel: [0; 128],
            thru: [0; 128],
        }
    }

    /// Whether any note sounds.
    pub(super) fn any(&self) -> bool {
        self.own_until.iter().any(|&until| until != u64::MAX)
            || self.thru.iter().any(|&held| held != 0)
    }

    /// The absolute sample at which the next of the performer's notes ends.
    pub(super) fn next_end(&self) -> Option<u64> {
        self.own_until
            .iter()
            .copied()
            .filter(|&u| u != u64::MAX)
            .min()
    }

    /// Ends the performer's notes due by `now_abs`.
    pub(super) fn end_due(&mut self, now_abs: u64, offset: u32, out: &mut impl FnMut(NoteEvent)) {
        for key in 0..128u8 {
            if self.own_until[usize::from(key)] <= now_abs {
                self.end_own(key, offset, out);
            }
        }
    }

    /// Ends the performer's note on `key`, if one sounds.
    pub(super) fn end_own(&mut self, key: u8, offset: u32, out: &mut impl FnMut(NoteEvent)) {
        let k = usize::from(key);
        if self.own_until[k] != u64::MAX {
            self.own_until[k] = u64::MAX;
            out(NoteEvent::released(offset, self.own_channel[k], key, 0));
        }
    }

    /// Ends every note the performer started.
    pub(super) fn end_all_own(&mut self, offset: u32, out: &mut impl FnMut(NoteEvent)) {
        for key in 0..128u8 {
            self.end_own(key, offset, out);
        }
    }

    /// Ends every note: the performer's and the thru notes.
    pub(super) fn end_all(&mut self, offset: u32, out: &mut impl FnMut(NoteEvent)) {
        for key in 0..128u8 {
            self.end_own(key, offset, out);
            for channel in 0..16u8 {
                self.end_thru(key, channel, 0, offset, out);
            }
        }
    }

    /// Starts the performer's note on `key` at absolute sample `at`
    /// (`offset` in the block) until `until`. A voice sounds once: its note
    /// on the key, and a thru note on the key and channel, end first (the
    /// player's release of that one then sends nothing). A key the
    /// performer struck at this same instant is not struck again: it
    /// sounds once, for the longer of the two lengths.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_own(
        &mut self,
        key: u8,
        channel: u8,
        velocity: u8,
        offset: u32,
        at: u64,
        until: u64,
        out: &mut impl FnMut(NoteEvent),
    ) {
        let k = usize::from(key);
        if self.own_until[k] != u64::MAX
            && self.own_since[k] == at
            && self.own_channel[k] == channel
        {
            self.own_until[k] = self.own_until[k].max(until);
            return;
        }
        self.end_own(key, offset, out);
        self.end_thru(key, channel, 0, offset, out);
        out(NoteEvent::struck(offset, channel, key, velocity));
        self.own_until[k] = until;
        self.own_since[k] = at;
        self.own_channel[k] = channel;
    }

    /// Passes the player's note through. A note-on sounds once: the
    /// performer's note on the key and channel, or the player's own held
    /// one (a key struck again), ends first. A note-off ends the thru note,
    /// if one is held.
    pub(super) fn thru(&mut self, note: NoteEvent, out: &mut impl FnMut(NoteEvent)) {
        match note {
            NoteEvent::On {
                offset,
                channel,
                key,
                velocity,
            } => {
                let (channel, key) = (channel & 15, key & 127);
                if self.own_channel[usize::from(key)] == channel {
                    self.end_own(key, offset, out);
                }
                self.end_thru(key, channel, 0, offset, out);
                out(NoteEvent::struck(offset, channel, key, velocity));
                self.thru[usize::from(key)] |= 1 << channel;
            }
            NoteEvent::Off {
                offset,
                channel,
                key,
                velocity,
            } => self.end_thru(key & 127, channel & 15, velocity, offset, out),
        }
    }

    /// Ends the thru note on `key` and `channel` with the release
    /// `velocity`, if it is held.
    pub(super) fn end_thru(
        &mut self,
        key: u8,
        channel: u8,
        velocity: u8,
        offset: u32,
        out: &mut impl FnMut(NoteEvent),
    ) {
        let held = &mut self.thru[usize::from(key)];
        if *held & (1 << channel) != 0 {
            *held &= !(1 << channel);
            out(NoteEvent::released(offset, channel, key, velocity));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_struck_twice_at_one_instant_sounds_once_for_the_longer_hold() {
        let mut sounding = Sounding::new();
        let mut out = Vec::new();
        sounding.start_own(60, 0, 90, 5, 1_005, 2_000, &mut |e| out.push(e));
        sounding.start_own(60, 0, 70, 5, 1_005, 3_000, &mut |e| out.push(e));
        sounding.start_own(60, 0, 70, 5, 1_005, 2_500, &mut |e| out.push(e));
        assert_eq!(out.len(), 1, "one note-on: {out:?}");
        assert_eq!(sounding.next_end(), Some(3_000));
        // Struck again later, it is a new note: the old one ends first.
        sounding.start_own(60, 0, 70, 0, 2_200, 4_000, &mut |e| out.push(e));
        assert!(matches!(out[1], NoteEvent::Off { key: 60, .. }));
        assert!(matches!(out[2], NoteEvent::On { key: 60, .. }));
    }
}
