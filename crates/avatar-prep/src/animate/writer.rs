//! The GIF writer of every animated output: screens in, optimised frames out.
//!
//! The [`Planner`] decides each frame's rectangle and disposal; here each planned frame gets
//! its indices — with the unchanged pixels kept as they are and, separately, turned into the
//! transparent index: both are LZW-compressed when their run counts are close, and the
//! smaller is kept — in the global palette when every colour it needs is there, else in a
//! local palette of just its colours (so the LZW minimum code size is the smallest they
//! allow). Frames are compressed in parallel and written in order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;

use super::optimise::{unpack, Planned, Planner, Screen};
use crate::compose::Dispose;
use crate::error::PrepError;

pub(crate) fn enc_err(e: gif::EncodingError) -> PrepError {
    PrepError::internal_by("GIF encoder", e)
}

/// A hasher for packed colours (a folded multiply: `std`'s SipHash is several times slower
/// on the per-pixel lookups, and no dependency is needed for four lines).
#[derive(Default)]
struct ColourHasher(u64);

impl Hasher for ColourHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b));
        }
    }
    fn write_u32(&mut self, v: u32) {
        let p = u128::from(u64::from(v) ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }
}

/// Packed colour → palette index.
type ColourMap = HashMap<u32, u8, BuildHasherDefault<ColourHasher>>;

/// Why a frame could not be written.
#[derive(Debug)]
pub(crate) struct TooManyColours;

/// Frames go to the writer in chunks of this many: decoded or composited in order while the
/// chunk before is processed in parallel (both the re-encode and the lossless path).
pub(super) fn chunk_len() -> usize {
    (rayon::current_num_threads() * 2).max(4)
}

/// Writes screens as an optimised GIF (animated, or a still when one frame comes out).
pub(crate) struct Writer {
    /// Started at the first frame written: only then is it known whether the GIF is a
    /// still (no loop extension) or an animation.
    enc: Option<gif::Encoder<Vec<u8>>>,
    side: u16,
    /// The global colour table, transparent entry included.
    table: Vec<u8>,
    /// The loop count of an animation; `None` writes no loop extension.
    repeat: Option<gif::Repeat>,
    planner: Planner,
    global: ColourMap,
    /// The global palette's transparent index (one past its colours).
    transparent: u8,
    /// Milliseconds of the frames written so far, and the hundredths of a second written for
    /// them: each frame's GIF delay is rounded so that the total stays exact.
    elapsed_ms: u64,
    written_cs: u64,
    frames: u32,
}

impl Writer {
    /// Starts a `side` × `side` GIF with `global` (at most 255 colours are used; the
    /// transparent index follows them) as the global colour table. `repeat` is the loop
    /// count written in the NETSCAPE2.0 extension; with `None`, or when only one frame comes
    /// out (a still, or identical screens merged), no loop extension is written.
    pub(crate) fn new(
        side: u16,
        repeat: Option<gif::Repeat>,
        global: &[[u8; 3]],
    ) -> Result<Writer, PrepError> {
        let mut map = ColourMap::default();
        let mut table = Vec::with_capacity(256 * 3);
        for &c in global {
            if map.len() == 255 {
                break;
            }
            let key = u32::from_le_bytes([c[0], c[1], c[2], 255]);
            if !map.contains_key(&key) {
                map.insert(key, map.len() as u8);
                table.extend_from_slice(&c);
            }
        }
        let transparent = map.len() as u8;
        table.extend_from_slice(&[0, 0, 0]);
        Ok(Writer {
            enc: None,
            side,
            table,
            repeat,
            planner: Planner::new(u32::from(side)),
            global: map,
            transparent,
            elapsed_ms: 0,
            written_cs: 0,
            frames: 0,
        })
    }

    /// Adds screens (each `side` × `side`, with its delay in milliseconds), in order.
    pub(crate) fn push(&mut self, screens: Vec<(Screen, u32)>) -> Result<(), PrepError> {
        let planned: Vec<Planned> = screens
            .into_iter()
            .filter_map(|(s, delay)| self.planner.push(s, delay))
            .collect();
        self.write(planned, false)
    }

    /// Writes the last frame and the trailer; returns the GIF and the number of frames in
    /// it (identical consecutive screens are one frame).
    pub(crate) fn finish(mut self) -> Result<(Vec<u8>, u32), PrepError> {
        let last: Vec<Planned> = self.planner.finish().into_iter().collect();
        self.write(last, true)?;
        let frames = self.frames;
        let enc = self
            .enc
            .take()
            .ok_or_else(|| PrepError::internal("a GIF without frames"))?;
        let out = enc.into_inner().map_err(enc_err)?;
        Ok((out, frames))
    }

    /// The encoder, started (header, global table and, for an animation, the loop
    /// extension) before the first frame. The planner holds one screen back, so frames
    /// first come from [`Writer::push`] only when a second, different screen followed:
    /// a first write from [`Writer::finish`] with one frame is a still.
    fn encoder(&mut self, still: bool) -> Result<&mut gif::Encoder<Vec<u8>>, PrepError> {
        if self.enc.is_none() {
            let (side, table) = (self.side, &self.table);
            let mut enc = gif::Encoder::new(Vec::new(), side, side, table).map_err(enc_err)?;
            if let Some(repeat) = self.repeat.filter(|_| !still) {
                enc.set_repeat(repeat).map_err(enc_err)?;
            }
            self.enc = Some(enc);
        }
        self.enc
            .as_mut()
            .ok_or_else(|| PrepError::internal("GIF encoder missing"))
    }

    fn write(&mut self, planned: Vec<Planned>, last: bool) -> Result<(), PrepError> {
        if planned.is_empty() && !last {
            return Ok(());
        }
        let still = last && self.frames == 0 && planned.len() <= 1;
        let mut delays = Vec::with_capacity(planned.len());
        for p in &planned {
            // GIF counts in hundredths of a second.
            self.elapsed_ms += p.delay_ms;
            let until = (self.elapsed_ms + 5) / 10;
            let cs = u16::try_from(until - self.written_cs).unwrap_or(u16::MAX);
            self.written_cs += u64::from(cs);
            delays.push(cs);
        }
        let (global, t) = (&self.global, self.transparent);
        let frames: Vec<gif::Frame<'static>> = planned
            .into_par_iter()
            .zip(delays)
            .map(|(p, delay)| {
                let mut f = encode(&p, global, t).map_err(|TooManyColours| {
                    PrepError::internal("a GIF frame needs more than 256 colours")
                })?;
                f.delay = delay;
                Ok(f)
            })
            .collect::<Result<_, PrepError>>()?;
        let enc = self.encoder(still)?;
        for f in &frames {
            enc.write_lzw_pre_encoded_frame(f).map_err(enc_err)?;
        }
        self.frames += frames.len() as u32;
        Ok(())
    }
}

/// The smallest encoding of a planned frame: unchanged pixels stored as they are, or as the
/// transparent index (both compressed when both are close; the smaller is kept).
fn encode(p: &Planned, global: &ColourMap, t: u8) -> Result<gif::Frame<'static>, TooManyColours> {
    let pairs = || p.cur.iter().zip(&p.under).map(|(&c, &u)| (c, u));
    // Runs (value changes in row order) of the two encodings: LZW output follows them
    // closely, so both are compressed only when their runs are within 20 % of each other
    // (compressing both costs twice the time, and where one has far fewer runs it wins).
    let (mut runs, mut last) = ([0usize; 2], [u32::MAX; 2]);
    let mut unchanged_opaque = false;
    for (c, u) in pairs() {
        unchanged_opaque |= c == u && c != 0;
        for (k, v) in [if c == u { 0 } else { c }, c].into_iter().enumerate() {
            if v != last[k] {
                runs[k] += 1;
                last[k] = v;
            }
        }
    }
    let try_clear = !unchanged_opaque || runs[0] * 10 <= runs[1] * 12;
    let try_opaque = unchanged_opaque && runs[1] * 10 <= runs[0] * 12;
    let mut best: Option<(usize, gif::Frame<'static>)> = None;
    for unchanged_clear in [false, true] {
        // (Clearing needs fewer colours: it is the fallback when the other has too many.)
        let skip = if unchanged_clear {
            !try_clear && best.is_some()
        } else {
            !try_opaque
        };
        if skip {
            continue;
        }
        let px: Vec<u32> = pairs()
            .map(|(c, u)| if unchanged_clear && c == u { 0 } else { c })
            .collect();
        let Some((indices, palette, trns)) = index(&px, global, t) else {
            continue;
        };
        let mut f =
            gif::Frame::from_indexed_pixels(p.rect.w as u16, p.rect.h as u16, indices, trns);
        f.left = p.rect.x as u16;
        f.top = p.rect.y as u16;
        f.dispose = match p.dispose {
            Dispose::Keep => gif::DisposalMethod::Keep,
            Dispose::Background => gif::DisposalMethod::Background,
            Dispose::Previous => gif::DisposalMethod::Previous,
        };
        let table = palette
            .as_ref()
            .map_or(0, |t| 3 * (t.len() / 3).next_power_of_two());
        f.palette = palette;
        f.make_lzw_pre_encoded();
        let size = f.buffer.len() + table;
        if best.as_ref().is_none_or(|b| size < b.0) {
            best = Some((size, f));
        }
    }
    best.map(|b| b.1).ok_or(TooManyColours)
}

/// Palette indices of `px` (`0` transparent): in the global palette if it holds every
/// colour, else in a local palette (returned) of the colours in order of appearance.
/// `None` when more than 256 entries would be needed.
#[allow(clippy::type_complexity)]
fn index(px: &[u32], global: &ColourMap, t: u8) -> Option<(Vec<u8>, Option<Vec<u8>>, Option<u8>)> {
    let mut out = Vec::with_capacity(px.len());
    let mut last = (0u32, t);
    let mut any_clear = false;
    let mut in_global = true;
    for &c in px {
        if c != last.0 {
            let i = if c == 0 { Some(&t) } else { global.get(&c) };
            let Some(&i) = i else {
                in_global = false;
                break;
            };
            last = (c, i);
        }
        any_clear |= c == 0;
        out.push(last.1);
    }
    if in_global {
        return Some((out, None, any_clear.then_some(t)));
    }
    let mut local = ColourMap::default();
    let mut rgb = Vec::new();
    for &c in px.iter().filter(|&&c| c != 0) {
        if !local.contains_key(&c) {
            if local.len() == 256 {
                return None;
            }
            local.insert(c, local.len() as u8);
            rgb.extend_from_slice(&unpack(c));
        }
    }
    let any_clear = px.contains(&0);
    if any_clear && local.len() == 256 {
        return None;
    }
    let lt = local.len() as u8;
    if any_clear || local.is_empty() {
        rgb.extend_from_slice(&[0, 0, 0]);
    }
    out.clear();
    let mut last = (0u32, lt);
    for &c in px {
        if c != last.0 {
            last = (c, local.get(&c).copied().unwrap_or(lt));
        }
        out.push(last.1);
    }
    Some((out, Some(rgb), any_clear.then_some(lt)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Rect;

    fn planned(cur: Vec<u32>, under: Vec<u32>, w: u32) -> Planned {
        let h = cur.len() as u32 / w;
        Planned {
            rect: Rect::new(0, 0, w, h),
            cur,
            under,
            delay_ms: 0,
            dispose: Dispose::Keep,
        }
    }

    #[test]
    fn local_palettes_only_when_the_global_one_lacks_a_colour() {
        let mut global = ColourMap::default();
        global.insert(0xff00_0001, 0);
        global.insert(0xff00_0002, 1);
        let f = encode(
            &planned(vec![0xff00_0001, 0xff00_0002], vec![0, 0], 2),
            &global,
            2,
        )
        .unwrap();
        assert!(f.palette.is_none());
        let f = encode(&planned(vec![0xff00_0003, 0], vec![0, 0], 2), &global, 2).unwrap();
        assert_eq!(f.palette.as_deref(), Some(&[3, 0, 0, 0, 0, 0][..]));
        assert_eq!(f.transparent, Some(1));
        // 257 colours cannot be one frame.
        let many: Vec<u32> = (0..257).map(|i| 0xff00_0000 | (i + 10)).collect();
        assert!(encode(&planned(many, vec![0; 257], 257), &global, 2).is_err());
    }

    #[test]
    fn unchanged_pixels_become_transparent_when_that_is_smaller() {
        let global = ColourMap::default();
        // Noise that is unchanged: storing it as one transparent run is far smaller.
        let noise: Vec<u32> = (0..4096u32)
            .map(|i| 0xff00_0000 | (i.wrapping_mul(2_654_435_761) >> 28))
            .collect();
        let f = encode(&planned(noise.clone(), noise, 64), &global, 0).unwrap();
        assert!(f.buffer.len() < 200, "{} bytes", f.buffer.len());
        assert_eq!((f.palette.as_ref(), f.transparent), (None, Some(0)));
    }
}
