//! `avatar`: prepare folders of user photos as Slack profile pictures.
//!
//! ```text
//! avatar prep photos/ --out avatars/          # every image under photos/, recursively
//! avatar prep me.jpg --crop 100,40,800 --out out/
//! ```
//!
//! One line per file on stderr; exit code 0 when every file succeeded, 1 when any failed
//! (the others are still written), 2 on a usage error.

mod prep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Prepare user photos as Slack profile pictures (square, 512–1024 px, JPEG/PNG).
#[derive(Debug, Parser)]
#[command(name = "avatar", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prepare images (files or folders, recursively) into an output folder.
    Prep(prep::PrepArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prep(args) => prep::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("avatar: {e:#}");
            ExitCode::from(2)
        }
    }
}
