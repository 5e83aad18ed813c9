//! Sniff the format by content, read the header, enforce [`Limits`], decode.
//!
//! Decoding is split in two so that the caller can decide *how* to decode once it knows the
//! size (the JPEG path can later decode at a reduced DCT scale): [`read_header`] parses only
//! the header and checks every limit that can be checked without pixels; [`Pending::decode`]
//! allocates the pixel buffer and decodes.

use std::io::Cursor;
use std::num::NonZeroU64;

use crate::error::PrepError;
use crate::geometry::Rect;
use crate::options::{ImageFormat, Limits};
use crate::orient::Orientation;

/// How the decoded pixels are laid out (8 bits per channel, tightly packed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Grey.
    L8,
    /// Grey + alpha.
    La8,
    /// RGB.
    Rgb8,
    /// RGBA, straight alpha.
    Rgba8,
}

impl Layout {
    pub(crate) fn bpp(self) -> usize {
        match self {
            Layout::L8 => 1,
            Layout::La8 => 2,
            Layout::Rgb8 => 3,
            Layout::Rgba8 => 4,
        }
    }

    pub(crate) fn has_alpha(self) -> bool {
        matches!(self, Layout::La8 | Layout::Rgba8)
    }
}

/// What the header says, before any pixel is decoded.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub format: ImageFormat,
    /// Stored width (before orientation).
    pub width: u32,
    /// Stored height (before orientation).
    pub height: u32,
    pub orientation: Orientation,
    /// The embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
    /// A CMYK or YCCK JPEG (converted to RGB with the naive formula).
    pub cmyk: bool,
}

/// Decoded pixels, stored orientation.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub pixels: Vec<u8>,
}

/// A header that has passed the limits; call [`Pending::decode`] for the pixels.
pub(crate) struct Pending<'a> {
    bytes: &'a [u8],
    pub header: Header,
    limits: Limits,
    /// JPEG only: an end-of-image marker follows the scans (see [`jpeg_scan_markers`]).
    jpeg_eoi: bool,
}

/// Recognises the format from the first bytes.
pub(crate) fn sniff(bytes: &[u8]) -> Result<ImageFormat, PrepError> {
    if bytes.is_empty() {
        return Err(PrepError::Empty);
    }
    let starts = |sig: &[u8]| bytes.starts_with(sig);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Ok(ImageFormat::Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(ImageFormat::Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Ok(ImageFormat::Gif);
    }
    Err(match detect_other(bytes) {
        Some(detected) => PrepError::UnsupportedFormat { detected },
        None => PrepError::NotAnImage,
    })
}

/// Names the image formats we recognise but do not take.
fn detect_other(b: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| b.get(i..i + sig.len()) == Some(sig);
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Some("WebP");
    }
    if at(0, b"BM") && b.len() >= 18 {
        let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
        if matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124) {
            return Some("BMP");
        }
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Some("TIFF");
    }
    if at(4, b"ftyp") {
        let brand = b.get(8..12).unwrap_or_default();
        return Some(match brand {
            b"avif" | b"avis" => "AVIF",
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIC",
            b"jxl " => "JPEG XL",
            _ => "ISO media (MP4/MOV/HEIF)",
        });
    }
    if at(0, &[0xFF, 0x0A]) || at(0, b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some("JPEG XL");
    }
    if at(0, b"\0\0\0\x0cjP  \r\n\x87\n") || at(0, &[0xFF, 0x4F, 0xFF, 0x51]) {
        return Some("JPEG 2000");
    }
    if at(0, &[0, 0, 1, 0]) && b.len() >= 6 && b[4] != 0 {
        return Some("ICO");
    }
    if at(0, b"8BPS") {
        return Some("PSD");
    }
    if at(0, b"qoif") {
        return Some("QOI");
    }
    if at(0, b"%PDF") {
        return Some("PDF");
    }
    if at(0, b"\x76\x2f\x31\x01") {
        return Some("OpenEXR");
    }
    // SVG is text: look for the root element near the start (after an XML prolog/comments).
    let head = &b[..b.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if (trimmed.starts_with("<?xml") || trimmed.starts_with("<svg") || trimmed.starts_with("<!--"))
        && text.contains("<svg")
    {
        return Some("SVG");
    }
    None
}

/// Checks width, height, pixel count and decode buffer size against the limits.
pub(crate) fn check_dimensions(
    width: u32,
    height: u32,
    bytes_per_pixel: u64,
    limits: &Limits,
) -> Result<(), PrepError> {
    if width > limits.max_width || height > limits.max_height {
        return Err(PrepError::DimensionsTooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(PrepError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let needed = pixels.saturating_mul(bytes_per_pixel);
    if needed > limits.max_decode_bytes {
        return Err(PrepError::DecoderMemory {
            needed,
            limit: limits.max_decode_bytes,
        });
    }
    Ok(())
}

/// Reads the header and checks the limits. Allocates nothing in proportion to the pixels.
pub(crate) fn read_header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    let len = bytes.len() as u64;
    if len > limits.max_input_bytes {
        return Err(PrepError::InputTooLarge {
            bytes: len,
            limit: limits.max_input_bytes,
        });
    }
    let format = sniff(bytes)?;
    match format {
        ImageFormat::Jpeg => jpeg_header(bytes, limits),
        ImageFormat::Png => png_header(bytes, limits),
        ImageFormat::Gif => gif_header(bytes, limits),
    }
}

impl Pending<'_> {
    /// Decodes the pixels, at full resolution or, for JPEG, reduced by `shrink` (1, 2, 4
    /// or 8) in the DCT domain: the decoder then does a fraction of the work. The result's
    /// size says which scale was used (other formats ignore `shrink`).
    pub(crate) fn decode(self, shrink: u32) -> Result<Decoded, PrepError> {
        match self.header.format {
            ImageFormat::Jpeg => jpeg_decode(self, shrink),
            ImageFormat::Png => png_decode(self, shrink),
            ImageFormat::Gif => gif_decode(self),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// JPEG (jpeg-decoder)
//
// jpeg-decoder rather than zune-jpeg: zune-jpeg 0.5.15 decodes 4:2:0 files with optimised
// Huffman tables (what `cjpeg -optimize`, mozjpeg and our own encoder write) to wrong colours
// without an error; jpeg-decoder is as fast here single-threaded, and it can decode at a
// reduced DCT scale.

fn jpeg_error(e: jpeg_decoder::Error) -> PrepError {
    use jpeg_decoder::{Error, UnsupportedFeature as U};
    let f = ImageFormat::Jpeg;
    match e {
        Error::Unsupported(feature) => PrepError::UnsupportedFormat {
            detected: match feature {
                U::Hierarchical => "JPEG (hierarchical coding)",
                U::ArithmeticEntropyCoding => "JPEG (arithmetic coding)",
                U::SamplePrecision(_) => "JPEG (12- or 16-bit precision)",
                U::ComponentCount(_) => "JPEG (2 or more than 4 components)",
                U::DNL => "JPEG (height defined by DNL)",
                _ => "JPEG (unusual subsampling or colour transform)",
            },
        },
        Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated(f, "the data ends inside the header")
        }
        Error::Io(io) => PrepError::corrupt(f, io.to_string()),
        Error::Format(m) => PrepError::corrupt(f, m),
        other => PrepError::corrupt(f, other.to_string()),
    }
}

/// What a walk over a JPEG's markers finds after the first scan starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScanMarkers {
    /// Start-of-scan markers, the first included (an upper bound: a comment between two
    /// scans could hold the bytes `FF DA` too). Counting stops one past the limit.
    scans: u32,
    /// An EOI marker follows the first scan: jpeg-decoder pads a scan that runs out of data
    /// with zeros instead of failing, so this is how a cut-off file is recognised.
    eoi: bool,
}

/// Finds the first scan and counts the scans from there, stopping once `max_scans` is
/// passed. Entropy-coded data can hold `FF DA` and `FF D9` only as real markers (every other
/// `FF` is followed by `00` or a restart marker); segments before the first SOS are skipped by
/// their lengths, so an EXIF thumbnail's own markers do not count. Junk bytes between
/// segments are skipped. One memchr pass over the data, no allocation.
fn jpeg_scan_markers(b: &[u8], max_scans: u32) -> ScanMarkers {
    let none = ScanMarkers {
        scans: 0,
        eoi: false,
    };
    let mut i = 2; // after SOI
    loop {
        // Markers may be preceded by fill bytes.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        match (b.get(i), b.get(i + 1)) {
            (Some(0xFF), Some(&m)) => {
                if m == 0xDA {
                    break;
                }
                if (0xD0..=0xD7).contains(&m) || m == 0x01 {
                    i += 2;
                    continue;
                }
                let Some(len) = b.get(i + 2..i + 4) else {
                    return none;
                };
                i += 2 + usize::from(u16::from_be_bytes([len[0], len[1]]));
            }
            // Junk between segments: skip to the next 0xFF, as libjpeg does.
            (Some(_), Some(_)) => i += 1,
            _ => return none,
        }
    }
    let mut found = ScanMarkers {
        scans: 1,
        eoi: false,
    };
    let mut rest = &b[i + 2..];
    while let Some(at) = memchr::memchr(0xFF, rest) {
        match rest.get(at + 1) {
            Some(0xD9) => {
                found.eoi = true;
                break;
            }
            Some(0xDA) => {
                found.scans += 1;
                if found.scans > max_scans {
                    break;
                }
            }
            None => break,
            _ => {}
        }
        rest = &rest[at + 1..];
    }
    found
}

fn jpeg_decoder_for<'a>(bytes: &'a [u8], limits: &Limits) -> jpeg_decoder::Decoder<&'a [u8]> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    dec.set_max_decoding_buffer_size(
        usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX),
    );
    dec
}

fn jpeg_header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    // Parses the segments up to the first scan; allocates nothing in proportion to the
    // pixels.
    let mut dec = jpeg_decoder_for(bytes, &Limits::none());
    dec.read_info().map_err(jpeg_error)?;
    let info = dec
        .info()
        .ok_or_else(|| PrepError::internal("JPEG header read without frame info"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    if width == 0 || height == 0 {
        return Err(PrepError::corrupt(
            ImageFormat::Jpeg,
            "zero width or height",
        ));
    }
    let (bpp, cmyk) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (1, false),
        jpeg_decoder::PixelFormat::RGB24 => (3, false),
        jpeg_decoder::PixelFormat::CMYK32 => (4, true),
        _ => {
            return Err(PrepError::UnsupportedFormat {
                detected: "JPEG (lossless 16-bit)",
            })
        }
    };
    check_dimensions(width, height, bpp, limits)?;
    let markers = jpeg_scan_markers(bytes, limits.max_jpeg_scans);
    if markers.scans > limits.max_jpeg_scans {
        return Err(PrepError::TooManyScans {
            scans: markers.scans,
            limit: limits.max_jpeg_scans,
        });
    }
    let orientation = dec
        .exif_data()
        .map_or(Orientation::Normal, Orientation::from_exif_block);
    let icc = dec.icc_profile();
    Ok(Pending {
        bytes,
        header: Header {
            format: ImageFormat::Jpeg,
            width,
            height,
            orientation,
            icc,
            cmyk,
        },
        limits: *limits,
        jpeg_eoi: markers.eoi,
    })
}

fn jpeg_decode(p: Pending<'_>, shrink: u32) -> Result<Decoded, PrepError> {
    // libjpeg-turbo first; anything it refuses (it is stricter: it stops at a warning such
    // as extraneous bytes or a short scan) is left to jpeg-decoder, which decides.
    #[cfg(feature = "turbojpeg")]
    if !p.header.cmyk {
        if let Some(decoded) = turbo::decode(&p, shrink) {
            return Ok(decoded);
        }
    }
    let mut dec = jpeg_decoder_for(p.bytes, &p.limits);
    if matches!(shrink, 2 | 4 | 8) {
        // jpeg-decoder picks the smallest IDCT scale whose output is at least this size.
        let req = |v: u32| u16::try_from(v.div_ceil(shrink)).unwrap_or(u16::MAX);
        dec.scale(req(p.header.width), req(p.header.height))
            .map_err(jpeg_error)?;
    }
    let pixels = dec.decode().map_err(jpeg_error)?;
    if !p.jpeg_eoi {
        return Err(PrepError::truncated(
            ImageFormat::Jpeg,
            "the data ends inside the scan (no end-of-image marker)",
        ));
    }
    let info = dec
        .info()
        .ok_or_else(|| PrepError::internal("JPEG decoded without frame info"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (layout, pixels) = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => (Layout::L8, pixels),
        jpeg_decoder::PixelFormat::RGB24 => (Layout::Rgb8, pixels),
        jpeg_decoder::PixelFormat::CMYK32 => (Layout::Rgb8, cmyk_to_rgb(pixels)),
        _ => {
            return Err(PrepError::UnsupportedFormat {
                detected: "JPEG (lossless 16-bit)",
            })
        }
    };
    if pixels.len() != width as usize * height as usize * layout.bpp() {
        return Err(PrepError::corrupt(
            ImageFormat::Jpeg,
            "decoded size does not match the header",
        ));
    }
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
    })
}

/// The optional libjpeg-turbo route (cargo feature `turbojpeg`): a faster Huffman decoder,
/// SIMD IDCT and colour conversion. Header, limits, EXIF and ICC still come from jpeg-decoder's header
/// pass; CMYK/YCCK files keep the pure-Rust path.
#[cfg(feature = "turbojpeg")]
mod turbo {
    use super::{Decoded, Layout, Pending};

    /// The pixels at 1/`shrink` scale, or `None` for anything libjpeg-turbo does not decode
    /// cleanly (including a missing EOI), which the caller then gives to jpeg-decoder.
    pub(super) fn decode(p: &Pending<'_>, shrink: u32) -> Option<Decoded> {
        if !p.jpeg_eoi {
            return None;
        }
        let scale = match shrink {
            2 => turbojpeg::ScalingFactor::ONE_HALF,
            4 => turbojpeg::ScalingFactor::ONE_QUARTER,
            8 => turbojpeg::ScalingFactor::ONE_EIGHTH,
            _ => turbojpeg::ScalingFactor::ONE,
        };
        // A new handle per image: one that has failed on a file is not to be trusted.
        let mut dec = turbojpeg::Decompressor::new().ok()?;
        let header = dec.read_header(p.bytes).ok()?;
        let (layout, format) = match header.colorspace {
            turbojpeg::Colorspace::Gray => (Layout::L8, turbojpeg::PixelFormat::GRAY),
            _ => (Layout::Rgb8, turbojpeg::PixelFormat::RGB),
        };
        // No larger than the header's size, which has passed the limits.
        let size = header.scaled(scale);
        if size.width > p.header.width as usize || size.height > p.header.height as usize {
            return None;
        }
        let pitch = size.width * layout.bpp();
        let mut pixels = vec![0u8; pitch * size.height];
        dec.set_scaling_factor(scale).ok()?;
        let image = turbojpeg::Image {
            pixels: pixels.as_mut_slice(),
            width: size.width,
            pitch,
            height: size.height,
            format,
        };
        dec.decompress(p.bytes, image).ok()?;
        Some(Decoded {
            width: size.width as u32,
            height: size.height as u32,
            layout,
            pixels,
        })
    }
}

/// CMYK (as jpeg-decoder gives it: ink amounts, Adobe inversion already undone) to RGB with
/// the naive formula every browser and Pillow use: `R = (255 - C)(255 - K) / 255`.
/// Converts in place: RGB is written over the first three quarters of the buffer.
fn cmyk_to_rgb(mut px: Vec<u8>) -> Vec<u8> {
    let n = px.len() / 4;
    for i in 0..n {
        let (c, m, y, k) = (px[4 * i], px[4 * i + 1], px[4 * i + 2], px[4 * i + 3]);
        let ink = |v: u8| {
            let t = u32::from(255 - v) * u32::from(255 - k) + 128;
            ((t + (t >> 8)) >> 8) as u8
        };
        let rgb = [ink(c), ink(m), ink(y)];
        px[3 * i..3 * i + 3].copy_from_slice(&rgb);
    }
    px.truncate(n * 3);
    px
}

// ---------------------------------------------------------------------------------------------
// PNG (png)

fn png_error(e: png::DecodingError) -> PrepError {
    let f = ImageFormat::Png;
    match e {
        png::DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated(f, "the data ends before the image")
        }
        png::DecodingError::IoError(io) => PrepError::corrupt(f, io.to_string()),
        png::DecodingError::Format(m) => {
            let m = m.to_string();
            if m.contains("EOF") || m.contains("end of") || m.contains("truncated") {
                PrepError::truncated(f, m)
            } else {
                PrepError::corrupt(f, m)
            }
        }
        png::DecodingError::LimitsExceeded => {
            PrepError::corrupt(f, "metadata chunks exceed the decoder's memory limit")
        }
        other => PrepError::corrupt(f, other.to_string()),
    }
}

fn png_reader<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<png::Reader<Cursor<&'a [u8]>>, PrepError> {
    // The pixel buffer is ours; png's own limit only bounds metadata (text, ICC, EXIF).
    let meta = limits.max_decode_bytes.min(64 * 1024 * 1024) as usize;
    let mut dec = png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: meta });
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    dec.read_info().map_err(png_error)
}

fn png_header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    // IHDR sits at a fixed place: check the size before the png crate reads anything else.
    if bytes.len() < 33 || &bytes[12..16] != b"IHDR" {
        return Err(if bytes.len() < 33 {
            PrepError::truncated(ImageFormat::Png, "the data ends inside the header")
        } else {
            PrepError::corrupt(ImageFormat::Png, "the first chunk is not IHDR")
        });
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (width, height) = (be(16), be(20));
    if width == 0 || height == 0 {
        return Err(PrepError::corrupt(ImageFormat::Png, "zero width or height"));
    }
    // RGBA is the largest output after EXPAND | STRIP_16.
    check_dimensions(width, height, 4, limits)?;
    let reader = png_reader(bytes, limits)?;
    let info = reader.info();
    let orientation = info
        .exif_metadata
        .as_deref()
        .map_or(Orientation::Normal, Orientation::from_exif_block);
    let icc = if info.srgb.is_some() {
        None
    } else {
        info.icc_profile.as_deref().map(<[u8]>::to_vec)
    };
    Ok(Pending {
        bytes,
        header: Header {
            format: ImageFormat::Png,
            width,
            height,
            orientation,
            icc,
            cmyk: false,
        },
        limits: *limits,
        jpeg_eoi: false,
    })
}

fn png_decode(p: Pending<'_>, shrink: u32) -> Result<Decoded, PrepError> {
    let mut reader = png_reader(p.bytes, &p.limits)?;
    let (color, depth) = reader.output_color_type();
    let layout = match color {
        png::ColorType::Grayscale => Layout::L8,
        png::ColorType::GrayscaleAlpha => Layout::La8,
        png::ColorType::Rgb => Layout::Rgb8,
        png::ColorType::Rgba => Layout::Rgba8,
        png::ColorType::Indexed => {
            return Err(PrepError::internal("palette PNG was not expanded"));
        }
    };
    if depth != png::BitDepth::Eight {
        return Err(PrepError::internal(format!(
            "PNG output depth {depth:?} after expansion"
        )));
    }
    let (width, height) = (p.header.width, p.header.height);
    if shrink > 1 && !reader.info().interlaced {
        // Row by row into a box average: memory is the shrunk image and one row.
        let mut boxes = crate::shrink::BoxShrink::new(width, height, shrink, layout);
        let mut rows = 0u32;
        while let Some(row) = reader.next_row().map_err(png_error)? {
            boxes.push_row(row.data());
            rows += 1;
        }
        if rows != height {
            return Err(PrepError::truncated(
                ImageFormat::Png,
                format!("{rows} of {height} rows"),
            ));
        }
        let (width, height, pixels) = boxes.finish();
        return Ok(Decoded {
            width,
            height,
            layout,
            pixels,
        });
    }
    let size = width as usize * height as usize * layout.bpp();
    match reader.output_buffer_size() {
        Some(n) if n == size => {}
        other => {
            return Err(PrepError::internal(format!(
                "PNG buffer size {other:?}, expected {size}"
            )))
        }
    }
    let mut pixels = vec![0u8; size];
    reader.next_frame(&mut pixels).map_err(png_error)?;
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
    })
}

// ---------------------------------------------------------------------------------------------
// GIF (gif): the first frame, composited on the logical screen.

pub(crate) fn gif_error(e: gif::DecodingError) -> PrepError {
    let f = ImageFormat::Gif;
    match e {
        gif::DecodingError::UnexpectedEof => {
            PrepError::truncated(f, "the data ends inside a frame")
        }
        gif::DecodingError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated(f, "the data ends early")
        }
        gif::DecodingError::MemoryLimit | gif::DecodingError::OutOfMemory => {
            PrepError::corrupt(f, "a frame exceeds the decoder's memory limit")
        }
        other => PrepError::corrupt(f, other.to_string()),
    }
}

/// A GIF decoder giving RGBA frames (transparent pixels have alpha 0), skipping unknown
/// blocks as browsers do; with `skip_pixels`, frames come without their LZW data decoded.
pub(crate) fn gif_decoder<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    skip_pixels: bool,
) -> Result<gif::Decoder<Cursor<&'a [u8]>>, PrepError> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    opts.allow_unknown_blocks(true);
    opts.skip_frame_decoding(skip_pixels);
    if let Some(n) = NonZeroU64::new(limits.max_decode_bytes) {
        opts.set_memory_limit(gif::MemoryLimit::Bytes(n));
    }
    opts.read_info(Cursor::new(bytes)).map_err(gif_error)
}

fn gif_header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    if bytes.len() < 10 {
        return Err(PrepError::truncated(
            ImageFormat::Gif,
            "the data ends inside the header",
        ));
    }
    let width = u32::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    let height = u32::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    // A zero screen is taken from the first frame at decode time; check what we can now.
    check_dimensions(width, height, 4, limits)?;
    Ok(Pending {
        bytes,
        header: Header {
            format: ImageFormat::Gif,
            width,
            height,
            orientation: Orientation::Normal,
            icc: None,
            cmyk: false,
        },
        limits: *limits,
        jpeg_eoi: false,
    })
}

fn gif_decode(p: Pending<'_>) -> Result<Decoded, PrepError> {
    let mut dec = gif_decoder(p.bytes, &p.limits, false)?;
    let (sw, sh) = (u32::from(dec.width()), u32::from(dec.height()));
    let frame = dec
        .next_frame_info()
        .map_err(gif_error)?
        .ok_or_else(|| PrepError::corrupt(ImageFormat::Gif, "the file has no frame"))?;
    let (fl, ft, fw, fh) = (
        u32::from(frame.left),
        u32::from(frame.top),
        u32::from(frame.width),
        u32::from(frame.height),
    );
    // A screen of 0x0 (seen in the wild) takes the first frame's extent.
    let (width, height) = if sw == 0 || sh == 0 {
        (fl + fw, ft + fh)
    } else {
        (sw, sh)
    };
    if width == 0 || height == 0 {
        return Err(PrepError::corrupt(ImageFormat::Gif, "zero width or height"));
    }
    check_dimensions(width, height, 4, &p.limits)?;
    check_dimensions(fw, fh, 4, &p.limits)?;
    let mut frame_buf = vec![0u8; dec.buffer_size()];
    dec.read_into_buffer(&mut frame_buf).map_err(gif_error)?;
    // Composite on a transparent canvas, clipping what lies outside the screen.
    let mut canvas = crate::gif::Compositor::new(width, height);
    canvas.draw(
        Rect::new(fl, ft, fw, fh),
        gif::DisposalMethod::Keep,
        &frame_buf,
    );
    Ok(Decoded {
        width,
        height,
        layout: Layout::Rgba8,
        pixels: canvas.into_pixels(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0rest").unwrap(), ImageFormat::Jpeg);
        assert_eq!(sniff(b"GIF89a....").unwrap(), ImageFormat::Gif);
        let kind = |b: &[u8]| sniff(b).unwrap_err();
        assert_eq!(kind(b"").kind(), ErrorKind::Empty);
        assert_eq!(kind(b"hello, world").kind(), ErrorKind::NotAnImage);
        let named = |b: &[u8]| match sniff(b) {
            Err(PrepError::UnsupportedFormat { detected }) => detected,
            other => panic!("{other:?}"),
        };
        assert_eq!(named(b"RIFF\x10\0\0\0WEBPVP8 "), "WebP");
        assert_eq!(named(b"II*\0\x08\0\0\0"), "TIFF");
        assert_eq!(named(b"\0\0\0\x18ftypheic\0\0\0\0"), "HEIC");
        assert_eq!(named(b"\0\0\0\x1cftypavif\0\0\0\0"), "AVIF");
        assert_eq!(named(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>"), "SVG");
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(named(&bmp), "BMP");
        // "BM" followed by text is not a bitmap.
        assert_eq!(
            kind(b"BMW is a car maker, not a bitmap").kind(),
            ErrorKind::NotAnImage
        );
    }

    #[test]
    fn eoi_is_looked_for_after_the_first_scan_only() {
        // SOI, APP1 holding a thumbnail's SOS and EOI, junk, SOS, scan data.
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 0xFF, 0xDA, 0xFF, 0xD9, 0x00, 0x00,
        ];
        b.extend_from_slice(b"junk");
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34]);
        let eoi = |b: &[u8]| jpeg_scan_markers(b, u32::MAX).eoi;
        assert!(!eoi(&b), "cut before EOI");
        assert_eq!(jpeg_scan_markers(&b, u32::MAX).scans, 1);
        // A second scan after a table between scans; the thumbnail's SOS did not count.
        b.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x03, 0x00]);
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0x56]);
        assert_eq!(jpeg_scan_markers(&b, u32::MAX).scans, 2);
        assert_eq!(
            jpeg_scan_markers(&b, 1).scans,
            2,
            "stops one past the limit"
        );
        b.extend_from_slice(&[0xFF, 0xD9]);
        assert!(eoi(&b));
        b.extend_from_slice(b"trailing data some phones append");
        assert!(eoi(&b));
    }
}
