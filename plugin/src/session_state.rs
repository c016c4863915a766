//! The session memory in the plugin's saved state, so a reopened project
//! remembers what was played in it.

use nice_plug::params::persist::PersistentField;
use pianola_core::perform::{SavedSession, SessionShare};

/// The performer's session memory as a persisted field: saving reads what
/// the worker last published, loading hands the events to the worker.
#[derive(Clone, Default)]
pub struct SessionState(pub SessionShare);

impl<'a> PersistentField<'a, SavedSession> for SessionState {
    fn set(&self, new_value: SavedSession) {
        self.0.restore(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&SavedSession) -> R,
    {
        self.0.with_saved(f)
    }
}
