//! GIF with the gif crate: the decoder set up as browsers read GIFs, and the first frame
//! composited on the logical screen for the still path (animations: `crate::animate`).

use std::borrow::Cow;
use std::io::Cursor;
use std::num::NonZeroU64;

use super::seam::{
    check_dimensions, AnimScan, FrameBudget, FrameSource, Header, PaletteHint, Pending,
};
use crate::compose::{Compositor, Dispose};
use crate::error::PrepError;
use crate::geometry::Rect;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};
use crate::recovery::Recovery;

/// Whether a decoding error means the data ends early.
enum Cut {
    Yes,
    No,
}

fn gif_error_kind(e: &gif::DecodingError) -> Cut {
    match e {
        gif::DecodingError::UnexpectedEof => Cut::Yes,
        gif::DecodingError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => Cut::Yes,
        _ => Cut::No,
    }
}

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
        other => PrepError::corrupt_by(f, "the gif decoder refused the data", other),
    }
}

/// A GIF decoder giving palette indices (expanded by [`frame_rgba`]), skipping unknown
/// blocks as browsers do; with `skip_pixels`, frames come without their LZW data decoded.
pub(crate) fn gif_decoder<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    skip_pixels: bool,
) -> Result<GifDecoder<'a>, PrepError> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    opts.allow_unknown_blocks(true);
    opts.skip_frame_decoding(skip_pixels);
    if let Some(n) = NonZeroU64::new(limits.max_decode_bytes) {
        opts.set_memory_limit(gif::MemoryLimit::Bytes(n));
    }
    opts.read_info(Cursor::new(with_global_table(bytes)))
        .map_err(gif_error)
}

/// Whether the file has a global colour table (logical screen descriptor, bit 7 of byte 10).
fn has_global_table(bytes: &[u8]) -> bool {
    bytes.get(10).is_some_and(|b| b & 0x80 != 0)
}

/// The gif crate refuses a frame that has neither a local nor a global colour table, where
/// browsers show it: a file without a global table gets [`grey_ramp`] as one (a copy of the
/// file with the table inserted after the screen descriptor), so such frames use it.
fn with_global_table(bytes: &[u8]) -> Cow<'_, [u8]> {
    if bytes.len() < 13 || has_global_table(bytes) {
        return Cow::Borrowed(bytes);
    }
    let mut patched = Vec::with_capacity(bytes.len() + 768);
    patched.extend_from_slice(&bytes[..13]);
    patched[10] |= 0x80 | 7;
    patched.extend_from_slice(&grey_ramp());
    patched.extend_from_slice(&bytes[13..]);
    Cow::Owned(patched)
}

pub(crate) type GifDecoder<'a> = gif::Decoder<Cursor<Cow<'a, [u8]>>>;

/// The palette of a frame that has neither a local nor a global colour table: a grey ramp,
/// as Pillow uses (browsers differ; Firefox and Chrome also show such frames).
fn grey_ramp() -> Vec<u8> {
    (0..=255u8).flat_map(|v| [v, v, v]).collect()
}

/// Decodes the frame whose info was just read into `out` as RGBA: the indices through the
/// local palette, else the global one (the [`grey_ramp`] when the file had none); the
/// transparent index becomes alpha 0, an index past the palette opaque black. Returns
/// whether the frame had no colour table of its own in a file without a global one.
fn frame_rgba(
    dec: &mut GifDecoder<'_>,
    file_has_global: bool,
    indices: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<bool, PrepError> {
    let info = dec
        .current_frame_info()
        .ok_or_else(|| PrepError::internal("GIF frame read before its header"))?;
    let transparent = info.transparent;
    let palette = info
        .palette
        .clone()
        .or_else(|| dec.global_palette().map(<[u8]>::to_vec));
    let defaulted = info.palette.is_none() && !file_has_global;
    let palette = palette.unwrap_or_else(grey_ramp);
    indices.resize(dec.buffer_size(), 0);
    dec.read_into_buffer(indices).map_err(gif_error)?;
    out.clear();
    out.reserve(indices.len() * 4);
    for &i in indices.iter() {
        let k = usize::from(i) * 3;
        out.extend_from_slice(&match palette.get(k..k + 3) {
            _ if transparent == Some(i) => [0, 0, 0, 0],
            Some(c) => [c[0], c[1], c[2], 255],
            None => [0, 0, 0, 255],
        });
    }
    Ok(defaulted)
}

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
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
    let recovery = Vec::new();
    let header = Header {
        format: ImageFormat::Gif,
        width,
        height,
        orientation: Orientation::Normal,
        icc: None,
        cmyk: false,
        recovery,
    };
    Ok(Pending::new(bytes, header, limits))
}

pub(super) fn decode(p: Pending<'_>) -> Result<Decoded, PrepError> {
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
    let (mut indices, mut frame_buf) = (Vec::new(), Vec::new());
    let defaulted = frame_rgba(
        &mut dec,
        has_global_table(p.bytes),
        &mut indices,
        &mut frame_buf,
    )?;
    // Composite on a transparent canvas, clipping what lies outside the screen.
    let mut canvas = Compositor::new(width, height);
    canvas.draw(Rect::new(fl, ft, fw, fh), Dispose::Keep, true, &frame_buf);
    Ok(Decoded {
        width,
        height,
        layout: Layout::Rgba8,
        pixels: canvas.into_pixels(),
        recovery: if defaulted {
            vec![Recovery::DefaultPalette { frames: 1 }]
        } else {
            Vec::new()
        },
    })
}

/// Reads every frame header (LZW data is skipped, not decompressed) and checks the frame
/// count and the animation budget after each: stops as soon as one is passed.
pub(super) fn scan(
    bytes: &[u8],
    limits: &Limits,
    budget: &FrameBudget,
) -> Result<AnimScan, PrepError> {
    let mut dec = gif_decoder(bytes, limits, true)?;
    let (mut width, mut height) = (u32::from(dec.width()), u32::from(dec.height()));
    let global = dec.global_palette().map(<[u8]>::to_vec);
    let file_has_global = has_global_table(bytes);
    let mut any_local = false;
    let mut delays = Vec::new();
    let mut colors: std::collections::HashMap<[u8; 3], u64> = std::collections::HashMap::new();
    let (mut no_palette, mut recovery) = (0u32, Vec::new());
    loop {
        let f = match dec.read_next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // Cut off inside a later frame: browsers play the complete frames before it.
            Err(e) if !delays.is_empty() && matches!(gif_error_kind(&e), Cut::Yes) => {
                recovery.push(Recovery::AnimationCutShort {
                    frames_kept: delays.len() as u32,
                });
                break;
            }
            Err(e) => return Err(gif_error(e)),
        };
        if delays.is_empty() && (width == 0 || height == 0) {
            // A screen of 0x0 (seen in the wild) takes the first frame's extent, as on the
            // still path and in browsers.
            width = u32::from(f.left) + u32::from(f.width);
            height = u32::from(f.top) + u32::from(f.height);
            check_dimensions(width, height, 4, limits)?;
        }
        any_local |= f.palette.is_some();
        if f.palette.is_none() && !file_has_global {
            no_palette += 1;
        }
        // (A file without a global table has the grey ramp as one: see `with_global_table`.)
        if let Some(pal) = f.palette.as_deref().or(global.as_deref()) {
            let entries = (pal.len() / 3).max(1) as u64;
            let weight = (u64::from(f.width) * u64::from(f.height) / entries).max(1);
            for (i, c) in pal.chunks_exact(3).enumerate() {
                if f.transparent != Some(i as u8) {
                    *colors.entry([c[0], c[1], c[2]]).or_default() += weight;
                }
            }
        }
        // GIF delays are in hundredths of a second.
        delays.push(u32::from(f.delay) * 10);
        budget.admit(delays.len() as u64, width, height, |at_most| {
            let mut rest = 0;
            while rest < at_most && dec.read_next_frame().map_err(gif_error)?.is_some() {
                rest += 1;
            }
            Ok(rest)
        })?;
    }
    if no_palette > 0 {
        recovery.push(Recovery::DefaultPalette { frames: no_palette });
    }
    let palette = match global {
        Some(p) if !any_local => PaletteHint::Only(p),
        _ => {
            let mut v: Vec<([u8; 3], u64)> = colors.into_iter().collect();
            v.sort_unstable();
            PaletteHint::Weighted(v)
        }
    };
    Ok(AnimScan {
        width,
        height,
        delays,
        repeat: dec.repeat(),
        palette,
        recovery,
    })
}

/// The frames of a GIF, composited as a browser shows them.
pub(super) struct Frames<'a> {
    dec: GifDecoder<'a>,
    comp: Compositor,
    indices: Vec<u8>,
    frame: Vec<u8>,
    limits: Limits,
    file_has_global: bool,
}

impl<'a> Frames<'a> {
    pub(super) fn new(
        bytes: &'a [u8],
        limits: &Limits,
        scan: &AnimScan,
    ) -> Result<Frames<'a>, PrepError> {
        Ok(Frames {
            dec: gif_decoder(bytes, limits, false)?,
            comp: Compositor::new(scan.width, scan.height),
            indices: Vec::new(),
            frame: Vec::new(),
            file_has_global: has_global_table(bytes),
            limits: *limits,
        })
    }
}

/// GIF's disposal method as the compositor's.
fn dispose(d: gif::DisposalMethod) -> Dispose {
    match d {
        gif::DisposalMethod::Background => Dispose::Background,
        gif::DisposalMethod::Previous => Dispose::Previous,
        _ => Dispose::Keep,
    }
}

impl FrameSource for Frames<'_> {
    fn next_screen(&mut self) -> Result<Option<&[u8]>, PrepError> {
        let Some(info) = self.dec.next_frame_info().map_err(gif_error)? else {
            return Ok(None);
        };
        let rect = Rect::new(
            u32::from(info.left),
            u32::from(info.top),
            u32::from(info.width),
            u32::from(info.height),
        );
        let how = dispose(info.dispose);
        check_dimensions(rect.w, rect.h, 4, &self.limits)?;
        frame_rgba(
            &mut self.dec,
            self.file_has_global,
            &mut self.indices,
            &mut self.frame,
        )?;
        self.comp.draw(rect, how, true, &self.frame);
        Ok(Some(self.comp.pixels()))
    }
}
