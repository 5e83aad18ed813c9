//! Any bytes through `prepare` with default options (smaller pixel limits, for speed).
#![no_main]

use avatar_prep::{prepare, Limits, PrepOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = PrepOptions::default().limits(
        Limits::DEFAULT
            .max_pixels(4_000_000)
            .max_animation_pixels(40_000_000),
    );
    if let Ok(img) = prepare(data, &opts) {
        assert!((512..=1024).contains(&img.side()));
        assert!(!img.bytes().is_empty());
    }
});
