//! The performer following the player's key.

mod common;

use common::{Host, settings};
use pianola_core::Token;
use pianola_core::perform::{Division, Mode, NoteEvent, PerformerSettings};

/// Echo at sixteenths, following the player's key, sampling widely (hot,
/// no top-k) so that only the key keeps the answers in it.
fn key_following_echo() -> Host {
    use pianola_core::sample::SamplerSettings;
    Host::new(
        PerformerSettings {
            sampler: SamplerSettings {
                key: pianola_core::key::KeyMode::Follow,
                temperature: 1.5,
                top_k: 0,
                ..SamplerSettings::default()
            },
            ..settings(Mode::Echo, Division::Sixteenth)
        },
        48_000.0,
        120.0,
    )
}

#[test]
fn following_the_key_keeps_to_the_players_key_and_tells_it() {
    use pianola_core::key::Key;
    use pianola_core::key::in_scale;
    let mut host = key_following_echo();
    assert_eq!(host.performer.followed_key(), None);
    // A phrase in D major, a note per beat; echo answers each.
    let phrase = [
        62u8, 66, 69, 74, 73, 71, 69, 67, 66, 64, 62, 69, 74, 66, 62, 57,
    ];
    for key in phrase {
        host.strike(&[key], 64);
        host.run(24_000 - 128, 256);
    }
    let d_major = Key::parse("D major").unwrap();
    assert_eq!(host.performer.followed_key(), Some(d_major));
    // From then on every answer is in D major.
    let start = host.heard.len();
    for key in phrase {
        host.strike(&[key], 64);
        host.run(24_000 - 128, 256);
    }
    let answers: Vec<u8> = host.heard[start..]
        .iter()
        .filter_map(|h| match h.event {
            NoteEvent::On { key, .. } => Some(key),
            NoteEvent::Off { .. } => None,
        })
        .collect();
    assert!(answers.len() >= 12, "{} answers", answers.len());
    for key in answers {
        assert!(
            in_scale(Token::Note(key), d_major.scale()),
            "{key} is in D major"
        );
    }
}

#[test]
fn following_the_key_follows_the_player_into_e_flat_minor_within_a_few_bars() {
    use pianola_core::key::Key;
    use pianola_core::key::in_scale;
    let mut host = key_following_echo();
    // Two bars' phrase in C major, played four times, a note per beat.
    let c_major_phrase = [60u8, 64, 67, 72, 71, 69, 67, 65];
    for _ in 0..4 {
        for key in c_major_phrase {
            host.strike(&[key], 64);
            host.run(24_000 - 128, 256);
        }
    }
    let c_major = Key::parse("C major").unwrap();
    assert_eq!(host.performer.followed_key(), Some(c_major));
    // Then E-flat minor (six flats): the key is followed by the phrase's
    // tenth note (its first F, the note that tells it from A-flat minor),
    // within three bars, and every answer from then on is in it.
    let e_flat_minor = Key::parse("E- minor").unwrap();
    let phrase = [63u8, 66, 70, 75, 73, 71, 70, 68, 66, 65, 63, 58];
    let mut followed_after = None;
    let mut answers = Vec::new();
    for (i, key) in phrase.iter().cycle().take(48).enumerate() {
        let start = host.heard.len();
        host.strike(&[*key], 64);
        host.run(24_000 - 128, 256);
        if followed_after.is_none()
            && host
                .performer
                .followed_key()
                .is_some_and(|k| k.scale() == e_flat_minor.scale())
        {
            followed_after = Some(i + 1);
        } else if followed_after.is_some() {
            answers.extend(host.heard[start..].iter().filter_map(|h| match h.event {
                NoteEvent::On { key, .. } => Some(key),
                _ => None,
            }));
        }
    }
    let followed_after = followed_after.expect("E-flat minor was never followed");
    assert!(
        followed_after <= 10,
        "followed after {followed_after} notes of E-flat minor"
    );
    assert!(answers.len() >= 24, "{} answers", answers.len());
    let outside: Vec<u8> = answers
        .into_iter()
        .filter(|&key| !in_scale(Token::Note(key), e_flat_minor.scale()))
        .collect();
    assert!(
        outside.is_empty(),
        "answers outside E-flat minor: {outside:?}"
    );
}
