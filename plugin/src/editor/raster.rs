//! egui's triangles drawn on the CPU, into a frame of pixels, redrawing
//! only the tiles whose triangles changed.
//!
//! A plugin window has no GPU to count on (a virtual machine, a software
//! OpenGL): there, drawing every pixel of every frame costs a fifth of a
//! core. Here each 32 × 32 tile keeps a hash of the triangles that touch
//! it; a tile whose hash is unchanged keeps its pixels, so a frame where
//! only the piano roll moves redraws and sends only the roll.
//!
//! Colours follow egui's own renderers: premultiplied sRGB, multiplied and
//! blended in gamma space (`one, one minus source alpha`). Textures are
//! sampled at the nearest texel at whole pixels per point, which is what
//! egui's pixel-aligned text needs; at a fractional scale (125 %, 150 %) a
//! texture egui asks to be filtered linearly (its fonts) is sampled
//! bilinearly, so text does not alias.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;

use egui::epaint::{ClippedPrimitive, ImageDelta, Primitive, TextureId, Vertex};
use egui::{Color32, ImageData, TexturesDelta};

/// A tile's side in pixels.
const TILE: usize = 32;

/// A rectangle of pixels, `x0..x1` by `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelRect {
    /// Left edge (inclusive).
    pub x0: usize,
    /// Top edge (inclusive).
    pub y0: usize,
    /// Right edge (exclusive).
    pub x1: usize,
    /// Bottom edge (exclusive).
    pub y1: usize,
}

impl PixelRect {
    /// The rectangle, if it holds any pixel.
    fn non_empty(self) -> Option<PixelRect> {
        (self.x0 < self.x1 && self.y0 < self.y1).then_some(self)
    }

    fn intersect(self, other: PixelRect) -> Option<PixelRect> {
        PixelRect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
        .non_empty()
    }
}

/// A texture egui uploaded: its size, premultiplied sRGBA texels and
/// whether egui asks for linear filtering.
struct Texture {
    width: usize,
    height: usize,
    texels: Vec<Color32>,
    linear: bool,
}

impl Texture {
    fn apply(&mut self, delta: &ImageDelta) {
        let ImageData::Color(image) = &delta.image;
        self.linear = delta.options.magnification == egui::TextureFilter::Linear;
        let [width, height] = image.size;
        match delta.pos {
            None => {
                self.width = width;
                self.height = height;
                self.texels.clone_from(&image.pixels);
            }
            Some([x, y]) => {
                for row in 0..height.min(self.height.saturating_sub(y)) {
                    let columns = width.min(self.width.saturating_sub(x));
                    let to = (y + row) * self.width + x;
                    self.texels[to..to + columns]
                        .copy_from_slice(&image.pixels[row * width..row * width + columns]);
                }
            }
        }
    }

    /// The texel at `u`, `v`: the nearest one, or with `smooth` (and a
    /// linearly filtered texture) the four around it, weighed bilinearly.
    fn sample(&self, u: f32, v: f32, smooth: bool) -> Color32 {
        if !(smooth && self.linear) {
            let x = ((u * self.width as f32) as usize).min(self.width.saturating_sub(1));
            let y = ((v * self.height as f32) as usize).min(self.height.saturating_sub(1));
            return self.texel(x, y);
        }
        let x = (u * self.width as f32 - 0.5).max(0.0);
        let y = (v * self.height as f32 - 0.5).max(0.0);
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let (x1, y1) = (
            (x0 + 1).min(self.width.saturating_sub(1)),
            (y0 + 1).min(self.height.saturating_sub(1)),
        );
        let corners = [
            (self.texel(x0, y0), (1.0 - fx) * (1.0 - fy)),
            (self.texel(x1, y0), fx * (1.0 - fy)),
            (self.texel(x0, y1), (1.0 - fx) * fy),
            (self.texel(x1, y1), fx * fy),
        ];
        let channel = |c: usize| {
            let sum: f32 = corners
                .iter()
                .map(|(texel, weight)| f32::from(texel.to_array()[c]) * weight)
                .sum();
            sum.round().clamp(0.0, 255.0) as u8
        };
        Color32::from_rgba_premultiplied(channel(0), channel(1), channel(2), channel(3))
    }

    fn texel(&self, x: usize, y: usize) -> Color32 {
        self.texels
            .get(y * self.width + x)
            .copied()
            .unwrap_or(Color32::WHITE)
    }
}

/// A triangle of one primitive, as the tiles it touches list it.
#[derive(Clone, Copy)]
struct TriangleRef {
    primitive: u32,
    first_index: u32,
}

/// The frame, its textures and what each tile showed last.
pub struct Raster {
    width: usize,
    height: usize,
    /// Pixels as `0xAARRGGBB`, opaque, row by row.
    pixels: Vec<u32>,
    background: u32,
    textures: HashMap<TextureId, Texture>,
    tiles_across: usize,
    tiles_down: usize,
    /// What drew each tile last frame, hashed.
    shown: Vec<u64>,
    /// What draws each tile this frame, hashed.
    drawing: Vec<u64>,
    /// The triangles that touch each tile, in drawing order.
    bins: Vec<Vec<TriangleRef>>,
    /// Every tile must be drawn (a new size, new textures, an exposure).
    all_stale: bool,
    /// The rectangles the last frame changed.
    changed: Vec<PixelRect>,
}

impl Raster {
    /// A frame of `width` × `height` pixels over a `background` colour.
    pub fn new(width: usize, height: usize, background: Color32) -> Self {
        let mut raster = Self {
            width: 0,
            height: 0,
            pixels: Vec::new(),
            background: pixel(background),
            textures: HashMap::new(),
            tiles_across: 0,
            tiles_down: 0,
            shown: Vec::new(),
            drawing: Vec::new(),
            bins: Vec::new(),
            all_stale: true,
            changed: Vec::new(),
        };
        raster.resize(width, height);
        raster
    }

    /// The frame's size in pixels.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// The pixels, `0xAARRGGBB`, row by row.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// A new size: every tile is drawn again.
    pub fn resize(&mut self, width: usize, height: usize) {
        if (width, height) == (self.width, self.height) {
            return;
        }
        self.width = width;
        self.height = height;
        self.pixels = vec![self.background; width * height];
        self.tiles_across = width.div_ceil(TILE);
        self.tiles_down = height.div_ceil(TILE);
        let tiles = self.tiles_across * self.tiles_down;
        self.shown = vec![0; tiles];
        self.drawing = vec![0; tiles];
        self.bins = vec![Vec::new(); tiles];
        self.all_stale = true;
    }

    /// The next frame draws every tile (the window was exposed).
    pub fn invalidate(&mut self) {
        self.all_stale = true;
    }

    /// The rectangles the last [`paint`](Self::paint) changed.
    pub fn changed(&self) -> &[PixelRect] {
        &self.changed
    }

    /// Draws a frame: applies (and takes) egui's texture changes and draws
    /// the tiles whose triangles changed ([`changed`](Self::changed) lists
    /// them).
    pub fn paint(
        &mut self,
        primitives: &[ClippedPrimitive],
        textures: &mut TexturesDelta,
        pixels_per_point: f32,
    ) {
        for (id, deltas) in textures.set.drain() {
            let texture = self.textures.entry(id).or_insert(Texture {
                width: 0,
                height: 0,
                texels: Vec::new(),
                linear: false,
            });
            for delta in &deltas {
                texture.apply(delta);
            }
            self.all_stale = true;
        }
        self.bin(primitives, pixels_per_point);
        self.changed.clear();
        for ty in 0..self.tiles_down {
            let mut run: Option<PixelRect> = None;
            for tx in 0..self.tiles_across {
                let tile = ty * self.tiles_across + tx;
                let stale = self.all_stale || self.drawing[tile] != self.shown[tile];
                if stale {
                    self.draw_tile(tx, ty, primitives, pixels_per_point);
                    let rect = self.tile_rect(tx, ty);
                    run = Some(match run {
                        Some(open) => PixelRect {
                            x1: rect.x1,
                            ..open
                        },
                        None => rect,
                    });
                } else if let Some(open) = run.take() {
                    self.changed.push(open);
                }
            }
            self.changed.extend(run);
        }
        std::mem::swap(&mut self.shown, &mut self.drawing);
        self.all_stale = false;
        for id in textures.free.drain() {
            self.textures.remove(&id);
        }
    }

    fn tile_rect(&self, tx: usize, ty: usize) -> PixelRect {
        PixelRect {
            x0: tx * TILE,
            y0: ty * TILE,
            x1: ((tx + 1) * TILE).min(self.width),
            y1: ((ty + 1) * TILE).min(self.height),
        }
    }

    fn clip_rect(&self, clip: egui::Rect, pixels_per_point: f32) -> Option<PixelRect> {
        let edge =
            |v: f32, max: usize| (floor(v * pixels_per_point + 0.5).max(0.0) as usize).min(max);
        PixelRect {
            x0: edge(clip.min.x, self.width),
            y0: edge(clip.min.y, self.height),
            x1: edge(clip.max.x, self.width),
            y1: edge(clip.max.y, self.height),
        }
        .non_empty()
    }

    /// Lists each triangle in the tiles it touches and hashes what each
    /// tile will show.
    fn bin(&mut self, primitives: &[ClippedPrimitive], pixels_per_point: f32) {
        for bin in &mut self.bins {
            bin.clear();
        }
        self.drawing.fill(0xcbf2_9ce4_8422_2325);
        for (p, primitive) in primitives.iter().enumerate() {
            let Primitive::Mesh(mesh) = &primitive.primitive else {
                continue;
            };
            let Some(clip) = self.clip_rect(primitive.clip_rect, pixels_per_point) else {
                continue;
            };
            let texture = match mesh.texture_id {
                TextureId::Managed(id) => id,
                TextureId::User(id) => !id,
            };
            // What every triangle of the primitive shares: its texture,
            // clip and scale.
            let mut shared = FixedState::default().build_hasher();
            shared.write_u64(texture);
            for v in [clip.x0, clip.y0, clip.x1, clip.y1] {
                shared.write_usize(v);
            }
            shared.write_u32(pixels_per_point.to_bits());
            for (t, triangle) in mesh.indices.chunks_exact(3).enumerate() {
                let Some(corners) = corners(&mesh.vertices, triangle) else {
                    continue;
                };
                // The clip rectangle lies inside the frame already.
                let Some(bounds) =
                    bounds(&corners, pixels_per_point).and_then(|b| b.intersect(clip))
                else {
                    continue;
                };
                let mut hasher = shared.clone();
                for v in &corners {
                    let pair =
                        |a: f32, b: f32| u64::from(a.to_bits()) << 32 | u64::from(b.to_bits());
                    hasher.write_u64(pair(v.pos.x, v.pos.y));
                    hasher.write_u64(pair(v.uv.x, v.uv.y));
                    hasher.write_u32(u32::from_ne_bytes(v.color.to_array()));
                }
                let hash = hasher.finish();
                let reference = TriangleRef {
                    primitive: p as u32,
                    first_index: (t * 3) as u32,
                };
                let (columns, rows) = (
                    bounds.x0 / TILE..bounds.x1.div_ceil(TILE),
                    bounds.y0 / TILE..bounds.y1.div_ceil(TILE),
                );
                // A long sliver's box covers many tiles it misses; most
                // triangles (a letter's) lie in one tile.
                let shape = (columns.len() * rows.len() > 1)
                    .then(|| Triangle::new(&corners, pixels_per_point))
                    .flatten();
                for ty in rows {
                    for tx in columns.clone() {
                        if shape
                            .as_ref()
                            .is_some_and(|s| !s.may_cover(self.tile_rect(tx, ty)))
                        {
                            continue;
                        }
                        let tile = ty * self.tiles_across + tx;
                        self.bins[tile].push(reference);
                        self.drawing[tile] = mix(self.drawing[tile], hash);
                    }
                }
            }
        }
    }

    fn draw_tile(&mut self, tx: usize, ty: usize, primitives: &[ClippedPrimitive], ppp: f32) {
        let tile = self.tile_rect(tx, ty);
        for y in tile.y0..tile.y1 {
            self.pixels[y * self.width + tile.x0..y * self.width + tile.x1].fill(self.background);
        }
        let bin = std::mem::take(&mut self.bins[ty * self.tiles_across + tx]);
        for reference in &bin {
            let primitive = &primitives[reference.primitive as usize];
            let Primitive::Mesh(mesh) = &primitive.primitive else {
                continue;
            };
            let first = reference.first_index as usize;
            let (Some(corners), Some(clip)) = (
                corners(&mesh.vertices, &mesh.indices[first..first + 3]),
                self.clip_rect(primitive.clip_rect, ppp),
            ) else {
                continue;
            };
            let Some(area) = clip.intersect(tile) else {
                continue;
            };
            let texture = self.textures.get(&mesh.texture_id);
            fill_triangle(&mut self.pixels, self.width, area, &corners, ppp, texture);
        }
        self.bins[ty * self.tiles_across + tx] = bin;
    }
}

/// A colour as an opaque `0xAARRGGBB` pixel.
fn pixel(colour: Color32) -> u32 {
    let [r, g, b, _] = colour.to_array();
    0xff00_0000 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b)
}

/// `x.floor()` without a call into libm (which `f32::floor` is, on x86-64
/// without SSE 4.1); exact within ±2³¹, enough for pixels.
fn floor(x: f32) -> f32 {
    let truncated = x as i32 as f32;
    if truncated > x {
        truncated - 1.0
    } else {
        truncated
    }
}

/// `x.ceil()`, as [`floor`].
fn ceil(x: f32) -> f32 {
    -floor(-x)
}

/// A tile's hash with one more triangle's (each already a hash: one
/// multiply-rotate step keeps their order).
fn mix(tile: u64, triangle: u64) -> u64 {
    (tile ^ triangle)
        .wrapping_mul(0x0000_0100_0000_01b3)
        .rotate_left(23)
}

fn corners(vertices: &[Vertex], triangle: &[u32]) -> Option<[Vertex; 3]> {
    Some([
        *vertices.get(triangle[0] as usize)?,
        *vertices.get(triangle[1] as usize)?,
        *vertices.get(triangle[2] as usize)?,
    ])
}

/// The pixels whose centres a triangle may cover.
fn bounds(corners: &[Vertex; 3], ppp: f32) -> Option<PixelRect> {
    let xs = corners.map(|v| v.pos.x * ppp);
    let ys = corners.map(|v| v.pos.y * ppp);
    let min = |v: [f32; 3]| v[0].min(v[1]).min(v[2]);
    let max = |v: [f32; 3]| v[0].max(v[1]).max(v[2]);
    let (x0, y0, x1, y1) = (min(xs), min(ys), max(xs), max(ys));
    if !(x0.is_finite() && y0.is_finite() && x1.is_finite() && y1.is_finite()) {
        return None;
    }
    PixelRect {
        x0: ceil(x0 - 0.5).max(0.0) as usize,
        y0: ceil(y0 - 0.5).max(0.0) as usize,
        x1: floor(x1 + 0.5).max(0.0) as usize,
        y1: floor(y1 + 0.5).max(0.0) as usize,
    }
    .non_empty()
}

/// One edge's function `a·x + b·y + c`, positive inside, and whether
/// pixel centres exactly on it belong to the triangle (the top-left rule,
/// so two triangles sharing an edge never both draw a pixel on it).
struct Edge {
    a: f32,
    b: f32,
    c: f32,
    owns_its_line: bool,
}

impl Edge {
    fn new(from: (f32, f32), to: (f32, f32)) -> Self {
        let a = from.1 - to.1;
        let b = to.0 - from.0;
        Self {
            a,
            b,
            c: from.0 * to.1 - from.1 * to.0,
            // With the corners ordered so that inside is positive (y down),
            // a top edge runs exactly left to right and a left edge upwards.
            owns_its_line: (a == 0.0 && b > 0.0) || a > 0.0,
        }
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        self.a * x + self.b * y + self.c
    }

    fn inside(&self, value: f32) -> bool {
        value > 0.0 || (value == 0.0 && self.owns_its_line)
    }

    /// Narrows `columns` on row centre `cy` to the pixel centres this edge
    /// may let in, one pixel wide of the exact line on either side (the
    /// exact test is [`inside`](Self::inside)).
    fn narrow(&self, cy: f32, columns: (f32, f32)) -> (f32, f32) {
        let rest = self.b * cy + self.c;
        if self.a > 0.0 {
            (columns.0.max(-rest / self.a - 1.0), columns.1)
        } else if self.a < 0.0 {
            (columns.0, columns.1.min(-rest / self.a + 1.0))
        } else if rest < 0.0 {
            (1.0, 0.0)
        } else {
            columns
        }
    }
}

/// A triangle in pixels, its corners ordered so that its inside is where
/// all three edge functions are positive.
struct Triangle {
    corners: [Vertex; 3],
    /// Edge i lies opposite corner i: its value over twice the area is
    /// corner i's weight.
    edges: [Edge; 3],
    twice_area: f32,
}

impl Triangle {
    /// `None` for a triangle without area.
    fn new(corners: &[Vertex; 3], ppp: f32) -> Option<Self> {
        let [v0, mut v1, mut v2] = *corners;
        let point = |v: &Vertex| (v.pos.x * ppp, v.pos.y * ppp);
        let twice_area = {
            let (a, b, c) = (point(&v0), point(&v1), point(&v2));
            (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
        };
        if twice_area.abs() < 1e-6 || !twice_area.is_finite() {
            return None;
        }
        if twice_area < 0.0 {
            std::mem::swap(&mut v1, &mut v2);
        }
        Some(Self {
            corners: [v0, v1, v2],
            edges: [
                Edge::new(point(&v1), point(&v2)),
                Edge::new(point(&v2), point(&v0)),
                Edge::new(point(&v0), point(&v1)),
            ],
            twice_area: twice_area.abs(),
        })
    }

    /// Whether any pixel centre of `rect` may be inside: false when all
    /// four corner centres lie outside one edge.
    fn may_cover(&self, rect: PixelRect) -> bool {
        let (x0, y0) = (rect.x0 as f32 + 0.5, rect.y0 as f32 + 0.5);
        let (x1, y1) = (rect.x1 as f32 - 0.5, rect.y1 as f32 - 0.5);
        self.edges.iter().all(|edge| {
            [(x0, y0), (x1, y0), (x0, y1), (x1, y1)]
                .iter()
                .any(|&(x, y)| edge.at(x, y) >= 0.0)
        })
    }
}

/// Blends one triangle into the pixels inside `area`.
fn fill_triangle(
    pixels: &mut [u32],
    stride: usize,
    area: PixelRect,
    corners: &[Vertex; 3],
    ppp: f32,
    texture: Option<&Texture>,
) {
    let Some(Triangle {
        corners: [v0, v1, v2],
        edges,
        twice_area,
    }) = Triangle::new(corners, ppp)
    else {
        return;
    };
    let Some(area) = bounds(corners, ppp).and_then(|b| b.intersect(area)) else {
        return;
    };
    let flat_colour = v0.color == v1.color && v1.color == v2.color;
    let flat_texel = v0.uv == v1.uv && v1.uv == v2.uv;
    let smooth = ppp.fract() != 0.0;
    let texel_at = |u: f32, v: f32| texture.map_or(Color32::WHITE, |t| t.sample(u, v, smooth));
    let flat = (flat_colour && flat_texel).then(|| multiply(v0.color, texel_at(v0.uv.x, v0.uv.y)));
    if flat == Some(Color32::TRANSPARENT) {
        return;
    }
    let colours = [v0.color, v1.color, v2.color].map(|c| c.to_array().map(f32::from));
    for y in area.y0..area.y1 {
        let cy = y as f32 + 0.5;
        // Only the pixel centres between the edges: a long sliver of a
        // rounded rectangle's fan touches many tiles but few pixels in each.
        let columns = edges.iter().fold(
            (area.x0 as f32 + 0.5, area.x1 as f32 - 0.5),
            |columns, edge| edge.narrow(cy, columns),
        );
        if columns.0 > columns.1 {
            continue;
        }
        let first = ceil(columns.0 - 0.5).max(area.x0 as f32) as usize;
        let end = (floor(columns.1 - 0.5) as usize + 1).min(area.x1);
        // A triangle's pixels on a row are one run: trim the ends exactly.
        let weights = |x: usize| {
            let cx = x as f32 + 0.5;
            [
                edges[0].at(cx, cy),
                edges[1].at(cx, cy),
                edges[2].at(cx, cy),
            ]
        };
        let covers = |x: usize| {
            let w = weights(x);
            edges[0].inside(w[0]) && edges[1].inside(w[1]) && edges[2].inside(w[2])
        };
        let Some(first) = (first..end).find(|&x| covers(x)) else {
            continue;
        };
        let end = (first..end)
            .rev()
            .find(|&x| covers(x))
            .map_or(first, |x| x + 1);
        let run = &mut pixels[y * stride + first..y * stride + end];
        match flat {
            Some(colour) if colour.a() == 255 => run.fill(pixel(colour)),
            Some(colour) => run.iter_mut().for_each(|dst| *dst = blend(*dst, colour)),
            None => {
                for (dst, x) in run.iter_mut().zip(first..end) {
                    let l = weights(x).map(|w| w / twice_area);
                    let colour = if flat_colour {
                        v0.color
                    } else {
                        let c = |i: usize| {
                            (l[0] * colours[0][i]
                                + l[1] * colours[1][i]
                                + l[2] * colours[2][i]
                                + 0.5) as u8
                        };
                        Color32::from_rgba_premultiplied(c(0), c(1), c(2), c(3))
                    };
                    let texel = if flat_texel {
                        texel_at(v0.uv.x, v0.uv.y)
                    } else {
                        let u = l[0] * v0.uv.x + l[1] * v1.uv.x + l[2] * v2.uv.x;
                        let v = l[0] * v0.uv.y + l[1] * v1.uv.y + l[2] * v2.uv.y;
                        texel_at(u, v)
                    };
                    *dst = blend(*dst, multiply(colour, texel));
                }
            }
        }
    }
}

/// A vertex colour times a texel, both premultiplied.
fn multiply(a: Color32, b: Color32) -> Color32 {
    let [ar, ag, ab, aa] = a.to_array();
    let [br, bg, bb, ba] = b.to_array();
    let m = |x: u8, y: u8| ((u16::from(x) * u16::from(y) + 127) / 255) as u8;
    Color32::from_rgba_premultiplied(m(ar, br), m(ag, bg), m(ab, bb), m(aa, ba))
}

/// `source` (premultiplied) over an opaque pixel.
fn blend(dst: u32, source: Color32) -> u32 {
    let [r, g, b, a] = source.to_array();
    if a == 255 {
        return 0xff00_0000 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b);
    }
    let keep = 255 - u32::from(a);
    let channel = |shift: u32, add: u8| {
        let d = (dst >> shift) & 0xff;
        ((d * keep + 127) / 255 + u32::from(add)).min(255) << shift
    };
    0xff00_0000 | channel(16, r) | channel(8, g) | channel(0, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::epaint::Mesh;
    use egui::{Pos2, Rect};

    fn frame_of(meshes: Vec<Mesh>) -> Vec<ClippedPrimitive> {
        meshes
            .into_iter()
            .map(|mesh| ClippedPrimitive {
                clip_rect: Rect::EVERYTHING,
                primitive: Primitive::Mesh(mesh),
            })
            .collect()
    }

    /// Paints a frame without texture changes and returns what changed.
    fn paint(raster: &mut Raster, meshes: Vec<Mesh>) -> Vec<PixelRect> {
        raster.paint(&frame_of(meshes), &mut TexturesDelta::default(), 1.0);
        raster.changed().to_vec()
    }

    fn rect_mesh(min: (f32, f32), max: (f32, f32), colour: Color32) -> Mesh {
        let mut mesh = Mesh::default();
        mesh.add_colored_rect(
            Rect::from_min_max(Pos2::new(min.0, min.1), Pos2::new(max.0, max.1)),
            colour,
        );
        mesh
    }

    #[test]
    fn a_rectangle_fills_exactly_its_pixels_once() {
        let mut raster = Raster::new(100, 80, Color32::BLACK);
        // Half-transparent white: a pixel drawn twice would be brighter.
        let grey = Color32::from_rgba_premultiplied(128, 128, 128, 128);
        paint(
            &mut raster,
            vec![rect_mesh((10.0, 20.0), (42.0, 52.0), grey)],
        );
        let at = |x: usize, y: usize| raster.pixels()[y * 100 + x];
        assert_eq!(at(10, 20), 0xff80_8080);
        assert_eq!(at(41, 51), 0xff80_8080);
        assert_eq!(at(25, 25), 0xff80_8080, "on the diagonal the halves share");
        assert_eq!(at(9, 20), 0xff00_0000);
        assert_eq!(at(42, 51), 0xff00_0000);
        assert_eq!(at(41, 52), 0xff00_0000);
        let lit = raster
            .pixels()
            .iter()
            .filter(|&&p| p != 0xff00_0000)
            .count();
        assert_eq!(lit, 32 * 32);
    }

    #[test]
    fn only_the_tiles_whose_triangles_change_are_drawn_again() {
        let mut raster = Raster::new(200, 100, Color32::BLACK);
        let still = rect_mesh((0.0, 0.0), (20.0, 20.0), Color32::RED);
        let at = |x: f32| rect_mesh((x, 70.0), (x + 10.0, 80.0), Color32::GREEN);
        let first = paint(&mut raster, vec![still.clone(), at(100.0)]);
        assert_eq!(first.len(), 4, "the first frame draws every tile row");
        let unchanged = paint(&mut raster, vec![still.clone(), at(100.0)]);
        assert!(unchanged.is_empty());
        let moved = paint(&mut raster, vec![still, at(140.0)]);
        // The square left tile (96..128) and entered tile (128..160), in
        // tile row 2 (64..96): one run.
        assert_eq!(
            moved,
            vec![PixelRect {
                x0: 96,
                y0: 64,
                x1: 160,
                y1: 96
            }]
        );
        let at = |x: usize, y: usize| raster.pixels()[y * 200 + x];
        assert_eq!(at(105, 75), 0xff00_0000, "the old place is cleared");
        assert_eq!(at(145, 75), 0xff00_ff00);
        assert_eq!(at(5, 5), 0xffff_0000);
    }

    #[test]
    fn a_textured_triangle_multiplies_its_colour_by_the_texel() {
        let mut raster = Raster::new(40, 40, Color32::BLACK);
        let mut textures = TexturesDelta::default();
        let image = egui::ColorImage::new([2, 1], vec![Color32::WHITE, Color32::from_gray(100)]);
        let delta = ImageDelta::full(image, Default::default());
        textures
            .set
            .insert(TextureId::Managed(7), std::iter::once(delta).collect());
        let mut mesh = Mesh::with_texture(TextureId::Managed(7));
        mesh.add_rect_with_uv(
            Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(20.0, 10.0)),
            Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(1.0, 1.0)),
            Color32::from_rgb(255, 0, 200),
        );
        raster.paint(&frame_of(vec![mesh]), &mut textures, 1.0);
        assert_eq!(raster.pixels()[5 * 40 + 2], 0xffff_00c8);
        assert_eq!(raster.pixels()[5 * 40 + 15], 0xff64_004e);
    }

    /// The distinct greys across the middle row of a 20 × 10 point
    /// rectangle textured black to white (2 × 1 texels, `options`), drawn at
    /// `ppp` pixels per point.
    fn greys_across(options: egui::TextureOptions, ppp: f32) -> Vec<u32> {
        let mut raster = Raster::new(40, 20, Color32::BLACK);
        let mut textures = TexturesDelta::default();
        let image = egui::ColorImage::new([2, 1], vec![Color32::BLACK, Color32::WHITE]);
        textures.set.insert(
            TextureId::Managed(3),
            std::iter::once(ImageDelta::full(image, options)).collect(),
        );
        let mut mesh = Mesh::with_texture(TextureId::Managed(3));
        mesh.add_rect_with_uv(
            Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(20.0, 10.0)),
            Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
        raster.paint(&frame_of(vec![mesh]), &mut textures, ppp);
        let row = (5.0 * ppp) as usize;
        let width = (20.0 * ppp) as usize;
        let mut greys: Vec<u32> = raster.pixels()[row * 40..row * 40 + width].to_vec();
        greys.sort_unstable();
        greys.dedup();
        greys
    }

    #[test]
    fn a_linear_texture_is_sampled_bilinearly_at_fractional_scales_only() {
        let (linear, nearest) = (egui::TextureOptions::LINEAR, egui::TextureOptions::NEAREST);
        assert_eq!(greys_across(linear, 1.0).len(), 2, "whole pixels: texels");
        assert_eq!(greys_across(nearest, 1.5).len(), 2, "a nearest texture");
        let blended = greys_across(linear, 1.5);
        assert!(blended.len() > 4, "150 %: a ramp, {blended:x?}");
    }

    #[test]
    fn a_new_scale_draws_every_tile_again() {
        let mut raster = Raster::new(100, 40, Color32::BLACK);
        let meshes = || frame_of(vec![rect_mesh((0.0, 0.0), (20.0, 20.0), Color32::RED)]);
        raster.paint(&meshes(), &mut TexturesDelta::default(), 1.0);
        raster.paint(&meshes(), &mut TexturesDelta::default(), 1.0);
        assert!(raster.changed().is_empty());
        raster.paint(&meshes(), &mut TexturesDelta::default(), 1.25);
        assert!(
            !raster.changed().is_empty(),
            "the scale is in the tile hash"
        );
    }
}
