use super::container::{clean_aperture, is_cut, orientation};
use crate::orient::Orientation;

#[test]
fn irot_imir_make_exif_orientations() {
    use Orientation as O;
    assert_eq!(orientation(0, None), O::Normal);
    assert_eq!(orientation(90, None), O::Rotate270);
    assert_eq!(orientation(270, None), O::Rotate90);
    assert_eq!(orientation(180, None), O::Rotate180);
    assert_eq!(orientation(0, Some(1)), O::FlipHorizontal);
    assert_eq!(orientation(0, Some(0)), O::FlipVertical);
    assert_eq!(orientation(180, Some(0)), O::FlipHorizontal);
    assert_eq!(orientation(270, Some(1)), O::Transpose);
    assert_eq!(orientation(90, Some(0)), O::Transpose);
    assert_eq!(orientation(90, Some(1)), O::Transverse);
    assert_eq!(orientation(270, Some(0)), O::Transverse);
}

#[test]
fn clean_aperture_is_centred() {
    let c = zenavif_parse::CleanAperture {
        width_n: 100,
        width_d: 1,
        height_n: 50,
        height_d: 1,
        horiz_off_n: -10,
        horiz_off_d: 1,
        vert_off_n: 0,
        vert_off_d: 1,
    };
    // Centre at 200 / 2 - 10: x from 40 to 140.
    assert_eq!(clean_aperture(&c, 200, 100), Some((40, 25, 100, 50)));
    // kimono.crop.avif: 385×330 at offsets (103, -308) in 722×1024: x = 271.5 → 272.
    let k = zenavif_parse::CleanAperture {
        width_n: 385,
        width_d: 1,
        height_n: 330,
        height_d: 1,
        horiz_off_n: 103,
        horiz_off_d: 1,
        vert_off_n: -308,
        vert_off_d: 1,
    };
    assert_eq!(clean_aperture(&k, 722, 1024), Some((272, 39, 385, 330)));
    // Too wide: ignored.
    assert_eq!(clean_aperture(&c, 90, 100), None);
}

#[test]
fn cut_files_are_seen() {
    let mut b = 16u32.to_be_bytes().to_vec();
    b.extend_from_slice(b"ftypavif\0\0\0\0");
    assert!(!is_cut(&b));
    b.extend_from_slice(&100u32.to_be_bytes());
    b.extend_from_slice(b"meta");
    assert!(is_cut(&b));
}
