//! Where a sign-in may lead: the `next` page, given by the URL, must be a page of this
//! console. An open redirect after sign-in lends the console's name to a phishing page
//! (`next=//evil.example/login` looks like the console to the person who just signed in).
//!
//! Browsers are lenient when they read a location: they drop tabs and line breaks anywhere
//! in it (`/\t/evil.example` becomes `//evil.example`), treat `\` as `/`, and a line break
//! in a header value cannot be sent at all. So `next` is accepted only when it is a plain
//! path of printable ASCII (after percent-decoding nothing is looked at again: the browser
//! does not decode before resolving) that starts with exactly one `/`.

/// `next` when it is a path of this console, else `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next) if is_local_path(next) => next,
        _ => "/",
    }
}

/// A path of this origin: printable ASCII without spaces or backslashes, starting with one
/// `/` (a second would make it scheme-relative: another host).
fn is_local_path(next: &str) -> bool {
    let printable = next
        .bytes()
        .all(|byte| byte.is_ascii_graphic() && byte != b'\\');
    printable && next.starts_with('/') && !next.starts_with("//") && next.len() <= 2048
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        let cases = [
            (None, "/"),
            (Some("/"), "/"),
            (Some("/search?q=x&deleted=true"), "/search?q=x&deleted=true"),
            (Some("/versions?path=a%20b"), "/versions?path=a%20b"),
            (Some("//evil.example/"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("\\\\evil.example"), "/"),
            (Some("relative"), "/"),
            (Some(""), "/"),
            // Browsers drop tabs and line breaks: these are //example.com/phish to them.
            (Some("/\t/example.com/phish"), "/"),
            (Some("/\n/example.com/phish"), "/"),
            (Some("/\r/example.com/phish"), "/"),
            (Some("/\r\nSet-Cookie: x=y"), "/"),
            (Some("/ /example.com"), "/"),
            (Some("/\u{7f}/example.com"), "/"),
            (Some("/\u{a0}/example.com"), "/"),
            (Some("/\u{3000}x"), "/"),
            (Some("/%2F/example.com"), "/%2F/example.com"),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(next), expected, "{next:?}");
        }
        let long = format!("/{}", "a".repeat(3000));
        assert_eq!(safe_next(Some(&long)), "/");
    }
}
