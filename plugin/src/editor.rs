//! The plugin's window (nice-plug-egui): the parameters, the model, what
//! Pianola hears and plans, and Capture.
//!
//! Everything it shows comes from lock-free state the audio thread writes
//! ([`Activity`]) or from the parameters; everything it changes goes
//! through the host's parameter calls ([`ParamSetter`]) or the model slot.

mod capture_panel;
mod controls;
mod model_panel;
mod roll;

use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize, Size};
use nice_plug::editor::{HostMethods, SpawnedEditor};
use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::{Editor, ParentWindowHandle, ResizeHint};
use nice_plug_egui::{
    EguiEditorHandle, EguiEditorState, EguiNiceSettings, NiceEguiApp, RepaintNotifier,
    create_egui_editor,
};
use serde::{Deserialize, Serialize};

use crate::activity::Activity;
use crate::capture::DEFAULT_BARS;
use crate::params::PianolaParams;

/// The window's first size, in logical pixels.
pub const DEFAULT_SIZE: (u32, u32) = (900, 600);
/// The smallest the window gets.
const MIN_SIZE: (f32, f32) = (640.0, 440.0);
/// How often the window redraws while the beat moves.
const FRAME: Duration = Duration::from_millis(33);
/// How often it looks for changes while the beat stands still.
const IDLE_FRAME: Duration = Duration::from_millis(250);

/// The editor's own settings, kept in the plugin's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorSettings {
    /// The window's width in logical pixels.
    pub width: u32,
    /// The window's height in logical pixels.
    pub height: u32,
    /// Bars a capture holds.
    pub capture_bars: u32,
    /// Where captures go (`None`: the user's music folder, `Pianola/`).
    pub capture_folder: Option<PathBuf>,
}

impl Default for EditorSettings {
    fn default() -> Self {
        Self {
            width: DEFAULT_SIZE.0,
            height: DEFAULT_SIZE.1,
            capture_bars: DEFAULT_BARS,
            capture_folder: None,
        }
    }
}

/// The shared, persisted [`EditorSettings`]; clones are handles to the
/// same settings.
#[derive(Clone, Default)]
pub struct EditorState {
    settings: Arc<Mutex<EditorSettings>>,
}

impl EditorState {
    /// The current settings.
    pub fn get(&self) -> EditorSettings {
        self.lock().clone()
    }

    /// Changes the settings.
    pub fn update(&self, change: impl FnOnce(&mut EditorSettings)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, EditorSettings> {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<'a> PersistentField<'a, EditorSettings> for EditorState {
    fn set(&self, new_value: EditorSettings) {
        *self.lock() = new_value;
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&EditorSettings) -> R,
    {
        f(&self.lock())
    }
}

/// The editor the host opens; each opening builds a fresh egui window at
/// the saved size.
pub struct PianolaEditor {
    params: Arc<PianolaParams>,
    activity: Activity,
}

impl PianolaEditor {
    /// An editor for the plugin's parameters and activity.
    pub fn new(params: Arc<PianolaParams>, activity: Activity) -> Self {
        Self { params, activity }
    }

    fn logical_size(&self) -> LogicalSize<f32> {
        let settings = self.params.editor.get();
        LogicalSize::new(
            (settings.width as f32).max(MIN_SIZE.0),
            (settings.height as f32).max(MIN_SIZE.1),
        )
    }
}

impl Editor for PianolaEditor {
    type Handle = EguiEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let state = EguiEditorState::from_size(Size::Logical(self.logical_size().cast()), 1.0);
        let settings = EguiNiceSettings::new()
            .with_tile("Pianola")
            .with_resize_hint(self.resize_hint());
        let app = App::new(self.params.clone(), self.activity.clone());
        let editor = create_egui_editor(state, RepaintNotifier::new(), settings, app)
            .ok_or("the egui editor could not be made")?;
        editor.spawn(
            parent,
            wait_for_parent,
            fallback_scale_factor,
            gui_context,
            host,
        )
    }

    fn size(&self) -> NativeSize<u32> {
        NativeSize::from_size(Size::Logical(self.logical_size().cast()), 1.0)
    }

    fn resize_hint(&self) -> ResizeHint {
        ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1))
    }
}

/// The window's contents.
struct App {
    params: Arc<PianolaParams>,
    activity: Activity,
    gui: Option<GuiContext>,
    model: model_panel::ModelPanel,
    capture: capture_panel::CapturePanel,
    /// The beat the last frame showed.
    shown_beat: f64,
}

impl App {
    fn new(params: Arc<PianolaParams>, activity: Activity) -> Self {
        Self {
            params,
            activity,
            gui: None,
            model: model_panel::ModelPanel::default(),
            capture: capture_panel::CapturePanel::default(),
            shown_beat: f64::NAN,
        }
    }
}

impl NiceEguiApp for App {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        // The panels leave their background to the clear colour: without a
        // GPU, OpenGL fills every pixel it is asked to, so one fill of the
        // window less is a third of a frame's work.
        // The colour goes to glClear as it is (no sRGB conversion).
        let [r, g, b, _] = egui_ctx.global_style().visuals.panel_fill.to_array();
        let channel = |c: u8| f32::from(c) / 255.0;
        frame.set_clear_color(egui::Rgba::from_rgba_premultiplied(
            channel(r),
            channel(g),
            channel(b),
            1.0,
        ));
        self.gui = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        // Redraw at the frame rate while the beat moves (the roll scrolls),
        // rarely while it stands (only the model's status may change).
        let beat = self.activity.position().beat;
        let moving = beat != self.shown_beat;
        self.shown_beat = beat;
        ui.ctx()
            .request_repaint_after(if moving { FRAME } else { IDLE_FRAME });
        let Some(gui) = &self.gui else {
            return;
        };
        let setter = gui.param_setter();
        let unfilled = |frame: egui::Frame| frame.fill(egui::Color32::TRANSPARENT);
        egui::Panel::top("model")
            .frame(unfilled(egui::Frame::side_top_panel(ui.style())))
            .show(ui, |ui| {
                self.model.show(ui, &self.params.model);
            });
        egui::Panel::left("parameters")
            .frame(unfilled(egui::Frame::side_top_panel(ui.style())))
            .resizable(false)
            .exact_size(380.0)
            .show(ui, |ui| {
                controls::show(ui, &self.params, &setter);
            });
        egui::CentralPanel::default()
            .frame(unfilled(egui::Frame::central_panel(ui.style())))
            .show(ui, |ui| {
                ui.heading("What it hears and plans");
                roll::show(ui, &self.activity, &self.params);
                ui.separator();
                self.capture.show(ui, &self.activity, &self.params.editor);
            });
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        let logical = new_size.logical;
        self.params.editor.update(|s| {
            s.width = logical.width.round() as u32;
            s.height = logical.height.round() as u32;
        });
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}
