//! `avatar`: prepare folders of user photos as Slack profile pictures.
//!
//! ```text
//! avatar prep photos/ --out avatars/          # every image under photos/, recursively
//! avatar prep me.jpg --crop 100,40,800 --out out/
//! SLACK_TOKEN=xoxp-… avatar upload me.jpg     # prepare, then users.setPhoto
//! avatar upload me.jpg --token-file ~/.slack-token --dry-run
//! avatar upload --manifest team.csv --journal team.journal
//! avatar delete                               # users.deletePhoto
//! avatar completions bash > /etc/bash_completion.d/avatar
//! avatar man | man -l -                       # the manual page (roff)
//! ```
//!
//! One line per file on stderr; exit code 0 when every file succeeded, 1 when any failed
//! (the others are still written), 2 on a usage error.
//!
//! Modules, each importing only modules further down: `main` → `prep` (the `prep` command),
//! `upload` (`upload`, `delete`) → `sheet`, `report` → `files`; `manifest` and `flags` (clap)
//! import no other module.

#![warn(unreachable_pub)]

mod files;
mod flags;
mod manifest;
mod prep;
mod report;
mod sheet;
mod upload;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};

/// Prepare user photos as Slack profile pictures (square, 512–1024 px, JPEG/PNG).
#[derive(Debug, Parser)]
#[command(name = "avatar", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prepare images (files or folders, recursively) into an output folder.
    Prep(flags::PrepArgs),
    /// Prepare an image and set it as the token owner's Slack photo (users.setPhoto), or a
    /// CSV batch of them.
    Upload(flags::UploadArgs),
    /// Remove the token owner's Slack photo (users.deletePhoto).
    Delete(flags::DeleteArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(flags::CompletionsArgs),
    /// Print the manual page (roff) on stdout, or write every page into a folder.
    Man(flags::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Prep(args) => prep::run(&args),
        Command::Upload(args) => upload::run_upload(&args),
        Command::Delete(args) => upload::run_delete(&args),
        Command::Completions(args) => completions(&args),
        Command::Man(args) => man(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("avatar: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `avatar completions SHELL`: the script on stdout.
fn completions(args: &flags::CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "avatar", &mut out);
    std::io::stdout()
        .write_all(&out)
        .context("cannot write the completion script")?;
    Ok(ExitCode::SUCCESS)
}

/// `avatar man [SUBCOMMAND]`: one page on stdout; `avatar man --out-dir DIR`: every page.
fn man(args: &flags::ManArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        clap_mangen::generate_to(cmd, dir).with_context(|| format!("{}", dir.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    cmd.build();
    let page = match &args.subcommand {
        None => cmd,
        Some(name) => cmd
            .get_subcommands()
            .find(|s| s.get_name() == name)
            .cloned()
            .with_context(|| format!("no subcommand {name:?}"))?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .context("cannot render the manual page")?;
    std::io::stdout()
        .write_all(&out)
        .context("cannot write the manual page")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
