//! The animated GIF path: the fuzzer's bytes after a GIF signature, decimating policy.
#![no_main]

use avatar_prep::{prepare, FramePolicy, Limits, PrepOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(data);
    let opts = PrepOptions::default()
        .max_frames(8)
        .frame_policy(FramePolicy::Decimate)
        .limits(
            Limits::DEFAULT
                .max_pixels(1_000_000)
                .max_animation_pixels(20_000_000),
        );
    if let Ok(img) = prepare(&bytes, &opts) {
        assert!(img.frames() <= 8);
    }
});
