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
