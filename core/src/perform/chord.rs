//! Gathering the player's notes into events: note-ons within the chord
//! tolerance of the first form one token (a chord).

use crate::token::Token;

/// Keys struck since the first of a gathering chord. Real-time safe.
pub(super) struct Chord {
    keys: [u8; 16],
    len: usize,
    /// The absolute sample of the first key.
    since: u64,
}

/// A gathered chord: its token, keys (a bit per key), lowest key and
/// onset sample.
pub(super) struct Gathered {
    pub(super) token: Token,
    pub(super) keys: u128,
    pub(super) lowest: u8,
    pub(super) onset: u64,
}

impl Chord {
    pub(super) fn new() -> Self {
        Self {
            keys: [0; 16],
            len: 0,
            since: 0,
        }
    }

    /// Whether no key is gathering.
    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `key`, struck at `now_abs` (the 17th key of a chord and later
    /// are left out).
    pub(super) fn add(&mut self, key: u8, now_abs: u64) {
        if self.len == 0 {
            self.since = now_abs;
        }
        if self.len < self.keys.len() {
            self.keys[self.len] = key;
            self.len += 1;
        }
    }

    /// When the chord is complete: `tolerance` samples after its first key.
    pub(super) fn due(&self, tolerance: u64) -> Option<u64> {
        (self.len > 0).then_some(self.since + tolerance)
    }

    /// Forgets the keys.
    pub(super) fn clear(&mut self) {
        self.len = 0;
    }

    /// The chord's event, and a fresh start.
    pub(super) fn take(&mut self) -> Option<Gathered> {
        let keys = &self.keys[..self.len];
        let gathered = Token::from_onset(keys).map(|token| Gathered {
            token,
            keys: super::lengths::mask_of(keys),
            lowest: keys.iter().copied().min().unwrap_or(60),
            onset: self.since,
        });
        self.len = 0;
        gathered
    }
}
