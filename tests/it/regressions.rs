//! Replays the regression fixtures: every file in `tests/fixtures/regressions/` (inputs made
//! by `examples/make_fixtures.rs` for behaviour decided in an issue, and the crashes and wrong
//! answers the fuzz targets found, named `fuzz-<target>-…`). A file named
//! `<what>.<expected>.<ext>` must give a valid square (`ok`) or the error of kind `<expected>`,
//! under the default options and under a set of unusual ones, without a panic. A file in a
//! format whose cargo feature this build lacks (`.avif`, `.heic`) must give
//! `unsupported_format` instead.

use std::path::{Path, PathBuf};

use avatar_prep::{
    prepare, CropBox, Fit, FramePolicy, OutputFormat, PrepError, PrepOptions, SmallInput,
};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    for dir in ["regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_file() && !name.starts_with('.') && !name.ends_with(".md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// `ok` or an error kind, from `<what>.<expected>.<ext>`; `unsupported_format` for an AVIF
/// or HEIC file in a build without that format's feature.
fn expected(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut parts = name.rsplit('.');
    let ext = parts.next().unwrap_or_default();
    let feature_off = match ext {
        "avif" => !cfg!(feature = "avif"),
        "heic" => !cfg!(feature = "heic"),
        _ => false,
    };
    if feature_off {
        return "unsupported_format".to_owned();
    }
    parts
        .next()
        .unwrap_or_else(|| panic!("{name}: no expected outcome in the name"))
        .to_owned()
}

fn check_ok(path: &Path, result: Result<avatar_prep::PreparedImage, PrepError>, o: &PrepOptions) {
    let img = result.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dec = avatar_tests::decode(img.bytes());
    assert_eq!(
        (dec.width, dec.height),
        (img.side(), img.side()),
        "{}",
        path.display()
    );
    assert!(
        (o.min_side..=o.max_side).contains(&img.side()),
        "{}: side {}",
        path.display(),
        img.side()
    );
}

#[test]
fn regression_fixtures_give_their_named_outcome() {
    let files = fixtures();
    assert!(
        files.len() >= 8,
        "tests/fixtures/regressions is missing files: {files:?}"
    );
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let want = expected(path);
        let o = PrepOptions::default();
        let result = prepare(&bytes, &o);
        if want == "ok" {
            check_ok(path, result, &o);
        } else {
            let err = result
                .map(|_| ())
                .expect_err(&format!("{}: expected {want}", path.display()));
            assert_eq!(err.kind().as_str(), want, "{}: {err}", path.display());
        }
    }
}

#[test]
fn regression_fixtures_never_panic_under_unusual_options() {
    let option_sets = [
        PrepOptions::default().fit(Fit::CenterCrop),
        PrepOptions::default().fit(Fit::Crop(CropBox::new(1, 1, 7))),
        PrepOptions::default()
            .format(OutputFormat::Jpeg)
            .jpeg_quality(1)
            .min_side(16)
            .max_side(16),
        PrepOptions::default()
            .format(OutputFormat::Png)
            .small_input(SmallInput::Reject)
            .apply_orientation(false)
            .shrink_on_load(false),
        PrepOptions::default()
            .max_frames(1)
            .frame_policy(FramePolicy::Decimate),
    ];
    for path in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        for o in &option_sets {
            // A typed error or a valid square, never a panic.
            match prepare(&bytes, o) {
                Ok(img) => {
                    let dec = avatar_tests::decode(img.bytes());
                    assert_eq!((dec.width, dec.height), (img.side(), img.side()));
                }
                Err(e) => assert!(!e.to_string().is_empty(), "{}", path.display()),
            }
        }
    }
}
