//! What to do with an image: [`PrepOptions`] and the small types it is made of.
//!
//! Every field documents its default; the defaults follow Slack's rule for
//! `users.setPhoto` (square, 512–1024 px, JPEG/PNG/GIF).

use std::fmt;

use crate::limits::Limits;

/// An 8-bit sRGB colour with straight (not premultiplied) alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgba {
    /// Red, 0–255.
    pub r: u8,
    /// Green, 0–255.
    pub g: u8,
    /// Blue, 0–255.
    pub b: u8,
    /// Alpha, 0 (transparent) – 255 (opaque).
    pub a: u8,
}

impl Rgba {
    /// Opaque white, the letterbox colour for JPEG output.
    pub const WHITE: Rgba = Rgba::new(255, 255, 255, 255);
    /// Opaque black.
    pub const BLACK: Rgba = Rgba::new(0, 0, 0, 255);
    /// Fully transparent, the letterbox colour for PNG and GIF output.
    pub const TRANSPARENT: Rgba = Rgba::new(0, 0, 0, 0);

    /// A colour from its four channels.
    pub const fn new(r: u8, g: u8, b: u8, a: u8) -> Rgba {
        Rgba { r, g, b, a }
    }

    /// The channels as an array `[r, g, b, a]`.
    pub const fn to_array(self) -> [u8; 4] {
        [self.r, self.g, self.b, self.a]
    }
}

impl fmt::Display for Rgba {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{:02x}{:02x}{:02x}{:02x}",
            self.r, self.g, self.b, self.a
        )
    }
}

/// A square region of the upright image, in pixels: exactly the meaning of Slack's
/// `crop_x`, `crop_y` and `crop_w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CropBox {
    /// Left edge, from the left of the upright (EXIF-oriented) image.
    pub x: u32,
    /// Top edge, from the top of the upright image.
    pub y: u32,
    /// Width and height of the square.
    pub side: u32,
}

impl CropBox {
    /// A crop box from its left, top and side.
    pub const fn new(x: u32, y: u32, side: u32) -> CropBox {
        CropBox { x, y, side }
    }
}

/// How a non-square image becomes a square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fit {
    /// Scale the whole image into the square and fill the bars with `background`
    /// (what Slack does with a non-square upload). `None` chooses by output format:
    /// transparent for PNG and GIF, white for JPEG.
    Letterbox {
        /// The colour of the bars; `None` = transparent where the output has alpha,
        /// white otherwise.
        background: Option<Rgba>,
    },
    /// Cover the square: take the largest centred square of the image.
    CenterCrop,
    /// Take exactly this square of the upright image.
    Crop(CropBox),
}

impl Default for Fit {
    /// `Fit::Letterbox { background: None }`.
    fn default() -> Fit {
        Fit::Letterbox { background: None }
    }
}

/// What to do with an image whose square is smaller than [`PrepOptions::min_side`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SmallInput {
    /// Enlarge it to `min_side` with Lanczos3 (the default).
    #[default]
    Upscale,
    /// Fail with [`PrepError::TooSmall`](crate::PrepError::TooSmall).
    Reject,
}

/// What to do with an animated GIF that has more frames than [`PrepOptions::max_frames`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FramePolicy {
    /// Fail with [`PrepError::TooManyFrames`](crate::PrepError::TooManyFrames) (the default).
    #[default]
    Reject,
    /// Keep `max_frames` evenly spaced frames; each kept frame also lasts as long as the
    /// dropped frames after it, so the total duration is unchanged.
    Decimate,
    /// Keep only the first frame: a still image (a one-frame GIF from a GIF with
    /// [`OutputFormat::Auto`]).
    FirstFrame,
}

/// The encoding of the prepared image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum OutputFormat {
    /// Keep the input's format where Slack accepts it: JPEG stays JPEG, PNG stays PNG, an
    /// animated GIF (or WebP, AVIF sequence) becomes an animated GIF, a still GIF (or a GIF
    /// reduced to its first frame by [`FramePolicy::FirstFrame`]) a one-frame GIF without a
    /// loop extension — with exactly its pixels when nothing is resampled (crops and bars
    /// included), else re-palettised. Camera formats without alpha (WebP, AVIF, HEIC: photos)
    /// become JPEG; with alpha, and lossless sources (BMP, TIFF), PNG. The default.
    #[default]
    Auto,
    /// Baseline JPEG at [`PrepOptions::jpeg_quality`], 4:2:0 chroma subsampling (grey
    /// images as one channel), optimised Huffman tables. Alpha is flattened onto white.
    Jpeg,
    /// PNG: RGB(A) or grey(+alpha) 8-bit, whichever holds the pixels exactly.
    Png,
}

/// An image format this crate reads. Output is always [`Jpeg`](ImageFormat::Jpeg),
/// [`Png`](ImageFormat::Png) or [`Gif`](ImageFormat::Gif), the three Slack takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (JFIF/EXIF).
    Jpeg,
    /// PNG (for APNG, the default image).
    Png,
    /// GIF 87a/89a.
    Gif,
    /// WebP: lossy, lossless, alpha, animated (input only).
    WebP,
    /// BMP / DIB (input only).
    Bmp,
    /// TIFF, first page (input only).
    Tiff,
    /// AVIF: AV1 in HEIF (input only; cargo feature `avif`).
    Avif,
    /// HEIC: HEVC in HEIF, what iPhones write (input only; cargo feature `heic`).
    Heic,
}

impl ImageFormat {
    /// `(MIME type, extension, name)`.
    const fn facts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            ImageFormat::Jpeg => ("image/jpeg", "jpg", "JPEG"),
            ImageFormat::Png => ("image/png", "png", "PNG"),
            ImageFormat::Gif => ("image/gif", "gif", "GIF"),
            ImageFormat::WebP => ("image/webp", "webp", "WebP"),
            ImageFormat::Bmp => ("image/bmp", "bmp", "BMP"),
            ImageFormat::Tiff => ("image/tiff", "tif", "TIFF"),
            ImageFormat::Avif => ("image/avif", "avif", "AVIF"),
            ImageFormat::Heic => ("image/heic", "heic", "HEIC"),
        }
    }

    /// The MIME type (for an output format, what Slack expects in the multipart `image`
    /// part).
    pub const fn mime(self) -> &'static str {
        self.facts().0
    }

    /// The usual file extension, without the dot.
    pub const fn extension(self) -> &'static str {
        self.facts().1
    }

    /// The name used in messages (`JPEG`, `PNG`, `GIF`, `WebP`, …).
    pub const fn name(self) -> &'static str {
        self.facts().2
    }
}

/// The input formats this build takes, for messages.
pub(crate) fn accepted() -> String {
    let mut formats = String::from("JPEG, PNG, GIF, WebP, BMP, TIFF");
    if cfg!(feature = "avif") {
        formats.push_str(", AVIF");
    }
    if cfg!(feature = "heic") {
        formats.push_str(", HEIC");
    }
    formats
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything [`prepare`](crate::prepare) needs to know.
///
/// ```
/// use avatar_prep::{Fit, OutputFormat, PrepOptions, Rgba};
/// let opts = PrepOptions::default()
///     .fit(Fit::Letterbox { background: Some(Rgba::BLACK) })
///     .max_side(800)
///     .format(OutputFormat::Jpeg)
///     .jpeg_quality(85);
/// assert_eq!(opts.max_side, 800);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PrepOptions {
    /// How the image becomes square. Default [`Fit::Letterbox`] with the automatic
    /// background, as Slack does.
    pub fit: Fit,
    /// Largest output side in pixels. Default 1024 (Slack's maximum).
    pub max_side: u32,
    /// Smallest output side in pixels. Default 512 (Slack's minimum).
    pub min_side: u32,
    /// What to do when the square is smaller than `min_side`. Default [`SmallInput::Upscale`].
    pub small_input: SmallInput,
    /// The output encoding. Default [`OutputFormat::Auto`].
    pub format: OutputFormat,
    /// JPEG quality, 1–100, for JPEG output (forced or by [`OutputFormat::Auto`]).
    /// Default 90.
    pub jpeg_quality: u8,
    /// Apply the EXIF orientation (JPEG APP1, PNG eXIf) so the output is upright.
    /// Default `true`.
    pub apply_orientation: bool,
    /// Decode at a reduced scale first: the largest of 1/8, 1/4 and 1/2 that still leaves at
    /// least 1.5× the output resolution, in both directions, for the Lanczos3 pass (so 1/2
    /// from 3× the output size, 1/4 from 6×, 1/8 from 12×; libvips keeps 2×). JPEGs are
    /// reduced in the DCT domain, non-interlaced PNGs by averaging blocks as the rows arrive
    /// (the full-size image is then never in memory). Crop boxes are scaled into the reduced
    /// image. A 4032×3024 photo to 1024² decodes at 1/2 and measures 50.5 dB PSNR against a
    /// full-size decode resampled with a float Lanczos3 (1/4 would give 36.9 dB).
    /// Default `true`.
    pub shrink_on_load: bool,
    /// Convert pixels tagged with an ICC profile (Display P3, Adobe RGB, …) to sRGB.
    /// Default `true`. CMYK sources are converted with the simple formula whatever this says.
    pub convert_icc: bool,
    /// Most frames an animated GIF may keep (Slack answers `too_many_frames` above its own,
    /// unpublished, limit). Default 100.
    pub max_frames: u32,
    /// What to do with a GIF above `max_frames`. Default [`FramePolicy::Reject`].
    pub frame_policy: FramePolicy,
    /// Ceilings on the input, checked before decoding. Default [`Limits::DEFAULT`].
    pub limits: Limits,
}

impl Default for PrepOptions {
    fn default() -> PrepOptions {
        PrepOptions {
            fit: Fit::default(),
            max_side: 1024,
            min_side: 512,
            small_input: SmallInput::Upscale,
            format: OutputFormat::Auto,
            jpeg_quality: 90,
            apply_orientation: true,
            shrink_on_load: true,
            convert_icc: true,
            max_frames: 100,
            frame_policy: FramePolicy::Reject,
            limits: Limits::DEFAULT,
        }
    }
}

impl PrepOptions {
    /// Sets [`PrepOptions::fit`].
    pub fn fit(mut self, fit: Fit) -> PrepOptions {
        self.fit = fit;
        self
    }

    /// Sets [`PrepOptions::max_side`].
    pub fn max_side(mut self, side: u32) -> PrepOptions {
        self.max_side = side;
        self
    }

    /// Sets [`PrepOptions::min_side`].
    pub fn min_side(mut self, side: u32) -> PrepOptions {
        self.min_side = side;
        self
    }

    /// Sets [`PrepOptions::small_input`].
    pub fn small_input(mut self, policy: SmallInput) -> PrepOptions {
        self.small_input = policy;
        self
    }

    /// Sets [`PrepOptions::format`].
    pub fn format(mut self, format: OutputFormat) -> PrepOptions {
        self.format = format;
        self
    }

    /// Sets [`PrepOptions::jpeg_quality`].
    pub fn jpeg_quality(mut self, quality: u8) -> PrepOptions {
        self.jpeg_quality = quality;
        self
    }

    /// Sets [`PrepOptions::apply_orientation`].
    pub fn apply_orientation(mut self, yes: bool) -> PrepOptions {
        self.apply_orientation = yes;
        self
    }

    /// Sets [`PrepOptions::shrink_on_load`].
    pub fn shrink_on_load(mut self, yes: bool) -> PrepOptions {
        self.shrink_on_load = yes;
        self
    }

    /// Sets [`PrepOptions::convert_icc`].
    pub fn convert_icc(mut self, yes: bool) -> PrepOptions {
        self.convert_icc = yes;
        self
    }

    /// Sets [`PrepOptions::max_frames`].
    pub fn max_frames(mut self, n: u32) -> PrepOptions {
        self.max_frames = n;
        self
    }

    /// Sets [`PrepOptions::frame_policy`].
    pub fn frame_policy(mut self, policy: FramePolicy) -> PrepOptions {
        self.frame_policy = policy;
        self
    }

    /// Sets [`PrepOptions::limits`].
    pub fn limits(mut self, limits: Limits) -> PrepOptions {
        self.limits = limits;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_print_as_hex() {
        assert_eq!(Rgba::new(1, 2, 3, 4).to_string(), "#01020304");
        assert_eq!(Rgba::WHITE.to_string(), "#ffffffff");
    }
}
