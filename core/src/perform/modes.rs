//! The modes' turns: whether the performer plays now, and *respond*'s
//! answer after the player's silence.

use super::Performer;

impl Performer {
    pub(super) fn restart_mode(&mut self) {
        self.turns.restart();
        self.drop_committed();
    }

    /// *respond*: once the player has been silent for `silence_beats`
    /// after a call, the answer starts (at `now_abs`).
    pub(super) fn answer_after_silence(&mut self, now_abs: u64, samples_per_beat: f64) {
        if let Some(due) = self.silence_end(samples_per_beat)
            && now_abs >= due
        {
            self.turns.answer(self.settings.answer_length, now_abs);
        }
    }

    /// *respond*: the absolute sample at which the silence after a call
    /// ends, while listening.
    pub(super) fn silence_end(&self, samples_per_beat: f64) -> Option<u64> {
        let silence = (self.settings.silence_beats * samples_per_beat) as u64;
        self.turns
            .silence_end(self.settings.mode, silence, !self.chord.is_empty())
    }

    /// Whether the mode wants the performer to play now.
    pub(super) fn plays(&self) -> bool {
        self.turns.plays(self.settings.mode)
    }
}
