//! The real-time side's link to the worker: the two wait-free queues, the
//! messages on them, and the counts that keep the two sides in step.
//!
//! Every prediction names the window it was made for by the number of
//! events fed before it (`after`) and the `epoch` it belongs to; the
//! real-time side keeps only those that match its own counts. A message
//! lost to a full queue would leave the counts apart for good, so the link
//! counts the loss and, as soon as the queue has room, sends the worker its
//! own count again ([`ToWorker::Resync`]).

use rtrb::{Consumer, Producer, PushError, RingBuffer};

use super::plan::Plan;
use crate::event::Event;
use crate::sample::{Rhythm, SamplerSettings};

/// Queue lengths between the two sides.
pub(super) const QUEUE: usize = 256;

/// Messages to the worker.
#[derive(Clone, Copy, Debug)]
pub(super) enum ToWorker {
    /// An event enters the window (the player's, or one the performer
    /// played), with its real `when` and velocity and its lowest key.
    /// `player`: the player's event (the next one cannot sound together
    /// with it).
    /// `then`: the committed event that plays next (its `when` counted
    /// from this one), for the worker to predict past it at once.
    Feed {
        event: Event,
        epoch: u64,
        player: bool,
        then: Option<Event>,
    },
    /// The predictions past a committed event no longer hold (it was
    /// dropped): predict for the window as it is.
    Replan { epoch: u64 },
    /// New sampling settings and rhythm (the model's, or the grid's step
    /// and velocity); predictions from now on use them. `seed`: the
    /// sampler starts again from it if it differs from the one it had.
    Sampler {
        settings: SamplerSettings,
        rhythm: Rhythm,
        seed: Option<u64>,
        epoch: u64,
    },
    /// Forget the window; `sent` events have been fed so far. `seed`: the
    /// sampler starts again from it.
    Reset {
        epoch: u64,
        sent: u64,
        seed: Option<u64>,
    },
    /// Messages were lost: `sent` events have been fed so far, whatever
    /// reached the worker.
    Resync { epoch: u64, sent: u64 },
    /// The player's event fed as number `fed` (the count of events fed
    /// once it was) sounded `hold` twelfths of a beat.
    Held { fed: u64, hold: u32 },
}

/// Messages from the worker.
#[derive(Clone, Copy, Debug)]
pub(super) enum FromWorker {
    /// Play `event` when the window holds `after` events, in `epoch`,
    /// with model `generation`.
    Prediction {
        epoch: u64,
        generation: u64,
        after: u64,
        event: Event,
    },
    /// The model changed: notes in flight end, older predictions are void.
    ModelChanged { generation: u64 },
}

/// The worker's ends of the queues.
pub(super) struct WorkerEnds {
    pub(super) inbox: Consumer<ToWorker>,
    pub(super) outbox: Producer<FromWorker>,
}

/// See the module documentation. Real-time safe.
pub(super) struct WorkerLink {
    to_worker: Producer<ToWorker>,
    from_worker: Consumer<FromWorker>,
    /// Events fed into the window so far.
    pub(super) sent: u64,
    /// Bumped whenever the worker's speculation becomes invalid.
    pub(super) epoch: u64,
    /// The model generation predictions must come from.
    pub(super) generation: u64,
    /// Messages lost to a full queue.
    pub(super) dropped: u64,
    /// Whether a loss has not yet been healed by a [`ToWorker::Resync`].
    out_of_step: bool,
}

impl WorkerLink {
    /// A link and the worker's ends of its queues.
    pub(super) fn new() -> (WorkerLink, WorkerEnds) {
        let (to_worker, inbox) = RingBuffer::new(QUEUE);
        let (outbox, from_worker) = RingBuffer::new(QUEUE);
        let link = WorkerLink {
            to_worker,
            from_worker,
            sent: 0,
            epoch: 0,
            generation: 0,
            dropped: 0,
            out_of_step: false,
        };
        (link, WorkerEnds { inbox, outbox })
    }

    /// Sends `message`, or counts it lost.
    pub(super) fn send(&mut self, message: ToWorker) {
        if let Err(PushError::Full(_)) = self.to_worker.push(message) {
            self.dropped += 1;
            self.out_of_step = true;
        }
    }

    /// Sends `message` if the queue has room: for what the counts do not
    /// depend on (a length known late is only a length not known).
    pub(super) fn offer(&mut self, message: ToWorker) {
        let _ = self.to_worker.push(message);
    }

    /// The worker's speculation no longer holds: a new epoch, the plan's
    /// predictions forgotten, and `message` (made for the new epoch) sent.
    pub(super) fn void(&mut self, plan: &mut Plan, message: impl FnOnce(u64) -> ToWorker) {
        self.epoch += 1;
        plan.clear();
        let message = message(self.epoch);
        self.send(message);
    }

    /// After a loss, tells the worker the real count as soon as the queue
    /// has room (the predictions made for the wrong count are void).
    pub(super) fn heal(&mut self, plan: &mut Plan) {
        if self.out_of_step && self.to_worker.slots() > 0 {
            self.out_of_step = false;
            let sent = self.sent;
            self.void(plan, |epoch| ToWorker::Resync { epoch, sent });
        }
    }

    /// The next message from the worker, if any.
    pub(super) fn receive(&mut self) -> Option<FromWorker> {
        self.from_worker.pop().ok()
    }

    /// Whether a prediction of `epoch`, `generation`, for the window after
    /// `after` events, is for the window as it is or will be.
    pub(super) fn current(&self, epoch: u64, generation: u64, after: u64) -> bool {
        epoch == self.epoch && generation == self.generation && after >= self.sent
    }
}
