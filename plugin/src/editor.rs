//! The plugin's window: the parameters, the model, what Pianola hears
//! and plans, and Capture, laid out by egui and drawn on the CPU.
//!
//! Everything it shows comes from lock-free state the audio thread writes
//! ([`Activity`]) or from the parameters; everything it changes goes
//! through the host's parameter calls ([`ParamSetter`]) or the model slot.
//!
//! [`ParamSetter`]: nice_plug::prelude::ParamSetter

mod capture_panel;
mod clipboard;
mod controls;
mod input;
pub mod model_panel;
mod present;
pub mod raster;
mod roll;
mod window;

use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use baseview::{WindowSettings, WindowWaker};
use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::{LogicalSize, NativeSize, Size};
use nice_plug::editor::{EditorHandle, HostMethods, SpawnedEditor};
use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::{Editor, ParentWindowHandle, ResizeHint};
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

    /// How the host may resize the window.
    fn resize_rule() -> ResizeHint {
        ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1))
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
    type Handle = PianolaEditorHandle;

    fn spawn(
        &self,
        parent: Option<ParentWindowHandle>,
        wait_for_parent: bool,
        fallback_scale_factor: Option<f64>,
        gui_context: GuiContext,
        host: Option<HostMethods>,
    ) -> Result<SpawnedEditor<Self::Handle>, Box<dyn Error>> {
        let settings = WindowSettings::new()
            .with_title("Pianola")
            .with_size(Size::Logical(self.logical_size().cast()))
            .with_min_size(Size::Logical(LogicalSize::new(
                f64::from(MIN_SIZE.0),
                f64::from(MIN_SIZE.1),
            )))
            .with_resizable(true)
            .with_parent(parent.as_ref())
            .with_wait_for_parent(wait_for_parent)
            .with_fallback_scale_factor(fallback_scale_factor);
        let app = App::new(self.params.clone(), self.activity.clone(), gui_context);
        let window = baseview::Window::create_with_host(
            settings,
            move |window| window::EditorWindow::new(window, app),
            host.map(host_for_baseview),
        )?;
        Ok(SpawnedEditor {
            handle: PianolaEditorHandle {
                waker: window.waker(),
            },
            window,
        })
    }

    fn size(&self) -> NativeSize<u32> {
        NativeSize::from_size(Size::Logical(self.logical_size().cast()), 1.0)
    }

    fn resize_hint(&self) -> ResizeHint {
        Self::resize_rule()
    }

    unsafe fn assume_standalone_in_process(&self) {
        // SAFETY: the caller keeps the promise baseview's function asks for,
        // which is the same as this one's.
        unsafe { baseview::assume_standalone_in_process() }
    }
}

/// The host's side of an open window: where nice-plug passes the host's
/// calls on to baseview.
pub struct PianolaEditorHandle {
    waker: WindowWaker,
}

impl EditorHandle for PianolaEditorHandle {
    type Window = baseview::Window;
    type Error = baseview::Error;

    fn run_until_closed(window: Self::Window) -> Result<(), Self::Error> {
        window.run_until_closed()
    }

    fn set_parent(
        &self,
        parent: ParentWindowHandle,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        window.set_parent(&parent)
    }

    fn show(&self, window: &Self::Window) -> Result<(), Self::Error> {
        window.show()?;
        self.waker.request_redraw();
        Ok(())
    }

    fn hide(&self, window: &Self::Window) -> Result<(), Self::Error> {
        window.hide()
    }

    fn set_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        window.resize(new_size)
    }

    fn host_main_thread_callback(&self, window: &Self::Window) {
        window.host_main_thread_callback();
    }

    fn adjust_size(
        &self,
        new_size: NativeSize<u32>,
        window: &Self::Window,
    ) -> Option<NativeSize<u32>> {
        let current = window.size();
        Some(PianolaEditor::resize_rule().adjust_size(
            new_size,
            NativeSize::from_logical_or_physical(current.logical, current.physical),
            current.scale_factor,
        ))
    }

    fn set_fallback_scale_factor(
        &self,
        scale_factor: f64,
        window: &Self::Window,
    ) -> Result<(), Self::Error> {
        window.suggest_fallback_scale_factor(scale_factor)
    }

    fn state_changed(&self) {
        self.waker.request_redraw();
    }

    fn param_value_changed(&self, _id: &str, _normalized_value: f32) {
        self.waker.request_redraw();
    }

    fn param_modulation_changed(&self, _id: &str, _modulation_offset: f32) {
        self.waker.request_redraw();
    }
}

/// nice-plug's host callbacks as baseview's (nice-plug keeps its own copy
/// of the traits so as not to depend on baseview).
fn host_for_baseview(host: HostMethods) -> baseview::host::Host {
    struct Callbacks(Box<dyn nice_plug::editor::HostCallbacks>);
    impl baseview::host::HostCallbacks for Callbacks {
        fn request_resize(
            &mut self,
            new_size: baseview::WindowSize,
        ) -> Result<(), baseview::HandlerError> {
            self.0
                .request_resize(new_size.physical.into(), new_size.scale_factor)
                .map_err(baseview::HandlerError::from_boxed)
        }

        fn destroyed(&mut self) {
            self.0.destroyed();
        }
    }
    struct MainThread(Box<dyn nice_plug::editor::HostMainThreadCaller>);
    impl baseview::host::HostMainThreadCaller for MainThread {
        fn call_main_thread(&mut self) {
            self.0.call_main_thread();
        }
    }
    baseview::host::Host::new()
        .with_callbacks(Callbacks(host.callbacks))
        .with_main_thread(MainThread(host.main_thread_caller))
}

/// The window's contents.
struct App {
    params: Arc<PianolaParams>,
    activity: Activity,
    gui: GuiContext,
    model: model_panel::ModelPanel,
    capture: capture_panel::CapturePanel,
    /// The beat the last frame showed.
    shown_beat: f64,
}

impl App {
    fn new(params: Arc<PianolaParams>, activity: Activity, gui: GuiContext) -> Self {
        Self {
            params,
            activity,
            gui,
            model: model_panel::ModelPanel::default(),
            capture: capture_panel::CapturePanel::default(),
            shown_beat: f64::NAN,
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui) {
        // Redraw at the frame rate while the beat moves (the playhead moves),
        // rarely while it stands (only the model's status may change).
        let beat = self.activity.position().beat;
        let moving = beat != self.shown_beat;
        self.shown_beat = beat;
        ui.ctx()
            .request_repaint_after(if moving { FRAME } else { IDLE_FRAME });
        let setter = self.gui.param_setter();
        // The panels leave their background to the frame's, which the
        // raster fills tiles with before drawing: one fill less per pixel.
        let unfilled = |frame: egui::Frame| frame.fill(egui::Color32::TRANSPARENT);
        egui::Panel::top("model")
            .frame(unfilled(egui::Frame::side_top_panel(ui.style())))
            .show(ui, |ui| {
                self.model.show(
                    ui,
                    &self.params.model,
                    &self.params.session.0,
                    self.activity.lost_messages(),
                );
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

    /// The window's new size, kept in the plugin's state.
    fn resized(&mut self, width: f64, height: f64) {
        self.params.editor.update(|s| {
            s.width = width.round() as u32;
            s.height = height.round() as u32;
        });
    }
}
