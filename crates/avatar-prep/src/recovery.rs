//! [`Recovery`]: what was repaired or worked around to decode a damaged file that browsers
//! still show.

use std::fmt;

/// Something a damaged input needed before it could be decoded, reported by
/// [`PreparedImage::recovery`](crate::PreparedImage::recovery). The image was decoded as
/// browsers show it; a truncated *still* image is never recovered (it is
/// [`PrepError::Truncated`](crate::PrepError::Truncated)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Recovery {
    /// A JPEG's restart markers were out of sequence (their numbers were rewritten; no
    /// pixel is lost).
    RestartMarkersRenumbered {
        /// Markers whose number was wrong.
        markers: u32,
    },
    /// A JPEG's restart markers were missing: the restart intervals around each gap were
    /// replaced by mid-grey, as libjpeg shows them.
    RestartIntervalsGrey {
        /// Restart intervals shown grey.
        intervals: u32,
        /// Restart intervals in the scan.
        of: u32,
    },
    /// libjpeg met damaged JPEG data (a bad Huffman code, a restart marker it had to resync
    /// to, junk inside a scan) and decoded the image as browsers show it: the blocks it could
    /// not read are grey or blurred.
    CorruptJpegData {
        /// Warnings libjpeg gave.
        warnings: u32,
        /// The first warning, in libjpeg's words.
        first: String,
    },
    /// An animation ends inside a frame: the complete frames before it were kept.
    AnimationCutShort {
        /// Frames kept.
        frames_kept: u32,
    },
    /// GIF frames without a colour table (neither local nor global) were shown with a
    /// greyscale palette.
    DefaultPalette {
        /// Frames that had no colour table.
        frames: u32,
    },
    /// The EXIF block could not be read; the orientation was taken as normal.
    UnreadableExif,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recovery::RestartMarkersRenumbered { markers } => {
                write!(
                    f,
                    "{markers} JPEG restart marker(s) out of sequence, renumbered"
                )
            }
            Recovery::RestartIntervalsGrey { intervals, of } => write!(
                f,
                "JPEG restart markers missing: {intervals} of {of} restart intervals shown grey"
            ),
            Recovery::CorruptJpegData { warnings, first } => write!(
                f,
                "damaged JPEG data decoded as libjpeg shows it ({warnings} warning(s), first: {first})"
            ),
            Recovery::AnimationCutShort { frames_kept } => write!(
                f,
                "the animation ends inside a frame: {frames_kept} complete frame(s) kept"
            ),
            Recovery::DefaultPalette { frames } => write!(
                f,
                "{frames} GIF frame(s) without a colour table shown with a grey palette"
            ),
            Recovery::UnreadableExif => f.write_str("unreadable EXIF block: orientation ignored"),
        }
    }
}
