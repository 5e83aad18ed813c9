//! TIFF with the `image` crate's decoder (the `tiff` crate): strips and tiles, uncompressed,
//! LZW, Deflate and PackBits, 8- and 16-bit, grey, RGB(A) and CMYK (converted to RGB by the
//! decoder), the Orientation tag and an embedded ICC profile. The first page is the image.

use std::io::Cursor;

use image::codecs::tiff::TiffDecoder;

use super::image_rs;
use super::seam::Pending;
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::pixels::Decoded;

const FORMAT: ImageFormat = ImageFormat::Tiff;

fn open(bytes: &[u8]) -> Result<TiffDecoder<Cursor<&[u8]>>, PrepError> {
    TiffDecoder::new(Cursor::new(bytes)).map_err(|e| image_rs::error(FORMAT, e))
}

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    image_rs::header(FORMAT, bytes, limits, open(bytes)?)
}

pub(super) fn decode(p: Pending<'_>) -> Result<Decoded, PrepError> {
    image_rs::decode(&p, open(p.bytes)?)
}
