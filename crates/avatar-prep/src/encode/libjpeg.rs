//! JPEG output through libjpeg-turbo's compressor, the same C library (bundled and built by
//! mozjpeg-sys) that decodes JPEG input, with the error handling of
//! [`crate::decode::libjpeg`]: a fatal error unwinds to [`guarded`] and comes back as a
//! [`LibjpegError`].
//!
//! Why libjpeg-turbo rather than a Rust encoder: on the 1024² output squares of the bench
//! corpus's photos (q90, 4:2:0, optimised Huffman tables) it takes 8.3 ms against
//! jpeg-encoder's 15 ms, and its files are 0.3–0.7 % smaller and 1.3–1.6 dB better in PSNR,
//! because it averages each 2×2 block of chroma where jpeg-encoder keeps one sample
//! (benches/README.md, issue 12). Only mozjpeg's `JCP_FASTEST` profile is used: libjpeg-turbo's
//! own defaults, without mozjpeg's trellis quantisation (16× slower) or progressive scans.
//!
//! The output goes into a `Vec` through our own destination manager rather than
//! `jpeg_mem_dest`: libjpeg's memory destination `malloc`s buffers that would leak if an error
//! unwound through it.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};

use mozjpeg_sys as ffi;

use crate::decode::libjpeg::{error_manager, guarded, Client, LibjpegError};

// libjpeg-turbo's own tests of whether its SIMD code runs here: colour conversion, forward
// DCT and Huffman encoding. Not in libjpeg's public API, but defined in every mozjpeg-sys
// build: by the SIMD dispatch when nasm was found at build time (true when the CPU has the
// instructions), by `jsimd_none.c` (always false) when it was not.
extern "C" {
    fn jsimd_can_rgb_ycc() -> c_int;
    fn jsimd_can_fdct_islow() -> c_int;
    fn jsimd_can_huff_encode_one_block() -> c_int;
}

/// Whether libjpeg-turbo's encoder runs with its SIMD code on this build and CPU. Without it
/// (a build without nasm) the encoder is plain C and slower than jpeg-encoder's AVX2 path
/// (23 ms against 16 ms per 1024² photo square), so `encode::jpeg_rgb` takes jpeg-encoder.
pub(crate) fn has_simd() -> bool {
    static SIMD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SIMD.get_or_init(|| {
        // SAFETY: argument-less C functions that only read the CPU's features (cached in a
        // libjpeg static) and return a flag; they cannot fail.
        unsafe {
            jsimd_can_rgb_ycc() != 0
                && jsimd_can_fdct_islow() != 0
                && jsimd_can_huff_encode_one_block() != 0
        }
    })
}

/// The first output buffer: enough for a 1024² q90 photo (about 250 KB) in one go.
const FIRST_BUFFER: usize = 512 * 1024;

/// A destination manager writing into a `Vec` (libjpeg reaches it through `cinfo.dest`,
/// which points at `mgr`, the first field, so the callbacks can cast back to `VecDest`).
#[repr(C)]
struct VecDest {
    mgr: ffi::jpeg_destination_mgr,
    out: Vec<u8>,
}

/// The `VecDest` behind `cinfo.dest`.
///
/// # Safety
/// `cinfo.dest` must point to the `mgr` field of a live `VecDest` that nothing else borrows.
unsafe fn vec_dest(cinfo: &mut ffi::jpeg_compress_struct) -> &mut VecDest {
    // SAFETY: guaranteed by the caller; `mgr` is the first field of a `repr(C)` struct, so
    // the pointers are equal.
    unsafe { &mut *cinfo.dest.cast::<VecDest>() }
}

/// Hands libjpeg the whole of `out` (length = capacity, zero-filled once).
unsafe extern "C-unwind" fn init_destination(cinfo: &mut ffi::jpeg_compress_struct) {
    // SAFETY: `compress` installed a live `VecDest` as `cinfo.dest`.
    let dest = unsafe { vec_dest(cinfo) };
    dest.out.clear();
    dest.out.resize(FIRST_BUFFER, 0);
    dest.mgr.next_output_byte = dest.out.as_mut_ptr();
    dest.mgr.free_in_buffer = dest.out.len();
}

/// libjpeg filled the buffer: double it and hand over the new half.
unsafe extern "C-unwind" fn empty_output_buffer(
    cinfo: &mut ffi::jpeg_compress_struct,
) -> ffi::boolean {
    // SAFETY: as in `init_destination`.
    let dest = unsafe { vec_dest(cinfo) };
    // libjpeg calls this only when `free_in_buffer` is 0: every byte of `out` is written.
    let used = dest.out.len();
    dest.out.resize(used * 2, 0);
    // SAFETY: `used < out.len()`: inside the (possibly moved) allocation.
    dest.mgr.next_output_byte = unsafe { dest.out.as_mut_ptr().add(used) };
    dest.mgr.free_in_buffer = dest.out.len() - used;
    1
}

/// The end: keep only the bytes libjpeg wrote.
unsafe extern "C-unwind" fn term_destination(cinfo: &mut ffi::jpeg_compress_struct) {
    // SAFETY: as in `init_destination`.
    let dest = unsafe { vec_dest(cinfo) };
    let used = dest.out.len() - dest.mgr.free_in_buffer;
    dest.out.truncate(used);
}

/// Owns a libjpeg compressor; destroys it on every exit, unwinding included.
struct Compressor {
    cinfo: Box<ffi::jpeg_compress_struct>,
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: `cinfo` was set up by `jpeg_create_compress` (the only way to make a
        // `Compressor`); its error manager and destination outlive it (declared before it).
        unsafe { ffi::jpeg_destroy_compress(&mut self.cinfo) };
    }
}

/// Encodes 8-bit pixels (`components` 1: grey, 3: RGB), `width × height`, rows packed, as a
/// baseline JPEG: libjpeg-turbo's defaults (Annex K tables scaled to `quality`, 4:2:0 with
/// chroma averaged over 2×2 pixels, the accurate integer DCT), optimised Huffman tables, a
/// JFIF header and nothing else.
pub(crate) fn compress(
    pixels: &[u8],
    width: u32,
    height: u32,
    components: u8,
    quality: u8,
) -> Result<Vec<u8>, LibjpegError> {
    let refuse = LibjpegError::ours;
    let space = match components {
        1 => ffi::J_COLOR_SPACE::JCS_GRAYSCALE,
        3 => ffi::J_COLOR_SPACE::JCS_RGB,
        _ => return Err(refuse("only grey or RGB pixels can be encoded")),
    };
    let stride = width as usize * usize::from(components);
    if width == 0 || height == 0 || pixels.len() != stride * height as usize {
        return Err(refuse("pixel buffer does not match the size"));
    }
    let mut client = Client::default();
    let mut dest = Box::new(VecDest {
        mgr: ffi::jpeg_destination_mgr {
            next_output_byte: std::ptr::null_mut(),
            free_in_buffer: 0,
            init_destination: Some(init_destination),
            empty_output_buffer: Some(empty_output_buffer),
            term_destination: Some(term_destination),
        },
        out: Vec::with_capacity(FIRST_BUFFER),
    });
    guarded(|| {
        let mut err = error_manager();
        let mut enc = Compressor {
            // SAFETY: libjpeg expects a zeroed struct before `jpeg_create_compress`.
            cinfo: Box::new(unsafe { std::mem::zeroed() }),
        };
        let cinfo = &mut *enc.cinfo;
        cinfo.common.err = &mut *err;
        cinfo.common.client_data = std::ptr::from_mut(&mut client).cast::<c_void>();
        // SAFETY: `cinfo` is zeroed with `err` set, as `jpeg_CreateCompress` requires; on
        // failure it unwinds and `Compressor::drop` destroys the partly created object.
        unsafe { ffi::jpeg_create_compress(cinfo) };
        // `mgr` is the first field of the boxed `VecDest`, which outlives `enc`.
        cinfo.dest = std::ptr::from_mut(&mut dest.mgr);
        cinfo.image_width = width;
        cinfo.image_height = height;
        cinfo.input_components = c_int::from(components);
        cinfo.in_color_space = space;
        // SAFETY: a created compressor; the profile must be chosen before the defaults.
        unsafe {
            ffi::jpeg_c_set_int_param(
                cinfo,
                ffi::J_INT_PARAM::JINT_COMPRESS_PROFILE,
                ffi::JCP_FASTEST as c_int,
            );
            ffi::jpeg_set_defaults(cinfo);
            ffi::jpeg_set_quality(cinfo, c_int::from(quality.clamp(1, 100)), 1);
        }
        cinfo.optimize_coding = 1;
        // SAFETY: parameters set; errors unwind.
        unsafe { ffi::jpeg_start_compress(cinfo, 1) };
        let rows: Vec<*const u8> = pixels.chunks_exact(stride).map(<[u8]>::as_ptr).collect();
        while cinfo.next_scanline < height {
            let next = cinfo.next_scanline as usize;
            let left = height - cinfo.next_scanline;
            // SAFETY: `rows[next..]` holds `left` pointers to `stride`-byte rows of `pixels`,
            // which libjpeg only reads; it reads at most `left` of them.
            let wrote = unsafe { ffi::jpeg_write_scanlines(cinfo, rows[next..].as_ptr(), left) };
            if wrote == 0 {
                // Only a suspending destination returns 0; ours never suspends.
                return Err(refuse("the encoder stopped before the last row"));
            }
        }
        // SAFETY: every row written; errors unwind.
        unsafe { ffi::jpeg_finish_compress(cinfo) };
        drop(enc);
        drop(err);
        Ok(())
    })?;
    Ok(std::mem::take(&mut dest.out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth RGB test picture.
    fn picture(w: u32, h: u32) -> Vec<u8> {
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                px.extend([
                    (x * 255 / w) as u8,
                    (y * 255 / h) as u8,
                    ((x + y) % 256) as u8,
                ]);
            }
        }
        px
    }

    fn decoded(jpeg: &[u8]) -> (jpeg_decoder::ImageInfo, Vec<u8>) {
        let mut d = jpeg_decoder::Decoder::new(jpeg);
        let px = d.decode().expect("our JPEG decodes");
        (d.info().expect("header"), px)
    }

    #[test]
    fn rgb_round_trips_close_to_the_input() {
        let px = picture(301, 97);
        let jpeg = compress(&px, 301, 97, 3, 90).unwrap();
        let (info, out) = decoded(&jpeg);
        assert_eq!((info.width, info.height), (301, 97));
        assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
        let mean = px
            .iter()
            .zip(&out)
            .map(|(&a, &b)| a.abs_diff(b) as u64)
            .sum::<u64>() as f64
            / px.len() as f64;
        assert!(mean < 2.0, "mean error {mean}");
        // JFIF header, no other application segment or comment.
        assert_eq!(&jpeg[..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert!(!jpeg
            .windows(2)
            .any(|m| m == [0xFF, 0xE1] || m == [0xFF, 0xFE]));
    }

    #[test]
    fn grey_is_one_channel() {
        let px: Vec<u8> = (0..64 * 48).map(|i| (i % 251) as u8).collect();
        let jpeg = compress(&px, 64, 48, 1, 95).unwrap();
        let (info, out) = decoded(&jpeg);
        assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::L8);
        assert_eq!(out.len(), px.len());
    }

    #[test]
    fn output_larger_than_the_first_buffer_grows() {
        // Noise at q100 is far larger than `FIRST_BUFFER`.
        let mut state = 1u32;
        let px: Vec<u8> = (0..1024 * 1024 * 3)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (state >> 16) as u8
            })
            .collect();
        let jpeg = compress(&px, 1024, 1024, 3, 100).unwrap();
        assert!(jpeg.len() > FIRST_BUFFER);
        assert_eq!(decoded(&jpeg).1.len(), px.len());
    }

    /// `.ci/run` installs nasm before it builds and sets `AVATAR_EXPECT_LIBJPEG_SIMD=1`: there
    /// the fast encoder must be the one in use. (Without the variable the build may predate
    /// an installed nasm, so nothing is expected.)
    #[test]
    fn simd_is_in_use_where_the_build_expects_it() {
        if std::env::var_os("AVATAR_EXPECT_LIBJPEG_SIMD").is_some_and(|v| v == "1") {
            assert!(
                has_simd(),
                "libjpeg-turbo was built without SIMD (nasm missing?)"
            );
        }
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(compress(&[0; 12], 2, 2, 4, 90).is_err());
        assert!(compress(&[0; 11], 2, 2, 3, 90).is_err());
        assert!(compress(&[], 0, 0, 3, 90).is_err());
        // libjpeg's own refusal (JERR_IMAGE_TOO_BIG above 65500 px) comes back as an error.
        let e = compress(&vec![0; 70_000], 70_000, 1, 1, 90).unwrap_err();
        assert_ne!(e.code, 0, "{e}");
    }
}
