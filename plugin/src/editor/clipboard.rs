//! The X11 clipboard for the editor's text fields (baseview has none on
//! X11): copy and cut put text on it, paste reads it back.

use std::time::Duration;

/// How long a paste waits for the program that owns the clipboard.
const PASTE_WAIT: Duration = Duration::from_millis(200);

/// The clipboard, connected on first use (its connection keeps a thread
/// that answers other programs while this window holds copied text).
#[derive(Default)]
pub struct Clipboard {
    connection: Option<x11_clipboard::Clipboard>,
}

impl Clipboard {
    fn connection(&mut self) -> Option<&x11_clipboard::Clipboard> {
        if self.connection.is_none() {
            self.connection = x11_clipboard::Clipboard::new().ok();
        }
        self.connection.as_ref()
    }

    /// Puts `text` on the clipboard (nothing happens without an X server).
    pub fn copy(&mut self, text: &str) {
        if let Some(clipboard) = self.connection() {
            let atoms = &clipboard.setter.atoms;
            let _ = clipboard.store(atoms.clipboard, atoms.utf8_string, text);
        }
    }

    /// The clipboard's text, if there is any.
    pub fn paste(&mut self) -> Option<String> {
        let clipboard = self.connection()?;
        let atoms = &clipboard.getter.atoms;
        let bytes = clipboard
            .load(
                atoms.clipboard,
                atoms.utf8_string,
                atoms.property,
                PASTE_WAIT,
            )
            .ok()?;
        String::from_utf8(bytes)
            .ok()
            .filter(|text| !text.is_empty())
    }
}
