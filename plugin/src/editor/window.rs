//! The editor's window: baseview makes it and brings its events, egui lays
//! out what is in it, [`Raster`] draws the tiles that changed and
//! [`Presenter`] sends them to the screen. No OpenGL: without a GPU, a
//! software OpenGL redrawing every pixel of every frame cost a fifth of a
//! core.

use std::cell::RefCell;
use std::time::Instant;

use baseview::{
    DamageArea, Event, EventStatus, HandlerError, MouseCursor, MouseEvent, ScrollDelta,
    WindowContext, WindowEvent, WindowHandler, WindowSize,
};
use keyboard_types::{Code, KeyState};

use super::App;
use super::clipboard::Clipboard;
use super::input;
use super::present::Presenter;
use super::raster::Raster;

/// The window's state; baseview calls the handler from the window's own
/// thread, one call at a time.
pub struct EditorWindow {
    window: WindowContext,
    state: RefCell<State>,
}

struct State {
    app: App,
    egui: egui::Context,
    input: egui::RawInput,
    started: Instant,
    raster: Raster,
    presenter: Presenter,
    /// Where the pointer is, in points.
    pointer: Option<egui::Pos2>,
    modifiers: egui::Modifiers,
    cursor: MouseCursor,
    clipboard: Clipboard,
}

impl EditorWindow {
    /// The handler for a window baseview has made.
    pub fn new(window: WindowContext, app: App) -> Result<Self, HandlerError> {
        let presenter = Presenter::new(window.platform_handle())?;
        let egui = egui::Context::default();
        let waker = window.waker();
        egui.set_request_repaint_callback(move |info| waker.request_redraw_after(info.delay));
        let size = window.size();
        let background = egui.global_style().visuals.panel_fill;
        let raster = Raster::new(
            size.physical.width as usize,
            size.physical.height as usize,
            background,
        );
        Ok(Self {
            window,
            state: RefCell::new(State {
                app,
                egui,
                input: egui::RawInput::default(),
                started: Instant::now(),
                raster,
                presenter,
                pointer: None,
                modifiers: egui::Modifiers::default(),
                cursor: MouseCursor::Default,
                clipboard: Clipboard::default(),
            }),
        })
    }
}

impl WindowHandler for EditorWindow {
    fn draw(&self) -> Result<(), HandlerError> {
        let state = &mut *self.state.borrow_mut();
        let size = self.window.size();
        let pixels_per_point = size.scale_factor as f32;
        state
            .raster
            .resize(size.physical.width as usize, size.physical.height as usize);
        let points =
            egui::vec2(size.physical.width as f32, size.physical.height as f32) / pixels_per_point;
        let mut input = state.input.take();
        if let Some(at) = input::split_at_release(&input.events) {
            state.input.events = input.events.split_off(at);
            self.window.request_redraw();
        }
        input.screen_rect = Some(egui::Rect::from_min_size(egui::Pos2::ZERO, points));
        input.time = Some(state.started.elapsed().as_secs_f64());
        input
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(pixels_per_point);
        let app = &mut state.app;
        let mut output = state.egui.run_ui(input, |ui| app.ui(ui));

        for command in &output.platform_output.commands {
            if let egui::OutputCommand::CopyText(text) = command {
                state.clipboard.copy(text);
            }
        }
        let cursor = input::cursor(output.platform_output.cursor_icon);
        if cursor != state.cursor {
            state.cursor = cursor;
            self.window.set_mouse_cursor(cursor)?;
        }

        let primitives = state
            .egui
            .tessellate(output.shapes, output.pixels_per_point);
        let raster = &mut state.raster;
        raster.paint(
            &primitives,
            &mut output.textures_delta,
            output.pixels_per_point,
        );
        let (width, _) = raster.size();
        state
            .presenter
            .show(raster.pixels(), width, raster.changed())?;
        Ok(())
    }

    fn damage(&self, _area: DamageArea) {
        // Exposures are rare (a window moved off this one): draw it all.
        self.state.borrow_mut().raster.invalidate();
    }

    fn resized(&self, new_size: WindowSize) -> Result<(), HandlerError> {
        let state = &mut *self.state.borrow_mut();
        state.raster.resize(
            new_size.physical.width as usize,
            new_size.physical.height as usize,
        );
        state
            .app
            .resized(new_size.logical.width, new_size.logical.height);
        Ok(())
    }

    fn on_event(&self, event: Event) -> EventStatus {
        let state = &mut *self.state.borrow_mut();
        let scale = self.window.scale_factor() as f32;
        let mut events = Vec::new();
        let mut status = EventStatus::Captured;
        match event {
            Event::Mouse(mouse) => {
                match mouse {
                    MouseEvent::CursorMoved {
                        position,
                        modifiers,
                    } => {
                        state.modifiers = input::modifiers(&modifiers);
                        let at = egui::pos2(position.x as f32, position.y as f32) / scale;
                        state.pointer = Some(at);
                        events.push(egui::Event::PointerMoved(at));
                    }
                    MouseEvent::ButtonPressed { button, modifiers }
                    | MouseEvent::ButtonReleased { button, modifiers } => {
                        let pressed = matches!(mouse, MouseEvent::ButtonPressed { .. });
                        if pressed && !self.window.has_focus() {
                            // Text fields need the keyboard; hosts do not always
                            // give it to a plugin's window on a click.
                            let _ = self.window.focus();
                        }
                        state.modifiers = input::modifiers(&modifiers);
                        if let (Some(pos), Some(button)) = (state.pointer, input::button(button)) {
                            events.push(egui::Event::PointerButton {
                                pos,
                                button,
                                pressed,
                                modifiers: state.modifiers,
                            });
                        }
                    }
                    MouseEvent::WheelScrolled { delta, modifiers } => {
                        state.modifiers = input::modifiers(&modifiers);
                        let (unit, delta) = match delta {
                            ScrollDelta::Lines { x, y } => {
                                (egui::MouseWheelUnit::Line, egui::vec2(x, y))
                            }
                            ScrollDelta::Pixels { x, y } => {
                                (egui::MouseWheelUnit::Point, egui::vec2(x, y) / scale)
                            }
                        };
                        events.push(egui::Event::MouseWheel {
                            unit,
                            delta,
                            modifiers: state.modifiers,
                            phase: egui::TouchPhase::Move,
                            source: egui::MouseWheelSource::Unknown,
                        });
                    }
                    MouseEvent::CursorLeft => {
                        state.pointer = None;
                        events.push(egui::Event::PointerGone);
                    }
                    _ => return EventStatus::Ignored,
                }
            }
            Event::Keyboard(key) => {
                state.modifiers = input::modifiers(&key.modifiers);
                let pressed = key.state == KeyState::Down;
                if let Some(name) = input::key(&key.key) {
                    events.push(egui::Event::Key {
                        key: name,
                        physical_key: None,
                        pressed,
                        repeat: key.repeat,
                        modifiers: state.modifiers,
                    });
                }
                if pressed {
                    match (state.modifiers.command, key.code) {
                        (true, Code::KeyC) => events.push(egui::Event::Copy),
                        (true, Code::KeyX) => events.push(egui::Event::Cut),
                        (true, Code::KeyV) => {
                            events.extend(state.clipboard.paste().map(egui::Event::Paste))
                        }
                        (false, _) => {
                            if let keyboard_types::Key::Character(text) = &key.key {
                                events.push(egui::Event::Text(text.clone()));
                            }
                        }
                        _ => {}
                    }
                }
                if !state.egui.egui_wants_keyboard_input() {
                    // The host's shortcuts (space to play) keep working.
                    status = EventStatus::Ignored;
                }
            }
            Event::Window(WindowEvent::Focused) => events.push(egui::Event::WindowFocused(true)),
            Event::Window(WindowEvent::Unfocused) => events.push(egui::Event::WindowFocused(false)),
            Event::Window(_) => return EventStatus::Captured,
            _ => return EventStatus::Ignored,
        }
        state.input.events.extend(events);
        self.window.request_redraw();
        status
    }
}
