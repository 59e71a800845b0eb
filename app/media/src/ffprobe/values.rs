//! Reading one value of ffprobe's JSON without trusting it: numbers that come as numbers or
//! strings (or `"N/A"`), durations in seconds or `HH:MM:SS.fraction`, ratios (`30000/1001`,
//! `64:45`, `0/0`), ISO 8601 times, bounded text. Each answers `None` for anything absent,
//! malformed, non-finite, negative or beyond its bound, and never panics.

use serde_json::Value;
use wizfs_core::media::Ratio;
use wizfs_core::model::{CivilDateTimeUtc, Timestamp};

/// Durations beyond this (about 11.6 days) are taken for garbage.
const MAX_SECONDS: f64 = 1_000_000.0;

/// Text longer than this is cut (at a character boundary).
pub const MAX_TEXT_BYTES: usize = 1_024;

/// A number given as a JSON number or as a decimal string; finite only.
pub fn number(value: Option<&Value>) -> Option<f64> {
    let number = match value? {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// A whole number in `1..=max` (a fractional one is truncated).
pub fn positive(value: Option<&Value>, max: u64) -> Option<u64> {
    if let Some(Value::Number(number)) = value
        && let Some(whole) = number.as_u64()
    {
        return (1..=max).contains(&whole).then_some(whole);
    }
    let number = number(value)?;
    // Compared as floats first, so the conversion below is exact enough and in range.
    (number >= 1.0 && number <= max as f64).then_some(number as u64)
}

/// Seconds (`"4.004000"`) as milliseconds; zero is kept (a still picture's duration).
pub fn seconds_as_millis(value: Option<&Value>) -> Option<u64> {
    let seconds = number(value)?;
    (0.0..=MAX_SECONDS)
        .contains(&seconds)
        .then(|| (seconds * 1_000.0).round() as u64)
}

/// Matroska's stream tag `DURATION`: `HH:MM:SS.fraction` as milliseconds.
pub fn clock_as_millis(text: &str) -> Option<u64> {
    let mut parts = text.trim().split(':');
    let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let hours: u64 = hours.parse().ok()?;
    let minutes: u64 = minutes.parse().ok()?;
    let seconds: f64 = seconds.parse().ok()?;
    if minutes >= 60 || !(0.0..60.0).contains(&seconds) || hours > 1_000 {
        return None;
    }
    let millis = (hours * 3_600 + minutes * 60) * 1_000 + (seconds * 1_000.0).round() as u64;
    (millis as f64 <= MAX_SECONDS * 1_000.0).then_some(millis)
}

/// A ratio written `a/b` or `a:b` of whole numbers, both non-zero.
pub fn ratio(value: Option<&Value>) -> Option<Ratio> {
    let text = value?.as_str()?;
    let (numerator, denominator) = text.split_once(['/', ':'])?;
    Ratio::new(
        numerator.trim().parse().ok()?,
        denominator.trim().parse().ok()?,
    )
}

/// Text, trimmed, without being empty, cut to [`MAX_TEXT_BYTES`].
pub fn text(value: Option<&Value>) -> Option<String> {
    let text = value?.as_str()?.trim();
    if text.is_empty() {
        return None;
    }
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

/// Digits only, as a number.
fn digits(text: &str, from: usize, count: usize) -> Option<i64> {
    let part = text.get(from..from + count)?;
    if !part.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// An ISO 8601 time as containers write it: `2024-07-14T10:20:30.000000Z`, a space for the
/// `T`, no fraction, an offset `+02:00` or `+0200` (Apple's `creationdate`), or none (UTC).
/// Times at or before the Unix epoch are taken for "unset" (MP4's zero is 1904).
pub fn timestamp(value: Option<&Value>) -> Option<Timestamp> {
    let text = value?.as_str()?.trim();
    if !text.is_ascii() || text.len() < 19 {
        return None;
    }
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators
        .iter()
        .any(|(index, byte)| text.as_bytes()[*index] != *byte)
        || !matches!(text.as_bytes()[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let civil = CivilDateTimeUtc {
        year: digits(text, 0, 4)?,
        month: u8::try_from(digits(text, 5, 2)?).ok()?,
        day: u8::try_from(digits(text, 8, 2)?).ok()?,
        hour: u8::try_from(digits(text, 11, 2)?).ok()?,
        minute: u8::try_from(digits(text, 14, 2)?).ok()?,
        second: u8::try_from(digits(text, 17, 2)?).ok()?,
    };
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let length = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if length == 0 {
            return None;
        }
        rest = &fraction[length..];
    }
    let offset_seconds = match rest.as_bytes().first() {
        None => 0,
        Some(b'Z' | b'z') if rest.len() == 1 => 0,
        Some(sign @ (b'+' | b'-')) => {
            let zone = rest[1..].replace(':', "");
            if zone.len() != 4 {
                return None;
            }
            let hours = digits(&zone, 0, 2)?;
            let minutes = digits(&zone, 2, 2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let magnitude = hours * 3_600 + minutes * 60;
            if *sign == b'+' { magnitude } else { -magnitude }
        }
        _ => return None,
    };
    let local = Timestamp::from_civil_utc(civil)?;
    let utc = Timestamp(local.seconds().checked_sub(offset_seconds)?);
    (utc.seconds() > 0).then_some(utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostile_values_are_none() {
        let numbers = [
            (json!("4.004000"), Some(4_004)),
            (json!(4.004), Some(4_004)),
            (json!(" 2 "), Some(2_000)),
            (json!("N/A"), None),
            (json!(""), None),
            (json!("-1"), None),
            (json!("nan"), None),
            (json!("inf"), None),
            (json!("1e300"), None),
            (json!(-0.5), None),
            (json!(true), None),
            (json!(null), None),
            (json!([1]), None),
        ];
        for (value, expected) in numbers {
            assert_eq!(seconds_as_millis(Some(&value)), expected, "{value}");
        }
        assert_eq!(seconds_as_millis(None), None);
        let wholes = [
            (json!(1920), Some(1920)),
            (json!("1080"), Some(1080)),
            (json!(0), None),
            (json!(-1920), None),
            (json!(1e30), None),
            (json!("18446744073709551616"), None),
            (json!(65_536), None),
        ];
        for (value, expected) in wholes {
            assert_eq!(positive(Some(&value), 65_535), expected, "{value}");
        }
        let ratios = [
            (json!("30000/1001"), Ratio::new(30_000, 1_001)),
            (json!("64:45"), Ratio::new(64, 45)),
            (json!("0/0"), None),
            (json!("25/0"), None),
            (json!("1/"), None),
            (json!("99999999999/1"), None),
            (json!("-1/2"), None),
            (json!(25), None),
        ];
        for (value, expected) in ratios {
            assert_eq!(ratio(Some(&value)), expected, "{value}");
        }
        let clocks = [
            ("00:00:04.025000000", Some(4_025)),
            ("01:02:03", Some(3_723_000)),
            ("00:61:00", None),
            ("00:00:60.5", None),
            ("99999999999999999999:00:00", None),
            ("278:00:00", None),
            ("277:00:00", Some(997_200_000)),
            ("4.0", None),
            ("1:2:3:4", None),
        ];
        for (text, expected) in clocks {
            assert_eq!(clock_as_millis(text), expected, "{text}");
        }
    }

    #[test]
    fn times_in_the_forms_containers_write() {
        let times = [
            ("2024-07-14T10:20:30.000000Z", Some(1_720_952_430)),
            ("2024-07-14 10:20:30", Some(1_720_952_430)),
            ("2024-07-14T12:20:30+0200", Some(1_720_952_430)),
            ("2024-07-14T05:20:30-05:00", Some(1_720_952_430)),
            ("1904-01-01T00:00:00.000000Z", None),
            ("1970-01-01T00:00:00.000000Z", None),
            ("2024-02-30T10:20:30Z", None),
            ("2024-07-14T25:20:30Z", None),
            ("2024-07-14T10:20:30.Z", None),
            ("2024-07-14T10:20:30Zjunk", None),
            ("2024-07-14T10:20:30+2", None),
            ("2024-07-14", None),
            ("2024-07-1é10:20:30Z", None),
            ("+024-07-14T10:20:30Z", None),
            ("", None),
        ];
        for (text, expected) in times {
            assert_eq!(
                timestamp(Some(&json!(text))),
                expected.map(Timestamp),
                "{text}"
            );
        }
        let long = "é".repeat(MAX_TEXT_BYTES);
        let cut = text(Some(&json!(long))).expect("text");
        assert!(cut.len() <= MAX_TEXT_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(text(Some(&json!("  "))), None);
    }
}
