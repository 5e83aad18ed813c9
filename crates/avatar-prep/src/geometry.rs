//! Pure integer geometry: which part of the upright image goes where in the output square.
//!
//! Nothing here touches pixels. [`plan`] turns the upright size and the [`Fit`] into a
//! [`Plan`]: the source rectangle, the output side and the destination rectangle.

use crate::error::PrepError;
use crate::options::{CropBox, Fit, SmallInput};

/// A rectangle in pixels: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Rect {
    /// A rectangle from its left, top, width and height.
    pub const fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }

    /// True when the rectangle lies inside a `width` × `height` image.
    pub fn fits_in(&self, width: u32, height: u32) -> bool {
        u64::from(self.x) + u64::from(self.w) <= u64::from(width)
            && u64::from(self.y) + u64::from(self.h) <= u64::from(height)
    }
}

/// Where the pixels go: take `src` of the upright image, scale it to `dst` inside a
/// `side` × `side` square; the rest of the square is background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Plan {
    /// The region of the upright image that is kept.
    pub(crate) src: Rect,
    /// Side of the output square.
    pub(crate) side: u32,
    /// Where the kept region lands in the output square (the whole square unless letterboxed).
    pub(crate) dst: Rect,
}

impl Plan {
    /// True when the output has background bars.
    #[cfg(test)]
    pub(crate) fn is_letterboxed(&self) -> bool {
        self.dst.w != self.side || self.dst.h != self.side
    }

    /// Output side / source square side: below 1 for a downscale.
    pub(crate) fn scale(&self) -> f64 {
        f64::from(self.side) / f64::from(self.src.w.max(self.src.h).max(1))
    }
}

/// Clamp the side of the square to `[min_side, max_side]`, honouring the small-input policy.
fn output_side(
    square: u32,
    min_side: u32,
    max_side: u32,
    small: SmallInput,
) -> Result<u32, PrepError> {
    if square < min_side && small == SmallInput::Reject {
        return Err(PrepError::TooSmall {
            side: square,
            min: min_side,
        });
    }
    Ok(square.clamp(min_side, max_side))
}

/// `round(a * b / c)` in integers, for `c > 0`.
fn mul_div_round(a: u32, b: u32, c: u32) -> u32 {
    let (a, b, c) = (u64::from(a), u64::from(b), u64::from(c));
    // The result is at most max(a, b) because the callers pass a <= c or b <= c.
    u32::try_from((a * b + c / 2) / c).unwrap_or(u32::MAX)
}

/// Computes the [`Plan`] for an upright image of `width` × `height`.
///
/// `min_side` must not exceed `max_side` and both must be positive (the caller checks).
pub(crate) fn plan(
    width: u32,
    height: u32,
    fit: &Fit,
    min_side: u32,
    max_side: u32,
    small: SmallInput,
) -> Result<Plan, PrepError> {
    match *fit {
        Fit::Letterbox { .. } => {
            let square = width.max(height);
            let side = output_side(square, min_side, max_side, small)?;
            // Scale the long edge to `side`, the short edge in proportion (at least 1 px).
            let w = mul_div_round(width, side, square).max(1);
            let h = mul_div_round(height, side, square).max(1);
            let dst = Rect::new((side - w) / 2, (side - h) / 2, w, h);
            Ok(Plan {
                src: Rect::new(0, 0, width, height),
                side,
                dst,
            })
        }
        Fit::CenterCrop => {
            let s = width.min(height);
            let side = output_side(s, min_side, max_side, small)?;
            Ok(Plan {
                src: Rect::new((width - s) / 2, (height - s) / 2, s, s),
                side,
                dst: Rect::new(0, 0, side, side),
            })
        }
        Fit::Crop(crop) => {
            let CropBox { x, y, side: s } = crop;
            let src = Rect::new(x, y, s, s);
            if s == 0 || !src.fits_in(width, height) {
                return Err(PrepError::InvalidCrop {
                    crop,
                    width,
                    height,
                });
            }
            let side = output_side(s, min_side, max_side, small)?;
            Ok(Plan {
                src,
                side,
                dst: Rect::new(0, 0, side, side),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use proptest::prelude::*;

    const LB: Fit = Fit::Letterbox { background: None };

    #[test]
    fn landscape_letterbox_is_centred() {
        let p = plan(4000, 3000, &LB, 512, 1024, SmallInput::Upscale).unwrap();
        assert_eq!(p.side, 1024);
        assert_eq!(p.src, Rect::new(0, 0, 4000, 3000));
        assert_eq!(p.dst, Rect::new(0, 128, 1024, 768));
        assert!(p.is_letterboxed());
    }

    #[test]
    fn small_image_is_upscaled_or_rejected() {
        let p = plan(300, 200, &LB, 512, 1024, SmallInput::Upscale).unwrap();
        assert_eq!(p.side, 512);
        assert_eq!(p.dst, Rect::new(0, 85, 512, 341));
        let e = plan(300, 200, &LB, 512, 1024, SmallInput::Reject).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooSmall);
    }

    #[test]
    fn centre_crop_takes_middle_square() {
        let p = plan(1000, 600, &Fit::CenterCrop, 512, 1024, SmallInput::Upscale).unwrap();
        assert_eq!(p.src, Rect::new(200, 0, 600, 600));
        assert_eq!(p.side, 600);
        assert!(!p.is_letterboxed());
    }

    #[test]
    fn crop_box_outside_or_empty_is_rejected() {
        for crop in [
            CropBox::new(0, 0, 0),
            CropBox::new(500, 0, 600),
            CropBox::new(0, 1, 600),
        ] {
            let e = plan(1000, 600, &Fit::Crop(crop), 512, 1024, SmallInput::Upscale).unwrap_err();
            assert!(
                matches!(
                    e,
                    PrepError::InvalidCrop {
                        width: 1000,
                        height: 600,
                        ..
                    }
                ),
                "{e}"
            );
        }
        let p = plan(
            1000,
            600,
            &Fit::Crop(CropBox::new(400, 0, 600)),
            512,
            1024,
            SmallInput::Upscale,
        )
        .unwrap();
        assert_eq!(p.src, Rect::new(400, 0, 600, 600));
    }

    proptest! {
        #[test]
        fn letterbox_fits_and_is_centred(w in 1u32..40_000, h in 1u32..40_000, min in 1u32..2000, extra in 0u32..2000) {
            let max = min + extra;
            let p = plan(w, h, &LB, min, max, SmallInput::Upscale).unwrap();
            prop_assert!(p.side >= min && p.side <= max);
            prop_assert!(p.dst.fits_in(p.side, p.side));
            // The long edge fills the square, the bars differ by at most one pixel.
            prop_assert_eq!(p.dst.w.max(p.dst.h), p.side);
            let left = p.dst.x;
            let right = p.side - p.dst.x - p.dst.w;
            let top = p.dst.y;
            let bottom = p.side - p.dst.y - p.dst.h;
            prop_assert!(right.abs_diff(left) <= 1 && bottom.abs_diff(top) <= 1);
            // Aspect ratio kept to within one pixel of rounding.
            let exact = f64::from(w.min(h)) * f64::from(p.side) / f64::from(w.max(h));
            prop_assert!((f64::from(p.dst.w.min(p.dst.h)) - exact).abs() <= 1.0);
        }

        #[test]
        fn crop_plans_stay_inside(w in 1u32..5000, h in 1u32..5000, x in 0u32..6000, y in 0u32..6000, s in 0u32..6000) {
            let fit = Fit::Crop(CropBox::new(x, y, s));
            match plan(w, h, &fit, 512, 1024, SmallInput::Upscale) {
                Ok(p) => {
                    prop_assert!(s > 0 && p.src.fits_in(w, h));
                    prop_assert_eq!(p.dst, Rect::new(0, 0, p.side, p.side));
                }
                Err(e) => {
                    prop_assert_eq!(e.kind(), ErrorKind::InvalidCrop);
                    prop_assert!(s == 0 || u64::from(x) + u64::from(s) > u64::from(w) || u64::from(y) + u64::from(s) > u64::from(h));
                }
            }
        }

        #[test]
        fn centre_crop_is_centred_square(w in 1u32..40_000, h in 1u32..40_000) {
            let p = plan(w, h, &Fit::CenterCrop, 512, 1024, SmallInput::Upscale).unwrap();
            prop_assert_eq!(p.src.w, p.src.h);
            prop_assert_eq!(p.src.w, w.min(h));
            prop_assert!(p.src.fits_in(w, h));
            prop_assert!((w - p.src.w - 2 * p.src.x) <= 1 && (h - p.src.h - 2 * p.src.y) <= 1);
        }
    }
}
