//! A host whose note output takes only MIDI events (Carla 2.6 refuses CLAP
//! note events there): Pianola keeps playing without a fault and says once,
//! off the audio thread, why nothing comes out. Its own test process, since
//! the plugin's log goes to the file `NICE_LOG` names when it first loads.

use std::time::{Duration, Instant};

use pianola_tests::clap_host::{Input, PluginUnderTest};

#[test]
fn refused_note_events_are_reported_once_in_the_log() {
    let log = std::env::temp_dir().join(format!("pianola-midi-only-{}.log", std::process::id()));
    // SAFETY: set before the plugin (and any thread of this test process
    // that reads the environment) starts; this file holds one test.
    unsafe { std::env::set_var("NICE_LOG", &log) };
    let mut plugin = PluginUnderTest::on_the_grid();
    plugin.midi_only_output = true;
    plugin.activate(48_000.0, 512);
    let spb = plugin.samples_per_beat();
    let inputs = [
        (
            0,
            Input::NoteOn {
                key: 60,
                velocity: 0.8,
            },
        ),
        ((0.4 * spb) as u64, Input::NoteOff { key: 60 }),
    ];
    plugin.run_until((8.0 * spb) as u64, || 512, &inputs);
    assert!(plugin.sent.is_empty(), "the host took no note events");
    assert!(
        plugin.refused_events > 0,
        "the performer played on ({} events refused)",
        plugin.refused_events
    );
    // The worker thread reports within a few of its idle rounds (the
    // deadline only turns a hang into a failure).
    let deadline = Instant::now() + Duration::from_secs(60);
    let reports = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let reports = text.matches("the host refused").count();
        if reports > 0 || Instant::now() > deadline {
            break reports;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // More refusals, and time for the worker's idle rounds to report
    // again if they would.
    let refused = plugin.refused_events;
    plugin.run_until((12.0 * spb) as u64, || 512, &[]);
    assert!(plugin.refused_events > refused);
    std::thread::sleep(Duration::from_millis(200));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert_eq!(reports, 1, "one report once refused: {text}");
    assert_eq!(
        text.matches("the host refused").count(),
        1,
        "reported once, however many are refused"
    );
}
