//! *Dynamics: Follow* ([`super::Velocity::FollowPlayer`]): Pianola plays
//! as loud as the player has lately. The player's loudness is a running
//! mean of their velocities over about a bar; Pianola's velocities keep
//! the model's contour (each one's distance from the model's own running
//! mean), moved so that their mean sits on the player's.

/// The player's running mean forgets with this time constant, in beats:
/// half a bar of four, so that it reads mostly the last bar (a note a bar
/// old weighs 14 % of a new one).
const PLAYER_BEATS: f64 = 2.0;

/// The model's running mean moves this far towards each new velocity.
const OWN_RATE: f64 = 0.125;

/// See the module documentation. Real-time safe.
#[derive(Clone, Copy, Debug)]
pub(super) struct Loudness {
    /// The player's running mean velocity, if they have played.
    player: Option<f64>,
    /// The absolute sample of the player's last note-on.
    player_at: u64,
    /// The running mean of the model's velocities, if it has played.
    own: Option<f64>,
}

impl Loudness {
    pub(super) fn new() -> Self {
        Self {
            player: None,
            player_at: 0,
            own: None,
        }
    }

    /// The player struck a key at `velocity`, at absolute sample `at`.
    pub(super) fn hear(&mut self, velocity: u8, at: u64, samples_per_beat: f64) {
        let velocity = f64::from(velocity.clamp(1, 127));
        self.player = Some(match self.player {
            None => velocity,
            Some(mean) => {
                let beats = at.saturating_sub(self.player_at) as f64 / samples_per_beat.max(1.0);
                let kept = (-beats / PLAYER_BEATS).exp();
                mean * kept + velocity * (1.0 - kept)
            }
        });
        self.player_at = at;
    }

    /// The player's loudness as a velocity (`fallback` before they play).
    pub(super) fn player(&self, fallback: u8) -> u8 {
        self.player
            .map_or(fallback, |mean| mean.round().clamp(1.0, 127.0) as u8)
    }

    /// The velocity Pianola plays the model's `velocity` at: its contour
    /// kept, centred on the player's loudness (the model's own before the
    /// player plays).
    pub(super) fn follow(&mut self, velocity: u8) -> u8 {
        let velocity = f64::from(velocity.clamp(1, 127));
        let own = self
            .own
            .map_or(velocity, |mean| mean + OWN_RATE * (velocity - mean));
        self.own = Some(own);
        let Some(player) = self.player else {
            return velocity as u8;
        };
        (player + velocity - own).round().clamp(1.0, 127.0) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pianola_follows_the_players_loudness_and_keeps_its_contour() {
        let mut loudness = Loudness::new();
        assert_eq!(loudness.follow(70), 70, "its own before the player plays");
        let spb = 24_000.0;
        // The player plays eighths at 40 for two bars...
        for i in 0..16 {
            loudness.hear(40, i * 12_000, spb);
        }
        let soft: Vec<u8> = [60, 80, 60, 80].map(|v| loudness.follow(v)).to_vec();
        let mean = soft.iter().map(|&v| f64::from(v)).sum::<f64>() / 4.0;
        assert!((mean - 40.0).abs() < 8.0, "{soft:?}");
        assert!(
            soft[1] > soft[0] && soft[3] > soft[2],
            "the contour: {soft:?}"
        );
        // ...then at 110: within a bar Pianola is loud.
        for i in 16..24 {
            loudness.hear(110, i * 12_000, spb);
        }
        assert!(loudness.player(0) > 95, "{}", loudness.player(0));
        let loud: Vec<u8> = [70; 8].map(|v| loudness.follow(v)).to_vec();
        assert!(loud.iter().all(|&v| v > 90), "{loud:?}");
    }
}
