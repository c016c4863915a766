//! `pianola`: Pianola's standalone command.

mod stats;

use clap::{Parser, Subcommand};

/// Pianola: a live LSTM piano performer.
#[derive(Parser)]
#[command(name = "pianola", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a corpus folder and report songs, tokens and vocabulary.
    Stats(stats::StatsArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Stats(args) => stats::run(&args),
    }
}
