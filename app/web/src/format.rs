//! Small pure helpers the pages share: sizes for people (`1.5 GiB`) and back (`10M`),
//! dates typed into filters (`2026-01-31` → seconds), URL query building, chart lines, HTML
//! escaping for markup a page writes as text, names made visible (bidirectional controls
//! written out). Pure so they are tested here and behave the same on the server and in the
//! browser.

/// A count with its noun, singular or plural as English wants it: `1 file`, `2 files`,
/// `0 files`.
pub fn count(number: impl Into<u64>, singular: &str, plural: &str) -> String {
    let number = number.into();
    format!("{number} {}", if number == 1 { singular } else { plural })
}

/// How long ago `then` was at `now` (seconds since the Unix epoch), as people say it:
/// `just now`, `5 minutes ago`, `1 hour ago`, `3 days ago`; a time ahead is `in 2 hours`.
pub fn age(then: i64, now: i64) -> String {
    let (seconds, ahead) = if then > now {
        (then.saturating_sub(now), true)
    } else {
        (now.saturating_sub(then), false)
    };
    if seconds < 60 {
        return "just now".to_owned();
    }
    let (number, singular, plural) = match seconds {
        60..3_600 => (seconds / 60, "minute", "minutes"),
        3_600..86_400 => (seconds / 3_600, "hour", "hours"),
        86_400..2_678_400 => (seconds / 86_400, "day", "days"),
        2_678_400..31_536_000 => (seconds / 2_592_000, "month", "months"),
        _ => (seconds / 31_536_000, "year", "years"),
    };
    let amount = count(number.unsigned_abs(), singular, plural);
    if ahead {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A moment as a short UTC date and time: `2026-12-07 12:40 UTC`.
pub fn utc_minute(seconds: i64) -> String {
    format!("{} UTC", local_minute(seconds, 0))
}

/// A moment at a time zone `offset_minutes` east of UTC, as a local date and time:
/// `2026-12-07 13:40`.
pub fn local_minute(seconds: i64, offset_minutes: i64) -> String {
    let civil =
        wizfs_core::Timestamp::from(seconds.saturating_add(offset_minutes.saturating_mul(60)))
            .to_civil_utc();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        civil.year, civil.month, civil.day, civil.hour, civil.minute
    )
}

/// A UTC time as the API writes it (`2026-12-07T12:40:00Z`, also `2026-12-07 12:40`) in
/// seconds since the Unix epoch; `None` when it is not one.
pub fn parse_utc(text: &str) -> Option<i64> {
    let text = text.trim();
    let minute_form = text.len() == 16 && text.as_bytes()[10] == b' ';
    let full = if minute_form {
        format!("{}T{}:00Z", &text[..10], &text[11..])
    } else {
        text.to_owned()
    };
    wizfs_core::Timestamp::parse_rfc3339(&full).map(|time| time.seconds())
}

/// `1536` → `1.5 KiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut size = value as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else if size >= 100.0 {
        format!("{size:.0} {}", UNITS[unit])
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// A size as people type it: `42`, `300k`, `10M`, `1.5G`, `2T`, `10MiB`, `10 MB` (binary
/// multiples either way). `None` when it is not a size.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let split = text
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = unit.trim().to_ascii_lowercase();
    let unit = unit.trim_end_matches("ib").trim_end_matches('b');
    let multiplier: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let value = number * multiplier;
    (value.is_finite() && value >= 0.0 && value < u64::MAX as f64).then_some(value as u64)
}

/// `YYYY-MM-DD` (UTC midnight) → seconds since the epoch.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(1970..=9999).contains(&year) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let days_in_month = match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (day <= days_in_month).then_some(days * 86_400)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
pub fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    encode_into(&mut encoded, text);
    encoded
}

/// [`encode`], appended to `out`: runs of unreserved characters are copied whole.
pub fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut start = 0;
    for (index, &byte) in text.as_bytes().iter().enumerate() {
        if matches!(byte, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~') {
            continue;
        }
        // A run of unreserved (ASCII) bytes starts and ends on character boundaries;
        // between two encoded bytes (inside a character) there is no run to copy.
        if start < index {
            out.push_str(&text[start..index]);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
        start = index + 1;
    }
    out.push_str(&text[start..]);
}

/// `?a=1&b=x%20y` from pairs, skipping empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut query = String::new();
    for (key, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        query.push(if query.is_empty() { '?' } else { '&' });
        query.push_str(key);
        query.push('=');
        encode_into(&mut query, value);
    }
    query
}

/// Appends `text` to `out` escaped for HTML, safe both as element text and inside a
/// double- or single-quoted attribute value: file names are user data and may hold any of
/// `<>&"'`.
pub fn escape_html_into(out: &mut String, text: &str) {
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // An ASCII byte never sits inside a multi-byte character: both ends are boundaries.
        out.push_str(&text[start..index]);
        out.push_str(escaped);
        start = index + 1;
    }
    out.push_str(&text[start..]);
}

/// Marks a console path given by its bytes in hexadecimal (see [`console_path`]).
pub const HEX_PATH: char = '\0';

/// A dataset-relative path as the console carries it in pages, forms and server-function
/// arguments: the path itself when it is UTF-8 without a NUL byte, else [`HEX_PATH`] and its
/// bytes in hexadecimal — so the two forms cannot be confused (not even for a NUL, which no
/// path holds and the API refuses), and a name written in a legacy encoding is restored byte
/// for byte. URLs and REST calls give it as `path` or `path_hex` ([`path_pair`]); pages
/// print [`shown`].
pub fn console_path(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.contains(HEX_PATH) => text.to_owned(),
        _ => {
            let mut path = String::with_capacity(1 + 2 * bytes.len());
            path.push(HEX_PATH);
            for byte in bytes {
                path.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
                path.push(char::from(HEX_DIGITS[usize::from(byte & 15)]));
            }
            path
        }
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The console path of a page's `path` / `path_hex` query parameters (`path_hex` wins). A
/// `path_hex` that is not hexadecimal is kept as given, for the API to refuse with its
/// message.
pub fn path_from_query(path: Option<String>, path_hex: Option<String>) -> String {
    match path_hex {
        Some(hex) => console_path_from_hex(&hex),
        None => path.unwrap_or_default(),
    }
}

/// The console path of a path given by its bytes in hexadecimal, as the API gives every
/// path it lists (`path_hex`). Digits that are not hexadecimal are kept as given, for the
/// API to refuse with its message.
pub fn console_path_from_hex(hex: &str) -> String {
    match hex_bytes(hex) {
        Some(bytes) => console_path(&bytes),
        None => format!("{HEX_PATH}{hex}"),
    }
}

/// The query parameter that gives `path` to a page or the REST API: `("path", path)`, or
/// `("path_hex", digits)` for a path that is not UTF-8.
pub fn path_pair(path: &str) -> (&'static str, &str) {
    match path.strip_prefix(HEX_PATH) {
        Some(hex) => ("path_hex", hex),
        None => ("path", path),
    }
}

/// The bytes of a console path (`None`: hex digits that are not).
pub fn path_bytes(path: &str) -> Option<Vec<u8>> {
    match path.strip_prefix(HEX_PATH) {
        Some(hex) => hex_bytes(hex),
        None => Some(path.as_bytes().to_vec()),
    }
}

fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| char::from(byte).to_digit(16).map(|value| value as u8);
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// A console path as a page prints it: bytes that are not UTF-8 become `�`, and characters
/// that would hide or reorder the text around them are shown ([`visible`]).
pub fn shown(path: &str) -> String {
    match path.strip_prefix(HEX_PATH) {
        Some(_) => path_bytes(path).map_or_else(
            || visible(&path.replace(HEX_PATH, "")).into_owned(),
            |bytes| visible(&String::from_utf8_lossy(&bytes)).into_owned(),
        ),
        None => visible(path).into_owned(),
    }
}

/// A file name as a page shows it (`wizfs_core::text::visible`): characters that would hide
/// or reorder the text around them are written out as `<U+202E>`.
pub use wizfs_core::text::visible;

/// What the console's file viewer can show of a file, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewKind {
    Image,
    Video,
    Audio,
    Pdf,
    Text,
    /// Nothing: download it.
    None,
}

/// The viewer's kind for a file name (the same extensions the daemon gives a content type).
pub fn preview_kind(name: &str) -> PreviewKind {
    let lower = name.to_ascii_lowercase();
    let extension = lower
        .rsplit_once('.')
        .map_or("", |(_, extension)| extension);
    match extension {
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "svg" => PreviewKind::Image,
        "mp4" | "m4v" | "webm" | "mkv" => PreviewKind::Video,
        "mp3" => PreviewKind::Audio,
        "pdf" => PreviewKind::Pdf,
        "txt" | "md" | "log" | "csv" | "conf" | "ini" | "toml" | "yaml" | "yml" | "json" | "rs"
        | "py" | "sh" => PreviewKind::Text,
        _ => PreviewKind::None,
    }
}

/// The parent of a dataset-relative console path (`a/b/c` → `a/b`, `a` → ``).
pub fn parent(path: &str) -> String {
    if !path.starts_with(HEX_PATH) {
        return path
            .rsplit_once('/')
            .map_or("", |(parent, _)| parent)
            .to_owned();
    }
    let bytes = path_bytes(path).unwrap_or_default();
    let end = bytes.iter().rposition(|&byte| byte == b'/').unwrap_or(0);
    console_path(&bytes[..end])
}

/// The components of a console path, each with the console path up to it and the
/// component as shown (for breadcrumbs).
pub fn components(path: &str) -> Vec<(String, String)> {
    let bytes = path_bytes(path).unwrap_or_default();
    let mut found = Vec::new();
    let mut start = 0;
    for end in (0..=bytes.len()).filter(|&end| end == bytes.len() || bytes[end] == b'/') {
        if end > start {
            found.push((
                console_path(&bytes[..end]),
                visible(&String::from_utf8_lossy(&bytes[start..end])).into_owned(),
            ));
        }
        start = end + 1;
    }
    found
}

/// The short name of a snapshot (`tank/a@daily` → `daily`).
pub fn short_snapshot(name: &str) -> &str {
    name.rsplit_once('@').map_or(name, |(_, short)| short)
}

/// The `points` attribute of an SVG polyline drawing `values` (time, value) scaled into
/// `width` × `height` (y grows downwards; the smallest value at the bottom), with the value
/// range it spans. Empty for no values; a flat series or a single value is drawn across the
/// middle.
pub fn polyline(values: &[(i64, f64)], width: f64, height: f64) -> (String, Option<(f64, f64)>) {
    let finite: Vec<(i64, f64)> = values
        .iter()
        .copied()
        .filter(|(_, value)| value.is_finite())
        .collect();
    let (Some(first), Some(last)) = (finite.first(), finite.last()) else {
        return (String::new(), None);
    };
    let (low, high) = finite.iter().fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(low, high), (_, value)| (low.min(*value), high.max(*value)),
    );
    if finite.len() == 1 {
        // One measurement: a level line, so it is visible.
        let y = height / 2.0;
        return (format!("0.0,{y:.1} {width:.1},{y:.1}"), Some((low, high)));
    }
    let span_time = (last.0 - first.0) as f64;
    let span_value = high - low;
    let points: Vec<String> = finite
        .iter()
        .map(|(time, value)| {
            let x = if span_time > 0.0 {
                (*time - first.0) as f64 / span_time * width
            } else {
                width / 2.0
            };
            let y = if span_value > 0.0 {
                height - (value - low) / span_value * height
            } else {
                height / 2.0
            };
            format!("{x:.1},{y:.1}")
        })
        .collect();
    (points.join(" "), Some((low, high)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_as_people_say_them() {
        let now = 1_800_000_000;
        for (then, said) in [
            (now, "just now"),
            (now - 59, "just now"),
            (now - 60, "1 minute ago"),
            (now - 3_599, "59 minutes ago"),
            (now - 3_600, "1 hour ago"),
            (now - 3 * 3_600 - 5, "3 hours ago"),
            (now - 86_400, "1 day ago"),
            (now - 30 * 86_400, "30 days ago"),
            (now - 62 * 86_400, "2 months ago"),
            (now - 400 * 86_400, "1 year ago"),
            (now + 2 * 3_600, "in 2 hours"),
            (now + 30, "just now"),
            (i64::MIN, "292471208677 years ago"),
        ] {
            assert_eq!(super::age(then, now), said, "{then}");
        }
        assert_eq!(super::utc_minute(1_796_647_200), "2026-12-07 12:40 UTC");
        assert_eq!(super::local_minute(1_796_647_200, 60), "2026-12-07 13:40");
        assert_eq!(
            super::local_minute(1_796_647_200, -13 * 60),
            "2026-12-06 23:40"
        );
        for (text, seconds) in [
            ("2026-12-07T12:40:00Z", Some(1_796_647_200)),
            ("2026-12-07 12:40", Some(1_796_647_200)),
            ("2026-12-07T12:40:59Z", Some(1_796_647_259)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2026-12-07", None),
            ("2026-12-07T24:00:00Z", None),
            ("2026-12-07T12:40:00:00Z", None),
            ("2026-12-07T1:40Z", None),
            ("yesterday", None),
        ] {
            assert_eq!(super::parse_utc(text), seconds, "{text}");
        }
    }

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(super::count(1u64, "file", "files"), "1 file");
        assert_eq!(super::count(0u64, "file", "files"), "0 files");
        assert_eq!(super::count(2u64, "version", "versions"), "2 versions");
        assert_eq!(
            super::count(1usize as u64, "snapshot", "snapshots"),
            "1 snapshot"
        );
    }

    use super::*;

    #[test]
    fn paths_that_hide_or_reorder_text_are_shown_written_out() {
        assert_eq!(
            shown("docs/report\u{202E}txt.exe"),
            "docs/report<U+202E>txt.exe"
        );
        let hex = console_path(&[b"d/".as_slice(), "\u{202E}".as_bytes(), &[0xff]].concat());
        assert!(shown(&hex).contains("<U+202E>"), "{}", shown(&hex));
        assert_eq!(components("a\u{202E}/b")[0].1, "a<U+202E>");
    }

    #[test]
    fn preview_kinds_follow_the_extension() {
        let cases = [
            ("photo.JPG", PreviewKind::Image),
            ("drawing.svg", PreviewKind::Image),
            ("film.mkv", PreviewKind::Video),
            ("song.mp3", PreviewKind::Audio),
            ("scan.pdf", PreviewKind::Pdf),
            ("notes.md", PreviewKind::Text),
            ("page.html", PreviewKind::None),
            ("archive.tar", PreviewKind::None),
            ("noextension", PreviewKind::None),
        ];
        for (name, kind) in cases {
            assert_eq!(preview_kind(name), kind, "{name}");
        }
    }

    #[test]
    fn html_is_escaped_for_text_and_attributes() {
        let cases = [
            ("", ""),
            ("plain name.txt", "plain name.txt"),
            (
                "<script>alert('x')</script>",
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
            ),
            ("a \"quoted\" & <b>", "a &quot;quoted&quot; &amp; &lt;b&gt;"),
            ("&amp;", "&amp;amp;"),
            ("été ☃ \u{fffd}", "été ☃ \u{fffd}"),
            ("trailing&", "trailing&amp;"),
        ];
        for (text, expected) in cases {
            let mut out = String::from("kept:");
            escape_html_into(&mut out, text);
            assert_eq!(out, format!("kept:{expected}"), "{text:?}");
        }
    }

    #[test]
    fn sizes_read_back() {
        let cases: &[(&str, Option<u64>)] = &[
            ("42", Some(42)),
            ("300k", Some(300 * 1024)),
            ("10M", Some(10 << 20)),
            ("10 MiB", Some(10 << 20)),
            ("10MB", Some(10 << 20)),
            ("1.5G", Some(3 << 29)),
            ("2t", Some(2 << 40)),
            ("", None),
            ("ten", None),
            ("10X", None),
            ("-1", None),
            ("1e400", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_size(text), *expected, "{text:?}");
        }
    }

    #[test]
    fn sizes_print() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(200 << 20), "200 MiB");
        assert_eq!(bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn dates_are_utc_midnights() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(951_868_800));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn queries_are_encoded_and_skip_empty_values() {
        assert_eq!(
            query(&[("dataset", "tank/a b"), ("path", ""), ("q", "ä&=")]),
            "?dataset=tank%2Fa%20b&q=%C3%A4%26%3D"
        );
        assert_eq!(query(&[("a", "")]), "");
        assert_eq!(query(&[("a", ""), ("b", "1"), ("c", "~x")]), "?b=1&c=~x");
        for (text, expected) in [
            ("", ""),
            ("plain-Name_1.txt~", "plain-Name_1.txt~"),
            ("a b/é€", "a%20b%2F%C3%A9%E2%82%AC"),
            ("éa", "%C3%A9a"),
            ("/lead and trail/", "%2Flead%20and%20trail%2F"),
            ("\n\0%", "%0A%00%25"),
        ] {
            assert_eq!(encode(text), expected, "{text:?}");
        }
    }

    #[test]
    fn polylines_scale_time_and_value() {
        assert_eq!(polyline(&[], 100.0, 20.0), (String::new(), None));
        assert_eq!(
            polyline(&[(10, 30.0), (20, 40.0), (30, 35.0)], 100.0, 20.0),
            (
                "0.0,20.0 50.0,0.0 100.0,10.0".to_owned(),
                Some((30.0, 40.0))
            )
        );
        assert_eq!(
            polyline(&[(5, 7.0), (6, 7.0)], 10.0, 4.0).0,
            "0.0,2.0 10.0,2.0",
            "a flat series runs across the middle"
        );
        assert_eq!(polyline(&[(5, 7.0)], 10.0, 4.0).0, "0.0,2.0 10.0,2.0");
        assert_eq!(
            polyline(&[(1, f64::NAN), (2, 1.0), (3, 2.0)], 10.0, 4.0).0,
            "0.0,4.0 10.0,0.0",
            "gaps are skipped"
        );
    }

    #[test]
    fn paths_and_snapshot_names() {
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert_eq!(short_snapshot("tank/a@daily-1"), "daily-1");
        assert_eq!(short_snapshot("plain"), "plain");
    }

    /// Legacy (Latin-1) names travel through the console as hex and come back byte for byte.
    #[test]
    fn paths_that_are_not_utf8_are_carried_as_hex() {
        let latin1 = b"docs/\xe9t\xe9/caf\xe9.txt";
        let path = console_path(latin1);
        assert_eq!(path, "\x00646f63732fe974e92f636166e92e747874");
        assert_eq!(path_bytes(&path).as_deref(), Some(&latin1[..]));
        assert_eq!(
            path_pair(&path),
            ("path_hex", "646f63732fe974e92f636166e92e747874")
        );
        assert_eq!(shown(&path), "docs/\u{fffd}t\u{fffd}/caf\u{fffd}.txt");
        assert_eq!(
            query(&[("dataset", "tank/a"), path_pair(&path)]),
            "?dataset=tank%2Fa&path_hex=646f63732fe974e92f636166e92e747874"
        );
        // Back from a link: the same path; upper-case digits too.
        let (_, digits) = path_pair(&path);
        assert_eq!(path_from_query(None, Some(digits.to_owned())), path);
        assert_eq!(path_from_query(None, Some(digits.to_uppercase())), path);
        assert_eq!(
            path_from_query(Some("ignored".into()), Some(digits.to_owned())),
            path
        );
        // Parents and breadcrumbs: a UTF-8 prefix goes back to the plain form.
        assert_eq!(parent(&path), console_path(b"docs/\xe9t\xe9"));
        assert_eq!(parent(&parent(&path)), "docs");
        assert_eq!(parent(&console_path(b"\xff")), "");
        assert_eq!(
            components(&path),
            vec![
                ("docs".to_owned(), "docs".to_owned()),
                (
                    console_path(b"docs/\xe9t\xe9"),
                    "\u{fffd}t\u{fffd}".to_owned()
                ),
                (path.clone(), "caf\u{fffd}.txt".to_owned()),
            ]
        );
    }

    #[test]
    fn utf8_paths_stay_as_they_are() {
        for text in ["", "a", "docs/été.txt", "a b/c%d?e&f", "x/\u{fffd}"] {
            assert_eq!(console_path(text.as_bytes()), text);
            assert_eq!(path_pair(text), ("path", text));
            assert_eq!(shown(text), text);
            assert_eq!(path_bytes(text).as_deref(), Some(text.as_bytes()));
            assert_eq!(path_from_query(Some(text.into()), None), text);
        }
        // Hex of UTF-8 bytes is the plain path again.
        assert_eq!(path_from_query(None, Some("c3a974c3a9".into())), "été");
        assert_eq!(path_from_query(None, None), "");
        assert_eq!(
            components("a//b/"),
            vec![
                ("a".to_owned(), "a".to_owned()),
                ("a//b".to_owned(), "b".to_owned())
            ]
        );
    }

    #[test]
    fn hex_that_is_not_is_kept_for_the_api_to_refuse() {
        for digits in ["zz", "abc", "0g"] {
            let path = path_from_query(None, Some(digits.into()));
            assert_eq!(path_pair(&path), ("path_hex", digits));
            assert_eq!(path_bytes(&path), None);
            assert_eq!(shown(&path), digits);
        }
    }

    /// Found with the round trip of `fuzz/fuzz_targets/console_path.rs`: `path_hex=00` became
    /// the text "\0", which reads as the hex form of the root, and `path_hex=003132` the path
    /// `\x12`. Bytes holding a NUL stay in hex, so they reach the API as given, to be refused.
    #[test]
    fn a_nul_byte_is_never_read_as_the_hex_mark() {
        for bytes in [&b"\0"[..], b"\x0012", b"a\0b", b"\0\xff"] {
            let path = console_path(bytes);
            assert!(path.starts_with(HEX_PATH), "{path:?}");
            assert_eq!(path_bytes(&path).as_deref(), Some(bytes));
        }
        assert_eq!(
            path_bytes(&path_from_query(None, Some("00".into()))),
            Some(vec![0])
        );
        assert_eq!(
            path_bytes(&path_from_query(None, Some("003132".into()))),
            Some(b"\x0012".to_vec())
        );
    }
}
