//! The only place that knows fast_image_resize: crop and scale in one Lanczos3 pass,
//! with premultiplied alpha.

use fast_image_resize as fir;

use crate::error::PrepError;
use crate::geometry::Rect;
use crate::pixels::{Decoded, Layout};

/// A reusable resampler: owns fast_image_resize's scratch buffers, so one per thread
/// saves the allocations of every image after the first.
#[derive(Default)]
pub(crate) struct Resampler {
    inner: fir::Resizer,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler").finish_non_exhaustive()
    }
}

fn pixel_type(layout: Layout) -> fir::PixelType {
    match layout {
        Layout::L8 => fir::PixelType::U8,
        Layout::La8 => fir::PixelType::U8x2,
        Layout::Rgb8 => fir::PixelType::U8x3,
        Layout::Rgba8 => fir::PixelType::U8x4,
    }
}

impl Resampler {
    /// Scales the `src` region of `image` to `width` × `height` with Lanczos3. Alpha is
    /// premultiplied during the convolution so that transparent pixels do not bleed colour.
    /// The result has the same layout as the input.
    pub(crate) fn resize(
        &mut self,
        image: &Decoded,
        src: Rect,
        width: u32,
        height: u32,
    ) -> Result<Vec<u8>, PrepError> {
        let mut out = Vec::new();
        self.resize_into(image, src, width, height, &mut out)?;
        Ok(out)
    }

    /// [`Resampler::resize`] into `out` (cleared first), so that a worker can reuse one
    /// output buffer from image to image.
    pub(crate) fn resize_into(
        &mut self,
        image: &Decoded,
        src: Rect,
        width: u32,
        height: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), PrepError> {
        let bpp = image.layout.bpp();
        out.clear();
        if src == Rect::new(0, 0, image.width, image.height)
            && (width, height) == (image.width, image.height)
        {
            out.extend_from_slice(&image.pixels);
            return Ok(());
        }
        let pt = pixel_type(image.layout);
        let full = fir::images::ImageRef::new(image.width, image.height, &image.pixels, pt)
            .map_err(|e| PrepError::internal_by("resize source", e))?;
        // A cropped *view*, not the `crop` option: the filter then sees the region's edges as
        // the image's edges, so no pixel from outside the crop box bleeds in.
        let region = fir::images::CroppedImage::new(&full, src.x, src.y, src.w, src.h)
            .map_err(|e| PrepError::internal_by("resize region", e))?;
        // Every byte is written by the resizer; the zeroing only reaches memory the buffer
        // did not already have.
        out.resize(width as usize * height as usize * bpp, 0);
        let mut dst = fir::images::Image::from_slice_u8(width, height, out.as_mut_slice(), pt)
            .map_err(|e| PrepError::internal_by("resize destination", e))?;
        let options = fir::ResizeOptions::new()
            .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3))
            .use_alpha(image.layout.has_alpha());
        self.inner
            .resize(&region, &mut dst, &options)
            .map_err(|e| PrepError::internal_by("resize", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_then_scale_keeps_the_region() {
        // Left half red, right half blue; crop the right half and halve it: all blue, with
        // no red bleeding in across the crop edge.
        let (w, h) = (64u32, 32u32);
        let mut pixels = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(if x < 32 { &[255, 0, 0] } else { &[0, 0, 255] });
            }
        }
        let img = Decoded {
            width: w,
            height: h,
            layout: Layout::Rgb8,
            pixels,
            recovery: Vec::new(),
        };
        let out = Resampler::default()
            .resize(&img, Rect::new(32, 0, 32, 32), 16, 16)
            .unwrap();
        assert_eq!(out.len(), 16 * 16 * 3);
        assert!(
            out.chunks_exact(3).all(|p| p == [0, 0, 255]),
            "{:?}",
            &out[..12]
        );
    }

    #[test]
    fn transparent_pixels_do_not_bleed() {
        // Opaque green next to fully transparent *red*: premultiplied resampling keeps the
        // visible edge green instead of mixing in the invisible red.
        let (w, h) = (40u32, 8u32);
        let mut pixels = Vec::new();
        for _ in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(if x < 20 {
                    &[0, 255, 0, 255]
                } else {
                    &[255, 0, 0, 0]
                });
            }
        }
        let img = Decoded {
            width: w,
            height: h,
            layout: Layout::Rgba8,
            pixels,
            recovery: Vec::new(),
        };
        let out = Resampler::default()
            .resize(&img, Rect::new(0, 0, w, h), 10, 2)
            .unwrap();
        for px in out.chunks_exact(4) {
            if px[3] > 16 {
                assert!(px[0] < 24, "red bled into a visible pixel: {px:?}");
            }
        }
    }
}
