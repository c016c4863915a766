//! A real X server for window tests: Xvfb started by the test, a parent
//! window a host would give a plugin, and screenshots of it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConnectionExt, CreateWindowAux, EventMask, ImageFormat, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The keysym of the left Control key.
pub const CONTROL: u32 = 0xffe3;
/// The keysym of the Return key.
pub const RETURN: u32 = 0xff0d;

/// An Xvfb server. It stops when the test process ends, not when dropped:
/// the plugin's own X connection lives as long as the plugin library, and
/// a server that goes away under it makes Xlib end the whole process.
pub struct Xvfb {
    /// A shell that runs the server until the test process is gone.
    _watch: Child,
    /// The display name, `:N`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb on a free display with a 24-bit screen. Panics with the
    /// package to install if there is no `Xvfb`.
    pub fn start() -> Self {
        let number = (0..400)
            .map(|i| 90 + (std::process::id() as usize + i) % 400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .expect("a free X display number");
        let display = format!(":{number}");
        assert!(
            Command::new("Xvfb")
                .arg("-help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok(),
            "no Xvfb (Debian package xvfb; scripts/setup installs it)"
        );
        let watch = Command::new("sh")
            .args([
                "-c",
                r#"Xvfb "$1" -screen 0 1280x900x24 -nolisten tcp & server=$!
                   while kill -0 "$2" 2>/dev/null; do sleep 0.2; done
                   kill "$server""#,
                "xvfb-watch",
                &display,
                &std::process::id().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting Xvfb through sh");
        let server = Self {
            _watch: watch,
            display,
        };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while RustConnection::connect(Some(&server.display)).is_err() {
            assert!(Instant::now() < deadline, "Xvfb did not start ({socket:?})");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Xvfb {
    /// The server's process id (for its CPU time), if it can be found.
    pub fn server_pid(&self) -> Option<u32> {
        std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .find_map(|entry| {
                let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
                let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
                let mut args = cmdline.split(|&b| b == 0);
                let program = Path::new(std::str::from_utf8(args.next()?).ok()?);
                let display = args.next()?;
                (program.file_name()? == "Xvfb" && display == self.display.as_bytes())
                    .then_some(pid)
            })
    }
}

/// A top-level window, as a host's plugin window.
pub struct ParentWindow {
    conn: RustConnection,
    /// The X11 window id.
    pub id: u32,
    /// Its size in pixels.
    pub size: (u16, u16),
}

impl ParentWindow {
    /// Creates and maps a `width` × `height` window on `display`.
    pub fn new(display: &str, width: u16, height: u16) -> Self {
        let (conn, screen) = RustConnection::connect(Some(display)).expect("connecting to X");
        let root = conn.setup().roots[screen].clone();
        let id = conn.generate_id().expect("a window id");
        conn.create_window(
            root.root_depth,
            id,
            root.root,
            0,
            0,
            width,
            height,
            0,
            WindowClass::INPUT_OUTPUT,
            root.root_visual,
            &CreateWindowAux::new()
                .background_pixel(root.black_pixel)
                .event_mask(EventMask::STRUCTURE_NOTIFY),
        )
        .expect("creating the window");
        conn.map_window(id).expect("mapping the window");
        conn.sync().expect("talking to X");
        Self {
            conn,
            id,
            size: (width, height),
        }
    }

    /// Moves the pointer to `(x, y)` in this window and clicks the left
    /// button there, as a user's mouse does (the XTEST extension).
    pub fn click(&self, x: i16, y: i16) {
        use x11rb::protocol::xproto::{BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT};
        use x11rb::protocol::xtest::ConnectionExt as _;
        self.conn
            .warp_pointer(x11rb::NONE, self.id, 0, 0, 0, 0, x, y)
            .expect("moving the pointer");
        self.conn.sync().expect("talking to X");
        std::thread::sleep(Duration::from_millis(50));
        for event in [BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT] {
            self.conn
                .xtest_fake_input(event, 1, x11rb::CURRENT_TIME, x11rb::NONE, 0, 0, 0)
                .expect("pressing the button");
            self.conn.sync().expect("talking to X");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Presses and releases the keys of `keysyms` (X keysyms: `'4' as u32`,
    /// [`RETURN`], …) in order, each held down until the last is pressed
    /// (so `[CONTROL, 'a' as u32]` is Ctrl+A), as a keyboard does (XTEST).
    pub fn press(&self, keysyms: &[u32]) {
        use x11rb::protocol::xproto::{KEY_PRESS_EVENT, KEY_RELEASE_EVENT};
        use x11rb::protocol::xtest::ConnectionExt as _;
        let setup = self.conn.setup();
        let (first, count) = (setup.min_keycode, setup.max_keycode - setup.min_keycode + 1);
        let mapping = self
            .conn
            .get_keyboard_mapping(first, count)
            .expect("asking for the keyboard")
            .reply()
            .expect("reading the keyboard");
        let per_key = usize::from(mapping.keysyms_per_keycode);
        let keycode = |keysym: u32| {
            let index = mapping
                .keysyms
                .iter()
                .position(|&k| k == keysym)
                .unwrap_or_else(|| panic!("no key for keysym {keysym:#x}"));
            first + (index / per_key) as u8
        };
        let fake = |event: u8, keysym: u32| {
            self.conn
                .xtest_fake_input(
                    event,
                    keycode(keysym),
                    x11rb::CURRENT_TIME,
                    x11rb::NONE,
                    0,
                    0,
                    0,
                )
                .expect("pressing a key");
            self.conn.sync().expect("talking to X");
            std::thread::sleep(Duration::from_millis(30));
        };
        keysyms.iter().for_each(|&k| fake(KEY_PRESS_EVENT, k));
        keysyms
            .iter()
            .rev()
            .for_each(|&k| fake(KEY_RELEASE_EVENT, k));
    }

    /// What the window shows now, the plugin's child window included.
    pub fn screenshot(&self) -> Screenshot {
        let (width, height) = self.size;
        let image = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.id, 0, 0, width, height, !0)
            .expect("asking for the image")
            .reply()
            .expect("reading the window's pixels");
        // 24-bit depth comes as 32 bits a pixel, blue first.
        let rgb = image
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[1], p[0]])
            .collect();
        Screenshot {
            width: u32::from(width),
            height: u32::from(height),
            rgb,
        }
    }
}

/// The pixels of a window.
#[derive(Clone, PartialEq, Eq)]
pub struct Screenshot {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Red, green, blue per pixel, row by row.
    pub rgb: Vec<u8>,
}

impl Screenshot {
    /// How many different colours it holds (a blank window has one).
    pub fn colours(&self) -> usize {
        let mut seen: Vec<u32> = self
            .rgb
            .chunks_exact(3)
            .map(|p| u32::from_be_bytes([0, p[0], p[1], p[2]]))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// The pixels inside `x0..x1`, `y0..y1`.
    pub fn crop(&self, (x0, y0): (u32, u32), (x1, y1): (u32, u32)) -> Screenshot {
        let mut rgb = Vec::new();
        for y in y0..y1.min(self.height) {
            let row = (y * self.width) as usize * 3;
            rgb.extend_from_slice(
                &self.rgb[row + x0 as usize * 3..row + x1.min(self.width) as usize * 3],
            );
        }
        Screenshot {
            width: x1.min(self.width) - x0,
            height: y1.min(self.height) - y0,
            rgb,
        }
    }

    /// Writes it as a PNG file.
    pub fn write_png(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("making the screenshot folder");
        }
        let file = std::fs::File::create(path).expect("creating the PNG");
        let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("writing the PNG header");
        writer.write_image_data(&self.rgb).expect("writing the PNG");
    }
}
