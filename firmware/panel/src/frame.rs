//! A 128×64 one-bit frame in memory: the picture a display shows, for drivers that send a
//! whole frame, for the daemon to redraw only when the frame changed, and for tests to look
//! at pixels. It also counts pixels drawn outside the panel, which a correct layout never
//! does.

use embedded_graphics::Pixel;
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::{DrawTarget, OriginDimensions, Size};

use crate::draw::{HEIGHT, WIDTH};

const BYTES: usize = (WIDTH * HEIGHT / 8) as usize;

/// 128×64 pixels, row by row, 8 pixels a byte (most significant bit leftmost).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    bits: [u8; BYTES],
    outside: u32,
}

impl Frame {
    pub const fn new() -> Self {
        Frame {
            bits: [0; BYTES],
            outside: 0,
        }
    }

    /// Whether the pixel at (`x`, `y`) is lit; `false` outside the frame.
    pub fn is_on(&self, x: u32, y: u32) -> bool {
        if x >= WIDTH || y >= HEIGHT {
            return false;
        }
        let index = (y * WIDTH + x) as usize;
        self.bits[index / 8] & (0x80 >> (index % 8)) != 0
    }

    /// How many pixels were drawn outside 128×64 since the frame was made.
    pub fn pixels_outside(&self) -> u32 {
        self.outside
    }

    /// The pixels, row by row, 8 to a byte, most significant bit leftmost.
    pub fn as_bytes(&self) -> &[u8; BYTES] {
        &self.bits
    }

    /// How many pixels are lit.
    pub fn lit_count(&self) -> u32 {
        self.bits.iter().map(|byte| byte.count_ones()).sum()
    }
}

impl Default for Frame {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Frame {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter
            .debug_struct("Frame")
            .field("lit", &self.lit_count())
            .field("outside", &self.outside)
            .finish()
    }
}

impl OriginDimensions for Frame {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for Frame {
    type Color = BinaryColor;
    type Error = core::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(point, color) in pixels {
            let (Ok(x), Ok(y)) = (u32::try_from(point.x), u32::try_from(point.y)) else {
                self.outside += 1;
                continue;
            };
            if x >= WIDTH || y >= HEIGHT {
                self.outside += 1;
                continue;
            }
            let index = (y * WIDTH + x) as usize;
            let mask = 0x80 >> (index % 8);
            match color {
                BinaryColor::On => self.bits[index / 8] |= mask,
                BinaryColor::Off => self.bits[index / 8] &= !mask,
            }
        }
        Ok(())
    }
}
