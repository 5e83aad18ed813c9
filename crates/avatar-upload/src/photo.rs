//! [`Photo`]: the image bytes, their type and an optional crop box, and the multipart body
//! built from them once.

use bytes::Bytes;

use crate::error::UploadError;

/// Slack's optional crop box (`crop_x`, `crop_y`, `crop_w`), in pixels of the uploaded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Crop {
    /// `crop_x`: left edge.
    pub x: u32,
    /// `crop_y`: top edge.
    pub y: u32,
    /// `crop_w`: side of the square, at least 1.
    pub w: u32,
}

/// An image to upload.
#[derive(Clone, PartialEq, Eq)]
pub struct Photo {
    bytes: Bytes,
    content_type: &'static str,
    filename: String,
    crop: Option<Crop>,
}

impl std::fmt::Debug for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Photo")
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .field("content_type", &self.content_type)
            .field("filename", &self.filename)
            .field("crop", &self.crop)
            .finish()
    }
}

/// The Content-Type of JPEG, PNG or GIF bytes, from their signature.
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

impl Photo {
    /// A photo from JPEG, PNG or GIF bytes. The Content-Type comes from the bytes' signature
    /// (never from a file name); anything else is refused before any request.
    pub fn new(bytes: impl Into<Bytes>) -> Result<Photo, UploadError> {
        let bytes = bytes.into();
        let content_type =
            sniff_content_type(&bytes).ok_or_else(|| UploadError::InvalidRequest {
                detail: "the photo is not a JPEG, PNG or GIF".into(),
            })?;
        let ext = match content_type {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            _ => "gif",
        };
        Ok(Photo {
            bytes,
            content_type,
            filename: format!("avatar.{ext}"),
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

    /// Sets Slack's crop box. `w` must be at least 1.
    pub fn crop(mut self, x: u32, y: u32, w: u32) -> Result<Photo, UploadError> {
        if w == 0 {
            return Err(UploadError::InvalidRequest {
                detail: "crop_w must be at least 1".into(),
            });
        }
        self.crop = Some(Crop { x, y, w });
        Ok(self)
    }

    /// The image bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The Content-Type of the image part.
    pub fn content_type(&self) -> &'static str {
        self.content_type
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
            for (name, v) in [("crop_x", c.x), ("crop_y", c.y), ("crop_w", c.w)] {
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
                self.filename, self.content_type
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
    fn content_type_from_bytes_and_safe_filename() {
        let p = Photo::new(&b"\x89PNG\r\n\x1a\nrest"[..]).unwrap();
        assert_eq!(p.content_type(), "image/png");
        assert_eq!(p.file_name(), "avatar.png");
        let p = p.filename("/home/alice/Private Photos/me \"1\".png");
        assert_eq!(p.file_name(), "me _1_.png");
        assert!(Photo::new(&b"hello"[..]).is_err());
        assert!(Photo::new(&b"GIF89a.."[..]).unwrap().crop(0, 0, 0).is_err());
    }

    #[test]
    fn multipart_has_crop_fields_then_image() {
        let p = Photo::new(&b"\xff\xd8\xff\xe0data"[..])
            .unwrap()
            .crop(1, 2, 300)
            .unwrap();
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
