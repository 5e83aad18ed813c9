//! What a run tells: the `--report` records (JSON) and the one-line accounts of images and
//! errors printed on stderr.

use std::path::Path;

use anyhow::{Context, Result};
use avatar_prep::{Placement, PrepError, PreparedImage};
use serde::Serialize;

use crate::files::write_atomic;

/// What happened to one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Prepared and written.
    Ok,
    /// Failed; the record says why.
    Error,
    /// Left alone: its output already exists and is at least as new (`--skip-existing`).
    Skipped,
}

/// One record of `--report`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Record {
    pub(crate) input: String,
    pub(crate) output: Option<String>,
    pub(crate) status: Status,
    pub(crate) error_kind: Option<&'static str>,
    pub(crate) message: Option<String>,
    pub(crate) source_format: Option<&'static str>,
    pub(crate) source_width: Option<u32>,
    pub(crate) source_height: Option<u32>,
    pub(crate) frames: Option<u32>,
    pub(crate) output_side: Option<u32>,
    pub(crate) output_format: Option<&'static str>,
    pub(crate) output_bytes: Option<usize>,
    /// What a damaged input needed to decode (empty for a sound file).
    pub(crate) recovery: Vec<String>,
    pub(crate) time_ms: f64,
}

impl Record {
    /// A record with only the input and the status filled in.
    pub(crate) fn new(input: &Path, status: Status) -> Record {
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
            recovery: Vec::new(),
            time_ms: 0.0,
        }
    }

    /// Fills in what was prepared.
    pub(crate) fn prepared(&mut self, img: &PreparedImage) {
        let src = img.source();
        self.source_format = Some(src.format.name());
        self.source_width = Some(src.width);
        self.source_height = Some(src.height);
        self.frames = Some(img.frames());
        self.output_side = Some(img.side());
        self.output_format = Some(img.format().name());
        self.output_bytes = Some(img.bytes().len());
        self.recovery = img.recovery().iter().map(ToString::to_string).collect();
    }

    /// Marks the record failed.
    pub(crate) fn fail(&mut self, kind: &'static str, message: String) {
        self.status = Status::Error;
        self.error_kind = Some(kind);
        self.message = Some(message);
    }
}

/// Writes the records as a JSON array, atomically.
pub(crate) fn write_report(path: &Path, records: &[Record]) -> Result<()> {
    let json = serde_json::to_vec_pretty(records).context("cannot encode the report")?;
    write_atomic(path, &json).with_context(|| format!("{}", path.display()))
}

/// An error's message followed by its sources', joined by ": " (what `anyhow` prints with
/// `{:#}`).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The message of a preparation error: its innermost error and that one's sources (the
/// file's path, which the line already starts with, is left out).
pub(crate) fn message(e: &PrepError) -> String {
    chain(e.innermost())
}

/// A one-line account of what was done to an image.
pub(crate) fn describe(img: &PreparedImage) -> String {
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
    if !img.recovery().is_empty() {
        let notes: Vec<String> = img.recovery().iter().map(ToString::to_string).collect();
        what.push(format!("decoded with recovery: {}", notes.join("; ")));
    }
    format!(
        "{} {}x{}, {} bytes ({})",
        img.format().name(),
        img.side(),
        img.side(),
        img.bytes().len(),
        what.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_snake_case_json() {
        let rec = Record::new(Path::new("a.jpg"), Status::Skipped);
        let v = serde_json::to_value([&rec]).unwrap();
        assert_eq!(v[0]["status"], "skipped");
        let mut rec = Record::new(Path::new("b.jpg"), Status::Ok);
        rec.fail("io", "cannot write".into());
        let v = serde_json::to_value(&rec).unwrap();
        assert_eq!(
            (&v["status"], &v["error_kind"], &v["message"]),
            (
                &serde_json::json!("error"),
                &serde_json::json!("io"),
                &serde_json::json!("cannot write")
            )
        );
    }

    #[test]
    fn chain_joins_every_source() {
        let io = std::io::Error::other("disk on fire");
        let e = anyhow::Error::new(io).context("cannot write out/a.jpg");
        let as_std: &(dyn std::error::Error + 'static) = e.as_ref();
        assert_eq!(chain(as_std), "cannot write out/a.jpg: disk on fire");
    }
}
