//! The player's note lengths. A player's event is fed to the worker at its
//! onset, before anyone knows how long it will sound; its keys are
//! followed until the last of them is released, and its length then goes
//! to the worker, so that Pianola can follow how long the player holds
//! their notes and how often they rest.

/// How many of the player's events are followed at once: a new one takes
/// the place of the oldest, whose length is then never known.
const FOLLOWED: usize = 8;

/// One event followed: the keys of it still held, when it started and its
/// number among the events fed.
#[derive(Clone, Copy, Debug)]
struct Followed {
    keys: u128,
    onset: u64,
    fed: u64,
}

/// See the module documentation. Real-time safe.
pub(super) struct PlayerLengths {
    /// The keys the player holds down now.
    down: u128,
    followed: [Option<Followed>; FOLLOWED],
}

/// A length come to be known: the event fed as number `fed` (the count of
/// events fed once it was) sounded for `samples`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Sounded {
    pub(super) fed: u64,
    pub(super) samples: u64,
}

fn bit(key: u8) -> u128 {
    1u128 << (key & 127)
}

impl PlayerLengths {
    pub(super) fn new() -> Self {
        Self {
            down: 0,
            followed: [None; FOLLOWED],
        }
    }

    /// The player pressed `key`.
    pub(super) fn pressed(&mut self, key: u8) {
        self.down |= bit(key);
    }

    /// The player's event of `keys` (a bit per key), struck at `onset`, was
    /// fed as number `fed`: followed until its keys are up, or, if they
    /// all are already (released while the chord gathered), known now.
    pub(super) fn fed(&mut self, keys: u128, onset: u64, fed: u64, now: u64) -> Option<Sounded> {
        let keys = keys & self.down;
        if keys == 0 {
            return Some(Sounded {
                fed,
                samples: now.saturating_sub(onset),
            });
        }
        let slot = match self.followed.iter().position(Option::is_none) {
            Some(free) => free,
            None => (0..FOLLOWED)
                .min_by_key(|&i| self.followed[i].map_or(0, |f| f.fed))
                .unwrap_or(0),
        };
        self.followed[slot] = Some(Followed { keys, onset, fed });
        None
    }

    /// The player released `key` at `now`: the events whose last key it
    /// was are known, each through `known`.
    pub(super) fn released(&mut self, key: u8, now: u64, mut known: impl FnMut(Sounded)) {
        let key = bit(key);
        self.down &= !key;
        for slot in &mut self.followed {
            let Some(followed) = slot else { continue };
            if followed.keys & key == 0 {
                continue;
            }
            followed.keys &= !key;
            if followed.keys == 0 {
                known(Sounded {
                    fed: followed.fed,
                    samples: now.saturating_sub(followed.onset),
                });
                *slot = None;
            }
        }
    }

    /// Stops following the events fed so far (the window was forgotten);
    /// the keys held stay down.
    pub(super) fn forget(&mut self) {
        self.followed = [None; FOLLOWED];
    }
}

/// The bit mask of `keys`.
pub(super) fn mask_of(keys: &[u8]) -> u128 {
    keys.iter().fold(0, |mask, &key| mask | bit(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn released(lengths: &mut PlayerLengths, key: u8, now: u64) -> Vec<Sounded> {
        let mut known = Vec::new();
        lengths.released(key, now, |s| known.push(s));
        known
    }

    #[test]
    fn a_chord_is_known_when_its_last_key_is_up() {
        let mut lengths = PlayerLengths::new();
        for key in [60, 64, 67] {
            lengths.pressed(key);
        }
        assert_eq!(lengths.fed(mask_of(&[60, 64, 67]), 100, 1, 110), None);
        assert!(released(&mut lengths, 64, 300).is_empty());
        assert!(released(&mut lengths, 60, 400).is_empty());
        let known = released(&mut lengths, 67, 500);
        assert_eq!(
            known,
            [Sounded {
                fed: 1,
                samples: 400
            }]
        );
        // Known once only.
        assert!(released(&mut lengths, 67, 600).is_empty());
    }

    #[test]
    fn legato_events_overlap_and_each_gets_its_own_length() {
        let mut lengths = PlayerLengths::new();
        lengths.pressed(60);
        lengths.fed(mask_of(&[60]), 0, 1, 10);
        lengths.pressed(62);
        lengths.fed(mask_of(&[62]), 100, 2, 110);
        assert_eq!(
            released(&mut lengths, 60, 120),
            [Sounded {
                fed: 1,
                samples: 120
            }]
        );
        assert_eq!(
            released(&mut lengths, 62, 250),
            [Sounded {
                fed: 2,
                samples: 150
            }]
        );
    }

    #[test]
    fn a_key_up_before_its_chord_is_fed_is_known_at_once() {
        let mut lengths = PlayerLengths::new();
        lengths.pressed(60);
        assert!(released(&mut lengths, 60, 20).is_empty());
        assert_eq!(
            lengths.fed(mask_of(&[60]), 0, 1, 30),
            Some(Sounded {
                fed: 1,
                samples: 30
            })
        );
    }

    #[test]
    fn the_oldest_is_let_go_when_too_many_are_held() {
        let mut lengths = PlayerLengths::new();
        for i in 0..=FOLLOWED as u8 {
            lengths.pressed(40 + i);
            lengths.fed(mask_of(&[40 + i]), u64::from(i), u64::from(i) + 1, 0);
        }
        assert!(released(&mut lengths, 40, 100).is_empty(), "let go");
        assert_eq!(released(&mut lengths, 41, 100).len(), 1);
        lengths.forget();
        assert!(released(&mut lengths, 42, 100).is_empty());
    }
}
