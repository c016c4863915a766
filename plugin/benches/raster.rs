//! The editor's CPU drawing: a 900 × 600 frame laid out like the editor
//! (a column of labelled sliders, a roll of notes with a playhead), drawn
//! whole (the first frame, a resize, an exposure) and drawn again when
//! only the playhead moved (what most frames are while notes play).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use egui::epaint::ClippedPrimitive;
use egui::{Color32, Pos2, Rect, Stroke, TexturesDelta};
use pianola_plugin::editor::raster::Raster;

const SIZE: (usize, usize) = (900, 600);

/// One frame of the editor-like layout with the playhead at `playhead`
/// (0..1 across the roll): its triangles and texture changes.
fn frame(context: &egui::Context, playhead: f32) -> (Vec<ClippedPrimitive>, TexturesDelta) {
    let input = egui::RawInput {
        screen_rect: Some(Rect::from_min_size(
            Pos2::ZERO,
            egui::vec2(SIZE.0 as f32, SIZE.1 as f32),
        )),
        ..Default::default()
    };
    let output = context.run_ui(input, |ui| {
        egui::Panel::left("controls")
            .exact_size(380.0)
            .show(ui, |ui| {
                for row in 0..16 {
                    ui.horizontal(|ui| {
                        ui.label(format!("Parameter {row}"));
                        let mut value = row as f32 / 16.0;
                        ui.add(egui::Slider::new(&mut value, 0.0..=1.0));
                    });
                }
            });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("What it hears and plans");
            let (response, painter) = ui.allocate_painter(
                egui::vec2(ui.available_width(), 360.0),
                egui::Sense::hover(),
            );
            let roll = response.rect;
            painter.rect_filled(roll, 2.0, Color32::from_gray(24));
            for beat in 0..15 {
                let x = roll.left() + roll.width() * beat as f32 / 15.0;
                painter.vline(x, roll.y_range(), Stroke::new(1.0, Color32::from_gray(45)));
            }
            for note in 0..40 {
                let x = roll.left() + roll.width() * (note as f32 * 0.37 % 1.0);
                let y = roll.top() + roll.height() * (note as f32 * 0.61 % 1.0);
                let rect = Rect::from_min_size(Pos2::new(x, y), egui::vec2(20.0, 8.0));
                painter.rect_filled(rect, 1.0, Color32::from_rgb(80, 160, 255));
            }
            let x = roll.left() + roll.width() * playhead;
            painter.vline(x, roll.y_range(), Stroke::new(2.0, Color32::WHITE));
        });
    });
    let primitives = context.tessellate(output.shapes, output.pixels_per_point);
    (primitives, output.textures_delta)
}

fn raster(c: &mut Criterion) {
    let context = egui::Context::default();
    let mut raster = Raster::new(SIZE.0, SIZE.1, Color32::from_gray(27));
    // The first frames bring the fonts; later ones bring no texture.
    for _ in 0..3 {
        let (primitives, mut textures) = frame(&context, 0.5);
        raster.paint(&primitives, &mut textures, 1.0);
    }
    let frames: Vec<_> = (0..2)
        .map(|i| frame(&context, 0.5 + 0.01 * i as f32).0)
        .collect();
    let mut nothing = TexturesDelta::default();

    c.bench_function("editor frame 900x600 drawn whole", |b| {
        b.iter(|| {
            raster.invalidate();
            raster.paint(black_box(&frames[0]), &mut nothing, 1.0);
        })
    });
    let mut which = 0;
    c.bench_function("editor frame 900x600, only the playhead moved", |b| {
        b.iter(|| {
            which = 1 - which;
            raster.paint(black_box(&frames[which]), &mut nothing, 1.0);
        })
    });
    let changed: usize = raster
        .changed()
        .iter()
        .map(|r| (r.x1 - r.x0) * (r.y1 - r.y0))
        .sum();
    println!(
        "pixels drawn again when the playhead moves: {changed} of {}",
        SIZE.0 * SIZE.1
    );
}

criterion_group!(benches, raster);
criterion_main!(benches);
