//! AVIF sequences (`.avifs`): their scan against the frame budget and their frames.

use zenavif_parse::{AvifParser, ColorInformation};

use super::container::{av1_error, av1_meta, parse, parse_error, FORMAT};
use super::pixels::to_pixels;
use crate::decode::av1::Decoder;
use crate::decode::seam::{check_dimensions, AnimScan, FrameBudget, FrameSource, PaletteHint};
use crate::error::PrepError;
use crate::limits::Limits;
use crate::pixels::Layout;

/// The frame durations and size of an AVIF sequence, checked against the budget; a still
/// AVIF scans as one frame.
pub(in crate::decode) fn scan(
    bytes: &[u8],
    limits: &Limits,
    budget: &FrameBudget,
) -> Result<AnimScan, PrepError> {
    let p = parse(bytes, limits)?;
    let one = |width, height| AnimScan {
        width,
        height,
        delays: vec![0],
        repeat: ::gif::Repeat::Infinite,
        palette: PaletteHint::FromPixels,
        recovery: Vec::new(),
    };
    let Some(info) = p.animation_info().filter(|i| i.frame_count > 1) else {
        return Ok(one(0, 0));
    };
    let first = p.frame(0).map_err(|e| parse_error(bytes, e))?;
    let m = av1_meta(bytes, &first.data)?;
    let (w, h) = (m.max_frame_width.get(), m.max_frame_height.get());
    check_dimensions(w, h, 4, limits)?;
    let count = info.frame_count as u64;
    let mut delays = Vec::new();
    for (i, frame) in p.frames().enumerate() {
        let n = i as u64 + 1;
        budget.admit(n, w, h, |at_most| Ok((count - n).min(at_most)))?;
        delays.push(frame.map_err(|e| parse_error(bytes, e))?.duration_ms);
    }
    Ok(AnimScan {
        width: w,
        height: h,
        delays,
        repeat: match u16::try_from(info.loop_count) {
            Ok(0) => ::gif::Repeat::Infinite,
            Ok(n) => ::gif::Repeat::Finite(n),
            Err(_) => ::gif::Repeat::Infinite,
        },
        palette: PaletteHint::FromPixels,
        recovery: Vec::new(),
    })
}

/// The frames of an AVIF sequence, decoded in order by one AV1 decoder per track.
pub(in crate::decode) struct Frames<'a> {
    bytes: &'a [u8],
    parser: AvifParser<'a>,
    limits: Limits,
    nclx: Option<(u16, bool)>,
    color: Decoder,
    alpha: Option<Decoder>,
    next: usize,
    count: usize,
    width: u32,
    height: u32,
    screen: Vec<u8>,
}

impl<'a> Frames<'a> {
    pub(in crate::decode) fn new(
        bytes: &'a [u8],
        limits: &Limits,
        scan: &AnimScan,
    ) -> Result<Frames<'a>, PrepError> {
        let parser = parse(bytes, limits)?;
        let count = parser.animation_info().map_or(0, |i| i.frame_count);
        if count != scan.delays.len() {
            return Err(PrepError::corrupt(FORMAT, "the animation header changed"));
        }
        let nclx = match parser.color_info() {
            Some(ColorInformation::Nclx {
                matrix_coefficients,
                full_range,
                ..
            }) => Some((*matrix_coefficients, *full_range)),
            _ => None,
        };
        let err = |e| av1_error(bytes, e);
        let has_alpha = parser.animation_info().is_some_and(|i| i.has_alpha);
        Ok(Frames {
            bytes,
            color: Decoder::new(limits.max_pixels).map_err(err)?,
            alpha: if has_alpha {
                Some(Decoder::new(limits.max_pixels).map_err(err)?)
            } else {
                None
            },
            parser,
            limits: *limits,
            nclx,
            next: 0,
            count,
            width: scan.width,
            height: scan.height,
            screen: vec![0; scan.width as usize * scan.height as usize * 4],
        })
    }
}

impl FrameSource for Frames<'_> {
    fn next_screen(&mut self) -> Result<Option<&[u8]>, PrepError> {
        if self.next >= self.count {
            return Ok(None);
        }
        let bytes = self.bytes;
        let err = |e| av1_error(bytes, e);
        let frame = self
            .parser
            .frame(self.next)
            .map_err(|e| parse_error(bytes, e))?;
        self.next += 1;
        check_dimensions(self.width, self.height, 4, &self.limits)?;
        let pic = self.color.decode(&frame.data).map_err(err)?;
        let apic = match (&mut self.alpha, &frame.alpha_data) {
            (Some(d), Some(a)) => d.decode(a).map_err(err)?,
            _ => None,
        };
        // A frame that shows nothing new keeps the previous screen.
        let Some(pic) = pic else {
            return Ok(Some(&self.screen));
        };
        if (pic.width(), pic.height()) != (self.width, self.height) {
            return Err(PrepError::corrupt(
                FORMAT,
                "a frame's size differs from the first",
            ));
        }
        let d = to_pixels(bytes, &pic, apic.as_ref().map(|a| (a, false)), self.nclx)?;
        for (o, i) in self
            .screen
            .chunks_exact_mut(4)
            .zip(d.pixels.chunks_exact(d.layout.bpp()))
        {
            o.copy_from_slice(&match d.layout {
                Layout::L8 => [i[0], i[0], i[0], 255],
                Layout::La8 => [i[0], i[0], i[0], i[1]],
                Layout::Rgb8 => [i[0], i[1], i[2], 255],
                Layout::Rgba8 => [i[0], i[1], i[2], i[3]],
            });
        }
        Ok(Some(&self.screen))
    }
}
