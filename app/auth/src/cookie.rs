//! The session cookie: how it is set, cleared and read back from a `Cookie` header.
//!
//! The cookie is `HttpOnly` (no script can read it), `SameSite=Strict` (browsers do not send
//! it with requests started by another site) and `Path=/`. Over HTTPS it is also `Secure` and
//! named with the `__Host-` prefix, which browsers accept only from a secure origin, without
//! a `Domain` and with `Path=/`: a neighbouring host cannot plant or shadow it. Over plain
//! HTTP (a console reached before TLS is set up) neither is possible, so another name is
//! used, and a cookie set over one never reads as the other.

use thiserror::Error;

/// Name of the session cookie over HTTPS.
pub const SECURE_COOKIE_NAME: &str = "__Host-wizfs-session";

/// Name of the session cookie over plain HTTP.
pub const INSECURE_COOKIE_NAME: &str = "wizfs-session";

/// The session cookie's name for a connection that is (or is not) secure.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        INSECURE_COOKIE_NAME
    }
}

/// A value that cannot be put in a cookie as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CookieError {
    /// The token is empty or has characters outside the cookie-octet set of RFC 6265
    /// (such as `;`, `,`, white space, quotes or control characters).
    #[error("the session token cannot be used as a cookie value (empty or invalid characters)")]
    InvalidValue,
}

fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

fn attributes(secure: bool) -> &'static str {
    if secure {
        "; Path=/; HttpOnly; SameSite=Strict; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Strict"
    }
}

/// The `Set-Cookie` value that gives the client its session `token`: a session cookie in the
/// browser's sense (no `Max-Age`), gone when the browser closes; the server's idle and
/// absolute lifetimes bound the session while it is open.
///
/// Fails only if `token` is not a valid cookie value, which tokens made by
/// [`crate::Sessions::create`] always are; the check keeps a bad value from injecting
/// attributes.
pub fn session_cookie(token: &str, secure: bool) -> Result<String, CookieError> {
    if token.is_empty() || !token.bytes().all(is_cookie_octet) {
        return Err(CookieError::InvalidValue);
    }
    Ok(format!(
        "{}={token}{}",
        cookie_name(secure),
        attributes(secure)
    ))
}

/// The `Set-Cookie` value that removes the session cookie (logout).
pub fn clear_cookie(secure: bool) -> String {
    format!("{}=; Max-Age=0{}", cookie_name(secure), attributes(secure))
}

/// The session token in a `Cookie` request header, if there is one.
///
/// Cookies are separated by `;` with optional spaces; a value in double quotes is unquoted.
/// Only the cookie named for this kind of connection counts; if it appears more than once,
/// the first non-empty value is taken (browsers list the most specific first). Whether the
/// value is a plausible token is left to [`crate::Sessions::validate`].
pub fn session_token_from_cookie_header(header_value: &str, secure: bool) -> Option<&str> {
    let wanted = cookie_name(secure);
    header_value
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| name.trim_matches([' ', '\t']) == wanted)
        .map(|(_, value)| {
            let value = value.trim_matches([' ', '\t']);
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
        })
        .find(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "q8Yf0Qv3n1m2b4c5d6e7f8g9h0i1j2k3l4m5n6o7p8-";

    #[test]
    fn secure_cookie_has_host_prefix_and_all_attributes() {
        let cookie = session_cookie(TOKEN, true).expect("cookie");
        assert_eq!(
            cookie,
            format!("__Host-wizfs-session={TOKEN}; Path=/; HttpOnly; SameSite=Strict; Secure")
        );
        assert!(
            !cookie.contains("Max-Age") && !cookie.contains("Expires"),
            "the cookie ends with the browser"
        );
        assert!(
            !cookie.contains("Domain"),
            "__Host- cookies must not have a Domain"
        );
    }

    #[test]
    fn insecure_cookie_has_plain_name_and_no_secure_flag() {
        let cookie = session_cookie(TOKEN, false).expect("cookie");
        assert_eq!(
            cookie,
            format!("wizfs-session={TOKEN}; Path=/; HttpOnly; SameSite=Strict")
        );
    }

    #[test]
    fn invalid_token_values_are_refused() {
        for bad in [
            "",
            "a;b",
            "a b",
            "a,b",
            "\"quoted\"",
            "a\\b",
            "a\r\nSet-Cookie: x=y",
            "é",
        ] {
            assert_eq!(
                session_cookie(bad, true),
                Err(CookieError::InvalidValue),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn clear_cookie_expires_the_same_cookie() {
        assert_eq!(
            clear_cookie(true),
            "__Host-wizfs-session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            clear_cookie(false),
            "wizfs-session=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
        );
        assert_eq!(cookie_name(true), SECURE_COOKIE_NAME);
        assert_eq!(cookie_name(false), INSECURE_COOKIE_NAME);
    }

    #[test]
    fn parsing_table() {
        let cases: &[(&str, bool, Option<&str>)] = &[
            ("__Host-wizfs-session=abc", true, Some("abc")),
            ("wizfs-session=abc", false, Some("abc")),
            // The name must match the connection.
            ("wizfs-session=abc", true, None),
            ("__Host-wizfs-session=abc", false, None),
            // Several cookies, with and without spaces.
            (
                "theme=dark; __Host-wizfs-session=abc; lang=fr",
                true,
                Some("abc"),
            ),
            (
                "theme=dark;__Host-wizfs-session=abc;lang=fr",
                true,
                Some("abc"),
            ),
            (
                "  theme=dark ;\t__Host-wizfs-session = abc ; ",
                true,
                Some("abc"),
            ),
            // Quoted value.
            ("__Host-wizfs-session=\"abc\"", true, Some("abc")),
            // A lone quote is not a quoted value.
            ("__Host-wizfs-session=\"abc", true, Some("\"abc")),
            // Values may contain '='.
            ("wizfs-session=a=b", false, Some("a=b")),
            // Names are case-sensitive and must match entirely.
            ("WIZFS-SESSION=abc", false, None),
            ("my-wizfs-session=abc; wizfs-session-old=def", false, None),
            // Empty values are skipped; the first non-empty one wins.
            ("wizfs-session=; wizfs-session=abc", false, Some("abc")),
            ("wizfs-session=\"\"", false, None),
            ("wizfs-session=abc; wizfs-session=def", false, Some("abc")),
            // Garbage.
            ("", false, None),
            (";;;", false, None),
            ("wizfs-session", false, None),
            ("=abc", false, None),
        ];
        for (header, secure, expected) in cases {
            assert_eq!(
                session_token_from_cookie_header(header, *secure),
                *expected,
                "{header:?} (secure: {secure})"
            );
        }
    }

    #[test]
    fn round_trip_through_a_cookie_header() {
        for secure in [true, false] {
            let set = session_cookie(TOKEN, secure).expect("cookie");
            // A browser sends back only `name=value`.
            let pair = set.split(';').next().expect("name=value");
            let header = format!("other=1; {pair}");
            assert_eq!(
                session_token_from_cookie_header(&header, secure),
                Some(TOKEN)
            );
        }
    }
}
