//! The Capture section: how many bars, which folder, the button, and what
//! the last capture did.

use std::path::PathBuf;
use std::time::SystemTime;

use egui_file::FileDialog;

use super::EditorState;
use crate::activity::Activity;
use crate::capture::{self, CaptureError};

/// The section's own state.
#[derive(Default)]
pub struct CapturePanel {
    dialog: Option<FileDialog>,
    /// The last capture: its file, or why it failed.
    last: Option<Result<PathBuf, String>>,
}

/// Captures the last bars into the chosen folder (what the button does).
pub fn capture_now(activity: &Activity, state: &EditorState) -> Result<PathBuf, CaptureError> {
    let settings = state.get();
    let folder = settings
        .capture_folder
        .unwrap_or_else(capture::default_folder);
    let position = activity.position();
    let start = capture::start_beat(&position, settings.capture_bars);
    let notes = activity.notes_since(start - capture::START_SLACK_BEATS);
    capture::write(
        &notes,
        &position,
        settings.capture_bars,
        &folder,
        SystemTime::now(),
    )
}

impl CapturePanel {
    /// Draws the section.
    pub fn show(&mut self, ui: &mut egui::Ui, activity: &Activity, state: &EditorState) {
        let settings = state.get();
        let folder = settings
            .capture_folder
            .clone()
            .unwrap_or_else(capture::default_folder);
        ui.heading("Capture");
        ui.horizontal(|ui| {
            let mut bars = settings.capture_bars;
            ui.label("last");
            if ui
                .add(egui::DragValue::new(&mut bars).range(1..=64))
                .changed()
            {
                state.update(|s| s.capture_bars = bars);
            }
            ui.label("bars to");
            ui.monospace(folder.display().to_string());
            if ui.button("Folder…").clicked() {
                self.choose_folder(folder.clone());
            }
        });
        ui.horizontal(|ui| {
            if ui.button("Capture").clicked() {
                self.last = Some(capture_now(activity, state).map_err(|e| e.to_string()));
            }
            match &self.last {
                Some(Ok(path)) => {
                    ui.label(format!("wrote {}", path.display()));
                    if ui.button("Show").clicked()
                        && let Err(e) = capture::show(path.parent().unwrap_or(&folder))
                    {
                        self.last = Some(Err(format!("could not open the folder: {e}")));
                    }
                }
                Some(Err(message)) => {
                    ui.colored_label(ui.visuals().warn_fg_color, message);
                    if ui.button("Choose another folder…").clicked() {
                        self.choose_folder(folder.clone());
                    }
                }
                None => {}
            }
        });

        if let Some(dialog) = &mut self.dialog {
            if dialog.show(ui.ctx()).selected()
                && let Some(path) = dialog.path()
            {
                let chosen = path.to_path_buf();
                state.update(|s| s.capture_folder = Some(chosen));
                self.last = None;
            }
            if !dialog.visible() {
                self.dialog = None;
            }
        }
    }

    fn choose_folder(&mut self, start: PathBuf) {
        let start = if start.is_dir() {
            start
        } else {
            start.parent().map(PathBuf::from).unwrap_or_default()
        };
        let mut dialog = FileDialog::select_folder()
            .initial_path(start)
            .title("Capture into");
        dialog.open();
        self.dialog = Some(dialog);
    }
}
