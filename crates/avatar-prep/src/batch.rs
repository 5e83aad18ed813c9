//! Many files at once, in parallel on the caller's rayon pool.
//!
//! Run inside `pool.install(..)` to choose the threads; nothing here builds the global pool.
//! GIF frames of one file are processed in parallel on the same pool (work stealing).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::error::PrepError;
use crate::options::PrepOptions;
use crate::pipeline::prepare_file;
use crate::prepared::PreparedImage;

/// What became of one file.
#[derive(Debug)]
#[non_exhaustive]
pub struct FileOutcome {
    /// The input file.
    pub path: PathBuf,
    /// The prepared image, or why not (errors name the file).
    pub result: Result<PreparedImage, PrepError>,
    /// Time spent on this file (reading, decoding, encoding).
    pub elapsed: Duration,
}

fn one(path: &Path, options: &PrepOptions) -> FileOutcome {
    let start = Instant::now();
    let result = prepare_file(path, options);
    FileOutcome {
        path: path.to_path_buf(),
        result,
        elapsed: start.elapsed(),
    }
}

/// Prepares every file in parallel and returns the outcomes in input order. One bad file
/// never stops the others.
///
/// Every prepared image is kept in memory until the end: for large folders use
/// [`prepare_files_with`], which hands each outcome over as soon as it is ready.
pub fn prepare_files<P: AsRef<Path> + Sync>(
    paths: &[P],
    options: &PrepOptions,
) -> Vec<FileOutcome> {
    paths.par_iter().map(|p| one(p.as_ref(), options)).collect()
}

/// Prepares every file in parallel and calls `on_done(index, outcome)` as each one finishes
/// (in completion order; `index` is the file's place in `paths`). Memory does not grow with
/// the number of files: write the output in the callback and drop it.
///
/// The callback runs on the worker threads, possibly on several at once. When it returns
/// `ControlFlow::Break`, no further file is started (those in flight still finish and are
/// reported); the files never started get no callback.
pub fn prepare_files_with<P, F>(paths: &[P], options: &PrepOptions, on_done: F)
where
    P: AsRef<Path> + Sync,
    F: Fn(usize, FileOutcome) -> ControlFlow<()> + Sync + Send,
{
    let stop = AtomicBool::new(false);
    paths.par_iter().enumerate().for_each(|(i, p)| {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if on_done(i, one(p.as_ref(), options)).is_break() {
            stop.store(true, Ordering::Relaxed);
        }
    });
}
