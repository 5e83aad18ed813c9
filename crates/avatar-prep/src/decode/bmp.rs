//! BMP with the `image` crate's decoder: 1/4/8/16/24/32-bit, RLE4/RLE8, bitfields,
//! bottom-up and top-down rows, ICO-style alpha in 32-bit files.

use std::io::Cursor;

use image::codecs::bmp::BmpDecoder;

use super::image_rs;
use super::seam::Pending;
use crate::error::PrepError;
use crate::limits::Limits;
use crate::options::ImageFormat;
use crate::pixels::Decoded;

const FORMAT: ImageFormat = ImageFormat::Bmp;

fn open(bytes: &[u8]) -> Result<BmpDecoder<Cursor<&[u8]>>, PrepError> {
    BmpDecoder::new(Cursor::new(bytes)).map_err(|e| image_rs::error(FORMAT, e))
}

pub(super) fn header<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Pending<'a>, PrepError> {
    image_rs::header(FORMAT, bytes, limits, open(bytes)?)
}

pub(super) fn decode(p: Pending<'_>) -> Result<Decoded, PrepError> {
    image_rs::decode(&p, open(p.bytes)?)
}
