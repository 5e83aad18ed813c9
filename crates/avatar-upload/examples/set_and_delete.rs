//! Set a profile photo, then delete it, logging every retry the client makes.
//!
//! ```text
//! SLACK_TOKEN=xoxp-… cargo run -p avatar-upload --example set_and_delete -- avatar.jpg
//! SLACK_API_URL=http://127.0.0.1:8999/api/ SLACK_TOKEN=xoxp-test … # a test server
//! ```
//!
//! The image must already be a valid avatar (JPEG/PNG/GIF, square, at most 1024 px):
//! prepare it with `avatar-prep` first (see its `prepare_one` example). `--keep` sets the
//! photo without deleting it afterwards.

use std::process::ExitCode;
use std::time::Duration;

use avatar_upload::{Photo, RetryPolicy, SlackClient, UploadError};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Slack's code, with a hint for people when there is one. Never the token.
            let hint = e.slack_code().and_then(|c| c.hint());
            eprintln!(
                "error: {e}{}",
                hint.map(|h| format!(" ({h})")).unwrap_or_default()
            );
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), UploadError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep");
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        return Err(UploadError::InvalidRequest {
            detail: "usage: set_and_delete IMAGE [--keep]".into(),
        });
    };
    let token = std::env::var("SLACK_TOKEN").unwrap_or_default();
    let base =
        std::env::var("SLACK_API_URL").unwrap_or_else(|_| avatar_upload::SLACK_API_URL.into());

    // A bot token is refused here, before any request: only user tokens may set photos.
    let client = SlackClient::builder(token)
        .base_url(base)
        .retry(
            RetryPolicy::default()
                .max_retries(3)
                .max_total_wait(Duration::from_secs(90)),
        )
        // The hook runs before each wait: what failed, which retry, and for how long.
        .on_retry(|event| {
            eprintln!(
                "{}: {} — retry {} in {:.1} s",
                event.method,
                event.error,
                event.retry,
                event.wait.as_secs_f64()
            );
        })
        .build()?;

    let bytes = std::fs::read(path).map_err(|e| UploadError::InvalidRequest {
        detail: format!("cannot read {path}: {e}"),
    })?;
    // The Content-Type comes from the bytes, and only the file's base name is sent.
    let photo = Photo::new(bytes)?.filename(path);
    let set = client.set_photo(&photo).await?;
    println!(
        "photo set after {} request(s); avatar hash {}; 512 px image {}",
        set.attempts,
        set.profile
            .as_ref()
            .and_then(|p| p.avatar_hash.as_deref())
            .unwrap_or("?"),
        set.profile
            .as_ref()
            .and_then(|p| p.image_512.as_deref())
            .unwrap_or("?"),
    );
    for w in &set.warnings {
        println!("Slack warning: {w}");
    }
    if !keep {
        let deleted = client.delete_photo().await?;
        println!("photo deleted after {} request(s)", deleted.attempts);
    }
    Ok(())
}
