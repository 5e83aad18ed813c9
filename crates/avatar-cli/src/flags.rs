//! The command line: clap's argument structs, their value parsers, and the library options
//! they stand for. Imports nothing else from this crate.

use std::path::PathBuf;

use anyhow::{bail, Result};
use avatar_prep::{CropBox, Fit, FramePolicy, OutputFormat, PrepOptions, Rgba, SmallInput};
use clap::{Args, ValueEnum};

/// How a non-square image becomes square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FitArg {
    /// Scale the whole image into the square, fill the bars with --background.
    Letterbox,
    /// Take the largest centred square.
    Cover,
}

/// What to do with a GIF above --max-frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FramesArg {
    /// Fail with too_many_frames.
    Reject,
    /// Keep evenly spaced frames; the total duration is unchanged.
    Decimate,
    /// Keep the first frame only (a still image).
    First,
}

/// The output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FormatArg {
    /// JPEG stays JPEG, PNG stays PNG, GIF stays GIF (a still one as a one-frame GIF).
    Auto,
    /// Always JPEG.
    Jpeg,
    /// Always PNG.
    Png,
}

/// Arguments of `avatar prep`.
#[derive(Debug, Args)]
pub(crate) struct PrepArgs {
    /// Image files or folders (searched recursively; hidden files are skipped).
    #[arg(required = true)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Output folder; each output keeps its input's relative path, with the extension of
    /// its format.
    #[arg(short, long)]
    pub(crate) out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(short, long)]
    pub(crate) jobs: Option<usize>,
    /// Skip inputs whose output exists and is newer than the input (resume a run).
    #[arg(long)]
    pub(crate) skip_existing: bool,
    /// Write a JSON report with one record per input.
    #[arg(long, value_name = "FILE.json")]
    pub(crate) report: Option<PathBuf>,
    /// Render a grid of before -> after thumbnails with file names, failures marked (the
    /// first 600 files).
    #[arg(long, value_name = "FILE.png")]
    pub(crate) contact_sheet: Option<PathBuf>,
    /// No progress bar and no line per successful file (failures and the summary remain).
    #[arg(short, long)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) flags: PrepFlags,
}

/// How to prepare an image: shared by `avatar prep` and `avatar upload`.
#[derive(Debug, Args)]
pub(crate) struct PrepFlags {
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
    /// Letterbox colour: #rgb, #rrggbb, #rrggbbaa, white, black, transparent, red, green,
    /// blue, gray. Default: transparent for PNG output, white for JPEG.
    #[arg(long, value_parser = parse_color)]
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

/// Where the token and the API are.
#[derive(Debug, Args)]
pub(crate) struct SlackArgs {
    /// Environment variable that holds the user token (xoxp-…). The token is never printed.
    #[arg(long, default_value = "SLACK_TOKEN", value_name = "NAME")]
    pub(crate) token_env: String,
    /// Read the user token from this file instead (surrounding whitespace is ignored; keep
    /// the file private). The token is never printed.
    #[arg(long, value_name = "FILE", conflicts_with = "token_env")]
    pub(crate) token_file: Option<PathBuf>,
    /// Slack Web API base URL (GovSlack: `https://slack-gov.com/api/`). Default: $SLACK_API_URL,
    /// else `https://slack.com/api/`.
    #[arg(long)]
    pub(crate) base_url: Option<String>,
    /// Most requests per minute (Slack's Tier 2 allows about 20).
    #[arg(long, default_value_t = 20)]
    pub(crate) rate: u32,
}

/// Arguments of `avatar upload`.
#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// The image to set as the token owner's profile photo.
    #[arg(required_unless_present = "manifest", conflicts_with = "manifest")]
    pub(crate) image: Option<PathBuf>,
    /// Send the file as it is (JPEG/PNG/GIF); --crop is then sent as Slack's crop_x/y/w.
    #[arg(long)]
    pub(crate) no_prepare: bool,
    /// A CSV batch: one `image,token` row per upload (token literal or `env:NAME`; an optional
    /// header row `image,token`). Image paths are relative to the manifest's folder.
    #[arg(long, conflicts_with_all = ["token_env", "token_file"])]
    pub(crate) manifest: Option<PathBuf>,
    /// With --manifest: the journal of completed rows; a re-run skips rows it lists as done.
    /// Required unless --dry-run.
    #[arg(long, requires = "manifest")]
    pub(crate) journal: Option<PathBuf>,
    /// Prepare and check everything (files, token shapes, sizes, crop boxes) and send nothing:
    /// no request reaches Slack and the journal is not written.
    #[arg(long)]
    pub(crate) dry_run: bool,
    #[command(flatten)]
    pub(crate) slack: SlackArgs,
    #[command(flatten)]
    pub(crate) flags: PrepFlags,
}

/// Arguments of `avatar delete`.
#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    #[command(flatten)]
    pub(crate) slack: SlackArgs,
}

/// Arguments of `avatar completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// Arguments of `avatar man`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// The page of one subcommand (`prep`, `upload`, …) instead of the main page.
    pub(crate) subcommand: Option<String>,
    /// Write every page (avatar.1, avatar-prep.1, …) into this folder instead of printing
    /// one.
    #[arg(long, value_name = "DIR", conflicts_with = "subcommand")]
    pub(crate) out_dir: Option<PathBuf>,
}

/// Parses `--crop X,Y,SIDE`; SIDE must be at least 1.
fn parse_crop(s: &str) -> Result<CropBox, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [x, y, side] = parts.as_slice() else {
        return Err(format!("expected X,Y,SIDE, got {s:?}"));
    };
    let num = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("{v:?} is not a non-negative integer"))
    };
    let side = num(side)?;
    if side == 0 {
        return Err("SIDE must be at least 1".into());
    }
    Ok(CropBox::new(num(x)?, num(y)?, side))
}

/// Parses `--background`: `#rgb`, `#rrggbb`, `#rrggbbaa` (the `#` is optional) or a name.
/// The CLI's own parser: colour syntax is a command-line matter, not the library's.
pub(crate) fn parse_color(s: &str) -> Result<Rgba, String> {
    let err = || {
        format!(
            "invalid colour {s:?}: expected #rgb, #rrggbb, #rrggbbaa or a name (white, black, \
             transparent, red, green, blue, gray)"
        )
    };
    let t = s.trim().to_ascii_lowercase();
    let named = match t.as_str() {
        "white" => Some(Rgba::WHITE),
        "black" => Some(Rgba::BLACK),
        "transparent" | "none" => Some(Rgba::TRANSPARENT),
        "red" => Some(Rgba::new(255, 0, 0, 255)),
        "green" => Some(Rgba::new(0, 128, 0, 255)),
        "blue" => Some(Rgba::new(0, 0, 255, 255)),
        "gray" | "grey" => Some(Rgba::new(128, 128, 128, 255)),
        _ => None,
    };
    if let Some(c) = named {
        return Ok(c);
    }
    let hex = t.strip_prefix('#').unwrap_or(&t);
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err());
    }
    let digits: Vec<u8> = hex
        .bytes()
        .map(|b| match b {
            b'0'..=b'9' => b - b'0',
            _ => b - b'a' + 10,
        })
        .collect();
    let pair = |i: usize| digits[i] * 16 + digits[i + 1];
    match digits.len() {
        3 => Ok(Rgba::new(
            digits[0] * 17,
            digits[1] * 17,
            digits[2] * 17,
            255,
        )),
        6 => Ok(Rgba::new(pair(0), pair(2), pair(4), 255)),
        8 => Ok(Rgba::new(pair(0), pair(2), pair(4), pair(6))),
        _ => Err(err()),
    }
}

impl PrepFlags {
    /// The library options these flags stand for.
    pub(crate) fn options(&self) -> Result<PrepOptions> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_parses() {
        assert_eq!(parse_crop("1, 2,300"), Ok(CropBox::new(1, 2, 300)));
        assert!(parse_crop("1,2").is_err());
        assert!(parse_crop("-1,2,3").is_err());
        assert!(parse_crop("1,2,0").is_err(), "Slack needs crop_w >= 1");
    }

    #[test]
    fn colours_parse() {
        for (text, rgba) in [
            ("white", [255, 255, 255, 255]),
            (" Transparent ", [0, 0, 0, 0]),
            ("grey", [128, 128, 128, 255]),
            ("#f0a", [255, 0, 170, 255]),
            ("0F0", [0, 255, 0, 255]),
            ("#102030", [16, 32, 48, 255]),
            ("#A0B0C080", [160, 176, 192, 128]),
        ] {
            assert_eq!(parse_color(text).map(Rgba::to_array), Ok(rgba), "{text:?}");
        }
        for bad in [
            "",
            "#",
            "#12",
            "#12345",
            "#1234567",
            "#ggg",
            "teal",
            "#ff00ff00ff",
        ] {
            let err = parse_color(bad).unwrap_err();
            assert!(err.contains("invalid colour"), "{bad:?}: {err}");
        }
    }
}
