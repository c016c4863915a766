//! `pianola`: Pianola's standalone command.

use clap::{Parser, Subcommand};
use pianola_host::{generate, live, model_info, render, stats, train};

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
    /// Write a whole piece into a MIDI file (and optionally a WAV and a PNG).
    Generate(generate::GenerateArgs),
    /// Render a MIDI file to WAV through a SoundFont.
    Render(render::RenderArgs),
    /// Train the LSTM on a corpus folder and write a weights file.
    Train(train::TrainArgs),
    /// Score a weights file on its held-out songs.
    Eval(model_info::EvalArgs),
    /// Show what a weights file holds.
    Info(model_info::InfoArgs),
    /// List the MIDI input and output ports, numbered.
    Ports(live::PortsArgs),
    /// Jam with the model through real MIDI ports.
    Live(live::LiveArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Stats(args) => stats::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => model_info::eval(&args),
        Command::Info(args) => model_info::info(&args),
        Command::Ports(args) => live::ports(&args),
        Command::Live(args) => live::run(&args),
    }
}
