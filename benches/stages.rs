//! The stages of the still pipeline, each measured on the library avatar-prep calls for it,
//! with the settings it uses, on a 12 MP photo-like JPEG and a 3 MP RGBA PNG (built once,
//! outside the timed loops). `prepare/jpeg_12mp_letterbox` in `prepare.rs` is the same job
//! end to end, so the two benches together tell how close the whole is to its decode.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use avatar_tests::{corpus_like_photo, jpeg, photo, png_rgba, JpegFixture};
use criterion::{criterion_group, criterion_main, Criterion};
use fast_image_resize as fr;

fn decode_jpeg(bytes: &[u8], scale: Option<(u16, u16)>) -> Vec<u8> {
    let mut dec = jpeg_decoder::Decoder::new(bytes);
    if let Some((w, h)) = scale {
        dec.scale(w, h).unwrap();
    }
    dec.decode().unwrap()
}

/// A photo's 1024² output square as RGB: `corpus` through `prepare` (letterbox, as PNG so
/// that no JPEG encode is in it), or the corpus-like synthetic photo when there is none.
fn photo_square(corpus: Option<&[u8]>) -> Vec<u8> {
    let Some(bytes) = corpus else {
        return corpus_like_photo(1024, 1024, 3).rgb();
    };
    let opts = avatar_prep::PrepOptions::default()
        .format(avatar_prep::OutputFormat::Png)
        .fit(avatar_prep::Fit::Letterbox {
            background: Some(avatar_prep::Rgba::WHITE),
        });
    let png = avatar_prep::prepare(bytes, &opts).unwrap();
    let dec = png::Decoder::new(std::io::Cursor::new(png.bytes()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    assert_eq!((info.width, info.height), (1024, 1024));
    match info.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => buf
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        other => panic!("{other:?}"),
    }
}

fn stages(c: &mut Criterion) {
    let (w, h) = (4032u32, 3024u32);
    let photo_12mp = jpeg(
        &photo(w, h, 1),
        &JpegFixture {
            quality: Some(90),
            ..Default::default()
        },
    );
    let png_3mp = png_rgba(&photo(2000, 1500, 2), None);
    let half = decode_jpeg(&photo_12mp, Some((2016, 1512)));
    let square: Vec<u8> = photo(1024, 1024, 3).rgba;
    let square_rgb: Vec<u8> = square
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();

    let mut g = c.benchmark_group("stage");
    g.sample_size(20);
    g.bench_function("jpeg_12mp_header", |b| {
        b.iter(|| {
            let mut dec = jpeg_decoder::Decoder::new(black_box(&photo_12mp[..]));
            dec.read_info().unwrap();
            dec.info().map(|i| i.width)
        })
    });
    g.bench_function("jpeg_12mp_decode_full", |b| {
        b.iter(|| decode_jpeg(black_box(&photo_12mp), None).len())
    });
    g.bench_function("jpeg_12mp_decode_half", |b| {
        b.iter(|| decode_jpeg(black_box(&photo_12mp), Some((2016, 1512))).len())
    });
    g.bench_function("jpeg_12mp_decode_eighth", |b| {
        b.iter(|| decode_jpeg(black_box(&photo_12mp), Some((504, 378))).len())
    });
    // The JPEG decoder `prepare` uses (libjpeg-turbo; header and limits included) at each
    // scale, on the synthetic 12 MP photo and, when the bench corpus is there, a real-size
    // corpus photo (`/tmp/avatar-corpus/photos`, see ../shared/bench; or AVATAR_BENCH_PHOTO).
    let limits = avatar_prep::Limits::DEFAULT;
    let corpus = avatar_benches::corpus_photo();
    for (name, bytes) in [("jpeg_12mp", Some(&photo_12mp)), ("photo", corpus.as_ref())] {
        let Some(bytes) = bytes else { continue };
        for (scale, shrink) in [("full", 1), ("half", 2), ("quarter", 4), ("eighth", 8)] {
            g.bench_function(format!("{name}_libjpeg_{scale}"), |b| {
                b.iter(|| avatar_prep::decode_for_bench(black_box(bytes), shrink, &limits).unwrap())
            });
        }
    }
    g.bench_function("png_3mp_rgba_decode", |b| {
        b.iter(|| {
            let dec = png::Decoder::new(std::io::Cursor::new(black_box(&png_3mp[..])));
            let mut reader = dec.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            reader.next_frame(&mut buf).unwrap();
            buf.len()
        })
    });
    // Lanczos3 from the half-scale decode (2016x1512 RGB) to the letterbox content.
    let src = fr::images::ImageRef::new(2016, 1512, &half, fr::PixelType::U8x3).unwrap();
    let mut resizer = fr::Resizer::new();
    let mut dst = fr::images::Image::new(1024, 768, fr::PixelType::U8x3);
    let lanczos =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    g.bench_function("resize_2016x1512_to_1024x768_lanczos3", |b| {
        b.iter(|| {
            resizer.resize(black_box(&src), &mut dst, &lanczos).unwrap();
            dst.buffer()[0]
        })
    });
    g.bench_function("encode_jpeg_1024_q90_420_optimised", |b| {
        b.iter(|| {
            avatar_prep::encode_jpeg_for_bench(black_box(&square_rgb), 1024, 90)
                .unwrap()
                .len()
        })
    });
    // The encoder on what it really gets: a photo's 1024² output square (the corpus photo
    // through `prepare` as PNG, else the corpus-like synthetic one). `q90` is what `prepare`
    // does (libjpeg-turbo, optimised Huffman tables, averaged 4:2:0 chroma); `jpeg_encoder`
    // is the encoder it replaced (jpeg-encoder, optimised tables, nearest-sample chroma),
    // kept here as the reference measured in the same run.
    let photo_square = photo_square(corpus.as_deref());
    let ours = |rgb: &[u8]| {
        avatar_prep::encode_jpeg_for_bench(rgb, 1024, 90)
            .unwrap()
            .len()
    };
    let jpeg_encoder = |rgb: &[u8]| {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        enc.set_optimized_huffman_tables(true);
        enc.encode(rgb, 1024, 1024, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out.len()
    };
    type Encode<'a> = &'a dyn Fn(&[u8]) -> usize;
    let variants: [(&str, Encode); 2] = [("q90", &ours), ("q90_jpeg_encoder", &jpeg_encoder)];
    for (name, encode) in variants {
        eprintln!(
            "encode_jpeg_1024_photo_{name}: {} bytes",
            encode(&photo_square)
        );
        g.bench_function(format!("encode_jpeg_1024_photo_{name}"), |b| {
            b.iter(|| encode(black_box(&photo_square)))
        });
    }
    g.bench_function("encode_png_1024_rgba_fast", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            {
                let mut enc = png::Encoder::new(&mut out, 1024, 1024);
                enc.set_color(png::ColorType::Rgba);
                enc.set_depth(png::BitDepth::Eight);
                enc.set_compression(png::Compression::Fast);
                let mut w = enc.write_header().unwrap();
                w.write_image_data(black_box(&square)).unwrap();
            }
            out.len()
        })
    });
    // One 600x600 indexed GIF frame (a 256-colour ramp over the photo), LZW-compressed.
    let indexed: Vec<u8> = photo(600, 600, 4)
        .rgba
        .chunks_exact(4)
        .map(|p| p[0] / 2 + p[1] / 4 + p[2] / 4)
        .collect();
    g.bench_function("encode_gif_frame_600_lzw", |b| {
        b.iter(|| {
            let mut frame = gif::Frame {
                width: 600,
                height: 600,
                buffer: std::borrow::Cow::Borrowed(black_box(&indexed[..])),
                ..Default::default()
            };
            frame.make_lzw_pre_encoded();
            frame.buffer.len()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
