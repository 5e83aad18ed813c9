//! The crate's only `unsafe` code: a small safe wrapper over libjpeg-turbo's decoder as
//! mozjpeg-sys builds it (with the `cc` crate alone; SIMD through nasm when nasm is
//! installed, plain C otherwise).
//!
//! Why C here and pure Rust elsewhere: JPEG is most of what people upload, and no Rust JPEG
//! decoder reaches libjpeg-turbo's speed with reduced-scale (1/2, 1/4, 1/8) DCT decoding
//! (issue 12 has the measurements: 26 ms against jpeg-decoder's 40 ms at 1/2 scale on a
//! 12 MP photo). What stays in Rust: the header, every limit and the scan count are checked
//! by `jpeg.rs` before this module sees a byte.
//!
//! How libjpeg's errors are handled: libjpeg reports a fatal error by calling
//! `error_exit`, which must not return. Ours unwinds (`resume_unwind` with a [`Fatal`]
//! payload) through the C frames — mozjpeg-sys compiles libjpeg with `-fexceptions` and
//! declares every callback `extern "C-unwind"` for exactly this — and [`decode`] catches it
//! and returns it as a [`LibjpegError`]. No `longjmp` ever crosses a Rust frame. Warnings
//! (corrupt data libjpeg recovered from) are counted by `emit_message`, and the caller
//! decides what they mean.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_long, c_ulong, c_void};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use mozjpeg_sys as ffi;

/// The colour model of decoded pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Color {
    /// One byte per pixel.
    Grey,
    /// R, G, B.
    Rgb,
    /// C, M, Y, K as stored (Adobe files store them inverted: 255 is no ink).
    Cmyk,
}

impl Color {
    fn bytes_per_pixel(self) -> usize {
        match self {
            Color::Grey => 1,
            Color::Rgb => 3,
            Color::Cmyk => 4,
        }
    }
}

/// Pixels libjpeg decoded, and the warnings it gave on the way.
#[derive(Debug)]
pub(crate) struct Image {
    pub width: u32,
    pub height: u32,
    pub color: Color,
    pub pixels: Vec<u8>,
    pub warnings: Warnings,
}

/// libjpeg's warnings: data it skipped or worked around ("Corrupt JPEG data: …").
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Warnings {
    /// How many were given.
    pub count: u32,
    /// The first one's text.
    pub first: Option<String>,
    /// One of them was `JWRN_JPEG_EOF` ("Premature end of JPEG file"): the data ran out.
    pub premature_end: bool,
}

/// A fatal libjpeg error (its own message), or our refusal of what it reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LibjpegError {
    pub message: String,
    /// libjpeg's message code (`J_MESSAGE_CODE`; 0 for our own refusals).
    pub code: c_int,
}

impl std::fmt::Display for LibjpegError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "libjpeg: {}", self.message)
    }
}

impl std::error::Error for LibjpegError {}

impl LibjpegError {
    /// Our own refusal of what libjpeg was asked or gave (code 0).
    pub(crate) fn ours(message: &str) -> LibjpegError {
        LibjpegError {
            message: message.to_owned(),
            code: 0,
        }
    }

    /// libjpeg's message when its memory ceiling (`max_memory`) was reached.
    pub(crate) fn is_out_of_memory(&self) -> bool {
        // jmemnobs.c has no backing store: a request above `max_memory_to_use` ends here.
        self.code == ffi::JERR_NO_BACKING_STORE || self.code == ffi::JERR_OUT_OF_MEMORY
    }
}

/// The payload `error_exit` unwinds with.
struct Fatal(String, c_int);

/// Per-object state the callbacks reach through `client_data`.
#[derive(Default)]
pub(crate) struct Client {
    pub(crate) warnings: Warnings,
}

/// libjpeg's text for the message now in `cinfo.err`.
///
/// # Safety
/// `cinfo` must be a live libjpeg object whose `err` points to an initialised error manager.
unsafe fn message(cinfo: &mut ffi::jpeg_common_struct) -> String {
    // SAFETY: the caller guarantees `err` is valid.
    let Some(format) = (unsafe { (*cinfo.err).format_message }) else {
        return String::from("unknown libjpeg error");
    };
    let mut buffer = [0u8; 80];
    // SAFETY: mozjpeg-sys declares the buffer as `&[u8; 80]`, but libjpeg's
    // `format_message` writes up to JMSG_LENGTH_MAX (80) bytes into it, NUL included: call it
    // through the same function type with a mutable pointer, which is what the C side is.
    let format: unsafe extern "C-unwind" fn(&mut ffi::jpeg_common_struct, *mut u8) =
        unsafe { std::mem::transmute(format) };
    // SAFETY: `buffer` is 80 writable bytes, as libjpeg requires.
    unsafe { format(cinfo, buffer.as_mut_ptr()) };
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    String::from_utf8_lossy(&buffer[..end]).into_owned()
}

/// libjpeg's `error_exit`: never returns; unwinds to [`decode`]'s `catch_unwind`.
unsafe extern "C-unwind" fn error_exit(cinfo: &mut ffi::jpeg_common_struct) {
    // SAFETY: libjpeg calls this with the object whose `err` we installed.
    let text = unsafe { message(cinfo) };
    // SAFETY: as above, `err` is the live error manager libjpeg just filled in.
    let code = unsafe { (*cinfo.err).msg_code };
    // `resume_unwind` does not run the panic hook: nothing is printed.
    resume_unwind(Box::new(Fatal(text, code)));
}

/// libjpeg's `emit_message`: level -1 is a warning (counted); trace levels are ignored.
unsafe extern "C-unwind" fn emit_message(cinfo: &mut ffi::jpeg_common_struct, level: c_int) {
    if level >= 0 {
        return;
    }
    // SAFETY: `err` is ours (see `error_manager`) and alive as long as the libjpeg object.
    unsafe { (*cinfo.err).num_warnings += 1 };
    // SAFETY: as above, for the message text.
    let text = unsafe { message(cinfo) };
    // SAFETY: `client_data` points to the `Client` of `decode_inner` or `compress`, which
    // outlives the libjpeg object, and nothing else holds a reference to it while libjpeg runs.
    let client = unsafe { &mut *cinfo.client_data.cast::<Client>() };
    let w = &mut client.warnings;
    w.count = w.count.saturating_add(1);
    // SAFETY: `err` is ours and alive (see above).
    w.premature_end |= unsafe { (*cinfo.err).msg_code } == ffi::JWRN_JPEG_EOF;
    if w.first.is_none() {
        w.first = Some(text);
    }
}

/// Owns a libjpeg decompressor; destroys it on every exit, unwinding included (libjpeg
/// allows `jpeg_destroy_decompress` after an error exit).
struct Decompressor {
    cinfo: Box<ffi::jpeg_decompress_struct>,
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: `cinfo` was set up by `jpeg_create_decompress` (the only way to make a
        // `Decompressor`), and its error manager outlives it (declared before it).
        unsafe { ffi::jpeg_destroy_decompress(&mut self.cinfo) };
    }
}

/// Decodes a baseline, progressive or arithmetic-coded 8-bit JPEG at 1/`denom` scale
/// (`denom` 1, 2, 4 or 8), with libjpeg's memory for coefficient buffers capped at
/// `max_memory` bytes. The output is at most the header's size; the caller has checked
/// that size against its limits. The pixels are written into `buffer` (its contents are
/// dropped, its allocation reused when large enough: a worker's buffer from the last image).
pub(crate) fn decode(
    bytes: &[u8],
    denom: u32,
    max_memory: u64,
    buffer: Vec<u8>,
) -> Result<Image, LibjpegError> {
    let mut client = Client::default();
    let image = guarded(|| decode_inner(bytes, denom, max_memory, &mut client, buffer))?;
    Ok(Image {
        warnings: std::mem::take(&mut client.warnings),
        ..image
    })
}

/// Runs `f`, which drives a libjpeg object whose error manager came from [`error_manager`]:
/// a fatal libjpeg error (the unwind `error_exit` starts) becomes a [`LibjpegError`]; a panic
/// of our own code is not ours to hide and goes on unwinding.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, LibjpegError>) -> Result<T, LibjpegError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => match payload.downcast::<Fatal>() {
            Ok(fatal) => Err(LibjpegError {
                message: fatal.0,
                code: fatal.1,
            }),
            Err(other) => resume_unwind(other),
        },
    }
}

/// An error manager with our `error_exit` (unwinds to [`guarded`]) and `emit_message`
/// (counts warnings in the [`Client`] that `client_data` must point to). Boxed: libjpeg keeps
/// its address.
pub(crate) fn error_manager() -> Box<ffi::jpeg_error_mgr> {
    // SAFETY: an all-zero `jpeg_error_mgr` is a valid value (null function pointers and
    // numbers); `jpeg_std_error` then fills it in.
    let mut err: Box<ffi::jpeg_error_mgr> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: `err` is a valid, exclusively borrowed error manager.
    unsafe { ffi::jpeg_std_error(&mut err) };
    err.error_exit = Some(error_exit);
    err.emit_message = Some(emit_message);
    err
}

fn decode_inner(
    bytes: &[u8],
    denom: u32,
    max_memory: u64,
    client: &mut Client,
    buffer: Vec<u8>,
) -> Result<Image, LibjpegError> {
    let refuse = LibjpegError::ours;
    if !matches!(denom, 1 | 2 | 4 | 8) {
        return Err(refuse("scale must be 1/1, 1/2, 1/4 or 1/8"));
    }
    let len = c_ulong::try_from(bytes.len()).map_err(|_| refuse("input too large"))?;
    let mut err = error_manager();
    let mut dec = Decompressor {
        // SAFETY: libjpeg expects a zeroed struct before `jpeg_create_decompress`.
        cinfo: Box::new(unsafe { std::mem::zeroed() }),
    };
    let cinfo = &mut *dec.cinfo;
    cinfo.common.err = &mut *err;
    cinfo.common.client_data = std::ptr::from_mut(client).cast::<c_void>();
    // SAFETY: `cinfo` is zeroed with `err` set, as `jpeg_CreateDecompress` requires. On
    // failure it calls `error_exit`, which unwinds; `Decompressor::drop` then destroys a
    // partly created object, which libjpeg allows (`jpeg_destroy` checks for a null `mem`).
    unsafe { ffi::jpeg_create_decompress(cinfo) };
    // SAFETY: `mem` was set by `jpeg_create_decompress`.
    unsafe {
        (*cinfo.common.mem).max_memory_to_use = c_long::try_from(max_memory).unwrap_or(c_long::MAX);
    }
    // SAFETY: `bytes` outlives `dec` (it is borrowed for this whole function), and libjpeg's
    // memory source only reads it.
    unsafe { ffi::jpeg_mem_src(cinfo, bytes.as_ptr(), len) };
    // SAFETY: a created decompressor with a source; errors unwind.
    unsafe { ffi::jpeg_read_header(cinfo, 1) };
    let (color, out_space) = match cinfo.jpeg_color_space {
        ffi::J_COLOR_SPACE::JCS_GRAYSCALE => (Color::Grey, ffi::J_COLOR_SPACE::JCS_GRAYSCALE),
        ffi::J_COLOR_SPACE::JCS_CMYK | ffi::J_COLOR_SPACE::JCS_YCCK => {
            (Color::Cmyk, ffi::J_COLOR_SPACE::JCS_CMYK)
        }
        _ => (Color::Rgb, ffi::J_COLOR_SPACE::JCS_RGB),
    };
    let (header_w, header_h) = (cinfo.image_width, cinfo.image_height);
    cinfo.out_color_space = out_space;
    cinfo.scale_num = 1;
    cinfo.scale_denom = denom;
    // SAFETY: header read, parameters set; errors unwind.
    unsafe { ffi::jpeg_start_decompress(cinfo) };
    let (width, height) = (cinfo.output_width, cinfo.output_height);
    let components = usize::try_from(cinfo.output_components).unwrap_or(0);
    if components != color.bytes_per_pixel() {
        return Err(refuse("unexpected number of output components"));
    }
    if width == 0 || height == 0 || width > header_w || height > header_h {
        return Err(refuse("output size does not match the header"));
    }
    let stride = width as usize * components;
    let len = stride * height as usize;
    let mut pixels = buffer;
    pixels.clear();
    // Not zeroed: libjpeg writes every byte before the length is set below.
    pixels.reserve(len);
    let base = pixels.as_mut_ptr();
    // One pointer per output row; libjpeg writes `stride` bytes at each.
    let mut rows: Vec<*mut u8> = (0..height as usize)
        // SAFETY: `r * stride < len <= capacity`: inside the allocation.
        .map(|r| unsafe { base.add(r * stride) })
        .collect();
    while cinfo.output_scanline < height {
        let next = cinfo.output_scanline as usize;
        // SAFETY: `rows[next..]` holds `height - next` pointers to disjoint `stride`-byte
        // rows of `pixels`' allocation, which is neither moved nor read until libjpeg is
        // done; libjpeg writes at most `max_lines` rows of `output_width *
        // output_components` bytes.
        let got = unsafe {
            ffi::jpeg_read_scanlines(
                cinfo,
                rows[next..].as_mut_ptr(),
                height - cinfo.output_scanline,
            )
        };
        if got == 0 {
            // Only a suspending data source returns 0; the memory source never suspends.
            return Err(refuse("the decoder stopped before the last row"));
        }
    }
    // SAFETY: the loop ran until libjpeg had returned all `height` rows, each written in
    // full (`stride` bytes), so the first `len` bytes of the allocation are initialised.
    unsafe { pixels.set_len(len) };
    // `jpeg_finish_decompress` is not called: it would only read on to EOI (a sequential
    // file's remaining markers; a progressive file is read whole by
    // `jpeg_start_decompress`), and a problem there would cost the finished pixels.
    drop(rows);
    drop(dec);
    drop(err);
    Ok(Image {
        width,
        height,
        color,
        pixels,
        warnings: Warnings::default(),
    })
}
