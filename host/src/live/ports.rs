//! Choosing a MIDI port by number or by part of its name.

use std::fmt::Write as _;

/// Which way a port goes, from Pianola's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A port Pianola listens to (the player's keyboard).
    Input,
    /// A port Pianola plays into (a synth).
    Output,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// Why a port could not be chosen.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// Nothing matches.
    #[error("no {direction} port {wanted:?}; the {direction} ports are:\n{listing}")]
    NotFound {
        /// Input or output.
        direction: &'static str,
        /// What was asked for.
        wanted: String,
        /// The real ports, numbered.
        listing: String,
    },
    /// Several ports match a part of a name.
    #[error("{wanted:?} matches several {direction} ports; say which:\n{listing}")]
    Ambiguous {
        /// Input or output.
        direction: &'static str,
        /// What was asked for.
        wanted: String,
        /// The matching ports, numbered.
        listing: String,
    },
}

/// The ports as a numbered list (numbers from 1), one per line.
pub fn listing(names: &[String]) -> String {
    if names.is_empty() {
        return "  (none)\n".to_string();
    }
    let mut text = String::new();
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(text, "  {}: {name}", i + 1);
    }
    text
}

/// The index in `names` of the port `wanted`: its number in [`listing`],
/// its full name, or the only name containing it (ignoring case).
pub fn choose(direction: Direction, wanted: &str, names: &[String]) -> Result<usize, PortError> {
    let wanted_trimmed = wanted.trim();
    if let Ok(number) = wanted_trimmed.parse::<usize>()
        && (1..=names.len()).contains(&number)
    {
        return Ok(number - 1);
    }
    if let Some(exact) = names.iter().position(|n| n == wanted_trimmed) {
        return Ok(exact);
    }
    let needle = wanted_trimmed.to_lowercase();
    let matches: Vec<usize> = (0..names.len())
        .filter(|&i| !needle.is_empty() && names[i].to_lowercase().contains(&needle))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(PortError::NotFound {
            direction: direction.name(),
            wanted: wanted.to_string(),
            listing: listing(names),
        }),
        several => {
            let mut text = String::new();
            for &i in several {
                let _ = writeln!(text, "  {}: {}", i + 1, names[i]);
            }
            Err(PortError::Ambiguous {
                direction: direction.name(),
                wanted: wanted.to_string(),
                listing: text,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "system:midi_capture_1",
            "keys:out",
            "synth:in",
            "Synth B:in",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn ports_are_found_by_number_name_or_part_of_a_name() {
        let names = names();
        assert_eq!(choose(Direction::Input, "2", &names).unwrap(), 1);
        assert_eq!(choose(Direction::Input, "keys:out", &names).unwrap(), 1);
        assert_eq!(choose(Direction::Input, "CAPTURE", &names).unwrap(), 0);
        assert_eq!(choose(Direction::Output, "synth:in", &names).unwrap(), 2);
    }

    #[test]
    fn unknown_and_ambiguous_ports_list_the_real_ones() {
        let names = names();
        let error = choose(Direction::Output, "piano", &names)
            .unwrap_err()
            .to_string();
        assert!(error.contains("no output port \"piano\""), "{error}");
        assert!(error.contains("  4: Synth B:in"), "{error}");
        let error = choose(Direction::Output, "synth", &names)
            .unwrap_err()
            .to_string();
        assert!(error.contains("several"), "{error}");
        assert!(
            error.contains("3: synth:in") && !error.contains("keys"),
            "{error}"
        );
        assert!(choose(Direction::Input, "9", &names).is_err());
    }
}
