//! The spine: header → limits → plan → decode → crop+resize → colour → compose → orient →
//! encode, for stills; animations branch off to [`crate::animate`] after the header. Both
//! end in [`assemble`], the one place a [`PreparedImage`] is made.
//!
//! Opaque pixels going to JPEG (every photo) take no detour after the decode: the Lanczos3
//! pass, the ICC conversion, the letterbox bars, the orientation and the encoder all work on
//! RGB, in two output-sized buffers the worker keeps ([`Preparer::opaque_jpeg`]). Anything
//! with alpha, or going to PNG, is composited as RGBA.

use std::cell::RefCell;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::animate;
use crate::color::{self, IccTransform};
use crate::compose;
use crate::decode::{self, Header};
use crate::encode;
use crate::error::PrepError;
use crate::geometry::{self, Plan, Rect};
use crate::options::{Fit, ImageFormat, OutputFormat, PrepOptions, Rgba};
use crate::orient::Orientation;
use crate::passthrough;
use crate::pixels::Decoded;
use crate::prepared::{Placement, PreparedImage, SourceInfo};
use crate::recovery::Recovery;
use crate::resize::Resampler;
use crate::sniff::sniff;

/// A reusable worker: owns the resampler's scratch buffers. [`prepare`] keeps one per
/// thread; hold your own (e.g. in rayon's `map_init`) to control its lifetime.
#[derive(Debug, Default)]
pub struct Preparer {
    resampler: Resampler,
    scratch: Scratch,
}

/// A worker's buffers, kept from image to image so that the pixels of every image after
/// the first land in memory that is already mapped.
#[derive(Default)]
struct Scratch {
    /// The decoded pixels' allocation (JPEG decodes into it), given back after the resize.
    decoded: Vec<u8>,
    /// The opaque path's two output-sized buffers (see [`Preparer::opaque_jpeg`]): each
    /// step reads one and writes the other.
    a: Vec<u8>,
    b: Vec<u8>,
}

/// The largest decode buffer a worker keeps for the next image (a 12 MP photo decoded at
/// full size is 36 MB; at the usual 1/2 scale, 9 MB). Larger ones are freed at once, so an
/// idle worker never sits on the memory of the largest image it has seen.
const KEEP_DECODED_MAX: usize = 40 << 20;

impl Scratch {
    fn give_back(&mut self, pixels: Vec<u8>) {
        if pixels.capacity() <= KEEP_DECODED_MAX && pixels.capacity() > self.decoded.capacity() {
            self.decoded = pixels;
        }
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field(
                "capacity",
                &(self.decoded.capacity() + self.a.capacity() + self.b.capacity()),
            )
            .finish()
    }
}

thread_local! {
    static WORKER: RefCell<Preparer> = RefCell::new(Preparer::new());
}

/// Prepares one image from its bytes. See the [crate documentation](crate) for the steps.
///
/// Never panics on any input: a panic inside a third-party decoder is caught and reported
/// as [`PrepError::Corrupt`].
pub fn prepare(bytes: &[u8], options: &PrepOptions) -> Result<PreparedImage, PrepError> {
    WORKER.with(|w| match w.try_borrow_mut() {
        Ok(mut worker) => worker.prepare(bytes, options),
        // Only reachable through re-entrancy (prepare called from inside prepare).
        Err(_) => Preparer::new().prepare(bytes, options),
    })
}

/// Prepares the image in the file at `path`. Errors name the file ([`PrepError::File`]).
///
/// The size limit is checked from the file's metadata before it is read.
pub fn prepare_file(
    path: impl AsRef<Path>,
    options: &PrepOptions,
) -> Result<PreparedImage, PrepError> {
    let path = path.as_ref();
    read_limited(path, options.limits.max_input_bytes)
        .and_then(|bytes| prepare(&bytes, options))
        .map_err(|e| e.in_file(path))
}

/// Reads a file, refusing it before reading when it is above `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, PrepError> {
    let file = std::fs::File::open(path).map_err(PrepError::Io)?;
    let len = file.metadata().map_err(PrepError::Io)?.len();
    if len > limit {
        return Err(PrepError::InputTooLarge { bytes: len, limit });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` guards against a file that grows while it is read.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(PrepError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(PrepError::InputTooLarge {
            bytes: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

fn check_options(o: &PrepOptions) -> Result<(), PrepError> {
    let bad = |detail: String| Err(PrepError::InvalidOptions { detail });
    if o.min_side == 0 {
        return bad("min_side must be at least 1".into());
    }
    if o.min_side > o.max_side {
        return bad(format!(
            "min_side {} is above max_side {}",
            o.min_side, o.max_side
        ));
    }
    if o.max_side > 16_384 {
        return bad(format!("max_side {} is above 16384", o.max_side));
    }
    if !(1..=100).contains(&o.jpeg_quality) {
        return bad(format!("JPEG quality {} is not in 1..=100", o.jpeg_quality));
    }
    Ok(())
}

/// The shrink-on-load rule: the DCT-domain reduction (1, 2, 4 or 8) that still leaves at
/// least 1.5 times the output resolution for the Lanczos3 pass. (libvips keeps 2×, which
/// rules out the common 4032 → 1024 case.) Measured against a full-size decode resampled
/// with a float Lanczos3 (`tests/it/quality.rs`, a corpus-like 12 MP photo to 1024²): 50.5 dB
/// PSNR at the 1/2 this picks; 1/4 would leave 1008 px for 1024 and measured 36.9 dB.
fn shrink_factor(src: Rect, dst: Rect) -> u32 {
    let fits = |s: u32| {
        u64::from(src.w) * 2 >= u64::from(dst.w) * 3 * u64::from(s)
            && u64::from(src.h) * 2 >= u64::from(dst.h) * 3 * u64::from(s)
    };
    [8, 4, 2].into_iter().find(|&s| fits(s)).unwrap_or(1)
}

/// Maps `r` from a `w` × `h` image to the same region of a `w2` × `h2` version of it,
/// widening to whole pixels.
fn scale_rect(r: Rect, w: u32, h: u32, w2: u32, h2: u32) -> Rect {
    if (w, h) == (w2, h2) {
        return r;
    }
    let lo =
        |v: u32, from: u32, to: u32| (u64::from(v) * u64::from(to) / u64::from(from.max(1))) as u32;
    let hi = |v: u32, from: u32, to: u32| {
        (u64::from(v) * u64::from(to)).div_ceil(u64::from(from.max(1))) as u32
    };
    let x0 = lo(r.x, w, w2).min(w2.saturating_sub(1));
    let y0 = lo(r.y, h, h2).min(h2.saturating_sub(1));
    let x1 = hi(r.x + r.w, w, w2).clamp(x0 + 1, w2);
    let y1 = hi(r.y + r.h, h, h2).clamp(y0 + 1, h2);
    Rect::new(x0, y0, x1 - x0, y1 - y0)
}

/// Runs `f`, turning a panic into an error: decoders are third-party code fed hostile input.
fn no_panic<T>(
    format: ImageFormat,
    f: impl FnOnce() -> Result<T, PrepError>,
) -> Result<T, PrepError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(PrepError::corrupt(
            format,
            format!("the decoder failed: {msg}"),
        ))
    })
}

impl Preparer {
    /// A worker with empty scratch buffers.
    pub fn new() -> Preparer {
        Preparer::default()
    }

    /// Like [`prepare`], with this worker's buffers.
    pub fn prepare(
        &mut self,
        bytes: &[u8],
        options: &PrepOptions,
    ) -> Result<PreparedImage, PrepError> {
        check_options(options)?;
        let format = sniff(bytes)?;
        no_panic(format, || self.prepare_inner(bytes, options))
    }

    fn prepare_inner(&mut self, bytes: &[u8], o: &PrepOptions) -> Result<PreparedImage, PrepError> {
        let pending = decode::read_header(bytes, &o.limits)?;
        let header = pending.header.clone();
        if o.format == OutputFormat::Auto {
            if let Some(anim) = animate::prepare_animation(&header, bytes, o)? {
                let source = SourceInfo {
                    format: header.format,
                    width: anim.width,
                    height: anim.height,
                    orientation: header.orientation,
                    has_icc_profile: header.icc.is_some(),
                    cmyk: header.cmyk,
                };
                let out = Output {
                    bytes: anim.bytes,
                    format: ImageFormat::Gif,
                    frames: anim.frames,
                    orientation: anim.orientation,
                    background: anim.background,
                    icc_converted: anim.icc_converted,
                    recovery: [header.recovery.as_slice(), &anim.recovery].concat(),
                    passed_through: false,
                };
                return Ok(assemble(out, &anim.plan, source, o));
            }
        }
        let orientation = if o.apply_orientation {
            header.orientation
        } else {
            Orientation::Normal
        };
        let plan_for = |w: u32, h: u32| {
            let (uw, uh) = orientation.upright_size(w, h);
            geometry::plan(uw, uh, &o.fit, o.min_side, o.max_side, o.small_input)
        };
        // Plan before decoding so that a bad crop box or a too-small image costs nothing.
        let early = if header.width > 0 && header.height > 0 {
            Some(plan_for(header.width, header.height)?)
        } else {
            None
        };
        if let Some(plan) = &early {
            if let Some(done) = pass_through(bytes, &header, plan, o)? {
                return Ok(done);
            }
        }
        let shrink = match (&early, o.shrink_on_load) {
            (Some(p), true) => {
                let src = orientation.upright_rect_to_stored(p.src, header.width, header.height);
                let dst = orientation.upright_rect_to_stored(p.dst, p.side, p.side);
                shrink_factor(src, dst)
            }
            _ => 1,
        };
        let decoded: Decoded = pending.decode_reusing(shrink, &mut self.scratch.decoded)?;
        let (plan, src) = match early {
            Some(p) => {
                let full = orientation.upright_rect_to_stored(p.src, header.width, header.height);
                // The crop region, in the (possibly reduced) decoded pixels.
                (
                    p,
                    scale_rect(
                        full,
                        header.width,
                        header.height,
                        decoded.width,
                        decoded.height,
                    ),
                )
            }
            None => {
                let p = plan_for(decoded.width, decoded.height)?;
                let src = orientation.upright_rect_to_stored(p.src, decoded.width, decoded.height);
                (p, src)
            }
        };

        // Work in stored orientation; turn only the small output square.
        let dst = orientation.upright_rect_to_stored(plan.dst, plan.side, plan.side);
        let layout = decoded.layout;
        // The source's own size (a shrunk JPEG decodes smaller; a GIF with a zero screen
        // takes its first frame's size).
        let (stored_w, stored_h) = if header.width > 0 && header.height > 0 {
            (header.width, header.height)
        } else {
            (decoded.width, decoded.height)
        };
        let recovery = [header.recovery.as_slice(), &decoded.recovery].concat();
        let photo_format = matches!(
            header.format,
            ImageFormat::WebP | ImageFormat::Avif | ImageFormat::Heic
        );
        let out_format = match (o.format, header.format) {
            (OutputFormat::Jpeg, _) | (OutputFormat::Auto, ImageFormat::Jpeg) => ImageFormat::Jpeg,
            (OutputFormat::Auto, _) if photo_format && !layout.has_alpha() => ImageFormat::Jpeg,
            _ => ImageFormat::Png,
        };
        let background = match o.fit {
            Fit::Letterbox {
                background: Some(c),
            } => c,
            _ if out_format == ImageFormat::Jpeg => Rgba::WHITE,
            _ => Rgba::TRANSPARENT,
        };
        let profile = match (&header.icc, o.convert_icc) {
            (Some(profile), true) => Some(profile.as_slice()),
            _ => None,
        };

        let (bytes, icc_converted) = if out_format == ImageFormat::Jpeg && !layout.has_alpha() {
            let square = Square {
                dst,
                side: plan.side,
                orientation,
                background,
            };
            self.opaque_jpeg(decoded, src, &square, profile, o.jpeg_quality)?
        } else {
            let content = self.resampler.resize(&decoded, src, dst.w, dst.h)?;
            self.scratch.give_back(decoded.pixels);
            let icc: Option<IccTransform> = match profile {
                Some(profile) => color::icc_transform(profile, layout)?,
                None => None,
            };
            let rgba = color::to_rgba(&content, layout, icc.as_ref())?;
            drop(content);
            let canvas = compose::compose(plan.side, background, &rgba, dst);
            let mut square = orientation.apply(&canvas, plan.side, plan.side, 4);
            drop(canvas);
            let bytes = match out_format {
                ImageFormat::Jpeg => {
                    compose::flatten(&mut square, Rgba::WHITE);
                    encode::jpeg(&square, plan.side, o.jpeg_quality)?
                }
                _ => encode::png(&square, plan.side)?,
            };
            (bytes, icc.is_some())
        };

        let source = SourceInfo {
            format: header.format,
            width: stored_w,
            height: stored_h,
            orientation: header.orientation,
            has_icc_profile: header.icc.is_some(),
            cmyk: header.cmyk,
        };
        let out = Output {
            bytes,
            format: out_format,
            frames: 1,
            orientation,
            background,
            icc_converted,
            recovery,
            passed_through: false,
        };
        Ok(assemble(out, &plan, source, o))
    }

    /// Opaque pixels (grey or RGB) to a JPEG without a detour: Lanczos3 → sRGB → onto the
    /// background → upright → encode, all in RGB, each step writing into the other of this
    /// worker's two scratch buffers (skipped when it has nothing to do). The decoded image's
    /// buffer goes back to the worker as soon as it is resampled. Returns the JPEG and whether an ICC profile
    /// was converted.
    fn opaque_jpeg(
        &mut self,
        decoded: Decoded,
        src: Rect,
        square: &Square,
        profile: Option<&[u8]>,
        quality: u8,
    ) -> Result<(Vec<u8>, bool), PrepError> {
        let Preparer { resampler, scratch } = self;
        let (dst, side) = (square.dst, square.side);
        let layout = decoded.layout;
        resampler.resize_into(&decoded, src, dst.w, dst.h, &mut scratch.a)?;
        scratch.give_back(decoded.pixels);
        let (a, b) = (&mut scratch.a, &mut scratch.b);
        let icc = match profile {
            Some(profile) => color::icc_transform_rgb(profile, layout)?,
            None => None,
        };
        if color::to_rgb(a, layout, icc.as_ref(), b)? {
            std::mem::swap(a, b);
        }
        if dst != Rect::new(0, 0, side, side) {
            // JPEG has no alpha: the background as it shows over white.
            let [r, g, b_, _] = compose::over(square.background.to_array(), [255; 4]);
            compose::compose_rgb(side, [r, g, b_], a, dst, b);
            std::mem::swap(a, b);
        }
        if square.orientation != Orientation::Normal {
            square.orientation.apply_into(a, side, side, 3, b);
            std::mem::swap(a, b);
        }
        let bytes = encode::jpeg_rgb(a, side, quality)?;
        Ok((bytes, icc.is_some()))
    }
}

/// Where the content goes in the output square, and how the square is finished.
struct Square {
    /// The content's rectangle in the square, stored orientation.
    dst: Rect,
    side: u32,
    orientation: Orientation,
    background: Rgba,
}

/// The encoded result of either path, before it becomes a [`PreparedImage`].
struct Output {
    bytes: Vec<u8>,
    format: ImageFormat,
    frames: u32,
    orientation: Orientation,
    background: Rgba,
    icc_converted: bool,
    recovery: Vec<Recovery>,
    passed_through: bool,
}

/// The one place a [`PreparedImage`] is made, for stills and animations alike.
fn assemble(out: Output, plan: &Plan, source: SourceInfo, o: &PrepOptions) -> PreparedImage {
    let placement = if matches!(o.fit, Fit::Letterbox { .. }) {
        Placement::Letterbox {
            content: plan.dst,
            background: out.background,
        }
    } else {
        Placement::Crop { region: plan.src }
    };
    PreparedImage {
        bytes: out.bytes,
        format: out.format,
        side: plan.side,
        frames: out.frames,
        source,
        orientation: out.orientation,
        placement,
        scale: plan.scale(),
        icc_converted: out.icc_converted,
        recovery: out.recovery,
        passed_through: out.passed_through,
    }
}

/// The lossless fast path (see `passthrough.rs` and [`PreparedImage::passed_through`]):
/// `None` when the input is not already a valid avatar, or when its stripped copy does not
/// decode cleanly to the same size (the normal path then decides).
fn pass_through(
    bytes: &[u8],
    header: &Header,
    plan: &Plan,
    o: &PrepOptions,
) -> Result<Option<PreparedImage>, PrepError> {
    let (w, h) = (header.width, header.height);
    let whole = Rect::new(0, 0, w, h);
    let eligible = o.format == OutputFormat::Auto
        && w == h
        && plan.side == w
        && plan.src == whole
        && plan.dst == whole
        && header.orientation == Orientation::Normal
        && !header.cmyk
        && header.recovery.is_empty()
        && header.icc.as_deref().is_none_or(color::is_srgb);
    if !eligible {
        return Ok(None);
    }
    let stripped = match header.format {
        ImageFormat::Jpeg => passthrough::jpeg(bytes),
        ImageFormat::Png => passthrough::png(bytes),
        _ => None,
    };
    let Some(stripped) = stripped else {
        return Ok(None);
    };
    match decode::read_header(&stripped, &o.limits).and_then(|p| p.decode(1)) {
        Ok(d) if d.recovery.is_empty() && (d.width, d.height) == (w, h) => {}
        _ => return Ok(None),
    }
    let source = SourceInfo {
        format: header.format,
        width: w,
        height: h,
        orientation: header.orientation,
        has_icc_profile: header.icc.is_some(),
        cmyk: false,
    };
    let background = match o.fit {
        Fit::Letterbox {
            background: Some(c),
        } => c,
        _ if header.format == ImageFormat::Jpeg => Rgba::WHITE,
        _ => Rgba::TRANSPARENT,
    };
    let out = Output {
        bytes: stripped,
        format: header.format,
        frames: 1,
        orientation: Orientation::Normal,
        background,
        icc_converted: false,
        recovery: Vec::new(),
        passed_through: true,
    };
    Ok(Some(assemble(out, plan, source, o)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_panicking_decoder_becomes_a_corrupt_error() {
        let err = no_panic::<()>(ImageFormat::Gif, || panic!("index out of bounds")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.to_string().contains("GIF"), "{err}");
        assert!(err.to_string().contains("index out of bounds"), "{err}");
    }

    #[test]
    fn options_are_checked() {
        let bytes = [0xFF, 0xD8, 0xFF, 0xE0];
        for o in [
            PrepOptions::default().min_side(0),
            PrepOptions::default().min_side(600).max_side(500),
            PrepOptions::default().jpeg_quality(0),
            PrepOptions::default().max_side(20_000),
        ] {
            assert_eq!(
                prepare(&bytes, &o).unwrap_err().kind(),
                ErrorKind::InvalidOptions
            );
        }
    }
}
