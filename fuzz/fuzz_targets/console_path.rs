//! Fuzzes the console path form (`console_path`, `path_from_query`, `path_pair`,
//! `path_bytes`, `shown`, `parent`, `components` of `app/web/src/format.rs`, compiled here
//! from its source). Properties: any bytes come back byte for byte from their console path,
//! also through the `path`/`path_hex` query pair; the parent and the breadcrumbs are the
//! console paths of the byte prefixes; a `path_hex` a URL gives reads as exactly the bytes
//! its digits spell (or is kept for the API to refuse); and any text is handled without a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wizfs_fuzz::web_format::{
    components, console_path, parent, path_bytes, path_from_query, path_pair, shown,
};

fn round_trip(bytes: &[u8]) {
    let path = console_path(bytes);
    assert_eq!(
        path_bytes(&path).as_deref(),
        Some(bytes),
        "bytes back from {path:?}"
    );
    let (key, value) = path_pair(&path);
    let back = match key {
        "path" => path_from_query(Some(value.to_owned()), None),
        "path_hex" => path_from_query(None, Some(value.to_owned())),
        other => panic!("query key {other}"),
    };
    assert_eq!(back, path, "through the query pair {key}={value}");
    // Upper-case digits are the same path.
    if key == "path_hex" {
        assert_eq!(path_from_query(None, Some(value.to_uppercase())), path);
    }
    let end = bytes.iter().rposition(|&byte| byte == b'/').unwrap_or(0);
    assert_eq!(
        parent(&path),
        console_path(&bytes[..end]),
        "parent of {path:?}"
    );
    let crumbs = components(&path);
    let named = bytes.split(|&byte| byte == b'/').filter(|c| !c.is_empty());
    assert_eq!(crumbs.len(), named.count(), "one breadcrumb per component");
    for (crumb, _) in &crumbs {
        let prefix = path_bytes(crumb).expect("a breadcrumb is a console path");
        assert!(
            bytes.starts_with(&prefix),
            "breadcrumb {crumb:?} is a prefix"
        );
    }
    let _ = shown(&path);
}

/// The bytes hexadecimal `digits` spell, if they are hexadecimal.
fn spelled(digits: &str) -> Option<Vec<u8>> {
    if !digits.len().is_multiple_of(2) || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&digits[at..at + 2], 16).ok())
        .collect()
}

fn any_text(text: &str) {
    let _ = (
        shown(text),
        parent(text),
        components(text),
        path_bytes(text),
    );
    let from_hex = path_from_query(None, Some(text.to_owned()));
    assert_eq!(
        path_bytes(&from_hex),
        spelled(text),
        "path_hex={text:?} read as {from_hex:?}"
    );
    let _ = (shown(&from_hex), parent(&from_hex), components(&from_hex));
}

fuzz_target!(|data: &[u8]| {
    round_trip(data);
    any_text(&String::from_utf8_lossy(data));
});
