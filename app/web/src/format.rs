//! Small pure helpers the pages share: sizes for people (`1.5 GiB`) and back (`10M`),
//! dates typed into filters (`2026-01-31` → seconds), URL query building, chart lines, HTML
//! escaping for markup a page writes as text. Pure so they are tested here and behave the
//! same on the server and in the browser.

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

/// The parent of a dataset-relative path (`a/b/c` → `a/b`, `a` → ``).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
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
    use super::*;

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
}
