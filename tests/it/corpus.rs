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

/// What the corpus README says a file must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Decode,
    Reject,
    Either,
}

/// The table rows of `corpus/README.md`: (path or glob, description, reference outcome).
fn corpus_rows(dir: &std::path::Path) -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    readme
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            // | path | source | licence | description | outcome |
            (cols.len() == 7).then(|| {
                let path = cols[1].split('`').nth(1).unwrap_or_default().to_owned();
                (path, cols[4].to_owned(), cols[5].to_owned())
            })
        })
        .collect()
}

fn expectation(desc: &str, outcome: &str) -> Expect {
    let d = desc.to_ascii_lowercase();
    let either = [
        "reject or",
        "or reject",
        "or an error",
        "an image or",
        "or partial",
        "or skip",
        "or decode",
        "policy",
        "or fail",
        "reject when",
        "may succeed",
    ];
    if either.iter().any(|e| d.contains(e)) {
        return Expect::Either;
    }
    if ["must be rejected", "must fail", "must be refused"]
        .iter()
        .any(|e| d.contains(e))
    {
        return Expect::Reject;
    }
    if outcome.starts_with("ok") || outcome.starts_with("all ok") {
        Expect::Decode
    } else {
        Expect::Either
    }
}

fn glob_match(pattern: &str, path: &str) -> bool {
    // `*` and `[0-9]` are the only wildcards the README uses.
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && m(p, &s[1..])),
            (Some(b'['), Some(&c)) => {
                let close = p.iter().position(|&b| b == b']').unwrap_or(p.len() - 1);
                let class = &p[1..close];
                let ok = if class.len() == 3 && class[1] == b'-' {
                    (class[0]..=class[2]).contains(&c)
                } else {
                    class.contains(&c)
                };
                ok && m(&p[close + 1..], &s[1..])
            }
            (Some(&a), Some(&b)) => a == b && m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(pattern.as_bytes(), path.as_bytes())
}

#[test]
fn corpus_outcomes_match_the_readme() {
    let Some(dir) = corpus() else { return };
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let rows = corpus_rows(&dir);
    assert!(
        rows.len() > 200,
        "README table not found ({} rows)",
        rows.len()
    );
    let opts = PrepOptions::default().frame_policy(avatar_prep::FramePolicy::Decimate);
    let (mut checked, mut mismatches) = (0, Vec::new());
    let mut tally: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (pattern, desc, outcome) in &rows {
        let expect = expectation(desc, outcome);
        for f in files.iter().filter(|f| glob_match(pattern, f)) {
            checked += 1;
            let bytes = std::fs::read(dir.join(f)).unwrap();
            let result = prepare(&bytes, &opts);
            let got = match &result {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.kind().as_str().to_owned(),
            };
            *tally.entry(format!("{expect:?} -> {got}")).or_default() += 1;
            let good = match (&result, expect) {
                (Ok(img), Expect::Decode | Expect::Either) => {
                    let px = decode(img.bytes());
                    px.width == px.height && (512..=1024).contains(&px.width)
                }
                (Err(e), Expect::Reject | Expect::Either) => {
                    e.kind() != avatar_prep::ErrorKind::Internal
                }
                _ => false,
            };
            if !good {
                let got = result
                    .map(|_| "ok".to_owned())
                    .unwrap_or_else(|e| format!("{}: {e}", e.kind()));
                mismatches.push(format!("{f}: expected {expect:?}, got {got}"));
            }
        }
    }
    assert!(
        checked > 380,
        "only {checked} corpus files matched the README"
    );
    eprintln!("corpus: {checked} files checked: {tally:?}");
    assert!(
        mismatches.is_empty(),
        "{} unexpected outcomes:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
