//! A small safe wrapper over rav1d (a Rust port of dav1d), whose only public API is dav1d's
//! C API written in Rust: raw pointers, reference-counted buffers and manual unrefs.
//!
//! This is the one module of the crate that may use `unsafe`. Every resource is held by an
//! RAII guard (`Decoder` closes the context, `Data` unrefs the input buffer, `Picture`
//! unrefs the picture), so each is released on every path, errors and panics included.
//!
//! Settings: two threads and two frame contexts per decoder (see [`Decoder::new`] for why;
//! the caller still parallelises across files and grid tiles), film grain applied,
//! only the highest spatial layer output, and a frame size limit from our [`Limits`].
//!
//! [`Limits`]: crate::Limits

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
    DAV1D_PIXEL_LAYOUT_I444,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

/// dav1d's "try again" result: `-EAGAIN` (EAGAIN is 11 on every platform rav1d supports).
const EAGAIN: i32 = -11;

/// Why a decode failed, in terms the AVIF codec maps to its errors.
#[derive(Debug)]
pub(crate) enum Av1Error {
    /// The data ended before a picture came out.
    NoPicture,
    /// rav1d refused the data or the settings (a negative errno).
    Failed(&'static str, i32),
    /// The picture is not something we convert (bit depth, layout, geometry).
    Unsupported(String),
}

impl std::fmt::Display for Av1Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Av1Error::NoPicture => f.write_str("the AV1 data gave no picture"),
            Av1Error::Failed(what, code) => write!(f, "AV1 {what} failed (error {code})"),
            Av1Error::Unsupported(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for Av1Error {}

/// An open rav1d context.
pub(crate) struct Decoder {
    /// `Some` from a successful `dav1d_open` until `Drop` passes it to `dav1d_close`.
    ctx: Option<Dav1dContext>,
}

impl Decoder {
    /// Opens a decoder that refuses frames above `max_pixels` (0 = rav1d's own limit).
    pub(crate) fn new(max_pixels: u64) -> Result<Decoder, Av1Error> {
        let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
        // SAFETY: the pointer comes from a live, properly aligned `MaybeUninit<Dav1dSettings>`;
        // `dav1d_default_settings` only `ptr::write`s a whole `Dav1dSettings` to it.
        unsafe { dav1d_default_settings(NonNull::from(&mut settings).cast()) };
        // SAFETY: fully initialised by the call above.
        let mut s = unsafe { settings.assume_init() };
        // Two threads and a frame delay of 2: rav1d 1.1's single-frame-context path (one
        // thread, delay 1) panics in its error handler on any frame that fails to decode
        // (`on_error` unwraps the frame header that the failed decode already took), and a
        // panic inside dav1d_send_data, an `extern "C"` function, cannot unwind: the process
        // aborts. With more than one frame context, errors travel as return values. Found by
        // the `avif` fuzz target; tested by `a_frame_that_fails_to_decode_is_corrupt`.
        s.n_threads = 2;
        s.max_frame_delay = 2;
        // No logging: rav1d would print its diagnostics to stderr.
        // SAFETY: `Dav1dLogger` is `repr(C)` with two `Option`s of a pointer and a function
        // pointer, for which all zero bytes are `None`: a logger without a callback.
        s.logger = unsafe { MaybeUninit::zeroed().assume_init() };
        s.apply_grain = 1;
        s.all_layers = 0;
        s.operating_point = 0;
        s.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX);
        let mut ctx: Option<Dav1dContext> = None;
        // SAFETY: both pointers come from live locals of the right types; `dav1d_open` reads
        // the settings and writes the new context (or leaves `None` on failure).
        let r = unsafe { dav1d_open(Some(NonNull::from(&mut ctx)), Some(NonNull::from(&mut s))) };
        let decoder = Decoder { ctx };
        if r.0 < 0 || decoder.ctx.is_none() {
            return Err(Av1Error::Failed("decoder setup", r.0));
        }
        Ok(decoder)
    }

    /// Feeds one temporal unit (an item's or a sample's AV1 OBUs) and returns the picture
    /// it shows, or `Ok(None)` when the unit shows none (a hidden frame).
    pub(crate) fn decode(&mut self, obus: &[u8]) -> Result<Option<Picture<'_>>, Av1Error> {
        if obus.is_empty() {
            return Err(Av1Error::NoPicture);
        }
        let mut data = Data::copy_of(obus)?;
        let mut got: Option<PicGuard> = None;
        while data.0.sz > 0 {
            // SAFETY: `self.ctx` is an open context (see the field); `data` is a live
            // `Dav1dData` made by `dav1d_data_create`. rav1d takes what it consumes and
            // updates `sz`; the rest stays owned by the guard.
            let r = unsafe { dav1d_send_data(self.ctx, Some(NonNull::from(&mut data.0))) };
            if r.0 == EAGAIN {
                // The decoder holds a picture: take it, then send the rest.
                match self.next_picture()? {
                    Some(p) => got = Some(p),
                    None => return Err(Av1Error::Failed("send", r.0)),
                }
            } else if r.0 < 0 {
                return Err(Av1Error::Failed("decoding", r.0));
            }
        }
        // With two frame contexts the picture may still be in flight: the first call
        // answers EAGAIN and sets rav1d's drain flag, the second waits for the frame.
        for _ in 0..2 {
            if got.is_some() {
                break;
            }
            got = self.next_picture()?;
        }
        Ok(got.map(|guard| Picture {
            guard,
            _decoder: PhantomData,
        }))
    }

    /// One picture from the decoder, if it has one ready.
    fn next_picture(&mut self) -> Result<Option<PicGuard>, Av1Error> {
        let mut pic = PicGuard(Dav1dPicture::default());
        // SAFETY: `self.ctx` is open; `pic.0` is a live picture that `dav1d_get_picture`
        // overwrites (with an empty one on failure, for which unref is a no-op).
        let r = unsafe { dav1d_get_picture(self.ctx, Some(NonNull::from(&mut pic.0))) };
        match r.0 {
            0 => Ok(Some(pic)),
            EAGAIN => Ok(None),
            code => Err(Av1Error::Failed("decoding", code)),
        }
    }
}

/// A picture from `dav1d_get_picture` (or an empty one), unref'd on drop.
struct PicGuard(Dav1dPicture);

impl Drop for PicGuard {
    fn drop(&mut self) {
        // SAFETY: `self.0` is empty or came from a successful `dav1d_get_picture`; it is
        // unref'd once, here (unref empties it).
        unsafe { dav1d_picture_unref(Some(NonNull::from(&mut self.0))) };
        // rav1d 1.1's unref leaves a freshly allocated, empty ITU-T T.35 list (48 bytes, an
        // `Arc` turned into a raw pointer) in the emptied picture, which nothing frees: one
        // leak per picture (found by the `avif` fuzz target's leak check). Take it back.
        if let Some(raw) = self.0.itut_t35_ref.take() {
            // SAFETY: `raw` was made by `RawArc::from_arc` inside `dav1d_picture_unref` just
            // above and has no other copy (the picture was emptied, so nothing shares it);
            // it is turned back into its `Arc` once, here, and dropped.
            drop(unsafe { raw.into_arc() });
        }
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from `dav1d_open` and is closed once (it becomes `None`).
        unsafe { dav1d_close(Some(NonNull::from(&mut self.ctx))) };
    }
}

/// An input buffer owned by rav1d's allocator, unref'd on drop.
struct Data(Dav1dData);

impl Data {
    fn copy_of(bytes: &[u8]) -> Result<Data, Av1Error> {
        let mut data = Data(Dav1dData::default());
        // SAFETY: `data.0` is a live `Dav1dData`; `dav1d_data_create` allocates `len` bytes
        // and returns a pointer to them (null on failure), owned by `data.0` from then on.
        let ptr = unsafe { dav1d_data_create(Some(NonNull::from(&mut data.0)), bytes.len()) };
        if ptr.is_null() {
            return Err(Av1Error::Failed("buffer allocation", -12));
        }
        // SAFETY: `ptr` points to `bytes.len()` writable bytes just allocated for `data.0`,
        // which cannot overlap `bytes` (a borrowed slice of the caller's memory).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
        Ok(data)
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a `Dav1dData` from `dav1d_data_create` (possibly emptied by
        // `dav1d_send_data`); unref is a no-op on an empty one.
        unsafe { dav1d_data_unref(Some(NonNull::from(&mut self.0))) };
    }
}

/// How the chroma planes are subsampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chroma {
    /// 4:0:0: luma only.
    Mono,
    /// 4:2:0: half width, half height.
    Yuv420,
    /// 4:2:2: half width.
    Yuv422,
    /// 4:4:4.
    Yuv444,
}

impl Chroma {
    /// log2 of the horizontal and vertical subsampling.
    pub(crate) fn shift(self) -> (u32, u32) {
        match self {
            Chroma::Yuv420 => (1, 1),
            Chroma::Yuv422 => (1, 0),
            Chroma::Mono | Chroma::Yuv444 => (0, 0),
        }
    }
}

/// One plane's samples: `height` rows of `width` samples, `stride` bytes apart; 16-bit
/// samples (bit depth above 8) are native-endian byte pairs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

/// The colour description in the AV1 sequence header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqColor {
    pub primaries: u16,
    pub transfer: u16,
    pub matrix: u16,
    pub full_range: bool,
}

/// A decoded picture, borrowed from its decoder and unref'd on drop.
pub(crate) struct Picture<'d> {
    /// From a successful `dav1d_get_picture`; unref'd by the guard.
    guard: PicGuard,
    _decoder: PhantomData<&'d mut Decoder>,
}

impl Picture<'_> {
    pub(crate) fn width(&self) -> u32 {
        u32::try_from(self.guard.0.p.w).unwrap_or(0)
    }

    pub(crate) fn height(&self) -> u32 {
        u32::try_from(self.guard.0.p.h).unwrap_or(0)
    }

    /// 8, 10 or 12.
    pub(crate) fn bit_depth(&self) -> u32 {
        u32::try_from(self.guard.0.p.bpc).unwrap_or(0)
    }

    pub(crate) fn chroma(&self) -> Result<Chroma, Av1Error> {
        Ok(match self.guard.0.p.layout {
            DAV1D_PIXEL_LAYOUT_I400 => Chroma::Mono,
            DAV1D_PIXEL_LAYOUT_I420 => Chroma::Yuv420,
            DAV1D_PIXEL_LAYOUT_I422 => Chroma::Yuv422,
            DAV1D_PIXEL_LAYOUT_I444 => Chroma::Yuv444,
            other => return Err(Av1Error::Unsupported(format!("pixel layout {other}"))),
        })
    }

    /// The sequence header's colour description.
    pub(crate) fn seq_color(&self) -> Option<SeqColor> {
        let hdr = self.guard.0.seq_hdr?;
        // SAFETY: `seq_hdr` points into the sequence header that `seq_hdr_ref` keeps alive
        // as long as this picture holds its reference (until `Drop`); we only read it.
        let hdr = unsafe { hdr.as_ref() };
        Some(SeqColor {
            primaries: hdr.pri as u16,
            transfer: hdr.trc as u16,
            matrix: hdr.mtrx as u16,
            full_range: hdr.color_range != 0,
        })
    }

    /// Plane `i` (0 = Y, 1 = U, 2 = V), bounds-checked against the picture's geometry.
    pub(crate) fn plane(&self, i: usize) -> Result<Plane<'_>, Av1Error> {
        let bad = |what: &str| Av1Error::Unsupported(format!("picture geometry: {what}"));
        let (w, h) = (self.width() as usize, self.height() as usize);
        let depth = self.bit_depth();
        if w == 0 || h == 0 || !matches!(depth, 8 | 10 | 12) {
            return Err(bad("size or bit depth"));
        }
        let chroma = self.chroma()?;
        if i > 0 && chroma == Chroma::Mono || i > 2 {
            return Err(bad("no such plane"));
        }
        let (sx, sy) = if i == 0 { (0, 0) } else { chroma.shift() };
        let (pw, ph) = ((w + (1 << sx) - 1) >> sx, (h + (1 << sy) - 1) >> sy);
        let bytes = if depth > 8 { 2 } else { 1 };
        let stride = self.guard.0.stride[usize::from(i > 0)];
        let stride = usize::try_from(stride).map_err(|_| bad("negative stride"))?;
        let row = pw * bytes;
        if stride < row {
            return Err(bad("stride"));
        }
        let len = stride
            .checked_mul(ph - 1)
            .and_then(|n| n.checked_add(row))
            .ok_or_else(|| bad("size"))?;
        let ptr = self.guard.0.data[i].ok_or_else(|| bad("missing plane"))?;
        // SAFETY: dav1d's picture contract: plane `i` of a `w`×`h` picture in this layout
        // and bit depth has `ph` rows of at least `row` bytes, `stride` bytes apart, in one
        // allocation (rav1d allocates `stride` × aligned height). The buffer is kept alive
        // and unchanged by this picture's reference until `Drop`, which the returned
        // borrow of `self` cannot outlive.
        let data = unsafe { std::slice::from_raw_parts(ptr.as_ptr().cast::<u8>(), len) };
        Ok(Plane {
            data,
            stride,
            width: pw,
            height: ph,
        })
    }
}
