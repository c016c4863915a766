//! Sends the parts of the frame that changed to the window, through
//! softbuffer (the X server on Linux, GDI on Windows).

use std::num::NonZeroU32;

use baseview::PlatformHandle;
use softbuffer::{Context, Rect, SoftBufferError, Surface};

use super::raster::PixelRect;

/// Why the window's pixels cannot reach the screen.
#[derive(Debug, thiserror::Error)]
#[error("the window's pixels cannot reach the screen: {0}")]
pub struct PresentError(#[from] SoftBufferError);

/// A window's pixels.
pub struct Presenter {
    surface: Surface<PlatformHandle, PlatformHandle>,
    /// The size the surface was last given.
    size: (usize, usize),
    /// The rectangles presented, kept between frames.
    damage: Vec<Rect>,
}

impl Presenter {
    /// A presenter for the window behind `handle`.
    pub fn new(handle: PlatformHandle) -> Result<Self, PresentError> {
        let context = Context::new(handle.clone())?;
        let surface = Surface::new(&context, handle)?;
        Ok(Self {
            surface,
            size: (0, 0),
            damage: Vec::new(),
        })
    }

    /// Shows a frame `stride` pixels wide (`0xAARRGGBB`) whose `rects`
    /// changed since the last one: only those are copied where the
    /// window's buffer still holds the last frame, all of it otherwise.
    pub fn show(
        &mut self,
        pixels: &[u32],
        stride: usize,
        rects: &[PixelRect],
    ) -> Result<(), PresentError> {
        let height = pixels.len() / stride.max(1);
        let (Some(w), Some(h)) = (nonzero(stride), nonzero(height)) else {
            return Ok(());
        };
        if self.size != (stride, height) {
            self.surface.resize(w, h)?;
            self.size = (stride, height);
        } else if rects.is_empty() {
            // The window shows the last frame already.
            return Ok(());
        }
        let mut buffer = self.surface.buffer_mut()?;
        let whole = [PixelRect {
            x0: 0,
            y0: 0,
            x1: stride,
            y1: height,
        }];
        let rects = if buffer.age() == 1 { rects } else { &whole };
        for rect in rects {
            for row in rect.y0..rect.y1 {
                let span = row * stride + rect.x0..row * stride + rect.x1;
                // The buffer's pixels are 0x00RRGGBB.
                for (out, &pixel) in buffer[span.clone()].iter_mut().zip(&pixels[span]) {
                    *out = pixel & 0x00FF_FFFF;
                }
            }
        }
        self.damage.clear();
        self.damage.extend(rects.iter().filter_map(|r| {
            Some(Rect {
                x: r.x0 as u32,
                y: r.y0 as u32,
                width: nonzero(r.x1 - r.x0)?,
                height: nonzero(r.y1 - r.y0)?,
            })
        }));
        buffer.present_with_damage(&self.damage)?;
        Ok(())
    }
}

/// `n` as a non-zero `u32`, if it is one.
fn nonzero(n: usize) -> Option<NonZeroU32> {
    NonZeroU32::new(u32::try_from(n).ok()?)
}
