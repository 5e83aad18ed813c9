//! Palettes for resampled GIF frames (issue 13): today's median cut against NeuQuant
//! (`color_quant`) and quantette's Wu and k-means (both in Oklab), for quality and speed.
//!
//! Inputs: every animation of `/tmp/avatar-corpus/gifs` and `/tmp/avatar-corpus/mixed` (or
//! the folders in `AVATAR_PALETTE_DIRS`, `:`-separated) that `prepare` resamples, its first
//! `AVATAR_PALETTE_FRAMES` (default 24) frames resized as `prepare` resizes them, before any
//! palette. Every quantiser gets the same input, the pixels of the first chunk of frames (the
//! frames `prepare` chooses a palette from when it has no hint), and every palette is applied
//! the same way, the writer's (nearest colour through the 15-bit table, no dithering), so
//! only the palette differs.
//!
//! Quality: mean CIE76 ΔE (CIELAB, D65) of every opaque pixel of every frame against the
//! unquantised resampled frame, printed per file and over all files. Also printed: what
//! `prepare` itself maps the frames to, with one palette for every frame (from the source's
//! palettes when it has them: "before") and with palettes switched where a frame's error is
//! large ("after", `REUSE_MAX_ERROR` in `animate/mod.rs`). Speed: criterion, each quantiser
//! on the first animation's chunk. Run with `cargo bench -p avatar-benches --bench
//! gif_palettes`.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;

use avatar_prep::gif_palette_bench::{map_to_palette, resampled_frames};
use avatar_prep::PrepOptions;
use criterion::{criterion_group, criterion_main, Criterion};
use quantette::deps::palette::Srgb;
use quantette::{PaletteSize, Pipeline, QuantizeMethod};

/// A palette maker: opaque pixels (RGBA) in, at most 255 colours out.
type Quantiser = fn(&[u8]) -> Vec<[u8; 3]>;

const QUANTISERS: [(&str, Quantiser); 4] = [
    ("median_cut", median_cut),
    ("neuquant", neuquant),
    ("quantette_wu_oklab", quantette_wu),
    ("quantette_kmeans_oklab", quantette_kmeans),
];

fn median_cut(px: &[u8]) -> Vec<[u8; 3]> {
    avatar_prep::gif_palette_bench::median_cut(px)
}

fn neuquant(px: &[u8]) -> Vec<[u8; 3]> {
    // Sample factor 10: `image`'s default, what `gif::Frame::from_rgba_speed(.., 10)` uses.
    let nq = color_quant::NeuQuant::new(10, 255, px);
    nq.color_map_rgb()
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

fn quantette(px: &[u8], method: QuantizeMethod) -> Vec<[u8; 3]> {
    let colors: Vec<Srgb<u8>> = px
        .chunks_exact(4)
        .map(|p| Srgb::new(p[0], p[1], p[2]))
        .collect();
    let Ok(input) = Pipeline::new()
        .palette_size(PaletteSize::from_u8_clamped(255))
        .quantize_method(method)
        .ditherer(None)
        .parallel(true)
        .input_slice(&colors)
    else {
        return Vec::new();
    };
    input
        .output_srgb8_palette()
        .iter()
        .map(|c| [c.red, c.green, c.blue])
        .collect()
}

fn quantette_wu(px: &[u8]) -> Vec<[u8; 3]> {
    quantette(px, QuantizeMethod::Wu)
}

fn quantette_kmeans(px: &[u8]) -> Vec<[u8; 3]> {
    quantette(px, QuantizeMethod::kmeans())
}

/// sRGB (8 bit) to CIELAB (D65).
fn lab(c: &[u8]) -> [f64; 3] {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(c[0]), lin(c[1]), lin(c[2]));
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Sum of CIE76 ΔE over the pixels opaque in `original`, and their count.
fn delta_e(original: &[u8], mapped: &[u8]) -> (f64, u64) {
    let (mut sum, mut n) = (0.0, 0);
    for (o, m) in original.chunks_exact(4).zip(mapped.chunks_exact(4)) {
        if o[3] >= 128 {
            let (a, b) = (lab(o), lab(m));
            sum += (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt();
            n += 1;
        }
    }
    (sum, n)
}

fn inputs() -> Vec<PathBuf> {
    let dirs = std::env::var("AVATAR_PALETTE_DIRS")
        .unwrap_or_else(|_| "/tmp/avatar-corpus/gifs:/tmp/avatar-corpus/mixed".into());
    let mut files: Vec<PathBuf> = dirs
        .split(':')
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gif"))
        .collect();
    files.sort();
    files
}

fn palettes(c: &mut Criterion) {
    let frames_max: usize = std::env::var("AVATAR_PALETTE_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    // Every frame kept, as the peer bench runs the CLI (`--max-frames 100000`).
    let mut opts = PrepOptions::default();
    opts.max_frames = 100_000;
    // Σ ΔE and pixel count per column: the quantisers, then prepare before / after.
    let mut total = vec![(0.0f64, 0u64); QUANTISERS.len() + 2];
    let mut first_chunk: Option<Vec<u8>> = None;
    eprintln!("mean CIE76 ΔE per file (first {frames_max} frames), palettes before → after:");
    for path in inputs() {
        let bytes = std::fs::read(&path).unwrap();
        let Some(before) = resampled_frames(&bytes, &opts, frames_max, false).unwrap() else {
            continue;
        };
        let after = resampled_frames(&bytes, &opts, frames_max, true)
            .unwrap()
            .unwrap();
        let chunk: Vec<u8> = before
            .frames
            .iter()
            .take(4)
            .flat_map(|f| f.chunks_exact(4).filter(|p| p[3] >= 128))
            .flatten()
            .copied()
            .collect();
        let mut line = format!("{}", path.file_name().unwrap().to_string_lossy());
        let mut column = |k: usize, mapped: &mut dyn FnMut(&[u8]) -> Vec<u8>| {
            let (mut s, mut n) = (0.0, 0);
            for f in &before.frames {
                let (fs, fn_) = delta_e(f, &mapped(f));
                s += fs;
                n += fn_;
            }
            total[k].0 += s;
            total[k].1 += n;
            format!(" {:.3}", s / n.max(1) as f64)
        };
        for (k, (_, q)) in QUANTISERS.iter().enumerate() {
            let pal = q(&chunk);
            line += &column(k, &mut |f| map_to_palette(&pal, f));
        }
        let (mut b, mut a) = (before.mapped.iter(), after.mapped.iter());
        let n = QUANTISERS.len();
        line += &column(n, &mut |_| b.next().cloned().unwrap_or_default());
        line += &column(n + 1, &mut |_| a.next().cloned().unwrap_or_default());
        eprintln!(
            "{line} | side {} frames {} palettes {} → {}",
            before.side,
            before.frames.len(),
            before.palettes,
            after.palettes
        );
        first_chunk.get_or_insert(chunk);
    }
    let names: Vec<&str> = QUANTISERS
        .iter()
        .map(|q| q.0)
        .chain(["prepare_one_palette", "prepare_reused_palettes"])
        .collect();
    for (name, (s, n)) in names.iter().zip(&total) {
        eprintln!("all files: {name}: mean ΔE {:.3}", s / (*n).max(1) as f64);
    }
    let Some(chunk) = first_chunk else {
        return;
    };
    let mut g = c.benchmark_group("gif_palette");
    g.sample_size(10);
    for (name, q) in QUANTISERS {
        g.bench_function(name, |b| b.iter(|| q(black_box(&chunk)).len()));
    }
    g.finish();
}

criterion_group!(benches, palettes);
criterion_main!(benches);
