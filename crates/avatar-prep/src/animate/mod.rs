//! Animated sources (GIF today; every format with a [`FrameSource`]) become animated GIFs,
//! and still GIFs (or a GIF's first frame alone) one-frame GIFs without a loop extension:
//! scan the frame headers and apply the frame policy, then composite every frame as a
//! browser shows it, resize and re-palettise frames in parallel, and hand the screens to the
//! optimising [`Writer`] (changed rectangles, disposal per frame, merged duplicates, local
//! palettes only where needed; LZW in parallel). Animations that need no resampling take the
//! lossless path of `passthrough.rs` (exact colours, or the frames copied).
//!
//! Memory stays at a few frames whatever the length: frames go through in chunks of
//! `2 × threads` (at least 4), composited in order (the next chunk while the one before is
//! processed), processed in parallel, written in order.

pub(crate) mod bench;
mod optimise;
mod palette;
mod passthrough;
mod writer;

use rayon::prelude::*;

use self::optimise::Screen;
use self::palette::{median_cut, Palette};
use self::writer::{chunk_len, Writer};
use crate::color::{self, IccTransform};
use crate::compose;
use crate::decode::{self, AnimScan, FrameBudget, FrameSource, Header, PaletteHint};
use crate::error::PrepError;
use crate::geometry::{self, Plan, Rect};
use crate::options::{Fit, FramePolicy, ImageFormat, PrepOptions, Rgba};
use crate::orient::Orientation;
use crate::pixels::{Decoded, Layout};
use crate::recovery::Recovery;
use crate::resize::Resampler;

/// Which frames are kept, and each kept frame's delay (the dropped frames' delays added to
/// the kept frame before them, so the total duration is unchanged).
fn keep_frames(delays: &[u32], max: usize) -> Vec<(usize, u32)> {
    let n = delays.len();
    let kept: Vec<usize> = if n <= max {
        (0..n).collect()
    } else {
        (0..max).map(|j| j * n / max).collect()
    };
    kept.iter()
        .enumerate()
        .map(|(j, &start)| {
            let end = kept.get(j + 1).copied().unwrap_or(n);
            let delay: u32 = delays[start..end].iter().sum();
            (start, delay)
        })
        .collect()
}

/// The result of [`prepare_animation`].
pub(crate) struct Animated {
    pub bytes: Vec<u8>,
    pub plan: Plan,
    pub background: Rgba,
    /// The orientation applied to every frame.
    pub orientation: Orientation,
    /// Whether an ICC profile was converted to sRGB.
    pub icc_converted: bool,
    /// What the scan had to work around (an animation cut short, …).
    pub recovery: Vec<Recovery>,
    pub frames: u32,
    pub width: u32,
    pub height: u32,
}

/// What [`prepare_animation`] works from: the scan, the kept frames, how each output frame is
/// made, and whether the pixels go through unchanged (no resampling, bars transparent or
/// opaque, no turn, no colour conversion).
struct Setup {
    scan: AnimScan,
    kept: Vec<(usize, u32)>,
    look: Look,
    unchanged_pixels: bool,
}

/// Scans the animation and plans its output. `Ok(None)` means "not an animation after all"
/// and not a GIF: one frame, or the first-frame policy, of a WebP or AVIF. A GIF reduced to
/// one frame (a still, or the first-frame policy) keeps its first frame alone: a still GIF.
fn setup(header: &Header, bytes: &[u8], o: &PrepOptions) -> Result<Option<Setup>, PrepError> {
    let format = header.format;
    let budget = FrameBudget {
        reject_above: (o.frame_policy == FramePolicy::Reject).then_some(u64::from(o.max_frames)),
        max_animation_pixels: o.limits.max_animation_pixels,
    };
    let Some(mut scan) = decode::scan_animation(format, bytes, &o.limits, &budget)? else {
        return Ok(None);
    };
    let n = scan.delays.len();
    let first_only =
        n <= 1 || (n > o.max_frames as usize && o.frame_policy == FramePolicy::FirstFrame);
    if n == 0 || (first_only && format != ImageFormat::Gif) {
        return Ok(None);
    }
    if scan.width == 0 || scan.height == 0 {
        return Err(PrepError::corrupt(format, "zero canvas size"));
    }
    decode::check_dimensions(scan.width, scan.height, 4, &o.limits)?;
    let kept = if first_only {
        // Later frames are not shown: a cut inside them changes nothing.
        scan.recovery
            .retain(|r| !matches!(r, Recovery::AnimationCutShort { .. }));
        vec![(0, scan.delays[0])]
    } else {
        keep_frames(&scan.delays, (o.max_frames as usize).max(1))
    };
    let orientation = if o.apply_orientation {
        header.orientation
    } else {
        Orientation::Normal
    };
    let (upright_w, upright_h) = orientation.upright_size(scan.width, scan.height);
    let plan = geometry::plan(
        upright_w,
        upright_h,
        &o.fit,
        o.min_side,
        o.max_side,
        o.small_input,
    )?;
    let icc = match (&header.icc, o.convert_icc) {
        (Some(profile), true) => color::icc_transform(profile, Layout::Rgba8)?,
        _ => None,
    };
    let background = match o.fit {
        Fit::Letterbox {
            background: Some(c),
        } => c,
        _ => Rgba::TRANSPARENT,
    };
    // Every kept frame is the source frame shown then (all of them, or the first alone).
    let unchanged_pixels = (kept.len() == n || kept.len() == 1)
        && (plan.src.w, plan.src.h) == (plan.dst.w, plan.dst.h)
        && matches!(background.a, 0 | 255)
        && orientation == Orientation::Normal
        && icc.is_none();
    let look = Look {
        plan,
        background,
        orientation,
        icc,
    };
    Ok(Some(Setup {
        scan,
        kept,
        look,
        unchanged_pixels,
    }))
}

/// Prepares an animation as an animated GIF, and a GIF still (one frame, or an animation
/// under the first-frame policy) as a still GIF. `Ok(None)` means "not a GIF nor an
/// animation" (a format without animations, or a WebP/AVIF with one frame or under the
/// first-frame policy): the caller takes the still path.
pub(crate) fn prepare_animation(
    header: &Header,
    bytes: &[u8],
    o: &PrepOptions,
) -> Result<Option<Animated>, PrepError> {
    let format = header.format;
    let Some(Setup {
        scan,
        kept,
        look,
        unchanged_pixels,
    }) = setup(header, bytes, o)?
    else {
        return Ok(None);
    };
    let passed = if unchanged_pixels && format == ImageFormat::Gif {
        let (plan, bg) = (&look.plan, look.background);
        passthrough::pass_through(bytes, o, plan, bg, &scan, kept.len())?
    } else {
        None
    };
    let (out, frames) = match passed {
        Some(out) => out,
        None => {
            let mut frames = decode::animation_frames(format, bytes, &o.limits, &scan)?;
            Encoder::new(&scan, &look, kept.len() == 1)?.run(frames.as_mut(), &kept)?
        }
    };
    Ok(Some(Animated {
        bytes: out,
        plan: look.plan,
        background: look.background,
        orientation: look.orientation,
        icc_converted: look.icc.is_some(),
        recovery: scan.recovery.clone(),
        frames,
        width: scan.width,
        height: scan.height,
    }))
}

/// How every output frame is made from a composited screen: the square's plan (upright
/// pixels), the bars' colour, the orientation to apply and the ICC conversion.
struct Look {
    plan: Plan,
    background: Rgba,
    orientation: Orientation,
    icc: Option<IccTransform>,
}

impl Look {
    /// One composited screen (`width` × `height` RGBA, stored orientation) to the upright
    /// output square: crop and resize in stored orientation, convert colour, paint on the
    /// background, then turn the small square.
    fn render(&self, r: &mut Resampler, screen: &Decoded) -> Result<Vec<u8>, PrepError> {
        let (o, plan) = (self.orientation, &self.plan);
        let src = o.upright_rect_to_stored(plan.src, screen.width, screen.height);
        let dst = o.upright_rect_to_stored(plan.dst, plan.side, plan.side);
        let content = r.resize(screen, src, dst.w, dst.h)?;
        let content = match &self.icc {
            Some(t) => color::to_rgba(&content, Layout::Rgba8, Some(t))?,
            None => content,
        };
        // Content filling the square over a transparent background is the square, and an
        // upright square needs no turn: neither step copies it then.
        let square = if dst == Rect::new(0, 0, plan.side, plan.side) && self.background.a == 0 {
            content
        } else {
            compose::compose(plan.side, self.background, &content, dst)
        };
        if o == Orientation::Normal {
            return Ok(square);
        }
        Ok(o.apply(&square, plan.side, plan.side, 4))
    }
}

/// A rendered output frame (RGBA, the square's side) and its delay.
type Rendered = (Vec<u8>, u32);

/// A frame's mean squared RGB error (per opaque pixel) above which a palette made from that
/// frame is tried in place of the current one. Below it every frame keeps the palette
/// before it (libvips' `interpalette_maxerror` idea): a new palette re-maps even the pixels
/// that did not change, so it costs bytes and is only worth it where colours really move.
const REUSE_MAX_ERROR: u64 = 48;

/// The state of one re-encoded animation: the palette in use, how many were used, and the
/// writer.
struct Encoder<'s> {
    scan: &'s AnimScan,
    look: &'s Look,
    side: u16,
    palette: Option<Palette>,
    palettes_used: usize,
    /// [`REUSE_MAX_ERROR`] (`u64::MAX`: one palette for every frame).
    reuse_max_error: u64,
    /// One frame is kept: no loop extension, and the palette maps that frame closest.
    still: bool,
    writer: Option<Writer>,
}

impl<'s> Encoder<'s> {
    fn new(scan: &'s AnimScan, look: &'s Look, still: bool) -> Result<Self, PrepError> {
        let side = u16::try_from(look.plan.side)
            .map_err(|_| PrepError::internal("GIF side above 65535"))?;
        Ok(Encoder {
            scan,
            look,
            side,
            palette: None,
            palettes_used: 0,
            reuse_max_error: REUSE_MAX_ERROR,
            still,
            writer: None,
        })
    }

    /// Composites every frame of `frames`, keeps those in `kept` (index, delay), and
    /// returns the GIF and its number of frames. One chunk of screens is composited (in
    /// order, on this thread) while the chunk before is resized, mapped and written.
    fn run(
        mut self,
        frames: &mut dyn FrameSource,
        kept: &[(usize, u32)],
    ) -> Result<(Vec<u8>, u32), PrepError> {
        let chunk_len = chunk_len();
        let (width, height) = (self.scan.width, self.scan.height);
        let mut kept = kept.iter().peekable();
        let mut index = 0usize;
        // Screens are copied out of the frame source into buffers that come back from the
        // chunk before last (no fresh pages to fault in and zero for every frame).
        let mut pool: Vec<Vec<u8>> = Vec::new();
        let mut read = |pool: &mut Vec<Vec<u8>>| -> Result<Vec<(Decoded, u32)>, PrepError> {
            let mut chunk = Vec::with_capacity(chunk_len);
            // Frames after the last kept one change nothing (and may be cut off).
            while chunk.len() < chunk_len && kept.peek().is_some() {
                let Some(screen) = frames.next_screen()? else {
                    break;
                };
                if let Some(&(_, delay)) = kept.next_if(|k| k.0 == index) {
                    let mut pixels = pool.pop().unwrap_or_default();
                    pixels.clear();
                    pixels.extend_from_slice(screen);
                    let layout = Layout::Rgba8;
                    let recovery = Vec::new();
                    let d = Decoded {
                        width,
                        height,
                        layout,
                        pixels,
                        recovery,
                    };
                    chunk.push((d, delay));
                }
                index += 1;
            }
            Ok(chunk)
        };
        let mut chunk = read(&mut pool)?;
        while !chunk.is_empty() {
            // (The frame source is not `Send`: it stays on this thread, the encoder moves.)
            let mut flushed = Ok(Vec::new());
            let (me, f) = (&mut self, &mut flushed);
            let next = rayon::in_place_scope(|sc| {
                sc.spawn(move |_| *f = me.flush(chunk));
                read(&mut pool)
            });
            pool.extend(flushed?);
            chunk = next?;
        }
        self.writer
            .take()
            .ok_or_else(|| PrepError::internal("an animation without frames"))?
            .finish()
    }

    /// Processes the chunk: resize in parallel, map to the palettes, then hand the frames
    /// to the writer. Returns the screens' buffers for reuse.
    fn flush(&mut self, chunk: Vec<(Decoded, u32)>) -> Result<Vec<Vec<u8>>, PrepError> {
        let look = self.look;
        let rendered: Vec<(Rendered, Vec<u8>)> = chunk
            .into_par_iter()
            .map_init(Resampler::default, |r, (screen, delay)| {
                Ok(((look.render(r, &screen)?, delay), screen.pixels))
            })
            .collect::<Result<_, PrepError>>()?;
        let (frames, spent): (Vec<Rendered>, Vec<Vec<u8>>) = rendered.into_iter().unzip();
        let screens = self.map_chunk(frames);
        if self.writer.is_none() {
            let global = self.palette.as_ref().map(Palette::colors);
            let global = global.unwrap_or_default();
            let repeat = (!self.still).then_some(self.scan.repeat);
            self.writer = Some(Writer::new(self.side, repeat, &global)?);
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(PrepError::internal("GIF writer missing"));
        };
        writer.push(screens)?;
        Ok(spent)
    }

    /// Maps a chunk of rendered frames (RGBA) to screens of palette colours, in parallel.
    /// The first chunk chooses the global palette; a frame whose error under the palette in
    /// use exceeds [`REUSE_MAX_ERROR`] tries a palette of its own, kept (for it and the
    /// frames after it) when it halves the error. The writer gives such frames local
    /// palettes.
    fn map_chunk(&mut self, frames: Vec<Rendered>) -> Vec<(Screen, u32)> {
        let mut pal = match self.palette.take() {
            Some(p) => p,
            None => {
                self.palettes_used = 1;
                self.choose_palette(&frames)
            }
        };
        let map_from = |pal: &Palette, from: usize| -> Vec<(Screen, u64)> {
            frames[from..]
                .par_iter()
                .map(|(px, _)| pal.map_frame(px))
                .collect()
        };
        let mut mapped = map_from(&pal, 0);
        let mut at = 0;
        while let Some(j) = (at..mapped.len()).find(|&j| mapped[j].1 > self.reuse_max_error) {
            let own = self.frame_palette(&frames[j].0);
            let remapped = map_from(&own, j);
            if remapped[0].1 * 2 < mapped[j].1 {
                mapped.truncate(j);
                mapped.extend(remapped);
                pal = own;
                self.palettes_used += 1;
            }
            at = j + 1;
        }
        self.palette = Some(pal);
        mapped
            .into_iter()
            .zip(frames)
            .map(|((screen, _), (_, delay))| (screen, delay))
            .collect()
    }

    /// The opaque letterbox colour, which every palette holds.
    fn bars(&self) -> Option<[u8; 3]> {
        let b = self.look.background;
        (b.a == 255).then_some([b.r, b.g, b.b])
    }

    /// A palette made from one rendered frame's colours.
    fn frame_palette(&self, px: &[u8]) -> Palette {
        let mut samples = palette::histogram(std::iter::once(px));
        samples.extend(self.bars().map(|b| (b, 1 << 40)));
        Palette::new(median_cut(&samples))
    }

    /// The output palette, chosen once from the scan's hint (or from the first chunk's
    /// pixels), with an opaque letterbox colour added. A still also tries a median cut of its
    /// one frame's pixels and keeps whichever palette maps it closer.
    fn choose_palette(&self, first: &[Rendered]) -> Palette {
        let bg = self.bars();
        let weighted = |mut samples: Vec<([u8; 3], u64)>| {
            if let Some(b) = bg {
                samples.push((b, 1 << 40));
            }
            Palette::new(median_cut(&samples))
        };
        let from_pixels = || weighted(palette::histogram(first.iter().map(|f| f.0.as_slice())));
        let hinted = match &self.scan.palette {
            // Reuse the source palette: every frame's colours come from it.
            PaletteHint::Only(p) if p.len() / 3 < 255 => {
                let mut colors: Vec<[u8; 3]> =
                    p.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
                colors.extend(bg.filter(|b| !colors.contains(b)));
                Palette::new(colors)
            }
            PaletteHint::Only(p) => {
                weighted(p.chunks_exact(3).map(|c| ([c[0], c[1], c[2]], 1)).collect())
            }
            PaletteHint::Weighted(samples) => weighted(samples.clone()),
            PaletteHint::FromPixels => return from_pixels(),
        };
        if !self.still {
            return hinted;
        }
        let own = from_pixels();
        let error = |p: &Palette| first.iter().map(|f| p.map_frame(&f.0).1).sum::<u64>();
        if error(&own) < error(&hinted) {
            own
        } else {
            hinted
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_the_total_duration() {
        let delays: Vec<u32> = (0..250).map(|i| (i % 7) * 10 + 10).collect();
        let total: u32 = delays.iter().sum();
        for max in [1usize, 2, 10, 100, 249, 250, 400] {
            let kept = keep_frames(&delays, max);
            assert_eq!(kept.len(), max.min(250));
            assert_eq!(kept.iter().map(|k| k.1).sum::<u32>(), total, "max {max}");
            assert_eq!(kept[0].0, 0);
            assert!(kept.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }
}
