//! Random secret tokens (session and CSRF tokens) and their fixed textual shape.
//!
//! Both kinds of token are 32 bytes from the operating system's random number generator,
//! written as URL-safe base64 without padding (43 characters), so they fit in a cookie value
//! and a header without quoting. Checking the shape first lets callers reject garbage without
//! hashing it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

/// Number of random bytes in every token.
pub const TOKEN_BYTES: usize = 32;

/// Length in characters of an encoded token (32 bytes in unpadded base64).
pub const TOKEN_CHARS: usize = 43;

/// The operating system could not provide random bytes.
///
/// This is never expected on a working Linux system; the caller should answer the request
/// with a server error rather than fall back to a weaker source.
#[derive(Debug, Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomnessError(#[from] getrandom::Error);

/// Makes a new token: [`TOKEN_BYTES`] random bytes, URL-safe base64 without padding.
pub fn generate_token() -> Result<String, RandomnessError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `token` has the shape of a token made by [`generate_token`]: exactly
/// [`TOKEN_CHARS`] characters of the URL-safe base64 alphabet.
///
/// The shape is public knowledge, so this check need not be constant-time.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|bytes| bytes.len() == TOKEN_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = generate_token().expect("random bytes");
        let b = generate_token().expect("random bytes");
        assert_eq!(a.len(), TOKEN_CHARS);
        assert!(is_well_formed(&a), "{a}");
        assert!(is_well_formed(&b), "{b}");
        assert_ne!(a, b, "two tokens must not repeat");
        let decoded = URL_SAFE_NO_PAD.decode(&a).expect("base64url");
        assert_eq!(decoded.len(), TOKEN_BYTES);
    }

    #[test]
    fn shape_check_rejects_malformed_tokens() {
        let good = "A".repeat(TOKEN_CHARS - 1) + "A";
        let cases: &[(&str, bool)] = &[
            (&good, true),
            ("", false),
            ("short", false),
            (&"A".repeat(TOKEN_CHARS + 1), false),
            // Standard-alphabet characters and padding are not URL-safe base64.
            (&("+".to_owned() + &"A".repeat(TOKEN_CHARS - 1)), false),
            (&("/".to_owned() + &"A".repeat(TOKEN_CHARS - 1)), false),
            (&("A".repeat(TOKEN_CHARS - 1) + "="), false),
            (&("A".repeat(TOKEN_CHARS - 1) + ";"), false),
            // Multi-byte characters must not confuse the length check.
            (&("é".to_owned() + &"A".repeat(TOKEN_CHARS - 2)), false),
        ];
        for (token, expected) in cases {
            assert_eq!(is_well_formed(token), *expected, "token {token:?}");
        }
    }
}
