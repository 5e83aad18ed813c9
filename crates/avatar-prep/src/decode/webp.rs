//! WebP with image-webp (pure Rust, what the `image` crate uses): lossy, lossless, alpha,
//! the VP8X `EXIF` and `ICCP` chunks; animations composited with WebP's blend and dispose
//! rules by image-webp, frame by frame.
//!
//! The header step walks the RIFF chunks itself (sizes, frame count, each frame's duration)
//! so that every limit is checked before image-webp allocates anything in proportion to the
//! canvas.

use std::io::Cursor;

use image_webp::{DecodingError, LoopCount, WebPDecoder};

use super::seam::{
    check_dimensions, exif_orientation, AnimScan, FrameBudget, FrameSource, Header, PaletteHint,
    Pending,
};
use crate::compose::{Compositor, Dispose};
use crate::error::PrepError;
use crate::geometry::Rect;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};

const FORMAT: ImageFormat = ImageFormat::WebP;

/// Whether the file is shorter than its RIFF header says: then any failure to decode is the
/// cut's doing, and is reported as `Truncated`.
fn is_cut(bytes: &[u8]) -> bool {
    bytes.get(4..8).is_some_and(|s| {
        let riff = u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
        riff + 8 > bytes.len() as u64
    })
}

/// A decoding error for `bytes`: `Truncated` when the file is cut short.
fn error_in(bytes: &[u8]) -> impl Fn(DecodingError) -> PrepError + '_ {
    move |e| {
        if is_cut(bytes) {
            PrepError::truncated_by(FORMAT, "the data ends early", e)
        } else {
            webp_error(e)
        }
    }
}

fn webp_error(e: DecodingError) -> PrepError {
    match e {
        DecodingError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PrepError::truncated(FORMAT, "the data ends early")
        }
        DecodingError::UnsupportedFeature(what) => PrepError::corrupt(FORMAT, what),
        other => PrepError::corrupt_by(FORMAT, "image-webp refused the data", other),
    }
}

/// One ANMF chunk: where the frame goes, how it is shown, and its image chunks.
#[derive(Debug, Clone)]
struct AnimFrame {
    rect: Rect,
    /// Milliseconds.
    duration: u32,
    /// Alpha-blend over the canvas (else replace the rectangle).
    blend: bool,
    /// Clear the rectangle to transparent before the next frame.
    dispose: bool,
    /// The frame's own chunks (ALPH + VP8, or VP8L), as bytes of the file.
    data: std::ops::Range<usize>,
}

/// What a walk over the RIFF chunks finds, without decoding anything.
#[derive(Debug, Default)]
struct Chunks {
    /// The canvas (VP8X) or the image's own size (simple VP8/VP8L files).
    width: u32,
    height: u32,
    /// The ANMF frames (collected only when scanning an animation, under a budget).
    frames: Vec<AnimFrame>,
}

/// Walks the RIFF chunks: the size from VP8X, VP8 or VP8L; with a `budget`, each ANMF frame,
/// the budget checked after each. Stops at the first chunk that does not fit (image-webp
/// decides whether that matters).
fn walk(b: &[u8], limits: &Limits, budget: Option<&FrameBudget>) -> Result<Chunks, PrepError> {
    let u24 = |i: usize| -> Option<u32> {
        let s = b.get(i..i + 3)?;
        Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
    };
    let u16le = |i: usize| {
        b.get(i..i + 2)
            .map(|s| u32::from(u16::from_le_bytes([s[0], s[1]])))
    };
    let truncated = || PrepError::truncated(FORMAT, "the data ends inside the header");
    let mut found = Chunks::default();
    let mut at = 12;
    while let Some(head) = b.get(at..at + 8) {
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let body = at + 8;
        let end = body.saturating_add(size);
        match &head[..4] {
            b"VP8X" => {
                found.width = u24(body + 4).ok_or_else(truncated)? + 1;
                found.height = u24(body + 7).ok_or_else(truncated)? + 1;
                check_dimensions(found.width, found.height, 4, limits)?;
            }
            b"VP8 " if found.width == 0 => {
                // Frame tag (3 bytes), start code (3 bytes), then 14-bit width and height.
                found.width = u16le(body + 6).ok_or_else(truncated)? & 0x3FFF;
                found.height = u16le(body + 8).ok_or_else(truncated)? & 0x3FFF;
            }
            b"VP8L" if found.width == 0 => {
                let bits = b.get(body + 1..body + 5).ok_or_else(truncated)?;
                let bits = u32::from_le_bytes([bits[0], bits[1], bits[2], bits[3]]);
                found.width = (bits & 0x3FFF) + 1;
                found.height = ((bits >> 14) & 0x3FFF) + 1;
            }
            b"ANMF" => {
                if let Some(budget) = budget {
                    let field = |k: usize| u24(body + 3 * k).ok_or_else(truncated);
                    let flags = *b.get(body + 15).ok_or_else(truncated)?;
                    found.frames.push(AnimFrame {
                        rect: Rect::new(field(0)? * 2, field(1)? * 2, field(2)? + 1, field(3)? + 1),
                        duration: field(4)?,
                        blend: flags & 2 == 0,
                        dispose: flags & 1 != 0,
                        data: (body + 16).min(b.len())..end.min(b.len()),
                    });
                    let n = found.frames.len() as u64;
                    let rest = &b[at..];
                    budget.admit(n, found.width, found.height, |at_most| {
                        Ok(count_frames(rest, at_most).saturating_sub(1))
                    })?;
                }
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        at = end.saturating_add(size & 1);
    }
    if found.width == 0 || found.height == 0 {
        return Err(if b.len() < 30 {
            truncated()
        } else {
            PrepError::corrupt(FORMAT, "no image size in the header")
        });
    }
    Ok(found)
}

/// Counts ANMF chunks from the start of `b` (a chunk boundary), up to `at_most`.
fn count_frames(b: &[u8], at_most: u64) -> u64 {
    let mut n = 0;
    let mut at = 0usize;
    while let Some(head) = b.get(at..at + 8) {
        if n >= at_most {
            break;
        }
        n += u64::from(&head[..4] == b"ANMF");
        let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        at = (at + 8).saturating_add(size).saturating_add(size & 1);
    }
    n
}

fn decoder<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<WebPDecoder<Cursor<&'a [u8]>>, PrepError> {
    let mut dec = WebPDecoder::new(Cursor::new(bytes)).map_err(error_in(bytes))?;
    dec.set_memory_limit(usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX));
    Ok(dec)
}

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    let chunks = walk(bytes, limits, None)?;
    check_dimensions(chunks.width, chunks.height, 4, limits)?;
    let mut dec = decoder(bytes, limits)?;
    if dec.dimensions() != (chunks.width, chunks.height) {
        return Err(PrepError::corrupt(
            FORMAT,
            "the image size differs between chunks",
        ));
    }
    // Metadata chunks are bounded by the input size; a damaged one is ignored, as browsers do.
    let mut recovery = Vec::new();
    let orientation = dec
        .exif_metadata()
        .ok()
        .flatten()
        .map_or(Orientation::Normal, |e: Vec<u8>| {
            exif_orientation(&e, &mut recovery)
        });
    let icc = dec.icc_profile().ok().flatten();
    let header = Header {
        format: FORMAT,
        width: chunks.width,
        height: chunks.height,
        orientation,
        icc,
        cmyk: false,
        recovery,
    };
    Ok(Pending::new(bytes, header, limits))
}

/// The still image (the first frame of an animation, composited on its canvas).
pub(super) fn decode(p: Pending<'_>) -> Result<Decoded, PrepError> {
    let mut dec = decoder(p.bytes, &p.limits)?;
    let (width, height) = dec.dimensions();
    let layout = if dec.has_alpha() {
        Layout::Rgba8
    } else {
        Layout::Rgb8
    };
    let mut pixels = vec![0u8; width as usize * height as usize * layout.bpp()];
    dec.read_image(&mut pixels).map_err(error_in(p.bytes))?;
    Ok(Decoded {
        width,
        height,
        layout,
        pixels,
        recovery: Vec::new(),
    })
}

/// The frame durations and canvas of an animated WebP, checked against the budget; a still
/// WebP scans as one frame.
pub(super) fn scan(
    bytes: &[u8],
    limits: &Limits,
    budget: &FrameBudget,
) -> Result<AnimScan, PrepError> {
    let chunks = walk(bytes, limits, Some(budget))?;
    let dec = decoder(bytes, limits)?;
    let delays = if dec.is_animated() {
        chunks.frames.iter().map(|f| f.duration).collect()
    } else {
        vec![0]
    };
    Ok(AnimScan {
        width: chunks.width,
        height: chunks.height,
        delays,
        repeat: match dec.loop_count() {
            LoopCount::Forever => ::gif::Repeat::Infinite,
            LoopCount::Times(n) => ::gif::Repeat::Finite(n.get()),
        },
        palette: PaletteHint::FromPixels,
        recovery: Vec::new(),
    })
}

/// The frames of an animated WebP, each decoded on its own (as the still image its chunks
/// make) and composited here with WebP's rules: alpha-blend or replace, dispose to
/// transparent. (image-webp's own compositor mixes up RGB and RGBA strides when it clears a
/// disposed frame under an opaque one, so it is not used.)
pub(super) struct Frames<'a> {
    bytes: &'a [u8],
    limits: Limits,
    frames: std::vec::IntoIter<AnimFrame>,
    comp: Compositor,
}

impl<'a> Frames<'a> {
    pub(super) fn new(
        bytes: &'a [u8],
        limits: &Limits,
        scan: &AnimScan,
    ) -> Result<Frames<'a>, PrepError> {
        // The scan has passed the budget: walking again under it cannot fail on it.
        let budget = FrameBudget {
            reject_above: None,
            max_animation_pixels: u64::MAX,
        };
        let chunks = walk(bytes, limits, Some(&budget))?;
        if (chunks.width, chunks.height) != (scan.width, scan.height)
            || chunks.frames.len() != scan.delays.len()
        {
            return Err(PrepError::corrupt(FORMAT, "the animation header changed"));
        }
        Ok(Frames {
            bytes,
            limits: *limits,
            frames: chunks.frames.into_iter(),
            comp: Compositor::new(scan.width, scan.height),
        })
    }
}

/// A still WebP made of one animation frame's chunks (`ALPH` + `VP8 `, or `VP8L`), so that
/// image-webp decodes it as it decodes any still image.
fn frame_file(chunks: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut body = b"WEBP".to_vec();
    if chunks.starts_with(b"ALPH") {
        // An extended header saying "alpha", with the frame's size.
        body.extend_from_slice(b"VP8X");
        body.extend_from_slice(&10u32.to_le_bytes());
        body.extend_from_slice(&[0x10, 0, 0, 0]);
        body.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        body.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    }
    body.extend_from_slice(chunks);
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(body.len() as u32).to_le_bytes());
    file.extend_from_slice(&body);
    file
}

impl FrameSource for Frames<'_> {
    fn next_screen(&mut self) -> Result<Option<&[u8]>, PrepError> {
        let Some(f) = self.frames.next() else {
            return Ok(None);
        };
        check_dimensions(f.rect.w, f.rect.h, 4, &self.limits)?;
        let chunks = self.bytes.get(f.data.clone()).unwrap_or_default();
        let file = frame_file(chunks, f.rect.w, f.rect.h);
        let mut dec = decoder(&file, &self.limits)?;
        if dec.dimensions() != (f.rect.w, f.rect.h) {
            return Err(PrepError::corrupt(
                FORMAT,
                "a frame's size differs from its header",
            ));
        }
        let n = f.rect.w as usize * f.rect.h as usize;
        let rgba = if dec.has_alpha() {
            let mut px = vec![0u8; n * 4];
            dec.read_image(&mut px).map_err(error_in(self.bytes))?;
            px
        } else {
            let mut px = vec![0u8; n * 3];
            dec.read_image(&mut px).map_err(error_in(self.bytes))?;
            px.chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect()
        };
        let dispose = if f.dispose {
            Dispose::Background
        } else {
            Dispose::Keep
        };
        self.comp.draw(f.rect, dispose, f.blend, &rgba);
        Ok(Some(self.comp.pixels()))
    }
}
