//! The plan: what the worker has predicted for the coming events, the one
//! kept when the player voids the rest, and *Model* feel's committed event.
//! Owned by the real-time side; nothing here allocates.

use crate::event::Event;

/// Predictions the real-time side keeps.
const KEPT: usize = 16;

/// The predicted events waiting to play, each for the window after a
/// number of events sent (`after`), and the two that outlive a player's
/// event.
pub(super) struct Plan {
    predictions: [Option<(u64, Event)>; KEPT],
    /// What stands in when a player's event voided the predictions and the
    /// fresh one is not ready: *Grid* feel, the prediction that was ready
    /// for the next step; *Model* feel, the one after the committed event.
    pub(super) fallback: Option<Event>,
    /// *Model* feel: the planned event that stands through a player's
    /// event (inside the commit horizon), and its exact due sample.
    pub(super) committed: Option<(Event, f64)>,
}

impl Plan {
    pub(super) fn new() -> Self {
        Self {
            predictions: [None; KEPT],
            fallback: None,
            committed: None,
        }
    }

    /// Forgets the predictions and the fallback (the committed event stays).
    pub(super) fn clear(&mut self) {
        self.predictions = [None; KEPT];
        self.fallback = None;
    }

    /// Keeps `event`, predicted for the window after `after` events, in the
    /// slot of one already played (before `sent`) or of the same position;
    /// the oldest slot if all are taken.
    pub(super) fn keep(&mut self, after: u64, event: Event, sent: u64) {
        let slot = self
            .predictions
            .iter()
            .position(|p| p.is_none_or(|(a, _)| a < sent || a == after))
            .unwrap_or(0);
        self.predictions[slot] = Some((after, event));
    }

    /// The prediction for the window after `sent` events, taken out.
    pub(super) fn take(&mut self, sent: u64) -> Option<Event> {
        let slot = self.slot(sent)?;
        self.predictions[slot].take().map(|(_, event)| event)
    }

    /// The prediction for the window after `sent` events, left in place.
    pub(super) fn peek(&self, sent: u64) -> Option<Event> {
        self.predictions[self.slot(sent)?].map(|(_, event)| event)
    }

    /// The predictions for the windows after `sent`, `sent + 1`, … events,
    /// up to the first one missing.
    pub(super) fn ahead(&self, sent: u64) -> impl Iterator<Item = Event> + '_ {
        (sent..sent + KEPT as u64).map_while(|after| self.peek(after))
    }

    fn slot(&self, after: u64) -> Option<usize> {
        self.predictions
            .iter()
            .position(|p| matches!(p, Some((a, _)) if *a == after))
    }
}
