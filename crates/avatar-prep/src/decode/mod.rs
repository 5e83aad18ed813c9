//! Decoders, one file per codec, behind one small seam:
//!
//! 1. [`read_header`] sniffs the format and calls the codec's `header`, which parses only the
//!    header and checks every [`Limits`] ceiling that can be checked without pixels;
//! 2. the caller plans the output from the size it now knows;
//! 3. [`Pending::decode`] allocates the pixel buffer and decodes, at a reduced scale where the
//!    codec can (JPEG in the DCT domain, PNG by box averaging as rows arrive).
//!
//! Adding a format is adding a file here, a line in `sniff.rs` and an arm in the two
//! dispatches below.

#[cfg(feature = "avif")]
#[allow(unsafe_code)]
mod av1;
#[cfg(feature = "avif")]
mod avif;
mod bmp;
mod gif;
#[cfg(feature = "heic")]
mod heic;
#[cfg(any(feature = "heic", feature = "avif"))]
mod heif_boxes;
mod image_rs;
mod jpeg;
pub(crate) mod libjpeg;
mod png;
mod restart;
mod seam;
mod tiff;
mod webp;
#[cfg(feature = "avif")]
mod yuv;

pub(crate) use self::gif::{gif_decoder, gif_error};
pub(crate) use self::seam::{
    check_dimensions, AnimScan, FrameBudget, FrameSource, Header, PaletteHint, Pending,
};

use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::pixels::Decoded;
use crate::sniff::sniff;

/// Reads the header and checks the limits. Allocates nothing in proportion to the pixels.
pub(crate) fn read_header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    let len = bytes.len() as u64;
    if len > limits.max_input_bytes {
        return Err(PrepError::InputTooLarge {
            bytes: len,
            limit: limits.max_input_bytes,
        });
    }
    match sniff(bytes)? {
        ImageFormat::Jpeg => jpeg::header(bytes, limits),
        ImageFormat::Png => png::header(bytes, limits),
        ImageFormat::Gif => gif::header(bytes, limits),
        ImageFormat::WebP => webp::header(bytes, limits),
        ImageFormat::Bmp => bmp::header(bytes, limits),
        ImageFormat::Tiff => tiff::header(bytes, limits),
        #[cfg(feature = "heic")]
        ImageFormat::Heic => heic::header(bytes, limits),
        #[cfg(feature = "avif")]
        ImageFormat::Avif => avif::header(bytes, limits),
        // Every format has a decoder when the optional ones are on.
        #[allow(unreachable_patterns)]
        other => Err(PrepError::internal(format!("no decoder for {other}"))),
    }
}

impl Pending<'_> {
    /// Decodes the pixels, at full resolution or reduced by about `shrink` (1, 2, 4 or 8)
    /// where the codec can do it cheaply. The result's size says which scale was used.
    pub(crate) fn decode(self, shrink: u32) -> Result<Decoded, PrepError> {
        self.decode_reusing(shrink, &mut Vec::new())
    }

    /// [`Pending::decode`], with `buffer`'s allocation for the pixels where the codec can
    /// use it (JPEG: a worker's buffer from its last image, so that the pixels of every
    /// image after the first land in memory already mapped). `buffer` is left empty when it
    /// was used.
    pub(crate) fn decode_reusing(
        self,
        shrink: u32,
        buffer: &mut Vec<u8>,
    ) -> Result<Decoded, PrepError> {
        match self.header.format {
            ImageFormat::Jpeg => jpeg::decode(self, shrink, std::mem::take(buffer)),
            ImageFormat::Png => png::decode(self, shrink),
            ImageFormat::Gif => gif::decode(self),
            ImageFormat::WebP => webp::decode(self),
            ImageFormat::Bmp => bmp::decode(self),
            ImageFormat::Tiff => tiff::decode(self),
            #[cfg(feature = "heic")]
            ImageFormat::Heic => heic::decode(self),
            #[cfg(feature = "avif")]
            ImageFormat::Avif => avif::decode(self),
            // Every format has a decoder when the optional ones are on.
            #[allow(unreachable_patterns)]
            other => Err(PrepError::internal(format!("no decoder for {other}"))),
        }
    }
}

/// Scans an animation's frame headers, or `None` for a format that has no animations.
pub(crate) fn scan_animation(
    format: ImageFormat,
    bytes: &[u8],
    limits: &Limits,
    budget: &FrameBudget,
) -> Result<Option<AnimScan>, PrepError> {
    match format {
        ImageFormat::Gif => gif::scan(bytes, limits, budget).map(Some),
        ImageFormat::WebP => webp::scan(bytes, limits, budget).map(Some),
        #[cfg(feature = "avif")]
        ImageFormat::Avif => avif::scan(bytes, limits, budget).map(Some),
        _ => Ok(None),
    }
}

/// The frames of an animation that [`scan_animation`] has passed.
pub(crate) fn animation_frames<'a>(
    format: ImageFormat,
    bytes: &'a [u8],
    limits: &Limits,
    scan: &AnimScan,
) -> Result<Box<dyn FrameSource + 'a>, PrepError> {
    match format {
        ImageFormat::Gif => Ok(Box::new(gif::Frames::new(bytes, limits, scan)?)),
        ImageFormat::WebP => Ok(Box::new(webp::Frames::new(bytes, limits, scan)?)),
        #[cfg(feature = "avif")]
        ImageFormat::Avif => Ok(Box::new(avif::Frames::new(bytes, limits, scan)?)),
        _ => Err(PrepError::internal(format!(
            "{format} has no frames to read"
        ))),
    }
}
