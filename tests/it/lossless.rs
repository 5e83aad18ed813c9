//! GIFs that need no resampling (side already 512–1024, transparent bars) are re-optimised
//! without loss: every output frame, composited as a browser shows it (by `image`, an
//! independent implementation), equals the input frame composited, pixel for pixel, at every
//! moment of the animation. Still GIFs likewise: a still that needs no resampling stays a
//! GIF with exactly its pixels (also cropped, or on opaque bars); a resampled one is
//! re-palettised close to the resampled frame.

use gif::DisposalMethod::{self, Background, Keep, Previous};

use super::animation::{build, F};
use avatar_prep::{prepare, Fit, FramePolicy, ImageFormat, OutputFormat, PrepOptions, Rgba};
use avatar_tests::gif_loops;

/// A cheap, deterministic pseudo-random value.
fn hash(x: u32) -> u32 {
    let mut h = x.wrapping_mul(0x9E37_79B9);
    h ^= h >> 15;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^ (h >> 13)
}

/// Like the peer corpus: a dithered 240-colour background (index noise), sprites in the 15
/// colours 240..255 whose RGB changes every frame (so every frame has a local palette), and
/// index 255 transparent where `clear(x, y)`. Every frame is written whole (as Pillow does
/// without `optimize`), which is what an optimiser should shrink.
fn sprites(
    w: u16,
    h: u16,
    n: usize,
    disposals: &[DisposalMethod],
    clear: impl Fn(u32, u32) -> bool,
) -> Vec<F> {
    let base: Vec<[u8; 3]> = (0..240u32)
        .map(|i| {
            let v = hash(i + 7);
            [v as u8, (v >> 8) as u8, (v >> 16) as u8]
        })
        .collect();
    (0..n)
        .map(|f| {
            // Frames 4 and 5 are the same picture: they should become one frame.
            let t = if f == 5 { 4 } else { f } as u32;
            let mut palette = base.clone();
            for k in 0..15u32 {
                let v = hash(1000 + t * 31 + k);
                palette.push([v as u8, (v >> 8) as u8, (v >> 16) as u8]);
            }
            palette.push([1, 2, 3]);
            let pixels = (0..u32::from(h))
                .flat_map(|y| (0..u32::from(w)).map(move |x| (x, y)))
                .map(|(x, y)| {
                    for s in 0..3u32 {
                        let (sx, sy) = (20 + s * 90 + t * 9, 30 + s * 70 + t * 5);
                        if (sx..sx + 40).contains(&x) && (sy..sy + 30).contains(&y) {
                            return (240 + s * 4) as u8;
                        }
                    }
                    if clear(x, y) {
                        255
                    } else {
                        (hash(y * 4099 + x) % 240) as u8
                    }
                })
                .collect();
            F {
                rect: (0, 0, w, h),
                palette,
                transparent: Some(255),
                pixels,
                delay: 3 + (f % 4) as u16,
                dispose: disposals[f % disposals.len()],
            }
        })
        .collect()
}

/// Asserts that `output` shows what `input` shows, moved by the bars' offset, at every
/// moment: at each input frame's start, the output frame shown then is the same picture.
fn assert_same_animation(input: &[u8], output: &[u8], (dx, dy): (u32, u32)) {
    let src = avatar_tests::gif_frames(input);
    let dst = avatar_tests::gif_frames(output);
    let starts = |frames: &[(image::RgbaImage, u32)]| {
        frames
            .iter()
            .scan(0u32, |t, f| {
                let start = *t;
                *t += f.1;
                Some(start)
            })
            .collect::<Vec<u32>>()
    };
    let (src_t, dst_t) = (starts(&src), starts(&dst));
    let total = |f: &[(image::RgbaImage, u32)]| f.iter().map(|f| f.1).sum::<u32>();
    assert_eq!(total(&src), total(&dst), "total duration");
    for (k, ((s, _), t)) in src.iter().zip(&src_t).enumerate() {
        let j = dst_t.iter().rposition(|u| u <= t).unwrap();
        let d = &dst[j].0;
        let (dw, dh) = d.dimensions();
        for y in 0..dh {
            for x in 0..dw {
                let got = d.get_pixel(x, y).0;
                let inside =
                    (dx..dx + s.width()).contains(&x) && (dy..dy + s.height()).contains(&y);
                let want = if inside {
                    s.get_pixel(x - dx, y - dy).0
                } else {
                    [0; 4]
                };
                let same = got == want || (got[3] == 0 && want[3] == 0);
                assert!(
                    same,
                    "input frame {k} (output frame {j}) at ({x},{y}): {got:?}, want {want:?}"
                );
            }
        }
    }
}

#[test]
fn sprites_over_noise_are_re_optimised_without_loss() {
    // 600x440: the side is in range, so bars are added (80 px above and below) and nothing
    // is resampled. Keep, restore-previous and clear-to-background frames, all whole.
    let frames = sprites(
        600,
        440,
        12,
        &[Keep, Keep, Previous, Keep, Background],
        |_, _| false,
    );
    let input = build(600, 440, &frames, gif::Repeat::Infinite);
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert_eq!(out.side(), 600);
    assert_eq!(out.frames(), 11, "the two identical frames are one");
    assert!(
        out.bytes().len() * 3 < input.len(),
        "re-optimised: {} bytes from {}",
        out.bytes().len(),
        input.len()
    );
    assert_same_animation(&input, out.bytes(), (0, 80));
}

#[test]
fn sticker_with_holes_is_re_optimised_without_loss() {
    // A transparent-background sticker: the clear area is a disc; frames disposed every
    // way, so pixels go from opaque to transparent between frames.
    let disc = |x: u32, y: u32| {
        let (cx, cy) = (x as i64 - 260, y as i64 - 250);
        cx * cx + cy * cy > 200 * 200
    };
    let frames = sprites(
        520,
        500,
        10,
        &[Background, Keep, Previous, Background],
        disc,
    );
    let input = build(520, 500, &frames, gif::Repeat::Finite(2));
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert_eq!(out.side(), 520);
    assert!(out.bytes().len() < input.len());
    assert_same_animation(&input, out.bytes(), (0, 10));
}

#[test]
fn small_frames_with_every_disposal_stay_exact() {
    // Small frames over a kept backdrop, with transparent pixels inside them.
    let mut frames = sprites(512, 512, 1, &[Keep], |x, y| x < 100 && y < 100);
    for i in 0..9u16 {
        let side = 40 + i * 10;
        let (x, y) = (i * 37 % 400, i * 53 % 400);
        let pixels = (0..u32::from(side) * u32::from(side))
            .map(|k| {
                if hash(k + u32::from(i)).is_multiple_of(5) {
                    2
                } else {
                    (k % 2) as u8
                }
            })
            .collect();
        frames.push(F {
            rect: (x, y, side, side),
            palette: vec![[200, 10, i as u8 * 20], [10, 200, 30], [0, 0, 0]],
            transparent: Some(2),
            pixels,
            delay: 4,
            dispose: [Keep, Background, Previous][usize::from(i) % 3],
        });
    }
    let input = build(512, 512, &frames, gif::Repeat::Infinite);
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert_eq!(out.side(), 512);
    assert_same_animation(&input, out.bytes(), (0, 0));
}

/// Asserts that `output` is a still GIF (one frame, no loop extension) showing `input`'s
/// first frame as a browser shows it: the input from `(sx, sy)` placed at `content`
/// (x, y, w, h), and `bg` in the bars and wherever the input is transparent.
fn assert_same_still(
    input: &[u8],
    output: &[u8],
    (sx, sy): (u32, u32),
    content: (u32, u32, u32, u32),
    bg: [u8; 4],
) {
    assert!(!gif_loops(output), "a still GIF has no loop extension");
    let src = &avatar_tests::gif_frames(input)[0].0;
    let dst = avatar_tests::gif_frames(output);
    assert_eq!(dst.len(), 1, "one frame");
    let d = &dst[0].0;
    let (cx, cy, cw, ch) = content;
    for y in 0..d.height() {
        for x in 0..d.width() {
            let got = d.get_pixel(x, y).0;
            let inside = (cx..cx + cw).contains(&x) && (cy..cy + ch).contains(&y);
            let want = if inside {
                src.get_pixel(x - cx + sx, y - cy + sy).0
            } else {
                bg
            };
            let want = if want[3] == 0 { bg } else { want };
            let same = got == want || (got[3] == 0 && want[3] == 0);
            assert!(same, "({x},{y}): {got:?}, want {want:?}");
        }
    }
}

/// One still frame of [`sprites`]: 240-colour noise, sprites, a transparent corner.
fn still(w: u16, h: u16) -> Vec<u8> {
    let frames = sprites(w, h, 1, &[Keep], |x, y| x + y < 120);
    let input = build(w, h, &frames, gif::Repeat::Infinite);
    assert!(gif_loops(&input));
    input
}

#[test]
fn still_gifs_in_range_stay_gifs_without_loss() {
    // Square: nothing to do but drop the loop extension.
    let input = still(600, 600);
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 600)
    );
    assert_eq!(out.mime(), "image/gif");
    assert!(
        out.bytes().len() <= input.len(),
        "{} bytes",
        out.bytes().len()
    );
    assert_same_still(&input, out.bytes(), (0, 0), (0, 0, 600, 600), [0; 4]);

    // Letterboxed: transparent bars, 80 px above and below.
    let input = still(600, 440);
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 600)
    );
    assert_same_still(&input, out.bytes(), (0, 0), (0, 80, 600, 440), [0; 4]);

    // Opaque bars: their colour also shows through the transparent corner. 255 colours
    // and the bars' need a 256-colour table, still exact.
    let (r, g, b) = (10, 20, 30);
    let bars = Fit::Letterbox {
        background: Some(Rgba { r, g, b, a: 255 }),
    };
    let out = prepare(&input, &PrepOptions::default().fit(bars)).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 600)
    );
    let bg = [r, g, b, 255];
    assert_same_still(&input, out.bytes(), (0, 0), (0, 80, 600, 440), bg);

    // Cropped: the centre 600x600 of 700x600, pixels as they are.
    let input = still(700, 600);
    let out = prepare(&input, &PrepOptions::default().fit(Fit::CenterCrop)).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 600)
    );
    assert_same_still(&input, out.bytes(), (50, 0), (0, 0, 600, 600), [0; 4]);

    // Forced formats are kept.
    let png = PrepOptions::default().format(OutputFormat::Png);
    assert_eq!(prepare(&input, &png).unwrap().format(), ImageFormat::Png);
}

#[test]
fn the_first_frame_policy_gives_a_still_gif_of_the_first_frame() {
    let frames = sprites(600, 440, 8, &[Keep, Previous], |_, _| false);
    let input = build(600, 440, &frames, gif::Repeat::Infinite);
    let first = PrepOptions::default()
        .max_frames(5)
        .frame_policy(FramePolicy::FirstFrame);
    let out = prepare(&input, &first).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 600)
    );
    assert!(out.recovery().is_empty(), "{:?}", out.recovery());
    assert_same_still(&input, out.bytes(), (0, 0), (0, 80, 600, 440), [0; 4]);
}

#[test]
fn resampled_still_gifs_are_re_palettised_closely() {
    // 1500x1500: a 16x16-colour gradient, dithered with noise, shrinks to 1024 and gains
    // thousands of colours; the GIF gets 255 of them.
    let side = 1500u32;
    let palette: Vec<[u8; 3]> = (0..256u32)
        .map(|i| [(i / 16 * 17) as u8, (i % 16 * 17) as u8, 96])
        .collect();
    let level = |v: u32, k: u32| ((v * 15 * 64 / (side - 1) + hash(k) % 64) / 64).min(15);
    let pixels = (0..side * side)
        .map(|k| {
            let (x, y) = (k % side, k / side);
            (level(x, k) * 16 + level(y, k + 7_777_777)) as u8
        })
        .collect();
    let frame = F {
        rect: (0, 0, side as u16, side as u16),
        palette,
        transparent: None,
        pixels,
        delay: 0,
        dispose: Keep,
    };
    let input = build(side as u16, side as u16, &[frame], gif::Repeat::Infinite);
    let out = prepare(&input, &PrepOptions::default()).unwrap();
    assert_eq!(
        (out.format(), out.frames(), out.side()),
        (ImageFormat::Gif, 1, 1024)
    );
    assert!(!gif_loops(out.bytes()));
    // Against the same resampled frame unquantised (the PNG output).
    let png = prepare(&input, &PrepOptions::default().format(OutputFormat::Png)).unwrap();
    let (got, want) = (
        avatar_tests::decode(out.bytes()),
        avatar_tests::decode(png.bytes()),
    );
    assert_eq!((got.width, got.height), (want.width, want.height));
    let (mut sum, mut n) = (0u64, 0u64);
    for (a, b) in got.rgba.chunks_exact(4).zip(want.rgba.chunks_exact(4)) {
        assert_eq!((a[3], b[3]), (255, 255));
        sum += (0..3).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>();
        n += 3;
    }
    let mean = sum as f64 / n as f64;
    eprintln!("still GIF 1500 -> 1024: mean error {mean:.2} per channel");
    assert!(mean <= 3.0, "mean error {mean:.2}");
    assert!(
        out.bytes().len() * 2 < png.bytes().len(),
        "GIF {} bytes, PNG {}",
        out.bytes().len(),
        png.bytes().len()
    );
}
