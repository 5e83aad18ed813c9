//! Writes the self-made sample images in `samples/` (run from the workspace root):

#![allow(clippy::unwrap_used)]
//! `cargo run -p avatar-tests --example make_samples`. Deterministic: re-running gives the
//! same files.

use avatar_tests::{corner_markers, gif, jpeg, photo, png_rgba, JpegFixture, Pixels};

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new("samples");
    std::fs::create_dir_all(dir)?;

    // A landscape phone-style photo.
    let landscape = photo(1200, 800, 1);
    std::fs::write(
        dir.join("landscape.jpg"),
        jpeg(
            &landscape,
            &JpegFixture {
                quality: Some(85),
                ..Default::default()
            },
        ),
    )?;

    // A portrait photo stored sideways with EXIF orientation 6, as phones write them.
    // Upright it is 600x900 with a red block in its top-left corner.
    let upright = {
        let base = photo(600, 900, 2);
        let marks = corner_markers(600, 900);
        Pixels::from_fn(600, 900, |x, y| {
            let m = marks.at(x, y);
            if m == avatar_tests::GREY {
                base.at(x, y)
            } else {
                m
            }
        })
    };
    let stored = upright.stored_for(avatar_prep::Orientation::Rotate90);
    std::fs::write(
        dir.join("portrait-exif6.jpg"),
        jpeg(
            &stored,
            &JpegFixture {
                orientation: Some(6),
                quality: Some(85),
                ..Default::default()
            },
        ),
    )?;

    // A transparent PNG: a soft-edged disc on a transparent background.
    let disc = Pixels::from_fn(640, 400, |x, y| {
        let dx = x as f32 - 320.0;
        let dy = y as f32 - 200.0;
        let d = (dx * dx + dy * dy).sqrt();
        let a = ((170.0 - d) * 8.0).clamp(0.0, 255.0) as u8;
        [30, (120.0 + dy * 0.4) as u8, 200, a]
    });
    std::fs::write(dir.join("transparent.png"), png_rgba(&disc, None))?;

    // A small animated GIF: a square moving across a gradient, 8 frames.
    let frames: Vec<Pixels> = (0..8)
        .map(|i| {
            Pixels::from_fn(240, 160, |x, y| {
                let sx = 20 + i * 25;
                if x >= sx && x < sx + 40 && (60..100).contains(&y) {
                    [220, 40, 40, 255]
                } else {
                    [(x / 2) as u8, (y + 40) as u8, 160, 255]
                }
            })
        })
        .collect();
    std::fs::write(dir.join("animated.gif"), gif(&frames, 10))?;
    Ok(())
}
