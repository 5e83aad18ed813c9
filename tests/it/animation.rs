//! Animated GIFs: frame policies, timing, disposal compositing, clipping, limits.

use avatar_prep::{prepare, ErrorKind, FramePolicy, ImageFormat, Limits, PrepError, PrepOptions};
use avatar_tests::{color_distance, Pixels};

/// One frame to build: a rectangle of palette indices with its own local palette.
pub(crate) struct F {
    pub(crate) rect: (u16, u16, u16, u16),
    /// RGB palette entries; index `transparent` (if any) is see-through.
    pub(crate) palette: Vec<[u8; 3]>,
    pub(crate) transparent: Option<u8>,
    pub(crate) pixels: Vec<u8>,
    pub(crate) delay: u16,
    pub(crate) dispose: gif::DisposalMethod,
}

fn solid(rect: (u16, u16, u16, u16), rgb: [u8; 3], delay: u16, dispose: gif::DisposalMethod) -> F {
    F {
        rect,
        palette: vec![rgb, [0, 0, 0]],
        transparent: None,
        pixels: vec![0; usize::from(rect.2) * usize::from(rect.3)],
        delay,
        dispose,
    }
}

pub(crate) fn build(w: u16, h: u16, frames: &[F], repeat: gif::Repeat) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w, h, &[]).unwrap();
        enc.set_repeat(repeat).unwrap();
        for f in frames {
            let pal: Vec<u8> = f.palette.iter().flatten().copied().collect();
            let mut frame = gif::Frame::from_palette_pixels(
                f.rect.2,
                f.rect.3,
                f.pixels.clone(),
                pal,
                f.transparent,
            );
            frame.left = f.rect.0;
            frame.top = f.rect.1;
            frame.delay = f.delay;
            frame.dispose = f.dispose;
            enc.write_frame(&frame).unwrap();
        }
    }
    out
}

fn px(img: &image::RgbaImage, x: u32, y: u32) -> [u8; 4] {
    img.get_pixel(x, y).0
}

const BLUE: [u8; 3] = [20, 40, 220];
const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 200, 40];
const YELLOW: [u8; 3] = [240, 220, 20];

fn opaque(c: [u8; 3]) -> [u8; 4] {
    [c[0], c[1], c[2], 255]
}

#[test]
fn disposal_sequence_matches_what_a_browser_shows() {
    use gif::DisposalMethod::{Background, Keep, Previous};
    // 64x64 screen, enlarged 8x to 512: every 16 px block becomes 128 px.
    let mut hole = solid((8, 40, 16, 16), YELLOW, 10, Keep);
    hole.palette = vec![YELLOW, [0, 0, 0]];
    hole.transparent = Some(1);
    for y in 4..12 {
        for x in 4..12 {
            hole.pixels[y * 16 + x] = 1;
        }
    }
    let frames = [
        solid((0, 0, 64, 64), BLUE, 10, Keep),
        solid((8, 8, 16, 16), RED, 20, Background),
        solid((40, 8, 16, 16), GREEN, 30, Previous),
        hole,
    ];
    let bytes = build(64, 64, &frames, gif::Repeat::Infinite);
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.format(), ImageFormat::Gif);
    assert_eq!(out.mime(), "image/gif");
    assert_eq!((out.side(), out.frames()), (512, 4));
    let shown = avatar_tests::gif_frames(out.bytes());
    assert_eq!(shown.len(), 4);
    assert_eq!(
        shown.iter().map(|f| f.1).collect::<Vec<_>>(),
        vec![100, 200, 300, 100]
    );
    // Centres of the 16 px blocks, in output pixels (screen * 8).
    let at = |sx: u32, sy: u32| (sx * 8, sy * 8);
    let (red, green, yellow, yellow_hole, blue) =
        (at(16, 16), at(48, 16), at(10, 42), at(16, 48), at(48, 48));
    let expect: [[Option<[u8; 4]>; 5]; 4] = [
        // red block, green block, yellow rim, yellow hole, plain blue
        [
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
        ],
        [
            Some(opaque(RED)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
        ],
        // Frame 1 was disposed to background: its rectangle is now transparent.
        [
            None,
            Some(opaque(GREEN)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
        ],
        // Frame 2 restored to previous: green gone, the cleared hole stays; the yellow
        // frame's own transparent pixels show the blue beneath.
        [
            None,
            Some(opaque(BLUE)),
            Some(opaque(YELLOW)),
            Some(opaque(BLUE)),
            Some(opaque(BLUE)),
        ],
    ];
    for (i, (img, _)) in shown.iter().enumerate() {
        assert_eq!(img.dimensions(), (512, 512));
        for (j, &(x, y)) in [red, green, yellow, yellow_hole, blue].iter().enumerate() {
            let got = px(img, x, y);
            match expect[i][j] {
                Some(want) => assert!(
                    color_distance(got, want) <= 24,
                    "frame {i} probe {j} at ({x},{y}): {got:?} want {want:?}"
                ),
                None => assert_eq!(
                    got[3], 0,
                    "frame {i} probe {j}: {got:?} should be transparent"
                ),
            }
        }
    }
}

#[test]
fn moving_sticker_on_transparent_background_leaves_no_trail() {
    use gif::DisposalMethod::Background;
    // A red square moving right over nothing, each frame disposed to background.
    let frames: Vec<F> = (0..6u16)
        .map(|i| solid((i * 16, 24, 16, 16), RED, 5, Background))
        .collect();
    let bytes = build(96, 64, &frames, gif::Repeat::Finite(3));
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    let shown = avatar_tests::gif_frames(out.bytes());
    assert_eq!(shown.len(), 6);
    // 96x64 letterboxed into 96x96, enlarged to 512: scale 512/96.
    let s = 512.0 / 96.0;
    let y = ((16.0 + 32.0) * s) as u32; // screen row 32, shifted by the 16 px bar
    for (i, (img, _)) in shown.iter().enumerate() {
        for j in 0..6u32 {
            let x = ((j as f64 * 16.0 + 8.0) * s) as u32;
            let got = px(img, x, y);
            if j == i as u32 {
                assert!(
                    color_distance(got, opaque(RED)) <= 24,
                    "frame {i} square {j}: {got:?}"
                );
            } else {
                assert_eq!(got[3], 0, "frame {i}: trail at square {j}: {got:?}");
            }
        }
    }
    // The loop count survives.
    let dec = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(out.bytes()))
        .unwrap();
    assert_eq!(dec.repeat(), gif::Repeat::Finite(3));
}

#[test]
fn frames_beyond_the_screen_are_clipped() {
    use gif::DisposalMethod::Keep;
    let frames = [
        solid((0, 0, 32, 32), BLUE, 10, Keep),
        // Half outside the 32x32 screen, and one wholly outside.
        solid((24, 24, 16, 16), RED, 10, Keep),
        solid((100, 100, 8, 8), GREEN, 10, Keep),
    ];
    let bytes = build(32, 32, &frames, gif::Repeat::Infinite);
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.source().width, 32, "the canvas does not grow");
    let shown = avatar_tests::gif_frames(out.bytes());
    // The frame wholly outside changes nothing: it is merged into the one before.
    assert_eq!(shown.iter().map(|f| f.1).collect::<Vec<_>>(), [100, 200]);
    let last = &shown[1].0;
    assert_eq!(last.dimensions(), (512, 512));
    assert!(color_distance(px(last, 500, 500), opaque(RED)) <= 24);
    assert!(color_distance(px(last, 100, 100), opaque(BLUE)) <= 24);
}

fn counting_gif(n: usize, delay: u16) -> Vec<u8> {
    use gif::DisposalMethod::Keep;
    let frames: Vec<F> = (0..n)
        .map(|i| {
            solid(
                (0, 0, 64, 64),
                [(i * 20 % 256) as u8, 100, 50],
                delay + (i % 3) as u16,
                Keep,
            )
        })
        .collect();
    build(64, 64, &frames, gif::Repeat::Infinite)
}

#[test]
fn frame_policies_and_timing() {
    let bytes = counting_gif(12, 7);
    let total: u32 = (0..12).map(|i| 7 + (i % 3)).sum::<u32>() * 10;

    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.frames(), 12);
    let shown = avatar_tests::gif_frames(out.bytes());
    assert_eq!(
        shown.iter().map(|f| f.1).sum::<u32>(),
        total,
        "duration kept"
    );

    let strict = PrepOptions::default().max_frames(5);
    match prepare(&bytes, &strict) {
        Err(PrepError::TooManyFrames { frames: 12, max: 5 }) => {}
        other => panic!("{other:?}"),
    }

    let decimate = strict.frame_policy(FramePolicy::Decimate);
    let out = prepare(&bytes, &decimate).unwrap();
    assert_eq!((out.format(), out.frames()), (ImageFormat::Gif, 5));
    let shown = avatar_tests::gif_frames(out.bytes());
    assert_eq!(shown.len(), 5);
    assert_eq!(
        shown.iter().map(|f| f.1).sum::<u32>(),
        total,
        "decimation keeps the duration"
    );
    // The kept frames are evenly spaced: frame k shows source frame k*12/5.
    for (k, (img, _)) in shown.iter().enumerate() {
        let src = k * 12 / 5;
        let want = [(src * 20 % 256) as u8, 100, 50, 255];
        assert!(
            color_distance(px(img, 256, 256), want) <= 16,
            "frame {k}: {:?} want {want:?}",
            px(img, 256, 256)
        );
    }

    // The first frame alone: a still GIF (no loop extension) of source frame 0.
    let first = strict.frame_policy(FramePolicy::FirstFrame);
    let out = prepare(&bytes, &first).unwrap();
    assert_eq!((out.format(), out.frames()), (ImageFormat::Gif, 1));
    assert!(!avatar_tests::gif_loops(out.bytes()));
    let shown = avatar_tests::gif_frames(out.bytes());
    assert_eq!(shown.len(), 1);
    assert!(color_distance(px(&shown[0].0, 256, 256), [0, 100, 50, 255]) <= 4);
}

#[test]
fn five_thousand_frames_are_judged_from_the_headers() {
    use gif::DisposalMethod::Keep;
    let frames: Vec<F> = (0..5000)
        .map(|_| solid((0, 0, 1, 1), RED, 1, Keep))
        .collect();
    let bytes = build(1000, 1000, &frames, gif::Repeat::Infinite);
    match prepare(&bytes, &PrepOptions::default()) {
        Err(PrepError::TooManyFrames {
            frames: 5000,
            max: 100,
        }) => {}
        other => panic!("{other:?}"),
    }
    // Decimating would still composite every frame: 5000 x 1 MP is over the budget.
    let opts = PrepOptions::default().frame_policy(FramePolicy::Decimate);
    let err = prepare(&bytes, &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AnimationTooLarge, "{err}");
    let opts = opts.limits(Limits::DEFAULT.max_animation_pixels(u64::MAX));
    let out = prepare(&bytes, &opts).unwrap();
    // 100 frames kept, all the same picture: written as one frame lasting all 50 s.
    assert_eq!(out.frames(), 1);
    let shown = avatar_tests::gif_frames(out.bytes());
    assert_eq!(shown.iter().map(|f| f.1).collect::<Vec<_>>(), [50_000]);
}

#[test]
fn re_encoded_gif_stays_compact() {
    // A 300x300 animation where a small sprite moves over a detailed still background:
    // frame differences keep the output close to the input.
    use gif::DisposalMethod::Keep;
    let bg = avatar_tests::photo(300, 300, 4);
    let mut frames = Vec::new();
    let mut rgba = bg.rgba.clone();
    let mut first = gif::Frame::from_rgba_speed(300, 300, &mut rgba, 10);
    first.delay = 8;
    let first_palette: Vec<[u8; 3]> = first
        .palette
        .clone()
        .unwrap()
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    frames.push(F {
        rect: (0, 0, 300, 300),
        palette: first_palette,
        transparent: first.transparent,
        pixels: first.buffer.to_vec(),
        delay: 8,
        dispose: Keep,
    });
    for i in 0..20u16 {
        frames.push(solid((10 + i * 12, 140, 20, 20), RED, 8, Keep));
    }
    let bytes = build(300, 300, &frames, gif::Repeat::Infinite);
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.frames(), 21);
    let ratio = out.bytes().len() as f64 / bytes.len() as f64;
    // The output has 2.9x the pixels (300 -> 512); a naive re-encode of 21 full frames would
    // be about 21x / 2.9x = 60x larger than this.
    assert!(
        ratio < 6.0,
        "output {} bytes for {} input bytes ({ratio:.1}x)",
        out.bytes().len(),
        bytes.len()
    );
}

#[test]
fn gifs_already_in_range_are_letterboxed_without_re_encoding() {
    use gif::DisposalMethod::{Background, Keep};
    // 600x400: the side (600) is already in 512..=1024, so only transparent bars are added:
    // every frame's compressed data is copied, each frame moved down by 100 px.
    let mut frames = vec![solid((0, 0, 600, 400), BLUE, 10, Keep)];
    for i in 0..5u16 {
        frames.push(solid((i * 100, 150, 100, 100), RED, 10, Background));
    }
    let bytes = build(600, 400, &frames, gif::Repeat::Finite(2));
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!((out.side(), out.frames()), (600, 6));
    assert!(
        out.bytes().len() <= bytes.len() + 64,
        "copied, not re-encoded: {} vs {} bytes",
        out.bytes().len(),
        bytes.len()
    );
    let (src, dst) = (
        avatar_tests::gif_frames(&bytes),
        avatar_tests::gif_frames(out.bytes()),
    );
    assert_eq!(dst.len(), src.len());
    for (k, ((s, sd), (d, dd))) in src.iter().zip(&dst).enumerate() {
        assert_eq!(sd, dd, "frame {k} delay");
        assert_eq!(d.dimensions(), (600, 600));
        for y in 0..600 {
            for x in (0..600).step_by(7) {
                let got = px(d, x, y);
                if (100..500).contains(&y) {
                    assert_eq!(got, px(s, x, y - 100), "frame {k} at ({x},{y})");
                } else {
                    assert_eq!(got[3], 0, "frame {k}: bar at ({x},{y}) is transparent");
                }
            }
        }
    }
    let dec = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(out.bytes()))
        .unwrap();
    assert_eq!(dec.repeat(), gif::Repeat::Finite(2));
}

#[test]
fn frames_whose_colours_the_palette_lacks_get_one_of_their_own() {
    // A 512² lossless WebP (in range: nothing resized, but re-palettised, from the first
    // chunk's pixels: 2 × threads frames, at least 4). The first chunk is grey; the frames
    // after it have 64 colours, none grey. Mapped to the greys they would be far off; with
    // a palette of their own (reused by each such frame after the first) they are exact.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let greys = (2 * threads).max(4) as u32;
    let grey = |k: u32| {
        Pixels::from_fn(512, 512, move |x, y| {
            let v = (((x + y + 8 * k) / 64) * 16).min(255) as u8;
            [v, v, v, 255]
        })
    };
    let colour = |k: u32| {
        Pixels::from_fn(512, 512, move |x, y| {
            let g = ((y + 16 * k) / 64) % 8;
            [(x / 64 * 32 + 16) as u8, (g * 32 + 16) as u8, 200, 255]
        })
    };
    let frames: Vec<Pixels> = (0..greys).map(grey).chain((0..4).map(colour)).collect();
    let bytes = avatar_tests::webp_frames(&frames, 100);
    let out = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert_eq!(out.side(), 512);
    let decoded = avatar_tests::gif_frames(out.bytes());
    assert_eq!(decoded.len(), frames.len());
    for (k, ((got, _), want)) in decoded.iter().zip(&frames).enumerate() {
        let diff: u64 = got
            .as_raw()
            .iter()
            .zip(&want.rgba)
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        let mean = diff as f64 / want.rgba.len() as f64;
        assert!(mean < 0.5, "frame {k}: mean error {mean:.2} per channel");
    }
}
