//! Calling `prepare` from async code (a web handler, a queue consumer) without blocking the
//! executor, and without unbounded memory when many requests arrive at once.
//!
//! ```text
//! cargo run -p avatar-prep --example async_prepare -- photo1.jpg photo2.png …
//! ```
//!
//! `prepare` is CPU-bound (tens to hundreds of milliseconds for a phone photo). Called
//! directly inside an `async fn` it would stall every other task on that executor thread.
//! Hand it to `spawn_blocking` (or a rayon pool and a oneshot channel, as
//! `examples/avatar-service` does), and bound how many run at once with a semaphore sized to
//! the cores: `spawn_blocking`'s pool grows to 512 threads otherwise.

use std::sync::Arc;

use avatar_prep::{PrepError, PrepOptions, PreparedImage};
use tokio::sync::Semaphore;

/// Prepares `bytes` off the executor, at most `limit`'s permits at a time. The outer error
/// is the blocking task's own failure (a panic), the inner one the image's.
async fn prepare_async(
    limit: Arc<Semaphore>,
    bytes: Vec<u8>,
    options: PrepOptions,
) -> Result<Result<PreparedImage, PrepError>, tokio::task::JoinError> {
    // Wait for a slot without holding a thread. (A service would rather use try_acquire and
    // answer 503 + Retry-After when the queue is full.)
    let permit = limit
        .acquire_owned()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let _permit = permit; // released when the work is done, even if the caller gave up
        avatar_prep::prepare(&bytes, &options)
    })
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples/");
        paths = ["landscape.jpg", "transparent.png", "animated.gif"]
            .map(|n| format!("{samples}{n}"))
            .to_vec();
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let limit = Arc::new(Semaphore::new(cores));

    let mut tasks = tokio::task::JoinSet::new();
    for path in paths {
        let limit = limit.clone();
        tasks.spawn(async move {
            // Reading the file is I/O: tokio's async fs is fine here.
            let bytes = match tokio::fs::read(&path).await {
                Ok(b) => b,
                Err(e) => return format!("{path}: io: {e}"),
            };
            match prepare_async(limit, bytes, PrepOptions::default()).await {
                Err(e) => format!("{path}: the task failed: {e}"),
                Ok(Ok(a)) => format!(
                    "{path}: ok: {} {}x{}, {} bytes",
                    a.format(),
                    a.side(),
                    a.side(),
                    a.bytes().len()
                ),
                Ok(Err(e)) => format!("{path}: {}: {e}", e.kind()),
            }
        });
    }
    // Meanwhile the executor stays free: this ticker keeps running while images are prepared.
    let ticker = tokio::spawn(async {
        let mut ticks = 0u32;
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            ticks += 1;
            if ticks.is_multiple_of(50) {
                eprintln!("executor still responsive ({ticks} ticks)");
            }
        }
    });
    while let Some(line) = tasks.join_next().await {
        println!("{}", line?);
    }
    ticker.abort();
    Ok(())
}
