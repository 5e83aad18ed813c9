//! Prepare every image of a folder on a rayon pool of your choice, with a progress line per
//! finished file and a summary.
//!
//! ```text
//! cargo run -p avatar-prep --example prepare_folder -- photos/ out/ [THREADS]
//! ```
//!
//! With no arguments it prepares `samples/` into a temporary folder. Memory stays flat
//! whatever the folder's size: each outcome is written and dropped in the callback.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use avatar_prep::{FileOutcome, PrepOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples")));
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("avatar-prepare-folder"));
    let threads: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 0, // rayon's default: one per core
    };
    std::fs::create_dir_all(&out)?;

    let mut paths: Vec<PathBuf> = std::fs::read_dir(&input)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();

    // Your own pool: the library never builds rayon's global pool, it runs on the pool it is
    // called from (animated GIF frames too, through work stealing).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let done = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let stdout = Mutex::new(());
    let start = Instant::now();
    let total = paths.len();

    pool.install(|| {
        // The callback runs on the worker threads, as each file finishes (in any order).
        avatar_prep::prepare_files_with(&paths, &PrepOptions::default(), |_index, outcome| {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            let line = report(&outcome, &out).unwrap_or_else(|e| {
                failed.fetch_add(1, Ordering::Relaxed);
                e
            });
            let _guard = stdout.lock();
            println!("[{n}/{total}] {line}");
            ControlFlow::Continue(()) // Break(()) would stop starting new files
        });
    });

    let secs = start.elapsed().as_secs_f64();
    println!(
        "{total} files in {secs:.2} s ({:.1}/s) on {} threads, {} failed",
        total as f64 / secs.max(1e-9),
        pool.current_num_threads(),
        failed.load(Ordering::Relaxed),
    );
    Ok(())
}

/// Writes one outcome; gives the progress line, or the error line.
fn report(outcome: &FileOutcome, out: &Path) -> Result<String, String> {
    let name = outcome.path.display();
    match &outcome.result {
        Ok(avatar) => {
            let stem = outcome.path.file_stem().unwrap_or_default();
            let target = out.join(stem).with_extension(avatar.format().extension());
            std::fs::write(&target, avatar.bytes()).map_err(|e| format!("{name}: write: {e}"))?;
            Ok(format!(
                "{name}: ok: {} {}x{} in {} ms -> {}",
                avatar.format(),
                avatar.side(),
                avatar.side(),
                outcome.elapsed.as_millis(),
                target.display()
            ))
        }
        // The error names the file; the kind is stable for scripts.
        Err(e) => Err(format!("{name}: {}: {}", e.kind(), e.innermost())),
    }
}
