//! The seam between the dispatch in `decode/mod.rs` and the codecs: what a header step
//! returns ([`Header`], [`Pending`]), the shared limit and EXIF checks, and the animation
//! types ([`FrameBudget`], [`AnimScan`], [`FrameSource`]). A leaf: it imports no codec and
//! nothing from the dispatch, so the codecs can import it without a loop.

use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::orient::Orientation;
use crate::recovery::Recovery;

/// What the header says, before any pixel is decoded.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub format: ImageFormat,
    /// Stored width (before orientation); 0 when only the frames tell (a GIF with a 0×0
    /// logical screen).
    pub width: u32,
    /// Stored height (before orientation); 0 as for `width`.
    pub height: u32,
    pub orientation: Orientation,
    /// The embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
    /// A CMYK or YCCK source, converted to RGB by the decoder.
    pub cmyk: bool,
    /// What the header needed (an unreadable EXIF block, …).
    pub recovery: Vec<Recovery>,
}

/// Per-codec facts the header step found and the decode step needs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CodecState {
    /// Nothing beyond the [`Header`].
    Plain,
    /// JPEG: whether an end-of-image marker follows the scans, and whether the frame is
    /// lossless (SOF3: jpeg-decoder's, libjpeg-turbo's 8-bit build has none).
    Jpeg { eoi: bool, lossless: bool },
}

/// A header that has passed the limits; call [`Pending::decode`] for the pixels.
pub(crate) struct Pending<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) header: Header,
    pub(crate) limits: Limits,
    pub(crate) state: CodecState,
}

impl<'a> Pending<'a> {
    pub(crate) fn new(bytes: &'a [u8], header: Header, limits: &Limits) -> Pending<'a> {
        Pending {
            bytes,
            header,
            limits: *limits,
            state: CodecState::Plain,
        }
    }
}

/// The orientation in an EXIF block (a JPEG APP1 body, a PNG `eXIf` or WebP `EXIF` chunk). A
/// block that is not TIFF-structured at all is noted in `recovery`; one without a valid
/// orientation tag is simply normal. Never an error: browsers show such files upright.
pub(crate) fn exif_orientation(block: &[u8], recovery: &mut Vec<Recovery>) -> Orientation {
    let tiff = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    if !(tiff.starts_with(b"II*\0") || tiff.starts_with(b"MM\0*")) {
        recovery.push(Recovery::UnreadableExif);
        return Orientation::Normal;
    }
    Orientation::from_exif_block(tiff)
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

// ---------------------------------------------------------------------------------------------
// Animations: a scan of the frame headers first (limits and frame policy, no pixel decoded),
// then the frames composited in order.

/// The frame ceilings of one call: [`PrepOptions::max_frames`](crate::PrepOptions) under
/// the `Reject` policy, and [`Limits::max_animation_pixels`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameBudget {
    /// Above this many frames the animation is refused (`None`: any count is taken, the
    /// caller decimates or keeps the first frame).
    pub reject_above: Option<u64>,
    pub max_animation_pixels: u64,
}

/// How many frames are counted at most for the message of a refused animation.
const COUNT_AT_MOST: u64 = 1_000_000;

impl FrameBudget {
    /// Checks the scan after its `n`-th frame header on a `width` × `height` screen.
    /// `count_rest` counts the frames that follow (cheaply, headers only), for the message.
    pub(crate) fn admit(
        &self,
        n: u64,
        width: u32,
        height: u32,
        count_rest: impl FnOnce(u64) -> Result<u64, PrepError>,
    ) -> Result<(), PrepError> {
        if let Some(max) = self.reject_above.filter(|&max| n > max) {
            let frames = n + count_rest(COUNT_AT_MOST.saturating_sub(n))?;
            return Err(PrepError::TooManyFrames { frames, max });
        }
        // Every frame is composited (decimation included): each costs a whole screen.
        let screen = (u64::from(width) * u64::from(height)).max(1);
        if n.saturating_mul(screen) > self.max_animation_pixels {
            return Err(PrepError::AnimationTooLarge {
                frames: n,
                width,
                height,
                limit: self.max_animation_pixels,
            });
        }
        Ok(())
    }
}

/// Where the colours of an animation's output palette come from.
#[derive(Debug, Clone)]
pub(crate) enum PaletteHint {
    /// One palette (RGB triples) holds every colour of every frame (a GIF without local
    /// colour tables): reuse it.
    Only(Vec<u8>),
    /// Truecolour frames: the palette is made from the first frames' pixels.
    FromPixels,
    /// The colours of the frames' palettes, weighted by how much of the screen they may
    /// cover: the median cut's input.
    Weighted(Vec<([u8; 3], u64)>),
}

/// What a scan of an animation's frame headers tells, before any frame is decoded.
#[derive(Debug, Clone)]
pub(crate) struct AnimScan {
    pub width: u32,
    pub height: u32,
    /// Each frame's delay in milliseconds.
    pub delays: Vec<u32>,
    pub repeat: ::gif::Repeat,
    pub palette: PaletteHint,
    /// What the scan worked around (an animation cut short, frames without a palette).
    pub recovery: Vec<Recovery>,
}

/// An animation's frames, composited in order as a browser shows them.
pub(crate) trait FrameSource {
    /// The next frame as the whole screen (`width` × `height` RGBA of the scan), or `None`
    /// after the last.
    fn next_screen(&mut self) -> Result<Option<&[u8]>, PrepError>;
}
