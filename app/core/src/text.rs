//! Text from outside shown to people: file names are chosen by whoever wrote the file, and a
//! name can carry characters that change how the text around it reads — a right-to-left
//! override makes `report\u{202E}txt.exe` display as `reportexe.txt`, zero-width characters
//! make two names look alike, and control characters can drive a terminal. [`visible`]
//! writes such characters out; the console and the command line print names through it.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `character` must not be printed as it is in a name: it is invisible, or it
/// changes the direction or joining of the text around it — the bidirectional controls (U+202A–U+202E,
/// U+2066–U+2069, U+200E, U+200F, U+061C), other format characters of zero width (U+00AD,
/// U+180E, U+200B–U+200D, U+2060–U+2064, U+FEFF) and control characters.
fn hides_text(character: char) -> bool {
    matches!(character,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        | '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
        || character.is_control()
}

/// A file name as people are shown it: characters that would hide or reorder the text
/// around them are written out as `<U+202E>`, so that `report\u{202E}txt.exe` reads
/// `report<U+202E>txt.exe` instead of passing for `reportexe.txt`. Other text is returned as
/// it is, without a copy.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hides_text) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for character in text.chars() {
        if hides_text(character) {
            let _ = write!(shown, "<U+{:04X}>", u32::from(character));
        } else {
            shown.push(character);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hide_or_reorder_text_are_written_out() {
        let cases = [
            ("report.txt", "report.txt"),
            ("Grüße ✓.pdf", "Grüße ✓.pdf"),
            ("report\u{202E}txt.exe", "report<U+202E>txt.exe"),
            ("a\u{2066}b\u{2069}", "a<U+2066>b<U+2069>"),
            ("zero\u{200B}width", "zero<U+200B>width"),
            ("bell\u{7}\nline", "bell<U+0007><U+000A>line"),
            ("\u{1b}[31mred", "<U+001B>[31mred"),
            ("\u{FEFF}bom", "<U+FEFF>bom"),
            ("arabic \u{61C} mark", "arabic <U+061C> mark"),
        ];
        for (name, expected) in cases {
            assert_eq!(visible(name), expected, "{name:?}");
        }
        assert!(matches!(visible("plain"), Cow::Borrowed(_)));
    }
}
