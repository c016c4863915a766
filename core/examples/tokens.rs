//! Prints the tokens of MIDI files, one line per file:
//! `cargo run -p pianola-core --example tokens -- FILE.mid…`

fn main() {
    for path in std::env::args().skip(1) {
        match pianola_core::corpus::read_file(path.as_ref()) {
            Ok(tokens) => {
                let texts: Vec<String> = tokens.iter().map(ToString::to_string).collect();
                println!("{path}: {}", texts.join(" "));
            }
            Err(error) => eprintln!("{path}: {error}"),
        }
    }
}
