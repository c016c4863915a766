//! The session memory as the worker keeps it ([`Session`]) and as a
//! plugin's window and saved state see it ([`SessionShare`]).
//!
//! The worker remembers every event fed to the window, the player's and
//! Pianola's own, and recalls for the window's end and its speculation
//! before each prediction. The share is how other threads reach it without
//! touching the audio thread: its size for display, a Forget request, the
//! events for saving, and saved events to restore.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventClasses};
use crate::memory::{CAPACITY, COPY_LIMIT, Heard, SessionMemory};
use crate::nearest::nearest_known;
use crate::vocab::Vocab;

/// The session memory in a saved state: each event in the text form of
/// `--prime-tokens` ([`Event`]'s), so it survives a change of model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    /// The events, oldest first.
    pub events: Vec<SavedEvent>,
}

/// One remembered event in a saved state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedEvent {
    /// The event's text (`C5@1/2~1:80`).
    pub event: String,
    /// Whether the player played it.
    pub player: bool,
}

/// The session memory as other threads see it; clones share it.
#[derive(Clone, Default)]
pub struct SessionShare {
    inner: Arc<ShareInner>,
}

#[derive(Default)]
struct ShareInner {
    len: AtomicUsize,
    forget: AtomicBool,
    saved: Mutex<SavedSession>,
    restore: Mutex<Option<SavedSession>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SessionShare {
    /// How many events the memory holds.
    pub fn len(&self) -> usize {
        self.inner.len.load(Ordering::Relaxed)
    }

    /// Whether the memory is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asks the worker to forget the session.
    pub fn forget(&self) {
        self.inner.forget.store(true, Ordering::Relaxed);
        self.inner.len.store(0, Ordering::Relaxed);
        *lock(&self.inner.saved) = SavedSession::default();
        *lock(&self.inner.restore) = None;
    }

    /// The memory as last published by the worker, for a saved state.
    pub fn saved(&self) -> SavedSession {
        lock(&self.inner.saved).clone()
    }

    /// Reads `f` of the memory as last published, without copying it.
    pub fn with_saved<R>(&self, f: impl FnOnce(&SavedSession) -> R) -> R {
        f(&lock(&self.inner.saved))
    }

    /// Replaces the memory with `saved` (a loaded state); the worker takes
    /// it at its next look.
    pub fn restore(&self, saved: SavedSession) {
        self.inner
            .len
            .store(saved.events.len().min(CAPACITY), Ordering::Relaxed);
        *lock(&self.inner.saved) = saved.clone();
        *lock(&self.inner.restore) = Some(saved);
    }
}

/// The worker's memory of the session and the events just heard.
pub(super) struct Session {
    memory: SessionMemory,
    /// The last events fed to the window.
    recent: VecDeque<Heard>,
    /// Scratch: `recent` and the speculation after it.
    context: Vec<Heard>,
    share: SessionShare,
    /// Whether the memory changed since it was last published.
    changed: bool,
    /// The memory the session began with (a restored state's).
    origin: Vec<Heard>,
    /// Whether the events are published for a saved state.
    saved: bool,
    /// Events remembered so far.
    remembered: u64,
    /// The player's latest events remembered, as the number each was fed
    /// as (0: none) and its number among those remembered: their lengths
    /// come when they are released.
    lengths_due: [(u64, u64); LENGTHS_DUE],
    /// Where the next of `lengths_due` goes.
    next_due: usize,
}

/// How many of the player's latest events wait for their lengths.
const LENGTHS_DUE: usize = 16;

/// No event waiting for its length (the events remembered were replaced).
const NONE_DUE: [(u64, u64); LENGTHS_DUE] = [(0, 0); LENGTHS_DUE];

impl Session {
    /// A session seen through `share`; `saved`: whether its events are
    /// published for a saved state (a plugin's), or only its size.
    pub(super) fn new(share: SessionShare, saved: bool) -> Self {
        Self {
            saved,
            memory: SessionMemory::new(CAPACITY),
            recent: VecDeque::with_capacity(COPY_LIMIT),
            context: Vec::with_capacity(2 * COPY_LIMIT),
            share,
            changed: false,
            origin: Vec::new(),
            remembered: 0,
            lengths_due: NONE_DUE,
            next_due: 0,
        }
    }

    /// The share other threads see this memory through.
    pub(super) fn share(&self) -> &SessionShare {
        &self.share
    }

    /// Remembers an event fed to the window as number `fed`.
    pub(super) fn hear(&mut self, classes: EventClasses, player: bool, fed: u64) {
        let heard = Heard { classes, player };
        self.memory.remember(heard);
        if self.recent.len() == COPY_LIMIT {
            self.recent.pop_front();
        }
        self.recent.push_back(heard);
        if player && !classes.hold_known() {
            self.lengths_due[self.next_due] = (fed, self.remembered);
            self.next_due = (self.next_due + 1) % LENGTHS_DUE;
        }
        self.remembered += 1;
        self.changed = true;
    }

    /// The player's event fed as number `fed` sounded `hold` twelfths of a
    /// beat: its length, known at its release, is remembered with it.
    pub(super) fn held(&mut self, fed: u64, hold: u32) {
        let due = self
            .lengths_due
            .iter()
            .find(|&&(due, _)| due == fed && fed > 0);
        let Some(&(_, index)) = due else {
            return;
        };
        let back = (self.remembered - 1 - index) as usize;
        let class = crate::event::classes::time_class(hold);
        if self.memory.held(back, class) {
            let recent = self.recent.len().checked_sub(back + 1);
            if let Some(heard) = recent.and_then(|i| self.recent.get_mut(i)) {
                heard.classes.hold = class;
            }
            self.changed = true;
        }
    }

    /// The window starts again (the memory stays: it is the session's).
    pub(super) fn reset_context(&mut self) {
        self.recent.clear();
    }

    /// Starts the session over from where it began: the memory a saved
    /// state restored, or none (a take that must replay, with a seed,
    /// starts from the same memory every time).
    pub(super) fn start_over(&mut self) {
        self.memory.forget();
        self.lengths_due = NONE_DUE;
        for &heard in &self.origin {
            self.memory.remember(heard);
        }
        self.recent.clear();
        self.changed = true;
    }

    /// The memory, recalled for the events heard and then `speculated`
    /// (Pianola's own, not yet played).
    pub(super) fn recall<'a>(
        &mut self,
        speculated: impl Iterator<Item = &'a EventClasses>,
    ) -> &SessionMemory {
        self.context.clear();
        self.context.extend(self.recent.iter().copied());
        self.context.extend(speculated.map(|&classes| Heard {
            classes,
            player: false,
        }));
        self.memory.recall(&self.context);
        &self.memory
    }

    /// The memory's events as the nearest ones `new` knows (a new model).
    pub(super) fn remap(&mut self, old: &Vocab, new: &Vocab) {
        let events: Vec<(Event, bool)> = self
            .memory
            .events()
            .filter_map(|h| Some((h.classes.to_event(old)?, h.player)))
            .collect();
        let recent: Vec<(Event, bool)> = self
            .recent
            .iter()
            .filter_map(|h| Some((h.classes.to_event(old)?, h.player)))
            .collect();
        self.memory.forget();
        self.lengths_due = NONE_DUE;
        self.recent.clear();
        for (event, player) in events {
            if let Some(classes) = known_classes(&event, new) {
                self.memory.remember(Heard { classes, player });
            }
        }
        for (event, player) in recent {
            if let Some(classes) = known_classes(&event, new) {
                self.recent.push_back(Heard { classes, player });
            }
        }
        self.changed = true;
    }

    /// Takes a Forget or a restored state from the share.
    pub(super) fn take_requests(&mut self, vocab: &Vocab) {
        if self.share.inner.forget.swap(false, Ordering::Relaxed) {
            self.memory.forget();
            self.lengths_due = NONE_DUE;
            self.origin.clear();
            self.changed = true;
        }
        if let Some(saved) = lock(&self.share.inner.restore).take() {
            self.memory.forget();
            self.lengths_due = NONE_DUE;
            for saved in &saved.events {
                let classes = saved
                    .event
                    .parse::<Event>()
                    .ok()
                    .and_then(|e| known_classes(&e, vocab));
                if let Some(classes) = classes {
                    self.memory.remember(Heard {
                        classes,
                        player: saved.player,
                    });
                }
            }
            self.origin = self.memory.events().copied().collect();
            // What was restored is what the share already holds.
            self.share
                .inner
                .len
                .store(self.memory.len(), Ordering::Relaxed);
        }
    }

    /// Publishes the memory's size, and its events for a saved state, if
    /// it changed (the worker calls this when idle).
    pub(super) fn publish(&mut self, vocab: &Vocab) {
        if !self.changed {
            return;
        }
        self.changed = false;
        self.share
            .inner
            .len
            .store(self.memory.len(), Ordering::Relaxed);
        if !self.saved {
            return;
        }
        let events = self
            .memory
            .events()
            .filter_map(|h| {
                Some(SavedEvent {
                    event: h.classes.to_event(vocab)?.to_string(),
                    player: h.player,
                })
            })
            .collect();
        *lock(&self.share.inner.saved) = SavedSession { events };
    }
}

/// `event`'s classes with its token as the nearest one `vocab` knows.
fn known_classes(event: &Event, vocab: &Vocab) -> Option<EventClasses> {
    let index = nearest_known(vocab, event.what, event.lowest)?;
    Some(EventClasses::with_what(event, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Token;

    fn vocab(keys: std::ops::RangeInclusive<u8>) -> Vocab {
        Vocab::from_tokens(keys.map(Token::Note))
    }

    fn classes(text: &str, vocab: &Vocab) -> EventClasses {
        known_classes(&text.parse().unwrap(), vocab).unwrap()
    }

    fn what(session: &Session) -> Vec<usize> {
        session.memory.events().map(|h| h.classes.what).collect()
    }

    #[test]
    fn a_player_length_known_at_release_joins_the_memory() {
        let vocab = vocab(48..=84);
        let mut session = Session::new(SessionShare::default(), false);
        // A live player's events are fed with their lengths not known.
        let live = |text| EventClasses {
            hold: 0,
            ..classes(text, &vocab)
        };
        session.hear(live("C4@1/2"), true, 1);
        session.hear(classes("E4@1/2", &vocab), false, 2);
        session.hear(live("G4@1/2"), true, 3);
        session.held(1, 18);
        session.held(2, 3); // Pianola's own: its length was known
        session.held(9, 3); // never fed
        let holds = |session: &Session| -> Vec<usize> {
            session.memory.events().map(|h| h.classes.hold).collect()
        };
        assert_eq!(holds(&session), [18, 6, 0]);
        session.held(3, 3);
        session.held(3, 12); // known once only
        assert_eq!(holds(&session), [18, 6, 3]);
        assert_eq!(session.recent.back().map(|h| h.classes.hold), Some(3));
        // Forgotten, nothing waits for a length any more.
        session.hear(live("C4@1/2"), true, 4);
        session.start_over();
        session.hear(live("D4@1/2"), true, 5);
        session.held(4, 12);
        assert_eq!(holds(&session), [0]);
    }

    #[test]
    fn the_share_shows_saves_forgets_and_restores_what_the_worker_heard() {
        let vocab = vocab(48..=84);
        let share = SessionShare::default();
        let mut session = Session::new(share.clone(), true);
        for (text, player) in [("C4@1/2", true), ("E4@1/2", true), ("G4@1/4", false)] {
            session.hear(classes(text, &vocab), player, 0);
        }
        session.publish(&vocab);
        assert_eq!(share.len(), 3);
        let saved = share.saved();
        // Velocities as their class plays them.
        assert_eq!(saved.events[2].event, "G4@1/4~1/4:72");
        assert!(saved.events[0].player && !saved.events[2].player);

        share.forget();
        assert!(share.is_empty());
        session.take_requests(&vocab);
        assert!(what(&session).is_empty());

        // A saved state restored into a worker made later.
        let mut later = Session::new(share.clone(), true);
        share.restore(saved.clone());
        later.take_requests(&vocab);
        assert_eq!(later.memory.len(), 3);
        later.publish(&vocab);
        assert_eq!(share.saved(), saved);

        // A take with a seed starts over from the restored memory, however
        // much was heard since.
        later.hear(classes("D4@1/2", &vocab), true, 1);
        assert_eq!(later.memory.len(), 4);
        later.start_over();
        assert_eq!(later.memory.len(), 3);
    }

    #[test]
    fn a_new_model_hears_the_session_as_the_nearest_tokens_it_knows() {
        let (old, new) = (vocab(48..=84), vocab(60..=72));
        let mut session = Session::new(SessionShare::default(), false);
        session.hear(classes("C3@1/2", &old), true, 1);
        session.hear(classes("E4@1/2", &old), true, 2);
        session.remap(&old, &new);
        let heard: Vec<Token> = what(&session)
            .into_iter()
            .map(|i| new.token(i).unwrap())
            .collect();
        assert_eq!(heard, ["C4", "E4"].map(|t| t.parse::<Token>().unwrap()));
    }
}
