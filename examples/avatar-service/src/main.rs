//! `avatar-service`: an axum service that prepares photos with `avatar-prep` and sets them as
//! Slack profile photos with `avatar-upload`, plus a small page for people at `/`.
//!
//! ```text
//! avatar-service --listen 127.0.0.1:8080        # prints http://127.0.0.1:8080/ on stdout
//! SLACK_API_URL=https://slack-gov.com/api/ avatar-service
//! ```
//!
//! Routes: `POST /preview` (multipart `image` [+ `crop_x`, `crop_y`, `crop_w`, `fit`] → the
//! prepared bytes), `POST /avatar` (the same plus `Authorization: Bearer xoxp-…` → sets the
//! photo), `GET /healthz`, `GET /` (the page). Errors are JSON
//! `{"ok":false,"error":KIND,"message":…}`.
//!
//! How the traps of an async service are avoided, file by file:
//! - [`pool`]: decoding and encoding run on a rayon pool sized to the cores, behind a
//!   semaphore of `workers + queue` slots taken *before* the body is read; a request that
//!   finds no free slot gets 503 with `Retry-After` at once. Memory is therefore bounded by
//!   `slots × body limit` plus the decoders' own (header-checked) limits.
//! - [`form`]: the multipart body is parsed as it streams in, with the byte limit counted on
//!   the way (413 as soon as it is passed, never after buffering the whole body).
//! - [`slack`]: one `reqwest::Client` (one connection pool) for every request; each request
//!   wraps it in a `SlackClient` with the caller's own token, which is never logged.

mod app;
mod error;
mod form;
mod pool;
mod slack;

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tracing::{info, warn};

/// Prepares photos and sets them as Slack profile photos over HTTP.
#[derive(Debug, Parser)]
#[command(name = "avatar-service", version, about, long_about = None)]
struct Args {
    /// Address to listen on (port 0: any free port). The base URL is printed on stdout.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Slack's Web API base URL (GovSlack: <https://slack-gov.com/api/>, or a test server).
    #[arg(long, env = "SLACK_API_URL", default_value = avatar_upload::SLACK_API_URL)]
    slack_api_url: String,
    /// Largest request body in MiB (checked while the body streams in).
    #[arg(long, default_value_t = 50)]
    max_body_mib: u64,
    /// Preparation threads (default: the number of cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Requests that may wait for a preparation thread beyond those being prepared
    /// (default: twice the workers). Past that, 503 with Retry-After.
    #[arg(long)]
    queue: Option<usize>,
    /// Slack calls per minute, shared by every user (Tier 2 is about 20); 0: no pacing.
    #[arg(long, default_value_t = 20)]
    slack_rate: u32,
    /// Longest total wait for Slack's retries (429 Retry-After, backoff) within one request,
    /// in seconds; a longer Retry-After is passed on to the caller as 429.
    #[arg(long, default_value_t = 10)]
    slack_max_wait: u64,
    /// Seconds a client may take to send its request body.
    #[arg(long, default_value_t = 60)]
    body_timeout: u64,
    /// After SIGTERM or Ctrl-C, seconds to let requests in flight finish before exiting.
    #[arg(long, default_value_t = 30)]
    shutdown_grace: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .init();

    let workers = args
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let queue = args.queue.unwrap_or(workers * 2);
    let config = app::Config {
        max_body: args.max_body_mib.saturating_mul(1024 * 1024),
        body_timeout: Duration::from_secs(args.body_timeout),
        workers,
        queue,
        slack: slack::SlackConfig {
            base_url: args.slack_api_url,
            per_minute: (args.slack_rate > 0).then_some(args.slack_rate),
            max_wait: Duration::from_secs(args.slack_max_wait),
        },
    };

    // The executor only moves bytes; the CPU work has its own pool (see `pool`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args.listen, config, args.shutdown_grace))
}

async fn serve(listen: SocketAddr, config: app::Config, grace: u64) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr().context("no local address")?;
    info!(
        workers = config.workers,
        queue = config.queue,
        max_body = config.max_body,
        slack = %config.slack.base_url,
        "starting"
    );
    let app = app::router(app::App::new(config)?);

    // The base URL is the first line on stdout: scripts and tests read it to find the port.
    let mut out = std::io::stdout().lock();
    writeln!(out, "http://{addr}/").context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;
    drop(out);

    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        info!("shutting down: finishing the requests in flight");
        let _ = stop_tx.send(true);
    });
    tokio::select! {
        r = server => r.context("server failed")?,
        () = async {
            let _ = stop_rx.wait_for(|s| *s).await;
            tokio::time::sleep(Duration::from_secs(grace)).await;
        } => warn!(grace, "requests still in flight after the grace period: exiting anyway"),
    }
    info!("stopped");
    Ok(())
}

/// SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
