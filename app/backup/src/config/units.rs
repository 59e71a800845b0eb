//! Sizes as people write them in a backup job (`"4.7 GB"`, `"512 MiB"`, `"20 MB/s"`): decimal
//! units are powers of 1000 (as disc and disk makers count), binary ones of 1024.

/// Bytes per unit, lower-case, longest first so `mib` is tried before `b`.
const UNITS: &[(&str, u64)] = &[
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
    ("k", 1_000),
    ("m", 1_000_000),
    ("g", 1_000_000_000),
    ("t", 1_000_000_000_000),
    ("b", 1),
];

/// Parses a lower-case size: digits with at most one decimal point, optional spaces, an
/// optional unit. `None` for anything else or a size beyond `u64`.
pub(super) fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let number_end = text
        .find(|character: char| !(character.is_ascii_digit() || character == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let unit = unit.trim();
    let multiplier = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, bytes)| *bytes)?
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || !whole.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    if !fraction.bytes().all(|byte| byte.is_ascii_digit()) || fraction.len() > 9 {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut total = whole.checked_mul(multiplier)?;
    if !fraction.is_empty() {
        let digits = u32::try_from(fraction.len()).ok()?;
        let scale = 10_u128.pow(digits);
        let fraction: u128 = fraction.parse().ok()?;
        let part = fraction * u128::from(multiplier) / scale;
        total = total.checked_add(u64::try_from(part).ok()?)?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_as_written() {
        let cases: &[(&str, Option<u64>)] = &[
            ("4600000000", Some(4_600_000_000)),
            ("4.7 gb", Some(4_700_000_000)),
            ("4.7gb", Some(4_700_000_000)),
            ("512 mib", Some(512 << 20)),
            ("25 gb", Some(25_000_000_000)),
            ("1.5 kib", Some(1536)),
            ("20 m", Some(20_000_000)),
            ("0", Some(0)),
            ("", None),
            ("gb", None),
            (".5 gb", None),
            ("1.2.3 gb", None),
            ("-1 gb", None),
            ("5 parsecs", None),
            ("99999999999 tb", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_bytes(text), *expected, "{text:?}");
        }
    }
}
