//! The WebP decoders (still, lossy/lossless/alpha, and animations): the fuzzer's bytes after a
//! `RIFF....WEBP` header whose size matches, decimating policy so animations are composited.
#![no_main]

use avatar_prep::{prepare, FramePolicy, Limits, PrepOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&(data.len() as u32 + 4).to_le_bytes());
    bytes.extend_from_slice(b"WEBP");
    // Seeds are whole files: skip their own 12-byte header.
    bytes.extend_from_slice(
        data.strip_prefix(b"RIFF")
            .map_or(data, |d| d.get(8..).unwrap_or_default()),
    );
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
        assert!((512..=1024).contains(&img.side()));
    }
});
