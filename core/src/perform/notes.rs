//! What a host hands the performer and takes back: the block's transport
//! and note events at sample offsets.

/// The host's transport at the start of a block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transport {
    /// Samples per second.
    pub sample_rate: f64,
    /// Beats per minute, if the host says (120 otherwise).
    pub tempo: Option<f64>,
    /// Whether the transport is playing.
    pub playing: bool,
    /// The beat position at the block's first sample, if known.
    pub position_beats: Option<f64>,
    /// The host's sample position at the block's first sample, if it gives
    /// one (it tells drift from a relocation; see [`Timeline`]).
    pub position_samples: Option<i64>,
}

/// A note event at a sample offset inside a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteEvent {
    /// A key goes down.
    On {
        /// Sample offset in the block.
        offset: u32,
        /// MIDI channel 0..=15.
        channel: u8,
        /// MIDI key.
        key: u8,
        /// Velocity 1..=127.
        velocity: u8,
    },
    /// A key comes up.
    Off {
        /// Sample offset in the block.
        offset: u32,
        /// MIDI channel 0..=15.
        channel: u8,
        /// MIDI key.
        key: u8,
        /// Release velocity 0..=127 (0: none given). A thru note keeps the
        /// player's; the performer's own notes have none.
        velocity: u8,
    },
}

impl NoteEvent {
    /// A key struck at `velocity`, by MIDI's rule: a note-on at velocity 0
    /// is a note-off with no release velocity. Every host's input comes in
    /// through here (the plugin's and `pianola live`'s).
    pub fn struck(offset: u32, channel: u8, key: u8, velocity: u8) -> Self {
        if velocity == 0 {
            NoteEvent::released(offset, channel, key, 0)
        } else {
            NoteEvent::On {
                offset,
                channel,
                key,
                velocity: velocity.min(127),
            }
        }
    }

    /// A key released with `velocity` (0: none given).
    pub fn released(offset: u32, channel: u8, key: u8, velocity: u8) -> Self {
        NoteEvent::Off {
            offset,
            channel,
            key,
            velocity: velocity.min(127),
        }
    }

    /// The sample offset in the block.
    pub fn offset(&self) -> u32 {
        match *self {
            NoteEvent::On { offset, .. } | NoteEvent::Off { offset, .. } => offset,
        }
    }

    /// The same event at sample `offset` of a block.
    pub fn at(self, offset: u32) -> Self {
        match self {
            NoteEvent::On {
                channel,
                key,
                velocity,
                ..
            } => NoteEvent::On {
                offset,
                channel,
                key,
                velocity,
            },
            NoteEvent::Off {
                channel,
                key,
                velocity,
                ..
            } => NoteEvent::Off {
                offset,
                channel,
                key,
                velocity,
            },
        }
    }
}

/// A host's velocity (0..=1, as CLAP and VST3 give it) as MIDI's (0..=127).
pub fn midi_velocity(unit: f32) -> u8 {
    (unit * 127.0).round().clamp(0.0, 127.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_on_at_velocity_zero_is_a_release_and_host_velocities_round() {
        assert_eq!(
            NoteEvent::struck(3, 1, 60, 0),
            NoteEvent::Off {
                offset: 3,
                channel: 1,
                key: 60,
                velocity: 0
            }
        );
        assert!(matches!(
            NoteEvent::struck(0, 0, 60, 90),
            NoteEvent::On { velocity: 90, .. }
        ));
        assert_eq!(midi_velocity(0.0), 0);
        assert_eq!(midi_velocity(0.8), 102);
        assert_eq!(midi_velocity(1.5), 127);
    }
}
