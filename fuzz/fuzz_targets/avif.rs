//! The AVIF decoder (cargo feature `avif`: the box walk, zenavif-parse, rav1d, grids, alpha,
//! transforms, sequences): the fuzzer's bytes after an `ftyp` box with the `avif` brand.
#![no_main]

use avatar_prep::{prepare, Limits, PrepOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"\0\0\0\x18ftypavif\0\0\0\0mif1avif".to_vec();
    // Seeds are whole files: skip their own ftyp box.
    let rest = match data.get(..8) {
        Some(head) if &head[4..] == b"ftyp" => {
            let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            data.get(size..).unwrap_or_default()
        }
        _ => data,
    };
    bytes.extend_from_slice(rest);
    let opts = PrepOptions::default()
        .limits(Limits::DEFAULT.max_pixels(4_000_000))
        .max_frames(8);
    if let Ok(img) = prepare(&bytes, &opts) {
        assert!((512..=1024).contains(&img.side()));
    }
});
