//! `avatar`: prepare folders of user photos as Slack profile pictures.
//!
//! ```text
//! avatar prep photos/ --out avatars/          # every image under photos/, recursively
//! avatar prep me.jpg --crop 100,40,800 --out out/
//! SLACK_TOKEN=xoxp-… avatar upload me.jpg     # prepare, then users.setPhoto
//! avatar upload --manifest team.csv --journal team.journal
//! avatar delete                               # users.deletePhoto
//! ```
//!
//! One line per file on stderr; exit code 0 when every file succeeded, 1 when any failed
//! (the others are still written), 2 on a usage error.

mod prep;
mod sheet;
mod upload;

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
    /// Prepare an image and set it as the token owner's Slack photo (users.setPhoto), or a
    /// CSV batch of them.
    Upload(upload::UploadArgs),
    /// Remove the token owner's Slack photo (users.deletePhoto).
    Delete(upload::DeleteArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prep(args) => prep::run(&args),
        Command::Upload(args) => upload::run_upload(&args),
        Command::Delete(args) => upload::run_delete(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("avatar: {e:#}");
            ExitCode::from(2)
        }
    }
}
