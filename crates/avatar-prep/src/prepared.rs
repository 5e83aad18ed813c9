//! What [`prepare`](crate::prepare) gives back: [`PreparedImage`], with [`SourceInfo`] and
//! [`Placement`] saying what was done.

use crate::geometry::Rect;
use crate::options::{ImageFormat, Rgba};
use crate::orient::Orientation;
use crate::recovery::Recovery;

/// How the square was made from the upright image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Placement {
    /// The whole image was scaled into `content` (output pixels) and the rest of the square
    /// filled with `background`.
    Letterbox {
        /// Where the image sits in the output square (upright, output pixels).
        content: Rect,
        /// The colour of the bars.
        background: Rgba,
    },
    /// The square `region` of the upright image was kept (centre crop or crop box).
    Crop {
        /// The region of the upright source image (source pixels).
        region: Rect,
    },
}

/// Facts about the input, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SourceInfo {
    /// The format recognised from the content.
    pub format: ImageFormat,
    /// Width of the stored pixels (before orientation).
    pub width: u32,
    /// Height of the stored pixels (before orientation).
    pub height: u32,
    /// The EXIF orientation found in the file (applied only if
    /// [`PrepOptions::apply_orientation`](crate::PrepOptions::apply_orientation) is set).
    pub orientation: Orientation,
    /// Whether the file embeds an ICC profile.
    pub has_icc_profile: bool,
    /// A CMYK or YCCK source (JPEG, TIFF), converted to RGB with the simple formula browsers
    /// and Pillow use, `R = (255 - C)(255 - K) / 255`, after undoing Adobe's inversion.
    pub cmyk: bool,
}

/// A prepared avatar: encoded bytes plus a record of what was done.
#[derive(Clone, PartialEq)]
pub struct PreparedImage {
    pub(crate) bytes: Vec<u8>,
    pub(crate) format: ImageFormat,
    pub(crate) side: u32,
    pub(crate) frames: u32,
    pub(crate) source: SourceInfo,
    pub(crate) orientation: Orientation,
    pub(crate) placement: Placement,
    pub(crate) scale: f64,
    pub(crate) icc_converted: bool,
    pub(crate) recovery: Vec<Recovery>,
    pub(crate) passed_through: bool,
}

impl std::fmt::Debug for PreparedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedImage")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("format", &self.format)
            .field("side", &self.side)
            .field("frames", &self.frames)
            .field("source", &self.source)
            .field("orientation", &self.orientation)
            .field("placement", &self.placement)
            .field("scale", &self.scale)
            .field("icc_converted", &self.icc_converted)
            .field("recovery", &self.recovery)
            .field("passed_through", &self.passed_through)
            .finish()
    }
}

impl PreparedImage {
    /// The encoded image.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded image, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The output format.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// The MIME type of [`PreparedImage::bytes`] (`image/jpeg`, `image/png`, `image/gif`).
    pub fn mime(&self) -> &'static str {
        self.format.mime()
    }

    /// Width and height of the square output.
    pub fn side(&self) -> u32 {
        self.side
    }

    /// Number of frames in the output (1 for a still image).
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// What the input was.
    pub fn source(&self) -> &SourceInfo {
        &self.source
    }

    /// The orientation that was applied ([`Orientation::Normal`] when none was, or when
    /// applying it was turned off).
    pub fn orientation_applied(&self) -> Orientation {
        self.orientation
    }

    /// How the square was made.
    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// Output pixels per source pixel: below 1 for a downscale, above 1 for an upscale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Whether an embedded ICC profile was converted to sRGB.
    pub fn icc_converted(&self) -> bool {
        self.icc_converted
    }

    /// What a damaged input needed to be decoded as browsers show it (missing restart
    /// markers, an animation cut short, frames without a colour table, an unreadable EXIF
    /// block); empty for a sound file.
    pub fn recovery(&self) -> &[Recovery] {
        &self.recovery
    }

    /// Whether the input already was a valid avatar and was passed through: a square JPEG
    /// or PNG within `min_side..=max_side`, sRGB (no profile or an sRGB one), upright, with
    /// nothing to crop or pad, and [`OutputFormat::Auto`](crate::OutputFormat::Auto). Its
    /// compressed image data is then kept byte for byte (no generation loss, no encode;
    /// [`PrepOptions::jpeg_quality`](crate::PrepOptions::jpeg_quality) does not apply) and
    /// only its metadata is removed: EXIF, XMP, ICC, comments and trailing data of a JPEG
    /// (JFIF and Adobe segments stay), every PNG chunk but IHDR, PLTE, tRNS, IDAT and IEND.
    /// The result is decoded once to prove it sound before it is used.
    pub fn passed_through(&self) -> bool {
        self.passed_through
    }
}
