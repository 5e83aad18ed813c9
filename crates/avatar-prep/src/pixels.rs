//! The pixel buffers every stage passes on: [`Decoded`] pixels in a [`Layout`].

/// How the decoded pixels are laid out (8 bits per channel, tightly packed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Grey.
    L8,
    /// Grey + alpha.
    La8,
    /// RGB.
    Rgb8,
    /// RGBA, straight alpha.
    Rgba8,
}

impl Layout {
    pub(crate) fn bpp(self) -> usize {
        match self {
            Layout::L8 => 1,
            Layout::La8 => 2,
            Layout::Rgb8 => 3,
            Layout::Rgba8 => 4,
        }
    }

    pub(crate) fn has_alpha(self) -> bool {
        matches!(self, Layout::La8 | Layout::Rgba8)
    }
}

/// Decoded pixels, stored orientation.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub pixels: Vec<u8>,
}
