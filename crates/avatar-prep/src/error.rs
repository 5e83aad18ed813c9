//! [`PrepError`], the one error type of this crate, and its stable [`ErrorKind`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::options::{CropBox, ImageFormat};

/// A foreign error (a decoder's, an encoder's) kept as the [`source`](std::error::Error::source)
/// of a [`PrepError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why an image could not be prepared.
///
/// Every variant carries the numbers that explain it. The message (`Display`) describes the
/// cause without naming the kind; print it after [`PrepError::kind`], as the `avatar` CLI
/// does (`photo.jpg: truncated: JPEG data ends early: …`). Errors from [`prepare_file`]
/// are wrapped in [`PrepError::File`] so that a batch says *which* file failed;
/// [`PrepError::kind`] sees through that wrapper.
///
/// [`prepare_file`]: crate::prepare_file
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepError {
    /// The input has no bytes at all.
    #[error("the input has no bytes")]
    Empty,
    /// The bytes are not any image format we know of (text, random data, …).
    #[error("the data does not start with the signature of any image format")]
    NotAnImage,
    /// The bytes are an image, but in a format Slack does not take and we do not convert.
    #[error(
        "{detected} is not supported (accepted: {})",
        crate::options::accepted()
    )]
    UnsupportedFormat {
        /// The format recognised from the signature (`WebP`, `BMP`, `TIFF`, `HEIC`, …).
        detected: &'static str,
    },
    /// A format we take, using a feature of it that the decoder does not have (a BMP with
    /// CMYK pixels, a TIFF with an unusual sample layout, …). Kind `unsupported_format`.
    #[error("{format} with {detail} is not supported")]
    UnsupportedVariant {
        /// The format.
        format: ImageFormat,
        /// What in it is not supported, as the decoder says.
        detail: String,
    },
    /// The input is larger than [`Limits::max_input_bytes`](crate::Limits::max_input_bytes).
    #[error("{bytes} bytes, the limit is {limit}")]
    InputTooLarge {
        /// Size of the input.
        bytes: u64,
        /// The limit in force.
        limit: u64,
    },
    /// Width or height is above [`Limits::max_width`](crate::Limits::max_width) /
    /// [`Limits::max_height`](crate::Limits::max_height).
    #[error("{width}x{height} pixels, the limit is {max_width}x{max_height}")]
    DimensionsTooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Largest width allowed.
        max_width: u32,
        /// Largest height allowed.
        max_height: u32,
    },
    /// Width × height is above [`Limits::max_pixels`](crate::Limits::max_pixels).
    #[error("{width}x{height} is {} pixels, the limit is {limit}", u64::from(*width) * u64::from(*height))]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Largest pixel count allowed.
        limit: u64,
    },
    /// Decoding would need a larger buffer than
    /// [`Limits::max_decode_bytes`](crate::Limits::max_decode_bytes).
    #[error("decoding needs {needed} bytes, the limit is {limit}")]
    DecoderMemory {
        /// Bytes the decoder would allocate.
        needed: u64,
        /// The limit in force.
        limit: u64,
    },
    /// An animation has more frames than [`PrepOptions::max_frames`](crate::PrepOptions::max_frames)
    /// (with [`FramePolicy::Reject`](crate::FramePolicy::Reject)), or more frame × screen pixels
    /// than [`Limits::max_animation_pixels`](crate::Limits::max_animation_pixels).
    #[error("{frames} frames, the limit is {max}")]
    TooManyFrames {
        /// Frames in the input.
        frames: u64,
        /// Largest frame count allowed.
        max: u64,
    },
    /// An animation's frames × logical-screen pixels exceed
    /// [`Limits::max_animation_pixels`](crate::Limits::max_animation_pixels).
    #[error("{frames} frames of {width}x{height} is {} pixels to composite, the limit is {limit}", u64::from(*width) * u64::from(*height) * *frames)]
    AnimationTooLarge {
        /// Frames to composite.
        frames: u64,
        /// Logical screen width.
        width: u32,
        /// Logical screen height.
        height: u32,
        /// The limit in force.
        limit: u64,
    },
    /// A JPEG has more scans than [`Limits::max_jpeg_scans`](crate::Limits::max_jpeg_scans):
    /// every scan of a progressive JPEG is a pass over the whole image, so a few bytes per
    /// scan could otherwise cost minutes.
    #[error("JPEG with {scans} or more scans, the limit is {limit}")]
    TooManyScans {
        /// Scans counted (counting stops one past the limit).
        scans: u32,
        /// The limit in force.
        limit: u32,
    },
    /// The data ends before the image does.
    #[error("{format} data ends early: {detail}")]
    Truncated {
        /// The format being decoded.
        format: ImageFormat,
        /// What the decoder was reading when the data ran out.
        detail: String,
        /// The decoder's own error, when it gave one.
        #[source]
        source: Option<BoxError>,
    },
    /// The data is damaged or violates the format.
    #[error("invalid {format} data: {detail}")]
    Corrupt {
        /// The format being decoded.
        format: ImageFormat,
        /// What the decoder found.
        detail: String,
        /// The decoder's own error, when it gave one.
        #[source]
        source: Option<BoxError>,
    },
    /// The crop box is empty or not inside the upright image.
    #[error("the box x={} y={} side={} is empty or does not fit in the {width}x{height} upright image", crop.x, crop.y, crop.side)]
    InvalidCrop {
        /// The crop box that was asked for.
        crop: CropBox,
        /// Width of the upright image.
        width: u32,
        /// Height of the upright image.
        height: u32,
    },
    /// The square is smaller than `min_side` and [`SmallInput::Reject`](crate::SmallInput::Reject)
    /// was asked for.
    #[error("the square is {side}x{side}, at least {min}x{min} is needed")]
    TooSmall {
        /// Side of the square before scaling.
        side: u32,
        /// The smallest side accepted.
        min: u32,
    },
    /// The embedded ICC colour profile cannot be read or applied.
    #[error("{detail}")]
    ColorProfile {
        /// What is wrong with it.
        detail: String,
        /// The colour engine's own error, when it gave one.
        #[source]
        source: Option<BoxError>,
    },
    /// The options contradict each other (e.g. `min_side` above `max_side`).
    #[error("{detail}")]
    InvalidOptions {
        /// Which option and why.
        detail: String,
    },
    /// Reading the input failed.
    #[error("cannot read the input")]
    Io(#[source] std::io::Error),
    /// An internal step failed in a way the input cannot explain (a bug: please report it).
    #[error("internal error (please report it): {detail}")]
    Internal {
        /// What went wrong.
        detail: String,
        /// The failing component's own error, when it gave one.
        #[source]
        source: Option<BoxError>,
    },
    /// Any of the above, for the file at `path`.
    #[error("{}", path.display())]
    File {
        /// The input file.
        path: PathBuf,
        /// What went wrong with it.
        #[source]
        source: Box<PrepError>,
    },
}

/// The kind of a [`PrepError`], with a stable snake_case name for reports and scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`PrepError::Empty`]: `empty`.
    Empty,
    /// [`PrepError::NotAnImage`]: `not_an_image`.
    NotAnImage,
    /// [`PrepError::UnsupportedFormat`]: `unsupported_format`.
    UnsupportedFormat,
    /// [`PrepError::InputTooLarge`]: `input_too_large`.
    InputTooLarge,
    /// [`PrepError::DimensionsTooLarge`]: `dimensions_too_large`.
    DimensionsTooLarge,
    /// [`PrepError::TooManyPixels`]: `too_many_pixels`.
    TooManyPixels,
    /// [`PrepError::DecoderMemory`]: `decoder_memory`.
    DecoderMemory,
    /// [`PrepError::TooManyFrames`]: `too_many_frames`.
    TooManyFrames,
    /// [`PrepError::AnimationTooLarge`]: `animation_too_large`.
    AnimationTooLarge,
    /// [`PrepError::TooManyScans`]: `too_many_scans`.
    TooManyScans,
    /// [`PrepError::Truncated`]: `truncated`.
    Truncated,
    /// [`PrepError::Corrupt`]: `corrupt`.
    Corrupt,
    /// [`PrepError::InvalidCrop`]: `invalid_crop`.
    InvalidCrop,
    /// [`PrepError::TooSmall`]: `too_small`.
    TooSmall,
    /// [`PrepError::ColorProfile`]: `color_profile`.
    ColorProfile,
    /// [`PrepError::InvalidOptions`]: `invalid_options`.
    InvalidOptions,
    /// [`PrepError::Io`]: `io`.
    Io,
    /// [`PrepError::Internal`]: `internal`.
    Internal,
}

impl ErrorKind {
    /// The stable snake_case name (`truncated`, `too_many_pixels`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::NotAnImage => "not_an_image",
            ErrorKind::UnsupportedFormat => "unsupported_format",
            ErrorKind::InputTooLarge => "input_too_large",
            ErrorKind::DimensionsTooLarge => "dimensions_too_large",
            ErrorKind::TooManyPixels => "too_many_pixels",
            ErrorKind::DecoderMemory => "decoder_memory",
            ErrorKind::TooManyFrames => "too_many_frames",
            ErrorKind::AnimationTooLarge => "animation_too_large",
            ErrorKind::TooManyScans => "too_many_scans",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::InvalidCrop => "invalid_crop",
            ErrorKind::TooSmall => "too_small",
            ErrorKind::ColorProfile => "color_profile",
            ErrorKind::InvalidOptions => "invalid_options",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PrepError {
    /// The kind of the error, looking through [`PrepError::File`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            PrepError::Empty => ErrorKind::Empty,
            PrepError::NotAnImage => ErrorKind::NotAnImage,
            PrepError::UnsupportedFormat { .. } | PrepError::UnsupportedVariant { .. } => {
                ErrorKind::UnsupportedFormat
            }
            PrepError::InputTooLarge { .. } => ErrorKind::InputTooLarge,
            PrepError::DimensionsTooLarge { .. } => ErrorKind::DimensionsTooLarge,
            PrepError::TooManyPixels { .. } => ErrorKind::TooManyPixels,
            PrepError::DecoderMemory { .. } => ErrorKind::DecoderMemory,
            PrepError::TooManyFrames { .. } => ErrorKind::TooManyFrames,
            PrepError::AnimationTooLarge { .. } => ErrorKind::AnimationTooLarge,
            PrepError::TooManyScans { .. } => ErrorKind::TooManyScans,
            PrepError::Truncated { .. } => ErrorKind::Truncated,
            PrepError::Corrupt { .. } => ErrorKind::Corrupt,
            PrepError::InvalidCrop { .. } => ErrorKind::InvalidCrop,
            PrepError::TooSmall { .. } => ErrorKind::TooSmall,
            PrepError::ColorProfile { .. } => ErrorKind::ColorProfile,
            PrepError::InvalidOptions { .. } => ErrorKind::InvalidOptions,
            PrepError::Io(_) => ErrorKind::Io,
            PrepError::Internal { .. } => ErrorKind::Internal,
            PrepError::File { source, .. } => source.kind(),
        }
    }

    /// The file the error is about, if it came from [`prepare_file`](crate::prepare_file).
    pub fn path(&self) -> Option<&Path> {
        match self {
            PrepError::File { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The error without its [`PrepError::File`] wrapper.
    pub fn innermost(&self) -> &PrepError {
        match self {
            PrepError::File { source, .. } => source.innermost(),
            other => other,
        }
    }

    /// Wraps the error with the file it is about (once: an error that already names a file
    /// is returned as it is).
    pub fn in_file(self, path: impl Into<PathBuf>) -> PrepError {
        match self {
            e @ PrepError::File { .. } => e,
            e => PrepError::File {
                path: path.into(),
                source: Box::new(e),
            },
        }
    }

    pub(crate) fn corrupt(format: ImageFormat, detail: impl Into<String>) -> PrepError {
        PrepError::Corrupt {
            format,
            detail: detail.into(),
            source: None,
        }
    }

    /// Damaged data, with the decoder's error kept as the source (its text is not repeated
    /// in ours).
    pub(crate) fn corrupt_by(
        format: ImageFormat,
        detail: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> PrepError {
        PrepError::Corrupt {
            format,
            detail: detail.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn truncated(format: ImageFormat, detail: impl Into<String>) -> PrepError {
        PrepError::Truncated {
            format,
            detail: detail.into(),
            source: None,
        }
    }

    /// Data cut short, with the decoder's error kept as the source.
    pub(crate) fn truncated_by(
        format: ImageFormat,
        detail: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> PrepError {
        PrepError::Truncated {
            format,
            detail: detail.into(),
            source: Some(source.into()),
        }
    }

    pub(crate) fn internal(detail: impl Into<String>) -> PrepError {
        PrepError::Internal {
            detail: detail.into(),
            source: None,
        }
    }

    /// A failure of one of our own components (an encoder, the resampler), its error kept.
    pub(crate) fn internal_by(detail: impl Into<String>, source: impl Into<BoxError>) -> PrepError {
        PrepError::Internal {
            detail: detail.into(),
            source: Some(source.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + std::error::Error>() {}
        check::<PrepError>();
    }

    #[test]
    fn file_wrapper_keeps_kind_and_names_the_file() {
        let e = PrepError::truncated(ImageFormat::Jpeg, "inside the scan").in_file("a/photo.jpg");
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert_eq!(e.kind().as_str(), "truncated");
        assert_eq!(e.path(), Some(Path::new("a/photo.jpg")));
        assert_eq!(e.to_string(), "a/photo.jpg");
        let inner = std::error::Error::source(&e).map(|s| s.to_string());
        assert_eq!(
            inner.as_deref(),
            Some("JPEG data ends early: inside the scan")
        );
        // Wrapping twice keeps the first path.
        let again = e.in_file("other.jpg");
        assert_eq!(again.path(), Some(Path::new("a/photo.jpg")));
    }
}
