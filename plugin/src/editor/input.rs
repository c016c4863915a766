//! baseview's mouse and keyboard events as egui's, and egui's cursor as
//! baseview's.

use baseview::{MouseButton, MouseCursor};
use keyboard_types::{Key, Modifiers};

/// egui's modifiers from the keyboard's.
pub fn modifiers(held: &Modifiers) -> egui::Modifiers {
    egui::Modifiers {
        alt: held.alt(),
        ctrl: held.ctrl(),
        shift: held.shift(),
        mac_cmd: false,
        command: held.ctrl(),
    }
}

/// egui's pointer button, for the buttons it knows.
pub fn button(button: MouseButton) -> Option<egui::PointerButton> {
    match button {
        MouseButton::Left => Some(egui::PointerButton::Primary),
        MouseButton::Right => Some(egui::PointerButton::Secondary),
        MouseButton::Middle => Some(egui::PointerButton::Middle),
        MouseButton::Back => Some(egui::PointerButton::Extra1),
        MouseButton::Forward => Some(egui::PointerButton::Extra2),
        _ => None,
    }
}

/// egui's key for a key egui has a name for (arrows, editing keys, letters,
/// digits, space).
pub fn key(key: &Key) -> Option<egui::Key> {
    match key {
        // egui names its keys as keyboard-types does: "ArrowDown", "Home", …
        Key::Named(named) => egui::Key::from_name(&format!("{named:?}")),
        Key::Character(text) if text == " " => Some(egui::Key::Space),
        Key::Character(text) => egui::Key::from_name(&text.to_uppercase()),
    }
}

/// baseview's cursor for egui's (the plain arrow where baseview has none).
pub fn cursor(icon: egui::CursorIcon) -> MouseCursor {
    use egui::CursorIcon as C;
    match icon {
        C::None => MouseCursor::Hidden,
        C::PointingHand => MouseCursor::Hand,
        C::Grab => MouseCursor::Hand,
        C::Grabbing => MouseCursor::HandGrabbing,
        C::Text => MouseCursor::Text,
        C::VerticalText => MouseCursor::VerticalText,
        C::NotAllowed | C::NoDrop => MouseCursor::NotAllowed,
        C::Wait => MouseCursor::Working,
        C::Progress => MouseCursor::PtrWorking,
        C::Crosshair => MouseCursor::Crosshair,
        C::Move => MouseCursor::Move,
        C::AllScroll => MouseCursor::AllScroll,
        C::Help => MouseCursor::Help,
        C::Copy => MouseCursor::Copy,
        C::Alias => MouseCursor::Alias,
        C::Cell => MouseCursor::Cell,
        C::ZoomIn => MouseCursor::ZoomIn,
        C::ZoomOut => MouseCursor::ZoomOut,
        C::ResizeHorizontal | C::ResizeEast | C::ResizeWest => MouseCursor::EwResize,
        C::ResizeVertical | C::ResizeNorth | C::ResizeSouth => MouseCursor::NsResize,
        C::ResizeNeSw | C::ResizeNorthEast | C::ResizeSouthWest => MouseCursor::NeswResize,
        C::ResizeNwSe | C::ResizeNorthWest | C::ResizeSouthEast => MouseCursor::NwseResize,
        C::ResizeColumn => MouseCursor::ColResize,
        C::ResizeRow => MouseCursor::RowResize,
        _ => MouseCursor::Default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyboard_types::NamedKey;

    #[test]
    fn keys_keep_their_names() {
        assert_eq!(
            key(&Key::Named(NamedKey::ArrowDown)),
            Some(egui::Key::ArrowDown)
        );
        assert_eq!(
            key(&Key::Named(NamedKey::Backspace)),
            Some(egui::Key::Backspace)
        );
        assert_eq!(key(&Key::Named(NamedKey::Enter)), Some(egui::Key::Enter));
        assert_eq!(key(&Key::Character("a".into())), Some(egui::Key::A));
        assert_eq!(key(&Key::Character("7".into())), Some(egui::Key::Num7));
        assert_eq!(key(&Key::Character(" ".into())), Some(egui::Key::Space));
    }
}
