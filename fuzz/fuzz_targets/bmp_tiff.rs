//! The BMP and TIFF decoders (through `image`): the first byte picks the format, the rest
//! follows its signature (`BM` and a 40-byte header size, or `II*\0`).
#![no_main]

use avatar_prep::{prepare, Limits, PrepOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let bytes =
        if rest.starts_with(b"BM") || rest.starts_with(b"II*\0") || rest.starts_with(b"MM\0*") {
            // A whole seed file.
            rest.to_vec()
        } else if pick & 1 == 0 {
            let mut b = b"BM".to_vec();
            b.extend_from_slice(&[0; 12]);
            b.extend_from_slice(&40u32.to_le_bytes());
            b.extend_from_slice(rest);
            b
        } else {
            let mut b = b"II*\0".to_vec();
            b.extend_from_slice(rest);
            b
        };
    let opts = PrepOptions::default().limits(Limits::DEFAULT.max_pixels(4_000_000));
    if let Ok(img) = prepare(&bytes, &opts) {
        assert!((512..=1024).contains(&img.side()));
    }
});
