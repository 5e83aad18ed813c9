//! `avatar prep`: prepare every input on a rayon pool, write each output as it finishes,
//! print a line per file, and the report, contact sheet and summary at the end.

use std::io::IsTerminal;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::files::{self, Job};
use crate::flags::PrepArgs;
use crate::report::{self, Record, Status};
use crate::sheet;

/// Writes one outcome's output; returns its report record, the line to print and, when
/// `want_cell` is set, its contact-sheet cell (made from the bytes in hand, not read back).
fn finish(
    job: &Job,
    outcome: avatar_prep::FileOutcome,
    want_cell: bool,
) -> (Record, String, Option<sheet::Cell>) {
    let name = job.input.display();
    let mut rec = Record::new(&job.input, Status::Ok);
    rec.time_ms = outcome.elapsed.as_secs_f64() * 1000.0;
    match outcome.result {
        Ok(img) => {
            let path = job.out_stem.with_extension(img.format().extension());
            rec.prepared(&img);
            match files::write_atomic(&path, img.bytes()) {
                Ok(()) => {
                    rec.output = Some(path.display().to_string());
                    let line = format!(
                        "{name}: ok: {} -> {}",
                        report::describe(&img),
                        path.display()
                    );
                    let cell = want_cell.then(|| sheet::cell(job, Ok(img.bytes())));
                    (rec, line, cell)
                }
                Err(e) => {
                    let msg = format!("cannot write {}: {e}", path.display());
                    let line = format!("{name}: io: {msg}");
                    rec.fail("io", msg);
                    let cell = want_cell.then(|| sheet::cell(job, Err("io")));
                    (rec, line, cell)
                }
            }
        }
        Err(e) => {
            let kind = e.kind().as_str();
            let msg = report::message(&e);
            let line = format!("{name}: {kind}: {msg}");
            rec.fail(kind, msg);
            let cell = want_cell.then(|| sheet::cell(job, Err(kind)));
            (rec, line, cell)
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `avatar prep`; the exit code says whether every file succeeded.
pub(crate) fn run(args: &PrepArgs) -> Result<ExitCode> {
    let options = args.flags.options()?;
    let found = files::discover(&args.inputs, &args.out)?;
    if args.flags.crop.is_some() && found.len() != 1 {
        bail!("--crop needs exactly one input image, got {}", found.len());
    }
    files::remove_stale_temps(&args.out);
    let jobs = files::plan_outputs(found, &args.out);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;

    // Resume: outputs at least as new as their input are kept as they are.
    let mut records: Vec<Option<Record>> = vec![None; jobs.len()];
    let mut todo: Vec<usize> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let existing = if args.skip_existing {
            files::existing_output(&job.out_stem, &job.input)
        } else {
            None
        };
        match existing {
            Some(out) => {
                let mut rec = Record::new(&job.input, Status::Skipped);
                rec.output = Some(out.display().to_string());
                records[i] = Some(rec);
            }
            None => todo.push(i),
        }
    }
    let skipped = jobs.len() - todo.len();

    // Ctrl-C: finish the files in flight (their writes are atomic), start no new one.
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }

    let bar = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(todo.len() as u64);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} files  {per_sec}  ETA {eta}",
        ) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let results: Mutex<Vec<(usize, Record)>> = Mutex::new(Vec::with_capacity(todo.len()));
    let want_cell = |i: usize| args.contact_sheet.is_some() && i < sheet::MAX_FILES;
    let cells: Mutex<Vec<Option<sheet::Cell>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    for (i, rec) in records.iter().enumerate() {
        if let (Some(rec), true) = (rec, want_cell(i)) {
            let out = rec
                .output
                .as_ref()
                .and_then(|o| std::fs::read(o).ok())
                .unwrap_or_default();
            lock(&cells)[i] = Some(sheet::cell(&jobs[i], Ok(&out)));
        }
    }
    let paths: Vec<&Path> = todo.iter().map(|&i| jobs[i].input.as_path()).collect();
    let start = Instant::now();
    // Outputs are written (and synced: `write_atomic`) by one writer thread, so a worker
    // goes on to its next image while the disk confirms the last one; the bounded queue makes
    // the workers wait when the disk falls behind (fsync took 1.5 ms per file on the bench
    // machine, 20 ms for the first).
    let (send, receive) = std::sync::mpsc::sync_channel::<(usize, avatar_prep::FileOutcome)>(
        2 * pool.current_num_threads(),
    );
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for (k, outcome) in receive {
                let i = todo[k];
                let (rec, line, cell) = finish(&jobs[i], outcome, want_cell(i));
                if let Some(cell) = cell {
                    lock(&cells)[i] = Some(cell);
                }
                let failed = rec.status != Status::Ok;
                match &bar {
                    Some(bar) => {
                        if failed {
                            bar.println(&line);
                        }
                        bar.inc(1);
                    }
                    None if failed || !args.quiet => eprintln!("{line}"),
                    None => {}
                }
                lock(&results).push((i, rec));
            }
        });
        pool.install(|| {
            avatar_prep::prepare_files_with(&paths, &options, |k, outcome| {
                // The writer ends only when every sender is gone; should it have panicked,
                // the join below reports it.
                if send.send((k, outcome)).is_err() || stop.load(Ordering::SeqCst) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
        });
        drop(send);
        if let Err(panic) = writer.join() {
            std::panic::resume_unwind(panic);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let elapsed = start.elapsed().as_secs_f64();
    for (i, rec) in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        records[i] = Some(rec);
    }
    let count = |s: Status| records.iter().flatten().filter(|r| r.status == s).count();
    let (ok, failed) = (count(Status::Ok), count(Status::Error));
    let not_run = records.iter().filter(|r| r.is_none()).count();
    if let Some(path) = &args.contact_sheet {
        let cells: Vec<sheet::Cell> = cells
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_iter()
            .flatten()
            .collect();
        sheet::write(path, &cells).with_context(|| format!("{}", path.display()))?;
    }
    if let Some(path) = &args.report {
        let all: Vec<Record> = records.into_iter().flatten().collect();
        report::write_report(path, &all)?;
    }
    let rate = if elapsed > 0.0 {
        (ok + failed) as f64 / elapsed
    } else {
        0.0
    };
    let interrupted = if not_run > 0 {
        format!(", {not_run} not started (interrupted)")
    } else {
        String::new()
    };
    eprintln!(
        "avatar: {ok} ok, {failed} failed, {skipped} skipped{interrupted}, {} files in {elapsed:.2} s ({rate:.1} images/s)",
        jobs.len()
    );
    Ok(if stop.load(Ordering::SeqCst) {
        ExitCode::from(130)
    } else if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
