//! The Model section: what plays, Load… (a file dialog drawn in egui) and
//! Built-in, and what the last load did.

use std::path::{Path, PathBuf};

use egui_file::FileDialog;

use pianola_core::perform::SessionShare;

use crate::model_slot::ModelSlot;

/// The section's own state: the open file dialog, if any.
#[derive(Default)]
pub struct ModelPanel {
    dialog: Option<FileDialog>,
}

fn is_weights_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "safetensors")
}

impl ModelPanel {
    /// Draws the section.
    /// `lost_messages`: what the audio thread could not tell the model
    /// (its queue was full), shown when there was any. `session`: the
    /// session memory, its size shown and Forget at hand.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        slot: &ModelSlot,
        session: &SessionShare,
        lost_messages: u64,
    ) {
        let playing = slot.playing();
        let choice = slot.choice();
        ui.horizontal(|ui| {
            ui.heading("Pianola");
            ui.separator();
            ui.strong(&playing.name);
            if ui.button("Load…").clicked() {
                let start = choice
                    .path
                    .as_deref()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf)
                    .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
                    .unwrap_or_default();
                let mut dialog = FileDialog::open_file()
                    .initial_path(start)
                    .title("Load a Pianola model")
                    .show_files_filter(Box::new(is_weights_file));
                dialog.open();
                self.dialog = Some(dialog);
            }
            if ui.button("Built-in").clicked() {
                slot.choose(None);
            }
            ui.separator();
            ui.label(format!("Memory: {} events", session.len()))
                .on_hover_text(
                    "What was played in this session, the player's and Pianola's: phrases \
                     heard here come back (the Memory parameter sets how much). Saved with \
                     the project.",
                );
            if ui
                .add_enabled(!session.is_empty(), egui::Button::new("Forget"))
                .clicked()
            {
                session.forget();
            }
            if lost_messages > 0 {
                let short = format!("{lost_messages} messages lost");
                ui.label(egui::RichText::new(short).color(ui.visuals().warn_fg_color))
                    .on_hover_text(lost_text(lost_messages));
            }
        });
        // One line each, whatever they say: the controls below stay where
        // the player's mouse expects them.
        ui.add(egui::Label::new(&playing.summary).truncate());
        let failed = choice.status.starts_with("could not");
        let status = egui::RichText::new(&choice.status);
        let status = if failed {
            status.color(ui.visuals().warn_fg_color)
        } else {
            status
        };
        ui.add(egui::Label::new(status).truncate());

        if let Some(dialog) = &mut self.dialog {
            if dialog.show(ui.ctx()).selected()
                && let Some(path) = dialog.path()
            {
                slot.choose(Some(path.to_path_buf()));
            }
            if !dialog.visible() {
                self.dialog = None;
            }
        }
    }
}

/// What the window and the log say of messages lost to the model's queue.
pub fn lost_text(lost: u64) -> String {
    format!(
        "{lost} of the performer's messages to the model were lost (the machine was too busy \
         for it); it plays on in step"
    )
}
