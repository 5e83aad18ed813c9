//! `avatar prep`: flags, input discovery, output naming, atomic writes, per-file report.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::sheet;

use anyhow::{bail, Context, Result};
use avatar_prep::{
    CropBox, Fit, FramePolicy, OutputFormat, Placement, PrepError, PrepOptions, PreparedImage,
    Rgba, SmallInput,
};
use clap::{Args, ValueEnum};

/// How a non-square image becomes square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FitArg {
    /// Scale the whole image into the square, fill the bars with --background.
    Letterbox,
    /// Take the largest centred square.
    Cover,
}

/// What to do with a GIF above --max-frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FramesArg {
    /// Fail with too_many_frames.
    Reject,
    /// Keep evenly spaced frames; the total duration is unchanged.
    Decimate,
    /// Keep the first frame only (a still image).
    First,
}

/// The output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// JPEG stays JPEG, PNG stays PNG, an animated GIF stays GIF, a still GIF becomes PNG.
    Auto,
    /// Always JPEG.
    Jpeg,
    /// Always PNG.
    Png,
}

/// Arguments of `avatar prep`.
#[derive(Debug, Args)]
pub struct PrepArgs {
    /// Image files or folders (searched recursively; hidden files are skipped).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder; each output keeps its input's relative path, with the extension of
    /// its format.
    #[arg(short, long)]
    out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(short, long)]
    jobs: Option<usize>,
    /// Skip inputs whose output exists and is newer than the input (resume a run).
    #[arg(long)]
    skip_existing: bool,
    /// Write a JSON report with one record per input.
    #[arg(long, value_name = "FILE.json")]
    report: Option<PathBuf>,
    /// Render a grid of before -> after thumbnails with file names, failures marked (the
    /// first 600 files).
    #[arg(long, value_name = "FILE.png")]
    contact_sheet: Option<PathBuf>,
    /// No progress bar and no line per successful file (failures and the summary remain).
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    flags: PrepFlags,
}

/// How to prepare an image: shared by `avatar prep` and `avatar upload`.
#[derive(Debug, Args)]
pub struct PrepFlags {
    /// Largest output side in pixels.
    #[arg(long, default_value_t = 1024)]
    size: u32,
    /// Smallest output side in pixels; smaller squares are enlarged (see --reject-small).
    #[arg(long, default_value_t = 512)]
    min_size: u32,
    /// Fail images whose square is below --min-size instead of enlarging them.
    #[arg(long)]
    reject_small: bool,
    /// How a non-square image becomes square (ignored with --crop).
    #[arg(long, value_enum, default_value_t = FitArg::Letterbox)]
    fit: FitArg,
    /// Crop box X,Y,SIDE in upright pixels (Slack's crop_x, crop_y, crop_w); one input only.
    #[arg(long, value_parser = parse_crop)]
    pub(crate) crop: Option<CropBox>,
    /// Letterbox colour: #rrggbb, #rrggbbaa, white, black, transparent… Default:
    /// transparent for PNG output, white for JPEG.
    #[arg(long)]
    background: Option<Rgba>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// JPEG quality, 1–100, for every JPEG output.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Do not apply the EXIF orientation.
    #[arg(long)]
    no_orient: bool,
    /// Most frames an animated GIF keeps.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    max_frames: u32,
    /// What to do with a GIF above --max-frames.
    #[arg(long, value_enum, default_value_t = FramesArg::Reject)]
    frames: FramesArg,
}

fn parse_crop(s: &str) -> Result<CropBox, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [x, y, side] = parts.as_slice() else {
        return Err(format!("expected X,Y,SIDE, got {s:?}"));
    };
    let num = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("{v:?} is not a non-negative integer"))
    };
    Ok(CropBox::new(num(x)?, num(y)?, num(side)?))
}

impl PrepFlags {
    /// The library options these flags stand for.
    pub fn options(&self) -> Result<PrepOptions> {
        if self.min_size > self.size {
            bail!("--min-size {} is above --size {}", self.min_size, self.size);
        }
        let fit = match (self.crop, self.fit) {
            (Some(c), _) => Fit::Crop(c),
            (None, FitArg::Cover) => Fit::CenterCrop,
            (None, FitArg::Letterbox) => Fit::Letterbox {
                background: self.background,
            },
        };
        let format = match self.format {
            FormatArg::Auto => OutputFormat::Auto,
            FormatArg::Jpeg => OutputFormat::Jpeg,
            FormatArg::Png => OutputFormat::Png,
        };
        Ok(PrepOptions::default()
            .fit(fit)
            .max_side(self.size)
            .min_side(self.min_size)
            .small_input(if self.reject_small {
                SmallInput::Reject
            } else {
                SmallInput::Upscale
            })
            .format(format)
            .jpeg_quality(self.quality)
            .apply_orientation(!self.no_orient)
            .max_frames(self.max_frames)
            .frame_policy(match self.frames {
                FramesArg::Reject => FramePolicy::Reject,
                FramesArg::Decimate => FramePolicy::Decimate,
                FramesArg::First => FramePolicy::FirstFrame,
            }))
    }
}

/// One input file and where its output goes (without extension).
#[derive(Debug)]
struct Job {
    input: PathBuf,
    /// Output path without extension, unique among all jobs.
    out_stem: PathBuf,
}

/// Lists the input files: files as given, folders recursively in name order, skipping
/// hidden entries and the output folder itself.
fn discover(inputs: &[PathBuf], out: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let out_abs = std::fs::canonicalize(out).ok();
    let mut found = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).with_context(|| format!("{}", input.display()))?;
        if meta.is_dir() {
            walk(input, Path::new(""), out_abs.as_deref(), &mut found)?;
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("image"));
            found.push((input.clone(), name));
        }
    }
    Ok(found)
}

fn walk(
    dir: &Path,
    rel: &Path,
    skip: Option<&Path>,
    found: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<()> {
    if let (Some(skip), Ok(abs)) = (skip, std::fs::canonicalize(dir)) {
        if abs == skip {
            return Ok(());
        }
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("{}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&path, &rel.join(&name), skip, found)?;
        } else if ty.is_file() || (ty.is_symlink() && path.is_file()) {
            found.push((path, rel.join(&name)));
        }
    }
    Ok(())
}

/// Gives every input a unique output stem: `a.jpg` and `a.png` in one folder become `a`
/// and `a-2`. Comparison ignores case, for case-insensitive file systems.
fn plan_outputs(found: Vec<(PathBuf, PathBuf)>, out: &Path) -> Vec<Job> {
    let mut taken: HashSet<String> = HashSet::new();
    let mut jobs = Vec::with_capacity(found.len());
    for (input, rel) in found {
        let stem = rel.with_extension("");
        let mut candidate = stem.clone();
        let mut n = 1;
        while !taken.insert(candidate.to_string_lossy().to_lowercase()) {
            n += 1;
            let file = stem
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            candidate = stem.with_file_name(format!("{file}-{n}"));
        }
        jobs.push(Job {
            input,
            out_stem: out.join(candidate),
        });
    }
    jobs
}

/// The prefix of our temporary files: `.avatar-tmp-<name>.<pid>.tmp`.
const TMP_PREFIX: &str = ".avatar-tmp-";

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
/// A reader never sees a partial file under the final name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!("{TMP_PREFIX}{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes temporary files a killed run left behind (only ours, by their prefix).
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        match e.file_type() {
            Ok(t) if t.is_dir() => remove_stale_temps(&path),
            Ok(t) if t.is_file() && name.starts_with(TMP_PREFIX) && name.ends_with(".tmp") => {
                let _ = std::fs::remove_file(&path);
            }
            _ => {}
        }
    }
}

/// An existing output for `stem` at least as new as `input`, if there is one.
fn existing_output(stem: &Path, input: &Path) -> Option<PathBuf> {
    let input_time = std::fs::metadata(input).and_then(|m| m.modified()).ok()?;
    ["jpg", "png", "gif"].iter().find_map(|ext| {
        let p = stem.with_extension(ext);
        let t = std::fs::metadata(&p).and_then(|m| m.modified()).ok()?;
        (t >= input_time).then_some(p)
    })
}

/// The message of the innermost error and its sources, joined by ": ".
pub fn message(e: &PrepError) -> String {
    let mut out = e.innermost().to_string();
    let mut source = std::error::Error::source(e.innermost());
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// A one-line account of what was done to an image.
pub fn describe(img: &PreparedImage) -> String {
    let src = img.source();
    let mut what = vec![format!("from {}x{} {}", src.width, src.height, src.format)];
    let o = img.orientation_applied();
    if o.exif_value() != 1 {
        what.push(format!("orientation {}", o.exif_value()));
    }
    match img.placement() {
        Placement::Letterbox {
            content,
            background,
        } if content.w != img.side() || content.h != img.side() => {
            what.push(format!("letterbox {background}"))
        }
        Placement::Crop { region } => {
            what.push(format!("crop {},{},{}", region.x, region.y, region.w))
        }
        _ => {}
    }
    if img.frames() > 1 {
        what.push(format!("{} frames", img.frames()));
    }
    if img.icc_converted() {
        what.push("ICC to sRGB".into());
    }
    what.push(format!("scale {:.3}", img.scale()));
    format!(
        "{} {}x{}, {} bytes ({})",
        img.format().name(),
        img.side(),
        img.side(),
        img.bytes().len(),
        what.join(", ")
    )
}

/// One record of `--report`.
#[derive(Debug, Clone, Serialize)]
struct Record {
    input: String,
    output: Option<String>,
    /// `ok`, `error` or `skipped`.
    status: &'static str,
    error_kind: Option<&'static str>,
    message: Option<String>,
    source_format: Option<&'static str>,
    source_width: Option<u32>,
    source_height: Option<u32>,
    frames: Option<u32>,
    output_side: Option<u32>,
    output_format: Option<&'static str>,
    output_bytes: Option<usize>,
    time_ms: f64,
}

impl Record {
    fn new(input: &Path, status: &'static str) -> Record {
        Record {
            input: input.display().to_string(),
            output: None,
            status,
            error_kind: None,
            message: None,
            source_format: None,
            source_width: None,
            source_height: None,
            frames: None,
            output_side: None,
            output_format: None,
            output_bytes: None,
            time_ms: 0.0,
        }
    }
}

/// The contact-sheet cell of a file: thumbnails of the input and of the output (or the
/// error kind).
fn sheet_cell(job: &Job, output: Result<&[u8], &str>) -> sheet::Cell {
    let before = std::fs::read(&job.input)
        .ok()
        .and_then(|b| sheet::thumbnail(&b));
    let after = match output {
        Ok(bytes) => sheet::thumbnail(bytes).ok_or_else(|| "unreadable output".to_owned()),
        Err(kind) => Err(kind.to_owned()),
    };
    sheet::Cell {
        label: job
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        before,
        after,
    }
}

/// Writes one outcome's output; returns its report record, the line to print and, when
/// `sheet` is set, its contact-sheet cell (made from the bytes in hand, not read back).
fn finish(
    job: &Job,
    outcome: avatar_prep::FileOutcome,
    sheet: bool,
) -> (Record, String, Option<sheet::Cell>) {
    let name = job.input.display();
    let mut rec = Record::new(&job.input, "ok");
    rec.time_ms = outcome.elapsed.as_secs_f64() * 1000.0;
    match outcome.result {
        Ok(img) => {
            let path = job.out_stem.with_extension(img.format().extension());
            let src = img.source();
            rec.source_format = Some(src.format.name());
            rec.source_width = Some(src.width);
            rec.source_height = Some(src.height);
            rec.frames = Some(img.frames());
            rec.output_side = Some(img.side());
            rec.output_format = Some(img.format().name());
            rec.output_bytes = Some(img.bytes().len());
            match write_atomic(&path, img.bytes()) {
                Ok(()) => {
                    rec.output = Some(path.display().to_string());
                    let line = format!("{name}: ok: {} -> {}", describe(&img), path.display());
                    let cell = sheet.then(|| sheet_cell(job, Ok(img.bytes())));
                    (rec, line, cell)
                }
                Err(e) => {
                    rec.status = "error";
                    rec.error_kind = Some("io");
                    rec.message = Some(format!("cannot write {}: {e}", path.display()));
                    let line = format!("{name}: io: cannot write {}: {e}", path.display());
                    let cell = sheet.then(|| sheet_cell(job, Err("io")));
                    (rec, line, cell)
                }
            }
        }
        Err(e) => {
            rec.status = "error";
            rec.error_kind = Some(e.kind().as_str());
            rec.message = Some(message(&e));
            let line = format!("{name}: {}: {}", e.kind(), message(&e));
            let cell = sheet.then(|| sheet_cell(job, Err(e.kind().as_str())));
            (rec, line, cell)
        }
    }
}

/// Runs `avatar prep`; the exit code says whether every file succeeded.
pub fn run(args: &PrepArgs) -> Result<ExitCode> {
    let options = args.flags.options()?;
    let found = discover(&args.inputs, &args.out)?;
    if args.flags.crop.is_some() && found.len() != 1 {
        bail!("--crop needs exactly one input image, got {}", found.len());
    }
    remove_stale_temps(&args.out);
    let jobs = plan_outputs(found, &args.out);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;

    // Resume: outputs at least as new as their input are kept as they are.
    let mut records: Vec<Option<Record>> = vec![None; jobs.len()];
    let mut todo: Vec<usize> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let existing = if args.skip_existing {
            existing_output(&job.out_stem, &job.input)
        } else {
            None
        };
        match existing {
            Some(out) => {
                let mut rec = Record::new(&job.input, "skipped");
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
    let want_sheet = |i: usize| args.contact_sheet.is_some() && i < sheet::MAX_FILES;
    let cells: Mutex<Vec<Option<sheet::Cell>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    for (i, rec) in records.iter().enumerate() {
        if let (Some(rec), true) = (rec, want_sheet(i)) {
            let out = rec
                .output
                .as_ref()
                .and_then(|o| std::fs::read(o).ok())
                .unwrap_or_default();
            cells.lock().unwrap_or_else(|p| p.into_inner())[i] =
                Some(sheet_cell(&jobs[i], Ok(&out)));
        }
    }
    let paths: Vec<&Path> = todo.iter().map(|&i| jobs[i].input.as_path()).collect();
    let start = Instant::now();
    pool.install(|| {
        avatar_prep::prepare_files_with(&paths, &options, |k, outcome| {
            let i = todo[k];
            let (rec, line, cell) = finish(&jobs[i], outcome, want_sheet(i));
            if let Some(cell) = cell {
                cells.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(cell);
            }
            let failed = rec.status != "ok";
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
            results
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((i, rec));
            if stop.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let elapsed = start.elapsed().as_secs_f64();
    for (i, rec) in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        records[i] = Some(rec);
    }
    let ok = records
        .iter()
        .flatten()
        .filter(|r| r.status == "ok")
        .count();
    let failed = records
        .iter()
        .flatten()
        .filter(|r| r.status == "error")
        .count();
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
    if let Some(report) = &args.report {
        let all: Vec<Record> = records.into_iter().flatten().collect();
        let json = serde_json::to_vec_pretty(&all).context("cannot encode the report")?;
        write_atomic(report, &json).with_context(|| format!("{}", report.display()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_parses() {
        assert_eq!(parse_crop("1, 2,300"), Ok(CropBox::new(1, 2, 300)));
        assert!(parse_crop("1,2").is_err());
        assert!(parse_crop("-1,2,3").is_err());
    }

    #[test]
    fn same_stem_gets_a_suffix() {
        let found = vec![
            (PathBuf::from("in/a.jpg"), PathBuf::from("a.jpg")),
            (PathBuf::from("in/A.png"), PathBuf::from("A.png")),
            (PathBuf::from("in/b/a.jpg"), PathBuf::from("b/a.jpg")),
            (PathBuf::from("x/a.gif"), PathBuf::from("a.gif")),
        ];
        let jobs = plan_outputs(found, Path::new("out"));
        let stems: Vec<_> = jobs.iter().map(|j| j.out_stem.clone()).collect();
        assert_eq!(
            stems,
            vec![
                PathBuf::from("out/a"),
                PathBuf::from("out/A-2"),
                PathBuf::from("out/b/a"),
                PathBuf::from("out/a-3"),
            ]
        );
    }
}
