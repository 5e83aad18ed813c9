//! What the HEIC and AVIF tests share: the fixture folders with their `manifest.tsv` and
//! reference renderings, the comparison of every fixture against its reference, and the
//! check that a hostile file is refused before any pixel memory is taken.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use avatar_prep::{prepare, ErrorKind, ImageFormat, OutputFormat, PrepOptions, PreparedImage};
use avatar_tests::{decode, premultiplied_mean_diff, Pixels};

use crate::alloc::largest_allocation_during;

/// A folder of `tests/fixtures` with a `manifest.tsv`.
#[derive(Clone, Copy)]
pub(crate) struct Fixtures(pub(crate) &'static str);

/// One row of `manifest.tsv`: file, stored size, orientation, alpha, icc, reference (then
/// notes, not read).
pub(crate) struct Row {
    pub(crate) file: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) orientation: u16,
    pub(crate) alpha: bool,
    pub(crate) icc: bool,
    pub(crate) reference: String,
}

impl Fixtures {
    fn dir(self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(self.0)
    }

    pub(crate) fn read(self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    pub(crate) fn manifest(self) -> Vec<Row> {
        let text = std::fs::read_to_string(self.dir().join("manifest.tsv")).unwrap();
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                Row {
                    file: c[0].into(),
                    width: c[1].parse().unwrap(),
                    height: c[2].parse().unwrap(),
                    orientation: c[3].parse().unwrap(),
                    alpha: c[4] == "yes",
                    icc: c[5] == "yes",
                    reference: c[6].into(),
                }
            })
            .collect()
    }

    /// The prepared PNG of the fixture `name`, decoded.
    pub(crate) fn prepared_png(self, name: &str) -> (PreparedImage, Pixels) {
        prepared_png(name, &self.read(name))
    }

    /// Every row of the manifest (at least `min_rows`) through the pipeline to PNG: the
    /// source is reported as `format` with the stored size, orientation and profile of the
    /// manifest, alpha survives where the row has it, and the output differs from the
    /// reference rendering's output by at most 2.0 on average (2.5 for ICC files: lcms and
    /// moxcms convert a little differently). Returns "file: difference" for each row.
    pub(crate) fn check_against_references(
        self,
        format: ImageFormat,
        min_rows: usize,
    ) -> Vec<String> {
        let rows = self.manifest();
        assert!(rows.len() >= min_rows, "{} rows", rows.len());
        let mut report = Vec::new();
        for row in &rows {
            let (out, got) = self.prepared_png(&row.file);
            let (_, want) = self.prepared_png(&row.reference);
            let src = out.source();
            let file = &row.file;
            assert_eq!(src.format, format, "{file}");
            assert_eq!((src.width, src.height), (row.width, row.height), "{file}");
            assert_eq!(src.orientation.exif_value(), row.orientation, "{file}");
            assert_eq!(src.has_icc_profile, row.icc, "{file}");
            assert_eq!(out.icc_converted(), row.icc, "{file}");
            if row.alpha {
                assert!(got.rgba.chunks_exact(4).any(|p| p[3] < 128), "{file}");
            }
            let d = premultiplied_mean_diff(&got, &want);
            report.push(format!("{file}: {d:.2}"));
            let tolerance = if row.icc { 2.5 } else { 2.0 };
            assert!(
                d <= tolerance,
                "{file} differs from its reference by {d:.2} (tolerance {tolerance})"
            );
        }
        report
    }
}

/// The prepared PNG of `bytes`, decoded.
pub(crate) fn prepared_png(name: &str, bytes: &[u8]) -> (PreparedImage, Pixels) {
    let opts = PrepOptions::default().format(OutputFormat::Png);
    let out = prepare(bytes, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let px = decode(out.bytes());
    (out, px)
}

/// Prepares `bytes` under the counting allocator and returns the error kind, after checking
/// that it was refused with less than 4 MiB allocated, in under a second, and not as an
/// internal error.
pub(crate) fn refused(what: &str, bytes: &[u8]) -> ErrorKind {
    let t = Instant::now();
    let (result, largest) =
        largest_allocation_during(|| prepare(bytes, &PrepOptions::default()).map(|_| ()));
    let took = t.elapsed();
    let err = result.expect_err(what);
    assert!(
        largest < 4 << 20,
        "{what}: allocated {largest} bytes before refusing ({err})"
    );
    assert!(took < Duration::from_secs(1), "{what}: took {took:?}");
    assert_ne!(err.kind(), ErrorKind::Internal, "{what}: {err}");
    err.kind()
}
