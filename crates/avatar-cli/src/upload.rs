//! `avatar upload` and `avatar delete`: prepare, then call Slack; and the manifest batch with
//! its journal.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use avatar_upload::{Pacing, Photo, SlackClient, UploadError};
use clap::Args;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::prep::{message, PrepFlags};

/// Where the token and the API are.
#[derive(Debug, Args)]
pub struct SlackArgs {
    /// Environment variable that holds the user token (xoxp-…). The token is never printed.
    #[arg(long, default_value = "SLACK_TOKEN")]
    token_env: String,
    /// Slack Web API base URL (GovSlack: `https://slack-gov.com/api/`). Default: $SLACK_API_URL,
    /// else `https://slack.com/api/`.
    #[arg(long)]
    base_url: Option<String>,
    /// Most requests per minute (Slack's Tier 2 allows about 20).
    #[arg(long, default_value_t = 20)]
    rate: u32,
}

/// Arguments of `avatar upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The image to set as the token owner's profile photo.
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    image: Option<PathBuf>,
    /// Send the file as it is (JPEG/PNG/GIF); --crop is then sent as Slack's crop_x/y/w.
    #[arg(long)]
    no_prepare: bool,
    /// A CSV batch: one `image,token` row per upload (token literal or `env:NAME`; an optional
    /// header row `image,token`). Image paths are relative to the manifest's folder.
    #[arg(long, requires = "journal")]
    manifest: Option<PathBuf>,
    /// With --manifest: the journal of completed rows; a re-run skips rows it lists as done.
    #[arg(long)]
    journal: Option<PathBuf>,
    #[command(flatten)]
    slack: SlackArgs,
    #[command(flatten)]
    flags: PrepFlags,
}

/// Arguments of `avatar delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    slack: SlackArgs,
}

fn base_url(args: &SlackArgs) -> String {
    args.base_url
        .clone()
        .or_else(|| {
            std::env::var("SLACK_API_URL")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| avatar_upload::SLACK_API_URL.to_owned())
}

fn client(token: &str, args: &SlackArgs, pacing: &Pacing) -> Result<SlackClient, UploadError> {
    SlackClient::builder(token)
        .base_url(base_url(args))
        .pacing(pacing.clone())
        .on_retry(|e| {
            eprintln!(
                "avatar: {} failed ({}); retry {} in {:.1} s",
                e.method,
                e.error,
                e.retry,
                e.wait.as_secs_f64()
            );
        })
        .build()
}

fn token_from_env(var: &str) -> Result<String> {
    match std::env::var(var) {
        Ok(t) if !t.trim().is_empty() => Ok(t),
        _ => bail!("no token: set the environment variable {var} to a user token (xoxp-…)"),
    }
}

/// One line for a failed call: the error and, for Slack's codes, a hint.
fn explain(e: &UploadError) -> String {
    let mut s = e.to_string();
    if let Some(hint) = e.slack_code().and_then(|c| c.hint()) {
        s.push_str(": ");
        s.push_str(hint);
    }
    if let UploadError::Transport { source, .. } = e {
        s.push_str(&format!(": {source}"));
    }
    s
}

/// The bytes to send and a description, from a file: prepared, or as it is.
fn photo_for(path: &Path, args: &UploadArgs) -> Result<(Photo, String), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if args.no_prepare {
        let bytes = std::fs::read(path).map_err(|e| format!("io: {e}"))?;
        let len = bytes.len();
        let mut photo = Photo::new(bytes).map_err(|e| format!("unsupported_format: {e}"))?;
        if let Some(c) = args.flags.crop {
            photo = photo.crop(
                avatar_upload::Crop::new(c.x, c.y, c.side)
                    .map_err(|e| format!("invalid_crop: {e}"))?,
            );
        }
        return Ok((photo.filename(&name), format!("{len} bytes as they are")));
    }
    let options = args
        .flags
        .options()
        .map_err(|e| format!("invalid_options: {e}"))?;
    let img = avatar_prep::prepare_file(path, &options)
        .map_err(|e| format!("{}: {}", e.kind(), message(&e)))?;
    let what = crate::prep::describe(&img);
    let stem = Path::new(&name).with_extension(img.format().extension());
    let photo = Photo::new(img.into_bytes())
        .map_err(|e| format!("internal: {e}"))?
        .filename(&stem.to_string_lossy());
    Ok((photo, what))
}

/// Runs `avatar upload`.
pub fn run_upload(args: &UploadArgs) -> Result<ExitCode> {
    if let Some(manifest) = &args.manifest {
        let journal = args
            .journal
            .as_deref()
            .context("--manifest needs --journal")?;
        return run_manifest(args, manifest, journal);
    }
    let image = args.image.as_deref().context("an image is required")?;
    let token = token_from_env(&args.slack.token_env)?;
    let pacing = Pacing::per_minute(args.slack.rate).map_err(|e| anyhow::anyhow!("--rate: {e}"))?;
    let client = match client(&token, &args.slack, &pacing) {
        Ok(c) => c,
        Err(e) => bail!("{}", explain(&e)),
    };
    let (photo, what) = match photo_for(image, args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: {e}", image.display());
            return Ok(ExitCode::from(1));
        }
    };
    eprintln!("{}: sending {what}", image.display());
    let rt = runtime()?;
    match rt.block_on(client.set_photo(&photo)) {
        Ok(done) => {
            let hash = done
                .profile
                .as_ref()
                .and_then(|p| p.avatar_hash.as_deref())
                .unwrap_or("?");
            println!(
                "photo set: avatar_hash {hash} ({} attempt{})",
                done.attempts,
                if done.attempts == 1 { "" } else { "s" }
            );
            for w in &done.warnings {
                println!("warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: slack: {}", image.display(), explain(&e));
            Ok(ExitCode::from(1))
        }
    }
}

/// Runs `avatar delete`.
pub fn run_delete(args: &DeleteArgs) -> Result<ExitCode> {
    let token = token_from_env(&args.slack.token_env)?;
    let pacing = Pacing::per_minute(args.slack.rate).map_err(|e| anyhow::anyhow!("--rate: {e}"))?;
    let client = match client(&token, &args.slack, &pacing) {
        Ok(c) => c,
        Err(e) => bail!("{}", explain(&e)),
    };
    match runtime()?.block_on(client.delete_photo()) {
        Ok(done) => {
            println!("photo deleted");
            for w in &done.warnings {
                println!("warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("avatar: slack: {}", explain(&e));
            Ok(ExitCode::from(1))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// One manifest row.
#[derive(Debug, Clone)]
struct Row {
    /// 1-based line number in the manifest (the journal's key, with the image).
    line: usize,
    image: PathBuf,
    /// The image as written in the manifest (used in the journal and messages).
    image_text: String,
    token: TokenRef,
}

#[derive(Debug, Clone)]
enum TokenRef {
    Literal(String),
    Env(String),
}

impl TokenRef {
    fn resolve(&self) -> Result<String, String> {
        match self {
            TokenRef::Literal(t) => Ok(t.clone()),
            TokenRef::Env(name) => match std::env::var(name) {
                Ok(t) if !t.trim().is_empty() => Ok(t),
                _ => Err(format!(
                    "invalid_token: environment variable {name} is not set"
                )),
            },
        }
    }
}

fn read_manifest(path: &Path) -> Result<Vec<Row>> {
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("{}", path.display()))?;
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        let line = rec.position().map_or(i + 1, |p| p.line() as usize);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let (Some(image), Some(token)) = (rec.get(0), rec.get(1)) else {
            bail!("{}: line {line}: expected `image,token`", path.display());
        };
        if i == 0 && image.eq_ignore_ascii_case("image") && token.eq_ignore_ascii_case("token") {
            continue;
        }
        let token = match token.strip_prefix("env:") {
            Some(name) => TokenRef::Env(name.to_owned()),
            None => TokenRef::Literal(token.to_owned()),
        };
        rows.push(Row {
            line,
            image: base.join(image),
            image_text: image.to_owned(),
            token,
        });
    }
    Ok(rows)
}

/// One journal record (JSON Lines). Never holds a token.
#[derive(Debug, Serialize, Deserialize)]
struct JournalEntry {
    line: usize,
    image: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    avatar_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Rows the journal lists as uploaded. A torn last line (a crash mid-write) is ignored.
fn read_journal(path: &Path) -> Result<HashSet<(usize, String)>> {
    let mut done = HashSet::new();
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(e).with_context(|| format!("{}", path.display())),
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.with_context(|| format!("{}", path.display()))?;
        if let Ok(e) = serde_json::from_str::<JournalEntry>(&line) {
            if e.status == "ok" {
                done.insert((e.line, e.image));
            }
        }
    }
    Ok(done)
}

struct Journal {
    file: std::fs::File,
}

impl Journal {
    fn open(path: &Path) -> Result<Journal> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}", path.display()))?;
        Ok(Journal { file })
    }

    /// Appends one record and waits until it is on disk.
    fn record(&mut self, entry: &JournalEntry) -> Result<()> {
        let mut line = serde_json::to_string(entry)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()?;
        Ok(())
    }
}

fn run_manifest(args: &UploadArgs, manifest: &Path, journal_path: &Path) -> Result<ExitCode> {
    let rows = read_manifest(manifest)?;
    let done = read_journal(journal_path)?;
    let (skipped, pending): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|r| done.contains(&(r.line, r.image_text.clone())));
    let pacing = Pacing::per_minute(args.slack.rate).map_err(|e| anyhow::anyhow!("--rate: {e}"))?;
    let mut journal = Journal::open(journal_path)?;
    eprintln!(
        "avatar: {} rows to upload, {} already done according to {}",
        pending.len(),
        skipped.len(),
        journal_path.display()
    );

    // Prepare on rayon, a few rows ahead of the uploads (bounded channel: memory stays flat).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Row, Result<(Photo, String), String>)>(4);
    let producer_rows = pending.clone();
    let prep_args_ptr: &UploadArgs = args;
    let (ok, failed, stopped) = std::thread::scope(|scope| -> Result<(usize, usize, bool)> {
        scope.spawn(move || {
            producer_rows.into_par_iter().for_each_with(tx, |tx, row| {
                if tx.is_closed() {
                    return; // stopped: do not prepare the rest
                }
                let prepared = photo_for(&row.image, prep_args_ptr);
                let _ = tx.blocking_send((row, prepared));
            });
        });
        let rt = runtime()?;
        rt.block_on(async {
            let (mut ok, mut failed) = (0usize, 0usize);
            let mut stopped = false;
            let ctrl_c = tokio::signal::ctrl_c();
            tokio::pin!(ctrl_c);
            loop {
                let next = tokio::select! {
                    item = rx.recv() => item,
                    _ = &mut ctrl_c => { stopped = true; None }
                };
                let Some((row, prepared)) = next else { break };
                let outcome = match prepared {
                    Err(e) => Err(e),
                    Ok((photo, _)) => match row.token.resolve() {
                        Err(e) => Err(e),
                        Ok(token) => match client(&token, &args.slack, &pacing) {
                            Err(e) => Err(format!("invalid_token: {}", explain(&e))),
                            Ok(c) => c
                                .set_photo(&photo)
                                .await
                                .map_err(|e| format!("slack: {}", explain(&e))),
                        },
                    },
                };
                let entry = match &outcome {
                    Ok(done) => JournalEntry {
                        line: row.line,
                        image: row.image_text.clone(),
                        status: "ok".into(),
                        avatar_hash: done.profile.as_ref().and_then(|p| p.avatar_hash.clone()),
                        error: None,
                    },
                    Err(e) => JournalEntry {
                        line: row.line,
                        image: row.image_text.clone(),
                        status: "error".into(),
                        avatar_hash: None,
                        error: Some(e.clone()),
                    },
                };
                journal.record(&entry)?;
                match outcome {
                    Ok(_) => {
                        ok += 1;
                        eprintln!("line {} {}: ok", row.line, row.image_text);
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("line {} {}: {e}", row.line, row.image_text);
                    }
                }
            }
            // Dropping the receiver ends the producer's sends.
            drop(rx);
            Ok::<_, anyhow::Error>((ok, failed, stopped))
        })
    })?;
    eprintln!(
        "avatar: {ok} uploaded, {failed} failed, {} skipped (already done){}",
        skipped.len(),
        if stopped {
            ", stopped by Ctrl-C: run again to finish"
        } else {
            ""
        }
    );
    Ok(if failed == 0 && !stopped {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
