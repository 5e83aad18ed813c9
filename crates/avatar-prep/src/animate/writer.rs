//! The GIF writer of re-encoded animations: frames as differences from the previous frame,
//! LZW-compressed in parallel, written in order.

use rayon::prelude::*;

use super::palette::Palette;
use crate::error::PrepError;
use crate::geometry::Rect;

/// A frame after resizing and palette mapping: palette indices of the whole square.
pub(crate) struct OutFrame {
    pub(crate) indices: Vec<u8>,
    /// Delay in milliseconds.
    pub(crate) delay: u32,
}

/// Writes frames in order as differences from the previous frame, LZW-compressed in
/// parallel. Holds back the last frame: its disposal depends on the next one.
pub(crate) struct Writer<'a> {
    /// The output, until the encoder is made (it needs the palette).
    out: Option<&'a mut Vec<u8>>,
    enc: Option<gif::Encoder<&'a mut Vec<u8>>>,
    repeat: gif::Repeat,
    side: u16,
    /// The previous frame as shown, and whether it was disposed to background (the whole
    /// canvas is then clear for the next frame).
    prev: Option<(OutFrame, bool)>,
    pending: Option<OutFrame>,
    /// The global colour table (padded to a power of two) and the transparent index.
    table: Option<(Vec<u8>, u8)>,
    started: bool,
    /// Milliseconds of the frames made so far, and the hundredths of a second written for
    /// them: each frame's GIF delay is rounded so that the total stays exact.
    elapsed_ms: u64,
    written_cs: u64,
}

pub(crate) fn enc_err(e: gif::EncodingError) -> PrepError {
    PrepError::internal_by("GIF encoder", e)
}

impl<'a> Writer<'a> {
    pub(crate) fn new(
        out: &'a mut Vec<u8>,
        side: u16,
        repeat: gif::Repeat,
    ) -> Result<Writer<'a>, PrepError> {
        Ok(Writer {
            out: Some(out),
            enc: None,
            repeat,
            side,
            prev: None,
            pending: None,
            table: None,
            started: false,
            elapsed_ms: 0,
            written_cs: 0,
        })
    }

    pub(crate) fn push(&mut self, frames: Vec<OutFrame>, pal: &Palette) -> Result<(), PrepError> {
        if self.table.is_none() {
            let mut table = pal.rgb.clone();
            table.resize(pal.table_len() * 3, 0);
            self.table = Some((table, pal.transparent));
        }
        let t = pal.transparent;
        let mut ready = Vec::new();
        for f in frames {
            if let Some(p) = self.pending.take() {
                // `f` turns an opaque pixel of `p` transparent: `p` must be disposed to
                // background, and so written over the whole canvas.
                let clear = p
                    .indices
                    .iter()
                    .zip(&f.indices)
                    .any(|(&a, &b)| a != t && b == t);
                ready.push(self.frame_for(p, clear, t));
            }
            self.pending = Some(f);
        }
        self.write(ready)
    }

    /// Makes the GIF frame for `f` and records it as the previous frame.
    fn frame_for(&mut self, f: OutFrame, clear_after: bool, t: u8) -> gif::Frame<'static> {
        let side = u32::from(self.side);
        let full = Rect::new(0, 0, side, side);
        let (rect, indices) = match &self.prev {
            // Over a kept previous frame, only what changed (unless this one must be whole).
            Some((p, false)) if !clear_after => diff(p, &f, self.side, t),
            _ => (full, f.indices.clone()),
        };
        let mut frame =
            gif::Frame::from_indexed_pixels(rect.w as u16, rect.h as u16, indices, Some(t));
        frame.left = rect.x as u16;
        frame.top = rect.y as u16;
        // GIF counts in hundredths of a second.
        self.elapsed_ms += u64::from(f.delay);
        let until = (self.elapsed_ms + 5) / 10;
        frame.delay = u16::try_from(until - self.written_cs).unwrap_or(u16::MAX);
        self.written_cs += u64::from(frame.delay);
        frame.dispose = if clear_after {
            gif::DisposalMethod::Background
        } else {
            gif::DisposalMethod::Keep
        };
        self.prev = Some((f, clear_after));
        frame
    }

    fn write(&mut self, frames: Vec<gif::Frame<'static>>) -> Result<(), PrepError> {
        let encoded: Vec<gif::Frame<'static>> = frames
            .into_par_iter()
            .map(|mut f| {
                f.make_lzw_pre_encoded();
                f
            })
            .collect();
        if encoded.is_empty() {
            return Ok(());
        }
        if !self.started {
            self.started = true;
            let out = self
                .out
                .take()
                .ok_or_else(|| PrepError::internal("GIF writer reused"))?;
            let table = self.table.as_ref().map_or(&[][..], |t| t.0.as_slice());
            let mut enc = gif::Encoder::new(out, self.side, self.side, table).map_err(enc_err)?;
            enc.set_repeat(self.repeat).map_err(enc_err)?;
            self.enc = Some(enc);
        }
        let enc = self
            .enc
            .as_mut()
            .ok_or_else(|| PrepError::internal("GIF writer finished"))?;
        for f in &encoded {
            enc.write_lzw_pre_encoded_frame(f).map_err(enc_err)?;
        }
        Ok(())
    }

    pub(crate) fn finish(&mut self) -> Result<(), PrepError> {
        let t = self.table.as_ref().map_or(0, |p| p.1);
        if let Some(p) = self.pending.take() {
            let f = self.frame_for(p, false, t);
            self.write(vec![f])?;
        }
        if let Some(enc) = self.enc.take() {
            enc.into_inner().map_err(enc_err)?;
        }
        Ok(())
    }
}

/// The smallest rectangle holding every pixel that differs from `prev`, with unchanged
/// pixels inside it set to the transparent index (they show `prev` through).
fn diff(prev: &OutFrame, cur: &OutFrame, side: u16, t: u8) -> (Rect, Vec<u8>) {
    let s = usize::from(side);
    let (mut x0, mut y0, mut x1, mut y1) = (s, s, 0usize, 0usize);
    for y in 0..s {
        let row = y * s;
        for x in 0..s {
            if prev.indices[row + x] != cur.indices[row + x] {
                x0 = x0.min(x);
                x1 = x1.max(x + 1);
                y0 = y0.min(y);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x1 == 0 {
        // Nothing changed: one transparent pixel keeps the frame (and its delay).
        return (Rect::new(0, 0, 1, 1), vec![t]);
    }
    let mut out = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        for x in x0..x1 {
            let (a, b) = (prev.indices[y * s + x], cur.indices[y * s + x]);
            out.push(if a == b { t } else { b });
        }
    }
    (
        Rect::new(x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32),
        out,
    )
}
