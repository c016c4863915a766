//! A small piano roll: the last bars of the player's notes and Pianola's,
//! the beat grid, the playhead, and the prepared events ahead of it (the
//! committed one filled).

use egui::{self, Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, StrokeKind};

use pianola_core::event::GRID_PER_BEAT;
use pianola_core::perform::Feel;

use crate::activity::{Activity, NoteRecord, Source};
use crate::params::PianolaParams;

/// Bars shown before the playhead, at least.
const BARS_BEHIND: f64 = 2.0;
/// Beats shown after it, at least.
const BEATS_AHEAD: f64 = 3.0;
/// The fewest keys shown.
const MIN_KEYS: u8 = 24;

const PLAYER: Color32 = Color32::from_rgb(80, 160, 255);
const PIANOLA: Color32 = Color32::from_rgb(255, 150, 60);
const PREPARED: Color32 = Color32::from_rgb(255, 215, 160);
const COMMITTED: Color32 = Color32::from_rgb(150, 110, 60);

/// A note as a span of beats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// Who played it.
    pub source: Source,
    /// MIDI key.
    pub key: u8,
    /// Where it starts.
    pub start: f64,
    /// Where it ends (`now` while it still sounds).
    pub end: f64,
}

/// Pairs note-ons with their note-offs; notes still sounding end at `now`.
pub fn spans(notes: &[NoteRecord], now: f64) -> Vec<Span> {
    let mut open: Vec<(Source, u8, u8, f64)> = Vec::new();
    let mut spans = Vec::new();
    for note in notes {
        let found = open
            .iter()
            .position(|&(s, c, k, _)| s == note.source && c == note.channel && k == note.key);
        if let Some(i) = found {
            let (source, _, key, start) = open.swap_remove(i);
            spans.push(Span {
                source,
                key,
                start,
                end: note.beat,
            });
        }
        if note.velocity > 0 {
            open.push((note.source, note.channel, note.key, note.beat));
        }
    }
    spans.extend(open.into_iter().map(|(source, _, key, start)| Span {
        source,
        key,
        start,
        end: now,
    }));
    spans
}

/// The most likely next tokens as bars, their probability in width.
fn next_token_bars(ui: &mut egui::Ui, activity: &Activity) {
    let next = activity.next_tokens();
    if next.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("next:");
        for (token, probability) in next {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(50.0, 14.0), Sense::hover());
            let painter = ui.painter();
            painter.rect_filled(rect, 2.0, Color32::from_gray(40));
            let filled = Rect::from_min_size(
                rect.min,
                egui::vec2(rect.width() * probability.clamp(0.0, 1.0), rect.height()),
            );
            painter.rect_filled(filled, 2.0, PREPARED.gamma_multiply(0.6));
            painter.text(
                rect.left_center() + egui::vec2(3.0, 0.0),
                Align2::LEFT_CENTER,
                format!("{token} {:.0}%", probability * 100.0),
                FontId::proportional(10.0),
                Color32::from_gray(230),
            );
        }
    });
}

/// A planned note ahead of the playhead.
struct PlannedNote {
    key: u8,
    start: f64,
    end: f64,
    committed: bool,
}

/// The prepared events before beat `to` as notes: voiced and held as the
/// performer will play them (*Model* feel: the predicted register and hold;
/// *Grid*: the chord octave, the gate of a division step).
fn planned_notes(activity: &Activity, params: &PianolaParams, to: f64) -> Vec<PlannedNote> {
    let feel = params.feel.value().0;
    let chord_octave = params.chord_octave.value() as i8;
    let step = params.division.value().0.beats() * f64::from(params.gate.value());
    let mut notes = Vec::new();
    for prepared in activity.prepared().into_iter().filter(|p| p.beat < to) {
        let (keys, length) = match feel {
            Feel::Model => (
                prepared.event.pitches(),
                f64::from(prepared.event.hold.max(1)) / f64::from(GRID_PER_BEAT),
            ),
            Feel::Grid => (prepared.event.what.pitches(chord_octave), step),
        };
        notes.extend(keys.iter().map(|key| PlannedNote {
            key,
            start: prepared.beat,
            end: prepared.beat + length,
            committed: prepared.committed,
        }));
    }
    notes
}

/// The beats the roll shows around `now`: it turns a page a bar at a time
/// and the playhead moves across it, so a frame redraws only what changed
/// near the playhead, not the whole roll.
fn page(now: f64, bar: f64) -> (f64, f64) {
    let from = ((now / bar).floor() - BARS_BEHIND) * bar;
    (from, from + (BARS_BEHIND + 1.0) * bar + BEATS_AHEAD)
}

/// Draws the roll across the available width.
pub fn show(ui: &mut egui::Ui, activity: &Activity, params: &PianolaParams) {
    let position = activity.position();
    let now = position.beat;
    let bar = position.meter.quarters_per_bar();
    let (from, to) = page(now, bar);
    let notes = activity.notes_since(from - 4.0 * bar);
    let past = spans(&notes, now);
    let ahead = planned_notes(activity, params, to);
    // The key range: every note shown, at least two octaves around C4.
    let keys = past
        .iter()
        .filter(|s| s.end >= from)
        .map(|s| s.key)
        .chain(ahead.iter().map(|n| n.key));
    let (mut low, mut high) = keys.fold((u8::MAX, 0u8), |(lo, hi), k| (lo.min(k), hi.max(k)));
    if low > high {
        (low, high) = (60 - MIN_KEYS / 2, 60 + MIN_KEYS / 2);
    }
    while high - low < MIN_KEYS {
        low = low.saturating_sub(1);
        high = high.saturating_add(1).min(127);
    }

    let height = (ui.available_height() - 130.0).max(120.0);
    let (response, painter) =
        ui.allocate_painter(egui::vec2(ui.available_width(), height), Sense::hover());
    let rect = response.rect;
    painter.rect_filled(rect, 2.0, Color32::from_gray(24));
    let x = |beat: f64| rect.left() + ((beat - from) / (to - from)) as f32 * rect.width();
    let row = rect.height() / f32::from(high - low + 1);
    let y = |key: u8| rect.bottom() - f32::from(key - low + 1) * row;

    // The beat grid, bar lines brighter, bar numbers on top.
    let mut beat = from.ceil();
    while beat <= to {
        let on_bar = (beat / bar).fract().abs() < 1e-9;
        let gray = if on_bar { 80 } else { 45 };
        painter.line_segment(
            [
                Pos2::new(x(beat), rect.top()),
                Pos2::new(x(beat), rect.bottom()),
            ],
            Stroke::new(1.0, Color32::from_gray(gray)),
        );
        if on_bar && beat >= 0.0 {
            painter.text(
                Pos2::new(x(beat) + 3.0, rect.top() + 2.0),
                Align2::LEFT_TOP,
                format!("{}", (beat / bar).round() as i64 + 1),
                FontId::proportional(11.0),
                Color32::from_gray(140),
            );
        }
        beat += 1.0;
    }

    let clip = |a: f64, b: f64| (a.max(from), b.min(to));
    for span in past.iter().filter(|s| s.end >= from && s.start <= to) {
        let (a, b) = clip(span.start, span.end);
        let color = match span.source {
            Source::Player => PLAYER,
            Source::Pianola => PIANOLA,
        };
        let note = Rect::from_min_max(
            Pos2::new(x(a), y(span.key)),
            Pos2::new(x(b).max(x(a) + 2.0), y(span.key) + row - 1.0),
        );
        painter.rect_filled(note, 1.0, color);
    }
    for planned in &ahead {
        let (a, b) = clip(planned.start, planned.end);
        let note = Rect::from_min_max(
            Pos2::new(x(a), y(planned.key)),
            Pos2::new(x(b).max(x(a) + 3.0), y(planned.key) + (row - 1.0).max(1.0)),
        );
        if planned.committed {
            painter.rect_filled(note, 1.0, COMMITTED);
        }
        painter.rect_stroke(note, 1.0, Stroke::new(1.5, PREPARED), StrokeKind::Inside);
    }

    painter.line_segment(
        [
            Pos2::new(x(now), rect.top()),
            Pos2::new(x(now), rect.bottom()),
        ],
        Stroke::new(2.0, Color32::WHITE),
    );

    next_token_bars(ui, activity);

    ui.horizontal(|ui| {
        ui.colored_label(PLAYER, "you");
        ui.colored_label(PIANOLA, "Pianola");
        ui.colored_label(PREPARED, "planned");
        ui.colored_label(COMMITTED, "committed");
        ui.label(format!(
            "{:.1} BPM · {}/{} · {}",
            position.bpm,
            position.meter.numerator,
            position.meter.denominator,
            if position.playing {
                "playing"
            } else {
                "stopped"
            }
        ));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_two_bars_behind_and_three_beats_ahead_and_turns_each_bar() {
        for tenth in 0..400 {
            let now = f64::from(tenth) / 10.0;
            let (from, to) = page(now, 4.0);
            assert!(now - from >= 8.0 && to - now >= 3.0, "{now}: {from}..{to}");
            assert_eq!(from % 4.0, 0.0, "pages start on a bar line");
            let bar_start = now - now % 4.0;
            assert_eq!(page(bar_start, 4.0), (from, to), "one page a bar");
        }
    }
}
