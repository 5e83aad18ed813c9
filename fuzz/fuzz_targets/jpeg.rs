//! The JPEG route (jpeg-decoder's header pass, our marker walk, then libjpeg-turbo through
//! `decode/libjpeg.rs`, the crate's only unsafe code): the bytes after a JPEG SOI marker.
//! The first byte picks the output size bounds, so every DCT scale (1/1, 1/2, 1/4, 1/8) is
//! reached, and whether to try the lossless pass-through path.
#![no_main]

use avatar_prep::{prepare, Limits, OutputFormat, PrepOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 2);
    bytes.extend_from_slice(&[0xFF, 0xD8]);
    bytes.extend_from_slice(rest);
    let max_side = [1024, 256, 64, 16][usize::from(pick & 3)];
    let format = if pick & 4 == 0 {
        OutputFormat::Auto
    } else {
        OutputFormat::Png
    };
    let opts = PrepOptions::default()
        .min_side(16)
        .max_side(max_side)
        .format(format)
        .limits(Limits::DEFAULT.max_pixels(4_000_000));
    if let Ok(img) = prepare(&bytes, &opts) {
        assert!((16..=max_side).contains(&img.side()));
        assert!(!img.bytes().is_empty());
    }
});
