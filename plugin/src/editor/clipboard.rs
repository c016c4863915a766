//! The system clipboard for the editor's text fields (baseview has none):
//! copy and cut put text on it, paste reads it back.

/// The clipboard, opened on first use (on X11 its connection keeps a
/// thread that answers other programs while this window holds copied
/// text).
#[derive(Default)]
pub struct Clipboard {
    connection: Option<arboard::Clipboard>,
}

impl Clipboard {
    fn connection(&mut self) -> Option<&mut arboard::Clipboard> {
        if self.connection.is_none() {
            self.connection = arboard::Clipboard::new().ok();
        }
        self.connection.as_mut()
    }

    /// Puts `text` on the clipboard (nothing happens without one).
    pub fn copy(&mut self, text: &str) {
        if let Some(clipboard) = self.connection() {
            let _ = clipboard.set_text(text);
        }
    }

    /// The clipboard's text, if there is any.
    pub fn paste(&mut self) -> Option<String> {
        let text = self.connection()?.get_text().ok()?;
        (!text.is_empty()).then_some(text)
    }
}
