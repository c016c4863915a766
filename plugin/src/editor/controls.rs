//! Every parameter as a control, set through the host (automation and
//! undo stay the host's).

use nice_plug::prelude::{Param, ParamFlags, ParamPtr, ParamSetter, Params};

use crate::params::PianolaParams;

/// Number parameters with at most this many steps are a choice list.
const MAX_LISTED_STEPS: usize = 16;

/// The parameters, one row each, in their declared order (the host's
/// bypass is the host's to show).
pub fn show(ui: &mut egui::Ui, params: &PianolaParams, setter: &ParamSetter) {
    ui.heading("Parameters");
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Grid::new("parameters")
            .num_columns(2)
            .striped(true)
            .show(ui, |ui| {
                for (_, ptr, _) in params.param_map() {
                    // SAFETY: the pointers come from `params`, which outlives them.
                    let flags = unsafe { ptr.flags() };
                    if flags.intersects(ParamFlags::BYPASS | ParamFlags::HIDE_IN_GENERIC_UI) {
                        continue;
                    }
                    // SAFETY: as above.
                    unsafe {
                        ui.label(ptr.name());
                        match ptr {
                            ParamPtr::FloatParam(p) => control(ui, &*p, setter),
                            ParamPtr::IntParam(p) => control(ui, &*p, setter),
                            ParamPtr::BoolParam(p) => control(ui, &*p, setter),
                            // A choice is always a list, however long.
                            ParamPtr::EnumParam(p) => {
                                let steps = (*p).step_count().unwrap_or(1);
                                choice(ui, &*p, setter, steps)
                            }
                        }
                    }
                    ui.end_row();
                }
            });
    });
}

/// A list of every value for a parameter with few steps, a slider for the
/// others.
fn control<P: Param>(ui: &mut egui::Ui, param: &P, setter: &ParamSetter) {
    match param.step_count() {
        Some(steps) if steps <= MAX_LISTED_STEPS => choice(ui, param, setter, steps),
        _ => slider(ui, param, setter),
    }
}

/// A slider over the parameter's range that shows and takes its value as
/// the parameter writes it. A drag is one gesture for the host, from the
/// press to the release; a click, a typed value or a double click (the
/// default) is a gesture of its own.
fn slider<P: Param>(ui: &mut egui::Ui, param: &P, setter: &ParamSetter) {
    let mut normalized = f64::from(param.unmodulated_normalized_value());
    ui.spacing_mut().slider_width = 120.0;
    let response = ui.add(
        egui::Slider::new(&mut normalized, 0.0..=1.0)
            .custom_formatter(|value, _| param.normalized_value_to_string(value as f32, true))
            .custom_parser(|text| param.string_to_normalized_value(text).map(f64::from)),
    );
    // Whether this slider's gesture is open, from frame to frame.
    let gesture = response.id.with("gesture");
    let mut open = ui.data(|d| d.get_temp::<bool>(gesture)).unwrap_or(false);
    if response.drag_started() && !open {
        setter.begin_set_parameter(param);
        open = true;
    }
    let new_value = if response.double_clicked() {
        Some(param.preview_normalized(param.default_plain_value()))
    } else {
        response.changed().then_some(normalized as f32)
    };
    match new_value {
        Some(value) if open => setter.set_parameter_normalized(param, value),
        Some(value) => set_in_one_gesture(setter, param, value),
        None => {}
    }
    if open && !response.dragged() {
        setter.end_set_parameter(param);
        open = false;
    }
    ui.data_mut(|d| d.insert_temp(gesture, open));
}

fn choice<P: Param>(ui: &mut egui::Ui, param: &P, setter: &ParamSetter, steps: usize) {
    let current = param.unmodulated_normalized_value();
    egui::ComboBox::from_id_salt(param.name())
        .selected_text(param.to_string())
        .width(140.0)
        .show_ui(ui, |ui| {
            for step in 0..=steps {
                let normalized = step as f32 / steps as f32;
                let text = param.normalized_value_to_string(normalized, true);
                let selected = (current - normalized).abs() < 0.5 / steps as f32;
                if ui.selectable_label(selected, text).clicked() && !selected {
                    set_in_one_gesture(setter, param, normalized);
                }
            }
        });
}

/// Sets a parameter as a gesture of its own (begin, set, end), as the host
/// records one change for automation and undo.
fn set_in_one_gesture<P: Param>(setter: &ParamSetter, param: &P, normalized: f32) {
    setter.begin_set_parameter(param);
    setter.set_parameter_normalized(param, normalized);
    setter.end_set_parameter(param);
}
