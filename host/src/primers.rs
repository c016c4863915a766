//! Built-in openings for `pianola generate`: short pieces written for
//! Pianola in the `--prime-tokens` text form, in different keys, metres and
//! characters, so that a piece without a corpus at hand still starts from
//! music worth hearing. `--prime-builtin NAME` picks one; without a corpus
//! the seed does.

use pianola_core::event::{Event, EventParseError};

/// One built-in opening.
#[derive(Clone, Copy, Debug)]
pub struct BuiltinPrimer {
    /// The name `--prime-builtin` takes.
    pub name: &'static str,
    /// What it is, for messages and the piano roll's title.
    pub title: &'static str,
    /// The events, in the `--prime-tokens` text form.
    pub text: &'static str,
}

impl BuiltinPrimer {
    /// The opening's events.
    pub fn events(&self) -> Result<Vec<Event>, EventParseError> {
        // Every event here gives its time; the step only fills a gap.
        self.text
            .split_whitespace()
            .map(|word| Event::parse_with_step(word, 6))
            .collect()
    }
}

/// The built-in openings.
pub const BUILTIN_PRIMERS: [BuiltinPrimer; 6] = [
    BuiltinPrimer {
        name: "waltz",
        title: "the waltz in G major, 3/4",
        text: "G2~1:72 D5@0~2:86 7.11.2_3@1~1/2:58 7.11.2_3@1~1/2:58 B4@0~1:80 \
               D2@1~1:72 C5@0~3/2:84 2.6.9.0_3@1~1/2:56 B4@1/2~1/2:78 2.6.9.0_3@1/2~1/2:56 \
               A4@0~1:78 G2@1~1:72 B4@0~1:82 7.11.2_3@1~1/2:58 D5@0~1:84 7.11.2_3@1~1/2:58 \
               G5@0~1:88 C3@1~1:70 E5@0~2:86 0.4.7_3@1~1/2:56 0.4.7_3@1~1/2:56 C5@0~1:80 \
               D2@1~1:72 D5@0~3:84 2.6.9_3@1~1/2:56 2.6.9_3@1~1/2:56",
    },
    BuiltinPrimer {
        name: "nocturne",
        title: "the nocturne in E minor",
        text: "E2~2:62 G4@0~2:80 B2@1/2~1/2:48 G3@1/2~1/2:50 B2@1/2~1/2:48 E3@1/2~1/2:50 \
               F#4@0~1:74 B2@1/2~1/2:48 G3@1/2~1/2:50 E4@0~1:72 B2@1/2~1/2:48 \
               A1@1/2~2:62 C5@0~2:82 A2@1/2~1/2:48 E3@1/2~1/2:50 A2@1/2~1/2:48 C4@1/2~1/2:50 \
               B4@0~1:76 A2@1/2~1/2:48 E3@1/2~1/2:50 A4@0~1:74 A2@1/2~1/2:48 \
               B1@1/2~2:62 A4@0~3/2:78 F#2@1/2~1/2:48 E-3@1/2~1/2:50 F#2@1/2~1/2:48 \
               A2@1/2~1/2:50 G4@0~1:72 F#2@1/2~1/2:48 E-3@1/2~1/2:50 F#4@0~1:74 F#2@1/2~1/2:48 \
               E2@1/2~2:62 G4@0~7/2:76 B2@1/2~1/2:46 G3@1/2~1/2:48 B2@1/2~1/2:46 \
               E3@1/2~1/2:48 B2@1/2~1/2:46 G3@1/2~1/2:48 B2@1/2~1/2:46",
    },
    BuiltinPrimer {
        name: "march",
        title: "the march in C major",
        text: "0.4.7_3~1/2:70 G4@0~3/4:90 A4@3/4~1/4:84 C3@1/4~1/2:68 G4@0~1/2:88 \
               E4@1/2~1/2:84 0.4.7_3@1/2~1/2:70 C5@0~1:94 C3@1~1/2:68 G4@0~1:88 \
               7.11.2.5_2@1~1/2:70 F4@0~3/4:88 E4@3/4~1/4:82 D3@1/4~1/2:68 D4@0~1/2:84 \
               B3@1/2~1/2:80 7.11.2_2@1/2~1/2:70 G4@0~1:90 G2@1~1/2:68 B4@0~1:88 \
               0.4.7_3@1~1/2:72 C5@0~3/4:94 D5@3/4~1/4:88 C3@1/4~1/2:68 E5@0~1/2:92 \
               C5@1/2~1/2:86 5.9.0_3@1/2~1/2:70 A4@0~1:88 C3@1~1/2:68 F4@0~1:84 \
               7.11.2.5_2@1~1/2:70 E4@0~1:86 D4@1~1:82 0.4.7_3@1~2:74 C4@0~2:86",
    },
    BuiltinPrimer {
        name: "blues",
        title: "the blues shuffle in F",
        text: "5.0_2~2/3:64 C5@0~2/3:86 5.0_2@2/3~1/3:56 E-5@0~1/3:80 5.2_2@1/3~2/3:64 \
               F5@0~1:90 5.2_2@2/3~1/3:56 5.0_2@1/3~2/3:64 5.0_2@2/3~1/3:56 \
               5.2_2@1/3~2/3:64 E-5@0~2/3:84 5.2_2@2/3~1/3:56 C5@0~1/3:78 \
               10.5_2@1/3~2/3:64 D5@0~1:86 10.5_2@2/3~1/3:56 10.7_2@1/3~2/3:64 F5@0~2/3:88 \
               10.7_2@2/3~1/3:56 D5@0~1/3:80 10.5_2@1/3~2/3:64 B-4@0~2:84 10.5_2@2/3~1/3:56 \
               10.7_2@1/3~2/3:64 10.7_2@2/3~1/3:56 \
               5.0_2@1/3~2/3:64 C5@0~2/3:86 5.0_2@2/3~1/3:56 E-5@0~1/3:80 5.2_2@1/3~2/3:64 \
               F5@0~1:90 5.2_2@2/3~1/3:56 5.0_2@1/3~2/3:64 5.9.0_3@1~2:70 F4@0~2:84",
    },
    BuiltinPrimer {
        name: "chorale",
        title: "the chorale in D major",
        text: "D2~1:70 2.6.9_4@0~1:74 G2@1~1:70 7.11.2_3@0~1:74 A2@1~1:70 9.1.4_3@0~1:76 \
               D3@1~1:72 6.9.2_3@0~1:76 B2@1~1:68 11.2.6_3@0~1:72 E2@1~1:68 7.11.4_3@0~1:72 \
               A2@1~1:70 9.1.4.7_3@0~1:76 D2@1~1:70 2.6.9_3@0~1:74 G2@1~1:68 7.11.2_3@0~1:72 \
               F#2@1~1:68 2.6.9_3@0~1:72 E2@1~1:68 7.11.4_3@0~1:72 A2@1~1:72 9.1.4_3@0~1:76 \
               D2@1~2:74 2.6.9_3@0~2:78",
    },
    BuiltinPrimer {
        name: "gigue",
        title: "the gigue in A minor, 6/8",
        text: "A2~3/2:70 A4@0~1/2:84 C5@1/2~1/2:76 E5@1/2~1/2:78 E3@1/2~3/2:64 A5@0~1/2:86 \
               E5@1/2~1/2:76 C5@1/2~1/2:74 E2@1/2~3/2:70 B4@0~1/2:84 D5@1/2~1/2:76 \
               E5@1/2~1/2:78 B2@1/2~3/2:64 G#5@0~1/2:86 E5@1/2~1/2:76 B4@1/2~1/2:74 \
               A2@1/2~3/2:70 C5@0~1/2:84 E5@1/2~1/2:76 A5@1/2~1/2:80 D3@1/2~3/2:66 \
               F5@0~1/2:84 A5@1/2~1/2:80 F5@1/2~1/2:76 E2@1/2~3/2:70 B4@0~1/2:82 \
               G#4@1/2~1/2:76 B4@1/2~1/2:78 A2@1/2~3/2:72 A4@0~3/2:84",
    },
];

/// The built-in opening called `name`.
pub fn by_name(name: &str) -> Option<&'static BuiltinPrimer> {
    BUILTIN_PRIMERS.iter().find(|p| p.name == name)
}

/// The built-in opening a seed chooses: consecutive seeds choose
/// different ones.
pub fn for_seed(seed: u64) -> &'static BuiltinPrimer {
    &BUILTIN_PRIMERS[(seed % BUILTIN_PRIMERS.len() as u64) as usize]
}

/// `name: title` for every opening, `; `-separated (for messages).
pub fn list() -> String {
    BUILTIN_PRIMERS
        .iter()
        .map(|p| format!("{}: {}", p.name, p.title))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opening_parses_and_the_built_in_model_knows_its_tokens() {
        let model = pianola_core::default_model::load().unwrap();
        for primer in &BUILTIN_PRIMERS {
            let events = primer
                .events()
                .unwrap_or_else(|e| panic!("{}: {e}", primer.name));
            assert!(
                events.len() >= 24,
                "{}: {} events",
                primer.name,
                events.len()
            );
            let unknown: Vec<String> = events
                .iter()
                .filter(|e| model.vocab.index_of(e.what).is_none())
                .map(|e| e.what.to_string())
                .collect();
            assert!(unknown.is_empty(), "{}: unknown {unknown:?}", primer.name);
            assert_eq!(by_name(primer.name).map(|p| p.name), Some(primer.name));
        }
    }

    #[test]
    fn the_openings_differ_in_key_and_consecutive_seeds_choose_different_ones() {
        let mut names: Vec<&str> = (0..6).map(|seed| for_seed(seed).name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 6);
        // Six different pitch-class profiles: the keys differ.
        let mut keys: Vec<Option<pianola_core::key::Key>> = BUILTIN_PRIMERS
            .iter()
            .map(|p| {
                let events = p.events().unwrap();
                pianola_core::key::estimate(&pianola_core::key::pitch_class_counts(
                    events.iter().map(|e| &e.what),
                ))
            })
            .collect();
        assert!(keys.iter().all(Option::is_some));
        let named: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        keys.sort_by_key(|k| k.map(|k| k.index()));
        keys.dedup();
        assert_eq!(keys.len(), 6, "six keys: {named:?}");
    }
}
