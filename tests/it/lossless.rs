//! GIFs that need no resampling (side already 512–1024, transparent bars) are re-optimised
//! without loss: every output frame, composited as a browser shows it (by `image`, an
//! independent implementation), equals the input frame composited, pixel for pixel, at every
//! moment of the animation.

use gif::DisposalMethod::{self, Background, Keep, Previous};

use super::animation::{build, F};
use avatar_prep::{prepare, PrepOptions};

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
