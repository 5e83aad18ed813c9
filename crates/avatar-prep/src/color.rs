//! Colour: from the decoded layout to 8-bit sRGB RGBA, converting embedded ICC profiles.
//!
//! Everything here runs on the small resized image (at most 1024² pixels), never on the
//! full-resolution source.

use std::sync::Arc;

use moxcms::{ColorProfile, DataColorSpace, ProfileText, TransformOptions};

use crate::error::PrepError;
use crate::pixels::Layout;

/// A prepared ICC → sRGB conversion for one source layout.
pub(crate) struct IccTransform {
    exec: Arc<moxcms::Transform8BitExecutor>,
    src_layout: moxcms::Layout,
    dst_layout: moxcms::Layout,
}

fn profile_text(t: &ProfileText) -> String {
    match t {
        ProfileText::PlainString(s) => s.clone(),
        ProfileText::Localizable(v) => v.iter().map(|l| l.value.as_str()).collect(),
        ProfileText::Description(d) => d.ascii_string.clone(),
    }
}

/// Whether `icc` is a readable profile that says it is sRGB (what [`icc_transform`] leaves
/// alone).
pub(crate) fn is_srgb(icc: &[u8]) -> bool {
    ColorProfile::new_from_slice(icc)
        .ok()
        .and_then(|p| p.description.as_ref().map(profile_text))
        .is_some_and(|d| d.contains("sRGB"))
}

/// Decides what to do with an embedded profile for pixels in `layout`.
///
/// - No profile, an unreadable one, or one that says sRGB → `None` (the pixels are sRGB;
///   an unreadable profile is ignored as every browser ignores it, so the avatar looks as
///   the user saw the photo).
/// - An RGB profile on RGB pixels or a grey profile on grey pixels → a conversion to sRGB.
/// - A profile for another colour space than the pixels' (a CMYK profile on a CMYK JPEG
///   that the decoder already turned into RGB with the simple formula, or a damaged file) →
///   `None`.
/// - A readable profile that cannot be converted → [`PrepError::ColorProfile`]: better no
///   avatar than one in silently wrong colours.
pub(crate) fn icc_transform(icc: &[u8], layout: Layout) -> Result<Option<IccTransform>, PrepError> {
    icc_transform_to(icc, layout, moxcms::Layout::Rgba)
}

/// [`icc_transform`] for [`to_rgb`]: the same decision, with RGB output.
pub(crate) fn icc_transform_rgb(
    icc: &[u8],
    layout: Layout,
) -> Result<Option<IccTransform>, PrepError> {
    icc_transform_to(icc, layout, moxcms::Layout::Rgb)
}

fn icc_transform_to(
    icc: &[u8],
    layout: Layout,
    dst_layout: moxcms::Layout,
) -> Result<Option<IccTransform>, PrepError> {
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
        .create_transform_8bit(src_layout, &srgb, dst_layout, TransformOptions::default())
        .map_err(|e| PrepError::ColorProfile {
            detail: format!("cannot convert the {description:?} profile to sRGB"),
            source: Some(Box::new(e)),
        })?;
    Ok(Some(IccTransform {
        exec,
        src_layout,
        dst_layout,
    }))
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
                detail: "conversion to sRGB failed".into(),
                source: Some(Box::new(e)),
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

/// Opaque `pixels` (`layout` [`Layout::L8`] or [`Layout::Rgb8`]) as RGB in `out` (cleared
/// first), through the ICC conversion when there is one ([`icc_transform_rgb`]). `false`
/// when there was nothing to do (RGB pixels without a conversion already are the result),
/// `true` when `out` holds it.
pub(crate) fn to_rgb(
    pixels: &[u8],
    layout: Layout,
    icc: Option<&IccTransform>,
    out: &mut Vec<u8>,
) -> Result<bool, PrepError> {
    let n = pixels.len() / layout.bpp();
    out.clear();
    match (icc, layout) {
        (Some(t), Layout::L8 | Layout::Rgb8) if t.dst_layout == moxcms::Layout::Rgb => {
            out.resize(n * 3, 0);
            t.exec
                .transform(pixels, out)
                .map_err(|e| PrepError::ColorProfile {
                    detail: "conversion to sRGB failed".into(),
                    source: Some(Box::new(e)),
                })?;
        }
        (None, Layout::L8) => {
            out.reserve(n * 3);
            out.extend(pixels.iter().flat_map(|&g| [g, g, g]));
        }
        (None, Layout::Rgb8) => return Ok(false),
        _ => {
            return Err(PrepError::internal(format!(
                "RGB conversion of {layout:?} pixels"
            )))
        }
    }
    Ok(true)
}

/// An ICC profile for `nclx` (or AV1/HEVC VUI) primaries and transfer that are not sRGB's
/// (BT.2020, Display P3, PQ, HLG, …), made by moxcms, so that [`icc_transform`] converts the
/// pixels like an embedded profile; `None` for sRGB/BT.709 or unknown codes. Shared by the
/// AVIF and HEIC decoders.
#[cfg(any(feature = "avif", feature = "heic"))]
pub(crate) fn nclx_profile(primaries: u16, transfer: u16) -> Option<Vec<u8>> {
    use moxcms::TransferCharacteristics;
    use moxcms::{CicpColorPrimaries, CicpProfile, ColorProfile, MatrixCoefficients};
    let srgb_primaries = matches!(primaries, 1 | 2);
    let srgb_transfer = matches!(transfer, 1 | 2 | 6 | 13 | 14 | 15);
    if srgb_primaries && srgb_transfer {
        return None;
    }
    // Unspecified parts are taken as sRGB's.
    let primaries = if srgb_primaries { 1 } else { primaries };
    let transfer = if transfer == 2 { 13 } else { transfer };
    let cicp = CicpProfile {
        color_primaries: CicpColorPrimaries::try_from(u8::try_from(primaries).ok()?).ok()?,
        transfer_characteristics: TransferCharacteristics::try_from(u8::try_from(transfer).ok()?)
            .ok()?,
        matrix_coefficients: MatrixCoefficients::Identity,
        full_range: true,
    };
    ColorProfile::new_from_cicp(cicp).encode().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_expands_without_profile() {
        let out = to_rgba(&[7, 200, 8, 9], Layout::La8, None).unwrap();
        assert_eq!(out, vec![7, 7, 7, 200, 8, 8, 8, 9]);
    }
}
