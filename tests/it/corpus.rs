//! Checks against the public conformance images in `../shared/corpus` (skipped with a
//! message when that folder is absent, e.g. outside this project's CI).

use std::path::PathBuf;

use avatar_prep::{prepare, PrepOptions};
use avatar_tests::{decode, Pixels};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

fn prepared(path: &std::path::Path, opts: &PrepOptions) -> Pixels {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let img = prepare(&bytes, opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    decode(img.bytes())
}

fn mean_abs_diff(a: &Pixels, b: &Pixels) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let sum: u64 = a
        .rgba
        .iter()
        .zip(&b.rgba)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.rgba.len() as f64
}

#[test]
fn recurser_orientations_match_the_upright_reference() {
    let Some(dir) = corpus() else { return };
    let dir = dir.join("exif-orientation/recurser");
    let opts = PrepOptions::default();
    for shape in ["Landscape", "Portrait"] {
        let reference = prepared(&dir.join(format!("{shape}_1.jpg")), &opts);
        for n in [0, 2, 3, 4, 5, 6, 7, 8] {
            let out = prepared(&dir.join(format!("{shape}_{n}.jpg")), &opts);
            let d = mean_abs_diff(&out, &reference);
            assert!(
                d <= 4.0,
                "{shape}_{n}.jpg differs from {shape}_1.jpg by {d:.2}"
            );
        }
    }
}

#[test]
fn cmyk_jpegs_match_their_rgb_references() {
    let Some(dir) = corpus() else { return };
    let opts = PrepOptions::default();
    for (cmyk, reference, tolerance) in [
        (
            "jpeg/pillow/pil_sample_cmyk.jpg",
            "jpeg/pillow/pil_sample_rgb.jpg",
            8.0,
        ),
        (
            "jpeg/jpeg-decoder/jpg-cmyk-1.jpg",
            "jpeg/jpeg-decoder/jpg-cmyk-1.png",
            8.0,
        ),
        (
            "jpeg/jpeg-decoder/jpg-cmyk-2.jpg",
            "jpeg/jpeg-decoder/jpg-cmyk-2.png",
            8.0,
        ),
    ] {
        let a = prepared(&dir.join(cmyk), &opts);
        let b = prepared(
            &dir.join(reference),
            &opts.format(avatar_prep::OutputFormat::Jpeg),
        );
        let d = mean_abs_diff(&a, &b);
        assert!(
            d <= tolerance,
            "{cmyk}: mean abs diff {d:.2} against {reference}"
        );
    }
}

/// Fraction of pixels further than `by` (max channel difference) from the image's mean.
fn spread(p: &Pixels, by: u8) -> f64 {
    let n = (p.rgba.len() / 4) as f64;
    let mut mean = [0f64; 3];
    for px in p.rgba.chunks_exact(4) {
        for c in 0..3 {
            mean[c] += f64::from(px[c]) / n;
        }
    }
    let far = p
        .rgba
        .chunks_exact(4)
        .filter(|px| (0..3).any(|c| (f64::from(px[c]) - mean[c]).abs() > f64::from(by)))
        .count();
    far as f64 / n
}

#[test]
fn icc_profiles_are_converted_to_srgb() {
    let Some(dir) = corpus() else { return };
    // Red text in sRGB red on a DCI-P3 red background: only after converting P3 to sRGB
    // do the two reds (almost) coincide and the text vanish.
    let path = dir.join("extra/icc/codelogic/P3-sRGB-red.jpg");
    let converted = prepared(
        &path,
        &PrepOptions::default().fit(avatar_prep::Fit::CenterCrop),
    );
    let ignored = prepared(
        &path,
        &PrepOptions::default()
            .fit(avatar_prep::Fit::CenterCrop)
            .convert_icc(false),
    );
    let (c, i) = (spread(&converted, 24), spread(&ignored, 24));
    assert!(
        i > 0.01,
        "the text should be visible without conversion ({i:.4})"
    );
    assert!(
        c < i / 4.0,
        "the text should (almost) vanish once converted ({c:.4} vs {i:.4})"
    );
    // A profile that rotates the primaries: converted output differs from the raw pixels
    // by a lot, in the direction the profile says (raw green becomes red).
    let path = dir.join("extra/icc/codelogic/rgb-to-gbr-test.jpg");
    let bytes = std::fs::read(&path).unwrap();
    let img = prepare(&bytes, &PrepOptions::default()).unwrap();
    assert!(img.icc_converted());
    let converted = decode(img.bytes());
    let raw = prepared(&path, &PrepOptions::default().convert_icc(false));
    assert!(mean_abs_diff(&converted, &raw) > 20.0);
    let rotated = Pixels {
        rgba: raw
            .rgba
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[0], p[1], p[3]])
            .collect(),
        ..raw.clone()
    };
    let d_rot = mean_abs_diff(&converted, &rotated);
    assert!(
        d_rot < 12.0,
        "converted pixels are the raw ones with primaries rotated ({d_rot:.2})"
    );
}
