//! [`Photo`]: the image bytes, their [`Mime`] type and an optional [`Crop`], and the
//! multipart body built from them once.

use std::fmt;

use bytes::Bytes;

use crate::error::UploadError;

/// The image types `users.setPhoto` takes, recognised from the bytes' signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mime {
    /// `image/jpeg`.
    Jpeg,
    /// `image/png`.
    Png,
    /// `image/gif`.
    Gif,
}

impl Mime {
    /// The type of JPEG, PNG or GIF bytes, from their signature (never from a file name).
    pub fn sniff(bytes: &[u8]) -> Option<Mime> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Mime::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Mime::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Mime::Gif)
        } else {
            None
        }
    }

    /// The MIME type: `image/jpeg`, `image/png` or `image/gif`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mime::Jpeg => "image/jpeg",
            Mime::Png => "image/png",
            Mime::Gif => "image/gif",
        }
    }

    /// The usual file extension, without the dot: `jpg`, `png` or `gif`.
    pub const fn extension(self) -> &'static str {
        match self {
            Mime::Jpeg => "jpg",
            Mime::Png => "png",
            Mime::Gif => "gif",
        }
    }
}

impl fmt::Display for Mime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Slack's optional crop box (`crop_x`, `crop_y`, `crop_w`): a square in pixels of the
/// uploaded image. The same meaning as `avatar_prep::CropBox` (this crate does not depend on
/// `avatar-prep`; convert with `Crop::new(b.x, b.y, b.side)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Crop {
    x: u32,
    y: u32,
    side: u32,
}

impl Crop {
    /// A square with its left edge at `x`, its top edge at `y` and sides of `side` pixels.
    /// Fails when `side` is 0 (Slack needs `crop_w` ≥ 1).
    pub fn new(x: u32, y: u32, side: u32) -> Result<Crop, UploadError> {
        if side == 0 {
            return Err(UploadError::InvalidRequest {
                detail: "the crop side (crop_w) must be at least 1".into(),
            });
        }
        Ok(Crop { x, y, side })
    }

    /// `crop_x`: the left edge.
    pub fn x(&self) -> u32 {
        self.x
    }

    /// `crop_y`: the top edge.
    pub fn y(&self) -> u32 {
        self.y
    }

    /// `crop_w`: the side of the square, at least 1.
    pub fn side(&self) -> u32 {
        self.side
    }
}

/// An image to upload.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    bytes: Bytes,
    mime: Mime,
    filename: String,
    crop: Option<Crop>,
}

impl fmt::Debug for Photo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Photo")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("mime", &self.mime)
            .field("filename", &self.filename)
            .field("crop", &self.crop)
            .finish()
    }
}

impl Photo {
    /// A photo from JPEG, PNG or GIF bytes. The type comes from the bytes' signature
    /// ([`Mime::sniff`]); anything else is refused before any request.
    pub fn new(bytes: impl Into<Bytes>) -> Result<Photo, UploadError> {
        let bytes = bytes.into();
        let mime = Mime::sniff(&bytes).ok_or_else(|| UploadError::InvalidRequest {
            detail: "the photo is not a JPEG, PNG or GIF".into(),
        })?;
        Ok(Photo {
            bytes,
            mime,
            filename: format!("avatar.{}", mime.extension()),
            crop: None,
        })
    }

    /// Sets the file name sent in the multipart part (default `avatar.jpg`/`.png`/`.gif`).
    /// Only the last path component is kept, and quotes and control characters are replaced,
    /// so a local path never leaks into the request.
    pub fn filename(mut self, name: &str) -> Photo {
        let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
        let clean: String = base
            .chars()
            .map(|c| if c.is_control() || c == '"' { '_' } else { c })
            .collect();
        if !clean.is_empty() {
            self.filename = clean;
        }
        self
    }

    /// Sets Slack's crop box (sent as `crop_x`, `crop_y`, `crop_w`). Default: none, Slack
    /// uses the whole image.
    pub fn crop(mut self, crop: Crop) -> Photo {
        self.crop = Some(crop);
        self
    }

    /// The image bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The image type, sent as the image part's Content-Type.
    pub fn mime(&self) -> Mime {
        self.mime
    }

    /// The file name of the image part.
    pub fn file_name(&self) -> &str {
        &self.filename
    }

    /// The crop box, if any.
    pub fn crop_box(&self) -> Option<Crop> {
        self.crop
    }

    /// The `multipart/form-data` body and its Content-Type header, built once so that every
    /// retry sends identical bytes. Text parts `crop_x`, `crop_y`, `crop_w` come first (only
    /// all three together), then the `image` part.
    pub(crate) fn multipart(&self) -> (String, Bytes) {
        let boundary = loop {
            let b = format!(
                "avatar-upload-{:016x}{:016x}",
                fastrand::u64(..),
                fastrand::u64(..)
            );
            if !self.bytes.windows(b.len()).any(|w| w == b.as_bytes()) {
                break b;
            }
        };
        let mut body = Vec::with_capacity(self.bytes.len() + 512);
        if let Some(c) = self.crop {
            for (name, v) in [("crop_x", c.x), ("crop_y", c.y), ("crop_w", c.side)] {
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n"
                    )
                    .as_bytes(),
                );
            }
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                self.filename, self.mime
            )
            .as_bytes(),
        );
        body.extend_from_slice(&self.bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (
            format!("multipart/form-data; boundary={boundary}"),
            Bytes::from(body),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_from_bytes_and_safe_filename() {
        let p = Photo::new(&b"\x89PNG\r\n\x1a\nrest"[..]).unwrap();
        assert_eq!(p.mime(), Mime::Png);
        assert_eq!(p.mime().to_string(), "image/png");
        assert_eq!(p.file_name(), "avatar.png");
        let p = p.filename("/home/alice/Private Photos/me \"1\".png");
        assert_eq!(p.file_name(), "me _1_.png");
        assert!(Photo::new(&b"hello"[..]).is_err());
        assert_eq!(Mime::sniff(b"GIF87a.."), Some(Mime::Gif));
        assert_eq!(Mime::sniff(b"\xff\xd8\xff\xdb"), Some(Mime::Jpeg));
        assert_eq!(Mime::sniff(b"RIFF....WEBP"), None);
        assert_eq!(
            [Mime::Jpeg, Mime::Png, Mime::Gif].map(Mime::extension),
            ["jpg", "png", "gif"]
        );
    }

    #[test]
    fn crop_side_must_be_positive() {
        assert!(matches!(
            Crop::new(0, 0, 0),
            Err(UploadError::InvalidRequest { .. })
        ));
        let c = Crop::new(1, 2, 3).unwrap();
        assert_eq!((c.x(), c.y(), c.side()), (1, 2, 3));
    }

    #[test]
    fn multipart_has_crop_fields_then_image() {
        let p = Photo::new(&b"\xff\xd8\xff\xe0data"[..])
            .unwrap()
            .crop(Crop::new(1, 2, 300).unwrap());
        let (ct, body) = p.multipart();
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&body);
        let x = text.find("name=\"crop_x\"\r\n\r\n1\r\n").unwrap();
        let w = text.find("name=\"crop_w\"\r\n\r\n300\r\n").unwrap();
        let img = text
            .find("name=\"image\"; filename=\"avatar.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n")
            .unwrap();
        assert!(x < w && w < img);
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    }
}
