//! Colour: from the decoded layout to 8-bit sRGB RGBA, converting embedded ICC profiles;
//! and painting the result onto the background of the square.
//!
//! Everything here runs on the small resized image (at most 1024² pixels), never on the
//! full-resolution source.

use std::sync::Arc;

use moxcms::{ColorProfile, DataColorSpace, ProfileText, TransformOptions};

use crate::decode::Layout;
use crate::error::PrepError;
use crate::geometry::Rect;
use crate::options::Rgba;

/// A prepared ICC → sRGB conversion for one source layout.
pub(crate) struct IccTransform {
    exec: Arc<moxcms::Transform8BitExecutor>,
    src_layout: moxcms::Layout,
}

fn profile_text(t: &ProfileText) -> String {
    match t {
        ProfileText::PlainString(s) => s.clone(),
        ProfileText::Localizable(v) => v.iter().map(|l| l.value.as_str()).collect(),
        ProfileText::Description(d) => d.ascii_string.clone(),
    }
}

/// Decides what to do with an embedded profile for pixels in `layout`.
///
/// - No profile, an unreadable one, or one that says sRGB → `None` (the pixels are sRGB;
///   an unreadable profile is ignored as every browser ignores it, so the avatar looks as
///   the user saw the photo).
/// - An RGB profile on RGB pixels or a grey profile on grey pixels → a conversion to sRGB.
/// - A profile for another colour space than the pixels' (a CMYK profile on a CMYK JPEG
///   that the decoder already turned into RGB with the Adobe formula, or a damaged file) →
///   `None`.
/// - A readable profile that cannot be converted → [`PrepError::ColorProfile`]: better no
///   avatar than one in silently wrong colours.
pub(crate) fn icc_transform(icc: &[u8], layout: Layout) -> Result<Option<IccTransform>, PrepError> {
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return Ok(None);
    };
    let description = profile
        .description
        .as_ref()
        .map(profile_text)
        .unwrap_or_default();
    if description.contains("sRGB") {
        return Ok(None);
    }
    let src_layout = match (profile.color_space, layout) {
        (DataColorSpace::Rgb, Layout::Rgb8) => moxcms::Layout::Rgb,
        (DataColorSpace::Rgb, Layout::Rgba8) => moxcms::Layout::Rgba,
        (DataColorSpace::Gray, Layout::L8) => moxcms::Layout::Gray,
        (DataColorSpace::Gray, Layout::La8) => moxcms::Layout::GrayAlpha,
        _ => return Ok(None),
    };
    let srgb = ColorProfile::new_srgb();
    let exec = profile
        .create_transform_8bit(
            src_layout,
            &srgb,
            moxcms::Layout::Rgba,
            TransformOptions::default(),
        )
        .map_err(|e| PrepError::ColorProfile {
            detail: format!("cannot convert the {description:?} profile to sRGB: {e}"),
        })?;
    Ok(Some(IccTransform { exec, src_layout }))
}

/// Expands `pixels` (`layout`) to RGBA, through the ICC conversion when there is one.
pub(crate) fn to_rgba(
    pixels: &[u8],
    layout: Layout,
    icc: Option<&IccTransform>,
) -> Result<Vec<u8>, PrepError> {
    let n = pixels.len() / layout.bpp();
    let mut out = vec![0u8; n * 4];
    if let Some(t) = icc {
        t.exec
            .transform(pixels, &mut out)
            .map_err(|e| PrepError::ColorProfile {
                detail: format!("conversion to sRGB failed: {e}"),
            })?;
        // moxcms carries alpha over for layouts that have it; make sure opaque layouts
        // come out opaque.
        if !matches!(
            t.src_layout,
            moxcms::Layout::Rgba | moxcms::Layout::GrayAlpha
        ) {
            out.chunks_exact_mut(4).for_each(|p| p[3] = 255);
        }
        return Ok(out);
    }
    match layout {
        Layout::L8 => {
            for (o, &g) in out.chunks_exact_mut(4).zip(pixels) {
                o.copy_from_slice(&[g, g, g, 255]);
            }
        }
        Layout::La8 => {
            for (o, p) in out.chunks_exact_mut(4).zip(pixels.chunks_exact(2)) {
                o.copy_from_slice(&[p[0], p[0], p[0], p[1]]);
            }
        }
        Layout::Rgb8 => {
            for (o, p) in out.chunks_exact_mut(4).zip(pixels.chunks_exact(3)) {
                o.copy_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        Layout::Rgba8 => out.copy_from_slice(pixels),
    }
    Ok(out)
}

/// `a * b / 255`, rounded.
fn mul255(a: u32, b: u32) -> u32 {
    let t = a * b + 128;
    (t + (t >> 8)) >> 8
}

/// Porter–Duff "source over" of one straight-alpha pixel onto another.
pub(crate) fn over(src: [u8; 4], dst: [u8; 4]) -> [u8; 4] {
    let sa = u32::from(src[3]);
    if sa == 255 {
        return src;
    }
    if sa == 0 {
        return dst;
    }
    let da = mul255(u32::from(dst[3]), 255 - sa);
    let oa = sa + da;
    let mut out = [0u8; 4];
    for c in 0..3 {
        let v = (u32::from(src[c]) * sa + u32::from(dst[c]) * da + oa / 2) / oa;
        out[c] = v.min(255) as u8;
    }
    out[3] = oa.min(255) as u8;
    out
}

/// A `side` × `side` RGBA square filled with `background`, with `content`
/// (`dst.w` × `dst.h` RGBA) painted over it at `dst`.
pub(crate) fn compose(side: u32, background: Rgba, content: &[u8], dst: Rect) -> Vec<u8> {
    let bg = background.to_array();
    let s = side as usize;
    let mut canvas = bg.repeat(s * s);
    let row = dst.w as usize * 4;
    for (y, src_row) in content.chunks_exact(row).enumerate() {
        let start = ((dst.y as usize + y) * s + dst.x as usize) * 4;
        let dst_row = &mut canvas[start..start + row];
        // Over a transparent background, or where the row is opaque, the content is the
        // result.
        if bg[3] == 0 || src_row.chunks_exact(4).all(|p| p[3] == 255) {
            dst_row.copy_from_slice(src_row);
        } else {
            for (d, p) in dst_row.chunks_exact_mut(4).zip(src_row.chunks_exact(4)) {
                d.copy_from_slice(&over([p[0], p[1], p[2], p[3]], bg));
            }
        }
    }
    canvas
}

/// Paints every pixel of `rgba` over opaque `matte` (for output without alpha).
pub(crate) fn flatten(rgba: &mut [u8], matte: Rgba) {
    let m = Rgba { a: 255, ..matte }.to_array();
    for p in rgba.chunks_exact_mut(4) {
        if p[3] != 255 {
            let o = over([p[0], p[1], p[2], p[3]], m);
            p.copy_from_slice(&o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_is_porter_duff() {
        assert_eq!(over([10, 20, 30, 255], [0, 0, 0, 255]), [10, 20, 30, 255]);
        assert_eq!(over([10, 20, 30, 0], [1, 2, 3, 255]), [1, 2, 3, 255]);
        // Half-transparent red over opaque white: pink, opaque.
        let o = over([255, 0, 0, 128], [255, 255, 255, 255]);
        assert_eq!(o[3], 255);
        assert_eq!(o[0], 255);
        assert!((126..=128).contains(&o[1]), "{o:?}");
    }

    #[test]
    fn compose_places_content_on_background() {
        let content = [1, 2, 3, 255].repeat(2);
        let c = compose(4, Rgba::new(9, 9, 9, 255), &content, Rect::new(1, 2, 2, 1));
        let px = |x: usize, y: usize| &c[(y * 4 + x) * 4..(y * 4 + x) * 4 + 4];
        assert_eq!(px(0, 0), [9, 9, 9, 255]);
        assert_eq!(px(1, 2), [1, 2, 3, 255]);
        assert_eq!(px(2, 2), [1, 2, 3, 255]);
        assert_eq!(px(3, 2), [9, 9, 9, 255]);
    }

    #[test]
    fn grey_expands_without_profile() {
        let out = to_rgba(&[7, 200, 8, 9], Layout::La8, None).unwrap();
        assert_eq!(out, vec![7, 7, 7, 200, 8, 8, 8, 9]);
    }
}
