//! Whose turn it is: the modes' state machine. *Continue* plays on after
//! the player's first event; *respond* listens, and answers for a number of
//! events after a silence; *echo* answers each player event with one.

use super::{AnswerLength, Mode};

/// Where the performer is in its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Nothing to play (waiting for the player, or listening in *respond*).
    Idle,
    /// Playing on (*continue*), or answering for `remaining` events
    /// (*respond*).
    Playing { remaining: Option<u32> },
}

/// See the module documentation. Real-time safe.
pub(super) struct Turns {
    state: State,
    /// *echo*: player events not answered yet.
    echo_pending: u32,
    /// *respond*: the absolute sample of the player's last note-on.
    last_player_on: Option<u64>,
    /// *respond*: events in the call so far.
    call_events: u32,
    /// *respond*: the sample at which the current answer started.
    answer_from: u64,
}

impl Turns {
    pub(super) fn new() -> Self {
        Self {
            state: State::Idle,
            echo_pending: 0,
            last_player_on: None,
            call_events: 0,
            answer_from: 0,
        }
    }

    /// Back to the start of the mode: nothing to play.
    pub(super) fn restart(&mut self) {
        *self = Self {
            answer_from: self.answer_from,
            ..Self::new()
        };
    }

    /// The player struck a key at `now_abs`. Returns whether that
    /// interrupts an answer (*respond*): the caller ends what sounds.
    pub(super) fn player_note(&mut self, mode: Mode, now_abs: u64) -> bool {
        if mode != Mode::Respond {
            return false;
        }
        self.last_player_on = Some(now_abs);
        let answering = matches!(self.state, State::Playing { .. });
        if answering {
            self.state = State::Idle;
        }
        answering
    }

    /// A player event entered the window.
    pub(super) fn player_event(&mut self, mode: Mode) {
        match mode {
            Mode::Continue => {
                if self.state == State::Idle {
                    self.state = State::Playing { remaining: None };
                }
            }
            Mode::Echo => self.echo_pending += 1,
            Mode::Respond => self.call_events += 1,
        }
    }

    /// *respond*: the absolute sample at which the silence after a call
    /// ends, while listening (`gathering`: a chord of the player is still
    /// being gathered).
    pub(super) fn silence_end(&self, mode: Mode, silence: u64, gathering: bool) -> Option<u64> {
        let listening = mode == Mode::Respond
            && self.state == State::Idle
            && !gathering
            && self.call_events > 0;
        self.last_player_on
            .filter(|_| listening)
            .map(|last| last + silence)
    }

    /// *respond*: starts the answer at `now_abs`, as long as `length` says
    /// (counting the call's events).
    pub(super) fn answer(&mut self, length: AnswerLength, now_abs: u64) {
        let events = match length {
            AnswerLength::Steps(n) => n,
            AnswerLength::AsLongAsCall => self.call_events,
        };
        self.state = State::Playing {
            remaining: Some(events.max(1)),
        };
        self.call_events = 0;
        self.last_player_on = None;
        self.answer_from = now_abs;
    }

    /// The sample the current answer started at: the model's rhythm plays
    /// nothing before it.
    pub(super) fn answer_from(&self) -> u64 {
        self.answer_from
    }

    /// Whether the mode wants the performer to play now.
    pub(super) fn plays(&self, mode: Mode) -> bool {
        match mode {
            Mode::Continue | Mode::Respond => matches!(self.state, State::Playing { .. }),
            Mode::Echo => self.echo_pending > 0,
        }
    }

    /// The performer played an event.
    pub(super) fn played(&mut self, mode: Mode) {
        if let State::Playing {
            remaining: Some(remaining),
        } = &mut self.state
        {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                self.state = State::Idle;
            }
        }
        if mode == Mode::Echo {
            self.echo_pending = self.echo_pending.saturating_sub(1);
        }
    }
}
