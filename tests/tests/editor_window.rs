//! The plugin's editor in a real X server: Xvfb (started here), a parent
//! window given through CLAP's `gui` extension,
//! blocks playing while it is open (the debug bundle, where an allocation
//! in `process()` aborts), screenshots of what it draws.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use pianola_tests::clap_host::{Input, PluginUnderTest, workspace_root};
use pianola_tests::x11::{CONTROL, ParentWindow, RETURN, Screenshot, Xvfb};

/// The piano roll's colours (plugin/src/editor/roll.rs).
const PLAYER: [u8; 3] = [80, 160, 255];
const PIANOLA: [u8; 3] = [255, 150, 60];

/// Where the screenshot goes for people to look at.
fn screenshot_path() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("editor/pianola-editor.png")
}

/// Plays blocks (the transport rolling, `inputs` at absolute samples) and
/// takes screenshots until `done` holds for one. The deadline only turns a
/// window that never draws into a failure instead of a hang.
fn play_until(
    plugin: &mut PluginUnderTest,
    parent: &ParentWindow,
    inputs: &[(u64, Input)],
    mut done: impl FnMut(&Screenshot) -> bool,
) -> Screenshot {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let until = plugin.clock + 4096;
        plugin.run_until(until, || 512, inputs);
        let shot = parent.screenshot();
        if done(&shot) {
            return shot;
        }
        if Instant::now() > deadline {
            let path = screenshot_path().with_file_name("failed.png");
            shot.write_png(&path);
            panic!(
                "the editor never drew what was expected ({} colours; see {})",
                shot.colours(),
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Capture's bar count as the plugin's saved state has it.
fn capture_bars(plugin: &mut PluginUnderTest) -> String {
    let state = String::from_utf8_lossy(&plugin.save_state()).into_owned();
    let at = state
        .find("capture_bars")
        .expect("the editor's settings in the state");
    state[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

/// How many events the session memory in the plugin's state holds.
fn remembered(plugin: &mut PluginUnderTest) -> usize {
    let bytes = plugin.save_state();
    let state: serde_json::Value = serde_json::from_slice(&bytes[8..]).expect("JSON");
    let memory = state["fields"]["memory"].as_str().expect("a memory field");
    let memory: serde_json::Value = serde_json::from_str(memory).expect("JSON");
    memory["events"].as_array().expect("events").len()
}

/// Plays blocks while `waiting` holds, for at most `seconds` (the caller
/// then checks what it waited for).
fn play_while(
    plugin: &mut PluginUnderTest,
    seconds: u64,
    mut waiting: impl FnMut(&mut PluginUnderTest) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while waiting(plugin) && Instant::now() < deadline {
        let until = plugin.clock + 4096;
        plugin.run_until(until, || 512, &[]);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the plugin's state has `bars` as Capture's bar count.
fn wait_for_capture_bars(plugin: &mut PluginUnderTest, bars: &str) {
    play_while(plugin, 10, |plugin| capture_bars(plugin) != bars);
    assert_eq!(capture_bars(plugin), bars);
}

/// Clicks Capture's bar count (where the screenshot shows it), selects its
/// text (Ctrl+A), presses `keys` together, then Return.
fn edit_bar_count(parent: &ParentWindow, keys: &[u32]) {
    parent.click(437, 554);
    parent.press(&[CONTROL, 'a' as u32]);
    parent.press(keys);
    parent.press(&[RETURN]);
}

/// A phrase from `start` samples on: a note every half beat.
fn phrase(start: u64, samples_per_beat: f64) -> Vec<(u64, Input)> {
    let mut inputs = Vec::new();
    for (i, key) in [60u8, 64, 67, 72, 67, 64, 62, 65].into_iter().enumerate() {
        let on = start + (i as f64 * 0.5 * samples_per_beat) as u64;
        let off = on + (0.4 * samples_per_beat) as u64;
        inputs.push((on, Input::NoteOn { key, velocity: 0.8 }));
        inputs.push((off, Input::NoteOff { key }));
    }
    inputs.sort_by_key(|(at, _)| *at);
    inputs
}

#[test]
fn the_editor_opens_shows_parameters_and_notes_closes_and_opens_again() {
    let xvfb = Xvfb::start();
    // A home folder with a user's own model in it, where the file dialog
    // opens.
    let home = std::env::temp_dir().join(format!("pianola-editor-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mine = home.join("mine.safetensors");
    std::fs::copy(workspace_root().join("models/default.safetensors"), &mine).unwrap();
    // SAFETY: set before the plugin is loaded, while this test's thread is
    // the only one that reads the environment.
    unsafe {
        std::env::set_var("DISPLAY", &xvfb.display);
        std::env::set_var("HOME", &home);
    }

    let mut plugin = PluginUnderTest::new();
    plugin.activate(48_000.0, 512);
    // Room for the window to grow when the host resizes it.
    let parent = ParentWindow::new(&xvfb.display, 1000, 700);
    let size = plugin.open_gui(parent.id);
    assert_eq!(size, (900, 600), "the default size");
    assert!(plugin.gui_can_resize());

    // The window draws: far more than the parent's one black colour.
    let first = play_until(&mut plugin, &parent, &[], |shot| shot.colours() > 50);

    // A parameter set through the host shows in the parameter list (the
    // left panel, below the model section).
    let panel = |shot: &Screenshot| shot.crop((0, 90), (380, 600));
    let mode = plugin.param_id("Mode");
    let at = plugin.clock;
    let echo = [(at, Input::param(mode, 2.0))];
    play_until(&mut plugin, &parent, &echo, |shot| {
        panel(shot) != panel(&first)
    });
    assert_eq!(plugin.param_value(mode), 2.0);

    // Notes played show in the piano roll, the player's and Pianola's in
    // their colours (none before).
    let count = |shot: &Screenshot, colour: [u8; 3]| {
        shot.crop((380, 110), (900, 420))
            .rgb
            .chunks_exact(3)
            .filter(|p| *p == colour)
            .count()
    };
    let before = parent.screenshot();
    assert_eq!(count(&before, PLAYER), 0);
    assert_eq!(count(&before, PIANOLA), 0);
    let inputs = phrase(plugin.clock + 1000, plugin.samples_per_beat());
    let playing = play_until(&mut plugin, &parent, &inputs, |shot| {
        count(shot, PLAYER) > 400 && count(shot, PIANOLA) > 400
    });
    playing.crop((0, 0), size).write_png(&screenshot_path());

    // The mouse works the controls: a click near the left end of the
    // Velocity slider (its row in the left panel) sets a low velocity,
    // through the host's parameter calls.
    let velocity = plugin.param_id("Velocity");
    assert!((plugin.param_value(velocity) - 90.0).abs() < 0.01);
    parent.click(166, 351);
    play_while(&mut plugin, 10, |plugin| {
        plugin.param_value(velocity) > 10.0
    });
    if plugin.param_value(velocity) > 10.0 {
        let path = screenshot_path().with_file_name("failed-click.png");
        parent.screenshot().write_png(&path);
        panic!(
            "a click at the slider's left end set Velocity to {} (see {})",
            plugin.param_value(velocity),
            path.display()
        );
    }
    // One gesture for the host, begun and ended once. The end follows the
    // button's release through the editor's thread, so it may come some
    // blocks after the value: wait for it (bounded), then check the whole.
    let velocity_gestures = |plugin: &PluginUnderTest| -> Vec<bool> {
        plugin
            .gestures
            .iter()
            .filter(|(id, _)| *id == velocity)
            .map(|&(_, begins)| begins)
            .collect()
    };
    play_while(&mut plugin, 10, |plugin| {
        !velocity_gestures(plugin).contains(&false)
    });
    let until = plugin.clock + 4096;
    plugin.run_until(until, || 512, &[]);
    assert_eq!(
        velocity_gestures(&plugin),
        [true, false],
        "the click's gesture"
    );

    // Forget empties the session memory the jam above filled, and the
    // saved state forgets it too.
    assert!(remembered(&mut plugin) > 0, "the jam is remembered");
    parent.click(459, 12);
    play_while(&mut plugin, 10, |plugin| remembered(plugin) > 0);
    assert_eq!(remembered(&mut plugin), 0, "Forget empties the memory");

    // The keyboard reaches its text fields: a click on Capture's bar count,
    // Ctrl+A, "4", Return, and the plugin's state keeps 4 bars.
    assert_eq!(capture_bars(&mut plugin), "8");
    edit_bar_count(&parent, &['4' as u32]);
    wait_for_capture_bars(&mut plugin, "4");

    // The clipboard: "12" pasted into the bar count sets 12, and copying
    // the field's text puts "12" back on the clipboard.
    let clipboard = x11_clipboard::Clipboard::new().expect("the X clipboard");
    let put = |text: &str| {
        let atoms = &clipboard.setter.atoms;
        clipboard
            .store(atoms.clipboard, atoms.utf8_string, text)
            .expect("putting text on the clipboard");
    };
    put("12");
    edit_bar_count(&parent, &[CONTROL, 'v' as u32]);
    wait_for_capture_bars(&mut plugin, "12");
    put("nothing yet");
    edit_bar_count(&parent, &[CONTROL, 'c' as u32]);
    let (atoms, wait) = (&clipboard.getter.atoms, Duration::from_secs(2));
    let copied = clipboard
        .load(atoms.clipboard, atoms.utf8_string, atoms.property, wait)
        .expect("reading the clipboard");
    assert_eq!(String::from_utf8_lossy(&copied), "12", "copied");

    // A user's own model, loaded through the window alone: Load…, the file
    // in the dialog (which opens in the home folder), Open. The plugin then
    // plays it and keeps the choice in its state.
    let state =
        |plugin: &mut PluginUnderTest| String::from_utf8_lossy(&plugin.save_state()).into_owned();
    let playing_mine = format!("playing {}", mine.display());
    assert!(!state(&mut plugin).contains(&playing_mine));
    // The dialog covers the parameters and lists the file where a
    // screenshot showed it.
    let listing = |shot: &Screenshot| shot.crop((30, 95), (300, 118));
    let parameters = listing(&parent.screenshot());
    parent.click(205, 12);
    let dialog = play_until(&mut plugin, &parent, &[], |shot| {
        listing(shot) != parameters
    });
    dialog.write_png(&screenshot_path().with_file_name("load-dialog.png"));
    // Open is enabled once the file's name shows in the File field.
    parent.click(98, 106);
    play_until(&mut plugin, &parent, &[], |shot| {
        shot.crop((62, 474), (350, 492)).colours() > 10
    });
    parent.click(427, 509);
    play_while(&mut plugin, 30, |plugin| {
        !state(plugin).contains(&playing_mine)
    });
    assert!(
        state(&mut plugin).contains(&playing_mine),
        "the model chosen in the dialog plays"
    );

    // Resized by the host, it draws the whole of its new size (nothing of
    // the parent's black left in the part it grew into).
    let grown = |shot: &Screenshot| {
        shot.crop((900, 600), (1000, 700))
            .rgb
            .iter()
            .all(|&c| c > 0)
    };
    assert!(!grown(&parent.screenshot()));
    plugin.resize_gui(1000, 700);
    play_until(&mut plugin, &parent, &[], grown);

    plugin.close_gui();
    play_until(&mut plugin, &parent, &[], |shot| shot.colours() == 1);
    // Opened again, it draws again.
    plugin.open_gui(parent.id);
    play_until(&mut plugin, &parent, &[], |shot| shot.colours() > 50);
    plugin.close_gui();
    plugin.deactivate();
    let _ = std::fs::remove_dir_all(&home);
}
