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

/// Where to hold back a batch of `events` for the next frame: at a button's
/// release whose press is in the same batch. egui's sliders take no click
/// whose press and release come in one frame (a click the window saw
/// within one frame time, on a busy machine, did nothing), so a frame
/// never gets both.
pub fn split_at_release(events: &[egui::Event]) -> Option<usize> {
    let mut pressed = Vec::new();
    for (at, event) in events.iter().enumerate() {
        if let egui::Event::PointerButton {
            button,
            pressed: down,
            ..
        } = event
        {
            if *down {
                pressed.push(*button);
            } else if pressed.contains(button) {
                return Some(at);
            }
        }
    }
    None
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

    fn button(pressed: bool) -> egui::Event {
        egui::Event::PointerButton {
            pos: egui::pos2(20.0, 18.0),
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::default(),
        }
    }

    /// Runs one egui frame of a slider over 0..=1 starting at `value`.
    fn slider_frame(ctx: &egui::Context, events: Vec<egui::Event>, time: f64, value: &mut f64) {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(400.0, 300.0),
            )),
            time: Some(time),
            events,
            ..Default::default()
        };
        let mut output = ctx.run_ui(input, |ui| {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.add(egui::Slider::new(value, 0.0..=1.0));
            });
        });
        output.textures_delta.clear();
    }

    #[test]
    fn a_click_within_one_frame_reaches_the_slider_in_two() {
        let moved = egui::Event::PointerMoved(egui::pos2(20.0, 18.0));
        let click = vec![moved, button(true), button(false)];
        // egui itself: the whole click in one frame leaves the slider as
        // it was (what made the window test fail now and then).
        let ctx = egui::Context::default();
        let mut value = 0.9;
        slider_frame(&ctx, Vec::new(), 0.0, &mut value);
        slider_frame(&ctx, click.clone(), 0.1, &mut value);
        assert_eq!(value, 0.9);
        // Split where the window splits it, the click sets a low value.
        let split = split_at_release(&click).expect("a release after its press");
        assert_eq!(split, 2);
        let ctx = egui::Context::default();
        let mut value = 0.9;
        let (first, second) = click.split_at(split);
        slider_frame(&ctx, Vec::new(), 0.0, &mut value);
        slider_frame(&ctx, first.to_vec(), 0.1, &mut value);
        slider_frame(&ctx, second.to_vec(), 0.15, &mut value);
        assert!(value < 0.2, "the slider took {value}");
        assert_eq!(split_at_release(&[button(false), button(true)]), None);
    }

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
