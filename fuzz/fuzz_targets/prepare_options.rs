//! Any bytes through `prepare` with options chosen by the fuzzer.
#![no_main]

use arbitrary::Arbitrary;
use avatar_prep::{
    prepare, CropBox, Fit, FramePolicy, Limits, OutputFormat, PrepOptions, Rgba, SmallInput,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    fit: u8,
    crop: (u16, u16, u16),
    background: Option<[u8; 4]>,
    min_side: u16,
    max_side: u16,
    reject_small: bool,
    format: u8,
    quality: u8,
    orient: bool,
    shrink: bool,
    icc: bool,
    max_frames: u8,
    policy: u8,
    bytes: &'a [u8],
}

fuzz_target!(|input: Input<'_>| {
    let fit = match input.fit % 3 {
        0 => Fit::Letterbox {
            background: input.background.map(|c| Rgba::new(c[0], c[1], c[2], c[3])),
        },
        1 => Fit::CenterCrop,
        _ => Fit::Crop(CropBox::new(
            input.crop.0.into(),
            input.crop.1.into(),
            input.crop.2.into(),
        )),
    };
    let opts = PrepOptions::default()
        .fit(fit)
        .min_side(u32::from(input.min_side % 1100))
        .max_side(u32::from(input.max_side % 1100))
        .small_input(if input.reject_small {
            SmallInput::Reject
        } else {
            SmallInput::Upscale
        })
        .format(match input.format % 3 {
            0 => OutputFormat::Auto,
            1 => OutputFormat::Jpeg,
            _ => OutputFormat::Png,
        })
        .jpeg_quality(input.quality)
        .apply_orientation(input.orient)
        .shrink_on_load(input.shrink)
        .convert_icc(input.icc)
        .max_frames(u32::from(input.max_frames))
        .frame_policy(match input.policy % 3 {
            0 => FramePolicy::Reject,
            1 => FramePolicy::Decimate,
            _ => FramePolicy::FirstFrame,
        })
        .limits(
            Limits::DEFAULT
                .max_pixels(4_000_000)
                .max_animation_pixels(40_000_000),
        );
    if let Ok(img) = prepare(input.bytes, &opts) {
        assert!(img.side() >= opts.min_side && img.side() <= opts.max_side);
    }
});
