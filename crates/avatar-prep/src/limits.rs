//! [`Limits`]: the ceilings a hostile file cannot pass. They are checked from the header, before
//! any pixel memory is allocated (see `decode::check_dimensions` and each codec's header step).

/// Ceilings checked from the file header, before any pixel memory is allocated.
///
/// A hostile upload cannot make the library allocate more than these allow. Each ceiling has
/// its own [`PrepError`](crate::PrepError) variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// Largest input file in bytes. Default 50 MiB: a phone photo is 2–12 MiB, and a
    /// larger file is either not a photo or a waste to upload as an avatar.
    pub max_input_bytes: u64,
    /// Largest width in pixels. Default 32 768: wider than any camera, and JPEG's own
    /// ceiling is 65 535.
    pub max_width: u32,
    /// Largest height in pixels. Default 32 768, as for the width.
    pub max_height: u32,
    /// Largest width × height. Default 89 478 485 (≈ 90 MP), Pillow's
    /// `MAX_IMAGE_PIXELS`: above every phone and most cameras.
    pub max_pixels: u64,
    /// Largest buffer the decoder may allocate for the pixels, in bytes. Default 512 MiB,
    /// enough for a 90 MP RGB or a 128 MP grey image at full resolution.
    pub max_decode_bytes: u64,
    /// Largest animation work: frames × logical-screen pixels, checked from a scan of the
    /// GIF's frame headers before any frame is decompressed. Default 1 000 000 000 (e.g. 100
    /// frames of 3162×3162, or 1 000 frames of 1000×1000): every frame is composited at full
    /// size, so this bounds the time, while memory stays at a few frames.
    pub max_animation_pixels: u64,
    /// Most scans a JPEG may have, counted from the markers before any is decoded. Default
    /// 100: a baseline JPEG has 1 (up to 4), libjpeg's progressive script 10, mozjpeg's
    /// optimised ones about 10 to 20; but each scan of a progressive file is a pass over every
    /// block, and a scan can be 10 bytes long, so 10 000 of them in a 100 kB file would keep
    /// a core busy for minutes (libjpeg-turbo's `TJPARAM_SCANLIMIT` guards the same way).
    pub max_jpeg_scans: u32,
}

impl Limits {
    /// The defaults documented on each field.
    pub const DEFAULT: Limits = Limits {
        max_input_bytes: 50 * 1024 * 1024,
        max_width: 32_768,
        max_height: 32_768,
        max_pixels: 89_478_485,
        max_decode_bytes: 512 * 1024 * 1024,
        max_animation_pixels: 1_000_000_000,
        max_jpeg_scans: 100,
    };

    /// No ceilings at all: only for trusted input.
    pub const fn none() -> Limits {
        Limits {
            max_input_bytes: u64::MAX,
            max_width: u32::MAX,
            max_height: u32::MAX,
            max_pixels: u64::MAX,
            max_decode_bytes: u64::MAX,
            max_animation_pixels: u64::MAX,
            max_jpeg_scans: u32::MAX,
        }
    }

    /// Sets [`Limits::max_input_bytes`].
    pub const fn max_input_bytes(mut self, bytes: u64) -> Limits {
        self.max_input_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_width`] and [`Limits::max_height`].
    pub const fn max_dimensions(mut self, width: u32, height: u32) -> Limits {
        self.max_width = width;
        self.max_height = height;
        self
    }

    /// Sets [`Limits::max_pixels`].
    pub const fn max_pixels(mut self, pixels: u64) -> Limits {
        self.max_pixels = pixels;
        self
    }

    /// Sets [`Limits::max_animation_pixels`].
    pub const fn max_animation_pixels(mut self, pixels: u64) -> Limits {
        self.max_animation_pixels = pixels;
        self
    }

    /// Sets [`Limits::max_jpeg_scans`].
    pub const fn max_jpeg_scans(mut self, scans: u32) -> Limits {
        self.max_jpeg_scans = scans;
        self
    }

    /// Sets [`Limits::max_decode_bytes`].
    pub const fn max_decode_bytes(mut self, bytes: u64) -> Limits {
        self.max_decode_bytes = bytes;
        self
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
