//! Turn arbitrary user photos into valid profile pictures.
//!
//! `avatar-prep` takes the bytes of a JPEG, PNG, GIF, WebP (still or animated), BMP or TIFF
//! (and, with the `heic` and `avif` cargo features, HEIC and AVIF) and gives back a square
//! image that Slack's `users.setPhoto` accepts: 512–1024 pixels a side, upright, sRGB,
//! without any of the input's metadata (no GPS position leaks from a phone photo).
//!
//! ```
//! # let photo = avatar_tests_fixture();
//! let avatar = avatar_prep::prepare(&photo, &avatar_prep::PrepOptions::default())?;
//! assert!((512..=1024).contains(&avatar.side()));
//! std::fs::write(std::env::temp_dir().join("avatar.jpg"), avatar.bytes())?;
//! # fn avatar_tests_fixture() -> Vec<u8> { include_bytes!("../../../samples/landscape.jpg").to_vec() }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What [`prepare`] does
//! 1. Recognises the format from the content, never from a file name ([`PrepError::Empty`],
//!    [`PrepError::NotAnImage`], [`PrepError::UnsupportedFormat`] otherwise).
//! 2. Reads the header and checks [`Limits`] *before* allocating pixel memory: a 100-byte
//!    file that claims 100000×100000 pixels is refused in microseconds.
//! 3. Plans the square in the upright image ([`Fit`]: letterbox by default, centre crop, or a
//!    crop box with the meaning of Slack's `crop_x`/`crop_y`/`crop_w`) and the output side,
//!    `min_side..=max_side` (512..=1024 by default; smaller images are enlarged or refused,
//!    see [`SmallInput`]).
//! 4. Decodes (large JPEGs at a reduced DCT scale, large PNGs averaged in blocks as their
//!    rows arrive: see [`PrepOptions::shrink_on_load`]), then crops and scales in one Lanczos3
//!    pass (premultiplied alpha) in the stored orientation; the EXIF orientation is applied to
//!    the small output square.
//! 5. Converts to 8-bit sRGB: grey, palette, 16-bit, CMYK (the simple formula browsers use) and embedded ICC
//!    profiles (Display P3, Adobe RGB, …).
//! 6. Encodes JPEG (4:2:0, optimised Huffman tables) or PNG
//!    ([`OutputFormat`]); opaque pixels going to JPEG stay RGB from the decode on. The output
//!    is deterministic: the same input and options give the same bytes.
//!
//! Every failure is a [`PrepError`] whose [`kind`](PrepError::kind) has a stable snake_case
//! name; [`prepare_file`] wraps errors with the file's path.
//!
//! # Folders
//! [`prepare_files`] (outcomes in input order) and [`prepare_files_with`] (a callback per
//! finished file, so memory stays flat) run on the caller's rayon pool; a bad file never stops
//! the batch.
//!
//! # Damaged files
//! Files that browsers still show are decoded as they show them (JPEG restart markers out of
//! sequence or missing, a broken EXIF block, an animated GIF cut inside a later frame, GIF
//! frames without a colour table); [`PreparedImage::recovery`] says what was needed.
//!
//! # Examples
//! `examples/prepare_one.rs` prepares one file and reports the error kind or what was done;
//! `examples/prepare_folder.rs` prepares a folder on your own rayon pool with
//! [`prepare_files_with`] and a progress line per file; `examples/async_prepare.rs` calls
//! [`prepare`] from async code through `spawn_blocking` behind a semaphore, never on the
//! executor (`cargo run -p avatar-prep --example prepare_one -- in.jpg out.jpg`).
//! `examples/avatar-service` at the repository root embeds the crate in an axum service.
//!
//! # Credits
//! JPEG input is decoded and JPEG output encoded by libjpeg-turbo (bundled by `mozjpeg-sys`;
//! IJG, BSD-3-Clause and zlib licences); in a build without nasm, where libjpeg-turbo has no
//! SIMD code, JPEG output is written by the `jpeg-encoder` crate, also based on the IJG's
//! work: "This software is based in part on the work of the Independent JPEG Group."

#![deny(missing_docs)]
#![warn(unreachable_pub)]
// `unsafe` is denied everywhere but in the wrappers over C-style codec APIs:
// `decode/libjpeg.rs` and `encode/libjpeg.rs` (libjpeg-turbo through mozjpeg-sys) and
// `decode/av1.rs` (rav1d, feature `avif`). Each allows it for itself and proves every use in a `SAFETY:` comment.
#![deny(unsafe_code)]

mod animate;
mod batch;
mod color;
mod compose;
mod decode;
mod encode;
mod error;
mod geometry;
mod limits;
mod options;
mod orient;
mod passthrough;
mod pipeline;
mod pixels;
mod prepared;
mod recovery;
mod resize;
mod shrink;
mod sniff;

pub use batch::{prepare_files, prepare_files_with, FileOutcome};
pub use error::{BoxError, ErrorKind, PrepError};
pub use geometry::Rect;
pub use limits::Limits;
pub use options::{
    CropBox, Fit, FramePolicy, ImageFormat, OutputFormat, PrepOptions, Rgba, SmallInput,
};
pub use orient::Orientation;
pub use pipeline::{prepare, prepare_file, Preparer};
pub use prepared::{Placement, PreparedImage, SourceInfo};
pub use recovery::Recovery;

/// The resampled frames of an animation before and after `prepare`'s palettes, and the
/// writer's palette mapping. For `benches/gif_palettes.rs` only; not part of the API.
#[doc(hidden)]
pub mod gif_palette_bench {
    pub use crate::animate::bench::{map_to_palette, median_cut, ResampledFrames};

    /// Up to `max_frames` resampled frames of the animation `bytes`; `None` when `prepare`
    /// does not resample it. `reuse`: palettes switched where the error is large (as
    /// `prepare` does), else the first palette for every frame.
    pub fn resampled_frames(
        bytes: &[u8],
        o: &crate::PrepOptions,
        max_frames: usize,
        reuse: bool,
    ) -> Result<Option<ResampledFrames>, crate::PrepError> {
        let pending = crate::decode::read_header(bytes, &o.limits)?;
        crate::animate::bench::resampled_frames(&pending.header, bytes, o, max_frames, reuse)
    }
}

/// Encodes an RGB square (`side`², rows packed) as `prepare` does for JPEG output. For the
/// criterion stage benches only (`benches/stages.rs`); not part of the API.
#[doc(hidden)]
pub fn encode_jpeg_for_bench(rgb: &[u8], side: u32, quality: u8) -> Result<Vec<u8>, PrepError> {
    encode::jpeg_rgb(rgb, side, quality)
}

/// Decodes an image as `prepare` does (header, limits, then the pixels at about 1/`shrink`
/// of its size: 1, 2, 4 or 8) and returns the decoded width and height. For the criterion
/// stage benches only (`benches/stages.rs`); not part of the API.
#[doc(hidden)]
pub fn decode_for_bench(
    bytes: &[u8],
    shrink: u32,
    limits: &Limits,
) -> Result<(u32, u32), PrepError> {
    let d = decode::read_header(bytes, limits)?.decode(shrink)?;
    Ok((d.width, d.height))
}
