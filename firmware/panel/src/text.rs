//! Text without an allocator: a fixed buffer that `write!` fills (numbers, ages), and the
//! character arithmetic both layouts share — counting what a name takes on screen, cutting
//! it to fit with room for an ellipsis, and wrapping a sentence over lines.

use core::fmt;

/// A string of at most `N` bytes, filled with `write!`; what does not fit is dropped (at a
/// character boundary), never a panic.
#[derive(Clone, Copy)]
pub struct TextBuffer<const N: usize> {
    bytes: [u8; N],
    length: usize,
}

impl<const N: usize> TextBuffer<N> {
    pub const fn new() -> Self {
        TextBuffer {
            bytes: [0; N],
            length: 0,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only whole characters are ever copied in, so the prefix is valid UTF-8.
        core::str::from_utf8(&self.bytes[..self.length]).unwrap_or("")
    }
}

impl<const N: usize> Default for TextBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for TextBuffer<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for character in text.chars() {
            let width = character.len_utf8();
            if self.length + width > N {
                return Ok(());
            }
            character.encode_utf8(&mut self.bytes[self.length..self.length + width]);
            self.length += width;
        }
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for TextBuffer<N> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), formatter)
    }
}

/// Formats `value` with `write!` into a buffer of `N` bytes.
pub(crate) fn format<const N: usize>(arguments: fmt::Arguments<'_>) -> TextBuffer<N> {
    let mut buffer = TextBuffer::new();
    // Writing to a TextBuffer never fails; overflow is cut.
    let _ = fmt::write(&mut buffer, arguments);
    buffer
}

/// How many cells `text` takes: one per character (both fonts and the LCD are fixed width;
/// a character they lack is shown as a replacement in one cell).
pub fn cell_count(text: &str) -> usize {
    text.chars().count()
}

/// How `text` fits in `cells` cells: the part to show, and whether an ellipsis follows it
/// (taking the last cell).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fitted<'a> {
    pub shown: &'a str,
    pub ellipsis: bool,
}

impl Fitted<'_> {
    /// Cells taken, the ellipsis included.
    pub fn cells(&self) -> usize {
        cell_count(self.shown) + usize::from(self.ellipsis)
    }
}

/// Cuts `text` to `cells` cells: unchanged when it fits, else its first `cells - 1`
/// characters and an ellipsis. Zero cells show nothing.
pub fn fit(text: &str, cells: usize) -> Fitted<'_> {
    if cell_count(text) <= cells {
        return Fitted {
            shown: text,
            ellipsis: false,
        };
    }
    if cells == 0 {
        return Fitted {
            shown: "",
            ellipsis: false,
        };
    }
    Fitted {
        shown: prefix(text, cells - 1),
        ellipsis: true,
    }
}

/// The first `characters` characters of `text`.
pub(crate) fn prefix(text: &str, characters: usize) -> &str {
    match text.char_indices().nth(characters) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

/// Splits `text` into its first line of at most `cells` cells and the rest (leading spaces
/// dropped): broken at the last space that fits when that fills at least half the line, else
/// within the word, so a long name does not leave a line nearly empty.
pub fn wrap(text: &str, cells: usize) -> (&str, &str) {
    if cell_count(text) <= cells {
        return (text, "");
    }
    let head = prefix(text, cells);
    let rest_after_head = &text[head.len()..];
    // A break right after the head (the next character is a space) keeps the whole head.
    if rest_after_head.starts_with(' ') {
        return (head, rest_after_head.trim_start_matches(' '));
    }
    match head.rfind(' ') {
        Some(space) if cell_count(&head[..space]) * 2 >= cells => (
            head[..space].trim_end_matches(' '),
            text[space..].trim_start_matches(' '),
        ),
        _ => (head, rest_after_head),
    }
}

/// "just now", "12 min ago", "5 h ago", "3 d ago".
pub fn age(seconds: u64) -> TextBuffer<16> {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    match seconds {
        0..MINUTE => format(format_args!("just now")),
        MINUTE..HOUR => format(format_args!("{} min ago", seconds / MINUTE)),
        HOUR..DAY => format(format_args!("{} h ago", seconds / HOUR)),
        _ => format(format_args!("{} d ago", seconds / DAY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_short_text_and_cuts_long_text_with_an_ellipsis() {
        assert_eq!(
            fit("tank", 4),
            Fitted {
                shown: "tank",
                ellipsis: false
            }
        );
        let cut = fit("backup-pool", 6);
        assert_eq!(cut.shown, "backu");
        assert!(cut.ellipsis);
        assert_eq!(cut.cells(), 6);
        assert_eq!(fit("abc", 0).cells(), 0);
        // Characters, not bytes.
        assert_eq!(fit("Bürokratie", 4).shown, "Bür");
    }

    #[test]
    fn wrap_breaks_at_the_last_space_that_fits() {
        assert_eq!(
            wrap("pool tank is degraded", 12),
            ("pool tank is", "degraded")
        );
        assert_eq!(wrap("short", 12), ("short", ""));
        assert_eq!(wrap("abcdefghij klm", 5), ("abcde", "fghij klm"));
        assert_eq!(wrap("abc defgh", 3), ("abc", "defgh"));
        assert_eq!(
            wrap("Disk ST8000VN004 is failing", 12),
            ("Disk ST8000V", "N004 is failing")
        );
    }

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(age(5).as_str(), "just now");
        assert_eq!(age(12 * 60 + 5).as_str(), "12 min ago");
        assert_eq!(age(5 * 3600).as_str(), "5 h ago");
        assert_eq!(age(3 * 86_400 + 7).as_str(), "3 d ago");
    }

    #[test]
    fn the_buffer_cuts_at_a_character_boundary() {
        let buffer: TextBuffer<5> = format(format_args!("ab°cd"));
        assert_eq!(buffer.as_str(), "ab°c");
        let buffer: TextBuffer<3> = format(format_args!("ab°"));
        assert_eq!(buffer.as_str(), "ab");
    }
}
