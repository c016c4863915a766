//! Sends the parts of the frame that changed to the window, through the X
//! server (`PutImage` on a connection of its own).

use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectError, ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::protocol::xproto::{ConnectionExt, CreateGCAux, Gcontext, ImageFormat, ImageOrder};
use x11rb::rust_connection::RustConnection;

use super::raster::PixelRect;

/// Why the window's pixels cannot reach the screen.
#[derive(Debug, thiserror::Error)]
pub enum PresentError {
    /// No X server to talk to.
    #[error("could not reach the X server: {0}")]
    Connect(#[from] ConnectError),
    /// The connection broke.
    #[error("the X connection failed: {0}")]
    Connection(#[from] ConnectionError),
    /// The X server answered a request with an error.
    #[error("the X server refused a request: {0}")]
    Reply(#[from] ReplyError),
    /// The X server refused a request or ran out of ids.
    #[error("the X server refused a request: {0}")]
    ReplyOrId(#[from] ReplyOrIdError),
    /// The window stores pixels in a way this editor does not draw.
    #[error("the window's visual (depth {0}) does not store 32-bit pixels")]
    Format(u8),
}

/// A window's pixels on the X server.
pub struct Presenter {
    connection: RustConnection,
    window: u32,
    gc: Gcontext,
    depth: u8,
    big_endian: bool,
    max_request_bytes: usize,
    /// The bytes of one request, kept between frames.
    bytes: Vec<u8>,
}

impl Presenter {
    /// Connects to the X server (`DISPLAY`) for `window`.
    pub fn new(window: u32) -> Result<Self, PresentError> {
        let (connection, _) = x11rb::connect(None)?;
        let depth = connection.get_geometry(window)?.reply()?.depth;
        let bits = connection
            .setup()
            .pixmap_formats
            .iter()
            .find(|format| format.depth == depth)
            .map(|format| format.bits_per_pixel);
        if bits != Some(32) {
            return Err(PresentError::Format(depth));
        }
        let gc = connection.generate_id()?;
        connection.create_gc(gc, window, &CreateGCAux::new().graphics_exposures(0))?;
        let big_endian = connection.setup().image_byte_order == ImageOrder::MSB_FIRST;
        let max_request_bytes = connection.maximum_request_bytes();
        Ok(Self {
            connection,
            window,
            gc,
            depth,
            big_endian,
            max_request_bytes,
            bytes: Vec::new(),
        })
    }

    /// Sends the `rects` of a frame `stride` pixels wide (`0xAARRGGBB`).
    pub fn show(
        &mut self,
        pixels: &[u32],
        stride: usize,
        rects: &[PixelRect],
    ) -> Result<(), PresentError> {
        for rect in rects {
            let width = rect.x1 - rect.x0;
            // Room for the request's header, the rest for rows.
            let rows_per_request = ((self.max_request_bytes - 64) / (width * 4)).max(1);
            let mut y = rect.y0;
            while y < rect.y1 {
                let rows = rows_per_request.min(rect.y1 - y);
                self.bytes.clear();
                for row in y..y + rows {
                    let line = &pixels[row * stride + rect.x0..row * stride + rect.x1];
                    if self.big_endian == cfg!(target_endian = "big") {
                        self.bytes.extend_from_slice(bytemuck::cast_slice(line));
                    } else {
                        self.bytes.extend(
                            line.iter()
                                .flat_map(|pixel| pixel.swap_bytes().to_ne_bytes()),
                        );
                    }
                }
                self.connection.put_image(
                    ImageFormat::Z_PIXMAP,
                    self.window,
                    self.gc,
                    width as u16,
                    rows as u16,
                    rect.x0 as i16,
                    y as i16,
                    0,
                    self.depth,
                    &self.bytes,
                )?;
                y += rows;
            }
        }
        self.connection.flush()?;
        Ok(())
    }
}

impl Drop for Presenter {
    fn drop(&mut self) {
        let _ = self.connection.free_gc(self.gc);
        let _ = self.connection.flush();
    }
}
