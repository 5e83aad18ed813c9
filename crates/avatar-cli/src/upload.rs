//! `avatar upload` (one image, or a manifest batch) and `avatar delete`: prepare, check,
//! then call Slack through avatar-upload.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use avatar_prep::{CropBox, PrepError, PrepOptions};
use avatar_upload::{Crop, Pacing, Photo, SetPhotoResponse, SlackClient, UploadError};
use rayon::prelude::*;

use crate::flags::{DeleteArgs, SlackArgs, UploadArgs};
use crate::manifest::{self, Journal, JournalEntry, JournalStatus, MissingEnv, Row};
use crate::report;

/// The largest side Slack takes (larger images earn `too_large`).
const SLACK_MAX_SIDE: u32 = 1024;

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

fn pacing(args: &SlackArgs) -> Result<Pacing> {
    Pacing::per_minute(args.rate).map_err(|e| anyhow!("--rate: {e}"))
}

fn build_client(
    token: &str,
    args: &SlackArgs,
    pacing: &Pacing,
) -> Result<SlackClient, UploadError> {
    SlackClient::builder(token)
        .base_url(base_url(args))
        .pacing(pacing.clone())
        .on_retry(|e| {
            eprintln!(
                "avatar: {} failed ({}); retry {} in {:.1} s",
                e.method,
                report::chain(e.error),
                e.retry,
                e.wait.as_secs_f64()
            );
        })
        .build()
}

/// The token of `upload`/`delete`: from `--token-file`, else from the environment variable
/// `--token-env` names. Error messages name the file or variable, never the token.
fn token(args: &SlackArgs) -> Result<String> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--token-file {}: cannot read it", path.display()))?;
        let token = text.trim();
        if token.is_empty() {
            bail!("--token-file {}: the file is empty", path.display());
        }
        return Ok(token.to_owned());
    }
    match std::env::var(&args.token_env) {
        Ok(t) if !t.trim().is_empty() => Ok(t),
        _ => bail!(
            "no token: set the environment variable {} to a user token (xoxp-…), or use --token-file",
            args.token_env
        ),
    }
}

/// One line for a failed call: the error with its sources and, for Slack's codes, a hint.
fn explain(e: &UploadError) -> String {
    let mut s = report::chain(e);
    if let Some(hint) = e.slack_code().and_then(|c| c.hint()) {
        s.push_str(": ");
        s.push_str(hint);
    }
    s
}

/// Why an image cannot be sent.
#[derive(Debug, thiserror::Error)]
enum PhotoError {
    /// The file could not be read (`--no-prepare`).
    #[error("cannot read the file")]
    Read(#[source] std::io::Error),
    /// avatar-prep refused the image or failed on it.
    #[error("cannot prepare the image")]
    Prepare(#[source] PrepError),
    /// The file is not a type Slack takes (`--no-prepare`).
    #[error("Slack would refuse it as it is (drop --no-prepare to convert it)")]
    Unsupported(#[source] UploadError),
    /// The crop box is not one Slack takes.
    #[error("the crop box is not valid")]
    InvalidCrop(#[source] UploadError),
    /// The crop box reaches outside the image (`--no-prepare`).
    #[error("the crop box {},{},{} reaches outside the {width}x{height} image", crop.x, crop.y, crop.side)]
    CropOutside {
        crop: CropBox,
        width: u32,
        height: u32,
    },
    /// The image is larger than Slack takes.
    #[error("{width}x{height} is larger than Slack's {SLACK_MAX_SIDE}x{SLACK_MAX_SIDE}")]
    TooLarge { width: u32, height: u32 },
    /// Prepared bytes that avatar-upload refuses: a bug.
    #[error("the prepared image was refused")]
    Internal(#[source] UploadError),
}

impl PhotoError {
    /// The stable snake_case kind printed before the message.
    fn kind(&self) -> &'static str {
        match self {
            PhotoError::Read(_) => "io",
            PhotoError::Prepare(e) => e.kind().as_str(),
            PhotoError::Unsupported(_) => "unsupported_format",
            PhotoError::InvalidCrop(_) | PhotoError::CropOutside { .. } => "invalid_crop",
            PhotoError::TooLarge { .. } => "too_large",
            PhotoError::Internal(_) => "internal",
        }
    }

    /// The message after the kind.
    fn message(&self) -> String {
        match self {
            PhotoError::Prepare(e) => report::message(e),
            PhotoError::TooLarge { .. } => format!(
                "{}; prepare it (without --no-prepare) or use --size {SLACK_MAX_SIDE} or less",
                report::chain(self)
            ),
            other => report::chain(other),
        }
    }
}

/// Why a manifest row (or the one image) was not set.
#[derive(Debug, thiserror::Error)]
enum RowError {
    /// The image cannot be sent.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The row's `env:NAME` variable is not set.
    #[error("no token")]
    MissingToken(#[source] MissingEnv),
    /// The token's shape is refused (or the client cannot be built for it).
    #[error("the token is refused")]
    Token(#[source] UploadError),
    /// Slack (or the way to it) failed.
    #[error("the upload failed")]
    Slack(#[source] UploadError),
}

impl RowError {
    fn kind(&self) -> &'static str {
        match self {
            RowError::Photo(e) => e.kind(),
            RowError::MissingToken(_) | RowError::Token(_) => "invalid_token",
            RowError::Slack(_) => "slack",
        }
    }

    fn message(&self) -> String {
        match self {
            RowError::Photo(e) => e.message(),
            RowError::MissingToken(e) => e.to_string(),
            RowError::Token(e) | RowError::Slack(e) => explain(e),
        }
    }

    /// `kind: message`, as printed and journaled.
    fn line(&self) -> String {
        format!("{}: {}", self.kind(), self.message())
    }
}

/// An image ready to send, and a one-line account of it.
struct Ready {
    photo: Photo,
    what: String,
}

/// Checks a size and a crop box against what Slack takes.
fn check_for_slack(width: u32, height: u32, crop: Option<CropBox>) -> Result<(), PhotoError> {
    if width > SLACK_MAX_SIDE || height > SLACK_MAX_SIDE {
        return Err(PhotoError::TooLarge { width, height });
    }
    if let Some(c) = crop {
        let inside = |start: u32, len: u32| start.checked_add(c.side).is_some_and(|e| e <= len);
        if !inside(c.x, width) || !inside(c.y, height) {
            return Err(PhotoError::CropOutside {
                crop: c,
                width,
                height,
            });
        }
    }
    Ok(())
}

/// The photo to send for a file: prepared (the default), or as it is with `--no-prepare`.
/// With `check_raw` (a dry run), a file sent as it is is also decoded, to check that Slack
/// could read it, its size and the crop box.
fn photo_for(
    path: &Path,
    args: &UploadArgs,
    options: &PrepOptions,
    check_raw: bool,
) -> Result<Ready, PhotoError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if args.no_prepare {
        let bytes = std::fs::read(path).map_err(PhotoError::Read)?;
        let len = bytes.len();
        let mut photo = Photo::new(bytes).map_err(PhotoError::Unsupported)?;
        if check_raw {
            let decoded = avatar_prep::prepare(photo.bytes(), &PrepOptions::default())
                .map_err(PhotoError::Prepare)?;
            let src = decoded.source();
            check_for_slack(src.width, src.height, args.flags.crop)?;
        }
        if let Some(c) = args.flags.crop {
            // The CLI's crop box (avatar-prep's type) becomes Slack's crop fields.
            photo = photo.crop(Crop::new(c.x, c.y, c.side).map_err(PhotoError::InvalidCrop)?);
        }
        return Ok(Ready {
            what: format!("{len} bytes as they are ({})", photo.mime()),
            photo: photo.filename(&name),
        });
    }
    let img = avatar_prep::prepare_file(path, options).map_err(PhotoError::Prepare)?;
    check_for_slack(img.side(), img.side(), None)?;
    let what = report::describe(&img);
    let stem = Path::new(&name).with_extension(img.format().extension());
    let photo = Photo::new(img.into_bytes())
        .map_err(PhotoError::Internal)?
        .filename(&stem.to_string_lossy());
    Ok(Ready { photo, what })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs `avatar upload`: one image, or the manifest batch.
pub(crate) fn run_upload(args: &UploadArgs) -> Result<ExitCode> {
    if let Some(manifest) = &args.manifest {
        return run_manifest(args, manifest);
    }
    let image = args.image.as_deref().context("an image is required")?;
    let options = args.flags.options()?;
    let token = token(&args.slack)?;
    let client = build_client(&token, &args.slack, &pacing(&args.slack)?)
        .map_err(|e| anyhow!("{}", explain(&e)))?;
    let ready = match photo_for(image, args, &options, args.dry_run) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: {}", image.display(), RowError::from(e).line());
            return Ok(ExitCode::from(1));
        }
    };
    if args.dry_run {
        eprintln!(
            "{}: ready: {} as {}; token accepted; nothing sent (dry run)",
            image.display(),
            ready.what,
            ready.photo.file_name()
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{}: sending {}", image.display(), ready.what);
    match runtime()?.block_on(client.set_photo(&ready.photo)) {
        Ok(done) => {
            print_set(&done);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: {}", image.display(), RowError::Slack(e).line());
            Ok(ExitCode::from(1))
        }
    }
}

fn print_set(done: &SetPhotoResponse) {
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
}

/// Runs `avatar delete`.
pub(crate) fn run_delete(args: &DeleteArgs) -> Result<ExitCode> {
    let token = token(&args.slack)?;
    let client = build_client(&token, &args.slack, &pacing(&args.slack)?)
        .map_err(|e| anyhow!("{}", explain(&e)))?;
    match runtime()?.block_on(client.delete_photo()) {
        Ok(done) => {
            println!("photo deleted");
            for w in &done.warnings {
                println!("warning: {w}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("avatar: {}", RowError::Slack(e).line());
            Ok(ExitCode::from(1))
        }
    }
}

/// One connection pool, pacing budget and retry policy for every row of a manifest: the
/// first row's token builds the client, every other row's is derived from it
/// (`SlackClient::with_token`).
struct Clients<'a> {
    args: &'a SlackArgs,
    pacing: Pacing,
    base: Option<SlackClient>,
}

impl Clients<'_> {
    fn for_token(&mut self, token: &str) -> Result<SlackClient, UploadError> {
        if let Some(base) = &self.base {
            return base.with_token(token);
        }
        let client = build_client(token, self.args, &self.pacing)?;
        self.base = Some(client.clone());
        Ok(client)
    }
}

/// A row prepared (or not) on the rayon side, on its way to the uploader.
type Prepared = (Row, Result<Ready, PhotoError>);

fn run_manifest(args: &UploadArgs, manifest: &Path) -> Result<ExitCode> {
    let journal_path = match (&args.journal, args.dry_run) {
        (Some(j), _) => Some(j.as_path()),
        (None, true) => None,
        (None, false) => bail!("--manifest needs --journal (or --dry-run)"),
    };
    let options = args.flags.options()?;
    let rows = manifest::read_manifest(manifest)?;
    let done = match journal_path {
        Some(p) => manifest::read_journal(p)?,
        None => HashSet::new(),
    };
    let (skipped, pending): (Vec<Row>, Vec<Row>) = rows
        .into_iter()
        .partition(|r| done.contains(&(r.line, r.image_text.clone())));
    let mut clients = Clients {
        args: &args.slack,
        pacing: pacing(&args.slack)?,
        base: None,
    };
    let mut journal = match (journal_path, args.dry_run) {
        (Some(p), false) => Some(Journal::open(p)?),
        _ => None,
    };
    eprintln!(
        "avatar: {} rows to {}, {} already done{}",
        pending.len(),
        if args.dry_run { "check" } else { "upload" },
        skipped.len(),
        journal_path
            .map(|p| format!(" according to {}", p.display()))
            .unwrap_or_default()
    );

    // Prepare on rayon, a few rows ahead of the uploads (bounded channel: memory stays flat).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Prepared>(4);
    let (ok, failed, stopped) = std::thread::scope(|scope| -> Result<(usize, usize, bool)> {
        scope.spawn(move || {
            pending.into_par_iter().for_each_with(tx, |tx, row| {
                if tx.is_closed() {
                    return; // stopped: do not prepare the rest
                }
                let prepared = photo_for(&row.image, args, &options, args.dry_run);
                let _ = tx.blocking_send((row, prepared));
            });
        });
        runtime()?.block_on(async {
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
                let outcome = send_row(&row, prepared, &mut clients, args.dry_run).await?;
                if let Some(journal) = &mut journal {
                    journal.record(&journal_entry(&row, &outcome))?;
                }
                match outcome {
                    Ok(Sent::Uploaded(_)) => {
                        ok += 1;
                        eprintln!("line {} {}: ok", row.line, row.image_text);
                    }
                    Ok(Sent::Checked(what)) => {
                        ok += 1;
                        eprintln!("line {} {}: ready: {what}", row.line, row.image_text);
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("line {} {}: {}", row.line, row.image_text, e.line());
                    }
                }
            }
            // Dropping the receiver ends the producer's sends.
            drop(rx);
            Ok::<_, anyhow::Error>((ok, failed, stopped))
        })
    })?;
    if args.dry_run {
        eprintln!(
            "avatar: dry run: {ok} ready, {failed} failed, {} skipped (already done); nothing was sent",
            skipped.len()
        );
    } else {
        eprintln!(
            "avatar: {ok} uploaded, {failed} failed, {} skipped (already done){}",
            skipped.len(),
            if stopped {
                ", stopped by Ctrl-C: run again to finish"
            } else {
                ""
            }
        );
    }
    Ok(if failed == 0 && !stopped {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What became of a row that did not fail.
enum Sent {
    /// Slack accepted it.
    Uploaded(Box<SetPhotoResponse>),
    /// Dry run: everything checked, nothing sent; the account of the photo.
    Checked(String),
}

/// Checks the row's token, then sends its photo (unless `dry_run`). Fails as a whole only on
/// settings every row shares (a base URL that is not http(s)).
async fn send_row(
    row: &Row,
    prepared: Result<Ready, PhotoError>,
    clients: &mut Clients<'_>,
    dry_run: bool,
) -> Result<Result<Sent, RowError>> {
    let ready = match prepared {
        Ok(r) => r,
        Err(e) => return Ok(Err(e.into())),
    };
    let token = match row.token.resolve() {
        Ok(t) => t,
        Err(e) => return Ok(Err(RowError::MissingToken(e))),
    };
    let client = match clients.for_token(&token) {
        Ok(c) => c,
        Err(e @ UploadError::InvalidToken { .. }) => return Ok(Err(RowError::Token(e))),
        Err(e) => bail!("{}", explain(&e)),
    };
    if dry_run {
        return Ok(Ok(Sent::Checked(ready.what)));
    }
    Ok(match client.set_photo(&ready.photo).await {
        Ok(done) => Ok(Sent::Uploaded(Box::new(done))),
        Err(e) => Err(RowError::Slack(e)),
    })
}

fn journal_entry(row: &Row, outcome: &Result<Sent, RowError>) -> JournalEntry {
    let (status, avatar_hash, error) = match outcome {
        Ok(Sent::Uploaded(done)) => (
            JournalStatus::Ok,
            done.profile.as_ref().and_then(|p| p.avatar_hash.clone()),
            None,
        ),
        Ok(Sent::Checked(_)) => (JournalStatus::Ok, None, None),
        Err(e) => (JournalStatus::Error, None, Some(e.line())),
    };
    JournalEntry {
        line: row.line,
        image: row.image_text.clone(),
        status,
        avatar_hash,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_crop_boxes_are_checked_like_slack() {
        assert!(check_for_slack(1024, 1024, None).is_ok());
        assert!(matches!(
            check_for_slack(1025, 800, None),
            Err(PhotoError::TooLarge { width: 1025, .. })
        ));
        assert!(check_for_slack(800, 600, Some(CropBox::new(100, 0, 600))).is_ok());
        let outside = check_for_slack(800, 600, Some(CropBox::new(300, 0, 600))).unwrap_err();
        assert_eq!(outside.kind(), "invalid_crop");
        assert!(
            outside.message().contains("800x600"),
            "{}",
            outside.message()
        );
        assert!(check_for_slack(800, 600, Some(CropBox::new(u32::MAX, 0, 2))).is_err());
    }

    #[test]
    fn row_errors_print_kind_then_chain() {
        let e = RowError::from(PhotoError::Read(std::io::Error::other("gone")));
        assert_eq!(e.line(), "io: cannot read the file: gone");
        let e = RowError::MissingToken(MissingEnv {
            name: "ROW_TOKEN".into(),
        });
        assert_eq!(
            e.line(),
            "invalid_token: environment variable ROW_TOKEN is not set"
        );
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<RowError>();
    }
}
